# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether egress_verify's check 7 runs: the filter registry_only_check (plugins/filter/mesh.py) over
module_utils/mesh_config.py, on cluster_read's answer as roles/egress_verify/tasks/preconditions.yml
reads it (``results.<name>.resources``).

The Sidecar is the guide's §7.4 A object (tests/unit/roles/guide/sidecar-registry-only.yaml), the
mesh config a SYNTHETIC ``mesh`` key. Checked: auto follows mesh_config.registry_only_configured (a
namespace-wide Sidecar in either namespace, or the mesh config), true/false win over the objects,
auto without any read (skipped or failed) is off with the reason naming both namespaces, and a
mesh key that is not YAML is one sentence. (The same cases ran the role's Jinja through
ansible-playbook before the decision moved here.)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml
from ansible.errors import AnsibleError

from ansible_collections.homelab.istio_egress.plugins.filter.mesh import FilterModule

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
with open(os.path.join(ROOT, "tests", "unit", "roles", "guide", "sidecar-registry-only.yaml")) as f:
    SIDECAR = yaml.safe_load(f)
SCOPED = dict(SIDECAR, spec=dict(SIDECAR["spec"], workloadSelector={"labels": {"app": "other"}}))
CHECK = FilterModule().filters()["registry_only_check"]
NAMESPACES = ["mesh-test", "istio-system"]


def _reads(client=(), root=(), mesh=None):
    data = {"mesh": yaml.safe_dump(mesh)} if mesh is not None else {}
    return {"results": {"client_sidecars": {"served": True, "resources": list(client)},
                        "root_sidecars": {"served": True, "resources": list(root)},
                        "mesh_config": {"served": True, "resources": [{"data": data}]}}}


CASES = [
    ("auto", _reads(client=[SIDECAR]), True),
    ("auto", _reads(root=[SIDECAR]), True),
    ("auto", _reads(client=[SCOPED]), False),
    ("auto", _reads(mesh={"outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}}), True),
    ("auto", _reads(mesh={"outboundTrafficPolicy": {"mode": "ALLOW_ANY"}}), False),
    ("auto", {"skipped": True}, False),
    ("auto", {}, False),
    ("AUTO", _reads(client=[SIDECAR]), True),
    ("false", _reads(client=[SIDECAR]), False),
    ("no", _reads(client=[SIDECAR]), False),
    (False, _reads(client=[SIDECAR]), False),
    ("true", _reads(), True),
    ("Yes", _reads(), True),
    (True, {"skipped": True}, True),
]


@pytest.mark.parametrize("mode,reads,want", CASES)
def test_registry_only_check(mode, reads, want):
    assert CHECK(mode, reads, NAMESPACES)["run"] is want


def test_reasons_name_the_mode_and_the_namespaces():
    assert CHECK("auto", _reads(client=[SCOPED]), NAMESPACES)["reason"] == (
        "REGISTRY_ONLY is not configured: no namespace-wide Sidecar with it in mesh-test or "
        "istio-system and the mesh config does not set it (egress_verify_registry_only: auto)")
    # The client namespace is the root namespace: named once.
    assert "in istio-system and" in CHECK("auto", {}, ["istio-system", "istio-system"])["reason"]
    assert CHECK("false", _reads(), NAMESPACES)["reason"] == (
        "REGISTRY_ONLY is not enabled (egress_verify_registry_only: false)")


def test_a_mesh_key_that_is_not_yaml_is_one_sentence():
    reads = _reads()
    reads["results"]["mesh_config"]["resources"] = [{"data": {"mesh": "outboundTrafficPolicy: [unclosed"}}]
    with pytest.raises(AnsibleError, match="the mesh key of ConfigMap istio is not YAML"):
        CHECK("auto", reads, NAMESPACES)
    # Only auto reads it: true/false never look at the objects.
    assert CHECK("true", reads, NAMESPACES)["run"] is True


def test_the_role_decides_with_the_filter():
    with open(os.path.join(ROOT, "roles", "egress_verify", "tasks", "preconditions.yml")) as f:
        text = f.read()
    assert "homelab.istio_egress.registry_only_check(" in text
    assert "registry_only_configured" not in text
