# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report under attack (issue 10, issue 16.3-16.4): no false pass, no traceback.

Each test shows a case the report used to pass (or crash on) that now fails or
is not_run, next to the legitimate case that still passes. The facts are those
of test_verify_report.py (real module outputs on real fixtures, the contract
fields and Kubernetes objects labelled SYNTHETIC there); each mutation below is
SYNTHETIC and says what it stands for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os

import envoy_synthetic as es
import pytest
import test_verify_report as base

from ansible_collections.homelab.istio_egress.plugins.module_utils import verify_report as vr
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_diagnosis import RULE_IDS
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_parse import (
    parse_analyze,
    parse_curl_output,
    parse_istioctl_version,
)

HOST, GW_A, GW_B, CLIENT = base.HOST, base.GW_A, base.GW_B, base.CLIENT
passing_facts, log_result, loop, proxy_result = base.passing_facts, base.log_result, base.loop, base.proxy_result
check_row, diag_ids = base.check_row, base.diag_ids


def verdict(facts, check_id):
    return check_row(vr.build_report(facts), check_id)["verdict"]


def test_the_legitimate_run_still_proves():
    report = vr.build_report(passing_facts())
    assert report["verdict"] == "proved" and report["passed"] is True, report["summary"]


# ---------------------------------------------------------------- check 7: blocking

def test_blocking_needs_the_gateway_log():
    facts = passing_facts()
    facts["blocking"]["gateway_log"] = None  # the absence read was skipped
    row = check_row(vr.build_report(facts), "blocking")
    assert row["verdict"] == vr.NOT_RUN and "gateway log was not read" in row["reason"]


def test_blocking_needs_a_complete_log_read():
    facts = passing_facts()
    facts["blocking"]["gateway_log"]["complete"] = False  # SYNTHETIC: a pod's log was cut at max_bytes
    facts["blocking"]["gateway_log"]["reason"] = "pod x: read stopped at max_bytes"
    row = check_row(vr.build_report(facts), "blocking")
    assert row["verdict"] == vr.NOT_RUN and "not read in full" in row["reason"]
    # the old result shape has no 'complete' at all: unknown, not pass
    facts["blocking"]["gateway_log"] = log_result({GW_A: base.GW_LOG_2024}, host="example.com", expect="absent",
                                                  contract=False)
    assert verdict(facts, "blocking") == vr.NOT_RUN


def test_blocking_needs_the_client_config():
    facts = passing_facts()
    facts["blocking"]["client_config"] = None
    assert verdict(facts, "blocking") == vr.NOT_RUN


def test_blocking_dns_failure_is_not_registry_only():
    facts = passing_facts()
    # SYNTHETIC curl output: the name did not resolve (exit 6), curl prints 000 too
    facts["blocking"]["call"] = {"stdout": "egress_verify_call=0 try=0 code=000 exit=6\n", "rc": 6,
                                 "stderr": "curl: (6) Could not resolve host: example.com"}
    report = vr.build_report(facts)
    row = check_row(report, "blocking")
    assert row["verdict"] == vr.NOT_RUN and "did not resolve" in row["reason"]
    assert "unregistered_host_dns" in diag_ids(report)
    # the legitimate reset (exit 35) in the new attempt format passes
    facts["blocking"]["call"] = {"stdout": "egress_verify_call=0 try=0 code=000 exit=35\n", "rc": 35}
    assert verdict(facts, "blocking") == vr.PASS


def test_blocking_fails_when_the_gateway_logged_the_host():
    facts = passing_facts()
    # the real log has a line for edition.cnn.com: offered as the "unregistered" host's
    facts["settings"]["unregistered"] = {"host": HOST, "url": "https://%s" % HOST}
    facts["blocking"]["gateway_log"] = log_result({GW_A: base.GW_LOG_2024}, expect="absent")
    facts["blocking"]["client_config"] = proxy_result(base.client_dump(), host="example.com")
    row = check_row(vr.build_report(facts), "blocking")
    assert row["verdict"] == vr.FAIL and "the gateway logged 1 entries" in row["actual"]


def test_blocking_fails_when_the_client_sends_the_host_to_passthrough():
    facts = passing_facts()
    cfg = facts["blocking"]["client_config"]
    # the legitimate case: on the istiod-generated dump the unregistered SNI matches no chain of
    # 0.0.0.0_443 (Envoy closes the connection: no route)
    assert cfg["destination"]["matched"] is False and cfg["destination"]["cluster"] is None
    assert verdict(facts, "blocking") == vr.PASS
    cfg["destination"]["cluster"] = "PassthroughCluster"  # SYNTHETIC: a catch-all chain the policy evidence missed
    row = check_row(vr.build_report(facts), "blocking")
    assert row["verdict"] == vr.FAIL and "PassthroughCluster" in row["actual"]


