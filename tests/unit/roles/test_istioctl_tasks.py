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

import json
import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TASKS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "roles", "egress_verify", "tasks", "istioctl.yml"))

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    egress_verify_root_namespace: istio-system
    egress_verify_data_plane: true
    egress_verify_kubeconfig: ""
    egress_verify_context: ""
    egress_verify_istioctl_timeout: 5
    egress_verify_api_timeout: 5
    egress_verify_analyze_namespaces: [mesh-test, istio-system, mesh-test]
  tasks:
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
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    out = tmp_path / "out.json"
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0")
    proc = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", str(play), "-e", json.dumps({"out": str(out), "tasks": TASKS})],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    data = json.loads(out.read_text())
    runs = data["first"]["analyze"]["results"]
    assert [(r["item"], r["stdout"], r["rc"]) for r in runs] == [
        ("mesh-test", "analyze -n mesh-test", 0), ("istio-system", "analyze -n istio-system", 0)]
    assert data["first"]["xds"]["stdout"] == "proxy-status -o json" and data["first"]["xds"]["rc"] == 0
    assert data["second"]["analyze"] == {"results": []}
    assert "rc" not in data["second"]["xds"], data["second"]["xds"]
