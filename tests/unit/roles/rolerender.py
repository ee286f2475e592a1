# -*- coding: utf-8 -*-
"""Render the roles' templates the way Ansible does, without a cluster.

The variables are what site.yml gives a role: the defaults of every role of the
play (later roles derive from earlier ones, e.g. the Gateway selector from
egress_gateway_labels), the role's own vars/main.yml, then the test's overrides
(like extra vars). Ansible's Templar resolves the nested templates of defaults.
"""

from __future__ import annotations

import os
import pathlib
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = ROOT / "roles"
# Order of playbooks/site.yml.
PLAY_ORDER = ["egress_gateway", "test_client", "egress_routes", "registry_only", "calico_policy"]


_LOADER_READY = []


def _collections_dir():
    """A directory whose ansible_collections/homelab/istio_egress is this checkout."""
    for entry in sys.path + os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep):
        link = pathlib.Path(entry or ".") / "ansible_collections" / "homelab" / "istio_egress"
        if entry and link.exists() and link.resolve() == ROOT:
            return str(pathlib.Path(entry))
    base = pathlib.Path(tempfile.mkdtemp(prefix="rolerender-"))
    (base / "ansible_collections" / "homelab").mkdir(parents=True)
    (base / "ansible_collections" / "homelab" / "istio_egress").symlink_to(ROOT)
    return str(base)


def _init_collections():
    """Make the collection's filters (homelab.istio_egress.*) resolvable, as ansible-playbook does."""
    if not _LOADER_READY:
        from ansible.plugins.loader import init_plugin_loader

        # Tests that imported module_utils through PYTHONPATH loaded ansible_collections as a plain
        # namespace package; the collection finder must own it to load the collection's metadata.
        for name in [m for m in sys.modules if m == "ansible_collections" or m.startswith("ansible_collections.")]:
            del sys.modules[name]
        init_plugin_loader([_collections_dir()])
        _LOADER_READY.append(True)


def _load(path):
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def role_variables(role, overrides=None, play=True):
    """Variables a role sees: play roles' defaults (or only its own), its vars, overrides."""
    variables = {}
    for name in (PLAY_ORDER if play else [role]):
        variables.update(_load(ROLES / name / "defaults" / "main.yml"))
    variables.update(_load(ROLES / role / "vars" / "main.yml"))
    variables.update(overrides or {})
    return variables


def render(role, template, overrides=None, play=True):
    """Render roles/<role>/templates/<template> and return the YAML documents."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    _init_collections()
    loader = DataLoader()
    loader.set_basedir(str(ROLES / role))
    templar = Templar(loader=loader, variables=role_variables(role, overrides, play))
    source = (ROLES / role / "templates" / template).read_text(encoding="utf-8")
    text = templar.template(source, convert_data=False)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def template_value(role, expression, overrides=None, play=True):
    """Evaluate one Jinja expression with a role's variables (e.g. a derived default)."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    _init_collections()
    templar = Templar(loader=DataLoader(), variables=role_variables(role, overrides, play))
    return templar.template(expression)


def guide(name):
    """The guide's YAML documents from tests/unit/roles/guide/<name>."""
    path = pathlib.Path(__file__).resolve().parent / "guide" / name
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
