# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The egress_verify decision logic on recorded facts.

Where the facts come from, per kind (nothing hand-typed pretends to be real):

* gateway access-log results: produced by the REAL pure function behind
  egress_log_assert (access_log.assess) run on REAL logs (fixtures/verify/);
* proxy-config results: produced by the REAL pure function behind
  istio_proxy_config (envoy_config.analyse_config_dump) on REAL dumps
  (fixtures/config_dumps/), or on SYNTHETIC dumps built from them by
  envoy_synthetic.py where this project's SNI route is needed (no public real
  dump has it);
* istioctl output: REAL golden output / doc transcripts (fixtures/verify/);
  the all-SYNCED proxy-status is SYNTHETIC, derived from the real one;
* Pod / Gateway / DestinationRule objects and curl status codes: SYNTHETIC,
  hand-built in the shape of the Kubernetes API (marked SYNTHETIC below).

The host is edition.cnn.com because the one real TLS-passthrough line of an
egress gateway in the fixtures is for that host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import xml.etree.ElementTree as ET

import envoy_synthetic as es
import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils import access_log, envoy_config
from ansible_collections.homelab.istio_egress.plugins.module_utils import verify_report as vr

HERE = os.path.dirname(os.path.abspath(__file__))
VERIFY = os.path.join(HERE, "fixtures", "verify")
GW_LOG_2024 = os.path.join(VERIFY, "istioio-egress-gateway-snips-2024.log")
UF_LOG = os.path.join(VERIFY, "gh-istio-56356-sidecar-uf-urx-inboundpassthrough.log")

HOST = "edition.cnn.com"
URL = "https://edition.cnn.com/politics"
HOP1 = "outbound|443|cnn|%s" % es.GW
HOP2 = "outbound|443||%s" % HOST
GW_A = "istio-egressgateway-7d4f8b6c9-abcde"
GW_B = "istio-egressgateway-7d4f8b6c9-fghij"
CLIENT = "sleep-5c7f9d8b6-qrstu"
# The real TLS passthrough line is at 2024-01-11T21:09:42.835Z.
PROBE_BEFORE = "2024-01-11T21:09:00Z"
PROBE_AFTER = "2024-01-12T00:00:00Z"


def _read(name):
    with open(os.path.join(VERIFY, name)) as f:
        return f.read()


# ---------------------------------------------------------------- real pure functions -> module results

def log_result(pods, host=HOST, port=443, since=PROBE_BEFORE, min_count=1, expect="present", hop="gateway",
               contract=True):
    """What egress_log_assert returns: access_log.assess over {pod: path or ''}.

    With ``contract`` (default) the result also carries the fields of the new
    egress_log_assert contract (issue 10): ``entries[].hop``, per-pod
    ``read``/``ready``/``complete`` and a top-level ``complete``. Those are
    SYNTHETIC labels here (every entry gets ``hop``; every pod was read in
    full) until the hop classification of access_log.py is merged; the entries
    themselves stay the real parsed lines. ``contract=False`` is the old shape.
    """
    sources = []
    for pod, path in pods.items():
        text = ""
        if path:
            with open(path) as f:
                text = f.read()
        sources.append((pod, access_log.text_blocks(text, label=pod)))
    facts = access_log.assess(sources, host, port=port, expect=expect, min_count=min_count,
                              since_time=since, allow_empty=True)
    facts["changed"] = False
    if not facts["passed"]:
        facts["failed"] = True  # the module fails with its facts when the expectation fails
    if contract:
        # Once access_log.py classifies hops itself, its own values are kept (setdefault);
        # a test that asks for another hop overrides them.
        for entry in facts["entries"]:
            if hop != "gateway":
                entry["hop"] = hop  # SYNTHETIC (contract field)
            else:
                entry.setdefault("hop", hop)  # SYNTHETIC until merged
        for stats in facts["pods"].values():
            for key, value in (("read", True), ("ready", True), ("complete", True), ("phase", "Running"),
                               ("error", None)):
                stats.setdefault(key, value)  # SYNTHETIC until merged
        facts.setdefault("complete", True)  # SYNTHETIC: every pod read in full
    else:
        # The shape of the module before issue 10: no hop, no per-pod read facts, no completeness.
        for entry in facts["entries"]:
            entry.pop("hop", None)
        for stats in facts["pods"].values():
            for key in ("read", "ready", "complete", "phase", "error"):
                stats.pop(key, None)
        for key in ("complete", "reason"):
            facts.pop(key, None)
    return facts


def proxy_result(dump, host=HOST, port=443):
    """What istio_proxy_config returns: envoy_config.analyse_config_dump."""
    facts = envoy_config.analyse_config_dump(dump, host=host, port=port)
    facts["changed"] = False
    return facts


