# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of module_utils/envoy_config.py.

REAL: the fixtures under fixtures/config_dumps/ (see PROVENANCE.md there),
asserted on values that are in those files.
SYNTHETIC: dumps built from a real one by envoy_synthetic.py, named so below.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gc
import importlib
import json
import os
import sys

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils import (
    envoy_config as ec,
)

# The SYNTHETIC-dump helper sits next to this file (tests/ is not a package).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
syn = importlib.import_module("envoy_synthetic")

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(HERE, "..", "..", "bad_input", "config_dumps")


def real_bytes(name):
    with open(os.path.join(syn.FIXTURES, name), "rb") as f:
        return f.read()


def by_name(items, name):
    found = [i for i in items if i["name"] == name]
    assert found, "%s not in %s" % (name, [i["name"] for i in items][:20])
    return found[0]


# ---------------------------------------------------------------- REAL dumps


class TestRealSidecar11:
    """istio-1.1.1 productpage sidecar: ALLOW_ANY, VIP listener to the egress gateway."""

    @pytest.fixture(scope="class")
    @classmethod
    def facts(cls):
        return ec.analyse_config_dump(real_bytes(syn.SIDECAR_ALLOW_ANY), host="httpbin.org")

    def test_proxy(self, facts):
        assert facts["proxy"] == {
            "type": "sidecar", "istio_version": "1.1.1", "envoy_version": "1.10.0-dev",
            "node_id": "sidecar~10.52.2.21~productpage-v1-5cb458d74f-56sx7.default~default.svc.cluster.local",
            "pod": "productpage-v1-5cb458d74f-56sx7", "namespace": "default"}
        assert facts["config_types"] == ["BootstrapConfigDump", "ClustersConfigDump",
                                         "ListenersConfigDump", "RoutesConfigDump"]

    def test_clusters(self, facts):
        gw = by_name(facts["clusters"], "outbound|443||istio-egressgateway.istio-system.svc.cluster.local")
        assert gw == {"name": "outbound|443||istio-egressgateway.istio-system.svc.cluster.local",
                      "direction": "outbound", "port": 443, "subset": None,
                      "host": "istio-egressgateway.istio-system.svc.cluster.local", "type": "EDS"}
        passthrough = by_name(facts["clusters"], "PassthroughCluster")
        assert passthrough["type"] == "ORIGINAL_DST" and passthrough["host"] is None
        assert by_name(facts["clusters"], "BlackHoleCluster")["direction"] is None
        assert len(facts["clusters"]) == 58

    def test_listeners(self, facts):
        vip = by_name(facts["listeners"], "10.0.2.103_443")
        assert (vip["address"], vip["port"]) == ("10.0.2.103", 443)
        assert vip["filter_chains"] == [{
            "name": None, "default": False, "server_names": [], "destination_port": None,
            "prefix_ranges": [], "transport_protocol": None, "application_protocols": [],
            "direct_source_prefix_ranges": [], "source_type": None, "source_prefix_ranges": [],
            "source_ports": [], "terminates_tls": False,
            "filter": "tcp_proxy", "weighted_clusters": None, "route_config_name": None,
            "cluster": "outbound|443||istio-egressgateway.istio-system.svc.cluster.local"}]
        http = by_name(facts["listeners"], "0.0.0.0_9080")
        assert http["filter_chains"][0]["filter"] == "http_connection_manager"
        assert http["filter_chains"][0]["route_config_name"] == "9080"
        # Envoy's own static prometheus listener has no name
        assert facts["listeners"][0]["name"] is None and facts["listeners"][0]["port"] == 15090

    def test_routes(self, facts):
        route = by_name(facts["routes"], "9080")
        reviews = by_name(route["virtual_hosts"], "reviews.default.svc.cluster.local:9080")
        assert "reviews" in reviews["domains"]
        assert reviews["clusters"] == ["outbound|9080||reviews.default.svc.cluster.local"]

    def test_allow_any(self, facts):
        policy = facts["outbound_traffic_policy"]
        assert policy["mode"] == "ALLOW_ANY"
        assert policy["evidence"] == [
            "listener virtual catch-all filter chain \u2192 tcp_proxy PassthroughCluster (ALLOW_ANY)"]

    def test_external_host_not_configured_falls_through(self, facts):
        dest = facts["destination"]
        assert dest["matched"] is False and dest["via_egress_gateway"] is False
        assert dest["cluster"] == "PassthroughCluster" and dest["listener"] == "virtual"
        assert "falls through listener virtual" in dest["evidence"]

    def test_vip_listener_to_the_gateway_service(self):
        dest = ec.parse_config_dump(real_bytes(syn.SIDECAR_ALLOW_ANY)).find_destination(syn.GW, 443)
        assert dest["matched"] and dest["protocol"] == "tcp" and dest["listener"] == "10.0.2.103_443"
        assert dest["cluster"] == "outbound|443||istio-egressgateway.istio-system.svc.cluster.local"
        assert dest["via_egress_gateway"] is True and dest["cluster_found"] is True

    def test_http_route(self):
        cfg = ec.parse_config_dump(real_bytes(syn.SIDECAR_ALLOW_ANY))
        dest = cfg.find_destination("details.default.svc.cluster.local", 9080)
        assert dest["protocol"] == "http" and dest["route"] == "9080"
        assert dest["virtual_host"] == "details.default.svc.cluster.local:9080"
        assert dest["cluster"] == "outbound|9080||details.default.svc.cluster.local"
        assert dest["direct"] is True and dest["via_egress_gateway"] is False
        # short name with port, as the app would send in Host:
        assert cfg.find_destination("details", 9080)["cluster"] == dest["cluster"]


