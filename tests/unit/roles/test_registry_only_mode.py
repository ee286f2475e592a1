# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/egress_verify/tasks/registry_only_mode.yml through ansible-playbook, without a cluster.

The reads are given as cluster_read returns them (``results.<name>.resources``); the Sidecar is the
guide's §7.4 A object (tests/unit/roles/guide/sidecar-registry-only.yaml), the mesh config a
SYNTHETIC ``mesh`` key. Checked: auto follows module_utils/mesh_config.py (a namespace-wide Sidecar
in either namespace, or the mesh config), true/false win over the objects, and auto without any
read (the reads skipped or failed) is off, with the reason naming both namespaces.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

import pytest
import yaml
from local_play import run_play

HERE = os.path.dirname(os.path.abspath(__file__))
TASKS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "roles", "egress_verify", "tasks",
                                      "registry_only_mode.yml"))
with open(os.path.join(HERE, "guide", "sidecar-registry-only.yaml")) as f:
    SIDECAR = yaml.safe_load(f)
SCOPED = dict(SIDECAR, spec=dict(SIDECAR["spec"], workloadSelector={"labels": {"app": "other"}}))

PLAY_VARS = {"egress_verify_client_namespace": "mesh-test", "egress_verify_root_namespace": "istio-system"}
PLAY_TASKS = """
    - ansible.builtin.include_tasks: "{{ task_file }}"
      loop: "{{ cases }}"
      loop_control: {loop_var: case}
      vars:
        egress_verify_registry_only: "{{ case.mode }}"
        _egress_verify_policy_reads: "{{ case.reads }}"
    - ansible.builtin.copy:
        content: "{{ outcomes | to_json }}"
        dest: "{{ out }}"
"""

# The outcome of each include is appended by a task the test adds after the role's file.
COLLECT = """
- ansible.builtin.set_fact:
    outcomes: "{{ outcomes | default([]) + [[_egress_verify_registry_only | bool, _egress_verify_registry_only_reason]] }}"
"""


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
    ("false", _reads(client=[SIDECAR]), False),
    ("true", _reads(), True),
]


@pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible-playbook not on PATH")
def test_registry_only_mode(tmp_path):
    tasks = tmp_path / "tasks.yml"
    with open(TASKS) as f:
        tasks.write_text(f.read() + COLLECT)
    cases = [{"mode": mode, "reads": reads} for mode, reads, _want in CASES]
    outcomes = run_play(tmp_path, PLAY_TASKS, {"task_file": str(tasks), "cases": cases}, PLAY_VARS)
    assert [o[0] for o in outcomes] == [want for _m, _r, want in CASES]
    assert outcomes[2][1] == ("REGISTRY_ONLY is not configured: no namespace-wide Sidecar with it in mesh-test or "
                              "istio-system and the mesh config does not set it (egress_verify_registry_only: auto)")
    assert outcomes[6][1] == "REGISTRY_ONLY is not enabled (egress_verify_registry_only: false)"