def test_blocking_mixed_policy_fails():
    facts = passing_facts()
    facts["blocking"]["client_config"]["outbound_traffic_policy"]["mode"] = "mixed"  # SYNTHETIC (new contract)
    assert verdict(facts, "blocking") == vr.FAIL


# ---------------------------------------------------------------- check 5: gateway log

def _two_replicas(facts, ready_a=True, ready_b=True):
    facts["preconditions"]["gateway_pods"] = [base.pod(GW_A, "istio-system", {"istio": "egressgateway"},
                                                       ["istio-proxy"], ready=ready_a),
                                              base.pod(GW_B, "istio-system", {"istio": "egressgateway"},
                                                       ["istio-proxy"], ready=ready_b)]


def test_entries_only_from_a_non_ready_replica_do_not_count():
    """The exact old slip: no Ready replica logged the host, yet the check passed."""
    facts = passing_facts()
    _two_replicas(facts, ready_a=False, ready_b=True)
    facts["gateway_log"] = loop({HOST: log_result({GW_A: base.GW_LOG_2024, GW_B: ""})})
    row = check_row(vr.build_report(facts), "gateway_log")
    assert row["verdict"] == vr.FAIL
    assert "0 gateway-hop entries" in row["actual"]
    assert any("%s do not count" % GW_A in e for e in row["evidence"])
    # legitimate: the Ready replica logged it
    facts["gateway_log"] = loop({HOST: log_result({GW_A: "", GW_B: base.GW_LOG_2024})})
    assert verdict(facts, "gateway_log") == vr.PASS


def test_entries_from_an_unknown_pod_do_not_count():
    facts = passing_facts()
    facts["gateway_log"] = loop({HOST: log_result({"some-other-pod": base.GW_LOG_2024, GW_A: ""})})
    assert verdict(facts, "gateway_log") == vr.FAIL


def test_entries_must_come_from_the_client_pod_ip():
    facts = passing_facts()
    facts["preconditions"]["client_pods"][0]["status"]["podIP"] = "10.233.64.99"  # another pod made the call
    row = check_row(vr.build_report(facts), "gateway_log")
    assert row["verdict"] == vr.FAIL and "not the client 10.233.64.99" in " ".join(row["evidence"])


@pytest.mark.parametrize("hop", ["client", "sidecar_direct", "passthrough", "inbound", "unknown"])
def test_only_the_gateway_hop_counts(hop):
    facts = passing_facts()
    facts["gateway_log"] = loop({HOST: log_result({GW_A: base.GW_LOG_2024}, hop=hop)})
    row = check_row(vr.build_report(facts), "gateway_log")
    assert row["verdict"] == vr.FAIL and "hop %s" % hop in " ".join(row["evidence"])


def test_old_log_result_without_hops_is_unknown():
    facts = passing_facts()
    facts["gateway_log"] = loop({HOST: log_result({GW_A: base.GW_LOG_2024}, contract=False)})
    row = check_row(vr.build_report(facts), "gateway_log")
    assert row["verdict"] == vr.NOT_RUN and "entries[].hop" in row["reason"]


def test_a_ready_replica_that_could_not_be_read_fails():
    facts = passing_facts()
    _two_replicas(facts)
    res = log_result({GW_A: base.GW_LOG_2024, GW_B: ""})
    res["pods"][GW_B].update(read=False, error="the log read answered 400")  # SYNTHETIC (issue 12 per-pod facts)
    facts["gateway_log"] = loop({HOST: res})
    row = check_row(vr.build_report(facts), "gateway_log")
    assert row["verdict"] == vr.FAIL and "could not be read: the log read answered 400" in row["actual"]


def test_truncated_entries_with_a_wrong_hop_fail():
    facts = passing_facts()
    res = log_result({GW_A: base.GW_LOG_2024}, hop="sidecar_direct")
    res["count"] = 40  # SYNTHETIC: more entries than shown (max_entries)
    res["pods"][GW_A]["matches"] = 40
    facts["gateway_log"] = loop({HOST: res})
    row = check_row(vr.build_report(facts), "gateway_log")
    assert row["verdict"] == vr.FAIL and "do not prove the gateway hop" in row["actual"]


# ---------------------------------------------------------------- check 6: routing hop 2