class TestRealSidecar10:
    """istio-1.0-dev sidecar: REGISTRY_ONLY (virtual -> BlackHoleCluster), v2 'config' filters."""

    @pytest.fixture(scope="class")
    @classmethod
    def cfg(cls):
        return ec.parse_config_dump(real_bytes(syn.SIDECAR_REGISTRY_ONLY))

    def test_proxy(self, cfg):
        assert cfg.proxy["type"] == "sidecar" and cfg.proxy["istio_version"] == "1.0-dev"
        assert cfg.proxy["namespace"] == "apps-1-99281"

    def test_registry_only(self, cfg):
        policy = cfg.outbound_traffic_policy
        assert policy["mode"] == "REGISTRY_ONLY"
        assert "tcp_proxy BlackHoleCluster" in policy["evidence"][0]

    def test_blocked_host(self, cfg):
        dest = cfg.find_destination("httpbin.org", 443)
        assert dest["matched"] is False and dest["cluster"] == "BlackHoleCluster"
        assert dest["evidence"].endswith("to BlackHoleCluster (REGISTRY_ONLY)")

    def test_vip_egress_listener(self, cfg):
        dest = cfg.find_destination(syn.GW, 443)
        assert dest["listener"] == "10.43.245.70_443"
        assert dest["cluster"] == "outbound|443||istio-egressgateway.istio-system.svc.cluster.local"

    def test_counts(self, cfg):
        assert len(cfg.listeners) == 52 and len(cfg.clusters) == 80
        assert by_name(cfg.clusters, "outbound|10090||headless.apps-1-99281.svc.cluster.local")["type"] == \
            "ORIGINAL_DST"


class TestRealRouter13:
    """istio-1.3.0 ingress gateway: router, sni-dnat cluster names, inline and RDS routes."""

    @pytest.fixture(scope="class")
    @classmethod
    def cfg(cls):
        return ec.parse_config_dump(real_bytes(syn.INGRESS_ROUTER))

    def test_proxy(self, cfg):
        assert cfg.proxy["type"] == "router" and cfg.proxy["istio_version"] == "1.3.0"
        assert cfg.proxy["pod"] == "istio-ingressgateway-5bf6c9887-vvvmj"

    def test_policy_unknown_on_router(self, cfg):
        assert cfg.outbound_traffic_policy["mode"] == "unknown"
        assert "router" in cfg.outbound_traffic_policy["evidence"][0]

    def test_sni_dnat_cluster_names(self, cfg):
        c = by_name(cfg.clusters, "outbound_.9000_.v1_.tcp-echo.default.svc.cluster.local")
        assert (c["direction"], c["port"], c["subset"], c["host"]) == (
            "outbound", 9000, "v1", "tcp-echo.default.svc.cluster.local")
        assert by_name(cfg.clusters, "outbound_.9080_._.productpage.default.svc.cluster.local")["subset"] is None

    def test_tcp_listener_and_http_route(self, cfg):
        tcp = by_name(cfg.listeners, "0.0.0.0_31400")
        assert tcp["filter_chains"][0]["cluster"] == "outbound|9000|v1|tcp-echo.default.svc.cluster.local"
        dest = cfg.find_destination("anything.example.com", 80)
        assert dest["matched"] and dest["route"] == "http.80" and dest["virtual_host"] == "*:80"
        assert dest["cluster"] == "outbound|9080|v1|productpage.default.svc.cluster.local"
        assert dest["hop"] == 2

    def test_stats_listener_is_not_a_route_for_external_hosts(self, cfg):
        dest = cfg.find_destination("httpbin.org", 443)
        assert dest["matched"] is False and dest["cluster"] is None
        assert "the gateway does not forward httpbin.org:443" in dest["evidence"]


