// Package oracle asks Istio's own routing simulation which listener, filter chain and cluster
// Envoy would pick for a call, on the config istiod generates for a set of objects.
//
// It is the independent judge of the collection's own reading of Envoy config
// (plugins/module_utils/envoy_config.py): istio.io/istio/pilot/pkg/simulation is what Istio's
// unit tests use to decide routing (pilot/pkg/networking/core/*_simulation_test.go), fed by the
// in-memory discovery server of pilot/test/xds with the same config generator istiod runs.
// See docs/scenarios.md.
//
//	ORACLE_IN=cases.json ORACLE_OUT=results.json go test ./oracle -run TestOracle -count=1
//
// ORACLE_IN holds {"cases": [case...]}; each case has the Istio objects (config, YAML), the
// Kubernetes objects (kube, YAML: the gateway Service and pods), the mesh's outbound traffic
// policy, the proxies (sidecar or router, namespace, labels, IP) and the calls (proxy, address,
// port, SNI). ORACLE_OUT gets, per call, the matched listener, filter chain and cluster (or the
// simulation's error), and per proxy, when asked, the generated config as an Envoy
// /config_dump JSON (the shape xdsdump writes), so our matcher can read the very same config.
// Without ORACLE_IN the test runs its built-in cases (the guide's objects) and asserts them.
package oracle

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"testing"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config/mesh"

	// The Envoy extension types istiod puts in typed_config, so the dump renders as JSON.
	_ "github.com/cncf/xds/go/udpa/type/v1"
	_ "github.com/cncf/xds/go/xds/type/v3"
	_ "istio.io/istio/pkg/config/xds"
)

// Proxy is the workload a call starts from: a sidecar, or a gateway ("router").
type Proxy struct {
	Type      string            `json:"type"`
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"`
	IP        string            `json:"ip"`
	Name      string            `json:"name"`
	Dump      bool              `json:"dump"`
}

// Call is one connection: from a proxy, to address:port, TLS with an SNI (or plain TCP).
type Call struct {
	Name     string `json:"name"`
	Proxy    string `json:"proxy"`
	Address  string `json:"address"`
	Port     int    `json:"port"`
	SNI      string `json:"sni"`
	TLS      *bool  `json:"tls"`
	Protocol string `json:"protocol"`
}

// Case is a set of objects and the calls to simulate on the config generated from them.
type Case struct {
	Name          string           `json:"name"`
	Config        string           `json:"config"`
	Kube          string           `json:"kube"`
	OutboundMode  string           `json:"outbound_traffic_policy"`
	RootNamespace string           `json:"root_namespace"`
	Proxies       map[string]Proxy `json:"proxies"`
	Calls         []Call           `json:"calls"`
}

// CallResult is what the simulation says Envoy would do with a call.
type CallResult struct {
	Name        string `json:"name"`
	Proxy       string `json:"proxy"`
	Address     string `json:"address"`
	Port        int    `json:"port"`
	SNI         string `json:"sni"`
	Listener    string `json:"listener"`
	FilterChain string `json:"filter_chain"`
	Cluster     string `json:"cluster"`
	// ClusterExists: the matched cluster is among the proxy's generated clusters (a route to a
	// cluster that was never built fails at Envoy: "cluster not found").
	ClusterExists bool   `json:"cluster_exists"`
	Error         string `json:"error"`
}

// CaseResult collects a case's call results and the proxies' generated config.
type CaseResult struct {
	Name  string                     `json:"name"`
	Error string                     `json:"error"`
	Calls []CallResult               `json:"calls"`
	Dumps map[string]json.RawMessage `json:"dumps"`
}

