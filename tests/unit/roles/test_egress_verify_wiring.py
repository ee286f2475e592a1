# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How roles/egress_verify calls the collection's modules (issues 10, 12 and 16).

Read from the role's task files: every istio_proxy_config / egress_log_assert call is bounded by
egress_verify_api_timeout; check 5's log reads count only entries from the client pod
(client_ip) and name the gateway Service; the Kubernetes connection is set once per entry point
(module_defaults) instead of on every task; and the action group of meta/runtime.yml holds the
modules that take the connection options, and only them. The Ansible semantics the role relies
on (a block's module_defaults win over the play's and reach included files) are run for real
with ansible-playbook.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
TASKS = os.path.join(ROOT, "roles", "egress_verify", "tasks")
CONNECTION_MODULES = ("istio_proxy_config", "egress_log_assert", "cluster_read", "cluster_apply")


def _walk(tasks, path):
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        yield path, task
        for key in ("block", "rescue", "always"):
            if key in task:
                yield from _walk(task[key], path)


def all_tasks():
    for name in sorted(os.listdir(TASKS)):
        if name.endswith(".yml"):
            with open(os.path.join(TASKS, name)) as f:
                yield from _walk(yaml.safe_load(f), name)


def module_of(task):
    for key in task:
        if key.startswith(("homelab.istio_egress.", "kubernetes.core.")):
            return key
    return None


def test_every_proxy_config_and_log_call_is_bounded_by_the_api_timeout():
    seen = 0
    for name, task in all_tasks():
        mod = module_of(task)
        if mod and mod.rsplit(".", 1)[-1] in CONNECTION_MODULES:
            seen += 1
            assert "egress_verify_api_timeout" in str(task[mod].get("timeout")), (name, task["name"])
    assert seen >= 7


def test_check_5_reads_count_only_the_client_pod_and_name_the_gateway_service():
    reads = [(name, task) for name, task in all_tasks()
             if module_of(task) == "homelab.istio_egress.egress_log_assert"]
    check5 = [(n, t) for n, t in reads if "min_count" in t["homelab.istio_egress.egress_log_assert"]]
    assert len(check5) == 2  # the first read and the coverage re-read
    for name, task in check5:
        args = task["homelab.istio_egress.egress_log_assert"]
        assert "_egress_verify_client_ip" in args["client_ip"], (name, task["name"])
        assert args["gateway_service"] == "{{ _egress_verify_gateway_fqdn }}"
        assert args["hop"] == "gateway"
    # Absence (check 7) counts every client: an entry from anyone is a failure there.
    absent = [t for n, t in reads if t["homelab.istio_egress.egress_log_assert"].get("expect") == "absent"]
    assert absent and all("client_ip" not in t["homelab.istio_egress.egress_log_assert"] for t in absent)


def test_the_client_pod_ip_comes_from_the_pods_the_role_read():
    with open(os.path.join(TASKS, "preconditions.yml")) as f:
        text = f.read()
    assert "_egress_verify_client_ip" in text and "status.podIP" in text


def test_the_connection_is_set_once_per_entry_point():
    for name, task in all_tasks():
        mod = module_of(task)
        if mod:
            args = task[mod] if isinstance(task[mod], dict) else {}
            assert "kubeconfig" not in args and "context" not in args, (name, task["name"])
    for entry in ("main.yml", "proxy_dump.yml", "adhoc_traffic.yml"):
        with open(os.path.join(TASKS, entry)) as f:
            top = yaml.safe_load(f)
        assert len(top) == 1 and "block" in top[0], entry
        defaults = top[0]["module_defaults"]
        for group in ("group/kubernetes.core.k8s", "group/homelab.istio_egress.istio_egress"):
            assert defaults[group] == {
                "kubeconfig": "{{ egress_verify_kubeconfig | default(omit, true) }}",
                "context": "{{ egress_verify_context | default(omit, true) }}"}, (entry, group)


def test_the_action_group_holds_the_connection_modules_only():
    """egress_verify_report takes no connection options: in the group, a play's module_defaults for the
    group (site.yml, verify.yml) would make it fail with 'Unsupported parameters ... kubeconfig'."""
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as f:
        groups = yaml.safe_load(f)["action_groups"]
    assert sorted(groups["istio_egress"]) == sorted(CONNECTION_MODULES)
    for mod in CONNECTION_MODULES:
        with open(os.path.join(ROOT, "plugins", "modules", mod + ".py")) as f:
            assert "homelab.istio_egress.kube_auth" in f.read(), mod
    with open(os.path.join(ROOT, "plugins", "modules", "egress_verify_report.py")) as f:
        assert "kube_auth" not in f.read()


@pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible-playbook not on PATH")
def test_block_module_defaults_win_and_reach_included_files(tmp_path):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_STDOUT_CALLBACK="default")
    proc = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", os.path.join(HERE, "playbooks", "module_defaults_block.yml")],
        capture_output=True, text=True, env=env, timeout=180, check=False, cwd=str(tmp_path))
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Traceback" not in text, text[-3000:]
    line = next(x for x in text.splitlines() if "RESULT {" in x)
    msgs = json.loads(line[line.index("RESULT ") + 7:].rstrip('"').replace('\\"', '"'))
    assert "/nonexistent/block-level" in msgs["direct"], msgs
    assert "/nonexistent/block-level" in msgs["included"], msgs
    assert "/nonexistent/play-level" in msgs["outside"], msgs
