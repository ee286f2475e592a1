# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse Envoy/Istio access logs and decide whether they prove traffic to a host.

Pure and stdlib-only: no AnsibleModule, no Kubernetes. The module
``egress_log_assert`` feeds it lines (from pods, a file, a string or a list)
and turns :class:`AccessLogError` into ``fail_json``.

This file is the public API (assess, parse_line and the names the module,
tests and benchmarks import); the work is done by one file per job
(README.md, "Layout"):

* access_log_input.py: option checks (host, port, since_time, client_ip) and
  the line sources (file_blocks, stream_blocks, text_blocks, list_blocks);
* access_log_formats.py: one TEXT or JSON line into its fields, every default
  format Istio has used (docs/egress_log_assert.md lists them);
* access_log_hops.py: the names of an entry, which proxy wrote it
  (classify_hop) and how it relates to host:port (judge);
* access_log_shapes.py: kubectl prefixes and pretty-printed JSON made into
  one entry per line;
* access_log_scan.py: the scan over every source at near grep speed;
* common_text.py: plurals, histograms and allowed response flags, shared
  with the verify report.

expect=absent passes only over input read completely with no doubtful line (a
line with the host that does not parse, names that disagree, no start time,
no hop).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Re-exported: the module, the tests and the benchmarks import these from access_log.
from ansible_collections.homelab.istio_egress.plugins.module_utils.access_log_formats import (
    ENTRY_KEYS,
    FORMATS,
    _json_entry,
    _skeleton,
    _text_entry,
    split_request,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.access_log_hops import (
    HOP_CHOICES,
    HOPS,
    address_ip,
    address_port,
    authority_host,
    classify_hop,
    entry_hop,
    entry_hosts,
    entry_port,
    is_gateway_service,
    judge,
    parse_cluster,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.access_log_input import (
    MAX_LINE_BYTES,
    READ_BLOCK,
    AccessLogError,
    check_ip,
    check_port,
    file_blocks,
    list_blocks,
    normalize_host,
    parse_rfc3339,
    stream_blocks,
    text_blocks,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.access_log_scan import (
    OTHER_HOSTS_CAP,
    OTHER_HOSTS_OVERFLOW,
    OTHER_HOSTS_TOP,
    RECENT_LINES,
    UNPARSED_SAMPLE,
    UNPARSED_SAMPLE_CHARS,
    _Scan,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.access_log_shapes import PRETTY_JSON_MAX_LINES, strip_prefixes, with_stamp
from ansible_collections.homelab.istio_egress.plugins.module_utils.common_text import flags_allowed, histogram_top, plural

__all__ = (  # what the modules, tests and benchmarks import from here
    "ENTRY_KEYS",
    "EXPECTS",
    "FORMATS",
    "HOPS",
    "HOP_CHOICES",
    "MAX_LINE_BYTES",
    "OTHER_HOSTS_CAP",
    "OTHER_HOSTS_OVERFLOW",
    "OTHER_HOSTS_TOP",
    "PRETTY_JSON_MAX_LINES",
    "READ_BLOCK",
    "RECENT_LINES",
    "UNPARSED_SAMPLE",
    "UNPARSED_SAMPLE_CHARS",
    "AccessLogError",
    "address_ip",
    "address_port",
    "assess",
    "authority_host",
    "check_ip",
    "check_port",
    "classify_hop",
    "entry_hop",
    "entry_hosts",
    "entry_port",
    "file_blocks",
    "flags_allowed",
    "is_gateway_service",
    "judge",
    "list_blocks",
    "normalize_host",
    "parse_cluster",
    "parse_line",
    "parse_rfc3339",
    "split_request",
    "stream_blocks",
    "strip_prefixes",
    "text_blocks",
    "with_stamp",
)

EXPECTS = ("present", "absent")


def parse_line(line, fmt="auto", gateway_hosts=()):
    """Parse one access-log line into an entry dict (``pod`` None, ``hop`` set), or None."""
    line = line.rstrip("\r\n")
    if not line or line.isspace():
        return None
    if fmt == "json" or (fmt == "auto" and line[0] == "{"):
        entry = _json_entry(line) if line[0] == "{" else None
    else:
        skeleton = _skeleton(line)
        entry = _text_entry(*skeleton) if skeleton else None
    if entry is not None:
        entry["pod"] = None
        entry["hop"] = entry_hop(entry, gateway_hosts)
        entry = {key: entry[key] for key in ENTRY_KEYS}
    return entry


def assess(sources, host, port=443, expect="present", min_count=1, since_time=None,
           allowed_response_flags=("-",), fmt="auto", max_entries=20, kind="pod",
           allow_empty=False, hop="gateway", client_ip=None, gateway_hosts=()):
    """Scan access-log sources and decide the expectation; return every fact.

    sources: iterable of (name, blocks) or (name, blocks, info) where blocks
    yields strings of whole lines (see file_blocks, stream_blocks, text_blocks,
    list_blocks) and info is a dict read after the blocks: read, error,
    complete (see stream_blocks), ready, phase. kind: 'pod' for live pods, else
    the word used for offline sources in msg. allow_empty: an input with no line
    at all is a result (0 entries) instead of an AccessLogError. hop: which
    entries count (gateway, client or any); client_ip: only gateway entries
    from that downstream IP count; gateway_hosts: the gateway Service's names.
    """
    host = normalize_host(host)
    port = check_port(port)
    if expect not in EXPECTS:
        raise AccessLogError("expect must be one of %s, not %r" % (", ".join(EXPECTS), expect))
    if fmt not in FORMATS:
        raise AccessLogError("format must be one of %s, not %r" % (", ".join(FORMATS), fmt))
    if hop not in HOP_CHOICES:
        raise AccessLogError("hop must be one of %s, not %r" % (", ".join(HOP_CHOICES), hop))
    client_ip = check_ip(client_ip) if client_ip else None
    try:
        min_count = int(min_count)
        max_entries = int(max_entries)
    except (TypeError, ValueError):
        raise AccessLogError("min_count and max_entries must be whole numbers")
    if min_count < 1:
        raise AccessLogError("min_count must be at least 1, not %d" % min_count)
    if max_entries < 0:
        raise AccessLogError("max_entries must not be negative")
    since = parse_rfc3339(since_time) if since_time else None
    allowed = [str(flag).strip() for flag in (allowed_response_flags or [])]
    if not allowed:
        raise AccessLogError("allowed_response_flags must name at least one flag ('-' is none, "
                             "'*' any)")

    scan = _Scan(host, port, since, allowed, fmt, max_entries, hop=hop, client_ip=client_ip,
                 gateway_hosts=gateway_hosts, strict=expect == "absent")
    names = []
    for source in sources:
        name, chunks = source[0], source[1]
        info = source[2] if len(source) > 2 else None
        names.append(name)
        scan.feed(name, chunks, info)

    complete = all(stats["complete"] for stats in scan.pods.values())
    if scan.lines_total == 0 and not allow_empty and complete:
        where = ", ".join(names) if names else "the input"
        raise AccessLogError("the log is empty: no line to read in %s" % where)

    uncertain = sum(scan.uncertain.values())
    reason = None
    if expect == "present":
        passed = scan.count >= min_count and scan.bad == 0
    else:
        passed = scan.count == 0
        if passed:
            reason = _absence_reason(scan, complete)
            passed = reason is None

    facts = {
        "passed": passed,
        "complete": complete,
        "reason": reason,
        "hop": hop,
        "count": scan.count,
        "entries": scan.entries(),
        "pods": scan.pods,
        "response_flags": scan.flags,
        "lines_total": scan.lines_total,
        "lines_unparsed": scan.lines_unparsed,
        "lines_unparsed_with_host": scan.host_unparsed,
        "unparsed_sample": scan.unparsed_sample,
        "uncertain": uncertain,
        "uncertain_sample": scan.uncertain_sample,
        "other_hops": scan.other_hops,
        "other_clients": scan.other_clients,
        # Only a failed check (or expect=absent) needs the diagnosis: a passing
        # present check skips it and stays near grep speed (docs/dev/benchmarks.md).
        "other_hosts": scan.other_hosts() if (not passed or expect == "absent") else [],
    }
    facts["msg"] = _message(facts, scan, names, host, port, expect, min_count, since_time, allowed,
                            kind, hop)
    return facts


def _absence_reason(scan, complete):
    """Why absence is not proved over what was read, or None when it is."""
    reasons = []
    if not complete:
        cut = ["%s (%s)" % (name, stats.get("error") or "not read completely")
               for name, stats in sorted(scan.pods.items()) if not stats["complete"]]
        reasons.append("not every log was read completely: %s" % "; ".join(cut))
    for why, num in sorted(scan.uncertain.items()):
        reasons.append("%s %s" % (plural(num, "line"), why))
    if scan.other_clients and not reasons:
        return None
    return "; ".join(reasons) or None


def _message(facts, scan, names, host, port, expect, min_count, since_time, allowed, kind, hop):
    if kind == "pod":
        scope = "in %s" % plural(len(names), "pod")
    else:
        scope = "in %s" % (", ".join(names) or kind)
    if since_time:
        scope += " since %s" % since_time
    count = facts["count"]
    at = "" if hop == "any" else " at the %s hop" % hop
    what = "%s for %s:%d%s %s" % (plural(count, "entry"), host, port, at, scope)
    seen = histogram_top({item["host"]: item["count"] for item in facts["other_hosts"]})
    if scan.lines_total == 0:
        seen_text = "seen: no line was read"
    elif scan.lines_total == scan.lines_unparsed:
        seen_text = ("seen: no access-log entry among %s (access logging may be off: "
                     "meshConfig.accessLogFile or a Telemetry resource)"
                     % plural(scan.lines_total, "line"))
    elif seen:
        seen_text = "seen: %s" % seen
    else:
        seen_text = "seen: no other host"
    if scan.other_hops:
        seen_text += "; %s:%d from other hops: %s" % (host, port, histogram_top(scan.other_hops))
    if scan.other_clients:
        seen_text += "; %s from other clients than %s" % (plural(scan.other_clients, "entry"), scan.client_ip)
    flags_text = histogram_top(facts["response_flags"])
    if expect == "present":
        if count < min_count:
            text = "%s (expected at least %d); %s" % (what, min_count, seen_text)
            if not facts["complete"]:
                text += "; not every log was read completely"
            return text
        if scan.bad:
            bad_hist = {flag: num for flag, num in facts["response_flags"].items()
                        if not flags_allowed(flag, frozenset(allowed))}
            return ("%s, but %d with response flags outside %s: %s"
                    % (what, scan.bad, "[%s]" % ", ".join(allowed), histogram_top(bad_hist)))
        return "%s (expected at least %d; flags: %s)" % (what, min_count, flags_text)
    if count:
        return "%s (expected none; flags: %s)" % (what, flags_text)
    if facts["reason"]:
        return "%s, but absence is not proved: %s" % (what, facts["reason"])
    return "%s, as expected (absent); %s" % (what, seen_text)
