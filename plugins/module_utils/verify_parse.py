# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsing of istioctl output, curl output and the verification modules' results.

Pure, stdlib only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.homelab.istio_egress.plugins.module_utils.common_text import flags_allowed
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_common import VerifyReportError

# xDS types that must be SYNCED for the egress path (clusters, listeners and
# the endpoints of the hop-1 EDS cluster); other types may be NOT_SENT, which
# istiod reports for types a proxy never asked for (for example ECDS).
REQUIRED_XDS_TYPES = ("CDS", "LDS", "EDS")
_XDS_TYPE_NAMES = {
    "envoy.config.cluster.v3.Cluster": "CDS",
    "envoy.config.listener.v3.Listener": "LDS",
    "envoy.config.route.v3.RouteConfiguration": "RDS",
    "envoy.config.endpoint.v3.ClusterLoadAssignment": "EDS",
    "envoy.config.core.v3.TypedExtensionConfig": "ECDS",
}

# Response flags that point at upstream resolution/connection problems
# (guide section 9: 503 UH = DNS resolution / ServiceEntry resolution).
_UPSTREAM_FLAGS = ("UH", "UF", "URX", "NC")

_ANALYZE_LINE = re.compile(r"^(Error|Warning|Info)\s+\[(IST\d+)\]\s+\(([^)]*)\)\s*(.*)$")
_CODE = re.compile(r"^\d{3}$")


def parse_proxy_status(text):
    """Parse ``istioctl proxy-status -o json`` (1.30 genericXdsConfigs shape).

    Returns a list of {"id", "statuses": {"CDS": "SYNCED", ...}}.
    """
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise VerifyReportError("istioctl proxy-status -o json did not print JSON: %s" % exc)
    if isinstance(data, list):
        resources = data
    elif isinstance(data, dict):
        resources = data.get("resources")
        if resources is None:
            resources = []
    else:
        resources = None
    if not isinstance(resources, list):
        raise VerifyReportError("istioctl proxy-status -o json: expected an object with 'resources', got %s"
                                % type(data).__name__)
    proxies = []
    for res in resources:
        if not isinstance(res, dict):
            continue
        node_id = (res.get("node") or {}).get("id", "")
        statuses = {}
        for cfg in res.get("genericXdsConfigs") or []:
            type_url = cfg.get("typeUrl", "")
            short = _XDS_TYPE_NAMES.get(type_url.rsplit("/", 1)[-1], type_url.rsplit(".", 1)[-1])
            statuses[short] = cfg.get("configStatus") or "UNKNOWN"
        proxies.append({"id": node_id, "statuses": statuses})
    return proxies


def proxy_id_matches(node_id, pod_name, namespace):
    """Node ids are 'pod.ns' in syncz, or the full 'type~ip~pod.ns~domain'."""
    wanted = "%s.%s" % (pod_name, namespace)
    return node_id in (wanted, pod_name) or ("~%s~" % wanted) in node_id


def xds_verdict(proxy):
    """(ok, text) for one proxy's statuses."""
    statuses = proxy["statuses"]
    bad = []
    for t in REQUIRED_XDS_TYPES:
        if statuses.get(t) != "SYNCED":
            bad.append("%s=%s" % (t, statuses.get(t, "missing")))
    for t, s in sorted(statuses.items()):
        if t not in REQUIRED_XDS_TYPES and s not in ("SYNCED", "NOT_SENT"):
            bad.append("%s=%s" % (t, s))
    text = " ".join("%s=%s" % (t, statuses[t]) for t in sorted(statuses))
    return (not bad), (", ".join(bad) if bad else text)


def parse_analyze(stdout, stderr=""):
    """Messages of ``istioctl analyze``: [{level, code, resource, text}]."""
    messages = []
    no_issues = False
    for line in ((stdout or "") + "\n" + (stderr or "")).splitlines():
        line = line.strip()
        m = _ANALYZE_LINE.match(line)
        if m:
            messages.append({"level": m.group(1), "code": m.group(2), "resource": m.group(3),
                             "text": m.group(4)})
        elif "No validation issues found" in line:
            no_issues = True
    return {"messages": messages, "no_issues": no_issues}


def parse_curl_codes(stdout):
    """One http_code per line as printed by curl -w '%{http_code}\\n'."""
    codes = []
    for line in (stdout or "").splitlines():
        line = line.strip()
        if _CODE.match(line):
            codes.append(line)
    return codes


def pod_counts(value):
    """(lines, matches) for one entry of egress_log_assert's 'pods' return."""
    if isinstance(value, dict):
        lines = value.get("lines", value.get("lines_read", value.get("lines_total")))
        matches = value.get("matches", value.get("count", value.get("matched")))
        return (int(lines) if lines is not None else None,
                int(matches) if matches is not None else None)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return int(value[0]), int(value[1])
    return None, None


def other_hosts_text(result):
    other = result.get("other_hosts") or []
    parts = []
    if isinstance(other, dict):
        other = [{"host": k, "count": v} for k, v in other.items()]
    for item in other[:5]:
        if isinstance(item, dict):
            parts.append("%s\u00d7%s" % (item.get("host"), item.get("count")))
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            parts.append("%s\u00d7%s" % (item[0], item[1]))
        else:
            parts.append(str(item))
    return ", ".join(parts)


def entry_text(entry):
    return "[%s] %s %s flags=%s sni=%s cluster=%s upstream=%s" % (
        entry.get("start_time"), entry.get("pod") or "-", entry.get("response_code"),
        entry.get("response_flags"), entry.get("requested_server_name"),
        entry.get("upstream_cluster"), entry.get("upstream_host"))


def bad_flags(result, allowed):
    flags = result.get("response_flags") or {}
    return {f: n for f, n in flags.items() if not flags_allowed(f, allowed)}


def upstream_flag_hits(flags):
    hits = {}
    for flag, n in (flags or {}).items():
        for part in str(flag).split(","):
            if part in _UPSTREAM_FLAGS:
                hits[flag] = n
    return hits


def hop2_cluster(host, port):
    return "outbound|%s||%s" % (port, host)


def cluster_names(result):
    names = set()
    for c in result.get("clusters") or []:
        if isinstance(c, dict) and c.get("name"):
            names.add(c["name"])
        elif isinstance(c, str):
            names.add(c)
    return names
