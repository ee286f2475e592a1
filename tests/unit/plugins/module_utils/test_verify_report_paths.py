# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check 6 on every listener path and on what the dump could not tell (issue 10).

REAL: the istiod 1.30 dumps in fixtures/generated/ (PROVENANCE.md there), analysed by the REAL pure
function behind istio_proxy_config (envoy_config.analyse_config_dump).
SYNTHETIC: copies of them with one edit each, made with envoy_synthetic.py and named in each test's
docstring. "Before" is what check 6 answered when it read only the reported (first) path and ignored
destination.assumptions: each false pass is gone, and the legitimate twin still passes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import envoy_synthetic as es
import test_verify_report as base

from ansible_collections.homelab.istio_egress.plugins.module_utils import envoy_config
from ansible_collections.homelab.istio_egress.plugins.module_utils import verify_report as vr

HOST = "httpbin.org"
HOP1 = es.HOP1  # outbound|443|httpbin|istio-egressgateway.istio-system.svc.cluster.local
HOP2 = es.HOP2  # outbound|443||httpbin.org


def result(dump, router=False, **kwargs):
    facts = envoy_config.analyse_config_dump(dump, host=HOST, port=443, **kwargs)
    facts["changed"] = False
    return facts


def facts_for(client, gateway=None, address=None):
    """The passing scenario's facts with check 6 fed from the given proxy-config results."""
    facts = base.passing_facts()
    host = {"host": HOST, "port": 443, "url": "https://httpbin.org/get"}
    if address:
        host["address"] = address
    facts["settings"]["hosts"] = [host]
    facts["preconditions"]["gateways"][0]["spec"]["servers"][0]["hosts"] = [HOST]
    for key in ("calls", "gateway_log", "blocking", "l3"):
        facts.pop(key)
    facts["settings"]["data_plane"] = False
    if gateway is None:
        gateway = result(es.load_generated(es.GEN_GATEWAY))
    facts["routing"] = {"client": base.loop({HOST: client}), "gateway": base.loop({HOST: gateway})}
    return facts


def routing(facts):
    return base.check_row(vr.build_report(facts), "routing")


def vip_dump(vip_cluster, wildcard_cluster):
    """SYNTHETIC from the REAL generated sidecar: an auto-allocated VIP listener 240.240.0.1_443 (Istio's DNS
    proxy address) with an SNI chain for httpbin.org, next to the real 0.0.0.0_443 chain."""
    dump = es.load_generated()
    es.sni_chain_of(dump)["filters"][-1]["typed_config"]["cluster"] = wildcard_cluster
    es.add_listener(dump, "240.240.0.1", 443, [es.sni_chain([HOST], vip_cluster)])
    return es.note(dump, "SYNTHETIC: VIP listener 240.240.0.1_443 -> %s, 0.0.0.0_443 -> %s"
                   % (vip_cluster, wildcard_cluster))


def test_real_generated_dumps_pass_on_their_one_path():
    """REAL: one path (0.0.0.0_443), no assumptions: proved."""
    client = result(es.load_generated())
    assert [p["listener"] for p in client["destination"]["paths"]] == ["0.0.0.0_443"]
    assert client["destination"]["assumptions"] == []
    row = routing(facts_for(client))
    assert row["verdict"] == vr.PASS, row["actual"]
    assert "hop 1 httpbin.org -> %s" % HOP1 in row["actual"]


def test_a_second_path_that_bypasses_fails():
    """SYNTHETIC: VIP listener -> the gateway, 0.0.0.0_443 -> outbound|443||httpbin.org (direct).
    Before: pass (the reported VIP path goes to the gateway). Now: fail, the bypassing path as evidence."""
    client = result(vip_dump(HOP1, HOP2))
    d = client["destination"]
    assert d["via_egress_gateway"] is True and d["listener"] == "240.240.0.1_443"
    row = routing(facts_for(client))
    assert row["verdict"] == vr.FAIL
    assert "a path bypasses the egress gateway" in row["actual"] and "0.0.0.0_443" in row["actual"]
    assert any("2 listener paths" in e for e in row["evidence"])
    assert row["details"]["hop1"] == vr.FAIL
    diag = [d for d in vr.build_report(facts_for(client))["diagnosis"] if d["id"] == "hop1_not_matched"]
    assert diag and diag[0]["symptom"].startswith(
        "the client sidecar sends httpbin.org:443 to the egress gateway on 240.240.0.1_443 but to %s on "
        "0.0.0.0_443" % HOP2), diag


def test_a_second_path_to_passthrough_fails():
    """SYNTHETIC: VIP listener -> the gateway, and the real 0.0.0.0_443 chain removed, so any other address
    falls to the PassthroughFilterChain (ALLOW_ANY). Before: pass. Now: fail naming PassthroughCluster."""
    dump = vip_dump(HOP1, HOP1)
    lst = es.listener(dump, "0.0.0.0_443")
    lst["filter_chains"] = [ch for ch in lst["filter_chains"]
                            if HOST not in ch.get("filter_chain_match", {}).get("server_names", [])]
    es.set_catch_all(dump, passthrough_443="PassthroughCluster")
    es.note(dump, "SYNTHETIC: httpbin.org chain removed from 0.0.0.0_443; its default chain -> PassthroughCluster")
    client = result(dump)
    assert client["destination"]["via_egress_gateway"] is True
    row = routing(facts_for(client))
    assert row["verdict"] == vr.FAIL
    assert "bypasses the egress gateway" in row["actual"] and "PassthroughCluster" in row["actual"]


