# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks 4-8 of the egress_verify report: call, gateway log, routing, blocking, L3 lock.

Pure, stdlib only. Each check returns one row (verify_common.row); the exact
conditions for `pass` are listed in docs/egress_verify.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible_collections.homelab.istio_egress.plugins.module_utils.common_text import histogram, histogram_dict, plural
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_common import (
    FAIL,
    PASS,
    ctx,
    curl_cmd,
    exec_client,
    get_path,
    no_data_plane_reason,
    not_run_row,
    row,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_parse import (
    bad_flags,
    cluster_names,
    entry_text,
    hop2_cluster,
    parse_curl_codes,
    pod_counts,
)


def check_call(facts, s):
    n, code = s["calls"], s["expected_code"]
    expected = "%s per host from the client, each %s" % (plural(n, "call"), code)
    reproduce = [exec_client(s, curl_cmd(h["url"])) for h in s["hosts"]]
    if not s["data_plane"]:
        return not_run_row("call", expected, no_data_plane_reason(s), reproduce)
    calls = facts.get("calls")
    if not isinstance(calls, dict):
        return not_run_row("call", expected, s["reasons"].get("no_client") or "no call results were collected",
                        reproduce)
    problems, evidence, actual_parts, per_host = [], [], [], {}
    for h in s["hosts"]:
        res = calls.get(h["host"])
        if not isinstance(res, dict):
            problems.append("%s: no result" % h["host"])
            continue
        codes = list(res.get("codes") or parse_curl_codes(res.get("stdout")))
        per_host[h["host"]] = codes
        actual_parts.append("%s: %s" % (h["host"], histogram(codes) or "no status code"))
        evidence.append("%s %s -> %s (rc %s)" % (h["host"], h["url"], " ".join(codes) or "-", res.get("rc")))
        if res.get("stderr"):
            evidence.append("%s stderr: %s" % (h["host"], res["stderr"].strip().splitlines()[-1][:300]))
        if len(codes) < n or any(c != code for c in codes):
            problems.append("%s: %s of %d calls returned %s" % (
                h["host"], sum(1 for c in codes if c == code), n, code))
    actual = "; ".join(actual_parts) if actual_parts else "no results"
    if problems and not actual_parts:
        actual = "; ".join(problems)
    return row("call", expected, actual, FAIL if problems else PASS, evidence, reproduce,
                details={"codes": per_host})


def check_gateway_log(facts, s, pre_row):
    n = s["calls"]
    gw = s["gateway"]
    expected = ("egress gateway access log (all replicas, since the probe started): >= %d entries per host "
                "for host:port, response flags in %s%s" % (
                    n, ",".join(s["allowed_response_flags"]),
                    "; every Ready replica carries some" if s["require_all_replicas"] else ""))
    since = get_path(facts, "run.probe_started", "")
    reproduce = ["%s -n %s logs -l %s -c istio-proxy --prefix --since-time=%s | grep %s" % (
        ctx(s), gw["namespace"], gw["selector"], since or "<probe start>", h["host"]) for h in s["hosts"]]
    if not s["data_plane"]:
        return not_run_row("gateway_log", expected, no_data_plane_reason(s), reproduce)
    logs = facts.get("gateway_log")
    if not isinstance(logs, dict):
        return not_run_row("gateway_log", expected,
                        s["reasons"].get("no_client") or "the gateway log was not read", reproduce)
    ready_pods = sorted(p["name"] for p in pre_row["details"].get("gateway_pods", []) if p["ready"])
    problems, evidence, actual_parts = [], [], []
    coverage = {}
    for h in s["hosts"]:
        res = logs.get(h["host"])
        if not isinstance(res, dict):
            problems.append("%s: the gateway log was not read" % h["host"])
            actual_parts.append(problems[-1])
            continue
        if res.get("error"):
            problems.append("%s: reading the gateway log failed: %s" % (h["host"], res["error"]))
            actual_parts.append(problems[-1])
            evidence.append(res["error"])
            continue
        count = int(res.get("count") or 0)
        bad = bad_flags(res, s["allowed_response_flags"])
        pods = res.get("pods") or {}
        actual_parts.append("%s:%s %s (flags %s) in %s" % (
            h["host"], h["port"], plural(count, "entry"), histogram_dict(res.get("response_flags")) or "none",
            plural(len(pods), "pod")))
        if res.get("msg"):
            evidence.append("%s: %s" % (h["host"], res["msg"]))
        for entry in (res.get("entries") or [])[:3]:
            evidence.append(entry_text(entry))
        if count < n:
            problems.append("%s: %d entries for %s:%s, expected >= %d" % (h["host"], count, h["host"], h["port"], n))
        if bad:
            problems.append("%s: response flags %s" % (h["host"], histogram_dict(bad)))
        for pod, val in pods.items():
            lines, matches = pod_counts(val)
            cov = coverage.setdefault(pod, {"lines": 0, "matches": 0})
            cov["lines"] += lines or 0
            cov["matches"] += matches or 0
    uncovered = []
    if s["require_all_replicas"] and len(ready_pods) > 1 and coverage:
        for pod in ready_pods:
            cov = coverage.get(pod)
            if cov is None or cov["matches"] == 0:
                uncovered.append(pod)
        if uncovered and len(uncovered) < len(ready_pods):
            problems.append("no entries from %s of %s Ready replicas: %s" % (
                len(uncovered), len(ready_pods), ", ".join(uncovered)))
    for pod in sorted(coverage):
        evidence.append("pod %s: %d lines read, %d matching" % (pod, coverage[pod]["lines"], coverage[pod]["matches"]))
    actual = "; ".join(actual_parts) if actual_parts else "; ".join(problems)
    if uncovered and len(uncovered) < len(ready_pods):
        actual += "; replicas without entries: %s" % ", ".join(uncovered)
    return row("gateway_log", expected, actual, FAIL if problems else PASS, evidence, reproduce,
                details={"coverage": coverage, "uncovered_replicas": uncovered})


def check_routing(facts, s):
    gw, client = s["gateway"], s["client"]
    expected = ("client sidecar: SNI host -> hop-1 cluster of the egress gateway service "
                "(via_egress_gateway); gateway: SNI host -> hop-2 cluster outbound|PORT||HOST")
    reproduce = []
    for h in s["hosts"]:
        reproduce.append("%s proxy-config listeners deploy/%s.%s --port %s -o json | grep -B2 -A12 '\"%s\"'" % (
            ctx(s, "istioctl"), client["deployment"], client["namespace"], h["port"], h["host"]))
        reproduce.append("%s proxy-config clusters deploy/%s.%s | grep -E '%s|egressgateway'" % (
            ctx(s, "istioctl"), client["deployment"], client["namespace"], h["host"]))
        reproduce.append("%s proxy-config clusters deploy/%s.%s | grep %s" % (
            ctx(s, "istioctl"), gw["deployment"], gw["namespace"], h["host"]))
    routing = facts.get("routing")
    if not isinstance(routing, dict) or not (routing.get("client") or routing.get("gateway")):
        reason = no_data_plane_reason(s) if not s["data_plane"] else "the proxy config was not read"
        return not_run_row("routing", expected, reason, reproduce)
    problems, evidence, actual_parts = [], [], []
    details = {"client": {}, "gateway": {}}
    for h in s["hosts"]:
        cres = (routing.get("client") or {}).get(h["host"])
        gres = (routing.get("gateway") or {}).get(h["host"])
        # hop 1
        if not isinstance(cres, dict):
            problems.append("%s: client proxy config not read" % h["host"])
        elif cres.get("error"):
            problems.append("%s: client proxy config: %s" % (h["host"], cres["error"]))
        else:
            dest = cres.get("destination") or {}
            details["client"][h["host"]] = dest
            evidence.append("client %s: %s" % (h["host"], dest.get("evidence") or "no evidence"))
            if not dest.get("matched"):
                problems.append("%s: the client sidecar has no route for SNI %s:%s%s" % (
                    h["host"], h["host"], h["port"],
                    " (it falls through to %s)" % dest["cluster"] if dest.get("cluster") else ""))
            elif not dest.get("via_egress_gateway"):
                problems.append("%s: the client sidecar sends it to %s, not to the egress gateway" % (
                    h["host"], dest.get("cluster")))
            else:
                cluster = dest.get("cluster")
                names = cluster_names(cres)
                if dest.get("cluster_found") is False or (cluster and names and cluster not in names):
                    problems.append("%s: hop-1 cluster %s is referenced but does not exist in the client's "
                                    "clusters" % (h["host"], cluster))
                else:
                    actual_parts.append("hop 1 %s -> %s" % (h["host"], cluster))
        # hop 2
        want = hop2_cluster(h["host"], h["port"])
        if not isinstance(gres, dict):
            problems.append("%s: gateway proxy config not read" % h["host"])
        elif gres.get("error"):
            problems.append("%s: gateway proxy config: %s" % (h["host"], gres["error"]))
        else:
            dest = gres.get("destination") or {}
            details["gateway"][h["host"]] = dest
            evidence.append("gateway %s: %s" % (h["host"], dest.get("evidence") or "no evidence"))
            if not dest.get("matched"):
                problems.append("%s: the gateway has no SNI filter chain for %s (hop 2 missing)"
                                % (h["host"], h["host"]))
            elif dest.get("cluster") != want and want not in (dest.get("clusters") or []):
                problems.append("%s: the gateway sends it to %s, expected %s" % (h["host"], dest.get("cluster"), want))
            elif want not in cluster_names(gres) and cluster_names(gres):
                problems.append("%s: the gateway has no cluster %s" % (h["host"], want))
            else:
                actual_parts.append("hop 2 %s -> %s" % (h["host"], want))
    actual = "; ".join(problems) if problems else "; ".join(actual_parts)
    return row("routing", expected, actual, FAIL if problems else PASS, evidence, reproduce, details=details)


def check_blocking(facts, s):
    unreg = s["unregistered"]
    plain = unreg["url"].startswith("http://")
    blocked_codes = ("502",) if plain else ("000",)
    expected = ("REGISTRY_ONLY: %s returns %s, no gateway log entry for it, no PassthroughCluster in the "
                "client's config" % (unreg["url"], "/".join(blocked_codes)))
    reproduce = [
        exec_client(s, curl_cmd(unreg["url"], 5)),
        "%s proxy-config clusters deploy/%s.%s | grep -E 'PassthroughCluster|BlackHoleCluster'" % (
            ctx(s, "istioctl"), s["client"]["deployment"], s["client"]["namespace"]),
    ]
    # No data plane first: it is the reason whatever the enforcement settings are.
    if not s["data_plane"]:
        return not_run_row("blocking", expected, no_data_plane_reason(s), reproduce)
    if not s["registry_only"]:
        reason = (s["reasons"].get("registry_only")
                  or "REGISTRY_ONLY is not enabled (egress_verify_registry_only: false)")
        return not_run_row("blocking", expected, reason, reproduce)
    b = facts.get("blocking")
    if not isinstance(b, dict):
        return not_run_row("blocking", expected,
                        s["reasons"].get("no_client") or "the blocking probe was not run", reproduce)
    problems, evidence, parts = [], [], []
    call = b.get("call") or {}
    codes = list(call.get("codes") or parse_curl_codes(call.get("stdout")))
    parts.append("%s -> %s" % (unreg["host"], histogram(codes) or "no code"))
    evidence.append("%s -> %s (rc %s)" % (unreg["url"], " ".join(codes) or "-", call.get("rc")))
    if not codes or any(c not in blocked_codes for c in codes):
        problems.append("%s was not blocked: %s" % (unreg["host"], histogram(codes) or "no status code"))
    log = b.get("gateway_log")
    if isinstance(log, dict) and log.get("error"):
        problems.append("reading the gateway log failed: %s" % log["error"])
    elif isinstance(log, dict):
        cnt = int(log.get("count") or 0)
        parts.append("%d gateway entries" % cnt)
        if cnt:
            problems.append("the gateway logged %d entries for %s" % (cnt, unreg["host"]))
            for entry in (log.get("entries") or [])[:2]:
                evidence.append(entry_text(entry))
    cfg = b.get("client_config")
    if isinstance(cfg, dict) and not cfg.get("error"):
        policy = cfg.get("outbound_traffic_policy") or {}
        mode = policy.get("mode", "unknown")
        parts.append("client outbound policy %s" % mode)
        policy_evidence = policy.get("evidence") or ""
        if isinstance(policy_evidence, list):
            policy_evidence = "; ".join(str(e) for e in policy_evidence)
        evidence.append("client config: %s (%s)" % (mode, policy_evidence))
        if mode != "REGISTRY_ONLY":
            problems.append("the client's outbound traffic policy is %s" % mode)
    elif isinstance(cfg, dict):
        problems.append("client proxy config: %s" % cfg["error"])
    actual = "; ".join(problems) if problems else "; ".join(parts)
    return row("blocking", expected, actual, FAIL if problems else PASS, evidence, reproduce,
                details={"codes": codes})


def check_l3(facts, s, call_row):
    ns = s["client"]["namespace"]
    h = s["hosts"][0]
    expected = ("a pod without sidecar in %s cannot reach %s directly (000, timeout) while the sidecar "
                "path returns %s" % (ns, h["url"], s["expected_code"]))
    reproduce = [
        "%s -n %s run egress-l3-probe --rm -i --restart=Never --image=curlimages/curl "
        "--labels=sidecar.istio.io/inject=false --command -- %s" % (ctx(s), ns, curl_cmd(h["url"], 5)),
        exec_client(s, curl_cmd(h["url"])),
    ]
    if not s["data_plane"]:
        return not_run_row("l3_lock", expected, no_data_plane_reason(s), reproduce)
    if not s["calico"]:
        reason = s["reasons"].get("calico") or "the Calico policy is not enabled (egress_verify_calico: false)"
        return not_run_row("l3_lock", expected, reason, reproduce)
    l3 = facts.get("l3")
    if not isinstance(l3, dict):
        return not_run_row("l3_lock", expected, s["reasons"].get("l3") or "the L3 probe was not run", reproduce)
    problems, evidence = [], []
    if l3.get("error"):
        return row("l3_lock", expected, "the L3 probe pod failed: %s" % l3["error"], FAIL, [l3["error"]], reproduce)
    direct = l3.get("direct") or {}
    dcodes = list(direct.get("codes") or parse_curl_codes(direct.get("stdout")))
    evidence.append("no-sidecar pod -> %s: %s (curl exit %s)%s" % (
        h["url"], " ".join(dcodes) or "-", direct.get("rc"),
        (" " + direct.get("stderr", "").strip().splitlines()[-1][:200]) if direct.get("stderr", "").strip() else ""))
    if not dcodes or any(c != "000" for c in dcodes):
        problems.append("the no-sidecar pod reached %s directly: %s" % (h["host"], histogram(dcodes) or "no code"))
    sidecar = l3.get("sidecar") or {}
    scodes = list(sidecar.get("codes") or parse_curl_codes(sidecar.get("stdout")))
    if not scodes:
        scodes = list((call_row["details"].get("codes") or {}).get(h["host"]) or [])
    evidence.append("sidecar path -> %s: %s" % (h["url"], " ".join(scodes) or "-"))
    if not scodes or any(c != s["expected_code"] for c in scodes):
        problems.append("the sidecar path returned %s" % (histogram(scodes) or "nothing"))
    note = ""
    if not problems and direct.get("rc") not in (None, 28):
        note = " (curl exit %s, not a timeout: a reject rule or DNS failure rather than a drop)" % direct.get("rc")
    actual = "; ".join(problems) if problems else "direct %s%s, sidecar path %s" % (
        histogram(dcodes), note, histogram(scodes))
    return row("l3_lock", expected, actual, FAIL if problems else PASS, evidence, reproduce,
                details={"direct_codes": dcodes, "sidecar_codes": scodes})
