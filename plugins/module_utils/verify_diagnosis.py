# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Diagnosis of the egress_verify report: the guide's section 9 symptoms matched against the facts.

Pure, stdlib only. The diagnosis is a list of small named rules (RULES), one
id per rule, run in order; each sees the facts, the rows and what the rules
before it found. docs/egress_verify.md ("Diagnosis") lists every id with its
trigger, likely cause and fix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.istio_egress.plugins.module_utils.common_text import histogram_dict, plural
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_checks_config import bypass_path
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_common import (
    FAIL,
    NOT_RUN,
    as_dict,
    as_int,
    as_list,
    as_text,
    get_path,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_inputs import host_covered
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_parse import (
    CURL_DNS_EXITS,
    cluster_names,
    entry_text,
    other_hosts_text,
    upstream_flag_hits,
)


def _diag(diag_id, symptom, cause, fix, guide, evidence):
    return {"id": diag_id, "symptom": symptom, "cause": cause, "fix": fix, "guide": guide,
            "evidence": [as_text(e) for e in evidence]}


class _Context(object):
    """What the rules read, computed once from the facts and the rows."""

    def __init__(self, facts, rows, s):
        self.facts, self.s = facts, s
        self.by = {r["id"]: r for r in rows}
        self.pre = self.by["preconditions"]["details"]
        self.gw, self.client = s["gateway"], s["client"]
        self.call_codes = as_dict(self.by["call"]["details"].get("codes"))
        self.routing = self.by["routing"]["details"]
        self.logs = as_dict(facts.get("gateway_log"))
        self.logs_any = as_dict(facts.get("gateway_log_any_time"))
        self.zero_hosts = [h for h, codes in self.call_codes.items() if codes and all(c == "000" for c in codes)]
        self.dns_evidence = self._dns_evidence()
        self.dr_evidence = self._dr_evidence()

    def verdict(self, check_id):
        return self.by[check_id]["verdict"]

    def _dns_evidence(self):
        out = []
        for h, codes in self.call_codes.items():
            if "503" in codes:
                out.append("%s returned 503" % h)
        for h, res in self.logs.items():
            hits = upstream_flag_hits(as_dict(res).get("response_flags"))
            if hits:
                out.append("gateway log flags for %s: %s" % (h, histogram_dict(hits)))
        return out

    def _dr_evidence(self):
        out = []
        lookup = {self.client["namespace"], self.s["root_namespace"]}
        for d in self.pre.get("destination_rules") or []:
            host = d.get("host") or ""
            if host.split(".")[0] == self.gw["service"] and d.get("namespace") not in lookup:
                out.append("DestinationRule %s/%s (host %s, subsets %s) is outside the client's lookup path %s"
                           % (d.get("namespace"), d.get("name"), host, ",".join(d.get("subsets") or []) or "-",
                              ", ".join(sorted(lookup))))
        client_results = as_dict(as_dict(self.facts.get("routing")).get("client"))
        for h in self.s["hosts"]:
            cres = client_results.get(h["host"])
            if isinstance(cres, dict) and not cres.get("error"):
                dest = as_dict(cres.get("destination"))
                names = cluster_names(cres)
                cluster = as_text(dest.get("cluster"))
                if dest.get("via_egress_gateway") and cluster and (
                        dest.get("cluster_found") is False or (names and cluster not in names)):
                    out.append("hop-1 cluster %s is referenced by the client's SNI chain but the client has "
                               "no such cluster" % cluster)
        return out

    def log_symptom(self, h):
        """Which gateway-log rule explains too few entries for host h (or None)."""
        s, host = self.s, h["host"]
        res = self.logs.get(host)
        if not isinstance(res, dict) or res.get("error"):
            return None
        count = as_int(res.get("count")) or 0
        codes = as_list(self.call_codes.get(host))
        ok_calls = bool(codes) and all(c == s["expected_code"] for c in codes)
        if count >= s["calls"]:
            return None
        via = as_dict(as_dict(self.routing.get("client")).get(host)).get("via_egress_gateway")
        any_time = self.logs_any.get(host) if isinstance(self.logs_any.get(host), dict) else None
        if any_time and (as_int(any_time.get("count")) or 0) > 0 and count == 0:
            return "lines_older_than_probe"
        if (as_int(res.get("lines_total")) or 0) == 0 and via is not False and ok_calls:
            return "access_logging_off"
        if other_hosts_text(res) and ok_calls:
            return "other_host_only"
        if ok_calls:
            return "hop1_not_matched"
        return None


# ---------------------------------------------------------------- the rules (in order)

def no_injection(c, out):
    """client 1/2: a client pod without istio-proxy."""
    no_proxy = [p for p in c.pre.get("client_pods", []) if not p["proxy"]]
    if no_proxy:
        client = c.client
        out.append(_diag(
            "no_injection", "client pod %s without istio-proxy" % ", ".join(
                "%s %s" % (p["name"], p["ready_containers"]) for p in no_proxy),
            "the sidecar was not injected, so nothing intercepts the app's traffic",
            "label the namespace: kubectl label ns %s istio-injection=enabled --overwrite; then "
            "kubectl -n %s rollout restart deploy/%s" % (
                client["namespace"], client["namespace"], client["deployment"]),
            "guide 4.2, 9 (sleep 1/2)", [p["name"] for p in no_proxy]))


def gateway_not_ready(c, out):
    gw, gw_pods = c.gw, c.pre.get("gateway_pods") or []
    if c.verdict("preconditions") == FAIL and (not gw_pods or not all(p["ready"] for p in gw_pods)):
        out.append(_diag(
            "gateway_not_ready",
            "no Ready egress gateway pod (%s in %s)" % (gw["selector"], gw["namespace"]),
            "the egress gateway is not installed, not rolled out, or its pods carry other labels",
            "install it (egress_gateway role, guide 3.3); kubectl -n %s get deploy,pod -l %s; check that "
            "egress_verify_gateway_labels is the chart's labels" % (gw["namespace"], gw["selector"]),
            "guide 3.4", ["%s %s ready=%s" % (p["name"], p["ready_containers"], p["ready"]) for p in gw_pods]
            or ["no pod"]))


def client_missing(c, out):
    if c.verdict("preconditions") == FAIL and not (c.pre.get("client_pods") or []):
        out.append(_diag(
            "client_missing", "no client pod %s in %s" % (c.client["selector"], c.client["namespace"]),
            "the test client is not deployed (or has another name/namespace)",
            "deploy it (test_client role, guide 4.1) or set egress_verify_client_name/namespace",
            "guide 4.1", []))


def routes_missing(c, out):
    missing = [h["host"] for h in c.s["hosts"]
               if not any(host_covered(pat, h["host"]) for g in c.pre.get("gateways") or [] for pat in g["hosts"])]
    if c.verdict("preconditions") == FAIL and missing:
        out.append(_diag(
            "routes_missing", "no Istio Gateway lists %s" % ", ".join(missing),
            "the egress objects (ServiceEntry, Gateway, DestinationRule, VirtualService) are not applied",
            "apply them (egress_routes role, guide 6); kubectl get gateways.networking.istio.io -A",
            "guide 6", []))


def gateway_selector_mismatch(c, out):
    """guide 3.2, 9 row 2: the Gateway selects no gateway pod, or 000 with no hop-2 chain."""
    mismatched = c.pre.get("mismatched_gateways") or []
    gw_missing_hop2 = [h for h, d in as_dict(c.routing.get("gateway")).items() if not as_dict(d).get("matched")]
    if mismatched or (c.zero_hosts and gw_missing_hop2):
        gw = c.gw
        labels = sorted({"%s=%s" % kv for p in c.pre.get("gateway_pods", []) for kv in p["labels"].items()})
        out.append(_diag(
            "gateway_selector_mismatch",
            "registered host returns 000" if c.zero_hosts else "Gateway selects no gateway pod",
            "the Gateway's selector does not match the egress gateway pods' labels, so istiod programs no "
            "PASSTHROUGH server on them and hop 2 never exists (no error anywhere)",
            "compare `kubectl -n %s get pod -l %s --show-labels` with the Gateway's spec.selector; make the "
            "chart's labels.istio and the Gateway selector the same value (egress_gateway role)" % (
                gw["namespace"], gw["selector"]),
            "guide 3.2, 9 (registered host 000)",
            ["mismatched Gateways: %s" % (", ".join(mismatched) or "-"), "pod labels: %s" % ", ".join(labels),
             "000 for: %s" % (", ".join(c.zero_hosts) or "-"),
             "no hop-2 filter chain at the gateway for: %s" % (", ".join(gw_missing_hop2) or "-")]))


def registered_host_unreachable(c, out):
    if c.zero_hosts and not c.dns_evidence and not c.dr_evidence and not _found(out, "gateway_selector_mismatch"):
        out.append(_diag(
            "registered_host_unreachable", "registered host returns 000 while the Gateway selects the pods",
            "the gateway is programmed but the connection fails: upstream unreachable from the gateway node, "
            "an L3 policy dropping the gateway's own egress, or the flaky public host",
            "look at the gateway log flags for the host (UF/URX = upstream connect failure), try the call "
            "again, check the node's route to the internet",
            "NOTES (httpbin.org is flaky)", ["000 for: %s" % ", ".join(c.zero_hosts)]))


def dns_resolution(c, out):
    """guide 9: 503 UH -> DNS / ServiceEntry resolution."""
    if c.dns_evidence:
        out.append(_diag(
            "dns_resolution", "503 / UH (no healthy upstream) or UF",
            "the gateway cannot resolve or reach the external host: ServiceEntry resolution is not DNS "
            "(resolution: NONE loops the gateway to itself), the host is misspelled, or DNS fails on the node",
            "keep ServiceEntry resolution: DNS and check the host spelling; test DNS from the node "
            "(nslookup <host>); with a Calico lock make sure DNS (nodelocaldns 169.254.25.10 + CoreDNS) "
            "is allowed", "guide 9 (503 UH), NOTES", c.dns_evidence))


def destination_rule_lookup_path(c, out):
    if c.dr_evidence:
        s, gw, client = c.s, c.gw, c.client
        out.append(_diag(
            "destination_rule_lookup_path", "DestinationRule subset for the gateway not visible to the client",
            "the DestinationRule is not on the client's lookup path (client namespace or the root namespace %s); "
            "istiod silently ignores it, so the subset cluster is never built" % s["root_namespace"],
            "move the DestinationRule for %s.%s.svc.cluster.local into %s or %s" % (
                gw["service"], gw["namespace"], client["namespace"], s["root_namespace"]),
            "NOTES (DR lookup path)", c.dr_evidence))


def lines_older_than_probe(c, out):
    for h in c.s["hosts"]:
        if c.log_symptom(h) != "lines_older_than_probe":
            continue
        any_time = c.logs_any[h["host"]]
        out.append(_diag(
            "lines_older_than_probe",
            "gateway log has %s entries for %s, all older than the probe start %s" % (
                any_time.get("count"), h["host"], get_path(c.facts, "run.probe_started", "?")),
            "this run's calls did not reach the gateway (earlier runs did: routing changed since), "
            "or the controller's clock is ahead of the nodes' clocks",
            "compare the newest entry's time with the probe start; check the hop-1 route of the client "
            "(check 6); fix the clock skew (NTP) if the times are close",
            "issue 5 (since_time)", [entry_text(e) for e in as_list(any_time.get("entries"))[-2:]]))


def access_logging_off(c, out):
    s, gw = c.s, c.gw
    for h in s["hosts"]:
        if c.log_symptom(h) != "access_logging_off":
            continue
        res = c.logs[h["host"]]
        out.append(_diag(
            "access_logging_off",
            "no access-log lines at all from the gateway pods while the calls returned %s" % s["expected_code"],
            "access logging is off: DefaultMeshConfig has accessLogFile \"\" (only the demo profile logs)",
            "apply a telemetry.istio.io/v1 Telemetry in %s selecting %s with accessLogging "
            "providers [{name: envoy}], or set meshConfig.accessLogFile: /dev/stdout" % (
                gw["namespace"], gw["selector"]),
            "NOTES (Access logs are off by default)",
            ["lines read: 0 from %s" % plural(len(as_dict(res.get("pods"))), "pod")]))


def other_host_only(c, out):
    for h in c.s["hosts"]:
        if c.log_symptom(h) != "other_host_only":
            continue
        host, res = h["host"], c.logs[h["host"]]
        out.append(_diag(
            "other_host_only",
            "the gateway logged other hosts (%s) but not %s" % (other_hosts_text(res), host),
            "the gateway path works, but the calls to %s leave through the client sidecar directly: the "
            "hop-1 match of its VirtualService (gateways: [mesh], sniHosts) does not list %s" % (host, host),
            "add %s to the hop-1 tls.match sniHosts (and the Gateway/ServiceEntry hosts) of the "
            "VirtualService; check the spelling against the called URL" % host,
            "guide 6.4, 9 (200 but no gateway log)", [res.get("msg") or ""]))


def hop1_not_matched(c, out):
    """200 but (almost) nothing in the gateway log, or the client's config shows the bypass."""
    s, gw = c.s, c.gw
    client_dests = as_dict(c.routing.get("client"))
    for h in s["hosts"]:
        if c.log_symptom(h) != "hop1_not_matched":
            continue
        host, res = h["host"], c.logs[h["host"]]
        out.append(_diag(
            "hop1_not_matched",
            "calls to %s return %s but the gateway log has %d entries" % (
                host, s["expected_code"], as_int(res.get("count")) or 0),
            "the traffic leaves through the client sidecar directly (ALLOW_ANY passthrough): hop 1 of the "
            "VirtualService is not matched",
            "check the VirtualService hop-1 match (gateways: [mesh], port %s, sniHosts: [%s]) and that it "
            "is visible to the client namespace; REGISTRY_ONLY turns a silent bypass into a visible failure"
            % (h["port"], host),
            "guide 7.2, 9 (200 but no gateway log)",
            [as_dict(client_dests.get(host)).get("evidence") or "client config not read", res.get("msg") or ""]))
    # The bypass visible in the config even if the log said nothing.
    for h in s["hosts"]:
        dest = client_dests.get(h["host"])
        other = bypass_path(dest) if isinstance(dest, dict) and dest.get("via_egress_gateway") else None
        if not isinstance(dest, dict) or (dest.get("via_egress_gateway") is not False and other is None):
            continue
        if _found(out, "hop1_not_matched", "other_host_only"):
            break
        if other is not None:  # the reported path is via the gateway, another address's is not
            symptom = "the client sidecar sends %s:%s to the egress gateway on %s but to %s on %s (%s)" % (
                h["host"], h["port"], dest.get("listener"), other.get("cluster"), other.get("listener"),
                as_text(other.get("when")) or "another address")
            cause = ("the host's listeners disagree: its service address's listener (a ServiceEntry address, or "
                     "one Istio's DNS proxy allocated) and 0.0.0.0_%s route it differently" % h["port"])
            dest = other
        elif dest.get("matched"):
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


def replica_without_logs(c, out):
    """Entries from only some of several Ready replicas (issue 3, HA gateways)."""
    row = c.by["gateway_log"]
    uncovered = row["details"].get("uncovered_replicas") or []
    coverage = row["details"].get("coverage") or {}
    ready = [p for p in c.pre.get("gateway_pods", []) if p["ready"]]
    if not (uncovered and row["verdict"] == FAIL and len(uncovered) < len(ready)):
        return
    gw = c.gw
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
        ["pod %s: %d lines, %d matching" % (p, v["lines"], v["matches"]) for p, v in sorted(coverage.items())]))


