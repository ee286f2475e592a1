# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Self-contained and portable: no absolute path of any machine in the tree,
and one license header (GPL-3.0-or-later) on every source file."""

import os
import re
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

# A home or work directory of some machine. System paths (/etc, /usr, /tmp)
# are not machine-specific and stay allowed.
MACHINE_PATH = re.compile(r"(?<![\w.-])/(?:work|root|home/[\w.-]+|Users/[\w.-]+)/")
GPL = "GNU General Public License v3.0+"
SOURCE_DIRS = ("plugins", "tests", "hack", "benchmarks", ".ci")


def _files():
    """Tracked and new files (git), else every file of the tree (installed collection)."""
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60, check=False)
    except OSError:
        out = None
    if out is not None and out.returncode == 0 and out.stdout.strip():
        return [f for f in out.stdout.splitlines() if os.path.isfile(os.path.join(ROOT, f))]
    found = []
    for base, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in (".git", "__pycache__", ".pytest_cache")]
        found += [os.path.relpath(os.path.join(base, n), ROOT) for n in names]
    return found


def machine_paths(text):
    return sorted(set(MACHINE_PATH.findall(text)))


def _text(path):
    with open(os.path.join(ROOT, path), "rb") as handle:
        data = handle.read()
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def test_no_machine_path_anywhere():
    bad = {}
    for path in _files():
        text = _text(path)
        if text is not None and machine_paths(text):
            bad[path] = machine_paths(text)
    assert bad == {}


def test_the_path_check_can_fail():
    # Built from parts, so this file does not hold the paths it looks for.
    work, root, home, users = "/" + "work/", "/" + "root/", "/" + "home/alice/", "/" + "Users/bob/"
    assert machine_paths('FIXTURES = "%sshared/fixtures"' % work) == [work]
    assert machine_paths("kubeconfig '%s.kube/config'" % root) == [root]
    assert machine_paths("%sx and %sy" % (home, users)) == [users, home]
    assert machine_paths("/etc/certs/root-cert.pem, /usr/local/bin/calicoctl.sh, ~/.kube/config") == []


def _is_source(path, text):
    if not path.startswith(SOURCE_DIRS) or "/fixtures/" in path or "/bad_input/" in path:
        return False
    return path.endswith(".py") or text.startswith("#!")


def license_problems(path, text):
    head = "\n".join(text.splitlines()[:8])
    if "Apache License" in head:
        return "%s: Apache License header (the collection is GPL-3.0-or-later)" % path
    if GPL not in head:
        return "%s: no GPL-3.0-or-later header in its first lines" % path
    return None


def test_every_source_file_has_the_gpl_header():
    problems = []
    for path in _files():
        text = _text(path)
        if text is not None and _is_source(path, text):
            problem = license_problems(path, text)
            if problem:
                problems.append(problem)
    assert problems == []


def test_the_license_check_can_fail():
    assert license_problems("a.py", "# Apache License 2.0 (see LICENSE)\n") == (
        "a.py: Apache License header (the collection is GPL-3.0-or-later)")
    assert "no GPL" in license_problems("b.py", '"""doc"""\n')
    assert license_problems("c.py", "#!/usr/bin/python\n# %s (see COPYING)\n" % GPL) is None


@pytest.mark.parametrize("path", ["plugins/module_utils/access_log.py", "tests/unit/plugins/module_utils/test_access_log.py"])
def test_formerly_apache_files_are_gpl(path):
    text = _text(path)
    assert license_problems(path, text) is None