def loop(results, key="host"):
    """Shape a {host: result} dict like a registered loop (results[].item.host)."""
    return {"results": [dict(res, item={"host": h, "port": 443}) for h, res in results.items()]}


# ---------------------------------------------------------------- SYNTHETIC dumps from real ones

def client_dump(via_gateway=True, registry_only=True, define_hop1_cluster=True):
    if via_gateway:
        dump = es.sidecar_via_gateway(cluster=HOP1, base=es.SIDECAR_ALLOW_ANY, server_names=(HOST,),
                                      define_clusters=define_hop1_cluster)
    else:
        dump = es.load_real(es.SIDECAR_ALLOW_ANY)  # REAL: no SNI route for the host, ALLOW_ANY
    if registry_only:
        es.modern_virtual_outbound(dump, "BlackHoleCluster")
    return dump


def gateway_dump(hop2=True):
    dump = es.load_real(es.INGRESS_ROUTER)  # REAL router dump (istio 1.3.0 ingress gateway)
    if hop2:
        es.add_listener(dump, "0.0.0.0", 8443, [es.sni_chain([HOST], HOP2)])
        es.add_cluster(dump, HOP2, "STRICT_DNS")
        es.note(dump, "SYNTHETIC: listener 0.0.0.0_8443 chain SNI %s -> %s" % (HOST, HOP2))
    return dump


# ---------------------------------------------------------------- SYNTHETIC Kubernetes objects

def pod(name, namespace, labels, containers, ready=True, native_sidecar=False):
    """SYNTHETIC Pod in the shape k8s_info returns."""
    init = []
    if native_sidecar:
        init = [{"name": "istio-proxy", "restartPolicy": "Always"}]
    statuses = [{"name": c, "ready": ready} for c in containers]
    ports = [{"name": "tls", "containerPort": 8443}] if "istio-proxy" in containers and not native_sidecar else []
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": c, "image": "docker.io/istio/proxyv2:1.30.0" if c == "istio-proxy"
                                 else "curlimages/curl:8.10.1", "ports": ports if c == "istio-proxy" else []}
                                for c in containers], "initContainers": init},
        # The client's IP is the downstream remote address of the real gateway line
        # (172.30.239.15:43956 in istioio-egress-gateway-snips-2024.log).
        "status": {"phase": "Running", "podIP": "172.30.239.15" if name == CLIENT else "172.30.239.8",
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                   "containerStatuses": statuses,
                   "initContainerStatuses": [{"name": "istio-proxy", "ready": ready}] if native_sidecar else []},
    }


def gateway_pod(name=GW_A, labels=None):
    return pod(name, "istio-system", labels or {"app": "istio-egressgateway", "istio": "egressgateway"},
               ["istio-proxy"])


def gateway_obj(selector=None, namespace="mesh-test"):
    """SYNTHETIC networking.istio.io/v1 Gateway (guide 6.2)."""
    return {"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
            "metadata": {"name": "istio-egressgateway", "namespace": namespace},
            "spec": {"selector": selector or {"istio": "egressgateway"},
                     "servers": [{"port": {"number": 443, "name": "tls", "protocol": "TLS"},
                                  "hosts": [HOST], "tls": {"mode": "PASSTHROUGH"}}]}}


def dr_obj(namespace="mesh-test"):
    """SYNTHETIC DestinationRule (guide 6.3)."""
    return {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": "egressgateway-for-cnn", "namespace": namespace},
            "spec": {"host": es.GW, "subsets": [{"name": "cnn"}]}}


def gateway_service(target_port=8443):
    """SYNTHETIC Service of the gateway chart: port 443 -> targetPort (the chart maps 443 to 8443 here,
    as on the local plane, where istiod put the hop-2 chain on listener 0.0.0.0_8443)."""
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "istio-egressgateway", "namespace": "istio-system"},
            "spec": {"ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": target_port}]}}


def synced_proxy_status(pods):
    """SYNTHETIC: the REAL proxy-status JSON with its one proxy cloned per pod, every type SYNCED."""
    real = json.loads(_read("istio-master-proxy-status-single.json"))
    template = real["resources"][0]
    real["resources"] = []
    for name, ns in pods:
        res = copy.deepcopy(template)
        res["node"]["id"] = "%s.%s" % (name, ns)
        for cfg in res["genericXdsConfigs"]:
            cfg["configStatus"] = "SYNCED"
        real["resources"].append(res)
    return json.dumps(real)


# ---------------------------------------------------------------- the passing scenario

