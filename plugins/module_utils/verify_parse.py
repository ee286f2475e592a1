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

from ansible_collections.homelab.istio_egress.plugins.module_utils import istio_versions
from ansible_collections.homelab.istio_egress.plugins.module_utils.common_text import flags_allowed
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_common import (
    VerifyReportError,
    as_dict,
    as_int,
    as_list,
    as_text,
)

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

# Colour codes istioctl prints when it believes it writes to a terminal
# (ESC [ ... letter); stripped before parsing, or "Error [IST0101]" would
# not be recognised and a finding would read as "no messages".
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ANALYZE_LINE = re.compile(r"^(Error|Warning|Info)\s+\[(IST\d+)\]\s+\(([^)]*)\)\s*(.*)$")
_CODE = re.compile(r"^\d{3}$")


def parse_proxy_status(text):
    """Parse ``istioctl proxy-status -o json`` (1.30 genericXdsConfigs shape).

    Returns a list of {"id", "statuses": {"CDS": "SYNCED", ...}}.
    """
    try:
        data = json.loads(as_text(text))
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
        node_id = as_text(as_dict(res.get("node")).get("id"))
        statuses = {}
        for cfg in as_list(res.get("genericXdsConfigs")):
            cfg = as_dict(cfg)
            type_url = as_text(cfg.get("typeUrl"))
            short = _XDS_TYPE_NAMES.get(type_url.rsplit("/", 1)[-1], type_url.rsplit(".", 1)[-1]) or "UNKNOWN"
            status = as_text(cfg.get("configStatus")) or "UNKNOWN"
            # A type listed twice keeps its worst status: one STALE copy is STALE.
            if statuses.get(short, "SYNCED") in ("SYNCED", "NOT_SENT"):
                statuses[short] = status
        proxies.append({"id": node_id, "statuses": statuses})
    return proxies


def proxy_id_matches(node_id, pod_name, namespace):
    """Node ids are 'pod.ns' in syncz, or the full 'type~ip~pod.ns~domain'."""
    wanted = "%s.%s" % (pod_name, namespace)
    return node_id in (wanted, pod_name) or ("~%s~" % wanted) in node_id


def proxy_pod(node_id):
    """(pod, namespace) of a proxy-status node id, or (None, None)."""
    node_id = as_text(node_id)
    if "~" in node_id:
        parts = node_id.split("~")
        node_id = parts[2] if len(parts) > 2 else ""
    if "." not in node_id:
        return None, None
    pod, ns = node_id.split(".", 1)
    return pod, ns


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
    """Messages of ``istioctl analyze``: {messages: [{level, code, resource, text}], no_issues, empty}.

    ``empty`` is true when neither stream printed anything: such a run proves
    nothing (the caller makes it not_run, never pass).
    """
    messages = []
    no_issues = False
    text = _ANSI.sub("", as_text(stdout) + "\n" + as_text(stderr))
    for line in text.splitlines():
        line = line.strip()
        m = _ANALYZE_LINE.match(line)
        if m:
            messages.append({"level": m.group(1), "code": m.group(2), "resource": m.group(3),
                             "text": m.group(4)})
        elif "No validation issues found" in line:
            no_issues = True
    return {"messages": messages, "no_issues": no_issues, "empty": not text.strip()}


def parse_curl_codes(stdout):
    """One http_code per line as printed by curl -w '%{http_code}\\n'."""
    codes = []
    for line in as_text(stdout).splitlines():
        line = line.strip()
        if _CODE.match(line):
            codes.append(line)
    return codes


# One line per attempt, printed by roles/egress_verify/tasks/call.yml:
#   egress_verify_call=<call> try=<attempt> code=<http_code> exit=<curl exit status>
_ATTEMPT = re.compile(r"^egress_verify_call=(\d+) try=(\d+) code=(\d{3})? ?exit=(\d+)\s*$")
# curl exit statuses that say the name did not resolve: the call never reached
# a proxy, so a 000 with them proves nothing about REGISTRY_ONLY.
CURL_DNS_EXITS = (6,)


