# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse Envoy/Istio access logs and decide whether they prove traffic to a host.

Pure and stdlib-only: no AnsibleModule, no Kubernetes. The module
``egress_log_assert`` feeds it lines (from pods, a file, a string or a list)
and turns :class:`AccessLogError` into ``fail_json``.

Formats (docs/egress_log_assert.md lists them):
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

Hops (docs/egress_log_assert.md): every entry is classified by the proxy
that wrote it, from the line alone (classify_hop), and an entry matches only
when all its names and its port agree with host:port (judge). expect=absent
passes only over input read completely with no doubtful line (a line with the
host that does not parse, names that disagree, no start time, no hop).

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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import datetime
import json
import re

ENTRY_KEYS = (
    "start_time", "pod", "method", "path", "protocol", "response_code", "response_flags",
    "bytes_received", "bytes_sent", "duration_ms", "authority", "upstream_host",
    "upstream_cluster", "requested_server_name", "upstream_local_address",
    "downstream_local_address", "downstream_remote_address", "route_name", "hop",
)

FORMATS = ("auto", "text", "json")
EXPECTS = ("present", "absent")

# Envoy bounds request headers at 60 KiB by default (max_request_headers_kb), so a
# real access-log line stays far below this; longer ones are not access logs and
# would only grow memory.
MAX_LINE_BYTES = 1024 * 1024
READ_BLOCK = 256 * 1024
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

_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)$")
_DIGITS = frozenset("0123456789")
_UTC = datetime.timezone.utc


class AccessLogError(Exception):
    """A domain error: str(exc) is one sentence for the user."""


# --------------------------------------------------------------------------- inputs

def normalize_host(host):
    """Return host lower-cased and checked as a DNS name or IPv4 address."""
    if host is None or not str(host).strip():
        raise AccessLogError("host must be a non-empty host name such as httpbin.org")
    value = str(host).strip().lower()
    if value.endswith("."):
        value = value[:-1]
    if "://" in value or "/" in value:
        raise AccessLogError("host %r must be a bare host name, without scheme or path" % host)
    if ":" in value:
        raise AccessLogError("host %r must not carry a port: give the port in 'port'" % host)
    labels = value.split(".")
    if len(value) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise AccessLogError("host %r is not a valid host name (RFC 1123: letters, digits, '-' "
                             "and dots, labels of 1-63 characters)" % host)
    return value


def check_port(port):
    """Return port as int, or raise when it is not a TCP port."""
    try:
        value = int(port)
    except (TypeError, ValueError):
        raise AccessLogError("port %r is not a number" % (port,))
    if not 1 <= value <= 65535:
        raise AccessLogError("port %s is outside 1-65535" % value)
    return value


def parse_rfc3339(value):
    """Return an aware UTC datetime for an RFC 3339 timestamp, or raise AccessLogError."""
    match = _RFC3339.match(str(value).strip()) if value is not None else None
    if not match:
        raise AccessLogError("since_time %r is not an RFC 3339 timestamp such as "
                             "2026-01-31T12:00:00Z" % (value,))
    year, month, day, hour, minute, second, frac, zone = match.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        stamp = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute),
                                  int(second), micro)
    except ValueError as exc:
        raise AccessLogError("since_time %r is not a valid date and time: %s" % (value, exc))
    if zone in ("Z", "z"):
        offset = datetime.timedelta(0)
    else:
        sign = -1 if zone[0] == "-" else 1
        offset = sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return (stamp - offset).replace(tzinfo=_UTC)


def _envoy_time_key(stamp):
    """Envoy's START_TIME layout (%Y-%m-%dT%H:%M:%E3SZ, UTC): compares as a string."""
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + "%06dZ" % stamp.microsecond


def _is_envoy_time(value):
    # 2024-01-09T15:35:47.283Z: the layout of every default format (UTC, ms).
    return (len(value) == 24 and value[4] == "-" and value[10] == "T" and value[19] == "."
            and value[23] == "Z")