def passing_facts():
    return {
        "run": {"started": "2024-01-11T21:08:30Z", "probe_started": PROBE_BEFORE},
        "settings": {
            "hosts": [{"host": HOST, "port": 443, "url": URL}],
            "calls": 1,  # the real log has one TLS passthrough line for the host
            "data_plane": True,
            "istioctl": "/usr/local/bin/istioctl",
            "registry_only": True,
            "calico": True,
            "gateway": {"namespace": "istio-system", "selector": "istio=egressgateway",
                        "service": "istio-egressgateway"},
            "client": {"namespace": "mesh-test", "selector": "app=sleep", "deployment": "sleep",
                       "container": "sleep"},
            "unregistered": {"host": "example.com", "url": "https://example.com"},
            "namespaces": ["mesh-test", "istio-system"],
            "context": "homelab",
        },
        "preconditions": {
            "gateway_pods": [gateway_pod()],
            "client_pods": [pod(CLIENT, "mesh-test", {"app": "sleep"}, ["sleep", "istio-proxy"])],
            "gateways": [gateway_obj()],
            "destination_rules": [dr_obj()],
            "gateway_service": gateway_service(),
        },
        "xds": {"rc": 0, "stdout": synced_proxy_status([(GW_A, "istio-system"), (CLIENT, "mesh-test")]),
                "stderr": ""},
        "analyze": [{"item": "mesh-test", "rc": 0, "stdout": _read("istioio-analyze-no-issues-default.txt"),
                     "stderr": ""},
                    {"item": "istio-system", "rc": 0, "stdout": _read("istioio-analyze-info-ist0102.txt"),
                     "stderr": ""}],
        # SYNTHETIC curl output: the status codes curl -w '%{http_code}' prints
        "calls": {HOST: {"url": URL, "codes": ["200"], "rc": 0, "stderr": ""}},
        "gateway_log": loop({HOST: log_result({GW_A: GW_LOG_2024})}),
        "gateway_log_any_time": [],
        "routing": {"client": loop({HOST: proxy_result(client_dump())}),
                    "gateway": loop({HOST: proxy_result(gateway_dump())})},
        "blocking": {
            "call": {"codes": ["000"], "rc": 35, "stderr": "curl: (35) Recv failure: Connection reset by peer"},
            "gateway_log": log_result({GW_A: GW_LOG_2024}, host="example.com", expect="absent"),
            "client_config": proxy_result(client_dump(), host="example.com"),
        },
        "l3": {"direct": {"codes": ["000"], "rc": 28,
                          "stderr": "curl: (28) Connection timed out after 5001 milliseconds"},
               "sidecar": {"codes": ["200"], "rc": 0}},
    }


def check_row(report, check_id):
    return next(r for r in report["checks"] if r["id"] == check_id)


def verdicts(report):
    return {r["id"]: r["verdict"] for r in report["checks"]}


def diag_ids(report):
    return [d["id"] for d in report["diagnosis"]]


def test_passing_scenario_all_checks_pass():
    report = vr.build_report(passing_facts())
    assert verdicts(report) == dict.fromkeys(verdicts(report), vr.PASS), report["checks"]
    assert report["passed"] is True
    assert report["verdict"] == "proved" and report["complete"] is True and report["no_failures"] is True
    assert report["diagnosis"] == []
    assert report["hops"] == {"hop1": vr.PASS, "hop2": vr.PASS}
    assert report["summary"].startswith("egress_verify: PROVED - 8 passed, 0 failed, 0 not run")
    by = {r["id"]: r for r in report["checks"]}
    assert "hop 1 %s -> %s" % (HOST, HOP1) in by["routing"]["actual"]
    assert "hop 2 %s -> %s" % (HOST, HOP2) in by["routing"]["actual"]
    assert "1 gateway-hop entry (flags -\u00d71) from 1 Ready replica" in by["gateway_log"]["actual"]
    assert any(HOP2 in e for e in by["gateway_log"]["evidence"])


# ---------------------------------------------------------------- negative scenarios

def test_no_hop1_route_is_a_bypass():
    facts = passing_facts()
    facts["settings"]["registry_only"] = False  # ALLOW_ANY: the bypass is silent, the call returns 200
    facts["routing"]["client"] = loop({HOST: proxy_result(client_dump(via_gateway=False, registry_only=False))})
    facts["gateway_log"] = loop({HOST: log_result({GW_A: ""})})  # nothing reached the gateway
    report = vr.build_report(facts)
    v = verdicts(report)
    assert v["call"] == vr.PASS
    assert v["gateway_log"] == vr.FAIL
    assert v["routing"] == vr.FAIL
    assert v["blocking"] == vr.NOT_RUN
    assert report["passed"] is False
    assert diag_ids(report)[0] == "hop1_not_matched"
    assert "access_logging_off" not in diag_ids(report)
    assert report["hops"]["hop1"] == vr.FAIL
    routing = check_row(report, "routing")
    assert "PassthroughCluster" in routing["actual"]


