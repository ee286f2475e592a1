# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection tarball ships, and the supported Ansible range said the
same way everywhere (requirements.txt, meta/runtime.yml, galaxy.yml, README).

These check the source tree: in the installed collection (no galaxy.yml, no
development requirements) they skip, and fail instead under CI=true.
"""

import os
import re
import subprocess
import sys
import tarfile

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ansible_env import ROOT, ansible_env

IN_CI = os.environ.get("CI", "").lower() == "true"

# Development-only trees: never in the tarball (build_ignore in galaxy.yml).
FORBIDDEN = ("hack/", "benchmarks/", "molecule/", "tests/integration/", "tests/molecule_default/",
             "inventory/plane/", "docs/dev/", ".ci/", ".git/")
FORBIDDEN_FILES = (".ansible-lint", ".yamllint", "ruff.toml", ".gitignore", "requirements-dev.txt",
                   "requirements-oldest.txt", "requirements-newest.txt")
# What a user runs, plus the unit tests.
REQUIRED = ("README.md", "COPYING", "meta/runtime.yml", "requirements.txt", "requirements.yml",
            "playbooks/site.yml", "playbooks/verify.yml", "playbooks/cleanup.yml", "playbooks/kubeconfig.yml",
            "plugins/lookup/kubespray.py", "docs/roles.md", "docs/upstream-facts.md",
            "plugins/modules/istio_proxy_config.py", "plugins/modules/egress_log_assert.py",
            "roles/egress_gateway/meta/argument_specs.yml", "roles/egress_verify/tasks/main.yml",
            "inventory/homelab/hosts.yml", "tests/unit/ansible_env.py", "tests/unit/callback_plugins/unit_json.py")


def _source_tree():
    if not os.path.exists(os.path.join(ROOT, "galaxy.yml")):
        message = "no galaxy.yml: this is an installed collection, not the source tree"
        if IN_CI:
            pytest.fail(message + " (CI=true needs the source tree)")
        pytest.skip(message)


def leaks(members):
    """Members of the tarball that are development-only (sorted)."""
    out = []
    for name in members:
        name = name.lstrip("./")
        if name.startswith(FORBIDDEN) or name + "/" in FORBIDDEN or name in FORBIDDEN_FILES:
            out.append(name)
    return sorted(out)


@pytest.fixture(scope="module")
def tarball_members(tmp_path_factory):
    _source_tree()
    out = tmp_path_factory.mktemp("build")
    proc = subprocess.run([os.path.join(sys.prefix, "bin", "ansible-galaxy"), "collection", "build", "--force",
                           "--output-path", str(out), ROOT],
                          capture_output=True, text=True, env=ansible_env(), timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (tarball,) = [p for p in os.listdir(str(out)) if p.endswith(".tar.gz")]
    with tarfile.open(os.path.join(str(out), tarball)) as tar:
        return [m.name for m in tar.getmembers() if m.isfile()]


def test_tarball_has_no_development_tooling(tarball_members):
    assert leaks(tarball_members) == []


def test_tarball_has_what_a_user_runs_and_the_unit_tests(tarball_members):
    missing = [f for f in REQUIRED if f not in tarball_members]
    assert missing == []
    assert any(m.startswith("tests/unit/plugins/") for m in tarball_members)


def test_leak_check_catches_hack_and_benchmarks():
    members = ["README.md", "hack/plane/build.sh", "benchmarks/run", "docs/dev/plane.md", "docs/roles.md",
               "tests/unit/test_packaging.py", "tests/integration/conftest.py", "ruff.toml",
               "hackers.md"]
    assert leaks(members) == ["benchmarks/run", "docs/dev/plane.md", "hack/plane/build.sh",
                              "ruff.toml", "tests/integration/conftest.py"]


# --- the supported Ansible range -------------------------------------------
# The ansible package N bundles ansible-core 2.(N+7) for every release in the
# range (9 -> 2.16 ... 14 -> 2.21).
CORE_OF_PACKAGE = 7


def _read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return handle.read()


def _range_from_requirements(text):
    match = re.search(r"^ansible>=(\d+)\.(\d+)\.(\d+),<(\d+)\s*$", text, re.MULTILINE)
    assert match, "requirements.txt must pin ansible as 'ansible>=X.Y.Z,<N'"
    low, high = int(match.group(1)), int(match.group(4))
    return (2, low + CORE_OF_PACKAGE), (2, high - 1 + CORE_OF_PACKAGE), match.group(0).strip()


def _range_from_runtime(text):
    spec = yaml.safe_load(text)["requires_ansible"]
    match = re.fullmatch(r">=(\d+)\.(\d+)\.0,<(\d+)\.(\d+)\.0", spec)
    assert match, "meta/runtime.yml requires_ansible must be '>=2.A.0,<2.B.0', got %r" % spec
    return (int(match.group(1)), int(match.group(2))), (int(match.group(3)), int(match.group(4)) - 1)


def test_the_range_is_the_same_everywhere():
    _source_tree()
    low, high, _line = _range_from_requirements(_read("requirements.txt"))
    assert _range_from_runtime(_read("meta/runtime.yml")) == (low, high)
    phrase = "ansible-core %d.%d to %d.%d" % (low + high)
    galaxy = yaml.safe_load(_read("galaxy.yml"))
    assert phrase in " ".join(galaxy["description"].split()), "galaxy.yml description must say %r" % phrase
    assert phrase in " ".join(_read("README.md").split()), "README.md must say %r" % phrase


def test_the_matrix_venvs_pin_the_ends_of_the_range():
    _source_tree()
    low, high, _line = _range_from_requirements(_read("requirements.txt"))
    oldest = re.search(r"^ansible==(\d+)\.(\d+)\.(\d+)$", _read("requirements-oldest.txt"), re.MULTILINE)
    newest = re.search(r"^ansible==(\d+)\.", _read("requirements-newest.txt"), re.MULTILINE)
    assert (2, int(oldest.group(1)) + CORE_OF_PACKAGE) == low
    assert (2, int(newest.group(1)) + CORE_OF_PACKAGE) == high


def test_the_oldest_venv_is_kubesprays():
    """requirements-oldest.txt holds every pin of kubespray v2.26's requirements.txt."""
    _source_tree()
    kubespray = _read("tests/unit/roles/kubespray/v2.26.0/requirements.txt")
    pins = [line.strip() for line in kubespray.splitlines() if line.strip() and not line.startswith("#")]
    oldest = _read("requirements-oldest.txt").splitlines()
    assert pins and [p for p in pins if p not in oldest] == []


def test_the_running_ansible_is_inside_the_range():
    import ansible
    _source_tree()
    low, high = _range_from_runtime(_read("meta/runtime.yml"))
    running = tuple(int(x) for x in ansible.__version__.split(".")[:2])
    assert low <= running <= high, "ansible-core %s is outside the supported range" % ansible.__version__


def test_range_parsers_reject_an_open_range():
    with pytest.raises(AssertionError):
        _range_from_requirements("ansible>=10\n")
    with pytest.raises(AssertionError):
        _range_from_runtime('requires_ansible: ">=2.16.0"\n')