class TestRealOthers:
    def test_allow_any_from_route_virtual_host(self):
        cfg = ec.parse_config_dump(real_bytes("istio-1.5.0-beta.5-sidecar-config_dump.json"))
        assert cfg.proxy["istio_version"] == "1.5.0-beta.5" and cfg.proxy["envoy_version"] == "1.13.1"
        policy = cfg.outbound_traffic_policy
        assert policy["mode"] == "ALLOW_ANY" and policy["evidence"] == [
            "route 8080 has the allow_any virtual host (\u2192 PassthroughCluster)"]
        assert [(s["mode"], s["route"]) for s in policy["sources"]] == [("ALLOW_ANY", "8080")]

    def test_route_table_without_a_listener_is_no_route(self):
        """REAL 1.5 dump: the "host:port" route table of a sniffed service is there, but the dump holds
        no listener on 443 (only 172.30.150.195_9080) and no capture listener. The old matcher took the
        route table alone as "matched, http"; Envoy never reaches a route table without a listener."""
        cfg = ec.parse_config_dump(real_bytes("istio-1.5.0-beta.5-sidecar-config_dump.json"))
        route = by_name(cfg.routes, "kubernetes-dashboard.kube-system.svc.cluster.local:443")
        assert route["virtual_hosts"][0]["clusters"] == [
            "outbound|443||kubernetes-dashboard.kube-system.svc.cluster.local"]
        dest = cfg.find_destination("kubernetes-dashboard.kube-system.svc.cluster.local", 443)
        assert dest["matched"] is False and dest["protocol"] is None and dest["cluster"] is None
        assert dest["evidence"].startswith("no listener on port 443 and no outbound capture listener")

    def test_waypoint(self):
        cfg = ec.parse_config_dump(real_bytes("istio-master-waypoint-1.21-config_dump.json"))
        assert cfg.proxy["type"] == "waypoint" and cfg.proxy["istio_version"] == "1.21.0-1226"
        internal = by_name(cfg.listeners, "main_internal")
        assert internal["direction"] == "INBOUND"
        assert [c["name"] for c in internal["filter_chains"]][:3] == [
            "inbound-vip|8000||httpbin.default.svc.cluster.local-http",
            "inbound-vip|8100||httpbin.default.svc.cluster.local-http", "direct-tcp"]
        assert by_name(cfg.clusters, "inbound-vip|8000|http|httpbin.default.svc.cluster.local")["direction"] == \
            "inbound-vip"

    def test_dump_without_listeners(self):
        facts = ec.analyse_config_dump(real_bytes("istio-master-secrets-configdump.json"), host="httpbin.org")
        assert facts["config_types"] == ["SecretsConfigDump"]
        assert facts["listeners"] == [] and facts["outbound_traffic_policy"]["mode"] == "unknown"
        assert "no ListenersConfigDump" in facts["destination"]["evidence"]

    def test_routes_only_fragment(self):
        cfg = ec.parse_config_dump(real_bytes("istio-master-describe-tls-routes-configdump.json"))
        route = by_name(cfg.routes, "https.443.https.bookinfo-gateway.default")
        assert route["virtual_hosts"][0]["clusters"] == ["outbound|9080||productpage.default.svc.cluster.local"]

    def test_accepts_text_bytes_and_dict(self):
        raw = real_bytes(syn.SIDECAR_ALLOW_ANY)
        a = ec.analyse_config_dump(raw)
        assert ec.analyse_config_dump(raw.decode("utf-8")) == a == ec.analyse_config_dump(json.loads(raw))
        assert "destination" not in a