def test_gateway_label_mismatch():
    facts = passing_facts()
    facts["preconditions"]["gateways"] = [gateway_obj(selector={"istio": "egress-gateway"})]
    facts["routing"]["gateway"] = loop({HOST: proxy_result(gateway_dump(hop2=False))})  # REAL, unprogrammed
    facts["calls"][HOST].update(codes=["000"], rc=35)
    facts["gateway_log"] = loop({HOST: log_result({GW_A: ""})})
    facts["l3"]["sidecar"] = {"codes": ["000"], "rc": 35}
    report = vr.build_report(facts)
    v = verdicts(report)
    for check in ("preconditions", "call", "gateway_log", "routing"):
        assert v[check] == vr.FAIL, check
    ids = diag_ids(report)
    assert ids[0] == "gateway_selector_mismatch"
    assert "access_logging_off" not in ids and "registered_host_unreachable" not in ids
    d = report["diagnosis"][0]
    assert "istio=egressgateway" in " ".join(d["evidence"])
    pre = check_row(report, "preconditions")
    assert "matches no gateway pod" in pre["actual"]
    assert report["hops"]["hop2"] == vr.FAIL


def test_allow_any_is_not_blocked():
    facts = passing_facts()
    facts["blocking"]["call"] = {"codes": ["200"], "rc": 0, "stderr": ""}
    facts["blocking"]["client_config"] = proxy_result(es.load_real(es.SIDECAR_ALLOW_ANY), host="example.com")
    report = vr.build_report(facts)
    v = verdicts(report)
    assert v["blocking"] == vr.FAIL
    assert [k for k, x in v.items() if x == vr.FAIL] == ["blocking"]
    assert diag_ids(report) == ["registry_only_not_applied"]
    blocking = check_row(report, "blocking")
    assert "ALLOW_ANY" in blocking["actual"] and "example.com was not blocked" in blocking["actual"]


def test_logs_from_only_one_of_two_replicas():
    facts = passing_facts()
    facts["preconditions"]["gateway_pods"] = [gateway_pod(GW_A), gateway_pod(GW_B)]
    facts["xds"]["stdout"] = synced_proxy_status([(GW_A, "istio-system"), (GW_B, "istio-system"),
                                                  (CLIENT, "mesh-test")])
    facts["gateway_log"] = loop({HOST: log_result({GW_A: GW_LOG_2024, GW_B: ""})})
    report = vr.build_report(facts)
    v = verdicts(report)
    assert v["gateway_log"] == vr.FAIL
    assert [k for k, x in v.items() if x == vr.FAIL] == ["gateway_log"]
    assert diag_ids(report) == ["replica_without_logs"]
    d = report["diagnosis"][0]
    assert GW_B in d["symptom"] and GW_A not in d["symptom"]
    assert "no access-log line at all" in d["cause"]


def test_two_replicas_both_logging_pass():
    facts = passing_facts()
    facts["preconditions"]["gateway_pods"] = [gateway_pod(GW_A), gateway_pod(GW_B)]
    facts["xds"]["stdout"] = synced_proxy_status([(GW_A, "istio-system"), (GW_B, "istio-system"),
                                                  (CLIENT, "mesh-test")])
    facts["gateway_log"] = loop({HOST: log_result({GW_A: GW_LOG_2024, GW_B: GW_LOG_2024}, min_count=1)})
    report = vr.build_report(facts)
    assert verdicts(report)["gateway_log"] == vr.PASS


def test_lines_older_than_the_probe():
    facts = passing_facts()
    facts["run"]["probe_started"] = PROBE_AFTER
    facts["gateway_log"] = loop({HOST: log_result({GW_A: GW_LOG_2024}, since=PROBE_AFTER)})
    facts["gateway_log_any_time"] = loop({HOST: log_result({GW_A: GW_LOG_2024}, since=None)})
    report = vr.build_report(facts)
    v = verdicts(report)
    assert v["gateway_log"] == vr.FAIL
    assert diag_ids(report) == ["lines_older_than_probe"]
    assert PROBE_AFTER in report["diagnosis"][0]["symptom"]
    assert "2024-01-11T21:09:42.835Z" in " ".join(report["diagnosis"][0]["evidence"])


