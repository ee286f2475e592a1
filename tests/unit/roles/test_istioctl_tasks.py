# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/egress_verify/tasks/istioctl.yml through ansible-playbook (run_commands in process).

istioctl is replaced by /bin/echo (a SYNTHETIC double: it prints its arguments), so the test needs
no cluster. Checked: analyze runs once per namespace and each answer is named by its namespace
(`item`, as the report reads it), proxy-status runs with the data plane on, and a run without
istioctl leaves no answer of an EARLIER run of the role in the same play (the facts are set on
every run, so a stale pass cannot reach the report).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

import pytest
from local_play import run_play

HERE = os.path.dirname(os.path.abspath(__file__))
TASKS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "roles", "egress_verify", "tasks", "istioctl.yml"))

PLAY_VARS = {"egress_verify_root_namespace": "istio-system", "egress_verify_data_plane": True,
             "egress_verify_kubeconfig": "", "egress_verify_context": "", "egress_verify_istioctl_timeout": 5,
             "egress_verify_api_timeout": 5,
             "egress_verify_analyze_namespaces": ["mesh-test", "istio-system", "mesh-test"]}
PLAY_TASKS = """
    - name: An istioctl double
      ansible.builtin.set_fact:
        _egress_verify_istioctl_path: {rc: 0, stdout: /bin/echo}
    - ansible.builtin.include_tasks: "{{ tasks }}"
    - ansible.builtin.set_fact:
        first: {analyze: "{{ _egress_verify_analyze }}", xds: "{{ _egress_verify_proxy_status }}"}
    - name: No istioctl in the second run
      ansible.builtin.set_fact:
        _egress_verify_istioctl_path: {rc: 1, stdout: ""}
    - ansible.builtin.include_tasks: "{{ tasks }}"
    - ansible.builtin.copy:
        content: "{{ {'first': first, 'second': {'analyze': _egress_verify_analyze,
                      'xds': _egress_verify_proxy_status}} | to_json }}"
        dest: "{{ out }}"
"""


@pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible-playbook not on PATH")
def test_answers_per_namespace_and_no_stale_answer(tmp_path):
    data = run_play(tmp_path, PLAY_TASKS, {"tasks": TASKS}, PLAY_VARS)
    runs = data["first"]["analyze"]["results"]
    assert [(r["item"], r["stdout"], r["rc"]) for r in runs] == [
        ("mesh-test", "analyze -n mesh-test", 0), ("istio-system", "analyze -n istio-system", 0)]
    assert data["first"]["xds"]["stdout"] == "proxy-status -o json" and data["first"]["xds"]["rc"] == 0
    assert data["second"]["analyze"] == {"results": []}
    assert "rc" not in data["second"]["xds"], data["second"]["xds"]