# ---------------------------------------------------------- SYNTHETIC dumps


class TestSyntheticSidecarEgress:
    def test_via_gateway(self):
        """SYNTHETIC: real 1.1.1 dump + 0.0.0.0_443 chain SNI httpbin.org -> hop-1 cluster."""
        dest = ec.analyse_config_dump(syn.sidecar_via_gateway(), host="httpbin.org")["destination"]
        assert dest["matched"] is True and dest["protocol"] == "tls"
        assert dest["listener"] == "0.0.0.0_443" and dest["server_names"] == ["httpbin.org"]
        assert dest["cluster"] == syn.HOP1 and dest["cluster_found"] is True and dest["clusters"] == [syn.HOP1]
        assert dest["via_egress_gateway"] is True and dest["direct"] is False and dest["hop"] == 1
        assert dest["egress_gateway_service"] == syn.GW
        assert dest["evidence"].startswith(
            "listener 0.0.0.0_443 filter chain SNI httpbin.org \u2192 tcp_proxy "
            "outbound|443|httpbin|istio-egressgateway.istio-system.svc.cluster.local")

    def test_hop1_removed_is_a_bypass(self):
        """SYNTHETIC: same chain, but straight to outbound|443||httpbin.org."""
        dest = ec.analyse_config_dump(syn.sidecar_via_gateway(cluster=syn.HOP2), host="httpbin.org")["destination"]
        assert dest["matched"] is True and dest["cluster"] == syn.HOP2
        assert dest["via_egress_gateway"] is False and dest["direct"] is True
        assert "bypassing the egress gateway" in dest["evidence"]

    def test_no_sni_chain_at_all(self):
        """REAL 1.1.1 dump with ALLOW_ANY: httpbin.org leaves through PassthroughCluster."""
        dest = ec.analyse_config_dump(syn.load_real(syn.SIDECAR_ALLOW_ANY), host="httpbin.org")["destination"]
        assert dest["via_egress_gateway"] is False and dest["cluster"] == "PassthroughCluster"

    def test_weighted_all_to_gateway(self):
        """SYNTHETIC: weighted_clusters over two gateway subsets."""
        weighted = [("outbound|443|v1|%s" % syn.GW, 50), ("outbound|443|v2|%s" % syn.GW, 50)]
        dest = ec.analyse_config_dump(syn.sidecar_via_gateway(weighted=weighted), host="httpbin.org")["destination"]
        assert dest["cluster"] is None and dest["clusters"] == [n for n, _w in weighted]
        assert [(w["name"], w["weight"], w["subset"]) for w in dest["weighted_clusters"]] == [
            ("outbound|443|v1|%s" % syn.GW, 50, "v1"), ("outbound|443|v2|%s" % syn.GW, 50, "v2")]
        assert dest["via_egress_gateway"] is True
        assert "weighted outbound|443|v1|" in dest["evidence"]

    def test_weighted_partial_bypass(self):
        """SYNTHETIC: 90 to the gateway, 10 straight out: not via the gateway."""
        weighted = [(syn.HOP1, 90), (syn.HOP2, 10)]
        dest = ec.analyse_config_dump(syn.sidecar_via_gateway(weighted=weighted), host="httpbin.org")["destination"]
        assert dest["via_egress_gateway"] is False and dest["direct"] is False
        assert "only part of the traffic" in dest["evidence"]

    def test_weight_zero_is_ignored(self):
        """SYNTHETIC: a 0-weight direct cluster does not carry traffic."""
        weighted = [(syn.HOP1, 100), (syn.HOP2, 0)]
        dest = ec.analyse_config_dump(syn.sidecar_via_gateway(weighted=weighted), host="httpbin.org")["destination"]
        assert dest["via_egress_gateway"] is True

    def test_vip_listener_with_sni_wins_over_wildcard(self):
        """SYNTHETIC: auto-allocated VIP 240.240.0.1_443 (gateway) and 0.0.0.0_443 (direct)."""
        dump = syn.sidecar_via_gateway(cluster=syn.HOP2)
        syn.add_listener(dump, "240.240.0.1", 443, [syn.sni_chain(["httpbin.org"], syn.HOP1)])
        syn.add_cluster(dump, syn.HOP1)
        dest = ec.analyse_config_dump(dump, host="httpbin.org")["destination"]
        assert dest["listener"] == "240.240.0.1_443" and dest["via_egress_gateway"] is True
        assert dest["evidence"].endswith("(if the client connects to 240.240.0.1 (the host's service address: a "
                                         "ServiceEntry address or one Istio's DNS proxy allocated))")
        bypass = ("listener 0.0.0.0_443 filter chain SNI httpbin.org \u2192 tcp_proxy outbound|443||httpbin.org; the "
                  "sidecar sends httpbin.org directly, bypassing the egress gateway (if the client connects to any "
                  "other address of httpbin.org)")
        assert dest["alternatives"] == [bypass]
        assert [(p["listener"], p["address"], p["via_egress_gateway"], p["direct"]) for p in dest["paths"]] == [
            ("240.240.0.1_443", "240.240.0.1", True, False), ("0.0.0.0_443", None, False, True)]

    def test_vip_listener_without_sni(self):
        """SYNTHETIC: a ServiceEntry VIP listener 10.96.0.10_443 with one chain and no SNI match."""
        dump = syn.load_real(syn.SIDECAR_ALLOW_ANY)
        syn.add_listener(dump, "10.96.0.10", 443, [{"filters": [syn.tcp_proxy(syn.HOP2)]}])
        dest = ec.analyse_config_dump(dump, host="httpbin.org")["destination"]
        assert dest["matched"] and dest["protocol"] == "tcp" and dest["listener"] == "10.96.0.10_443"
        assert dest["direct"] is True and dest["cluster_found"] is False
        assert "missing from the dump's clusters" in dest["evidence"]

    def test_missing_subset_cluster(self):
        """SYNTHETIC: chain to a DestinationRule subset that CDS does not have."""
        dest = ec.analyse_config_dump(syn.sidecar_via_gateway(define_clusters=False),
                                      host="httpbin.org")["destination"]
        assert dest["via_egress_gateway"] is True and dest["cluster_found"] is False

    def test_wildcard_server_name(self):
        """SYNTHETIC: *.httpbin.org covers www.httpbin.org but not httpbin.org."""
        dump = syn.sidecar_via_gateway(server_names=("*.httpbin.org",))
        cfg = ec.parse_config_dump(dump)
        assert cfg.find_destination("www.httpbin.org", 443)["via_egress_gateway"] is True
        assert cfg.find_destination("httpbin.org", 443)["matched"] is False

    def test_host_is_case_insensitive_and_port_matters(self):
        cfg = ec.parse_config_dump(syn.sidecar_via_gateway())
        assert cfg.find_destination("HTTPBIN.org.", 443)["via_egress_gateway"] is True
        other = cfg.find_destination("httpbin.org", 8443)
        assert other["matched"] is False and other["cluster"] == "PassthroughCluster"

    def test_custom_gateway_service(self):
        """SYNTHETIC: a gateway in its own namespace, as in the istio.io egress SNI blog."""
        gw = "egressgateway.istio-egress.svc.cluster.local"
        dump = syn.sidecar_via_gateway(cluster="outbound|443|wildcard|%s" % gw)
        default = ec.analyse_config_dump(dump, host="httpbin.org")["destination"]
        assert default["via_egress_gateway"] is False
        custom = ec.analyse_config_dump(dump, host="httpbin.org", egress_gateway_service=gw)["destination"]
        assert custom["via_egress_gateway"] is True and custom["egress_gateway_service"] == gw


