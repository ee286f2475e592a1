// Command xdsdump connects to istiod's ADS endpoint as a given proxy (a sidecar or a
// gateway "router"), asks for its clusters, listeners and routes, and writes what istiod
// generated as JSON shaped like Envoy's admin /config_dump: a BootstrapConfigDump with the
// node, a ClustersConfigDump (dynamic_active_clusters[].cluster), a ListenersConfigDump
// (dynamic_listeners[].active_state.listener) and a RoutesConfigDump.
//
// It is the data-plane half of the local plane's xDS proof: there is no Envoy here, so
// this client plays the proxy's part of the protocol (request, receive, ACK) with the
// node identity and metadata istiod uses to select config for a pod.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	// Register the Envoy extension types istiod puts in typed_config, so the dump can
	// be rendered as JSON the way Envoy renders it.
	_ "github.com/cncf/xds/go/udpa/type/v1"
	_ "github.com/cncf/xds/go/xds/type/v3"
	_ "istio.io/api/envoy/config/filter/http/alpn/v2alpha1"
	_ "istio.io/api/envoy/config/filter/http/jwt_auth/v2alpha1"
	_ "istio.io/api/envoy/config/filter/network/tcp_cluster_rewrite/v2alpha1"
	_ "istio.io/api/envoy/extensions/stackdriver/config/v1alpha1"
	_ "istio.io/api/envoy/extensions/stats"
	_ "istio.io/istio/pkg/config/xds"
)

const (
	typeCluster  = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	typeListener = "type.googleapis.com/envoy.config.listener.v3.Listener"
	typeRoute    = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
)

type options struct {
	address, proxyType, ip, pod, namespace, serviceAccount string
	clusterID, istioVersion, meshID, domain, out, owner    string
	labels                                                 map[string]string
	extraMeta                                              string
	timeout                                                time.Duration
	routes                                                 bool
}

type labelFlag map[string]string

func (l labelFlag) String() string { return fmt.Sprint(map[string]string(l)) }
func (l labelFlag) Set(v string) error {
	for _, kv := range strings.Split(v, ",") {
		if kv == "" {
			continue
		}
		k, val, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("label %q is not key=value", kv)
		}
		l[k] = val
	}
	return nil
}

func main() {
	o := options{labels: map[string]string{}}
	flag.StringVar(&o.address, "xds-address", "127.0.0.1:15010", "istiod plaintext ADS address (host:port)")
	flag.StringVar(&o.proxyType, "type", "sidecar", "proxy type: sidecar or router (gateway)")
	flag.StringVar(&o.ip, "ip", "", "the pod's IP (required)")
	flag.StringVar(&o.pod, "pod", "", "the pod's name (required)")
	flag.StringVar(&o.namespace, "namespace", "", "the pod's namespace (required)")
	flag.StringVar(&o.serviceAccount, "service-account", "default", "the pod's service account")
	flag.Var(labelFlag(o.labels), "labels", "the pod's labels, k=v[,k=v...] (repeatable)")
	flag.StringVar(&o.owner, "owner", "", "OWNER metadata, e.g. kubernetes://apis/apps/v1/namespaces/NS/deployments/NAME")
	flag.StringVar(&o.clusterID, "cluster-id", "Kubernetes", "CLUSTER_ID metadata")
	flag.StringVar(&o.istioVersion, "istio-version", "", "ISTIO_VERSION metadata (the proxy's version)")
	flag.StringVar(&o.meshID, "mesh-id", "cluster.local", "MESH_ID metadata")
	flag.StringVar(&o.domain, "domain", "cluster.local", "cluster DNS domain")
	flag.StringVar(&o.extraMeta, "metadata", "", "extra node metadata as a JSON object")
	flag.StringVar(&o.out, "out", "-", "output file (- for stdout)")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Second, "overall timeout")
	flag.BoolVar(&o.routes, "routes", true, "also fetch the RDS route configurations the listeners name")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "xdsdump: %v\n", err)
		os.Exit(1)
	}
}

