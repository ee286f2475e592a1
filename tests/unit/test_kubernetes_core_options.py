# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every kubernetes.core option the roles and playbooks use exists in the
kubernetes.core that the running Ansible has.

Run in each venv of the supported range (hack/test unit, unit-oldest,
unit-newest), this checks the oldest bundled kubernetes.core (ansible 9.8 =
kubernetes.core 2.4) as well as the newest instead of assuming them: the
options (or their aliases) of each task, the literal ``state`` values against
the option's choices, and the ``group/kubernetes.core.*`` action groups that the
playbooks put in ``module_defaults``. Read from ``ansible-doc -j`` and the
collection's meta/runtime.yml, i.e. from the installed code itself.
"""

import glob
import json
import os
import subprocess
import sys

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ansible_env import ROOT, ansible_env

PREFIX = "kubernetes.core."
# What the collection ships and runs (the tarball's playbooks and roles).
SOURCES = ("roles/*/tasks/*.yml", "roles/*/handlers/*.yml", "playbooks/*.yml")
TASK_KEYWORDS = {"args"}


def uses(documents, origin):
    """(module, option, literal value or None, origin) for each kubernetes.core
    task, and ("group", name, None, origin) for each module_defaults group."""
    found = []

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "module_defaults" and isinstance(value, dict):
                    for name in value:
                        if str(name).startswith("group/" + PREFIX):
                            found.append(("group", str(name)[len("group/"):], None, origin))
                if isinstance(key, str) and key.startswith(PREFIX) and isinstance(value, dict):
                    for option, arg in value.items():
                        literal = arg if isinstance(arg, (str, bool, int)) and "{{" not in str(arg) else None
                        found.append((key, option, literal, origin))
                walk(value)

    for doc in documents:
        walk(doc)
    return found


def problems(found, docs, groups):
    """Sentences for each use the installed kubernetes.core does not have.

    ``docs``: module -> its ``ansible-doc -j`` entry; ``groups``: action group
    name -> member modules."""
    out = []
    for module, option, literal, origin in found:
        if module == "group":
            if option[len(PREFIX):] not in groups:
                out.append("%s: module_defaults group/%s is not an action group of the installed kubernetes.core"
                           % (origin, option))
            continue
        if module not in docs:
            out.append("%s: %s is not a module of the installed kubernetes.core" % (origin, module))
            continue
        spec = docs[module]["doc"].get("options", {})
        names = {}
        for name, opt in spec.items():
            names[name] = opt
            for alias in opt.get("aliases", []) or []:
                names[alias] = opt
        if option not in names:
            out.append("%s: %s has no option %r in the installed kubernetes.core" % (origin, module, option))
            continue
        choices = names[option].get("choices")
        if literal is not None and choices and literal not in choices:
            out.append("%s: %s option %r has no choice %r (choices: %s)" % (origin, module, option, literal, choices))
    return out


def _installed(modules):
    env = ansible_env()
    proc = subprocess.run([os.path.join(sys.prefix, "bin", "ansible-doc"), "-j"] + sorted(modules),
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    # Where ansible-doc found it (the ansible package, or a Galaxy install).
    where = subprocess.run([os.path.join(sys.prefix, "bin", "ansible-galaxy"), "collection", "list",
                            "kubernetes.core", "--format", "json"],
                           capture_output=True, text=True, env=env, timeout=300, check=False)
    assert where.returncode == 0, where.stderr
    first = next(iter(json.loads(where.stdout)))  # the path Ansible searches first
    kc = os.path.join(first, "kubernetes", "core")
    runtime = os.path.join(kc, "meta", "runtime.yml")
    with open(runtime) as handle:
        groups = (yaml.safe_load(handle) or {}).get("action_groups", {})
    with open(os.path.join(kc, "MANIFEST.json")) as handle:
        version = json.load(handle)["collection_info"]["version"]
    return docs, groups, version


def _collection_uses():
    found = []
    for pattern in SOURCES:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            with open(path) as handle:
                found += uses(list(yaml.safe_load_all(handle)), os.path.relpath(path, ROOT))
    return found


def test_every_kubernetes_core_option_exists_in_the_installed_version():
    found = _collection_uses()
    modules = {m for m, _o, _v, _p in found if m != "group"}
    assert "kubernetes.core.k8s" in modules and "kubernetes.core.helm" in modules, "no uses found: wrong tree?"
    docs, groups, version = _installed(modules)
    bad = problems(found, docs, groups)
    assert not bad, "kubernetes.core %s lacks what the collection uses:\n" % version + "\n".join(bad)


@pytest.fixture(scope="module")
def oldest_like_docs():
    """SYNTHETIC: a two-module subset shaped like ansible-doc -j output of
    kubernetes.core 2.4 (its helm module had no reuse_values; k8s state choices)."""
    return {
        "kubernetes.core.helm": {"doc": {"options": {
            "release_name": {"aliases": ["name"]}, "release_values": {"aliases": ["values"]},
            "release_state": {"aliases": ["state"], "choices": ["present", "absent"]}}}},
        "kubernetes.core.k8s": {"doc": {"options": {
            "state": {"choices": ["absent", "present", "patched"]}, "definition": {"aliases": ["resource_definition"]}}}},
    }


def test_the_check_names_an_option_the_old_version_lacks(oldest_like_docs):
    tasks = yaml.safe_load("""
- kubernetes.core.helm: {name: istiod, reuse_values: true, values: {}}
- kubernetes.core.k8s: {state: replaced, definition: {}}
- kubernetes.core.k8s: {state: patched, definition: {}}
- hosts: localhost
  module_defaults: {group/kubernetes.core.k8s: {}, group/kubernetes.core.nothere: {}}
""")
    bad = problems(uses([tasks], "case.yml"), oldest_like_docs, {"k8s": ["k8s"]})
    assert bad == [
        "case.yml: kubernetes.core.helm has no option 'reuse_values' in the installed kubernetes.core",
        "case.yml: kubernetes.core.k8s option 'state' has no choice 'replaced' (choices: ['absent', 'present', 'patched'])",
        "case.yml: module_defaults group/kubernetes.core.nothere is not an action group of the installed kubernetes.core",
    ]


def test_aliases_and_templated_values_are_accepted(oldest_like_docs):
    tasks = yaml.safe_load("""
- kubernetes.core.helm: {name: x, state: "{{ s }}", values: {}}
- kubernetes.core.k8s: {resource_definition: {}, state: present}
""")
    assert problems(uses([tasks], "ok.yml"), oldest_like_docs, {}) == []