def parse_curl_output(result):
    """The calls of one curl batch, the one place curl output is parsed.

    ``result`` is what the role stored for the batch: ``stdout`` (the attempt
    lines of call.yml, or plain ``%{http_code}`` lines), ``rc`` (the last
    curl's exit status), ``stderr``; an older ``codes`` list is accepted.
    Returns {"calls": [{"code", "exit", "tries", "retries", "attempts"}],
    "codes": [final code per call], "retries": total retries,
    "retried_calls": calls that needed a retry, "format"}.
    A call's result is its LAST attempt: a failure after the retry bound
    stays a failure.
    """
    result = as_dict(result)
    stdout = as_text(result.get("stdout"))
    rc = as_int(result.get("rc"))
    calls = {}
    for line in stdout.splitlines():
        m = _ATTEMPT.match(line.strip())
        if not m:
            continue
        call = calls.setdefault(int(m.group(1)), [])
        call.append({"try": int(m.group(2)), "code": m.group(3) or "000", "exit": int(m.group(4))})
    if calls:
        out = []
        for idx in sorted(calls):
            attempts = sorted(calls[idx], key=lambda a: a["try"])
            last = attempts[-1]
            out.append({"code": last["code"], "exit": last["exit"], "tries": len(attempts),
                        "retries": len(attempts) - 1,
                        "attempts": ["%s/exit %d" % (a["code"], a["exit"]) for a in attempts]})
        fmt = "attempts"
    else:
        codes = [str(c) for c in as_list(result.get("codes")) if _CODE.match(str(c))] or parse_curl_codes(stdout)
        out = [{"code": c, "exit": None, "tries": 1, "retries": 0, "attempts": [c]} for c in codes]
        if out:
            # Plain codes: only the last call's exit status is known (the batch's rc).
            out[-1]["exit"] = rc
        fmt = "codes" if out else "none"
    return {
        "calls": out,
        "codes": [c["code"] for c in out],
        "retries": sum(c["retries"] for c in out),
        "retried_calls": sum(1 for c in out if c["retries"]),
        "format": fmt,
    }


_VERSION = re.compile(r"(?<![\d.])(\d+)\.(\d+)(?:\.(\d+))?")


def parse_istioctl_version(text):
    """'1.30.0' from ``istioctl version --remote=false [--short]`` output, or None.

    Builds without version stamping print 'unknown'; that is None, not a version.
    """
    for line in as_text(text).splitlines():
        line = _ANSI.sub("", line).strip()
        if not line or "unknown" in line.lower():
            continue
        m = _VERSION.search(line.split(":", 1)[-1] if line.lower().startswith("client version") else line)
        if m:
            return m.group(0)
    return None


def istiod_version(images=None, injector_values=None):
    """istiod's version from its pods' images (tag 1.30.0[-distroless]) or the injector's values.global.tag.

    Returns (version or None, where it came from).
    """
    for image in as_list(images):
        image = as_text(image)
        version = istio_versions.tag_version(istio_versions.image_tag(image))
        if version:
            return version, "istiod image %s" % image
    values = injector_values
    if isinstance(values, str):
        try:
            values = json.loads(values)
        except ValueError:
            values = None
    tag = as_text(as_dict(as_dict(values).get("global")).get("tag"))
    version = istio_versions.tag_version(tag)
    if version:
        return version, "istio-sidecar-injector values global.tag %s" % tag
    return None, ""


def minor_version(version):
    """(major, minor) of '1.30.2', or None."""
    m = _VERSION.search(as_text(version))
    return (int(m.group(1)), int(m.group(2))) if m else None


def pod_counts(value):
    """(lines, matches) for one entry of egress_log_assert's 'pods' return."""
    if isinstance(value, dict):
        lines = value.get("lines", value.get("lines_read", value.get("lines_total")))
        matches = value.get("matches", value.get("count", value.get("matched")))
        return as_int(lines), as_int(matches)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return as_int(value[0]), as_int(value[1])
    return None, None


def other_hosts_text(result):
    other = as_dict(result).get("other_hosts") or []
    parts = []
    if isinstance(other, dict):
        other = [{"host": k, "count": v} for k, v in other.items()]
    for item in as_list(other)[:5]:
        if isinstance(item, dict):
            parts.append("%s\u00d7%s" % (item.get("host"), item.get("count")))
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            parts.append("%s\u00d7%s" % (item[0], item[1]))
        else:
            parts.append(str(item))
    return ", ".join(parts)


def entry_text(entry):
    entry = as_dict(entry)
    text = "[%s] %s %s flags=%s sni=%s cluster=%s upstream=%s" % (
        entry.get("start_time"), entry.get("pod") or "-", entry.get("response_code"),
        entry.get("response_flags"), entry.get("requested_server_name"),
        entry.get("upstream_cluster"), entry.get("upstream_host"))
    if "hop" in entry or "downstream_remote_address" in entry:
        text += " hop=%s from=%s" % (entry.get("hop", "?"), entry.get("downstream_remote_address") or "?")
    return text


def address_ip(address):
    """'10.233.64.10:54321' -> '10.233.64.10'; '[fd00::1]:443' -> 'fd00::1'; None when absent."""
    text = as_text(address).strip()
    if not text or text == "-":
        return None
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text


def bad_flags(result, allowed):
    flags = as_dict(as_dict(result).get("response_flags"))
    return {f: n for f, n in flags.items() if not flags_allowed(f, allowed)}


def upstream_flag_hits(flags):
    hits = {}
    for flag, n in as_dict(flags).items():
        for part in str(flag).split(","):
            if part in _UPSTREAM_FLAGS:
                hits[flag] = n
    return hits


def hop2_cluster(host, port):
    return "outbound|%s||%s" % (port, host)


def cluster_names(result):
    names = set()
    for c in as_list(as_dict(result).get("clusters")):
        if isinstance(c, dict) and isinstance(c.get("name"), str) and c.get("name"):
            names.add(c["name"])
        elif isinstance(c, str):
            names.add(c)
    return names