# --------------------------------------------------------------------------- sources
#
# A source yields *blocks*: strings of whole lines joined by "\n" (no final
# newline), a few hundred KiB each, so the scan can use str.find/str.count and
# one precompiled regex over a block instead of Python code per line.

def _long_line_error(label, lineno):
    return AccessLogError("line %d of %s is longer than %d bytes: not an Envoy access log line"
                          % (lineno, label, MAX_LINE_BYTES))


def _check_block(block, label, first_lineno):
    """Raise for NUL characters or over-long lines in an in-memory block."""
    nul = block.find("\x00")
    if nul >= 0:
        raise AccessLogError("%s holds binary data (a NUL character at line %d), not an Envoy "
                             "access log" % (label, first_lineno + block.count("\n", 0, nul)))
    if len(block) > MAX_LINE_BYTES:
        lines = block.split("\n")
        for num, line in enumerate(lines):
            if len(line) > MAX_LINE_BYTES or len(line.encode("utf-8")) > MAX_LINE_BYTES:
                raise _long_line_error(label, first_lineno + num)


def _checked(data, label, offset):
    """data (whole lines) as is, or decoded with U+FFFD for bytes that are not
    UTF-8: an odd byte costs its own line's fidelity, never the input.

    Raises for a line over MAX_LINE_BYTES.
    """
    if len(data) > MAX_LINE_BYTES:
        longest = max(len(line) for line in data.split(b"\n"))
        if longest > MAX_LINE_BYTES:
            raise AccessLogError("%s has a line of %d bytes, longer than %d bytes: not an Envoy "
                                 "access log" % (label, longest, MAX_LINE_BYTES))
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("utf-8", "replace")
    return data


def _crlf(block):
    # CR LF (Windows) and CR-only (old Mac, some terminals) line ends -> LF.
    # A CR LF cut by a read boundary becomes an extra blank line, which is not counted.
    if b"\r" in block:
        return block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return block


def _chunk_blocks(chunks, label, keep_partial=None):
    """Blocks of whole lines from an iterable of byte chunks (see file_blocks).

    keep_partial: called at the end; when it returns False an unterminated last
    line is dropped (a read cut by max_bytes ends inside a line).
    """
    rest = b""  # the start of a line that goes on in the next read
    offset = 0  # offset of the current read
    first = True
    for block in chunks:
        if not block:
            continue
        if first:
            first = False
            if block.startswith(b"\xef\xbb\xbf"):
                block = block[3:]  # a UTF-8 byte order mark from an editor
                offset += 3
            # Binary files (archives, images, core dumps) show NUL bytes early.
            nul = block.find(b"\x00", 0, 65536)
            if nul >= 0:
                raise AccessLogError("%s holds binary data (a NUL byte at offset %d), not an "
                                     "Envoy access log" % (label, offset + nul))
        size = len(block)
        block = _crlf(block)
        newline = block.find(b"\n")
        if newline < 0:
            rest += block
            if len(rest) > MAX_LINE_BYTES:
                raise AccessLogError("the line at byte offset %d of %s is longer than %d bytes: "
                                     "not an Envoy access log line"
                                     % (offset + size - len(rest), label, MAX_LINE_BYTES))
            offset += size
            continue
        start = 0
        if rest:
            head = rest + block[:newline + 1]
            rest = b""
            yield _checked(head, label, offset)
            start = newline + 1
        end = block.rfind(b"\n") + 1
        if end > start:
            if not block.isascii() or end - start > MAX_LINE_BYTES:
                checked = _checked(block[start:end], label, offset + start)
                yield checked if checked.__class__ is str else (block, start, end)
            else:
                yield block, start, end
        rest = block[end:]
        offset += size
    if rest and (keep_partial is None or keep_partial()):
        yield _checked(rest, label, offset - len(rest))


