# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What surrounds the verdicts of the egress_verify report: the settle wait and the evidence source.

Pure, stdlib only. ``settle_summary`` reads the role's fact egress_verify_settle
(roles/egress_verify/tasks/settle.yml: the proof runs only after the proxies
carry the config; docs/egress_verify.md "Settle before the proof").
``evidence_sources`` says per check where its evidence came from, so a reader
knows whether the routing proof is a live proxy's config or a saved dump (for
example one a real istiod generated over xDS on the local plane).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_common import NOT_RUN, as_dict, as_text

LIVE = "live proxy"
SAVED = "saved dump"
# Checks whose evidence is the proxies' config or traffic through them: a
# config that had not arrived when they ran is said next to them.
SETTLE_CHECKS = ("gateway_log", "routing", "blocking")


def _number(value):
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    # NaN and infinity are no duration.
    return round(number, 1) if math.isfinite(number) else None


def settle_summary(facts):
    """egress_verify_settle as the report keeps it, with one sentence; None when the wait did not run."""
    raw = facts.get("settle")
    if not isinstance(raw, dict) or not raw:
        return None
    waited = _number(raw.get("waited_s"))
    timeout = _number(raw.get("timeout_s"))
    method = as_text(raw.get("method")) or "unknown"
    reason = as_text(raw.get("reason"))
    # Only a real true is synced: "True", 1 or a missing key are not evidence.
    synced = raw.get("synced") is True
    took = "%s s" % ("%g" % waited if waited is not None else "?")
    if synced:
        text = ("proof only after the config arrived: the client's and the gateway's proxies carried the routes "
                "for every host; it took %s (%s, bounded by %s s)" % (
                    took, method, "%g" % timeout if timeout is not None else "?"))
    elif method == "none":
        text = "no wait for the config: %s" % (reason or "nothing could be read")
    else:
        text = "the config had NOT arrived when the proof ran (waited %s): %s" % (
            took, reason or "no reason given")
    return {"waited_s": waited, "synced": synced, "method": method, "timeout_s": timeout,
            "reason": reason, "text": text}


def settle_note(settle):
    """The note next to checks 5-7 when the config was not known to have arrived; '' otherwise."""
    if settle is None or settle["synced"]:
        return ""
    if settle["method"] == "none":
        return "the settle wait read nothing: the config was not known to have arrived"
    return "the config had not arrived after %s s of settle wait" % (
        "%g" % settle["waited_s"] if settle["waited_s"] is not None else "?")


def _proxy_source(results, origin):
    """'live proxy' / 'saved dump (origin)' from istio_proxy_config results' `source` (api, istioctl, file)."""
    kinds = set()
    for res in results:
        src = as_text(as_dict(res).get("source"))
        if src == "file":
            kinds.add("%s (%s)" % (SAVED, origin))
        elif src == "api":
            kinds.add("%s (exec into the pod)" % LIVE)
        elif src == "istioctl":
            kinds.add("%s (istioctl proxy-config)" % LIVE)
    return ", ".join(sorted(kinds))


def evidence_sources(facts, s, rows):
    """{check id: text} saying where each check's evidence came from ('' for a check that read nothing)."""
    origin = s.get("config_dump_origin") or "unknown"
    routing = as_dict(facts.get("routing"))
    client = _proxy_source(as_dict(routing.get("client")).values(), origin)
    gateway = _proxy_source(as_dict(routing.get("gateway")).values(), origin)
    blocking = as_dict(facts.get("blocking"))
    out = {
        "preconditions": "Kubernetes API (pods, Gateways, DestinationRules, the gateway Service)",
        "xds_sync": "istioctl proxy-status (istiod's view of the proxies)",
        "analyze": "istioctl analyze against the live API server",
        "call": "%s: curl in the client pod's container" % LIVE,
        "gateway_log": "%s: the gateway pods' access logs (Kubernetes API)" % LIVE,
        "routing": "; ".join(x for x in (("client: " + client) if client else "",
                                         ("gateway: " + gateway) if gateway else "") if x),
        "blocking": "; ".join(x for x in (
            "%s: curl in the client pod and the gateway pods' access logs" % LIVE,
            ("client config: " + _proxy_source([blocking.get("client_config")], origin))
            if _proxy_source([blocking.get("client_config")], origin) else "") if x),
        "l3_lock": "%s: a probe pod without sidecar and curl in the client pod" % LIVE,
    }
    for r in rows:
        if r["verdict"] == NOT_RUN and r["id"] != "routing" and not r["evidence"]:
            out[r["id"]] = ""
    return out