def test_a_sidecar_dump_offered_as_the_gateway_fails():
    facts = passing_facts()
    facts["preconditions"]["gateway_service"] = base.gateway_service(target_port=443)
    # SYNTHETIC: a client sidecar whose SNI chain goes straight to the hop-2 cluster, on 0.0.0.0_443
    sidecar = es.sidecar_via_gateway(cluster=base.HOP2, base=es.SIDECAR_ALLOW_ANY, server_names=(HOST,))
    facts["routing"]["gateway"] = loop({HOST: proxy_result(sidecar)})
    report = vr.build_report(facts)
    row = check_row(report, "routing")
    assert row["verdict"] == vr.FAIL and "is a sidecar's" in row["actual"]
    assert "gateway_dump_not_router" in diag_ids(report)


def test_hop2_chain_on_a_listener_the_service_does_not_target_fails():
    facts = passing_facts()
    facts["preconditions"]["gateway_service"] = base.gateway_service(target_port=443)  # chain is on 8443
    report = vr.build_report(facts)
    row = check_row(report, "routing")
    assert row["verdict"] == vr.FAIL and "targets 443" in row["actual"]
    assert "hop2_listener_mismatch" in diag_ids(report)
    # a named targetPort resolved through the gateway pod's container port (tls -> 8443) passes
    facts["preconditions"]["gateway_service"] = base.gateway_service(target_port="tls")
    assert verdict(facts, "routing") == vr.PASS


def test_hop2_without_the_gateway_service_is_not_run():
    facts = passing_facts()
    del facts["preconditions"]["gateway_service"]
    row = check_row(vr.build_report(facts), "routing")
    assert row["verdict"] == vr.NOT_RUN and "gateway Service was not read" in row["reason"]


def test_hop2_cluster_found_unknown_is_not_run():
    facts = passing_facts()
    res = facts["routing"]["gateway"]["results"][0]
    res["destination"]["cluster_found"] = None  # SYNTHETIC (new contract): no clusters section
    res["clusters"] = []
    row = check_row(vr.build_report(facts), "routing")
    assert row["verdict"] == vr.NOT_RUN and "cannot tell whether cluster" in row["reason"]


def test_hop2_unknown_proxy_type_is_not_run():
    facts = passing_facts()
    facts["routing"]["gateway"]["results"][0]["proxy"]["type"] = "unknown"
    assert verdict(facts, "routing") == vr.NOT_RUN


# ---------------------------------------------------------------- checks 2 and 3

def test_a_stale_replica_not_in_the_pod_list_fails_xds():
    facts = passing_facts()
    status = json.loads(facts["xds"]["stdout"])
    stale = copy.deepcopy(status["resources"][0])
    stale["node"]["id"] = "%s.istio-system" % GW_B  # a second gateway replica istiod knows
    stale["genericXdsConfigs"][0]["configStatus"] = "STALE"
    status["resources"].append(stale)
    facts["xds"]["stdout"] = json.dumps(status)
    row = check_row(vr.build_report(facts), "xds_sync")
    assert row["verdict"] == vr.FAIL and GW_B in row["actual"] and "STALE" in row["actual"]


def test_a_proxy_listed_twice_must_be_synced_in_both():
    facts = passing_facts()
    status = json.loads(facts["xds"]["stdout"])
    dup = copy.deepcopy(status["resources"][0])
    dup["genericXdsConfigs"][1]["configStatus"] = "STALE"
    status["resources"].append(dup)
    facts["xds"]["stdout"] = json.dumps(status)
    assert verdict(facts, "xds_sync") == vr.FAIL


def test_analyze_with_colour_codes_is_parsed():
    real = base._read("istioio-analyze-errors-ist0101-v1.12.txt")
    coloured = real.replace("Error [", "\x1b[31mError\x1b[0m [")  # what istioctl prints to a terminal
    assert coloured != real
    assert [m["code"] for m in parse_analyze(coloured)["messages"]] == ["IST0101", "IST0101"]
    facts = passing_facts()
    facts["analyze"][0] = {"item": "mesh-test", "stdout": coloured, "stderr": ""}  # no rc recorded
    assert verdict(facts, "analyze") == vr.FAIL


@pytest.mark.parametrize("run", [
    {"item": "mesh-test", "stdout": "", "stderr": ""},  # nothing, no exit status
    {"item": "mesh-test", "stdout": "", "stderr": "", "rc": 0},  # nothing at all
    {"item": "mesh-test", "stdout": "\n\n", "stderr": "\n"},  # empty lines
    {"item": "mesh-test", "stdout": None, "stderr": None, "rc": None},
])
def test_analyze_without_output_is_not_run(run):
    facts = passing_facts()
    facts["analyze"][0] = run
    assert verdict(facts, "analyze") == vr.NOT_RUN