def gateway_dump_not_router(c, out):
    """The config read as the gateway's is a sidecar's (a wrong pod or a wrong saved dump)."""
    results = as_dict(as_dict(c.facts.get("routing")).get("gateway"))
    wrong = sorted({as_text(as_dict(as_dict(r).get("proxy")).get("pod")) or host for host, r in results.items()
                    if as_dict(as_dict(r).get("proxy")).get("type") == "sidecar"})
    if wrong:
        out.append(_diag(
            "gateway_dump_not_router", "the config checked as the gateway's is a sidecar's (%s)" % ", ".join(wrong),
            "egress_verify_gateway_config_dump points at a sidecar's dump, or the gateway pods are injected "
            "sidecars instead of gateway (router) proxies",
            "give the egress gateway pod's config dump (istioctl proxy-config all <gateway pod> -o json), and "
            "check that the gateway was installed with the istio/gateway chart", "guide 3.3, 7.3",
            ["proxy type sidecar: %s" % ", ".join(wrong)]))


def hop2_listener_mismatch(c, out):
    """The hop-2 chain is on a listener the gateway Service does not send to."""
    hosts = c.routing.get("listener_mismatch") or []
    if hosts:
        gw = c.gw
        out.append(_diag(
            "hop2_listener_mismatch", "the hop-2 chain is not on the gateway listener of Service port 443 (%s)"
            % ", ".join(hosts),
            "the Gateway server's port and the gateway Service's targetPort disagree: istiod builds the chain "
            "on a listener that hop-1 traffic never reaches",
            "compare `kubectl -n %s get service %s -o yaml` (ports[].targetPort) with the Gateway's "
            "servers[].port.number and the chart's service.ports" % (gw["namespace"], gw["service"]),
            "guide 3.3, 6.2", [e for e in c.by["routing"]["evidence"] if "targetPort" in e]))


