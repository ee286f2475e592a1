# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The access-log scan: every line of every source counted, only the lines with the host parsed.

Pure and stdlib-only; access_log.assess drives it and decides from its facts.

Speed (one million lines within a few times ``grep -c``): a line can only
match when the wanted host occurs in it verbatim, so only those lines are
parsed in full. For all others the scan works on blocks of lines (file reads
are never copied) with C-level bytes/str methods and one precompiled regex,
never Python code per line:
a line is an access-log entry when it starts like one (``[`` START_TIME,
``"`` a text line pasted without it, ``{`` a JSON object that parses);
everything else (istio-agent lines, Envoy messages, fragments) is counted in
``lines_unparsed``, as is a line with the host that starts like an entry but
does not parse. ``other_hosts`` is built from the last RECENT_LINES lines of
each source. Memory is bounded: files stream in fixed-size reads and every
collection kept (entries, samples, host counts, recent lines) has a cap.
The hot loop (_Scan.feed and what it calls per line) stays in this one module;
the per-entry rules it calls (classify_hop, judge) are imported as names, so a
call costs what it cost when everything was one file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import re

from ansible_collections.homelab.istio_egress.plugins.module_utils.access_log_formats import (
    ENTRY_KEYS,
    _json_entry,
    _json_key,
    _skeleton,
    _text_entry,
    _text_key,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.access_log_hops import address_ip, authority_host, classify_hop, judge, parse_cluster
from ansible_collections.homelab.istio_egress.plugins.module_utils.access_log_input import AccessLogError, _envoy_time_key, _is_envoy_time, parse_rfc3339
from ansible_collections.homelab.istio_egress.plugins.module_utils.access_log_shapes import _shaped, _Shapes, _text, strip_prefixes, with_stamp
from ansible_collections.homelab.istio_egress.plugins.module_utils.common_text import flags_allowed

UNPARSED_SAMPLE = 5
UNPARSED_SAMPLE_CHARS = 200
OTHER_HOSTS_TOP = 10
# other_hosts looks at the most recent lines of each source only: enough to
# diagnose a failed check (the logs since since_time are usually far fewer)
# while the scan of the other lines stays at grep speed.
RECENT_LINES = 5000
# Distinct hosts tracked for other_hosts; past this, new names go to one bucket so
# memory stays flat on logs with unbounded host names (scanners, random SNI).
OTHER_HOSTS_CAP = 20000
OTHER_HOSTS_OVERFLOW = "(other)"

# A line whose first character is none of these is not an access-log entry
# (istio-agent and Envoy messages, fragments). "[" opens START_TIME, '"' a text
# line pasted without it, "{" the JSON encoding. The scan finds the other line
# starts with one regex per block: a newline followed (lookahead, so blank runs
# count line by line) by any other character.
_ENTRY_START = {"auto": '["{', "text": '["', "json": "{"}
# Line starts the block scan takes as entries without looking further (JSON lines
# are always checked, so "{" is not among them).
_TEXT_START = {"auto": '["', "text": '["', "json": ""}
_ODD_START = {
    "auto": r'\n(?=([^\["]))',  # "{" lines come back too: each is checked as JSON
    "text": r'\n(?=([^\["]))',
    "json": r"\n(?=([\s\S]))",  # every line: each "{" line is checked as JSON
}
_ODD_START_RE = {}  # (format, bytes?) -> compiled, filled on first use (fresh processes pay no more)


def _odd_start(fmt, as_bytes):
    key = (fmt, as_bytes)
    if key not in _ODD_START_RE:
        pattern = _ODD_START[fmt]
        _ODD_START_RE[key] = re.compile(pattern.encode("ascii") if as_bytes else pattern)
    return _ODD_START_RE[key]


_SPACES_STR = (" ", "\t", "\r", "\x0b", "\x0c")
_SPACES_BYTES = tuple(char.encode("ascii") for char in _SPACES_STR)


# --------------------------------------------------------------------------- the scan

class _Scan(object):
    """Accumulates the facts over every source; memory stays bounded."""

    def __init__(self, host, port, since, allowed, fmt, max_entries, hop="gateway", client_ip=None,
                 gateway_hosts=(), strict=False):
        self.host = host
        # expect=absent: also look for the host cut by a line break (a terminal's wrap)
        self.strict = strict
        self.port = port
        self.since_key = _envoy_time_key(since) if since else None
        self.since = since
        self.allowed = frozenset(allowed)
        self.fmt = fmt
        self.starts = _ENTRY_START[fmt]
        self.text_start = _TEXT_START[fmt]
        self.max_entries = max_entries
        self.counted = None if hop == "any" else frozenset([hop])
        self.client_ip = client_ip
        self.gateway_hosts = tuple(gateway_hosts or ())
        self.lines_total = 0
        self.lines_unparsed = 0
        self.unparsed_sample = []
        self.host_unparsed = 0
        self.uncertain = {}
        self.uncertain_sample = []
        self.other_hops = {}
        self.other_clients = 0
        self.other = {}
        self.other_overflow = 0
        self.pods = {}
        self.count = 0
        self.bad = 0
        self.flags = {}
        self.good_entries = []
        self.bad_entries = []
        self.seq = 0
        self.tails = []

    # ---- helpers
    def in_window(self, start):
        """True/False: the entry's start_time is at or after since_time (True without one);
        None: it cannot be placed in time (no or unreadable start_time)."""
        key = self.since_key
        if key is None:
            return True
        if not start:
            return None
        if _is_envoy_time(start):
            return start >= key
        try:
            return parse_rfc3339(start) >= self.since
        except AccessLogError:
            return None

    def unparsed(self, line):
        self.lines_unparsed += 1
        if len(self.unparsed_sample) < UNPARSED_SAMPLE:
            self.unparsed_sample.append(_cut(_text(line)))

    def doubt(self, line, reason):
        """An entry that names the host but does not settle it: absence is not proved."""
        self.uncertain[reason] = self.uncertain.get(reason, 0) + 1
        if len(self.uncertain_sample) < UNPARSED_SAMPLE:
            self.uncertain_sample.append({"reason": reason, "line": _cut(line)})

    def seen(self, label):
        other = self.other
        if label in other:
            other[label] += 1
        elif len(other) < OTHER_HOSTS_CAP:
            other[label] = 1
        else:
            self.other_overflow += 1

    def key(self, line):
        """(key fields, builder) for a line that starts like an entry, or None.

        builder() makes the full entry dict; it is only called for entries kept.
        """
        if line[0] == "{":
            if self.fmt == "text":
                return None
            entry = _json_entry(line)
            if entry is None:
                return None
            return _json_key(entry), lambda: entry
        if self.fmt == "json":
            return None
        skel = _skeleton(line)
        if skel is None:
            return None
        return _text_key(*skel), lambda: _text_entry(*skel)

    def hop_of(self, key, parsed=False):
        return classify_hop(key[4], key[3], key[7], key[5], self.gateway_hosts, parsed)

    # ---- the scan
    def feed(self, pod, blocks, info=None):
        """Scan one source, block by block: count lines, classify line starts with
        one regex, parse only the lines holding the host.

        A block is a str or bytes of whole lines, or (buffer, start, end) for
        the whole lines buffer[start:end] (see file_blocks).
        """
        stats = self.pods.setdefault(pod, {"lines": 0, "matches": 0})
        recent = collections.deque()
        recent_lines = 0
        lines = 0
        kinds = {}
        shapes = _Shapes()
        carry = ""
        for block in _shaped(blocks, shapes):
            if block.__class__ is tuple:
                buf, start, end = block
            else:
                buf, start, end = block, 0, len(block)
            if end <= start:
                continue
            kind = isinstance(buf, bytes)
            if kind not in kinds:
                kinds[kind] = self._kind(kind)
            newline, needle, findall, finditer, starts, brace, brace_open, escape = kinds[kind]
            odd = findall(buf, start, end)
            # JSON blocks only (TEXT logs never escape): a line starting with "}" is
            # pretty-printed JSON from here on; a \u escape may hide the host.
            if not shapes.active and self.fmt != "text" and (odd or buf[start:start + 1] == brace_open) \
                    and (brace in odd or ((brace_open in odd or buf[start:start + 1] == brace_open)
                                          and buf.find(escape, start, end) >= 0)):
                shapes.active = brace in odd
                text = shapes.rewrite(_text(buf[start:end]))
                buf, start, end = text, 0, len(text)
                if not end:
                    continue
                kind = False
                if kind not in kinds:
                    kinds[kind] = self._kind(kind)
                newline, needle, findall, finditer, starts, brace, brace_open, escape = kinds[kind]
                odd = findall(buf, start, end)
            # len - len(replace) counts newlines faster than .count (memchr-based);
            # the bits of buf outside the bounds are at most two partial lines.
            count = len(buf) - len(buf.replace(newline, newline[:0])) + 1
            if start:
                count -= buf.count(newline, 0, start)
            if end < len(buf):
                count -= buf.count(newline, end)
            if buf[end - 1:end] == newline:
                count -= 1  # the empty "line" after a final newline
            first_odd = buf[start:start + 1] not in starts
            if odd or first_odd:
                count -= self._odd_lines(buf, start, end, odd, finditer, first_odd)
            lines += count
            if self.strict:
                carry = self._split_host(buf, start, end, newline, needle, carry)
            pos = buf.find(needle, start, end)
            while pos >= 0:
                begin = buf.rfind(newline, start, pos) + 1 or start
                stop = buf.find(newline, pos, end)
                if stop < 0:
                    stop = end
                self._candidate(pod, stats, _text(buf[begin:stop]))
                pos = buf.find(needle, stop, end)
            recent.append((buf, start, end, count))
            recent_lines += count
            while recent_lines - recent[0][3] >= RECENT_LINES:
                recent_lines -= recent.popleft()[3]
        stats["lines"] += lines
        self.lines_total += lines
        info = info or {}
        stats["read"] = bool(info.get("read", True))
        stats["error"] = info.get("error")
        stats["complete"] = bool(info.get("complete", True)) and stats["read"]
        for name in ("ready", "phase"):  # of the pod object; null for offline input
            stats[name] = info.get(name)
        if recent:
            self.tails.append([(buf, start, end) for buf, start, end, _count in recent])

    def _kind(self, as_bytes):
        """The constants of the block scan for bytes (True) or str (False) blocks."""
        odd_start = _odd_start(self.fmt, as_bytes)
        consts = ("\n", self.host, odd_start.findall, odd_start.finditer, list(_TEXT_START[self.fmt]),
                  "}", "{", "\\u")
        if as_bytes:
            return tuple(c.encode("ascii") if isinstance(c, str) else
                         [x.encode("ascii") for x in c] if isinstance(c, list) else c for c in consts)
        return consts

    def _odd_lines(self, buf, start, end, odd, finditer, first_odd):
        """Handle the lines of buf[start:end] that do not start like a text entry;
        return how many are blank."""
        if isinstance(buf, bytes):
            newline, brace, spaces = b"\n", b"{", _SPACES_BYTES
        else:
            newline, brace, spaces = "\n", "{", _SPACES_STR
        newlines = odd.count(newline)
        braces = odd.count(brace) if self.fmt != "text" else 0
        simple = (not first_odd and not braces and len(self.unparsed_sample) >= UNPARSED_SAMPLE
                  and not any(odd.count(char) for char in spaces))
        if simple:
            self.lines_unparsed += len(odd) - newlines
            return newlines
        # Rare: JSON lines to check, lines of spaces, the first line, or the sample not full.
        blank = 0
        line_starts = [start] if first_odd else []
        line_starts.extend(match.end() for match in finditer(buf, start, end))
        for begin in line_starts:
            stop = buf.find(newline, begin, end)
            if stop < 0:
                stop = end
            if stop == begin:
                blank += 1
                continue
            line = buf[begin:stop]
            if line.isspace():
                blank += 1
            elif line[0:1] == brace and self.fmt != "text":
                if _json_entry(_text(line)) is None:
                    self.unparsed(line)
            else:
                self.unparsed(line)
        return blank

    def _split_host(self, buf, start, end, newline, needle, carry):
        """Count the host cut by line breaks (in this block, or across the previous
        one) as doubtful: a wrapped line hides it from the line-by-line search.
        Returns the carry for the next block."""
        joined = buf[start:end].replace(newline, newline[:0])
        split = joined.count(needle) - buf.count(needle, start, end)
        keep = len(needle) - 1
        head = _text(joined[:keep])
        if carry and (carry + head).count(self.host):
            split += 1
        for _num in range(split):
            self.doubt(_text(needle), "%s is cut by a line break (a line wrapped or split)" % self.host)
        if split:
            self.host_unparsed += split
        return _text(joined[-keep:]) if keep else ""

    def _host_line(self, line):
        """A line that holds the host but is no entry: absence cannot be proved."""
        self.host_unparsed += 1
        self.doubt(line, "holds %s but is not an access-log entry" % self.host)

    def _candidate(self, pod, stats, line):
        """Full parse of a line that contains the wanted host."""
        first = line[:1]
        counted_odd = first not in self.text_start  # the block scan called it unparsed
        if (first == "[" and line[1:2] == "p" and line.startswith("[pod/")) or first.isdigit():
            # kubectl --prefix / --timestamps on a line the block scan took as it is
            stripped, stamp = strip_prefixes(line)
            if stripped != line:
                line = with_stamp(stripped, stamp)
                first = line[:1]
        if first == "{" and self.fmt == "text" and _json_entry(line) is not None:
            raise AccessLogError("format is text, but the input holds JSON access-log entries (a line with "
                                 "%s starts with '{'): use format json or auto" % self.host)
        if not first or first not in self.starts:
            self._host_line(line)
            return
        parsed = self.key(line)
        if parsed is None:
            if not counted_odd and first != "{":
                self.unparsed(line)
            self._host_line(line)
            return
        if counted_odd and first != "{":
            self.lines_unparsed -= 1  # an entry after all, once its prefixes were stripped
        key, build = parsed
        when = self.in_window(key[0])
        if when is False:
            return
        cluster = parse_cluster(key[4])
        hop = self.hop_of(key, cluster)
        verdict, _seen = judge(self.host, self.port, hop, key[2], key[6], key[4], key[3], key[5], cluster)
        if verdict is None or verdict == "other_port":
            return
        counted = self.counted is None or hop in self.counted
        if verdict == "conflict":
            if counted or hop == "unknown":
                self.doubt(line, "names %s, but another of its names (SNI, authority, cluster) is another "
                                 "host" % self.host)
            return
        if when is None:
            self.doubt(line, "has no start time to compare with since_time")
            return
        if not counted:
            if hop == "unknown":
                self.doubt(line, "its hop cannot be told from the line")
            else:
                self.other_hops[hop] = self.other_hops.get(hop, 0) + 1
            return
        if self.client_ip and hop == "gateway":
            remote = address_ip(key[8])
            if remote is None:
                self.doubt(line, "has no downstream remote address to compare with client_ip")
                return
            if remote != self.client_ip:
                self.other_clients += 1
                return
        self.count += 1
        stats["matches"] += 1
        flags = key[1]
        self.flags[flags] = self.flags.get(flags, 0) + 1
        self.seq += 1
        good = flags_allowed(flags, self.allowed)
        if not good:
            self.bad += 1
        kept = self.good_entries if good else self.bad_entries
        if len(kept) < self.max_entries:
            entry = build()
            entry["pod"] = pod
            entry["hop"] = hop
            kept.append((self.seq, {name: entry[name] for name in ENTRY_KEYS}))

    def _recent_hosts(self, lines):
        """other_hosts: what the most recent lines show instead of host:port at the hop."""
        starts = self.starts
        host = self.host
        light = self.fmt != "json" and self.since_key is None
        for line in lines:
            if not line or line[0] not in starts:
                continue
            if light and line[0] != "{" and host not in line:
                # Without the host the line cannot match: its label from the split alone.
                skel = _skeleton(line)
                if skel is None:
                    continue
                parts, tail = skel
                authority = parts[-4] if len(parts) > 3 else "-"
                if authority and authority != "-":
                    label = authority_host(authority)
                elif tail and tail[4] != "-":
                    label = tail[4]
                elif tail and tail[0] != "-":
                    cluster = parse_cluster(tail[0])
                    label = cluster[3] if cluster and cluster[3] else tail[0]
                else:
                    label = None
                if label:
                    self.seen(label)
                continue
            parsed = self.key(line)
            if parsed is None:
                continue
            key = parsed[0]
            if self.in_window(key[0]) is False:
                continue
            hop = self.hop_of(key)
            verdict, seen = judge(host, self.port, hop, key[2], key[6], key[4], key[3], key[5])
            if verdict == "match":
                if self.counted is None or hop in self.counted:
                    continue
                label = "%s (%s)" % (host, hop)
            elif verdict == "other_port":
                label = "%s:%s" % (host, seen or "?")
            else:
                cluster = parse_cluster(key[4])
                label = (authority_host(key[2]) or key[6] or (cluster[3] if cluster and cluster[3] else None)
                         or key[4])
            if label:
                self.seen(label)  # a cluster without a host: PassthroughCluster, ...

    def entries(self):
        # Entries with disallowed flags are the evidence of a failure: keep them first
        # when there are more matches than max_entries, then show all in log order.
        chosen = (self.bad_entries + self.good_entries)[:self.max_entries]
        return [entry for _seq, entry in sorted(chosen, key=lambda item: item[0])]

    def other_hosts(self):
        for tail in self.tails:
            lines = []
            for buf, start, end in tail:
                lines.extend(_text(buf[start:end]).split("\n"))
            self._recent_hosts(lines[-RECENT_LINES:])
        self.tails = []
        items = sorted(self.other.items(), key=lambda kv: (-kv[1], kv[0]))[:OTHER_HOSTS_TOP]
        result = [{"host": host, "count": num} for host, num in items]
        if self.other_overflow:
            result.append({"host": OTHER_HOSTS_OVERFLOW, "count": self.other_overflow})
        return result


def _cut(line):
    line = _text(line)
    if len(line) > UNPARSED_SAMPLE_CHARS:
        line = line[:UNPARSED_SAMPLE_CHARS] + u"\u2026"
    return line