def test_istioctl_of_another_minor_makes_2_and_3_not_run():
    facts = passing_facts()
    facts["run"]["istioctl_version"] = "client version: 1.29.2"  # SYNTHETIC
    facts["istiod"] = {"images": ["docker.io/istio/pilot:1.30.0-distroless"]}  # SYNTHETIC
    report = vr.build_report(facts)
    for check in ("xds_sync", "analyze"):
        row = check_row(report, check)
        assert row["verdict"] == vr.NOT_RUN and "1.29.2 is not istiod's minor version 1.30.0" in row["reason"]
        assert "egress_verify_istioctl" in row["reason"]
    assert "istioctl_version_skew" in diag_ids(report)
    # same minor: runs
    facts["run"]["istioctl_version"] = "1.30.1"
    assert verdict(facts, "analyze") == vr.PASS and verdict(facts, "xds_sync") == vr.PASS
    # istiod's version from the injector's values when istiod runs outside a pod (the local plane)
    facts["run"]["istioctl_version"] = "client version: 1.29.0"
    facts["istiod"] = {"images": [], "injector_values": json.dumps({"global": {"tag": "1.30.0"}})}
    assert verdict(facts, "analyze") == vr.NOT_RUN
    # unknown version (unstamped build): not decided, noted
    facts["run"]["istioctl_version"] = "client version: unknown"
    row = check_row(vr.build_report(facts), "analyze")
    assert row["verdict"] == vr.PASS and any("not checked" in e for e in row["evidence"])


def test_parse_istioctl_version():
    assert parse_istioctl_version("client version: 1.30.0\n") == "1.30.0"
    assert parse_istioctl_version("1.30.2") == "1.30.2"
    assert parse_istioctl_version("client version: unknown") is None
    assert parse_istioctl_version(None) is None


# ---------------------------------------------------------------- check 4: calls and retries

def test_retried_calls_are_counted_and_reported():
    facts = passing_facts()
    # SYNTHETIC output of tasks/call.yml (the loop itself is run for real in tests/unit/roles/test_call_retries.py)
    facts["calls"][HOST] = {"url": base.URL, "rc": 0, "stderr": "curl: (35) Recv failure",
                            "stdout": "egress_verify_call=0 try=0 code=000 exit=35\n"
                                      "egress_verify_call=0 try=1 code=200 exit=0\n"}
    facts["settings"]["call_retries"] = 2
    row = check_row(vr.build_report(facts), "call")
    assert row["verdict"] == vr.PASS and "(1 retry in 1 call)" in row["actual"]
    assert row["details"]["retries"] == {HOST: [1]}
    assert any("call 1: 2 tries: 000/exit 35, 200/exit 0" in e for e in row["evidence"])


def test_a_failure_after_the_retry_bound_stays_a_failure():
    facts = passing_facts()
    facts["calls"][HOST] = {"rc": 56, "stdout": "egress_verify_call=0 try=0 code=000 exit=56\n"
                                                "egress_verify_call=0 try=1 code=000 exit=56\n"}
    assert verdict(facts, "call") == vr.FAIL


def test_a_200_with_a_curl_error_is_not_a_good_call():
    facts = passing_facts()
    facts["calls"][HOST] = {"rc": 28, "stdout": "egress_verify_call=0 try=0 code=200 exit=28\n"}  # body timed out
    assert verdict(facts, "call") == vr.FAIL


def test_fewer_calls_than_asked_fail():
    facts = passing_facts()
    facts["settings"]["calls"] = 2
    facts["calls"][HOST] = {"rc": 0, "stdout": "egress_verify_call=0 try=0 code=200 exit=0\n"}
    assert verdict(facts, "call") == vr.FAIL


def test_parse_curl_output_shapes():
    assert parse_curl_output({"stdout": "200\n200\n", "rc": 0})["codes"] == ["200", "200"]
    assert parse_curl_output({"codes": ["000"], "rc": 35})["calls"][0]["exit"] == 35
    assert parse_curl_output(None)["format"] == "none"
    assert parse_curl_output({"stdout": ["egress_verify_call=0 try=0 code= exit=127"]})["codes"] == ["000"]


# ---------------------------------------------------------------- no input shape crashes