def registry_only_not_applied(c, out):
    """guide 9: the unregistered host was not blocked."""
    row = c.by["blocking"]
    if row["verdict"] == FAIL:
        out.append(_diag(
            "registry_only_not_applied", "unregistered host not blocked: %s" % row["actual"],
            "the proxies still run with ALLOW_ANY (PassthroughCluster): the REGISTRY_ONLY Sidecar is not in the "
            "client namespace or is named/selected differently, or the mesh-wide setting was not rolled out",
            "apply Sidecar 'default' with outboundTrafficPolicy.mode: REGISTRY_ONLY in %s (registry_only role) "
            "or meshConfig.outboundTrafficPolicy.mode; then check istioctl proxy-config clusters for "
            "BlackHoleCluster only" % c.client["namespace"],
            "guide 7.4, 9 (not blocked)", row["evidence"]))


def unregistered_host_dns(c, out):
    """The blocking probe's host did not resolve: its 000 proves nothing."""
    exits = as_list(c.by["blocking"]["details"].get("exits"))
    if any(x in CURL_DNS_EXITS for x in exits):
        out.append(_diag(
            "unregistered_host_dns", "the unregistered host %s did not resolve (curl exit 6)" % c.s["unregistered"]["host"],
            "the client's DNS cannot resolve the probe's host, so the call never reached the sidecar: a 000 "
            "from a failed lookup is not REGISTRY_ONLY's reset",
            "set egress_verify_unregistered_url to a host that resolves from the client pod (nslookup from it)",
            "guide 7.4", c.by["blocking"]["evidence"]))


