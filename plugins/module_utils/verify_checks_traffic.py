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
    as_dict,
    as_int,
    as_list,
    as_text,
    ctx,
    curl_cmd,
    exec_client,
    get_path,
    judged_row,
    last_line,
    no_data_plane_reason,
    not_run_row,
    retry_text,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_parse import (
    CURL_DNS_EXITS,
    address_ip,
    bad_flags,
    entry_text,
    parse_curl_output,
    pod_counts,
)


def _call_text(parsed):
    retried = parsed["retried_calls"]
    return "%s%s" % (histogram(parsed["codes"]) or "no status code",
                     " (%s in %s)" % (plural(parsed["retries"], "retry"), plural(retried, "call")) if retried else "")


def check_call(facts, s):
    n, code = s["calls"], s["expected_code"]
    expected = "%s per host from the client, each %s with curl exit 0 (%s)" % (
        plural(n, "call"), code, retry_text(s["call_retries"]))
    reproduce = [exec_client(s, curl_cmd(h["url"])) for h in s["hosts"]]
    if not s["data_plane"]:
        return not_run_row("call", expected, no_data_plane_reason(s), reproduce)
    calls = facts.get("calls")
    if not isinstance(calls, dict):
        return not_run_row("call", expected, s["reasons"].get("no_client") or "no call results were collected",
                           reproduce)
    problems, evidence, actual_parts, per_host, retries = [], [], [], {}, {}
    for h in s["hosts"]:
        res = calls.get(h["host"])
        if not isinstance(res, dict):
            problems.append("%s: no result" % h["host"])
            continue
        parsed = parse_curl_output(res)
        codes = parsed["codes"]
        per_host[h["host"]] = codes
        retries[h["host"]] = [c["retries"] for c in parsed["calls"]]
        actual_parts.append("%s: %s" % (h["host"], _call_text(parsed)))
        evidence.append("%s %s -> %s (rc %s)" % (h["host"], h["url"], " ".join(codes) or "-", res.get("rc")))
        for i, c in enumerate(parsed["calls"]):
            if c["retries"]:
                evidence.append("%s call %d: %d tries: %s" % (h["host"], i + 1, c["tries"], ", ".join(c["attempts"])))
        stderr = last_line(res.get("stderr"))
        if stderr:
            evidence.append("%s stderr: %s" % (h["host"], stderr))
        good = [c for c in parsed["calls"] if c["code"] == code and c["exit"] in (0, None)]
        if len(parsed["calls"]) < n or len(good) < len(parsed["calls"]) or len(good) < n:
            problems.append("%s: %d of %d calls returned %s" % (h["host"], len(good), n, code))
    actual = "; ".join(actual_parts) if actual_parts else "no results"
    if problems and not actual_parts:
        actual = "; ".join(problems)
    if problems:
        actual = "; ".join(problems) + " (" + actual + ")"
    return judged_row("call", expected, problems, [], actual, evidence, reproduce,
                      details={"codes": per_host, "retries": retries})


def client_pod_ip(facts, pre_row):
    """The IP of the client pod the calls ran in, or None when it is not known."""
    pods = [p for p in pre_row["details"].get("client_pods", []) if p.get("pod_ip")]
    name = as_text(get_path(facts, "run.client_pod"))
    if name:
        pods = [p for p in pods if p["name"] == name]
    elif len(pods) > 1:
        return None
    return pods[0]["pod_ip"] if len(pods) == 1 else None


def _entry_problems(entry, ready, client_ip):
    """Why one access-log entry does not prove 'the gateway forwarded the client's call' ([] when it does)."""
    why = []
    hop = entry.get("hop")
    if hop is None:
        why.append("hop not classified")
    elif hop != "gateway":
        why.append("hop %s" % hop)
    if entry.get("pod") not in ready:
        why.append("pod %s is not a Ready gateway replica" % (entry.get("pod") or "unknown"))
    if client_ip:
        ip = address_ip(entry.get("downstream_remote_address"))
        if ip != client_ip:
            why.append("from %s, not the client %s" % (ip or "an unknown address", client_ip))
    return why