class TestSyntheticPolicy:
    @pytest.mark.parametrize("catch_all,mode", [("PassthroughCluster", "ALLOW_ANY"),
                                                ("BlackHoleCluster", "REGISTRY_ONLY")])
    def test_modern_virtual_outbound(self, catch_all, mode):
        """SYNTHETIC: Istio >= 1.4 virtualOutbound with blackhole + catch-all chains."""
        dump = syn.modern_virtual_outbound(syn.load_real(syn.SIDECAR_ALLOW_ANY), catch_all)
        policy = ec.parse_config_dump(dump).outbound_traffic_policy
        assert policy["mode"] == mode
        assert policy["evidence"][0] == (
            "listener virtualOutbound catch-all filter chain virtualOutbound-catchall-tcp \u2192 tcp_proxy %s (%s)"
            % (catch_all, mode))

    def test_registry_only_with_passthrough_filter_chain(self):
        """SYNTHETIC: REGISTRY_ONLY sidecar, 0.0.0.0_443 with an SNI chain and its default chain."""
        dump = syn.modern_virtual_outbound(syn.load_real(syn.SIDECAR_ALLOW_ANY), "BlackHoleCluster")
        syn.add_listener(dump, "0.0.0.0", 443, [syn.sni_chain(["httpbin.org"], syn.HOP1)],
                         default_chain=syn.passthrough_default_chain("BlackHoleCluster"))
        cfg = ec.parse_config_dump(dump)
        assert cfg.outbound_traffic_policy["mode"] == "REGISTRY_ONLY"
        assert len(cfg.outbound_traffic_policy["evidence"]) == 2
        blocked = cfg.find_destination("example.com", 443)
        assert blocked["matched"] is False and blocked["cluster"] == "BlackHoleCluster"
        assert blocked["listener"] == "0.0.0.0_443" and blocked["filter_chain"] == "PassthroughFilterChain"
        assert cfg.find_destination("httpbin.org", 443)["via_egress_gateway"] is True

    def test_egress_proxy_is_allow_any(self):
        """SYNTHETIC: Sidecar outboundTrafficPolicy ALLOW_ANY with egressProxy sends unknown traffic there."""
        dump = syn.modern_virtual_outbound(syn.load_real(syn.SIDECAR_ALLOW_ANY), syn.HOP1)
        policy = ec.parse_config_dump(dump).outbound_traffic_policy
        assert policy["mode"] == "ALLOW_ANY" and "egress proxy" in policy["evidence"][0]