def istioctl_version_skew(c, out):
    """istioctl on PATH is another minor version than istiod (issue 16.4)."""
    reasons = [c.by[k]["reason"] for k in ("xds_sync", "analyze")
               if c.verdict(k) == NOT_RUN and "is not istiod's minor version" in c.by[k]["reason"]]
    if reasons:
        out.append(_diag(
            "istioctl_version_skew", reasons[0].split(":", 1)[0],
            "the istioctl found first on PATH was built for another Istio minor version; its proxy-status and "
            "analyze output may differ from what the checks parse",
            "install the istioctl of istiod's version and set egress_verify_istioctl to its path",
            "NOTES (istioctl/control-plane version skew)", reasons[:1]))


def xds_not_synced(c, out):
    row = c.by["xds_sync"]
    if row["verdict"] == FAIL:
        out.append(_diag(
            "xds_not_synced", "proxies not SYNCED: %s" % row["actual"],
            "istiod has not pushed the current config to the proxies (or they are not connected)",
            "istioctl proxy-status; istioctl analyze; check the istiod logs and the proxies' istio-agent logs",
            "guide 3.4, 9 (no cluster in proxy-config)", row["evidence"]))


def analyze_findings(c, out):
    row = c.by["analyze"]
    if row["verdict"] == FAIL:
        out.append(_diag(
            "analyze_findings", "istioctl analyze: %s" % row["actual"],
            "the objects have validation findings (IST0101 referenced selector/host not found is the usual "
            "egress one)", "fix the objects named in the findings", "guide 3.4, 6.5", row["evidence"]))