def test_other_host_only():
    facts = passing_facts()
    host = "httpbin.org"
    url = "https://httpbin.org/get"
    facts["settings"]["hosts"] = [{"host": host, "port": 443, "url": url}]
    facts["settings"]["registry_only"] = False
    facts["preconditions"]["gateways"][0]["spec"]["servers"][0]["hosts"] = [HOST, host]
    facts["calls"] = {host: {"url": url, "codes": ["200"], "rc": 0, "stderr": ""}}
    facts["gateway_log"] = loop({host: log_result({GW_A: GW_LOG_2024}, host=host)})
    facts["routing"] = {
        "client": loop({host: proxy_result(client_dump(via_gateway=False, registry_only=False), host=host)}),
        "gateway": loop({host: proxy_result(es.router_hop2(), host=host)}),
    }
    facts["l3"]["sidecar"] = {"codes": ["200"], "rc": 0}
    report = vr.build_report(facts)
    v = verdicts(report)
    assert v["gateway_log"] == vr.FAIL and v["routing"] == vr.FAIL
    assert diag_ids(report) == ["other_host_only"]
    assert "edition.cnn.com" in report["diagnosis"][0]["symptom"]


def test_no_access_logs_at_all():
    facts = passing_facts()
    facts["gateway_log"] = loop({HOST: log_result({GW_A: ""})})
    report = vr.build_report(facts)
    v = verdicts(report)
    assert [k for k, x in v.items() if x == vr.FAIL] == ["gateway_log"]
    assert diag_ids(report) == ["access_logging_off"]
    assert "Telemetry" in report["diagnosis"][0]["fix"]


def test_destination_rule_on_the_wrong_lookup_path():
    facts = passing_facts()
    facts["preconditions"]["destination_rules"] = [dr_obj(namespace="egress-config")]
    facts["routing"]["client"] = loop({HOST: proxy_result(client_dump(define_hop1_cluster=False))})
    facts["calls"][HOST].update(codes=["000"], rc=56)
    facts["gateway_log"] = loop({HOST: log_result({GW_A: ""})})
    facts["l3"]["sidecar"] = {"codes": ["000"], "rc": 56}
    report = vr.build_report(facts)
    v = verdicts(report)
    assert v["routing"] == vr.FAIL
    ids = diag_ids(report)
    assert ids[0] == "destination_rule_lookup_path"
    assert "gateway_selector_mismatch" not in ids and "registered_host_unreachable" not in ids
    ev = " ".join(report["diagnosis"][0]["evidence"])
    assert "egress-config/egressgateway-for-cnn" in ev and HOP1 in ev


def test_sidecar_upstream_failure_lines_are_not_gateway_evidence():
    # The real UF,URX lines of gh-istio-56356 were written by a sidecar (InboundPassthroughCluster).
    # Offered as the gateway's log they used to count as the gateway's entries and point at DNS;
    # the log module now classifies them as hop "inbound", so the gateway shows nothing for the host.
    facts = passing_facts()
    host = "api.github.com"
    facts["settings"]["hosts"] = [{"host": host, "port": 443, "url": "https://api.github.com/"}]
    facts["preconditions"]["gateways"][0]["spec"]["servers"][0]["hosts"] = [host]
    facts["calls"] = {host: {"codes": ["000"], "rc": 35, "stderr": "curl: (35) Recv failure"}}
    facts["gateway_log"] = loop({host: log_result({GW_A: UF_LOG}, host=host, since=None)})
    facts["routing"] = {"client": {}, "gateway": {}}
    facts["l3"]["sidecar"] = {"codes": ["000"], "rc": 35}
    report = vr.build_report(facts)
    v = verdicts(report)
    assert v["gateway_log"] == vr.FAIL and v["call"] == vr.FAIL
    ids = diag_ids(report)
    assert "dns_resolution" not in ids
    assert ids[0] == "registered_host_unreachable"


def test_503_from_the_registered_host_points_at_dns():
    facts = passing_facts()
    facts["calls"][HOST].update(codes=["503"], rc=0)
    facts["gateway_log"] = loop({HOST: log_result({GW_A: ""})})
    report = vr.build_report(facts)
    assert verdicts(report)["call"] == vr.FAIL
    ids = diag_ids(report)
    assert ids[0] == "dns_resolution"
    assert "%s returned 503" % HOST in " ".join(report["diagnosis"][0]["evidence"])


def test_client_without_sidecar():
    facts = passing_facts()
    facts["preconditions"]["client_pods"] = [pod(CLIENT, "mesh-test", {"app": "sleep"}, ["sleep"])]
    report = vr.build_report(facts)
    assert verdicts(report)["preconditions"] == vr.FAIL
    assert diag_ids(report)[0] == "no_injection"
    assert "istio-injection=enabled" in report["diagnosis"][0]["fix"]


def test_native_sidecar_counts_as_injected():
    facts = passing_facts()
    facts["preconditions"]["client_pods"] = [
        pod(CLIENT, "mesh-test", {"app": "sleep"}, ["sleep"], native_sidecar=True)]
    report = vr.build_report(facts)
    pre = check_row(report, "preconditions")
    assert pre["verdict"] == vr.PASS
    assert pre["details"]["client_pods"][0]["proxy"] == "native-sidecar"
    assert pre["details"]["client_pods"][0]["ready_containers"] == "2/2"