func node(o options) (*corev3.Node, error) {
	if o.ip == "" || o.pod == "" || o.namespace == "" {
		return nil, fmt.Errorf("-ip, -pod and -namespace are required")
	}
	if o.proxyType != "sidecar" && o.proxyType != "router" {
		return nil, fmt.Errorf("-type must be sidecar or router, got %q", o.proxyType)
	}
	labels := map[string]any{}
	for k, v := range o.labels {
		labels[k] = v
	}
	meta := map[string]any{
		"NAMESPACE":         o.namespace,
		"NAME":              o.pod,
		"LABELS":            labels,
		"ISTIO_VERSION":     o.istioVersion,
		"CLUSTER_ID":        o.clusterID,
		"MESH_ID":           o.meshID,
		"SERVICE_ACCOUNT":   o.serviceAccount,
		"INSTANCE_IPS":      o.ip,
		"INTERCEPTION_MODE": "REDIRECT",
		"WORKLOAD_NAME":     workloadName(o),
	}
	if o.owner != "" {
		meta["OWNER"] = o.owner
	}
	if o.extraMeta != "" {
		extra := map[string]any{}
		if err := json.Unmarshal([]byte(o.extraMeta), &extra); err != nil {
			return nil, fmt.Errorf("-metadata is not a JSON object: %v", err)
		}
		for k, v := range extra {
			meta[k] = v
		}
	}
	st, err := structpb.NewStruct(meta)
	if err != nil {
		return nil, err
	}
	return &corev3.Node{
		// The proxy's identity as istio-agent writes it: type~ip~pod.namespace~namespace.svc.domain
		Id:       fmt.Sprintf("%s~%s~%s.%s~%s.svc.%s", o.proxyType, o.ip, o.pod, o.namespace, o.namespace, o.domain),
		Cluster:  workloadName(o) + "." + o.namespace,
		Metadata: st,
		// Not "envoy": a reader of the dump can tell config istiod generated for this identity
		// (no proxy ran it) from a live proxy's /config_dump (docs/scenarios.md).
		UserAgentName: "xdsdump",
	}, nil
}

func workloadName(o options) string {
	if v := o.labels["app"]; v != "" {
		return v
	}
	return o.pod
}

type result struct {
	version string
	nonce   string
	res     []*anypb.Any
}

func run(o options) error {
	n, err := node(o)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	conn, err := grpc.NewClient(o.address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("dial %s: %v", o.address, err)
	}
	defer conn.Close()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return fmt.Errorf("open ADS stream to %s: %v", o.address, err)
	}
	got := map[string]*result{}
	// recv waits for a response of typeURL, ACKing every response on the way, as Envoy does.
	recv := func(typeURL string) (*result, error) {
		for got[typeURL] == nil {
			resp, err := stream.Recv()
			if err != nil {
				return nil, fmt.Errorf("waiting for %s from %s: %v", typeURL, o.address, err)
			}
			got[resp.TypeUrl] = &result{version: resp.VersionInfo, nonce: resp.Nonce, res: resp.Resources}
			if err := stream.Send(&discoveryv3.DiscoveryRequest{
				TypeUrl: resp.TypeUrl, VersionInfo: resp.VersionInfo, ResponseNonce: resp.Nonce,
				ResourceNames: subscribed(resp.TypeUrl, resp.Resources),
			}); err != nil {
				return nil, fmt.Errorf("ACK %s: %v", resp.TypeUrl, err)
			}
		}
		return got[typeURL], nil
	}
	// The first request carries the node; istiod pushes CDS, then LDS, as to a starting Envoy.
	if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: n, TypeUrl: typeCluster}); err != nil {
		return fmt.Errorf("send CDS request: %v", err)
	}
	if err := stream.Send(&discoveryv3.DiscoveryRequest{TypeUrl: typeListener}); err != nil {
		return fmt.Errorf("send LDS request: %v", err)
	}
	cds, err := recv(typeCluster)
	if err != nil {
		return err
	}
	lds, err := recv(typeListener)
	if err != nil {
		return err
	}
	var rds *result
	if names := routeNames(lds.res); o.routes && len(names) > 0 {
		if err := stream.Send(&discoveryv3.DiscoveryRequest{TypeUrl: typeRoute, ResourceNames: names}); err != nil {
			return fmt.Errorf("send RDS request: %v", err)
		}
		if rds, err = recv(typeRoute); err != nil {
			return err
		}
	}
	dump, err := buildDump(n, cds, lds, rds)
	if err != nil {
		return err
	}
	b, err := (protojson.MarshalOptions{Multiline: true, Indent: " ", UseProtoNames: true}).Marshal(dump)
	if err != nil {
		return fmt.Errorf("render config dump as JSON: %v", err)
	}
	b = append(b, '\n')
	if o.out == "-" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(o.out, b, 0o644)
}