def _l3_direct_reached(c):
    direct = c.by["l3_lock"]["details"].get("direct_codes") or []
    return bool(direct) and any(code != "000" for code in direct)


def l3_not_locked(c, out):
    row = c.by["l3_lock"]
    if row["verdict"] == FAIL and _l3_direct_reached(c):
        out.append(_diag(
            "l3_not_locked", "a pod without sidecar reaches the external host directly",
            "the Calico policy is not applied to the namespace or allows 0.0.0.0/0 egress",
            "check the policy (calicoctl get globalnetworkpolicy -o yaml) selects the workload namespace and "
            "ends in a Deny", "guide 11 (Calico), NOTES (Calico)", row["evidence"]))


def l3_blocks_sidecar_path(c, out):
    row = c.by["l3_lock"]
    if row["verdict"] == FAIL and not _l3_direct_reached(c) and not _found(
            out, "gateway_selector_mismatch", "dns_resolution", "destination_rule_lookup_path", "no_injection"):
        out.append(_diag(
            "l3_blocks_sidecar_path", "the sidecar path fails with the Calico policy on",
            "the policy blocks the egress gateway pods' target ports, DNS or istiod 15012",
            "allow the gateway pods on their target ports (post-DNAT), nodelocaldns 169.254.25.10 + CoreDNS "
            "UDP/TCP 53 and istiod 15012", "NOTES (Calico)", row["evidence"]))


