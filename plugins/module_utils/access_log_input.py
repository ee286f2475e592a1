# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access-log input: the checked options (host, port, times, client IP) and the line sources.

Pure and stdlib-only (part of access_log.py's assess, see its docstring). A
source yields *blocks* of whole lines that the scan (access_log_scan.py) reads
with C-level str/bytes methods; every read is bounded (MAX_LINE_BYTES).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

# Envoy bounds request headers at 60 KiB by default (max_request_headers_kb), so a
# real access-log line stays far below this; longer ones are not access logs and
# would only grow memory.
MAX_LINE_BYTES = 1024 * 1024
READ_BLOCK = 256 * 1024

_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)$")
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


def check_ip(value):
    """Return an IPv4/IPv6 address as text, or raise AccessLogError."""
    text = str(value).strip()
    if re.match(r"^\d{1,3}(\.\d{1,3}){3}$", text) and all(int(p) < 256 for p in text.split(".")):
        return text
    if ":" in text and re.match(r"^[0-9a-fA-F:.]+$", text):
        return text.lower()
    raise AccessLogError("client_ip %r is not an IP address such as 10.233.70.5" % (value,))


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
