# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""inventory/homelab/group_vars documents every knob of the roles, in order."""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = ["egress_gateway", "test_client", "egress_routes", "registry_only", "calico_policy"]


@pytest.mark.parametrize("role", ROLES)
def test_group_vars_list_every_knob_in_defaults_order(role):
    defaults = list(yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()))
    text = (ROOT / "inventory" / "homelab" / "group_vars" / "all" / (role + ".yml")).read_text()
    listed = re.findall(r"^#? ?(%s_[a-z0-9_]+):" % role, text, flags=re.MULTILINE)
    assert listed == defaults


def test_connection_is_written_once():
    conn = yaml.safe_load((ROOT / "inventory/homelab/group_vars/all/connection.yml").read_text())
    assert conn["istio_egress_context"] == "homelab"
    assert "istio_egress_kubeconfig" in conn


@pytest.mark.parametrize("role", ROLES)
def test_docs_list_every_variable_in_defaults_order(role):
    defaults = list(yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()))
    docs = (ROOT / "docs" / "roles.md").read_text(encoding="utf-8")
    section = docs.split("### `%s` variables" % role, 1)[1].split("\n### ", 1)[0]
    listed = re.findall(r"^\| `(%s_[a-z0-9_]+)` \|" % role, section, flags=re.MULTILINE)
    assert listed == defaults