def _found(out, *ids):
    return any(d["id"] in ids for d in out)


# One id per rule, in the order the report lists them (docs/egress_verify.md, "Diagnosis").
RULES = (
    ("no_injection", no_injection),
    ("gateway_not_ready", gateway_not_ready),
    ("client_missing", client_missing),
    ("routes_missing", routes_missing),
    ("gateway_selector_mismatch", gateway_selector_mismatch),
    ("registered_host_unreachable", registered_host_unreachable),
    ("dns_resolution", dns_resolution),
    ("destination_rule_lookup_path", destination_rule_lookup_path),
    ("lines_older_than_probe", lines_older_than_probe),
    ("access_logging_off", access_logging_off),
    ("other_host_only", other_host_only),
    ("hop1_not_matched", hop1_not_matched),
    ("replica_without_logs", replica_without_logs),
    ("gateway_dump_not_router", gateway_dump_not_router),
    ("hop2_listener_mismatch", hop2_listener_mismatch),
    ("registry_only_not_applied", registry_only_not_applied),
    ("unregistered_host_dns", unregistered_host_dns),
    ("istioctl_version_skew", istioctl_version_skew),
    ("xds_not_synced", xds_not_synced),
    ("analyze_findings", analyze_findings),
    ("l3_not_locked", l3_not_locked),
    ("l3_blocks_sidecar_path", l3_blocks_sidecar_path),
)
RULE_IDS = tuple(rule_id for rule_id, _fn in RULES)


def diagnose(facts, rows, s):
    """Run the rules in order; returns a list of diagnosis dicts (symptom, cause, fix, guide, evidence)."""
    c = _Context(facts, rows, s)
    out = []
    for _rule_id, rule in RULES:
        rule(c, out)
    return out
