# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/roles.md's variable tables and inventory/homelab/group_vars/all/<role>.yml
are generated from roles/*/meta/argument_specs.yml by hack/gen-docs: fail when
they drift (someone edited a generated file, or a spec without re-running it).

hack/ is development tooling and not in the collection tarball: from the
installed collection this skips, and fails instead under CI=true.
"""

import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
GEN = os.path.join(ROOT, "hack", "gen-docs")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _need_generator():
    if not os.path.exists(GEN):
        message = "hack/gen-docs is not here (installed collection)"
        if IN_CI:
            pytest.fail(message + ": CI=true needs the source tree")
        pytest.skip(message)


def _run(root, *args):
    return subprocess.run([sys.executable, os.path.join(root, "hack", "gen-docs")] + list(args),
                          capture_output=True, text=True, timeout=120, check=False)


def test_generated_docs_match_the_argument_specs():
    _need_generator()
    proc = _run(ROOT, "--check")
    assert proc.returncode == 0, proc.stderr


def _copy(tmp_path):
    """The generator's inputs and outputs in a scratch tree."""
    dest = tmp_path / "tree"
    for sub in ("hack/gen-docs", "docs/roles.md", "roles", "inventory/homelab"):
        src = os.path.join(ROOT, sub)
        target = dest / sub
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.path.isdir(src):
            shutil.copytree(src, str(target))
        else:
            shutil.copy(src, str(target))
    return dest


def test_check_fails_when_an_inventory_file_is_edited_by_hand(tmp_path):
    _need_generator()
    tree = _copy(tmp_path)
    inv = tree / "inventory/homelab/group_vars/all/egress_routes.yml"
    inv.write_text(inv.read_text().replace("# egress_routes_placement: guide", "# egress_routes_placement: canonical"))
    proc = _run(str(tree), "--check")
    assert proc.returncode == 1
    assert "inventory/homelab/group_vars/all/egress_routes.yml" in proc.stderr
    assert "docs/roles.md" not in proc.stderr


def test_check_fails_when_a_spec_changes_and_the_generator_fixes_it(tmp_path):
    _need_generator()
    tree = _copy(tmp_path)
    spec = tree / "roles/registry_only/meta/argument_specs.yml"
    spec.write_text(spec.read_text().replace("short_description:", "short_description: (changed)", 1))
    proc = _run(str(tree), "--check")
    assert proc.returncode == 1 and "docs/roles.md" in proc.stderr
    assert _run(str(tree)).returncode == 0
    assert _run(str(tree), "--check").returncode == 0
    assert "(changed)" in (tree / "docs/roles.md").read_text()
