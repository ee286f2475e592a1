# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shape of plugins/module_utils/ (issue 13): one job per file, each rule once, one license.

On the tree before the split these failed: access_log.py had 1,616 lines and
envoy_config.py 1,392, and access_log.py carried its own flags_allowed, plural and
histogram copies. The header test keeps the one license (access_log.py once said
Apache 2.0).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
MODULE_UTILS = os.path.join(ROOT, "plugins", "module_utils")
FILES = sorted(n for n in os.listdir(MODULE_UTILS) if n.endswith(".py") and n != "__init__.py")
MAX_LINES = 500
GPL = "# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)"
# Text helpers that live in common_text.py only.
SHARED = ("flags_allowed", "plural", "histogram", "histogram_dict", "histogram_top")


def _read(name):
    with open(os.path.join(MODULE_UTILS, name), encoding="utf-8") as handle:
        return handle.read()


def test_files_found():
    assert "access_log.py" in FILES and "envoy_config.py" in FILES and "common_text.py" in FILES


@pytest.mark.parametrize("name", FILES)
def test_file_is_small(name):
    lines = _read(name).count("\n")
    assert lines <= MAX_LINES, "%s has %d lines: split it by job (README.md, Layout)" % (name, lines)


@pytest.mark.parametrize("name", FILES)
def test_gpl_header(name):
    head = _read(name).split("\n", 4)[:4]
    assert GPL in head, "%s does not carry the collection's GPL-3.0-or-later header" % name
    assert "Apache" not in _read(name)[:600]


@pytest.mark.parametrize("name", [n for n in FILES if n != "common_text.py"])
def test_text_helpers_only_in_common_text(name):
    tree = ast.parse(_read(name))
    defined = {node.name.lstrip("_") for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    # access_log.py's old private copies were _plural and _histogram_text
    defined |= {"histogram" for n in defined if n.startswith("histogram")}
    assert not defined & set(SHARED), "%s defines %s again: import it from common_text.py" % (
        name, ", ".join(sorted(defined & set(SHARED))))


@pytest.mark.parametrize("name", [n for n in FILES if n.startswith(("access_log", "envoy_", "common_text", "pods", "rules"))])
def test_parsers_import_stdlib_and_collection_only(name):
    """Pure parsers: stdlib only, and module_utils by the full collection path (what AnsiballZ packs)."""
    stdlib = getattr(sys, "stdlib_module_names", None)
    if stdlib is None:
        pytest.skip("needs Python 3.10+ (sys.stdlib_module_names)")
    for node in ast.walk(ast.parse(_read(name))):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, "%s uses a relative import: AnsiballZ needs the full collection path" % name
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        for module in modules:
            if module.startswith("ansible_collections."):
                assert module.startswith("ansible_collections.homelab.istio_egress.plugins.module_utils."), (name, module)
            else:
                assert module.split(".")[0] in stdlib, "%s imports %s, which is not stdlib" % (name, module)
