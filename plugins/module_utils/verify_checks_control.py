# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks 1-3 of the egress_verify report: preconditions, xDS sync, istioctl analyze.

Pure, stdlib only. Each check returns one row (verify_common.row); the exact
conditions for `pass` are listed in docs/egress_verify.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.homelab.istio_egress.plugins.module_utils.common_text import histogram, plural
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_common import (
    FAIL,
    PASS,
    VerifyReportError,
    as_dict,
    as_int,
    as_list,
    as_text,
    ctx,
    judged_row,
    last_line,
    no_data_plane_reason,
    no_istioctl_reason,
    not_run_row,
    row,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_inputs import (
    destination_rule_summary,
    gateway_summary,
    host_covered,
    pod_summary,
    selector_matches,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_parse import (
    REQUIRED_XDS_TYPES,
    istiod_version,
    minor_version,
    parse_analyze,
    parse_istioctl_version,
    parse_proxy_status,
    proxy_id_matches,
    proxy_pod,
    xds_verdict,
)


def check_preconditions(facts, s):
    gw, client = s["gateway"], s["client"]
    expected = ("gateway pods Ready; every Gateway for the hosts selects them (labels match); "
                "client pod has its istio-proxy sidecar (container or native sidecar)")
    reproduce = [
        "%s -n %s get pod -l %s --show-labels" % (ctx(s), gw["namespace"], gw["selector"]),
        "%s get gateways.networking.istio.io -A -o "
        "custom-columns=NS:.metadata.namespace,NAME:.metadata.name,SELECTOR:.spec.selector,HOSTS:.spec.servers[*].hosts"
        % ctx(s),
        "%s -n %s get pod -l %s" % (ctx(s), client["namespace"], client["selector"]),
    ]
    pre = facts.get("preconditions")
    if not isinstance(pre, dict):
        return not_run_row("preconditions", expected, "no preconditions facts were collected", reproduce)
    if pre.get("error"):
        return row("preconditions", expected, "could not read the objects: %s" % pre["error"], FAIL,
                   evidence=[pre["error"]], reproduce=reproduce)
    gw_pods = [pod_summary(p) for p in as_list(pre.get("gateway_pods"))]
    cl_pods = [pod_summary(p, client.get("proxy_container", "istio-proxy")) for p in as_list(pre.get("client_pods"))]
    gateways = [gateway_summary(g) for g in as_list(pre.get("gateways"))]
    problems, evidence = [], []

    ready = [p for p in gw_pods if p["ready"]]
    evidence.append("gateway pods (%s in %s): %s" % (gw["selector"], gw["namespace"], ", ".join(
        "%s %s ready=%s" % (p["name"], p["ready_containers"], p["ready"]) for p in gw_pods) or "none"))
    if not gw_pods:
        problems.append("no gateway pod matches %s in %s" % (gw["selector"], gw["namespace"]))
    elif len(ready) < len(gw_pods):
        problems.append("%d of %d gateway pods Ready" % (len(ready), len(gw_pods)))

    relevant, mismatched = [], []
    for g in gateways:
        if not any(host_covered(pat, h["host"]) for pat in g["hosts"] for h in s["hosts"]):
            continue
        relevant.append(g)
        selected = [p["name"] for p in gw_pods if selector_matches(g["selector"], p["labels"])]
        evidence.append("Gateway %s/%s selector %s hosts %s -> selects %s" % (
            g["namespace"], g["name"], json.dumps(g["selector"], sort_keys=True), ",".join(g["hosts"]),
            ", ".join(selected) or "NO gateway pod"))
        if gw_pods and not selected:
            mismatched.append(g)
    for h in s["hosts"]:
        if not any(host_covered(pat, h["host"]) for g in relevant for pat in g["hosts"]):
            problems.append("no Gateway lists host %s" % h["host"])
    if mismatched:
        labels = sorted({"%s=%s" % kv for p in gw_pods for kv in p["labels"].items()})
        problems.append("Gateway selector matches no gateway pod (%s); pod labels: %s" % (
            ", ".join("%s/%s %s" % (g["namespace"], g["name"], json.dumps(g["selector"], sort_keys=True))
                      for g in mismatched), ", ".join(labels)))

    evidence.append("client pods (%s in %s): %s" % (client["selector"], client["namespace"], ", ".join(
        "%s %s proxy=%s" % (p["name"], p["ready_containers"], p["proxy"] or "none") for p in cl_pods) or "none"))
    no_proxy = [p for p in cl_pods if not p["proxy"]]
    if not cl_pods:
        problems.append("no client pod matches %s in %s" % (client["selector"], client["namespace"]))
    if no_proxy:
        problems.append("client pod without sidecar: %s" % ", ".join(
            "%s (%s)" % (p["name"], p["ready_containers"]) for p in no_proxy))
    not_ready = [p for p in cl_pods if not p["ready"]]
    if not_ready:
        problems.append("client pod not Ready: %s" % ", ".join(p["name"] for p in not_ready))

    actual = "; ".join(problems) if problems else "%s Ready, %s matched by %s, client %s" % (
        plural(len(ready), "gateway pod"), "all selectors", plural(len(relevant), "Gateway"),
        ", ".join("%s %s (%s)" % (p["name"], p["ready_containers"], p["proxy"]) for p in cl_pods))
    details = {"gateway_pods": gw_pods, "client_pods": cl_pods, "gateways": relevant,
               "mismatched_gateways": [g["name"] for g in mismatched],
               "destination_rules": [destination_rule_summary(d) for d in as_list(pre.get("destination_rules"))]}
    return row("preconditions", expected, actual, FAIL if problems else PASS, evidence, reproduce,
               details=details)


def istioctl_skew(facts, s):
    """(reason, note) about the istioctl client against istiod (issue 16.4).

    A different minor version means istioctl's output may not be what the
    parsers expect: checks 2 and 3 are then not_run with `reason`. When either
    version is unknown, nothing is decided and `note` says so in the evidence.
    """
    run = as_dict(facts.get("run"))
    client = parse_istioctl_version(run.get("istioctl_version"))
    istiod = as_dict(facts.get("istiod"))
    server, source = istiod_version(istiod.get("images"), istiod.get("injector_values"))
    if not client or not server:
        return "", "istioctl %s, istiod %s: version skew not checked" % (
            client or "version unknown", server or "version unknown")
    if minor_version(client) != minor_version(server):
        return ("istioctl %s is not istiod's minor version %s (%s): its output may not be what this "
                "check parses; set egress_verify_istioctl to an istioctl %d.%d.x" % (
                    client, server, source, minor_version(server)[0], minor_version(server)[1])), ""
    return "", "istioctl %s matches istiod %s (%s)" % (client, server, source)


def check_xds(facts, s, pre_row):
    expected = "gateway and client proxies: %s SYNCED (istioctl proxy-status -o json), no STALE type on any replica" % (
        "/".join(REQUIRED_XDS_TYPES))
    reproduce = ["%s proxy-status -o json" % ctx(s, "istioctl"),
                 "%s proxy-status -v 1" % ctx(s, "istioctl")]
    if not s["data_plane"]:
        return not_run_row("xds_sync", expected, no_data_plane_reason(s), reproduce)
    if not s["istioctl"]:
        return not_run_row("xds_sync", expected, no_istioctl_reason(s), reproduce)
    skew, note = istioctl_skew(facts, s)
    if skew:
        return not_run_row("xds_sync", expected, skew, reproduce)
    xds = facts.get("xds")
    if not isinstance(xds, dict):
        return not_run_row("xds_sync", expected, "proxy-status was not collected", reproduce)
    rc = as_int(xds.get("rc"))
    if xds.get("rc") not in (None, "") and rc != 0:
        text = "istioctl proxy-status failed (rc %s): %s" % (xds.get("rc"), last_line(
            as_text(xds.get("stderr")) or as_text(xds.get("stdout"))) or "no output")
        return row("xds_sync", expected, text, FAIL, [text], reproduce)
    if not as_text(xds.get("stdout")).strip():
        return not_run_row("xds_sync", expected, "istioctl proxy-status printed nothing", reproduce)
    try:
        proxies = parse_proxy_status(xds.get("stdout"))
    except VerifyReportError as exc:
        return row("xds_sync", expected, str(exc), FAIL, [str(exc)], reproduce)
    gw = s["gateway"]
    wanted = [(p["name"], p["namespace"]) for p in pre_row["details"].get("gateway_pods", [])]
    wanted += [(p["name"], p["namespace"]) for p in pre_row["details"].get("client_pods", [])]
    # Every replica of the gateway Deployment that istiod knows counts, also
    # one the pod list did not show (a STALE replica still takes traffic).
    for p in proxies:
        pod, ns = proxy_pod(p["id"])
        if pod and ns == gw["namespace"] and pod.startswith(gw["deployment"] + "-") and (pod, ns) not in wanted:
            wanted.append((pod, ns))
    if not wanted:
        return row("xds_sync", expected, "no gateway or client pod known to check", FAIL,
                   ["proxy-status lists %s" % plural(len(proxies), "proxy")], reproduce)
    problems, evidence = [], [note] if note else []
    for name, ns in wanted:
        found = [p for p in proxies if proxy_id_matches(p["id"], name, ns)]
        if not found:
            problems.append("%s.%s is not connected to istiod" % (name, ns))
            evidence.append("%s.%s: not in proxy-status" % (name, ns))
            continue
        # A proxy listed more than once (two istiod connections) must be SYNCED in every entry.
        for proxy in found:
            ok, text = xds_verdict(proxy)
            evidence.append("%s.%s: %s" % (name, ns, text))
            if not ok:
                problems.append("%s.%s %s" % (name, ns, text))
    actual = "; ".join(problems) if problems else "%s SYNCED" % plural(len(wanted), "proxy")
    return row("xds_sync", expected, actual, FAIL if problems else PASS, evidence, reproduce,
               details={"proxies": proxies})


def check_analyze(facts, s):
    expected = "istioctl analyze: 0 warnings, 0 errors in %s" % ", ".join(s["namespaces"])
    reproduce = ["%s analyze -n %s" % (ctx(s, "istioctl"), ns) for ns in s["namespaces"]]
    if not s["istioctl"]:
        return not_run_row("analyze", expected, no_istioctl_reason(s), reproduce)
    skew, note = istioctl_skew(facts, s)
    if skew:
        return not_run_row("analyze", expected, skew, reproduce)
    runs = facts.get("analyze")
    if not isinstance(runs, list) or not runs:
        return not_run_row("analyze", expected, "istioctl analyze was not run", reproduce)
    problems, unknowns, evidence, messages = [], [], [note] if note else [], []
    seen = set()
    for run in runs:
        run = as_dict(run)
        ns = as_text(run.get("namespace")) or "?"
        seen.add(ns)
        parsed = parse_analyze(run.get("stdout"), run.get("stderr"))
        rc = as_int(run.get("rc"))
        findings = [m for m in parsed["messages"] if m["level"] in ("Error", "Warning")]
        for m in parsed["messages"]:
            messages.append(dict(m, namespace=ns))
            evidence.append("%s: %s [%s] (%s) %s" % (ns, m["level"], m["code"], m["resource"], m["text"]))
        if findings:
            problems.append("%s: %s" % (ns, histogram("%s %s" % (m["level"], m["code"]) for m in findings)))
        elif rc is None and run.get("rc") not in (None, ""):
            unknowns.append("%s: istioctl analyze exit status %r is not a number" % (ns, run.get("rc")))
        elif rc not in (0, None):
            problems.append("%s: istioctl analyze failed (rc %s): %s" % (
                ns, rc, last_line(as_text(run.get("stderr")) or as_text(run.get("stdout"))) or "no output"))
        elif parsed["empty"]:
            unknowns.append("%s: istioctl analyze printed nothing%s" % (
                ns, "" if rc == 0 else " and no exit status was recorded"))
        elif rc is None:
            unknowns.append("%s: no exit status was recorded for istioctl analyze" % ns)
        elif parsed["no_issues"]:
            evidence.append("%s: No validation issues found" % ns)
        elif parsed["messages"]:
            evidence.append("%s: rc 0, only Info messages" % ns)
        else:
            unknowns.append("%s: rc 0 but neither findings nor 'No validation issues found' in the output (%s)" % (
                ns, last_line(as_text(run.get("stderr")) or as_text(run.get("stdout")), 120)))
    missing = [ns for ns in s["namespaces"] if ns not in seen]
    if missing:
        unknowns.append("istioctl analyze did not run for %s" % ", ".join(missing))
    return judged_row("analyze", expected, problems, unknowns,
                      "0 warnings, 0 errors (%s)" % plural(len(runs), "namespace"), evidence, reproduce,
                      details={"messages": messages})