def file_blocks(path, label=None):
    """Stream a file as blocks of whole lines, for assess().

    Yields ``(buffer, start, end)``: ``buffer[start:end]`` is whole lines (the
    scan works inside those bounds, so a read is never copied), a small
    ``bytes`` block for a line that spans two reads, or a ``str`` block where
    bytes were not UTF-8 (decoded with U+FFFD).

    Raises AccessLogError for a missing or unreadable file, binary data (NUL
    bytes at the start) and lines longer than MAX_LINE_BYTES.
    """
    label = label or path
    try:
        # Not a with-statement: an open error gets its own message; `with handle` closes it.
        handle = open(path, "rb")  # noqa: SIM115
    except (IOError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise AccessLogError("cannot read src %s: %s" % (path, reason))

    def reads():
        while True:
            try:
                block = handle.read(READ_BLOCK)
            except (IOError, OSError) as exc:
                raise AccessLogError("reading src %s failed: %s" % (path, exc))
            if not block:
                return
            yield block

    with handle:
        yield from _chunk_blocks(reads(), label)


def stream_blocks(chunks, label, info=None, max_bytes=None):
    """Blocks of whole lines from a live stream of byte chunks (a pod log).

    Bounded: at most max_bytes are read (the caller asks the API for
    max_bytes + 1, so more means the window was cut). info (a dict) is filled
    as the stream is read: ``complete`` True only when the stream ended by
    itself within the bound; ``error`` one sentence when it was cut (max_bytes)
    or broke off (the chunks' own exception, e.g. a read timeout). A broken
    stream ends this source, not the assessment.
    """
    info = {} if info is None else info
    info.setdefault("read", True)
    info.setdefault("error", None)
    info["complete"] = False

    def bounded():
        total = 0
        iterator = iter(chunks)
        while True:
            try:
                chunk = next(iterator)
            except StopIteration:
                break
            except Exception as exc:  # the reader's own errors end this source only
                info["error"] = str(exc) or exc.__class__.__name__
                return
            if max_bytes is not None and total + len(chunk) > max_bytes:
                keep = chunk[:max_bytes - total]
                if keep:
                    yield keep
                info["truncated"] = True
                info["error"] = ("the log is longer than max_bytes=%d: only its first %d bytes were read"
                                 % (max_bytes, max_bytes))
                return
            total += len(chunk)
            yield chunk
        info["complete"] = True

    yield from _chunk_blocks(bounded(), label, keep_partial=lambda: info["complete"])


def text_blocks(text, label="content"):
    """Yield the lines of an in-memory string as blocks."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise AccessLogError("%s must be a string, not %s" % (label, type(text).__name__))
    if "\r" in text:  # CR LF and CR-only line ends
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    start = 1 if text.startswith(u"\ufeff") else 0  # a byte order mark
    lineno = 1
    size = len(text)
    while start < size:
        end = text.find("\n", start + READ_BLOCK)
        if end < 0:
            end = size
        block = text[start:end]
        _check_block(block, label, lineno)
        lineno += block.count("\n") + 1
        start = end + 1
        yield block


def list_blocks(items, label="lines"):
    """Yield the lines of a list of strings (an item may itself hold several lines) as blocks."""
    if items is None:
        items = []
    if isinstance(items, str):
        raise AccessLogError("%s must be a list of strings, not one string" % label)
    batch = []
    for num, item in enumerate(items):
        if item is None:
            continue
        if not isinstance(item, str):
            raise AccessLogError("%s[%d] is a %s, not a string" % (label, num, type(item).__name__))
        if "\x00" in item:
            raise AccessLogError("%s[%d] holds binary data (a NUL character), not an Envoy access "
                                 "log line" % (label, num))
        if len(item) > MAX_LINE_BYTES and max(len(x) for x in item.split("\n")) > MAX_LINE_BYTES:
            raise AccessLogError("%s[%d] is longer than %d characters: not an Envoy access log line"
                                 % (label, num, MAX_LINE_BYTES))
        if "\r" in item:
            item = item.replace("\r\n", "\n").replace("\r", "\n")
        batch.append(item[:-1] if item.endswith("\n") else item)
        if len(batch) >= 4096:
            yield "\n".join(batch)
            batch = []
    if batch:
        yield "\n".join(batch)


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


def parse_cluster(name):
    """(direction, port, subset, host) of an Istio cluster name, or None.

    Handles the raw name ``outbound|443|subset|host`` (UPSTREAM_CLUSTER_RAW, and
    UPSTREAM_CLUSTER before 1.23) and the alt stat name
    ``outbound_.443_.subset_.host`` that UPSTREAM_CLUSTER can print.
    """
    if not name:
        return None
    if "|" in name:
        parts = name.split("|")
        if len(parts) != 4:
            return None
        direction, port, subset, host = parts
    elif "_." in name:
        parts = name.split("_.", 3)
        if len(parts) != 4:
            return None
        direction, port, subset, host = parts
        if subset == "_":
            subset = ""
    else:
        return None
    if direction not in ("outbound", "inbound"):
        return None
    return direction, (int(port) if port and set(port) <= _DIGITS else None), subset, host


def address_port(address):
    """Port of ``ip:port``, ``[v6]:port`` or ``envoy://name/ip:port``; None when unknown."""
    if not address or address == "-":
        return None
    if address.startswith("envoy://"):
        address = address[len("envoy://"):].rsplit("/", 1)[-1]
    if address.startswith("["):
        end = address.find("]:")
        port = address[end + 2:] if end > 0 else ""
    else:
        if address.count(":") != 1:
            return None
        port = address.rsplit(":", 1)[1]
    if port and set(port) <= _DIGITS:
        value = int(port)
        return value if 0 < value <= 65535 else None
    return None


def authority_host(authority):
    """Host part of an :authority value (port and IPv6 brackets removed)."""
    if not authority:
        return authority
    if authority.startswith("["):
        end = authority.find("]")
        return authority[1:end] if end > 0 else authority
    if authority.count(":") == 1:
        return authority.split(":", 1)[0]
    return authority


def entry_port(entry):
    """The port an entry went to: its cluster's, else its upstream host's, else the local one's."""
    cluster = parse_cluster(entry.get("upstream_cluster"))
    if cluster and cluster[1]:
        return cluster[1]
    port = address_port(entry.get("upstream_host"))
    if port:
        return port
    return address_port(entry.get("downstream_local_address"))


def entry_hosts(entry):
    """Names the entry shows, in label order: authority host, SNI, cluster host."""
    names = []
    authority = authority_host(entry.get("authority"))
    if authority:
        names.append(authority)
    sni = entry.get("requested_server_name")
    if sni:
        names.append(sni)
    cluster = parse_cluster(entry.get("upstream_cluster"))
    if cluster and cluster[3]:
        names.append(cluster[3])
    return names


def flags_allowed(flags, allowed):
    """True when every flag of 'UF,URX' (or '-') is in the allowed set ('*' allows all)."""
    if "*" in allowed or flags in allowed:
        return True
    return all(flag in allowed for flag in flags.split(","))


# --------------------------------------------------------------------------- hops
#
# Which proxy wrote a line, told from the line alone (docs/egress_log_assert.md,
# "Which hop wrote the line"). A sidecar captures outbound traffic with iptables,
# so its DOWNSTREAM_LOCAL_ADDRESS is the ORIGINAL destination (the external IP,
# a service VIP or an auto-allocated 240.240.x.x), while its
# UPSTREAM_LOCAL_ADDRESS is the pod's own IP: the two IPs differ. A gateway is
# addressed directly: the connection arrives at the pod's own IP on the listener
# port (8443 for the istio/gateway chart's 443, 15443, or 443 for a Gateway-API
# deployment) and leaves from that same IP, so both IPs are equal and the local
# address is not the upstream host. The cluster name tells the rest
# (pilot BuildSubsetKey: outbound|PORT|SUBSET|HOST). When a field the rule needs
# is missing (an upstream connect failure logs no upstream local address) the hop
# is 'unknown', never 'gateway'.

HOPS = ("gateway", "client", "sidecar_direct", "passthrough", "blackhole", "inbound", "unknown")
HOP_CHOICES = ("gateway", "client", "any")


def address_ip(address):
    """IP of ``ip:port``, ``[v6]:port`` or ``envoy://name/ip:port``; None when unknown."""
    if not address or address == "-":
        return None
    if address.count(":") == 1 and address[0] != "e":  # the common IPv4 case first
        return address.split(":", 1)[0] or None
    if address.startswith("envoy://"):
        address = address[len("envoy://"):].rsplit("/", 1)[-1]
    if address.startswith("["):
        end = address.find("]")
        return address[1:end] or None if end > 0 else None
    if address.count(":") == 1:
        return address.split(":", 1)[0] or None
    return None


def is_gateway_service(host, gateway_hosts=()):
    """True when a cluster's host is an egress gateway Service (hop 1 goes there).

    gateway_hosts: the gateway Service's names (FQDN, or NAME.NAMESPACE, or NAME)
    when known; otherwise the name of Istio's charts and docs is recognised
    (istio-egressgateway, egressgateway, *-egress-gateway).
    """
    if not host:
        return False
    for name in gateway_hosts or ():
        if name and (host == name or host.startswith(name + ".")):
            return True
    first = host.split(".", 1)[0]
    return "egressgateway" in first or "egress-gateway" in first


def classify_hop(cluster, upstream_host, upstream_local, downstream_local, gateway_hosts=(), parsed=False):
    """The hop that wrote an entry, one of HOPS (see the comment above).

    parsed: parse_cluster(cluster) when the caller has it already.
    """
    if not cluster:
        return "unknown"
    if cluster == "PassthroughCluster":
        return "passthrough"
    if cluster == "BlackHoleCluster":
        return "blackhole"
    if cluster.startswith("InboundPassthroughCluster"):
        return "inbound"
    if parsed is False:
        parsed = parse_cluster(cluster)
    if parsed is None:
        return "unknown"
    if parsed[0] == "inbound":
        return "inbound"
    if not parsed[3]:
        return "unknown"
    here, out = address_ip(downstream_local), address_ip(upstream_local)
    if not here or not out:
        return "unknown"
    if is_gateway_service(parsed[3], gateway_hosts):
        # a sidecar sending to the gateway: original destination != own IP
        return "client" if here != out else "unknown"
    if here == out:
        return "gateway" if downstream_local != upstream_host else "unknown"
    return "sidecar_direct"


def entry_hop(entry, gateway_hosts=()):
    """classify_hop for an entry dict."""
    return classify_hop(entry.get("upstream_cluster"), entry.get("upstream_host"),
                        entry.get("upstream_local_address"), entry.get("downstream_local_address"),
                        gateway_hosts)


def _name_is(name, host):
    """An SNI/authority name names host: equal, or the short form of a
    Kubernetes service name (authority 'httpbin' for httpbin.foo.svc.cluster.local)."""
    if name == host:
        return True
    return ("." not in name or name.count(".") == 1) and host.endswith(".svc.cluster.local") \
        and host.startswith(name + ".")


def judge(host, port, hop, authority, sni, cluster, upstream_host, downstream_local, parsed=False):
    """How one entry relates to host:port, from its own fields only.

    Returns (verdict, port seen): 'match' (every name the entry shows is host
    and its port is port), 'other_port' (names agree, another port), 'conflict'
    (host is named but another name disagrees: SNI host, cluster another host)
    or None (host not named).

    Names: SNI, authority host and, except for hop 1 (whose cluster is the
    gateway Service), the cluster's host. Port: the cluster's, except hop 1
    and the pass-through clusters, which log the original destination port in
    the downstream local address. parsed: parse_cluster(cluster) when known.
    """
    if parsed is False:
        parsed = parse_cluster(cluster)
    named = other = False
    if sni:
        if sni == host or _name_is(sni, host):
            named = True
        else:
            other = True
    if authority:
        name = authority_host(authority)
        if name == host or _name_is(name, host):
            named = True
        else:
            other = True
    if parsed and parsed[0] == "outbound" and parsed[3] and hop != "client":
        if parsed[3] == host:
            named = True
        else:
            other = True
    if not named:
        return None, None
    if hop in ("client", "passthrough", "blackhole"):
        seen = address_port(downstream_local) or (parsed[1] if parsed else None)
    else:
        seen = parsed[1] if parsed and parsed[1] else None
        if not seen:
            seen = address_port(upstream_host) or address_port(downstream_local)
    if other:
        return "conflict", seen
    if seen != port:
        return "other_port", seen
    return "match", seen


# --------------------------------------------------------------------------- decision

_PLURALS = {"entry": "entries"}


def _plural(count, word):
    return "%d %s" % (count, word if count == 1 else _PLURALS.get(word, word + "s"))


def _histogram_text(hist, limit=5):
    items = sorted(hist.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(u"%s \u00d7%d" % (key, num) for key, num in items[:limit])
    if len(items) > limit:
        text += u", \u2026"
    return text


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


def _text(line):
    return line.decode("utf-8") if isinstance(line, bytes) else line


# --------------------------------------------------------------------------- shapes
#
# Inputs that are not one entry per line, made readable (docs/egress_log_assert.md,
# "Input shapes"): `kubectl logs --prefix` ("[pod/NAME/CONTAINER] ") and
# `--timestamps` (the kubelet's RFC 3339 time and a space) before each line,
# pretty-printed JSON objects (`jq .`), and JSON strings with \u escapes (a host
# written httpbin\u002eorg is still httpbin.org). The block scan sends a block
# here only when its first line has such a shape, when a closing brace starts a
# line, or when it holds a backslash; plain logs never pay for it.

_KUBECTL_PREFIX = re.compile(r"\[pod/[^\s\]]+\] ")
_KUBELET_STAMP = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) ")
PRETTY_JSON_MAX_LINES = 400


def strip_prefixes(line):
    """(line without kubectl's --prefix and --timestamps prefixes, the kubelet's time or None)."""
    stamp = None
    if line.startswith("[pod/"):
        match = _KUBECTL_PREFIX.match(line)
        if match:
            line = line[match.end():]
    if line[:1].isdigit():
        match = _KUBELET_STAMP.match(line)
        if match:
            stamp = match.group(1)
            line = line[match.end():]
    return line, stamp


def _json_line(text, stamp):
    """One compact JSON line for a JSON object's text (escapes decoded), or None.

    The kubelet's time stands in for a missing start_time.
    """
    text = text.strip()
    if text.endswith(","):
        text = text[:-1]
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if stamp and data.get("start_time") in (None, "", "-"):
        data["start_time"] = stamp
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def with_stamp(line, stamp):
    """A line without prefixes whose own START_TIME is missing gets the kubelet's."""
    if not stamp:
        return line
    first = line[:1]
    if first == '"':
        return "[%s] %s" % (stamp, line)
    if first == "{" and ("\\u" in line or '"start_time"' not in line):
        return _json_line(line, stamp) or line
    return line


class _Shapes(object):
    """Per source: rewrites blocks of an unusual shape into one entry per line."""

    def __init__(self):
        self.active = False  # the source is kubectl output or pretty JSON: every block
        self.pending = None  # lines of a pretty-printed JSON object
        self.stamp = None

    def wants(self, head):
        """head: the start of a block; its first line decides (kubectl and jq output are uniform)."""
        if self.active or self.pending is not None:
            return True
        first = head.split("\n", 1)[0]
        if first.startswith("[pod/") or first.strip() == "{" or (
                first[:1].isdigit() and _KUBELET_STAMP.match(first)):
            self.active = True
        return self.active

    def rewrite(self, text):
        out = []
        for raw in text.split("\n"):
            line, stamp = strip_prefixes(raw)
            if self.pending is not None:
                self.pending.append(line)
                if line[:1] == "}":
                    self._close(out)
                elif len(self.pending) > PRETTY_JSON_MAX_LINES:
                    out.extend(self.pending)  # not an object after all: left unparsed
                    self.pending = None
                continue
            if line.strip() == "{":
                self.pending, self.stamp = [line], stamp
                continue
            if line[:1] == "{" and "\\u" in line:
                line = _json_line(line, stamp) or line
            else:
                line = with_stamp(line, stamp)
            out.append(line)
        return "\n".join(out)

    def _close(self, out):
        line = _json_line("\n".join(self.pending), self.stamp)
        if line is None:
            out.extend(self.pending)
        else:
            out.append(line)
        self.pending = None

    def flush(self):
        if self.pending is None:
            return ""
        text = "\n".join(self.pending)
        self.pending = None
        return text


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


def _shaped(blocks, shapes):
    """The blocks of a source, with those of an unusual shape rewritten (see _Shapes)."""
    for block in blocks:
        if block.__class__ is tuple:
            buf, start, end = block
        else:
            buf, start, end = block, 0, len(block)
        if end <= start:
            continue
        head = buf[start:min(end, start + 200)]
        if head.__class__ is bytes:
            head = head.decode("utf-8", "replace")
        if shapes.wants(head):
            text = shapes.rewrite(_text(buf[start:end]))
            if text:
                yield text
        else:
            yield block
    rest = shapes.flush()
    if rest:
        yield rest


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


def check_ip(value):
    """Return an IPv4/IPv6 address as text, or raise AccessLogError."""
    text = str(value).strip()
    if re.match(r"^\d{1,3}(\.\d{1,3}){3}$", text) and all(int(p) < 256 for p in text.split(".")):
        return text
    if ":" in text and re.match(r"^[0-9a-fA-F:.]+$", text):
        return text.lower()
    raise AccessLogError("client_ip %r is not an IP address such as 10.233.70.5" % (value,))


def _absence_reason(scan, complete):
    """Why absence is not proved over what was read, or None when it is."""
    reasons = []
    if not complete:
        cut = ["%s (%s)" % (name, stats.get("error") or "not read completely")
               for name, stats in sorted(scan.pods.items()) if not stats["complete"]]
        reasons.append("not every log was read completely: %s" % "; ".join(cut))
    for why, num in sorted(scan.uncertain.items()):
        reasons.append("%s %s" % (_plural(num, "line"), why))
    if scan.other_clients and not reasons:
        return None
    return "; ".join(reasons) or None


def _message(facts, scan, names, host, port, expect, min_count, since_time, allowed, kind, hop):
    if kind == "pod":
        scope = "in %s" % _plural(len(names), "pod")
    else:
        scope = "in %s" % (", ".join(names) or kind)
    if since_time:
        scope += " since %s" % since_time
    count = facts["count"]
    at = "" if hop == "any" else " at the %s hop" % hop
    what = "%s for %s:%d%s %s" % (_plural(count, "entry"), host, port, at, scope)
    seen = _histogram_text({item["host"]: item["count"] for item in facts["other_hosts"]})
    if scan.lines_total == 0:
        seen_text = "seen: no line was read"
    elif scan.lines_total == scan.lines_unparsed:
        seen_text = ("seen: no access-log entry among %s (access logging may be off: "
                     "meshConfig.accessLogFile or a Telemetry resource)"
                     % _plural(scan.lines_total, "line"))
    elif seen:
        seen_text = "seen: %s" % seen
    else:
        seen_text = "seen: no other host"
    if scan.other_hops:
        seen_text += "; %s:%d from other hops: %s" % (host, port, _histogram_text(scan.other_hops))
    if scan.other_clients:
        seen_text += "; %s from other clients than %s" % (_plural(scan.other_clients, "entry"), scan.client_ip)
    flags_text = _histogram_text(facts["response_flags"])
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
                    % (what, scan.bad, "[%s]" % ", ".join(allowed), _histogram_text(bad_hist)))
        return "%s (expected at least %d; flags: %s)" % (what, min_count, flags_text)
    if count:
        return "%s (expected none; flags: %s)" % (what, flags_text)
    if facts["reason"]:
        return "%s, but absence is not proved: %s" % (what, facts["reason"])
    return "%s, as expected (absent); %s" % (what, seen_text)