// subscribed keeps an ACK's resource names equal to the subscription: wildcard for CDS/LDS.
func subscribed(typeURL string, res []*anypb.Any) []string {
	if typeURL != typeRoute {
		return nil
	}
	var names []string
	for _, a := range res {
		rc := &routev3.RouteConfiguration{}
		if a.UnmarshalTo(rc) == nil {
			names = append(names, rc.Name)
		}
	}
	return names
}

// routeNames lists the RDS route_config_name of every HTTP connection manager.
func routeNames(listeners []*anypb.Any) []string {
	set := map[string]bool{}
	for _, a := range listeners {
		l := &listenerv3.Listener{}
		if a.UnmarshalTo(l) != nil {
			continue
		}
		chains := append([]*listenerv3.FilterChain{}, l.FilterChains...)
		if l.DefaultFilterChain != nil {
			chains = append(chains, l.DefaultFilterChain)
		}
		for _, fc := range chains {
			for _, f := range fc.Filters {
				h := &hcmv3.HttpConnectionManager{}
				if tc := f.GetTypedConfig(); tc != nil && tc.UnmarshalTo(h) == nil && h.GetRds() != nil {
					set[h.GetRds().RouteConfigName] = true
				}
			}
		}
	}
	names := make([]string, 0, len(set))
	for k := range set {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}

func buildDump(n *corev3.Node, cds, lds, rds *result) (*adminv3.ConfigDump, error) {
	now := timestamppb.Now()
	dump := &adminv3.ConfigDump{}
	dump.Configs = append(dump.Configs, mustAny(&adminv3.BootstrapConfigDump{
		Bootstrap: &bootstrapv3.Bootstrap{Node: n}, LastUpdated: now,
	}))
	cd := &adminv3.ClustersConfigDump{VersionInfo: cds.version}
	for _, a := range cds.res {
		if a.TypeUrl != typeCluster {
			return nil, fmt.Errorf("CDS response carries %s", a.TypeUrl)
		}
		cd.DynamicActiveClusters = append(cd.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{
			VersionInfo: cds.version, Cluster: a, LastUpdated: now,
		})
	}
	sort.Slice(cd.DynamicActiveClusters, func(i, j int) bool {
		return clusterName(cd.DynamicActiveClusters[i].Cluster) < clusterName(cd.DynamicActiveClusters[j].Cluster)
	})
	dump.Configs = append(dump.Configs, mustAny(cd))
	ld := &adminv3.ListenersConfigDump{VersionInfo: lds.version}
	for _, a := range lds.res {
		l := &listenerv3.Listener{}
		if err := a.UnmarshalTo(l); err != nil {
			return nil, fmt.Errorf("LDS response: %v", err)
		}
		ld.DynamicListeners = append(ld.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{
			Name: l.Name,
			ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{
				VersionInfo: lds.version, Listener: a, LastUpdated: now,
			},
		})
	}
	sort.Slice(ld.DynamicListeners, func(i, j int) bool { return ld.DynamicListeners[i].Name < ld.DynamicListeners[j].Name })
	dump.Configs = append(dump.Configs, mustAny(ld))
	if rds != nil {
		rd := &adminv3.RoutesConfigDump{}
		for _, a := range rds.res {
			rd.DynamicRouteConfigs = append(rd.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{
				VersionInfo: rds.version, RouteConfig: a, LastUpdated: now,
			})
		}
		dump.Configs = append(dump.Configs, mustAny(rd))
	}
	return dump, nil
}

func clusterName(a *anypb.Any) string {
	c := &clusterv3.Cluster{}
	_ = a.UnmarshalTo(c)
	return c.Name
}