class TestSyntheticRouter:
    def test_hop2(self):
        """SYNTHETIC: real 1.3.0 gateway dump + 0.0.0.0_8443 chain SNI httpbin.org -> outbound|443||httpbin.org."""
        facts = ec.analyse_config_dump(syn.router_hop2(), host="httpbin.org")
        dest = facts["destination"]
        assert facts["proxy"]["type"] == "router"
        assert dest["matched"] and dest["hop"] == 2 and dest["protocol"] == "tls"
        assert dest["listener"] == "0.0.0.0_8443" and dest["cluster"] == syn.HOP2
        assert dest["direct"] is True and dest["via_egress_gateway"] is False
        assert dest["evidence"] == (
            "listener 0.0.0.0_8443 filter chain SNI httpbin.org (port 8443) \u2192 tcp_proxy "
            "outbound|443||httpbin.org; the gateway forwards httpbin.org to the external host (hop 2)")

    def test_hop2_on_the_service_port(self):
        dest = ec.analyse_config_dump(syn.router_hop2(port=443), host="httpbin.org")["destination"]
        assert dest["listener"] == "0.0.0.0_443" and "(port" not in dest["evidence"]


class TestSyntheticShapes:
    """The same REAL content re-encoded in other dump shapes gives the same facts."""

    @pytest.fixture(scope="class")
    @classmethod
    def reference(cls):
        return ec.analyse_config_dump(syn.sidecar_via_gateway(), host="httpbin.org")

    def test_camel_case(self, reference):
        facts = ec.analyse_config_dump(syn.camel_case(syn.sidecar_via_gateway()), host="httpbin.org")
        assert facts["destination"] == reference["destination"]
        assert facts["outbound_traffic_policy"] == reference["outbound_traffic_policy"]
        assert len(facts["listeners"]) == len(reference["listeners"])

    def test_envoy17_map_and_v2alpha_listeners(self, reference):
        dump = syn.envoy17_map_shape(syn.v2alpha_active_listeners(syn.sidecar_via_gateway()))
        facts = ec.analyse_config_dump(dump, host="httpbin.org")
        assert facts["destination"] == reference["destination"]
        assert facts["proxy"] == reference["proxy"]

    def test_bare_resources(self):
        """Very old dumps list resources without the {listener: ..} / {cluster: ..} wrapper."""
        dump = syn.sidecar_via_gateway()
        for entry in dump["configs"]:
            if entry["@type"].endswith("ListenersConfigDump"):
                entry["static_listeners"] = [i["listener"] for i in entry["static_listeners"]]
            if entry["@type"].endswith("ClustersConfigDump"):
                entry["static_clusters"] = [i["cluster"] for i in entry["static_clusters"]]
        cfg = ec.parse_config_dump(dump)
        assert by_name(cfg.clusters, "xds-grpc")["type"] == "STRICT_DNS"
        assert cfg.listeners[0]["port"] == 15090

    def test_legacy_tcp_proxy_routes(self):
        """Envoy v1-era tcp_proxy config: deprecated_v1.routes[].cluster."""
        dump = syn.load_real(syn.SIDECAR_ALLOW_ANY)
        syn.add_listener(dump, "0.0.0.0", 443, [{
            "filter_chain_match": {"server_names": ["httpbin.org"]},
            "filters": [{"name": "envoy.tcp_proxy", "config": {
                "stat_prefix": "x", "deprecated_v1": {"routes": [{"cluster": syn.HOP1}]}}}]}])
        dest = ec.analyse_config_dump(dump, host="httpbin.org")["destination"]
        assert dest["cluster"] == syn.HOP1 and dest["via_egress_gateway"] is True


