# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small text helpers shared by the report and the log assertion: plurals, histograms, allowed flags.

Pure, stdlib only. Each helper exists once: access_log.py and the verify_* files import them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


_PLURALS = {"proxy": "proxies", "entry": "entries"}


def plural(n, word):
    """'1 entry', '2 entries', '3 proxies', '2 gateway-hop entries'."""
    if n == 1:
        return "%d %s" % (n, word)
    if word in _PLURALS:
        return "%d %s" % (n, _PLURALS[word])
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
        return "%d %sies" % (n, word[:-1])
    return "%d %ss" % (n, word)


def histogram(values):
    """'200\u00d73, 503\u00d71' for a list of values."""
    counts = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return ", ".join("%s\u00d7%d" % (k, counts[k]) for k in sorted(counts))


def histogram_dict(d):
    """The same for a {value: count} mapping."""
    if not d or not isinstance(d, dict):
        return ""
    return ", ".join("%s\u00d7%s" % (k, d[k]) for k in sorted(d))


def histogram_top(counts, limit=5):
    """'a \u00d73, b \u00d71, \u2026' for a {value: count} mapping: the most frequent first, at most limit."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(u"%s \u00d7%d" % (key, num) for key, num in items[:limit])
    if len(items) > limit:
        text += u", \u2026"
    return text


def flags_allowed(flags, allowed):
    """True when every flag of 'UF,URX' (or '-') is allowed; '*' allows all (as egress_log_assert)."""
    # The log scan calls this once per matching entry with a frozenset: no copy then.
    if not isinstance(allowed, (set, frozenset)):
        allowed = set(allowed)
    if "*" in allowed or flags in allowed:
        return True
    return all(part in allowed for part in str(flags).split(","))
