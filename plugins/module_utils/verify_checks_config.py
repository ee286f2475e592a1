# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks 6 and 7 of the egress_verify report: routing in the proxy config, blocking (REGISTRY_ONLY).

Pure, stdlib only. Each check returns one row (verify_common.row); the exact
conditions for `pass` are listed in docs/egress_verify.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.homelab.istio_egress.plugins.module_utils.common_text import histogram
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_common import (
    NOT_RUN,
    as_dict,
    as_int,
    as_list,
    as_text,
    ctx,
    curl_cmd,
    exec_client,
    judged_row,
    last_line,
    no_data_plane_reason,
    not_run_row,
    verdict_of,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_inputs import service_target_port
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_parse import (
    CURL_DNS_EXITS,
    cluster_names,
    entry_text,
    hop2_cluster,
    parse_curl_output,
)

_LISTENER_PORT = re.compile(r"_(\d+)$")


def listener_port(dest):
    """The port of the listener a destination was found on: destination.listener_port, else the
    port in Istio's listener name '<address>_<port>' (e.g. 0.0.0.0_8443); None when unknown."""
    port = as_int(dest.get("listener_port"))
    if port is not None:
        return port
    m = _LISTENER_PORT.search(as_text(dest.get("listener")))
    return int(m.group(1)) if m else None


def _cluster_exists(res, dest, cluster):
    """True/False when the proxy's clusters say whether `cluster` exists; None when they cannot tell."""
    found = dest.get("cluster_found", "absent")
    if found is True or found is False:
        return found
    if found is None:
        return None  # the module could not tell (no clusters section)
    names = cluster_names(res)
    if not names:
        return None
    return cluster in names


def _service_port(cluster, default):
    """The gateway Service port of a hop-1 cluster outbound|443|subset|svc."""
    parts = as_text(cluster).split("|")
    return as_int(parts[1]) if len(parts) == 4 and as_int(parts[1]) else default


# A listener path to one of these leaves the mesh without the gateway.
_BYPASS_CLUSTERS = ("PassthroughCluster", "InboundPassthroughCluster", "InboundPassthroughClusterIpv4",
                    "InboundPassthroughClusterIpv6")
# istio_proxy_config returns at most this many paths (destination.paths[:5]).
_MAX_PATHS = 5


def _path_text(path):
    return "%s%s" % (as_text(path.get("evidence")) or "listener %s -> %s" % (
        path.get("listener") or "?", path.get("cluster") or "no destination"),
        (" (%s)" % path["when"]) if as_text(path.get("when")) else "")


def bypass_path(dest):
    """The first listener path of a client destination that leaves without the gateway (a direct cluster or
    PassthroughCluster), else None."""
    for path in as_list(dest.get("paths")):
        if isinstance(path, dict) and path.get("via_egress_gateway") is not True and (
                path.get("direct") is True or as_text(path.get("cluster")) in _BYPASS_CLUSTERS):
            return path
    return None


def _hop1_paths(host, h, res, dest, problems, unknowns, evidence):
    """Hop 1 holds for every address the client may connect to only when EVERY listener path the module
    found (destination.paths: a VIP listener of the host, then 0.0.0.0_PORT or virtualOutbound) leads to
    the egress gateway, and nothing was assumed (destination.assumptions empty: the destination address,
    the source port, the ALPN the dump cannot tell). A path that bypasses (a direct outbound|PORT||HOST or
    PassthroughCluster) is a failure with that path as evidence; an assumption leaves the check not run,
    unless the role gave the fact that removes it (the host's `address`). Returns the number of paths
    proved (0 when not proved)."""
    if "paths" not in dest:
        unknowns.append("%s: the proxy config module did not report every listener path (destination.paths; "
                        "an older istio_proxy_config), so a bypass on another address cannot be ruled out" % host)
        return 0
    paths = [p for p in as_list(dest.get("paths")) if isinstance(p, dict)]
    if not paths:
        unknowns.append("%s: the proxy config module reported no listener path" % host)
        return 0
    bad = 0
    for path in paths:
        cluster = as_text(path.get("cluster"))
        if path.get("via_egress_gateway") is True:
            if path.get("cluster_found") is False:
                bad += 1
                problems.append("%s: the path %s names hop-1 cluster %s, which does not exist" % (
                    host, _path_text(path), cluster))
            continue
        bad += 1
        if path.get("direct") is True or cluster in _BYPASS_CLUSTERS:
            problems.append("%s: a path bypasses the egress gateway: %s" % (host, _path_text(path)))
        else:
            problems.append("%s: a path does not lead to the egress gateway: %s" % (host, _path_text(path)))
    if len(paths) > 1:
        evidence.append("client %s: %d listener paths: %s" % (
            host, len(paths), "; ".join("%s -> %s" % (p.get("listener") or "?", p.get("cluster") or "none")
                                        for p in paths)))
    assumptions = [as_text(a) for a in as_list(dest.get("assumptions")) if as_text(a)]
    if assumptions:
        hint = ("" if h.get("address") else
                "; give the host's address (egress_verify_hosts[].address) if it is fixed")
        text = "%s: the client's config was followed under assumptions: %s%s" % (
            host, "; ".join(assumptions), hint)
        if bad:
            evidence.append(text)
        else:
            unknowns.append(text)
        return 0
    if len(paths) >= _MAX_PATHS and not bad:
        unknowns.append("%s: the module reports at most %d listener paths and returned %d: another path may "
                        "exist" % (host, _MAX_PATHS, len(paths)))
        return 0
    return 0 if bad else len(paths)


def check_routing(facts, s, pre_row):
    gw, client = s["gateway"], s["client"]
    expected = ("client sidecar: SNI host -> hop-1 cluster of the egress gateway service (via_egress_gateway), "
                "which exists; gateway (a router proxy): SNI host -> hop-2 cluster outbound|PORT||HOST, which "
                "exists, on the listener the gateway Service's port targets")
    reproduce = []
    for h in s["hosts"]:
        reproduce.append("%s proxy-config listeners deploy/%s.%s --port %s -o json | grep -B2 -A12 '\"%s\"'" % (
            ctx(s, "istioctl"), client["deployment"], client["namespace"], h["port"], h["host"]))
        reproduce.append("%s proxy-config clusters deploy/%s.%s | grep -E '%s|egressgateway'" % (
            ctx(s, "istioctl"), client["deployment"], client["namespace"], h["host"]))
        reproduce.append("%s proxy-config listeners deploy/%s.%s" % (ctx(s, "istioctl"), gw["deployment"], gw["namespace"]))
        reproduce.append("%s -n %s get service %s -o jsonpath='{.spec.ports}'" % (ctx(s), gw["namespace"], gw["service"]))
    routing = facts.get("routing")
    if not isinstance(routing, dict) or not (routing.get("client") or routing.get("gateway")):
        reason = no_data_plane_reason(s) if not s["data_plane"] else "the proxy config was not read"
        return not_run_row("routing", expected, reason, reproduce)
    pre = as_dict(facts.get("preconditions"))
    gw_pods = pre_row["details"].get("gateway_pods", [])
    problems, unknowns, evidence, actual_parts = [], [], [], []
    details = {"client": {}, "gateway": {}}
    per_host = []
    for h in s["hosts"]:
        host = h["host"]
        cres = as_dict(routing.get("client")).get(host)
        gres = as_dict(routing.get("gateway")).get(host)
        hop1_cluster = None
        p1, u1, p2, u2 = [], [], [], []
        per_host.append((p1, u1, p2, u2))
        # hop 1: the client sidecar
        if not isinstance(cres, dict):
            p1.append("%s: client proxy config not read" % host)
        elif cres.get("error"):
            p1.append("%s: client proxy config: %s" % (host, cres["error"]))
        else:
            dest = as_dict(cres.get("destination"))
            details["client"][host] = dest
            evidence.append("client %s: %s" % (host, as_text(dest.get("evidence")) or "no evidence"))
            ptype = as_dict(cres.get("proxy")).get("type")
            if ptype == "router":
                p1.append("%s: the client's config dump is a gateway's (proxy type router)" % host)
            elif not dest:
                u1.append("%s: the client's config gave no destination facts" % host)
            elif not dest.get("matched"):
                p1.append("%s: the client sidecar has no route for SNI %s:%s%s" % (
                    host, host, h["port"],
                    " (it falls through to %s)" % dest["cluster"] if dest.get("cluster") else ""))
            elif not dest.get("via_egress_gateway"):
                p1.append("%s: the client sidecar sends it to %s, not to the egress gateway" % (
                    host, dest.get("cluster")))
            else:
                hop1_cluster = as_text(dest.get("cluster"))
                exists = _cluster_exists(cres, dest, hop1_cluster)
                if exists is False:
                    p1.append("%s: hop-1 cluster %s is referenced but does not exist in the client's "
                              "clusters" % (host, hop1_cluster))
                elif exists is None:
                    u1.append("%s: the client's config cannot tell whether hop-1 cluster %s exists (no "
                              "clusters section)" % (host, hop1_cluster))
                else:
                    paths_ok = _hop1_paths(host, h, cres, dest, p1, u1, evidence)
                    if paths_ok:
                        actual_parts.append("hop 1 %s -> %s%s" % (
                            host, hop1_cluster, (" (all %d listener paths)" % paths_ok) if paths_ok > 1 else ""))
        # hop 2: the egress gateway
        want = hop2_cluster(host, h["port"])
        if not isinstance(gres, dict):
            p2.append("%s: gateway proxy config not read" % host)
            continue
        if gres.get("error"):
            p2.append("%s: gateway proxy config: %s" % (host, gres["error"]))
            continue
        dest = as_dict(gres.get("destination"))
        details["gateway"][host] = dest
        evidence.append("gateway %s: %s" % (host, as_text(dest.get("evidence")) or "no evidence"))
        ptype = as_dict(gres.get("proxy")).get("type")
        if ptype == "sidecar":
            p2.append("%s: the config offered as the gateway's is a sidecar's (proxy type sidecar)" % host)
            continue
        if ptype != "router":
            u2.append("%s: the gateway's config does not show a gateway proxy (proxy type %s)" % (
                host, ptype or "missing"))
            continue
        if not dest:
            u2.append("%s: the gateway's config gave no destination facts" % host)
            continue
        if not dest.get("matched"):
            p2.append("%s: the gateway has no SNI filter chain for %s (hop 2 missing)" % (host, host))
            continue
        if dest.get("cluster") != want and want not in as_list(dest.get("clusters")):
            p2.append("%s: the gateway sends it to %s, expected %s" % (host, dest.get("cluster"), want))
            continue
        exists = _cluster_exists(gres, dest, want)
        if exists is False:
            p2.append("%s: the gateway has no cluster %s" % (host, want))
            continue
        if exists is None:
            u2.append("%s: the gateway's config cannot tell whether cluster %s exists (no clusters "
                      "section)" % (host, want))
            continue
        g_assumptions = [as_text(a) for a in as_list(dest.get("assumptions")) if as_text(a)]
        if g_assumptions:
            u2.append("%s: the gateway's config was followed under assumptions: %s" % (
                host, "; ".join(g_assumptions)))
            continue
        svc_port = _service_port(hop1_cluster, h["port"])
        target, target_text = service_target_port(pre.get("gateway_service"), svc_port, gw_pods)
        lport = listener_port(dest)
        evidence.append("gateway %s: chain on listener %s; %s" % (host, dest.get("listener") or "?", target_text))
        if target is None:
            u2.append("%s: %s, so the hop-2 listener cannot be matched to it" % (host, target_text))
        elif lport is None:
            u2.append("%s: the gateway's config does not say which listener holds the hop-2 chain" % host)
        elif lport != target:
            details.setdefault("listener_mismatch", []).append(host)
            p2.append("%s: the hop-2 chain is on listener port %d, but the gateway Service's port %d targets "
                      "%d: hop-1 traffic never reaches it" % (host, lport, svc_port, target))
        else:
            actual_parts.append("hop 2 %s -> %s (listener %s)" % (host, want, lport))
    for p1, u1, p2, u2 in per_host:
        problems += p1 + p2
        unknowns += u1 + u2
    # One verdict per side, for the hop marks of the diagram (verify_report._hop_marks).
    for key, idx in (("hop1", 0), ("hop2", 2)):
        side_p = [x for ph in per_host for x in ph[idx]]
        side_u = [x for ph in per_host for x in ph[idx + 1]]
        details[key] = verdict_of(side_p, side_u) if per_host else NOT_RUN
    return judged_row("routing", expected, problems, unknowns, "; ".join(actual_parts), evidence, reproduce,
                      details=details)


def check_blocking(facts, s):
    unreg = s["unregistered"]
    plain = unreg["url"].startswith("http://")
    blocked_codes = ("502",) if plain else ("000",)
    expected = ("REGISTRY_ONLY: %s returns %s (not a DNS failure), the gateway log read in full has no entry "
                "for it, and the client's config sends its SNI to BlackHoleCluster (or has no route for it) "
                "with outbound policy REGISTRY_ONLY" % (unreg["url"], "/".join(blocked_codes)))
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
    host = unreg["host"]
    problems, unknowns, evidence, parts = [], [], [], []
    # 1. the call fails the way REGISTRY_ONLY makes it fail
    call = as_dict(b.get("call"))
    parsed = parse_curl_output(call)
    codes = parsed["codes"]
    exits = [c["exit"] for c in parsed["calls"]]
    parts.append("%s -> %s" % (host, histogram(codes) or "no code"))
    stderr = last_line(call.get("stderr"), 200)
    exit_text = ", ".join(str(x) for x in exits) or call.get("rc")
    evidence.append("%s -> %s (curl exit %s)%s" % (
        unreg["url"], " ".join(codes) or "-", exit_text, (" " + stderr) if stderr else ""))
    if not codes:
        unknowns.append("the call to %s printed no status code" % host)
    elif any(c not in blocked_codes for c in codes):
        problems.append("%s was not blocked: %s" % (host, histogram(codes)))
    elif any(x in CURL_DNS_EXITS for x in exits):
        unknowns.append("%s did not resolve (curl exit 6): the call never reached the sidecar, so its 000 is not "
                        "REGISTRY_ONLY's; use an egress_verify_unregistered_url that resolves" % host)
    # 2. the gateway log, read in full, has no entry for it
    log = b.get("gateway_log")
    if not isinstance(log, dict):
        unknowns.append("the gateway log was not read for %s" % host)
    elif log.get("error"):
        problems.append("reading the gateway log failed: %s" % log["error"])
    else:
        cnt = as_int(log.get("count"))
        if cnt:
            problems.append("the gateway logged %d entries for %s" % (cnt, host))
            for entry in as_list(log.get("entries"))[:2]:
                evidence.append(entry_text(entry))
        elif cnt is None:
            unknowns.append("the gateway log result has no entry count")
        elif log.get("complete") is not True:
            unknowns.append("the gateway log was not read in full (%s), so no entry proves nothing" % (
                as_text(log.get("reason")) or as_text(log.get("msg")) or
                ("complete: false" if "complete" in log else "the log module did not report 'complete'")))
        elif log.get("passed") is False:
            unknowns.append("the log module could not prove absence: %s" % (
                as_text(log.get("reason")) or as_text(log.get("msg")) or "no reason given"))
        else:
            parts.append("0 gateway entries in a complete read")
    # 3. the client's config sends it nowhere but BlackHoleCluster
    cfg = b.get("client_config")
    if not isinstance(cfg, dict):
        unknowns.append("the client's proxy config was not read for %s" % host)
    elif cfg.get("error"):
        problems.append("client proxy config: %s" % cfg["error"])
    else:
        policy = as_dict(cfg.get("outbound_traffic_policy"))
        mode = as_text(policy.get("mode")) or "unknown"
        dest = as_dict(cfg.get("destination"))
        cluster = as_text(dest.get("cluster"))
        pev = policy.get("evidence")
        pev = "; ".join(as_text(e) for e in pev) if isinstance(pev, list) else as_text(pev)
        evidence.append("client config: %s (%s); %s -> %s" % (mode, pev, host, cluster or "no route"))
        parts.append("client outbound policy %s, %s -> %s" % (mode, host, cluster or "no route"))
        if as_dict(cfg.get("proxy")).get("type") == "router":
            problems.append("the client's config dump is a gateway's (proxy type router)")
        elif mode in ("ALLOW_ANY", "mixed"):
            problems.append("the client's outbound traffic policy is %s" % mode)
        elif mode != "REGISTRY_ONLY":
            unknowns.append("the client's outbound traffic policy is %s" % mode)
        if not dest:
            unknowns.append("the client's config gave no destination facts for %s" % host)
        elif cluster == "BlackHoleCluster":
            pass
        elif cluster == "PassthroughCluster" or dest.get("via_egress_gateway") or (dest.get("matched") and cluster):
            problems.append("the client's config sends %s to %s" % (host, cluster or "the egress gateway"))
        elif not dest.get("matched") and not cluster:
            pass  # no filter chain and no catch-all: Envoy closes the connection
        else:
            unknowns.append("the client's config does not show where %s goes" % host)
    return judged_row("blocking", expected, problems, unknowns, "; ".join(parts), evidence, reproduce,
                      details={"codes": codes, "exits": exits})