def test_real_stale_proxy_status_fails_xds():
    facts = passing_facts()
    facts["xds"]["stdout"] = _read("istio-master-proxy-status-single.json")  # REAL: proxy1 CDS STALE
    report = vr.build_report(facts)
    row = check_row(report, "xds_sync")
    assert row["verdict"] == vr.FAIL
    assert "not connected to istiod" in row["actual"]
    proxies = vr.parse_proxy_status(_read("istio-master-proxy-status-single.json"))
    ok, text = vr.xds_verdict(proxies[0])
    assert not ok and "CDS=STALE" in text
    assert "xds_not_synced" in diag_ids(report)


def test_real_analyze_errors_fail():
    facts = passing_facts()
    facts["analyze"][0] = {"item": "mesh-test", "rc": 79, "stdout": _read("istioio-analyze-errors-ist0101-v1.12.txt"),
                           "stderr": ""}
    report = vr.build_report(facts)
    row = check_row(report, "analyze")
    assert row["verdict"] == vr.FAIL
    assert "Error IST0101" in row["actual"]
    assert "analyze_findings" in diag_ids(report)


def test_l3_not_locked():
    facts = passing_facts()
    facts["l3"]["direct"] = {"codes": ["200"], "rc": 0, "stderr": ""}
    report = vr.build_report(facts)
    assert verdicts(report)["l3_lock"] == vr.FAIL
    assert diag_ids(report) == ["l3_not_locked"]


# ---------------------------------------------------------------- environments that cannot run checks

def test_control_plane_only_reports_not_run_never_pass():
    facts = passing_facts()
    facts["settings"]["data_plane"] = False
    for key in ("xds", "calls", "gateway_log", "routing"):
        facts.pop(key)
    # what Ansible passes for "{{ skipped.results | default(none) }}" inside a dict
    facts["blocking"] = ""
    facts["l3"] = ""
    report = vr.build_report(facts)
    v = verdicts(report)
    assert v["preconditions"] == vr.PASS and v["analyze"] == vr.PASS
    for check in ("xds_sync", "call", "gateway_log", "routing", "blocking", "l3_lock"):
        assert v[check] == vr.NOT_RUN, check
        row = check_row(report, check)
        assert row["actual"].startswith("not run: no data plane")
    # Nothing failed, but six checks did not run: not a proof (issue 10).
    assert report["passed"] is False
    assert report["verdict"] == "incomplete"
    assert report["complete"] is False and report["no_failures"] is True and report["failures"] == 0
    assert report["summary"].startswith("egress_verify: INCOMPLETE (not proved) - 2 passed, 0 failed, 6 not run")
    assert report["hops"] == {"hop1": vr.NOT_RUN, "hop2": vr.NOT_RUN}
    # "no data plane" is the reason even when the enforcement layers are off
    facts["settings"].update(registry_only=False, calico=False)
    report = vr.build_report(facts)
    for check in ("blocking", "l3_lock"):
        assert check_row(report, check)["reason"].startswith("no data plane"), check


def test_without_istioctl_checks_2_and_3_not_run():
    facts = passing_facts()
    facts["settings"]["istioctl"] = ""
    report = vr.build_report(facts)
    v = verdicts(report)
    assert v["xds_sync"] == vr.NOT_RUN and v["analyze"] == vr.NOT_RUN
    row = check_row(report, "analyze")
    assert "istioctl not found" in row["reason"]


def test_module_error_is_a_failure_not_a_verdict_pass():
    facts = passing_facts()
    facts["routing"]["client"] = {"results": [{"item": {"host": HOST}, "failed": True, "changed": False,
                                               "msg": "pods \"sleep-x\" is forbidden"}]}
    report = vr.build_report(facts)
    row = check_row(report, "routing")
    assert row["verdict"] == vr.FAIL and "forbidden" in row["actual"]


@pytest.mark.parametrize("facts, message", [
    ("nope", "facts must be a dict"),
    ({}, "facts.settings must be a dict"),
    ({"settings": {"hosts": []}}, "facts.settings.hosts is empty"),
    ({"settings": {"hosts": [{"port": 443}]}}, "needs a 'host'"),
    ({"settings": {"hosts": [{"host": "a.example", "port": 70000}]}}, "outside 1-65535"),
    ({"settings": {"hosts": ["a.example"]}, "analyze": "x"}, "facts.analyze must be a list"),
])
def test_bad_facts_give_one_sentence(facts, message):
    with pytest.raises(vr.VerifyReportError) as exc:
        vr.build_report(facts)
    assert message in str(exc.value)


# ---------------------------------------------------------------- rendering