def test_every_path_via_the_gateway_passes():
    """SYNTHETIC: VIP listener and 0.0.0.0_443 both -> the gateway: proved for every address."""
    row = routing(facts_for(result(vip_dump(HOP1, HOP1))))
    assert row["verdict"] == vr.PASS, row["actual"]
    assert "(all 2 listener paths)" in row["actual"]


def _alpn_dump():
    """SYNTHETIC: the real httpbin.org chain restricted to ALPN h2/http/1.1 (what curl offers)."""
    return es.restrict_sni_chain(es.load_generated(), "for ALPN h2, http/1.1 only",
                                 application_protocols=["h2", "http/1.1"])


def test_assumptions_make_it_not_run():
    """SYNTHETIC ALPN-restricted chain: the call reaches the gateway only if the client offers h2 or
    http/1.1, which the dump cannot tell. Before: pass. Now: not run, the assumption as the reason."""
    client = result(_alpn_dump())
    d = client["destination"]
    assert d["via_egress_gateway"] is True and d["assumptions"]
    row = routing(facts_for(client))
    assert row["verdict"] == vr.NOT_RUN
    assert "followed under assumptions" in row["reason"] and "ALPN" in row["reason"]
    assert "egress_verify_hosts[].address" in row["reason"]
    assert vr.build_report(facts_for(client))["verdict"] != "proved"


def _prefix_dump():
    """SYNTHETIC: a second httpbin.org chain on 0.0.0.0_443, for 10.96.0.0/16 only, sending it direct;
    the real unrestricted chain still goes to the gateway."""
    dump = es.load_generated()
    chain = es.sni_chain([HOST], HOP2)
    chain["filter_chain_match"]["prefix_ranges"] = [{"address_prefix": "10.96.0.0", "prefix_len": 16}]
    es.listener(dump, "0.0.0.0_443")["filter_chains"].append(chain)
    return es.note(dump, "SYNTHETIC: 0.0.0.0_443 + chain SNI httpbin.org for 10.96.0.0/16 -> %s" % HOP2)


def test_unknown_destination_address_is_not_run_and_the_address_removes_it():
    """SYNTHETIC prefix-range chain. Without the host's address the dump cannot tell which chain takes the
    call. Before: pass. Now: not run; with the role's address fact outside the range: pass; inside: fail."""
    dump = _prefix_dump()
    client = result(copy.deepcopy(dump))
    assert client["destination"]["via_egress_gateway"] is True
    assert client["destination"]["assumptions"]
    row = routing(facts_for(client))
    assert row["verdict"] == vr.NOT_RUN and "destination address is not known" in row["reason"]

    outside = result(copy.deepcopy(dump), address="93.184.216.34")
    assert outside["destination"]["assumptions"] == []
    row = routing(facts_for(outside, address="93.184.216.34"))
    assert row["verdict"] == vr.PASS, row["actual"]

    inside = result(copy.deepcopy(dump), address="10.96.3.4")
    row = routing(facts_for(inside, address="10.96.3.4"))
    assert row["verdict"] == vr.FAIL and HOP2 in row["actual"]


def test_a_result_without_paths_is_not_run():
    """SYNTHETIC: a REAL result with destination.paths removed (what an older istio_proxy_config returned).
    Before: pass. Now: not run (a bypass on another address cannot be ruled out)."""
    client = result(es.load_generated())
    del client["destination"]["paths"]
    row = routing(facts_for(client))
    assert row["verdict"] == vr.NOT_RUN and "destination.paths" in row["reason"]


def test_as_many_paths_as_the_module_returns_is_not_run():
    """SYNTHETIC: the REAL result's one path repeated 5 times, the module's cap: more may exist."""
    client = result(es.load_generated())
    client["destination"]["paths"] = client["destination"]["paths"] * 5
    row = routing(facts_for(client))
    assert row["verdict"] == vr.NOT_RUN and "at most 5 listener paths" in row["reason"]


def test_gateway_assumptions_make_hop2_not_run():
    """SYNTHETIC: the REAL gateway result with an assumption added (the shape the module returns).
    Before: pass. Now: hop 2 not run."""
    gateway = result(es.load_generated(es.GEN_GATEWAY))
    gateway["destination"]["assumptions"] = ["the client's source port is not known: taken to be none of 5000"]
    row = routing(facts_for(result(es.load_generated()), gateway=gateway))
    assert row["verdict"] == vr.NOT_RUN and "gateway's config was followed under assumptions" in row["reason"]
    assert row["details"]["hop2"] == vr.NOT_RUN and row["details"]["hop1"] == vr.PASS
