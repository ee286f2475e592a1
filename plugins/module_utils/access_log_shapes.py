# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access-log input shapes that are not one entry per line, rewritten into entries (kubectl prefixes, jq output).

Pure and stdlib-only; used by the scan (access_log_scan.py) on the rare blocks
that need it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re


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
