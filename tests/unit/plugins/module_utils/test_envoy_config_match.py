# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter chain selection as Envoy does it, every listener a call can hit, and the outbound policy.

REAL: the istiod 1.30 dumps in fixtures/generated/ (see PROVENANCE.md there).
SYNTHETIC: copies of them with one edit each, made by envoy_synthetic.py and
named in each test's docstring. "Before" in a docstring is what the previous
matcher (server_names only, the first SNI hit) answered on the same input: the
false verdict each test shows is gone; the legitimate twin of each case still
passes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os
import sys

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils import (
    envoy_config as ec,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
syn = importlib.import_module("envoy_synthetic")

HOP1 = syn.HOP1
HOP2 = syn.HOP2


def dest(dump, host="httpbin.org", port=443, **kwargs):
    return ec.analyse_config_dump(dump, host=host, port=port, **kwargs)["destination"]


# ------------------------------------------------------------- REAL, unedited


class TestGeneratedReal:
    def test_sidecar_hop1(self):
        """REAL istiod 1.30 sidecar: SNI chain on 0.0.0.0_443 -> the gateway's subset cluster."""
        facts = ec.analyse_config_dump(syn.load_generated(), host="httpbin.org")
        d = facts["destination"]
        assert facts["proxy"]["type"] == "sidecar"
        assert d["matched"] is True and d["via_egress_gateway"] is True and d["cluster"] == HOP1
        assert d["listener"] == "0.0.0.0_443" and d["listener_port"] == 443 and d["cluster_found"] is True
        assert d["assumptions"] == [] and d["alternatives"] == [] and len(d["paths"]) == 1
        assert facts["outbound_traffic_policy"]["mode"] == "ALLOW_ANY"
        assert [s["listener"] for s in facts["outbound_traffic_policy"]["sources"]][:2] == [
            "virtualOutbound", "0.0.0.0_443"]

    def test_sidecar_without_hop1_is_direct(self):
        d = dest(syn.load_generated(syn.GEN_SIDECAR_NO_HOP1))
        assert d["matched"] is True and d["direct"] is True and d["via_egress_gateway"] is False

    def test_gateway_hop2_and_listener_port(self):
        """REAL istiod 1.30 gateway: router, the SNI chain on its 8443 listener (the chart's targetPort)."""
        facts = ec.analyse_config_dump(syn.load_generated(syn.GEN_GATEWAY), host="httpbin.org")
        d = facts["destination"]
        assert facts["proxy"]["type"] == "router" and d["hop"] == 2
        assert d["listener"] == "0.0.0.0_8443" and d["listener_port"] == 8443
        assert d["cluster"] == HOP2 and d["direct"] is True and d["cluster_found"] is True

    def test_unregistered_host_on_the_sidecar(self):
        d = dest(syn.load_generated(), host="example.com")
        assert d["matched"] is False and d["cluster"] == "PassthroughCluster"
        assert d["filter_chain"] == "PassthroughFilterChain" and d["listener_port"] == 443


# ------------------------------------------- FilterChainMatch, criterion by criterion


class TestDestinationPort:
    def test_chain_for_another_port(self):
        """SYNTHETIC: the httpbin.org chain restricted to destination_port 8443.
        Before: matched, via the gateway. Envoy: a TLS call on 443 cannot take it."""
        dump = syn.restrict_sni_chain(syn.load_generated(), "on port 8443 only", destination_port=8443)
        d = dest(dump)
        assert d["matched"] is False and d["via_egress_gateway"] is False
        assert d["cluster"] == "PassthroughCluster" and d["filter_chain"] == "PassthroughFilterChain"

    def test_chain_for_the_call_port(self):
        dump = syn.restrict_sni_chain(syn.load_generated(), "on port 443", destination_port=443)
        assert dest(dump)["via_egress_gateway"] is True

    def test_port_catch_all_beats_sni_without_port(self):
        """SYNTHETIC: a chain {destination_port: 443} (no server_names) -> PassthroughCluster next to the real
        SNI chain. Envoy narrows to the port first, so all TLS on 443 goes to PassthroughCluster.
        Before: matched the SNI chain, via the gateway."""
        dump = syn.load_generated()
        syn.listener(dump, "0.0.0.0_443")["filter_chains"].append(
            {"name": "catch-443", "filter_chain_match": {"destination_port": 443},
             "filters": [syn.tcp_proxy("PassthroughCluster")]})
        syn.note(dump, "SYNTHETIC: 0.0.0.0_443 + chain catch-443 {destination_port: 443} -> PassthroughCluster")
        d = dest(dump)
        assert d["via_egress_gateway"] is False and d["matched"] is False
        assert d["filter_chain"] == "catch-443" and d["cluster"] == "PassthroughCluster"
        assert "chain catch-443 (destination_port 443)" in d["evidence"]

    def test_port_chain_with_the_sni_too(self):
        """The legitimate twin: the port-restricted chain also names the host -> it wins."""
        dump = syn.restrict_sni_chain(syn.load_generated(), "on port 443", destination_port=443)
        syn.listener(dump, "0.0.0.0_443")["filter_chains"].append(
            {"name": "catch-443", "filter_chain_match": {"destination_port": 443},
             "filters": [syn.tcp_proxy("PassthroughCluster")]})
        d = dest(dump)
        assert d["via_egress_gateway"] is True and d["matched"] is True


class TestDestinationAddress:
    @pytest.fixture
    def dump(self):
        """SYNTHETIC: the httpbin.org chain restricted to prefix_ranges 10.96.0.0/16."""
        return syn.restrict_sni_chain(syn.load_generated(), "for 10.96.0.0/16 only",
                                      prefix_ranges=[{"address_prefix": "10.96.0.0", "prefix_len": 16}])

    def test_unknown_address_is_not_taken_for_a_match(self, dump):
        """Before: matched, via the gateway, whatever address the client connects to."""
        d = dest(dump)
        assert d["via_egress_gateway"] is False and d["cluster"] == "PassthroughCluster"
        assert d["assumptions"] == [("the destination address is not known: taken to be outside 10.96.0.0/16, "
                                    "which 1 filter chain requires")]

    def test_address_inside_the_range(self, dump):
        d = dest(dump, address="10.96.3.4")
        assert d["via_egress_gateway"] is True and d["address"] == "10.96.3.4" and d["assumptions"] == []

    def test_address_outside_the_range(self, dump):
        d = dest(dump, address="93.184.216.34")
        assert d["via_egress_gateway"] is False and d["cluster"] == "PassthroughCluster"

    def test_longest_prefix_wins(self, dump):
        """SYNTHETIC: a second httpbin.org chain for 10.96.3.0/24 -> direct: the /24 beats the /16."""
        chain = syn.sni_chain(["httpbin.org"], HOP2)
        chain["filter_chain_match"]["prefix_ranges"] = [{"address_prefix": "10.96.3.0", "prefix_len": 24}]
        syn.listener(dump, "0.0.0.0_443")["filter_chains"].append(chain)
        assert dest(dump, address="10.96.3.4")["direct"] is True
        assert dest(dump, address="10.96.9.9")["via_egress_gateway"] is True


class TestServerNames:
    def _dump(self, *chains):
        dump = syn.load_generated()
        syn.listener(dump, "0.0.0.0_443")["filter_chains"][:] = [syn.sni_chain(n, c) for n, c in chains]
        return syn.note(dump, "SYNTHETIC: 0.0.0.0_443 chains replaced by %s" % (chains,))

    def test_exact_beats_wildcard(self):
        dump = self._dump((["*.httpbin.org"], HOP2), (["www.httpbin.org"], HOP1))
        assert dest(dump, host="www.httpbin.org")["via_egress_gateway"] is True

    def test_longest_wildcard_wins(self):
        """*.httpbin.org beats *.org for www.httpbin.org; httpbin.org itself only matches *.org."""
        dump = self._dump((["*.org"], HOP2), (["*.httpbin.org"], HOP1))
        www = dest(dump, host="www.httpbin.org")
        assert www["via_egress_gateway"] is True and www["server_names"] == ["*.httpbin.org"]
        bare = dest(dump)
        assert bare["direct"] is True and bare["server_names"] == ["*.org"] and bare["matched"] is True

    def test_sni_is_case_insensitive(self):
        dump = self._dump((["HTTPBIN.org"], HOP1))
        assert dest(dump)["via_egress_gateway"] is True


class TestTransportAndAlpn:
    def test_raw_buffer_chain_does_not_take_tls(self):
        """SYNTHETIC: the httpbin.org chain restricted to transport_protocol raw_buffer.
        Before: matched, via the gateway. Envoy: a TLS connection is 'tls', not raw_buffer."""
        dump = syn.restrict_sni_chain(syn.load_generated(), "plain TCP only", transport_protocol="raw_buffer")
        d = dest(dump)
        assert d["via_egress_gateway"] is False and d["cluster"] == "PassthroughCluster"

    def test_tls_chain_takes_tls(self):
        dump = syn.restrict_sni_chain(syn.load_generated(), "TLS only", transport_protocol="tls")
        assert dest(dump)["via_egress_gateway"] is True

    def test_alpn_the_client_does_not_offer(self):
        """SYNTHETIC: the chain requires ALPN istio-peer-exchange (Istio's mTLS ALPN), which curl never offers.
        Before: via the gateway."""
        dump = syn.restrict_sni_chain(syn.load_generated(), "ALPN istio-peer-exchange",
                                      application_protocols=["istio-peer-exchange"])
        d = dest(dump)
        assert d["via_egress_gateway"] is False
        assert d["assumptions"] == ["the client was taken to offer ALPN h2, http/1.1 (what curl offers)"]

    def test_alpn_the_client_offers(self):
        dump = syn.restrict_sni_chain(syn.load_generated(), "ALPN h2", application_protocols=["h2"])
        assert dest(dump)["via_egress_gateway"] is True


class TestSource:
    """The source of the app's call is the sidecar's own pod address, 10.233.64.2 in the node id."""

    def test_source_range_holding_the_pod(self):
        dump = syn.restrict_sni_chain(syn.load_generated(), "from 10.233.64.0/18",
                                      source_prefix_ranges=[{"address_prefix": "10.233.64.0", "prefix_len": 18}])
        assert dest(dump)["via_egress_gateway"] is True

    def test_source_range_without_the_pod(self):
        """Before: via the gateway, though this pod's connections never match the chain."""
        dump = syn.restrict_sni_chain(syn.load_generated(), "from 192.168.0.0/16",
                                      source_prefix_ranges=[{"address_prefix": "192.168.0.0", "prefix_len": 16}])
        assert dest(dump)["via_egress_gateway"] is False

    def test_direct_source_range(self):
        dump = syn.restrict_sni_chain(syn.load_generated(), "direct source 192.168.0.0/16",
                                      direct_source_prefix_ranges=[{"address_prefix": "192.168.0.0",
                                                                    "prefix_len": 16}])
        assert dest(dump)["via_egress_gateway"] is False

    def test_same_ip_source_type(self):
        dump = syn.restrict_sni_chain(syn.load_generated(), "local only", source_type="SAME_IP_OR_LOOPBACK")
        assert dest(dump)["via_egress_gateway"] is False
        dump = syn.restrict_sni_chain(syn.load_generated(), "external", source_type="EXTERNAL")
        assert dest(dump)["via_egress_gateway"] is True

    def test_source_ports(self):
        dump = syn.restrict_sni_chain(syn.load_generated(), "source port 40000", source_ports=[40000])
        d = dest(dump)
        assert d["via_egress_gateway"] is False
        assert d["assumptions"] == ["the client's source port is not known: taken to be none of 40000"]

    def test_unknown_source_address(self):
        """SYNTHETIC: without a bootstrap the pod address is unknown: a source-restricted chain is not taken."""
        dump = syn.restrict_sni_chain(syn.load_generated(), "from 10.233.64.0/18",
                                      source_prefix_ranges=[{"address_prefix": "10.233.64.0", "prefix_len": 18}])
        d = dest(syn.drop_section(dump, "BootstrapConfigDump"))
        assert d["via_egress_gateway"] is False and d["hop"] is None
        assert d["assumptions"][0].startswith("the source address is not known")


# ----------------------------------------------------- every listener of the call


class TestListeners:
    def _vip(self, vip_cluster, wildcard_cluster=HOP1):
        dump = syn.load_generated()
        syn.sni_chain_of(dump)["filters"][-1]["typed_config"]["cluster"] = wildcard_cluster
        syn.add_listener(dump, "240.240.0.1", 443, [syn.sni_chain(["httpbin.org"], vip_cluster)])
        return syn.note(dump, "SYNTHETIC: auto-allocated VIP listener 240.240.0.1_443 -> %s, 0.0.0.0_443 -> %s"
                        % (vip_cluster, wildcard_cluster))

    def test_vip_bypass_is_reported_first(self):
        """SYNTHETIC: the VIP listener (DNS proxy address) sends httpbin.org direct, 0.0.0.0_443 to the gateway.
        A client resolving through the sidecar lands on the VIP: not via the gateway. Before: the old matcher
        also preferred the VIP; now the other path is a structured alternative too."""
        d = dest(self._vip(HOP2))
        assert d["listener"] == "240.240.0.1_443" and d["direct"] is True and d["via_egress_gateway"] is False
        assert [(p["listener"], p["via_egress_gateway"]) for p in d["paths"]] == [
            ("240.240.0.1_443", False), ("0.0.0.0_443", True)]

    def test_explicit_address_picks_the_listener(self):
        dump = self._vip(HOP2)
        assert dest(dump, address="240.240.0.1")["direct"] is True
        other = dest(dump, address="34.227.213.82")
        assert other["listener"] == "0.0.0.0_443" and other["via_egress_gateway"] is True and other["paths"][0][
            "when"] is None

    def test_vip_listener_of_another_service_is_not_a_path(self):
        """REAL: 10.233.0.1_443 (kubernetes) and 10.233.56.112_443 (the gateway) are not httpbin.org's."""
        d = dest(syn.load_generated())
        assert [p["listener"] for p in d["paths"]] == ["0.0.0.0_443"]

    def test_no_wildcard_listener_falls_to_virtual_outbound(self):
        """SYNTHETIC: 0.0.0.0_443 removed: the capture listener's catch-all takes the call."""
        dump = syn.load_generated()
        section = syn._section(dump, "ListenersConfigDump")
        section["dynamic_listeners"] = [i for i in section["dynamic_listeners"] if i["name"] != "0.0.0.0_443"]
        d = dest(syn.note(dump, "SYNTHETIC: 0.0.0.0_443 removed"))
        assert d["listener"] == "virtualOutbound" and d["filter_chain"] == "virtualOutbound-catchall-tcp"
        assert d["cluster"] == "PassthroughCluster" and "falls through listener virtualOutbound" in d["evidence"]

    def test_http_port_by_protocol(self):
        """REAL: 0.0.0.0_80's HTTP chain requires raw_buffer + ALPN http/1.1|h2c (Istio's protocol sniffing):
        plain HTTP takes it and the route table decides; TLS on port 80 falls to PassthroughFilterChain."""
        cfg = ec.parse_config_dump(syn.load_generated())
        http = cfg.find_destination("sleep.mesh-test.svc.cluster.local", 80)
        assert http["protocol"] == "http" and http["route"] == "80"
        assert http["cluster"] == "outbound|80||sleep.mesh-test.svc.cluster.local"
        unknown = cfg.find_destination("httpbin.org", 80)
        assert unknown["matched"] is False and unknown["virtual_host"] == "allow_any"
        tls = cfg.find_destination("sleep.mesh-test.svc.cluster.local", 80, protocol="tls")
        assert tls["filter_chain"] == "PassthroughFilterChain" and tls["matched"] is False

    def test_tls_into_a_plain_http_chain(self):
        """SYNTHETIC: 0.0.0.0_80's HTTP chain without its match: TLS lands on a plain-text HCM: no route."""
        dump = syn.load_generated()
        syn.listener(dump, "0.0.0.0_80")["filter_chains"][0]["filter_chain_match"] = {}
        d = dest(syn.note(dump, "SYNTHETIC: 0.0.0.0_80 HTTP chain without filter_chain_match"), port=80,
                 protocol="tls")
        assert d["cluster"] is None and d["matched"] is False
        assert "the TLS handshake fails there" in d["evidence"]

    def test_gateway_listener_for_the_host_only(self):
        """REAL istiod 1.30 gateway: example.com is not forwarded (no chain names it)."""
        d = dest(syn.load_generated(syn.GEN_GATEWAY), host="example.com")
        assert d["matched"] is False and d["cluster"] is None
        assert "the gateway does not forward example.com:443" in d["evidence"]


# ------------------------------------------------------------ outbound policy


class TestPolicy:
    def test_both_blackhole_is_registry_only(self):
        dump = syn.set_catch_all(syn.load_generated(), virtual="BlackHoleCluster", passthrough_443="BlackHoleCluster")
        policy = ec.parse_config_dump(dump).outbound_traffic_policy
        # The route tables of the ALLOW_ANY dump still carry allow_any: drop them to isolate the listeners.
        assert policy["mode"] == "mixed"
        dump = syn.drop_section(dump, "RoutesConfigDump")
        policy = ec.parse_config_dump(dump).outbound_traffic_policy
        assert policy["mode"] == "REGISTRY_ONLY" and len(policy["sources"]) == 2

    def test_virtual_blackhole_but_443_passthrough_is_mixed(self):
        """SYNTHETIC: virtualOutbound -> BlackHoleCluster, 0.0.0.0_443 default chain -> PassthroughCluster.
        Before: REGISTRY_ONLY (the capture listener was read first), while TLS to any unregistered host on
        443 reaches PassthroughCluster."""
        dump = syn.drop_section(syn.set_catch_all(syn.load_generated(), virtual="BlackHoleCluster"),
                                "RoutesConfigDump")
        policy = ec.parse_config_dump(dump).outbound_traffic_policy
        assert policy["mode"] == "mixed"
        assert policy["evidence"][0].startswith("the catch-all destinations disagree")
        assert sorted((s["listener"], s["mode"]) for s in policy["sources"]) == [
            ("0.0.0.0_443", "ALLOW_ANY"), ("virtualOutbound", "REGISTRY_ONLY")]

    def test_443_catch_all_chain_counts(self):
        """SYNTHETIC: REGISTRY_ONLY everywhere, but a {destination_port: 443} chain -> PassthroughCluster."""
        dump = syn.set_catch_all(syn.load_generated(), virtual="BlackHoleCluster", passthrough_443="BlackHoleCluster")
        syn.listener(dump, "0.0.0.0_443")["filter_chains"].append(
            {"name": "catch-443", "filter_chain_match": {"destination_port": 443},
             "filters": [syn.tcp_proxy("PassthroughCluster")]})
        policy = ec.parse_config_dump(syn.drop_section(dump, "RoutesConfigDump")).outbound_traffic_policy
        assert policy["mode"] == "mixed"
        assert any("chain catch-443, which takes TLS to any unregistered host on port 443" in e
                   for e in policy["evidence"])

    def test_router_is_unknown(self):
        policy = ec.parse_config_dump(syn.load_generated(syn.GEN_GATEWAY)).outbound_traffic_policy
        assert policy["mode"] == "unknown" and policy["sources"] == []


# ---------------------------------------------------- proxy type, cluster_found


class TestProxyFacts:
    def test_no_bootstrap_is_unknown(self):
        """SYNTHETIC: the sidecar dump without its BootstrapConfigDump.
        Before: 'sidecar', guessed from the capture listener."""
        cfg = ec.parse_config_dump(syn.drop_section(syn.load_generated(), "BootstrapConfigDump"))
        assert cfg.proxy["type"] == "unknown"

    def test_node_id_decides(self):
        assert ec.parse_config_dump(syn.load_generated(syn.GEN_GATEWAY)).proxy["type"] == "router"
        assert ec.parse_config_dump(syn.load_generated()).proxy["type"] == "sidecar"

    def test_missing_clusters_section_is_unknown(self):
        d = dest(syn.drop_section(syn.load_generated(), "ClustersConfigDump"))
        assert d["via_egress_gateway"] is True and d["cluster_found"] is None
        assert "the dump has no clusters section" in d["evidence"]

    def test_clusters_section_read(self):
        dump = syn.load_generated()
        syn.sni_chain_of(dump)["filters"][-1]["typed_config"]["cluster"] = "outbound|443|nosuch|" + syn.GW
        assert dest(dump)["cluster_found"] is False


@pytest.mark.parametrize("kwargs,fragment", [
    ({"port": 0}, "port must be a number between 1 and 65535"),
    ({"port": True}, "port must be a number"),
    ({"address": "not-an-ip"}, "address must be an IP address"),
    ({"protocol": "udp"}, "protocol must be auto, tls or http"),
])
def test_bad_call_arguments(kwargs, fragment):
    cfg = ec.parse_config_dump(syn.load_generated())
    with pytest.raises(ec.ConfigDumpError, match=fragment):
        cfg.find_destination("httpbin.org", **dict({"port": 443}, **kwargs))