func TestOracle(t *testing.T) {
	in, out := os.Getenv("ORACLE_IN"), os.Getenv("ORACLE_OUT")
	if in == "" {
		runBuiltin(t)
		return
	}
	if out == "" {
		t.Fatal("ORACLE_IN is set but ORACLE_OUT is not: where should the results go?")
	}
	raw, err := os.ReadFile(in)
	if err != nil {
		t.Fatalf("read ORACLE_IN: %v", err)
	}
	var input struct {
		Cases []Case `json:"cases"`
	}
	if err := json.Unmarshal(raw, &input); err != nil {
		t.Fatalf("ORACLE_IN %s is not {\"cases\": [...]}: %v", in, err)
	}
	results := make([]CaseResult, 0, len(input.Cases))
	for _, c := range input.Cases {
		res := CaseResult{Name: c.Name, Dumps: map[string]json.RawMessage{}}
		ok := t.Run(c.Name, func(t *testing.T) { simulate(t, c, &res) })
		if !ok && res.Error == "" {
			res.Error = "the simulation failed to set up this case (see the go test log)"
		}
		results = append(results, res)
	}
	b, err := json.MarshalIndent(map[string]any{"cases": results}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func meshFor(c Case) *meshconfig.MeshConfig {
	m := mesh.DefaultMeshConfig()
	if c.OutboundMode == "REGISTRY_ONLY" {
		m.OutboundTrafficPolicy = &meshconfig.MeshConfig_OutboundTrafficPolicy{Mode: meshconfig.MeshConfig_OutboundTrafficPolicy_REGISTRY_ONLY}
	}
	if c.RootNamespace != "" {
		m.RootNamespace = c.RootNamespace
	}
	return m
}

func simulate(t *testing.T, c Case, res *CaseResult) {
	s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
		ConfigString:           c.Config,
		KubernetesObjectString: c.Kube,
		MeshConfig:             meshFor(c),
	})
	sims := map[string]*simulation.Simulation{}
	names := make([]string, 0, len(c.Proxies))
	for name := range c.Proxies {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := c.Proxies[name]
		mp, err := modelProxy(p)
		if err != nil {
			res.Error = fmt.Sprintf("proxy %s: %v", name, err)
			t.Fatal(res.Error)
		}
		sim := simulation.NewSimulation(t, s, s.SetupProxy(mp))
		sims[name] = sim
		if p.Dump {
			d, err := configDump(p, sim)
			if err != nil {
				res.Error = fmt.Sprintf("proxy %s: render config dump: %v", name, err)
				t.Fatal(res.Error)
			}
			res.Dumps[name] = d
		}
	}
	for _, call := range c.Calls {
		sim := sims[call.Proxy]
		if sim == nil {
			res.Error = fmt.Sprintf("call %q names proxy %q, not one of %v", call.Name, call.Proxy, names)
			t.Fatal(res.Error)
		}
		res.Calls = append(res.Calls, run(sim, c.Proxies[call.Proxy], call))
	}
}

func modelProxy(p Proxy) (*model.Proxy, error) {
	var typ model.NodeType
	switch p.Type {
	case "sidecar", "":
		typ = model.SidecarProxy
	case "router":
		typ = model.Router
	default:
		return nil, fmt.Errorf("type must be sidecar or router, got %q", p.Type)
	}
	if p.Namespace == "" || p.IP == "" {
		return nil, fmt.Errorf("namespace and ip are required")
	}
	name := p.Name
	if name == "" {
		name = "oracle-" + string(typ)
	}
	return &model.Proxy{
		Type:            typ,
		ID:              name + "." + p.Namespace,
		ConfigNamespace: p.Namespace,
		IPAddresses:     []string{p.IP},
		Labels:          p.Labels,
		Metadata: &model.NodeMetadata{
			Namespace:    p.Namespace,
			Labels:       p.Labels,
			IstioVersion: "1.30.0",
			ClusterID:    "Kubernetes",
		},
	}, nil
}

