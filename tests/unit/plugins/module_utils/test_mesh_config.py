# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""REGISTRY_ONLY as configured (module_utils/mesh_config.py), the rule behind egress_verify_registry_only: auto.

The Sidecar is the guide's §7.4 A object as the registry_only role renders it
(tests/unit/roles/guide/sidecar-registry-only.yaml); the other objects are SYNTHETIC variants of it
(a workloadSelector, ALLOW_ANY, a null selector) and of istiod's mesh config key. Before issue 13
this decision was a Jinja loop in roles/egress_verify/tasks/preconditions.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

import yaml

from ansible_collections.homelab.istio_egress.plugins.filter.mesh import FilterModule
from ansible_collections.homelab.istio_egress.plugins.module_utils import mesh_config

GUIDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "roles", "guide")


def _guide_sidecar():
    with open(os.path.join(GUIDE, "sidecar-registry-only.yaml")) as f:
        return yaml.safe_load(f)


def test_the_guides_sidecar_turns_it_on():
    sidecar = _guide_sidecar()
    assert sidecar["spec"]["outboundTrafficPolicy"]["mode"] == "REGISTRY_ONLY"
    assert mesh_config.registry_only_configured([sidecar])


def test_a_workload_scoped_sidecar_does_not_cover_the_namespace():
    scoped = copy.deepcopy(_guide_sidecar())
    scoped["spec"]["workloadSelector"] = {"labels": {"app": "other"}}
    assert not mesh_config.registry_only_configured([scoped])
    nulled = copy.deepcopy(_guide_sidecar())
    nulled["spec"]["workloadSelector"] = None  # null is no selector: the whole namespace
    assert mesh_config.registry_only_configured([nulled])


def test_allow_any_and_nothing_are_off():
    allow = copy.deepcopy(_guide_sidecar())
    allow["spec"]["outboundTrafficPolicy"]["mode"] = "ALLOW_ANY"
    assert not mesh_config.registry_only_configured([allow])
    assert not mesh_config.registry_only_configured([])
    assert not mesh_config.registry_only_configured(None, None)
    assert not mesh_config.registry_only_configured(["not a sidecar", {"spec": None}], "not a mesh")


def test_the_mesh_config_turns_it_on_mesh_wide():
    assert mesh_config.registry_only_configured([], {"outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}})
    assert not mesh_config.registry_only_configured([], {"outboundTrafficPolicy": {"mode": "ALLOW_ANY"}})
    assert not mesh_config.registry_only_configured([], {"accessLogFile": "/dev/stdout"})


def test_the_filter_is_the_rule():
    assert FilterModule().filters()["registry_only_configured"] is mesh_config.registry_only_configured
