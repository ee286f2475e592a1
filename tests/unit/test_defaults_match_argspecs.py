# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role's meta/argument_specs.yml documents exactly its defaults/main.yml."""

from __future__ import annotations

import pathlib

import pytest
import yaml

ROLES = pathlib.Path(__file__).resolve().parents[2] / "roles"
ALL_ROLES = sorted(p.name for p in ROLES.iterdir() if (p / "tasks" / "main.yml").is_file())


def _keys(path, *walk):
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for key in walk:
        data = data[key]
    return list(data)


def test_every_role_is_checked():
    assert {"egress_gateway", "test_client", "egress_routes", "registry_only",
            "calico_policy", "egress_verify"} <= set(ALL_ROLES)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_argument_specs_equal_defaults(role):
    defaults = _keys(ROLES / role / "defaults" / "main.yml")
    specs = _keys(ROLES / role / "meta" / "argument_specs.yml", "argument_specs", "main", "options")
    assert sorted(set(defaults) - set(specs)) == [], "defaults without an argument spec"
    assert sorted(set(specs) - set(defaults)) == [], "argument specs without a default"
    # Same order: docs/roles.md and the specs read like the defaults file.
    assert specs == defaults


@pytest.mark.parametrize("role", ALL_ROLES)
def test_public_variables_carry_the_role_prefix(role):
    defaults = _keys(ROLES / role / "defaults" / "main.yml")
    assert [k for k in defaults if not k.startswith(role + "_")] == []