def test_empty_stderr_lines_do_not_crash():
    """Old crash: stderr '\\n' -> ''.splitlines()[-1] -> IndexError (a traceback through the module)."""
    facts = passing_facts()
    facts["calls"][HOST]["stderr"] = "\n\n"
    facts["xds"] = {"rc": 1, "stdout": "", "stderr": "\n"}
    facts["l3"]["direct"]["stderr"] = "\n"
    facts["analyze"][0] = {"item": "mesh-test", "rc": 2, "stdout": "\n", "stderr": "\n"}
    report = vr.build_report(facts)
    assert check_row(report, "xds_sync")["actual"] == "istioctl proxy-status failed (rc 1): no output"


ODD_VALUES = (None, "", [], {}, "x", [None], {"a": None}, True, "\n", -1)


def _paths(value, prefix=(), depth=0):
    yield prefix
    if depth >= 6:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,), depth + 1)
    elif isinstance(value, list) and value:
        yield from _paths(value[0], prefix + (0,), depth + 1)


def _with(obj, path, value):
    """A copy of obj with the value at path replaced; only the containers on the path are copied."""
    if not path:
        return value
    head = path[0]
    if isinstance(obj, dict):
        out = dict(obj)
    else:
        out = list(obj)
    out[head] = _with(obj[head], path[1:], value)
    return out


def test_no_input_shape_crashes():
    """Every value of the facts (to depth 6) replaced by each odd value: a report or one sentence, never a traceback."""
    facts = passing_facts()
    # inside the proxy-config results, the listener/cluster/route lists are mutated whole, not entry by entry
    big = ("listeners", "clusters", "routes", "config_types")
    paths = [p for p in _paths(facts) if p and not any(k in big for k in p[:-1])]
    assert len(paths) > 100
    for path in paths:
        for odd in ODD_VALUES:
            mutated = _with(facts, path, odd)
            try:
                report = vr.build_report(mutated)
            except vr.VerifyReportError as exc:
                assert str(exc) and "\n" not in str(exc), (path, odd)
                continue
            assert report["verdict"] in ("proved", "failed", "incomplete"), (path, odd)
            vr.render_markdown(report)
            vr.render_junit(report)
            if odd is None:  # report.json is large: rendered once per path
                vr.render_json(report)


# ---------------------------------------------------------------- leaks (issue 12)

def test_report_json_keeps_no_env_value_or_annotation():
    facts = passing_facts()
    secret = "sk_live_51HxYzSyntheticTestSecret0000"  # SYNTHETIC
    client = facts["preconditions"]["client_pods"][0]
    client["spec"]["containers"][0]["env"] = [{"name": "STRIPE_KEY", "value": secret}]
    client["spec"]["containers"][0]["args"] = ["--token=%s" % secret]
    client["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": secret}
    facts["preconditions"]["gateways"][0]["metadata"]["annotations"] = {"note": secret}
    report = vr.build_report(facts)
    for text in (vr.render_json(report), vr.render_markdown(report), vr.render_junit(report)):
        assert secret not in text
    kept = report["facts"]["preconditions"]["client_pods"][0]
    assert kept["name"] == CLIENT and kept["labels"] == {"app": "sleep"}
    assert kept["images"]["istio-proxy"] == "docker.io/istio/proxyv2:1.30.0"
    assert kept["container_statuses"]["sleep"]["ready"] is True


# ---------------------------------------------------------------- the verdict fields

@pytest.mark.parametrize("mutate, verdict_, passed, complete, no_failures", [
    (lambda f: None, "proved", True, True, True),
    (lambda f: f["settings"].update(calico=False), "incomplete", False, False, True),
    (lambda f: f["l3"].update(direct={"codes": ["200"], "rc": 0}), "failed", False, True, False),
    (lambda f: (f["settings"].update(calico=False), f["l3"].update(direct={"codes": ["200"]}),
                f["calls"][HOST].update(codes=["503"])), "failed", False, False, False),
])
def test_verdict_fields(mutate, verdict_, passed, complete, no_failures):
    facts = passing_facts()
    mutate(facts)
    report = vr.build_report(facts)
    assert (report["verdict"], report["passed"], report["complete"], report["no_failures"]) == (
        verdict_, passed, complete, no_failures)
    assert report["failures"] == report["counts"]["fail"]


def test_every_diagnosis_rule_is_documented():
    doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "docs", "egress_verify.md")
    with open(doc) as f:
        text = f.read()
    missing = [rule for rule in RULE_IDS if "`%s`" % rule not in text]
    assert not missing, "rules not listed in docs/egress_verify.md: %s" % missing