# --------------------------------------------------------------- bad input


def _bad_cases():
    with open(os.path.join(BAD, "cases.json")) as f:
        return sorted(json.load(f)["cases"].items())


@pytest.mark.parametrize("name,expect", _bad_cases())
def test_bad_input_corpus(name, expect):
    with open(os.path.join(BAD, name), "rb") as f:
        data = f.read()
    with pytest.raises(ec.ConfigDumpError) as err:
        ec.parse_config_dump(data)
    msg = str(err.value)
    assert expect in msg
    assert "\n" not in msg and len(msg) < 300 and msg.startswith("the ")


@pytest.mark.parametrize("data,expect", [
    (b"", "is empty"),
    (None, "is empty"),
    ("   \n", "is empty"),
    (b"x" * (5 * 1024 * 1024), "is not JSON"),
    (b'{"configs": [[1]]}', "entry of 'configs' is a list"),
    (b'{"configs": [' + b"[" * 100000 + b"]" * 100000 + b"]}", "nests too deeply"),
    ("[" * 200000, "nests too deeply"),
    (b'{"configs": [{"@type": "type.googleapis.com/foo.Bar"}]}', "no entry of 'configs' has an Envoy admin"),
    (12, "must be bytes, text or a dict"),
])
def test_bad_input_generated(data, expect):
    with pytest.raises(ec.ConfigDumpError) as err:
        ec.parse_config_dump(data)
    assert expect in str(err.value)


def test_empty_host_is_rejected():
    cfg = ec.parse_config_dump(real_bytes(syn.SIDECAR_ALLOW_ANY))
    with pytest.raises(ec.ConfigDumpError):
        cfg.find_destination("  ", 443)


@pytest.mark.parametrize("name,parsed", [
    ("outbound|443|httpbin|istio-egressgateway.istio-system.svc.cluster.local",
     ("outbound", 443, "httpbin", "istio-egressgateway.istio-system.svc.cluster.local")),
    ("outbound|443||httpbin.org", ("outbound", 443, None, "httpbin.org")),
    ("inbound|9080||", ("inbound", 9080, None, None)),
    ("outbound_.443_._.httpbin.org", ("outbound", 443, None, "httpbin.org")),
    ("PassthroughCluster", (None, None, None, None)),
    ("a|b|c|d", (None, None, None, None)),
    (None, (None, None, None, None)),
])
def test_parse_cluster_name(name, parsed):
    assert ec.parse_cluster_name(name) == parsed


@pytest.mark.parametrize("enabled", [True, False])
def test_gc_state_is_restored(enabled):
    """The parser pauses the cyclic GC for speed and must leave it as it found it, error or not."""
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        ec.parse_config_dump(real_bytes("istio-master-secrets-configdump.json"))
        assert gc.isenabled() is enabled
        with pytest.raises(ec.ConfigDumpError):
            ec.parse_config_dump(b"{")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