def test_junit_parses_back_with_one_testcase_per_check():
    facts = passing_facts()
    facts["gateway_log"] = loop({HOST: log_result({GW_A: ""})})
    facts["settings"]["calico"] = False
    report = vr.build_report(facts)
    root = ET.fromstring(vr.render_junit(report).encode("utf-8"))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [name for _id, name in vr.CHECKS] + ["verdict: proof complete"]
    # 1 failed check + the verdict case (failed run)
    assert suite.get("tests") == "9" and suite.get("failures") == "2" and suite.get("skipped") == "1"
    by = {c.get("name"): c for c in cases}
    assert by["5. Gateway access log"].find("failure") is not None
    skipped = by["8. L3 lock (Calico)"].find("skipped")
    assert skipped is not None and "egress_verify_calico: false" in skipped.get("message")
    assert by["4. Call from the client"].find("failure") is None
    assert by["4. Call from the client"].find("skipped") is None
    assert by["verdict: proof complete"].find("failure") is not None
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["verdict"] == "failed" and props["passed"] == "false"
    assert "access_logging_off" in suite.find("system-err").text


def test_junit_incomplete_run_is_not_a_passing_suite():
    """Old false pass: no failure but checks not run read as a green suite. Now the verdict case fails."""
    facts = passing_facts()
    facts["settings"]["calico"] = False
    report = vr.build_report(facts)
    assert report["verdict"] == "incomplete" and report["passed"] is False
    suite = ET.fromstring(vr.render_junit(report).encode("utf-8")).find("testsuite")
    assert suite.get("failures") == "1" and suite.get("skipped") == "1"
    verdict_case = next(c for c in suite.findall("testcase") if c.get("name") == "verdict: proof complete")
    assert "INCOMPLETE" in verdict_case.find("failure").get("message")
    md = vr.render_markdown(report)
    assert md.splitlines()[2].startswith("**egress_verify: INCOMPLETE (not proved)")
    assert "- verdict: **incomplete**" in md
    # the legitimate case: a complete proof is a passing suite
    report = vr.build_report(passing_facts())
    suite = ET.fromstring(vr.render_junit(report).encode("utf-8")).find("testsuite")
    assert suite.get("failures") == "0" and suite.get("skipped") == "0"
    assert "**egress_verify: PROVED" in vr.render_markdown(report)


def test_markdown_has_table_diagram_diagnosis_and_reproduce():
    facts = passing_facts()
    facts["gateway_log"] = loop({HOST: log_result({GW_A: ""})})
    report = vr.build_report(facts)
    md = vr.render_markdown(report)
    assert "| check | expected | actual | verdict | evidence from |" in md
    for _id, name in vr.CHECKS:
        assert "| %s |" % name in md
    assert "sleep (mesh-test) --hop 1--> istio-egressgateway (istio-system) --hop 2--> edition.cnn.com:443" in md
    assert "hop 1 (client sidecar -> egress gateway): \u2718 FAIL" in md
    assert "hop 2 (egress gateway -> external):       \u2714 pass" in md
    assert "### access_logging_off" in md
    assert "kubectl --context homelab -n mesh-test exec deploy/sleep -c sleep -- curl" in md
    # pipes in cells (cluster names) must not break the table
    row = next(line for line in md.splitlines() if line.startswith("| 6. Routing"))
    assert row.count(" | ") == 4  # five cells: check, expected, actual, verdict, evidence from


def test_json_round_trips_with_all_facts():
    report = vr.build_report(passing_facts())
    data = json.loads(vr.render_json(report))
    assert data["passed"] is True and data["schema"] == vr.SCHEMA_VERSION
    assert data["facts"]["routing"]["client"][HOST]["destination"]["cluster"] == HOP1


def test_settings_as_ansible_passes_them():
    """Booleans may arrive as text; host items may be bare names."""
    facts = passing_facts()
    facts["settings"].update(data_plane="False", registry_only="yes", calico="false", calls="1")
    facts["settings"]["hosts"] = [HOST]
    report = vr.build_report(facts)
    s = report["settings"]
    assert s["data_plane"] is False and s["registry_only"] is True and s["calico"] is False
    assert s["hosts"] == [{"host": HOST, "port": 443, "url": "https://%s/" % HOST}]
    with pytest.raises(vr.VerifyReportError) as exc:
        vr.build_report(dict(facts, settings=dict(facts["settings"], calico="maybe")))
    assert "facts.settings.calico must be a boolean" in str(exc.value)


