# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the roles' templates the way Ansible does, without a cluster.

The variables are what site.yml gives a role: the defaults of every role of the
play (later roles derive from earlier ones, e.g. the Gateway selector from
egress_gateway_labels), the role's own vars/main.yml, then the test's overrides
(like extra vars). Ansible's Templar resolves the nested templates of defaults.
"""

from __future__ import annotations

import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "unit"))
from ansible_env import collections_path

ROLES = ROOT / "roles"
# Order of playbooks/site.yml.
PLAY_ORDER = ["egress_gateway", "test_client", "egress_routes", "registry_only", "calico_policy"]


def _trusted(value):
    """ansible-core 2.19+ renders only strings trusted as templates (data
    tagging): the role files are, as Ansible's own loader would mark them.
    Older versions render every string; there this is the identity."""
    try:
        from ansible.template import trust_as_template
    except ImportError:
        return value
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    return value


def _plugins():
    """Make the collection's plugins (the homelab.istio_egress.kubespray lookup
    the defaults call) and the installed collections loadable, as the CLI does."""
    from ansible.utils.collection_loader import AnsibleCollectionConfig

    if AnsibleCollectionConfig.collection_finder is None:
        from ansible.plugins.loader import init_plugin_loader

        # Packages under ansible_collections that other tests imported through
        # sys.path lack the finder's collection metadata, and Ansible then
        # refuses to load plugins from them: let the finder import them again.
        for name in [m for m in sys.modules if m == "ansible_collections" or m.startswith("ansible_collections.")]:
            del sys.modules[name]
        init_plugin_loader([collections_path()])


def _load(path):
    if not path.is_file():
        return {}
    return _trusted(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def role_variables(role, overrides=None, play=True):
    """Variables a role sees: play roles' defaults (or only its own), its vars, overrides."""
    variables = {}
    for name in (PLAY_ORDER if play else [role]):
        variables.update(_load(ROLES / name / "defaults" / "main.yml"))
    variables.update(_load(ROLES / role / "vars" / "main.yml"))
    variables.update(_trusted(overrides or {}))
    return variables


def render(role, template, overrides=None, play=True):
    """Render roles/<role>/templates/<template> and return the YAML documents."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    _plugins()
    loader = DataLoader()
    loader.set_basedir(str(ROLES / role))
    templar = Templar(loader=loader, variables=role_variables(role, overrides, play))
    source = _trusted((ROLES / role / "templates" / template).read_text(encoding="utf-8"))
    text = templar.template(source, convert_data=False)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def template_value(role, expression, overrides=None, play=True):
    """Evaluate one Jinja expression with a role's variables (e.g. a derived default)."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    _plugins()
    templar = Templar(loader=DataLoader(), variables=role_variables(role, overrides, play))
    return templar.template(_trusted(expression))


def guide(name):
    """The guide's YAML documents from tests/unit/roles/guide/<name>."""
    path = pathlib.Path(__file__).resolve().parent / "guide" / name
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