func run(sim *simulation.Simulation, p Proxy, c Call) CallResult {
	tls := c.TLS == nil || *c.TLS
	call := simulation.Call{
		Address:  c.Address,
		Port:     c.Port,
		Protocol: simulation.TCP,
		Sni:      c.SNI,
		CallMode: simulation.CallModeOutbound,
	}
	if c.Protocol != "" {
		call.Protocol = simulation.Protocol(c.Protocol)
	}
	if tls {
		call.TLS = simulation.TLS
	}
	if p.Type == "router" {
		call.CallMode = simulation.CallModeGateway
	}
	r := sim.Run(call)
	out := CallResult{
		Name: c.Name, Proxy: c.Proxy, Address: c.Address, Port: c.Port, SNI: c.SNI,
		Listener: r.ListenerMatched, FilterChain: r.FilterChainMatched, Cluster: r.ClusterMatched,
	}
	if r.Error != nil {
		out.Error = r.Error.Error()
	}
	for _, cl := range sim.Clusters {
		if cl.Name == r.ClusterMatched {
			out.ClusterExists = true
		}
	}
	return out
}

// configDump renders the generated clusters, listeners and routes the way Envoy's admin
// /config_dump (and xdsdump, hack/plane/istio/xdsdump) does.
func configDump(p Proxy, sim *simulation.Simulation) (json.RawMessage, error) {
	name := p.Name
	if name == "" {
		name = "oracle-" + p.Type
	}
	typ := p.Type
	if typ == "" {
		typ = "sidecar"
	}
	labels := map[string]any{}
	for k, v := range p.Labels {
		labels[k] = v
	}
	meta, err := structpb.NewStruct(map[string]any{"NAMESPACE": p.Namespace, "NAME": name, "LABELS": labels})
	if err != nil {
		return nil, err
	}
	node := &corev3.Node{
		Id:       fmt.Sprintf("%s~%s~%s.%s~%s.svc.cluster.local", typ, p.IP, name, p.Namespace, p.Namespace),
		Cluster:  name + "." + p.Namespace,
		Metadata: meta,
		// Generated in memory by Istio's config generator, not by istiod, not run by a proxy.
		UserAgentName: "istio-simulation",
	}
	dump := &adminv3.ConfigDump{}
	add := func(m proto.Message) error {
		a, err := anypb.New(m)
		if err == nil {
			dump.Configs = append(dump.Configs, a)
		}
		return err
	}
	if err := add(&adminv3.BootstrapConfigDump{Bootstrap: &bootstrapv3.Bootstrap{Node: node}}); err != nil {
		return nil, err
	}
	cd := &adminv3.ClustersConfigDump{}
	clusters := append([]*clusterv3.Cluster{}, sim.Clusters...)
	sort.Slice(clusters, func(i, j int) bool { return clusters[i].Name < clusters[j].Name })
	for _, c := range clusters {
		a, err := anypb.New(c)
		if err != nil {
			return nil, err
		}
		cd.DynamicActiveClusters = append(cd.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{Cluster: a})
	}
	if err := add(cd); err != nil {
		return nil, err
	}
	ld := &adminv3.ListenersConfigDump{}
	listeners := append([]*listenerv3.Listener{}, sim.Listeners...)
	sort.Slice(listeners, func(i, j int) bool { return listeners[i].Name < listeners[j].Name })
	for _, l := range listeners {
		a, err := anypb.New(l)
		if err != nil {
			return nil, err
		}
		ld.DynamicListeners = append(ld.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{
			Name: l.Name, ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{Listener: a},
		})
	}
	if err := add(ld); err != nil {
		return nil, err
	}
	rd := &adminv3.RoutesConfigDump{}
	for _, r := range sim.Routes {
		a, err := anypb.New(r)
		if err != nil {
			return nil, err
		}
		rd.DynamicRouteConfigs = append(rd.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{RouteConfig: a})
	}
	if err := add(rd); err != nil {
		return nil, err
	}
	b, err := (protojson.MarshalOptions{UseProtoNames: true}).Marshal(dump)
	return json.RawMessage(b), err
}