def check_gateway_log(facts, s, pre_row):
    n = s["calls"]
    gw = s["gateway"]
    expected = ("egress gateway access log, read from every Ready replica since the probe started: >= %d "
                "gateway-hop entries per host for host:port from Ready replicas%s, response flags in %s%s" % (
                    n, " and from the client pod's IP" if client_pod_ip(facts, pre_row) else "",
                    ",".join(s["allowed_response_flags"]),
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
    known = {p["name"]: p for p in pre_row["details"].get("gateway_pods", []) if p.get("name")}
    ready_all = sorted(name for name, p in known.items() if p["ready"])
    cip = client_pod_ip(facts, pre_row)
    problems, unknowns, evidence, actual_parts = [], [], [], []
    if not isinstance(facts.get("preconditions"), dict):
        unknowns.append("the gateway replicas are unknown (check 1 collected no pods)")
    elif not ready_all:
        problems.append("no Ready gateway replica to prove anything with")
    coverage = {}
    for name in ready_all:
        coverage[name] = {"lines": 0, "matches": 0}
    for h in s["hosts"]:
        host = h["host"]
        res = logs.get(host)
        if not isinstance(res, dict):
            problems.append("%s: the gateway log was not read" % host)
            continue
        if res.get("error"):
            problems.append("%s: reading the gateway log failed: %s" % (host, res["error"]))
            evidence.append(as_text(res["error"]))
            continue
        pods = as_dict(res.get("pods"))
        # The module may know better that a replica is not Ready (issue 12: per-pod facts).
        ready = [p for p in ready_all if as_dict(pods.get(p)).get("ready") is not False]
        for name in ready:
            pod = pods.get(name)
            if not pods:
                unknowns.append("%s: the log module returned no per-replica facts" % host)
                break
            if not isinstance(pod, dict):
                problems.append("%s: Ready replica %s was not read" % (host, name))
            elif pod.get("error") or pod.get("read") is False:
                problems.append("%s: Ready replica %s could not be read: %s" % (
                    host, name, as_text(pod.get("error")) or "read: false"))
        count = as_int(res.get("count"))
        entries = [e for e in as_list(res.get("entries")) if isinstance(e, dict)]
        shown_bad = [(e, _entry_problems(e, ready, cip)) for e in entries]
        shown_bad = [(e, why) for e, why in shown_bad if why]
        hop_unknown = any("hop not classified" in why for _e, why in shown_bad)
        if hop_unknown:
            unknowns.append("%s: the log module did not say which hop wrote its entries (entries[].hop)" % host)
        if count is not None and len(entries) >= count:
            # Every counted entry is shown: count the good ones ourselves.
            good_by_pod = {}
            bad_ids = {id(e) for e, _why in shown_bad}
            for e in entries:
                if id(e) not in bad_ids:
                    good_by_pod[e.get("pod")] = good_by_pod.get(e.get("pod"), 0) + 1
        else:
            # More entries than shown: take the per-replica counts, but only when
            # every shown entry is one that counts (the module filtered the same way).
            good_by_pod = {p: (pod_counts(pods.get(p))[1] or 0) for p in ready}
            if shown_bad and not hop_unknown:
                problems.append("%s: the log module counted entries that do not prove the gateway hop from the "
                                "client (%s)" % (host, "; ".join(", ".join(why) for _e, why in shown_bad[:3])))
        good = sum(good_by_pod.get(p, 0) for p in ready)
        bad = bad_flags(res, s["allowed_response_flags"])
        actual_parts.append("%s:%s %s (flags %s) from %s" % (
            host, h["port"], plural(good, "gateway-hop entry"), histogram_dict(res.get("response_flags")) or "none",
            plural(len([p for p in ready if good_by_pod.get(p)]), "Ready replica")))
        if res.get("msg"):
            evidence.append("%s: %s" % (host, as_text(res["msg"])))
        for e, why in shown_bad[:3]:
            evidence.append("does not count (%s): %s" % (", ".join(why), entry_text(e)))
        for e in entries[:3]:
            evidence.append(entry_text(e))
        not_counted = sorted(p for p in pods if p not in ready and (pod_counts(pods[p])[1] or 0) > 0)
        if not_counted:
            evidence.append("%s: entries from %s do not count (not a Ready gateway replica)" % (
                host, ", ".join(not_counted)))
        if good < n and not hop_unknown:
            problems.append("%s: %d gateway-hop entries for %s:%s from Ready replicas, expected >= %d" % (
                host, good, host, h["port"], n))
        if bad:
            problems.append("%s: response flags %s" % (host, histogram_dict(bad)))
        for p in ready:
            lines, _matches = pod_counts(pods.get(p))
            coverage[p]["lines"] += lines or 0
            coverage[p]["matches"] += good_by_pod.get(p, 0)
    uncovered = []
    if s["require_all_replicas"] and len(ready_all) > 1:
        uncovered = [p for p in ready_all if coverage[p]["matches"] == 0]
        if uncovered:
            problems.append("no entries from %s of %s Ready replicas: %s" % (
                len(uncovered), len(ready_all), ", ".join(uncovered)))
    for pod in sorted(coverage):
        evidence.append("pod %s: %d lines read, %d counted" % (pod, coverage[pod]["lines"], coverage[pod]["matches"]))
    if cip:
        evidence.append("client pod IP %s: only entries from it count" % cip)
    return judged_row("gateway_log", expected, problems, unknowns, "; ".join(actual_parts), evidence, reproduce,
                      details={"coverage": coverage, "uncovered_replicas": uncovered, "client_ip": cip})


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
    problems, unknowns, evidence = [], [], []
    if l3.get("error"):
        err = as_text(l3["error"])
        return judged_row("l3_lock", expected, ["the L3 probe pod failed: %s" % err], [], "", [err], reproduce)
    direct = as_dict(l3.get("direct"))
    dparsed = parse_curl_output(direct)
    dcodes = dparsed["codes"]
    stderr = last_line(direct.get("stderr"), 200)
    evidence.append("no-sidecar pod -> %s: %s (curl exit %s)%s" % (
        h["url"], " ".join(dcodes) or "-", direct.get("rc"), (" " + stderr) if stderr else ""))
    dexits = [c["exit"] for c in dparsed["calls"]]
    if not dcodes:
        unknowns.append("the no-sidecar pod's call printed no status code")
    elif any(c != "000" for c in dcodes):
        problems.append("the no-sidecar pod reached %s directly: %s" % (h["host"], histogram(dcodes)))
    elif any(x in CURL_DNS_EXITS for x in dexits):
        unknowns.append("the no-sidecar pod could not resolve %s (curl exit 6): a failed name lookup does not "
                        "show that the L3 policy drops the connection" % h["host"])
    sidecar = as_dict(l3.get("sidecar"))
    scodes = parse_curl_output(sidecar)["codes"]
    if not scodes:
        scodes = list(as_list(as_dict(call_row["details"].get("codes")).get(h["host"])))
    evidence.append("sidecar path -> %s: %s" % (h["url"], " ".join(scodes) or "-"))
    if not scodes or any(c != s["expected_code"] for c in scodes):
        problems.append("the sidecar path returned %s" % (histogram(scodes) or "nothing"))
    note = ""
    rc = as_int(direct.get("rc"))
    if rc not in (None, 28):
        note = " (curl exit %s, not a timeout: a reject rule rather than a drop)" % rc
    return judged_row("l3_lock", expected, problems, unknowns,
                      "direct %s%s, sidecar path %s" % (histogram(dcodes), note, histogram(scodes)),
                      evidence, reproduce, details={"direct_codes": dcodes, "sidecar_codes": scodes})