def test_nothing_installed_names_the_missing_pieces():
    """What the role saw on a bare control plane: no gateway, no client, no Istio objects."""
    facts = passing_facts()
    facts["settings"]["data_plane"] = False
    facts["preconditions"] = {"gateway_pods": [], "client_pods": [], "gateways": [], "destination_rules": []}
    for key in ("xds", "calls", "gateway_log", "routing", "blocking", "l3"):
        facts.pop(key)
    report = vr.build_report(facts)
    assert verdicts(report)["preconditions"] == vr.FAIL
    assert diag_ids(report) == ["gateway_not_ready", "client_missing", "routes_missing"]


def test_hop1_route_straight_out_is_a_bypass():
    """The VirtualService lost its mesh->gateway route: the client's SNI chain goes straight out (SYNTHETIC dump)."""
    facts = passing_facts()
    facts["settings"]["registry_only"] = False
    dump = es.sidecar_via_gateway(cluster=HOP2, base=es.SIDECAR_ALLOW_ANY, server_names=(HOST,))
    facts["routing"]["client"] = loop({HOST: proxy_result(dump)})
    report = vr.build_report(facts)
    routing = check_row(report, "routing")
    assert routing["verdict"] == vr.FAIL
    assert "sends it to %s, not to the egress gateway" % HOP2 in routing["actual"]
    assert diag_ids(report) == ["hop1_not_matched"]
    assert "not to the egress gateway" in report["diagnosis"][0]["symptom"]


GENERATED = os.path.join(HERE, "fixtures", "generated")
GEN_SIDECAR = os.path.join(GENERATED, "istiod-1.30-sidecar-sleep-via-egress-config_dump.json")
GEN_NO_HOP1 = os.path.join(GENERATED, "istiod-1.30-sidecar-sleep-no-hop1-config_dump.json")
GEN_GATEWAY = os.path.join(GENERATED, "istiod-1.30-egressgateway-config_dump.json")


@pytest.mark.skipif(not all(os.path.exists(p) for p in (GEN_SIDECAR, GEN_NO_HOP1, GEN_GATEWAY)),
                    reason="dumps generated by the real istiod not present (tests/integration/test_xds_proof.py)")
def test_routing_on_config_generated_by_the_real_istiod():
    """Check 6 on what istiod 1.30 generates for the guide's objects (fixtures/generated/)."""
    def dump(path):
        with open(path, "rb") as f:
            return f.read()

    facts = passing_facts()
    host = "httpbin.org"
    facts["settings"]["hosts"] = [{"host": host, "port": 443, "url": "https://httpbin.org/get"}]
    facts["preconditions"]["gateways"][0]["spec"]["servers"][0]["hosts"] = [host]
    for key in ("calls", "gateway_log", "blocking", "l3"):
        facts.pop(key)
    facts["settings"]["data_plane"] = False  # only the routing facts are given, as on the plane
    facts["routing"] = {"client": loop({host: proxy_result(dump(GEN_SIDECAR), host=host)}),
                        "gateway": loop({host: proxy_result(dump(GEN_GATEWAY), host=host)})}
    report = vr.build_report(facts)
    routing = check_row(report, "routing")
    assert routing["verdict"] == vr.PASS, routing["actual"]
    assert report["verdict"] == "incomplete" and report["no_failures"] is True
    assert report["hops"] == {"hop1": vr.NOT_RUN, "hop2": vr.NOT_RUN}
    assert "hop 1 httpbin.org -> outbound|443|httpbin|istio-egressgateway.istio-system.svc.cluster.local" \
        in routing["actual"]
    assert "hop 2 httpbin.org -> outbound|443||httpbin.org (listener 8443)" in routing["actual"]

    facts["routing"]["client"] = loop({host: proxy_result(dump(GEN_NO_HOP1), host=host)})
    report = vr.build_report(facts)
    routing = check_row(report, "routing")
    assert routing["verdict"] == vr.FAIL
    assert "outbound|443||httpbin.org, not to the egress gateway" in routing["actual"]
    assert diag_ids(report) == ["hop1_not_matched"]


def test_skipped_loops_are_not_run_not_failed():
    """No Ready client pod: the role skips the traffic tasks; their registered loops hold only skipped items."""
    facts = passing_facts()
    facts["preconditions"]["client_pods"] = []
    facts["settings"]["reasons"] = {"no_client": "no Ready client pod with label app=sleep in mesh-test"}
    facts["calls"] = ""
    facts["gateway_log"] = [{"item": {"host": HOST, "port": 443}, "skipped": True, "changed": False}]
    facts["blocking"] = ""
    report = vr.build_report(facts)
    v = verdicts(report)
    assert v["preconditions"] == vr.FAIL
    assert v["call"] == v["gateway_log"] == v["blocking"] == vr.NOT_RUN
    row = check_row(report, "gateway_log")
    assert row["reason"] == "no Ready client pod with label app=sleep in mesh-test"
    assert "client_missing" in diag_ids(report)
