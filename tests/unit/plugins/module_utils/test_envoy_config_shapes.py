# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No JSON shape gives a traceback: every value of a dump replaced by every JSON type.

SYNTHETIC: the mutations of a trimmed copy of the REAL istiod 1.30 sidecar dump
(see tests/unit/bad_input/config_dumps/make_shape_cases.py, which trims it). A
mutated dump is either still analysed or refused with one ConfigDumpError
sentence; any other exception is the bug this test is for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import importlib
import json
import os
import sys

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils import (
    envoy_config as ec,
)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bad_input", "config_dumps"))
shapes = importlib.import_module("make_shape_cases")

REPLACEMENTS = (None, 7, "x", True, [], [{}], {"value": []})


def _positions(node, path=()):
    """Every (container path, key) of a JSON document."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, value in items:
        yield path, key
        yield from _positions(value, path + (key,))


def _at(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def test_every_value_of_every_type():
    base = shapes.trimmed()
    positions = list(_positions(base))
    assert len(positions) > 200
    refused = analysed = 0
    for path, key in positions:
        for value in REPLACEMENTS:
            dump = copy.deepcopy(base)
            _at(dump, path)[key] = value
            try:
                cfg = ec.parse_config_dump(dump)
                cfg.find_destination("httpbin.org", 443)
                cfg.find_destination("httpbin.org", 80)
                analysed += 1
            except ec.ConfigDumpError as exc:
                msg = str(exc)
                assert msg.startswith("the ") and "\n" not in msg and len(msg) < 300, msg
                refused += 1
            except Exception as exc:  # pragma: no cover - the failure this test looks for
                pytest.fail("%s at %s[%r] = %r: %s" % (type(exc).__name__, "/".join(map(str, path)), key, value,
                                                       exc))
    assert refused > 100 and analysed > 100


def test_corpus_is_up_to_date():
    """The committed shape-*.json files are what make_shape_cases.py writes."""
    for name, (_what, mutate) in shapes.CASES.items():
        dump = shapes.trimmed()
        mutate(dump)
        with open(os.path.join(shapes.HERE, name)) as f:
            committed = json.load(f)
        committed.pop("_synthetic")
        assert committed == dump, name
