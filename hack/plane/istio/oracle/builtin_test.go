package oracle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// GatewayKube is the egress gateway as the istio/gateway chart installs it with the guide's
// values (tests/unit/roles/guide/values-egress-gateway.yaml): Service ports 443 -> 8443 etc.,
// one pod labelled istio=egressgateway. The gateway listens on the target port (8443).
const GatewayKube = `
apiVersion: v1
kind: Service
metadata:
  name: istio-egressgateway
  namespace: istio-system
  labels: {app: istio-egressgateway, istio: egressgateway}
spec:
  selector: {app: istio-egressgateway, istio: egressgateway}
  ports:
  - {name: status-port, port: 15021, targetPort: 15021, protocol: TCP}
  - {name: http2, port: 80, targetPort: 8080, protocol: TCP}
  - {name: https, port: 443, targetPort: 8443, protocol: TCP}
  - {name: tls, port: 15443, targetPort: 15443, protocol: TCP}
---
apiVersion: v1
kind: Pod
metadata:
  name: istio-egressgateway-0
  namespace: istio-system
  labels: {app: istio-egressgateway, istio: egressgateway}
spec:
  containers: [{name: istio-proxy, image: proxyv2}]
status:
  phase: Running
  podIP: 10.233.64.9
  conditions: [{type: Ready, status: "True"}]
`

// guideObjects reads the guide's §6 objects from the repository (tests/unit/roles/guide).
func guideObjects(t *testing.T) string {
	dir := filepath.Join("..", "..", "..", "..", "tests", "unit", "roles", "guide")
	var docs []string
	for _, n := range []string{"serviceentry-httpbin-ext.yaml", "gateway-egress.yaml",
		"destinationrule-egress.yaml", "virtualservice-egress.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatalf("the guide's objects: %v", err)
		}
		docs = append(docs, string(b))
	}
	return strings.Join(docs, "\n---\n")
}

var (
	client  = Proxy{Type: "sidecar", Namespace: "mesh-test", Labels: map[string]string{"app": "sleep"}, IP: "10.233.64.5"}
	gateway = Proxy{Type: "router", Namespace: "istio-system",
		Labels: map[string]string{"app": "istio-egressgateway", "istio": "egressgateway"}, IP: "10.233.64.9"}
)

// runBuiltin: the guide's objects route httpbin.org through the gateway; an unregistered host
// goes to PassthroughCluster under ALLOW_ANY and to BlackHoleCluster under REGISTRY_ONLY.
func runBuiltin(t *testing.T) {
	objects := guideObjects(t)
	calls := []Call{
		{Name: "hop1", Proxy: "client", Address: "3.3.3.3", Port: 443, SNI: "httpbin.org"},
		{Name: "hop2", Proxy: "gateway", Address: "10.233.64.9", Port: 8443, SNI: "httpbin.org"},
		{Name: "unregistered", Proxy: "client", Address: "3.3.3.4", Port: 443, SNI: "example.com"},
	}
	want := map[string]map[string]string{
		"ALLOW_ANY": {"hop1": "outbound|443|httpbin|istio-egressgateway.istio-system.svc.cluster.local",
			"hop2": "outbound|443||httpbin.org", "unregistered": "PassthroughCluster"},
		"REGISTRY_ONLY": {"hop1": "outbound|443|httpbin|istio-egressgateway.istio-system.svc.cluster.local",
			"hop2": "outbound|443||httpbin.org", "unregistered": "BlackHoleCluster"},
	}
	for mode, expect := range want {
		c := Case{Name: "guide-" + mode, Config: objects, Kube: GatewayKube, OutboundMode: mode,
			Proxies: map[string]Proxy{"client": client, "gateway": gateway}, Calls: calls}
		t.Run(c.Name, func(t *testing.T) {
			res := &CaseResult{}
			simulate(t, c, res)
			for _, r := range res.Calls {
				if r.Cluster != expect[r.Name] || r.Error != "" {
					t.Errorf("%s: got cluster %q (listener %q, chain %q, error %q), want %q",
						r.Name, r.Cluster, r.Listener, r.FilterChain, r.Error, expect[r.Name])
				}
			}
		})
	}
}
