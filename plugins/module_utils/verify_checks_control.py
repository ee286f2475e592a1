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
    ctx,
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
    parse_analyze,
    parse_proxy_status,
    proxy_id_matches,
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
    gw_pods = [pod_summary(p) for p in pre.get("gateway_pods") or []]
    cl_pods = [pod_summary(p, client.get("proxy_container", "istio-proxy")) for p in pre.get("client_pods") or []]
    gateways = [gateway_summary(g) for g in pre.get("gateways") or []]
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
               "destination_rules": [destination_rule_summary(d) for d in pre.get("destination_rules") or []]}
    return row("preconditions", expected, actual, FAIL if problems else PASS, evidence, reproduce,
                details=details)


def check_xds(facts, s, pre_row):
    expected = "gateway and client proxies: %s SYNCED (istioctl proxy-status -o json)" % "/".join(
        REQUIRED_XDS_TYPES)
    reproduce = ["%s proxy-status -o json" % ctx(s, "istioctl"),
                 "%s proxy-status -v 1" % ctx(s, "istioctl")]
    if not s["data_plane"]:
        return not_run_row("xds_sync", expected, no_data_plane_reason(s), reproduce)
    if not s["istioctl"]:
        return not_run_row("xds_sync", expected, no_istioctl_reason(s), reproduce)
    xds = facts.get("xds")
    if not isinstance(xds, dict):
        return not_run_row("xds_sync", expected, "proxy-status was not collected", reproduce)
    if xds.get("rc") not in (0, None):
        msg = (xds.get("stderr") or xds.get("stdout") or "").strip().splitlines()
        text = "istioctl proxy-status failed (rc %s): %s" % (xds.get("rc"), msg[-1] if msg else "no output")
        return row("xds_sync", expected, text, FAIL, [text], reproduce)
    try:
        proxies = parse_proxy_status(xds.get("stdout", ""))
    except VerifyReportError as exc:
        return row("xds_sync", expected, str(exc), FAIL, [str(exc)], reproduce)
    wanted = [(p["name"], p["namespace"]) for p in pre_row["details"].get("gateway_pods", [])]
    wanted += [(p["name"], p["namespace"]) for p in pre_row["details"].get("client_pods", [])]
    if not wanted:
        return row("xds_sync", expected, "no gateway or client pod known to check", FAIL,
                    ["proxy-status lists %s" % plural(len(proxies), "proxy")], reproduce)
    problems, evidence = [], []
    for name, ns in wanted:
        found = [p for p in proxies if proxy_id_matches(p["id"], name, ns)]
        if not found:
            problems.append("%s.%s is not connected to istiod" % (name, ns))
            evidence.append("%s.%s: not in proxy-status" % (name, ns))
            continue
        ok, text = xds_verdict(found[0])
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
    runs = facts.get("analyze")
    if not isinstance(runs, list) or not runs:
        return not_run_row("analyze", expected, "istioctl analyze was not run", reproduce)
    problems, evidence, messages = [], [], []
    for run in runs:
        ns = run.get("namespace", "?")
        parsed = parse_analyze(run.get("stdout"), run.get("stderr"))
        findings = [m for m in parsed["messages"] if m["level"] in ("Error", "Warning")]
        for m in parsed["messages"]:
            messages.append(dict(m, namespace=ns))
            evidence.append("%s: %s [%s] (%s) %s" % (ns, m["level"], m["code"], m["resource"], m["text"]))
        if findings:
            problems.append("%s: %s" % (ns, histogram("%s %s" % (m["level"], m["code"]) for m in findings)))
        elif run.get("rc") not in (0, None):
            err = (run.get("stderr") or run.get("stdout") or "").strip().splitlines()
            problems.append("%s: istioctl analyze failed (rc %s): %s" % (ns, run.get("rc"),
                                                                         err[-1] if err else "no output"))
        elif parsed["no_issues"]:
            evidence.append("%s: No validation issues found" % ns)
        elif not parsed["messages"]:
            evidence.append("%s: rc 0, no messages" % ns)
    actual = "; ".join(problems) if problems else "0 warnings, 0 errors (%s)" % plural(len(runs), "namespace")
    return row("analyze", expected, actual, FAIL if problems else PASS, evidence, reproduce,
                details={"messages": messages})
