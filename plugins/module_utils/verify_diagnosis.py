# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Diagnosis of the egress_verify report: the guide's section 9 symptoms matched against the facts.

Pure, stdlib only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.istio_egress.plugins.module_utils.common_text import histogram_dict, plural
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_common import FAIL, get_path
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_inputs import host_covered
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_parse import cluster_names, entry_text, other_hosts_text, upstream_flag_hits


def _diag(diag_id, symptom, cause, fix, guide, evidence):
    return {"id": diag_id, "symptom": symptom, "cause": cause, "fix": fix, "guide": guide,
            "evidence": list(evidence)}


def diagnose(facts, rows, s):
    """Map the rows and facts to likely causes; returns a list of diagnosis dicts."""
    by = {r["id"]: r for r in rows}
    out = []
    pre = by["preconditions"]["details"]
    gw, client = s["gateway"], s["client"]
    call_codes = by["call"]["details"].get("codes") or {}
    routing = by["routing"]["details"]
    logs = facts.get("gateway_log") if isinstance(facts.get("gateway_log"), dict) else {}
    logs_any = facts.get("gateway_log_any_time") if isinstance(facts.get("gateway_log_any_time"), dict) else {}

    # client 1/2 -> no injection
    no_proxy = [p for p in pre.get("client_pods", []) if not p["proxy"]]
    if no_proxy:
        out.append(_diag(
            "no_injection", "client pod %s without istio-proxy" % ", ".join(
                "%s %s" % (p["name"], p["ready_containers"]) for p in no_proxy),
            "the sidecar was not injected, so nothing intercepts the app's traffic",
            "label the namespace: kubectl label ns %s istio-injection=enabled --overwrite; then "
            "kubectl -n %s rollout restart deploy/%s" % (
                client["namespace"], client["namespace"], client["deployment"]),
            "guide 4.2, 9 (sleep 1/2)", [p["name"] for p in no_proxy]))

    # missing pieces (preconditions)
    gw_pods = pre.get("gateway_pods") or []
    if by["preconditions"]["verdict"] == FAIL and (not gw_pods or not all(p["ready"] for p in gw_pods)):
        out.append(_diag(
            "gateway_not_ready",
            "no Ready egress gateway pod (%s in %s)" % (gw["selector"], gw["namespace"]),
            "the egress gateway is not installed, not rolled out, or its pods carry other labels",
            "install it (egress_gateway role, guide 3.3); kubectl -n %s get deploy,pod -l %s; check that "
            "egress_verify_gateway_labels is the chart's labels" % (gw["namespace"], gw["selector"]),
            "guide 3.4", ["%s %s ready=%s" % (p["name"], p["ready_containers"], p["ready"]) for p in gw_pods]
            or ["no pod"]))
    if by["preconditions"]["verdict"] == FAIL and not (pre.get("client_pods") or []):
        out.append(_diag(
            "client_missing", "no client pod %s in %s" % (client["selector"], client["namespace"]),
            "the test client is not deployed (or has another name/namespace)",
            "deploy it (test_client role, guide 4.1) or set egress_verify_client_name/namespace",
            "guide 4.1", []))
    missing_hosts = [h["host"] for h in s["hosts"]
                     if not any(host_covered(pat, h["host"]) for g in pre.get("gateways") or [] for pat in g["hosts"])]
    if by["preconditions"]["verdict"] == FAIL and missing_hosts:
        out.append(_diag(
            "routes_missing", "no Istio Gateway lists %s" % ", ".join(missing_hosts),
            "the egress objects (ServiceEntry, Gateway, DestinationRule, VirtualService) are not applied",
            "apply them (egress_routes role, guide 6); kubectl get gateways.networking.istio.io -A",
            "guide 6", []))

    # evidence computed first: it decides which of the 000 explanations fits
    dns_evidence = []
    for h, codes in call_codes.items():
        if "503" in codes:
            dns_evidence.append("%s returned 503" % h)
    for h, res in logs.items():
        if isinstance(res, dict):
            hits = upstream_flag_hits(res.get("response_flags"))
            if hits:
                dns_evidence.append("gateway log flags for %s: %s" % (h, histogram_dict(hits)))
    dr_evidence = []
    lookup = {client["namespace"], s["root_namespace"]}
    for d in pre.get("destination_rules") or []:
        host = d.get("host") or ""
        if host.split(".")[0] == gw["service"] and d.get("namespace") not in lookup:
            dr_evidence.append("DestinationRule %s/%s (host %s, subsets %s) is outside the client's lookup path %s"
                               % (d.get("namespace"), d.get("name"), host, ",".join(d.get("subsets") or []) or "-",
                                  ", ".join(sorted(lookup))))
    client_results = (facts.get("routing") or {}).get("client") or {} if isinstance(facts.get("routing"), dict) else {}
    for h in s["hosts"]:
        cres = client_results.get(h["host"])
        if isinstance(cres, dict) and not cres.get("error"):
            dest = cres.get("destination") or {}
            names = cluster_names(cres)
            if dest.get("via_egress_gateway") and dest.get("cluster") and (
                    dest.get("cluster_found") is False or (names and dest["cluster"] not in names)):
                dr_evidence.append("hop-1 cluster %s is referenced by the client's SNI chain but the client has "
                                   "no such cluster" % dest["cluster"])

    # selector/label mismatch (guide 3.2, 9 row 2)
    mismatched = pre.get("mismatched_gateways") or []
    zero_hosts = [h for h, codes in call_codes.items() if codes and all(c == "000" for c in codes)]
    gw_missing_hop2 = [h for h, d in (routing.get("gateway") or {}).items() if not d.get("matched")]
    if mismatched or (zero_hosts and gw_missing_hop2):
        labels = sorted({"%s=%s" % kv for p in pre.get("gateway_pods", []) for kv in p["labels"].items()})
        out.append(_diag(
            "gateway_selector_mismatch",
            "registered host returns 000" if zero_hosts else "Gateway selects no gateway pod",
            "the Gateway's selector does not match the egress gateway pods' labels, so istiod programs no "
            "PASSTHROUGH server on them and hop 2 never exists (no error anywhere)",
            "compare `kubectl -n %s get pod -l %s --show-labels` with the Gateway's spec.selector; make the "
            "chart's labels.istio and the Gateway selector the same value (egress_gateway role)" % (
                gw["namespace"], gw["selector"]),
            "guide 3.2, 9 (registered host 000)",
            ["mismatched Gateways: %s" % (", ".join(mismatched) or "-"), "pod labels: %s" % ", ".join(labels),
             "000 for: %s" % (", ".join(zero_hosts) or "-"),
             "no hop-2 filter chain at the gateway for: %s" % (", ".join(gw_missing_hop2) or "-")]))
    elif zero_hosts and not dns_evidence and not dr_evidence:
        out.append(_diag(
            "registered_host_unreachable", "registered host returns 000 while the Gateway selects the pods",
            "the gateway is programmed but the connection fails: upstream unreachable from the gateway node, "
            "an L3 policy dropping the gateway's own egress, or the flaky public host",
            "look at the gateway log flags for the host (UF/URX = upstream connect failure), try the call "
            "again, check the node's route to the internet",
            "NOTES (httpbin.org is flaky)", ["000 for: %s" % ", ".join(zero_hosts)]))

    # 503 UH -> DNS / resolution
    if dns_evidence:
        out.append(_diag(
            "dns_resolution", "503 / UH (no healthy upstream) or UF",
            "the gateway cannot resolve or reach the external host: ServiceEntry resolution is not DNS "
            "(resolution: NONE loops the gateway to itself), the host is misspelled, or DNS fails on the node",
            "keep ServiceEntry resolution: DNS and check the host spelling; test DNS from the node "
            "(nslookup <host>); with a Calico lock make sure DNS (nodelocaldns 169.254.25.10 + CoreDNS) "
            "is allowed", "guide 9 (503 UH), NOTES", dns_evidence))

    # DR on the wrong lookup path
    if dr_evidence:
        out.append(_diag(
            "destination_rule_lookup_path", "DestinationRule subset for the gateway not visible to the client",
            "the DestinationRule is not on the client's lookup path (client namespace or the root namespace %s); "
            "istiod silently ignores it, so the subset cluster is never built" % s["root_namespace"],
            "move the DestinationRule for %s.%s.svc.cluster.local into %s or %s" % (
                gw["service"], gw["namespace"], client["namespace"], s["root_namespace"]),
            "NOTES (DR lookup path)", dr_evidence))

    # gateway log problems: bypass / logging off / stale lines / other host / one replica
    client_dests = routing.get("client") or {}
    for h in s["hosts"]:
        host = h["host"]
        res = logs.get(host)
        if not isinstance(res, dict) or res.get("error"):
            continue
        count = int(res.get("count") or 0)
        codes = call_codes.get(host) or []
        ok_calls = bool(codes) and all(c == s["expected_code"] for c in codes)
        if count >= s["calls"]:
            continue
        lines_total = int(res.get("lines_total") or 0)
        via = (client_dests.get(host) or {}).get("via_egress_gateway")
        any_time = logs_any.get(host) if isinstance(logs_any.get(host), dict) else None
        other = other_hosts_text(res)
        if any_time and int(any_time.get("count") or 0) > 0 and count == 0:
            out.append(_diag(
                "lines_older_than_probe",
                "gateway log has %s entries for %s, all older than the probe start %s" % (
                    any_time.get("count"), host, get_path(facts, "run.probe_started", "?")),
                "this run's calls did not reach the gateway (earlier runs did: routing changed since), "
                "or the controller's clock is ahead of the nodes' clocks",
                "compare the newest entry's time with the probe start; check the hop-1 route of the client "
                "(check 6); fix the clock skew (NTP) if the times are close",
                "issue 5 (since_time)", [entry_text(e) for e in (any_time.get("entries") or [])[-2:]]))
        elif lines_total == 0 and via is not False and ok_calls:
            out.append(_diag(
                "access_logging_off",
                "no access-log lines at all from the gateway pods while the calls %s" % (
                    "returned %s" % s["expected_code"] if ok_calls else "were routed to the gateway"),
                "access logging is off: DefaultMeshConfig has accessLogFile \"\" (only the demo profile logs)",
                "apply a telemetry.istio.io/v1 Telemetry in %s selecting %s with accessLogging "
                "providers [{name: envoy}], or set meshConfig.accessLogFile: /dev/stdout" % (
                    gw["namespace"], gw["selector"]),
                "NOTES (Access logs are off by default)",
                ["lines read: 0 from %s" % plural(len(res.get("pods") or {}), "pod")]))
        elif other and ok_calls:
            out.append(_diag(
                "other_host_only",
                "the gateway logged other hosts (%s) but not %s" % (other, host),
                "the gateway path works, but the calls to %s leave through the client sidecar directly: the "
                "hop-1 match of its VirtualService (gateways: [mesh], sniHosts) does not list %s" % (host, host),
                "add %s to the hop-1 tls.match sniHosts (and the Gateway/ServiceEntry hosts) of the "
                "VirtualService; check the spelling against the called URL" % host,
                "guide 6.4, 9 (200 but no gateway log)", [res.get("msg") or ""]))
        elif ok_calls:
            out.append(_diag(
                "hop1_not_matched",
                "calls to %s return %s but the gateway log has %d entries" % (host, s["expected_code"], count),
                "the traffic leaves through the client sidecar directly (ALLOW_ANY passthrough): hop 1 of the "
                "VirtualService is not matched",
                "check the VirtualService hop-1 match (gateways: [mesh], port %s, sniHosts: [%s]) and that it "
                "is visible to the client namespace; REGISTRY_ONLY turns a silent bypass into a visible failure"
                % (h["port"], host),
                "guide 7.2, 9 (200 but no gateway log)",
                [(client_dests.get(host) or {}).get("evidence") or "client config not read", res.get("msg") or ""]))

    # logs from only one of several replicas
    uncovered = by["gateway_log"]["details"].get("uncovered_replicas") or []
    coverage = by["gateway_log"]["details"].get("coverage") or {}
    if uncovered and by["gateway_log"]["verdict"] == FAIL and len(uncovered) < len(
            [p for p in pre.get("gateway_pods", []) if p["ready"]]):
        silent = [p for p in uncovered if (coverage.get(p) or {}).get("lines", 0) == 0]
        out.append(_diag(
            "replica_without_logs",
            "entries from only some gateway replicas; none from %s" % ", ".join(uncovered),
            "%s: those replicas wrote no access-log line at all: their access logging is off (a Telemetry "
            "selector or a pod label that only matches some replicas) or they receive no traffic (not an "
            "endpoint of the Service)" % ", ".join(silent) if silent else
            "those replicas log, but not the probed host: they are not programmed with the host's "
            "PASSTHROUGH server (labels differ between replicas, or xDS is stale on them)",
            "compare the replicas' labels (kubectl -n %s get pod -l %s --show-labels), the Telemetry selector, "
            "`kubectl -n %s get endpoints %s` and istioctl proxy-status for each replica" % (
                gw["namespace"], gw["selector"], gw["namespace"], gw["service"]),
            "issue 3 (HA gateways), NOTES",
            ["pod %s: %d lines, %d matching" % (p, c["lines"], c["matches"]) for p, c in sorted(coverage.items())]))

    # routing: bypass visible in the config even if the log said nothing
    for h in s["hosts"]:
        dest = client_dests.get(h["host"])
        if not isinstance(dest, dict) or dest.get("via_egress_gateway") is not False:
            continue
        if any(d["id"] in ("hop1_not_matched", "other_host_only") for d in out):
            break
        if dest.get("matched"):
            symptom = "the client sidecar sends %s:%s to %s, not to the egress gateway" % (
                h["host"], h["port"], dest.get("cluster"))
            cause = ("the client's SNI route for the host goes straight out: the VirtualService has the "
                     "host but no hop-1 tls route for gateways: [mesh] to the egress gateway")
        else:
            symptom = "the client sidecar has no SNI route for %s:%s" % (h["host"], h["port"])
            cause = "the VirtualService hop 1 (gateways: [mesh], sniHosts) is missing or not visible to the client"
        out.append(_diag(
            "hop1_not_matched", symptom, cause,
            "add/fix the hop-1 tls route (match gateways: [mesh], port %s, sniHosts: [%s] -> %s.%s.svc.cluster.local "
            "subset) and check the VirtualService's namespace/exportTo" % (
                h["port"], h["host"], gw["service"], gw["namespace"]),
            "guide 6.4, 9", [dest.get("evidence") or ""]))

    # not blocked -> REGISTRY_ONLY not applied
    if by["blocking"]["verdict"] == FAIL:
        out.append(_diag(
            "registry_only_not_applied", "unregistered host not blocked: %s" % by["blocking"]["actual"],
            "the proxies still run with ALLOW_ANY (PassthroughCluster): the REGISTRY_ONLY Sidecar is not in the "
            "client namespace or is named/selected differently, or the mesh-wide setting was not rolled out",
            "apply Sidecar 'default' with outboundTrafficPolicy.mode: REGISTRY_ONLY in %s (registry_only role) "
            "or meshConfig.outboundTrafficPolicy.mode; then check istioctl proxy-config clusters for "
            "BlackHoleCluster only" % client["namespace"],
            "guide 7.4, 9 (not blocked)", by["blocking"]["evidence"]))

    # xDS
    if by["xds_sync"]["verdict"] == FAIL:
        out.append(_diag(
            "xds_not_synced", "proxies not SYNCED: %s" % by["xds_sync"]["actual"],
            "istiod has not pushed the current config to the proxies (or they are not connected)",
            "istioctl proxy-status; istioctl analyze; check the istiod logs and the proxies' istio-agent logs",
            "guide 3.4, 9 (no cluster in proxy-config)", by["xds_sync"]["evidence"]))
    if by["analyze"]["verdict"] == FAIL:
        out.append(_diag(
            "analyze_findings", "istioctl analyze: %s" % by["analyze"]["actual"],
            "the objects have validation findings (IST0101 referenced selector/host not found is the usual "
            "egress one)", "fix the objects named in the findings", "guide 3.4, 6.5", by["analyze"]["evidence"]))

    # L3 lock
    if by["l3_lock"]["verdict"] == FAIL:
        direct = by["l3_lock"]["details"].get("direct_codes") or []
        if direct and any(c != "000" for c in direct):
            out.append(_diag(
                "l3_not_locked", "a pod without sidecar reaches the external host directly",
                "the Calico policy is not applied to the namespace or allows 0.0.0.0/0 egress",
                "check the policy (calicoctl get globalnetworkpolicy -o yaml) selects the workload namespace and "
                "ends in a Deny", "guide 11 (Calico), NOTES (Calico)", by["l3_lock"]["evidence"]))
        elif not any(d["id"] in ("gateway_selector_mismatch", "dns_resolution", "destination_rule_lookup_path",
                                 "no_injection") for d in out):
            out.append(_diag(
                "l3_blocks_sidecar_path", "the sidecar path fails with the Calico policy on",
                "the policy blocks the egress gateway pods' target ports, DNS or istiod 15012",
                "allow the gateway pods on their target ports (post-DNAT), nodelocaldns 169.254.25.10 + CoreDNS "
                "UDP/TCP 53 and istiod 15012", "NOTES (Calico)", by["l3_lock"]["evidence"]))
    return out
