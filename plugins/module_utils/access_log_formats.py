# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access-log line formats: one TEXT or JSON line into its fields (no hop, no decision).

Pure and stdlib-only. Formats (docs/egress_log_assert.md lists them):
every default TEXT format Istio has used, from the 2018 pre-1.1 HTTP/TCP
formats through 1.1 (mixer status), 1.2 (transport failure reason), 1.3-1.7
(route name), 1.8, 1.9-1.30 (response code details), plus Envoy's own
built-in default, and the JSON encoding (``accessLogEncoding: JSON``). In the
text formats every free-text field is quoted and every other field is one
token, so a line splits on ``"`` into a fixed number of parts (13, 15 or 17,
or 3 for the pre-1.1 TCP format) with the five quoted fields X-FORWARDED-FOR,
USER-AGENT, X-REQUEST-ID, :AUTHORITY and UPSTREAM_HOST always last, then the
unquoted tail ``UPSTREAM_CLUSTER UPSTREAM_LOCAL DOWNSTREAM_LOCAL
DOWNSTREAM_REMOTE SNI [ROUTE_NAME]``. That is cheaper and more tolerant (no
timestamp prefix, trailing spaces, ``-`` fields, ``envoy://`` addresses) than
one regular expression per version.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

ENTRY_KEYS = (
    "start_time", "pod", "method", "path", "protocol", "response_code", "response_flags",
    "bytes_received", "bytes_sent", "duration_ms", "authority", "upstream_host",
    "upstream_cluster", "requested_server_name", "upstream_local_address",
    "downstream_local_address", "downstream_remote_address", "route_name", "hop",
)

FORMATS = ("auto", "text", "json")

_DIGITS = frozenset("0123456789")


# --------------------------------------------------------------------------- parsing

def _none(value):
    if value is None or value == "-" or value == "":
        return None
    return value


def _int(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    value = str(value)
    if value and set(value) <= _DIGITS:
        return int(value)
    return None


def split_request(request):
    """(method, path, protocol) from '%REQ(:METHOD)% %PATH% %PROTOCOL%' ('-' -> None)."""
    parts = request.split(" ")
    if len(parts) == 3:
        method, path, protocol = parts
    elif len(parts) > 3:  # a path with spaces: keep it whole
        method, path, protocol = parts[0], " ".join(parts[1:-1]), parts[-1]
    elif len(parts) == 2:
        # pre-1.1 HTTP format: no space between PATH and PROTOCOL (NOTE in formats file)
        method, rest = parts
        cut = rest.rfind("HTTP/")
        if rest == "--":
            path, protocol = "-", "-"
        elif cut > 0:
            path, protocol = rest[:cut], rest[cut:]
        elif rest.endswith("-") and len(rest) > 1:
            path, protocol = rest[:-1], "-"
        else:
            path, protocol = rest, None
    else:
        method, path, protocol = parts[0], None, None
    return _none(method), _none(path), _none(protocol)


def _skeleton(line):
    """Split a TEXT access-log line into (parts, tail tokens), or None when it is not one.

    This alone decides whether a line is an access-log entry, for the light and
    the full path alike.
    """
    parts = line.split('"')
    count = len(parts)
    if count == 15 or count == 13 or count == 17:
        if parts[-3] != " " or parts[-5] != " " or parts[-7] != " " or parts[-9] != " ":
            return _requoted(parts)
        tail = parts[-1].split()
        size = len(tail)
        if size == 6 or size == 5 or (size == 0 and count == 13):
            prefix = parts[0]
            if prefix and not (prefix[0] == "[" and prefix[-2:] == "] "):
                return None
            if not _left_ok(parts, count):
                # a User-Agent with '" "' in it can look like a longer format
                return _requoted(parts) or None
            return parts, tail
        return None
    if count == 3:
        # pre-1.1 TCP format: [START] FLAGS BYTES_RECEIVED BYTES_SENT DURATION "UPSTREAM_HOST" ...
        tail = parts[2].split()
        head = parts[0].split()
        if len(tail) == 5 and (len(head) == 4 or (len(head) == 5 and head[0][:1] == "[")):
            return parts, tail
        return None
    if count > 13:
        return _requoted(parts)
    return None


# Left of X-FORWARDED-FOR, by format (parts of line.split('"')): the number of
# parts and the token counts of the unquoted runs that must be there.
_LEFT_SHAPES = (
    (17, ((2, 2), (4, 0), (6, 4))),  # 1.3-1.8: CODE FLAGS "DETAILS" "REASON" NUMBERS
    (15, ((2, 4), (4, 4))),          # 1.9-1.30: CODE FLAGS DETAILS TERM "REASON" NUMBERS
    (15, ((2, 2), (4, 4))),          # 1.1/1.2: CODE FLAGS "STATUS/REASON" NUMBERS
    (13, ((2, 6),)),                 # pre-1.1, 1.0, Envoy's default: CODE FLAGS NUMBERS
)


def _left_ok(parts, size):
    """The unquoted run of numbers left of X-FORWARDED-FOR is where a format with
    size parts has it (one split per line; see _LEFT_SHAPES)."""
    # Envoy separates the fields with one space: ' 0 0 2 2 ' has 5 of them.
    if size == 15:
        return parts[4].count(" ") == 5
    if size == 17:
        return parts[4] == " " and parts[6].count(" ") == 5
    return parts[2].count(" ") == 7


def _requoted(parts):
    """Skeleton of a line whose User-Agent holds '"' characters, or None.

    Envoy does not escape '"' in TEXT logs, so a quote in the User-Agent adds
    parts. The fields right of the User-Agent (X-REQUEST-ID, :AUTHORITY,
    UPSTREAM_HOST, the tail) are counted from the end and the ones left of it
    (START_TIME through X-FORWARDED-FOR) from the start; the User-Agent is what
    lies between. Accepted only when both sides have their exact shape, so a
    quote elsewhere leaves the line unparsed instead of shifting a field.
    """
    count = len(parts)
    if parts[-3] != " " or parts[-5] != " " or parts[-7] != " ":
        return None
    tail = parts[-1].split()
    if len(tail) not in (5, 6):
        return None
    prefix = parts[0]
    if prefix and not (prefix[0] == "[" and prefix[-2:] == "] "):
        return None
    authority = parts[-4]
    if " " in authority or "\t" in authority:
        return None
    for size, runs in _LEFT_SHAPES:
        extra = count - size
        if extra <= 0 or parts[size - 9] != " ":
            continue
        if all(len(parts[index].split()) == tokens for index, tokens in runs):
            user_agent = '"'.join(parts[size - 8:count - 7])
            fixed = parts[:size - 8] + [user_agent] + parts[count - 7:]
            return fixed, tail
    return None


def _text_entry(parts, tail):
    """Build the entry dict (without pod) from a skeleton."""
    count = len(parts)
    if count == 3:
        head = parts[0].split()
        start = head.pop(0)[1:-1] if len(head) == 5 else None
        flags, received, sent, duration = head
        method = path = protocol = code = authority = None
        upstream_host = parts[1]
    else:
        prefix = parts[0]
        start = prefix[1:-2] if prefix else None
        method, path, protocol = split_request(parts[1])
        head = parts[2].split()
        if count == 13:
            # pre-1.1 / 1.0 and Envoy's built-in default: CODE FLAGS RECEIVED SENT DURATION UPSTREAM_TIME
            numbers = head[2:]
        else:
            # CODE FLAGS [DETAILS TERMINATION] "..." [ "..." ] RECEIVED SENT DURATION UPSTREAM_TIME
            numbers = parts[-11].split()
        code = head[0] if head else None
        flags = head[1] if len(head) > 1 else None
        numbers = numbers + [None] * (3 - len(numbers))
        received, sent, duration = numbers[0], numbers[1], numbers[2]
        authority = parts[-4]
        upstream_host = parts[-2]
    tail = tail + [None] * (6 - len(tail))
    return {
        "start_time": _none(start),
        "method": method,
        "path": path,
        "protocol": protocol,
        "response_code": _int(code),
        "response_flags": flags or "-",
        "bytes_received": _int(received),
        "bytes_sent": _int(sent),
        "duration_ms": _int(duration),
        "authority": _none(authority),
        "upstream_host": _none(upstream_host),
        "upstream_cluster": _none(tail[0]),
        "requested_server_name": _none(tail[4]),
        "upstream_local_address": _none(tail[1]),
        "downstream_local_address": _none(tail[2]),
        "downstream_remote_address": _none(tail[3]),
        "route_name": _none(tail[5]),
    }


def _text_key(parts, tail):
    """The fields that decide a match, without building an entry:
    (start_time, response_flags, authority, upstream_host, upstream_cluster,
    downstream_local_address, requested_server_name, upstream_local_address,
    downstream_remote_address), '-' as None."""
    if len(parts) == 3:
        head = parts[0].split()
        start = head[0][1:-1] if len(head) == 5 else None
        flags = head[-4]
        authority = None
        upstream_host = parts[1]
    else:
        start = parts[0][1:-2] or None
        head = parts[2].split()
        flags = head[1] if len(head) > 1 else "-"
        authority = parts[-4]
        upstream_host = parts[-2]
    if tail:
        return (start, flags, _none(authority), _none(upstream_host), _none(tail[0]),
                _none(tail[2]), _none(tail[4]), _none(tail[1]), _none(tail[3]))
    return start, flags, _none(authority), _none(upstream_host), None, None, None, None, None


def _json_key(entry):
    return (entry["start_time"], entry["response_flags"], entry["authority"],
            entry["upstream_host"], entry["upstream_cluster"],
            entry["downstream_local_address"], entry["requested_server_name"],
            entry["upstream_local_address"], entry["downstream_remote_address"])


_JSON_KEYS = (("start_time", "start_time"), ("method", "method"), ("path", "path"),
              ("protocol", "protocol"), ("authority", "authority"),
              ("upstream_host", "upstream_host"), ("upstream_cluster", "upstream_cluster"),
              ("requested_server_name", "requested_server_name"),
              ("upstream_local_address", "upstream_local_address"),
              ("downstream_local_address", "downstream_local_address"),
              ("downstream_remote_address", "downstream_remote_address"),
              ("route_name", "route_name"))
_JSON_MARKERS = ("start_time", "upstream_cluster", "response_code", "response_flags")


def _json_entry(line):
    """Entry dict (without pod) from one JSON-encoded line, or None."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or not any(key in data for key in _JSON_MARKERS):
        return None
    entry = {}
    for key, src in _JSON_KEYS:
        value = data.get(src)
        entry[key] = None if value is None else _none(str(value))
    flags = data.get("response_flags")
    entry["response_flags"] = str(flags) if flags not in (None, "") else "-"
    entry["response_code"] = _int(data.get("response_code"))
    entry["bytes_received"] = _int(data.get("bytes_received"))
    entry["bytes_sent"] = _int(data.get("bytes_sent"))
    entry["duration_ms"] = _int(data.get("duration"))
    return entry
