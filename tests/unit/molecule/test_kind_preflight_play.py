# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""molecule/default/create.yml's preflight, run for real on this machine.

The build machines have the Docker CLI but no engine and no kind: the preflight must stop there
with one sentence per problem, before any `kind` command creates anything. Where an engine and
kind are present the test is skipped (it would create a cluster).
"""

import json
import os
import shutil
import subprocess

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SCENARIO = os.path.join(ROOT, "molecule", "default")


def _engine_and_kind():
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "info"], capture_output=True, timeout=30, check=False).returncode == 0:
        return shutil.which("kind") is not None
    return False


def test_create_stops_in_preflight_without_engine(tmp_path):
    playbook = shutil.which("ansible-playbook")
    if not playbook:
        pytest.skip("ansible-playbook is not on PATH (source hack/env.sh)")
    if _engine_and_kind():
        pytest.skip("a Docker engine and kind are here: create.yml would create a cluster")
    with open(os.path.join(SCENARIO, "molecule.yml")) as handle:
        group_vars = yaml.safe_load(handle)["provisioner"]["inventory"]["group_vars"]["all"]
    extra = {"kind_node_image_kind_release": "v0.25.0", "kind_kube_proxy_mode": "ipvs",
             "kind_min_free_memory_mib": 6144, "kind_cluster_name": group_vars["kind_cluster_name"],
             "kind_config": str(tmp_path / "kind-config.yaml"), "istio_egress_kubeconfig": str(tmp_path / "kubeconfig"),
             "molecule_instance_config": str(tmp_path / "instance_config.yml"),
             # The implicit localhost's interpreter: the venv's, not whatever discovery finds.
             "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    # The scenario's own defaults must still be what the test passes.
    assert group_vars["kind_node_image_kind_release"].endswith(":-v0.25.0}")
    proc = subprocess.run([playbook, "-i", "localhost,", "-c", "local", os.path.join(SCENARIO, "create.yml"),
                           "-e", json.dumps(extra)], capture_output=True, text=True, timeout=300, check=False,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default"))
    out = proc.stdout
    assert proc.returncode != 0, out[-3000:]
    fatal = [line for line in out.splitlines() if line.startswith("fatal:")]
    assert len(fatal) == 1, out[-3000:]
    msg = json.loads(fatal[0].split("=> ", 1)[1])["msg"]
    assert msg.startswith("molecule/default preflight: "), msg
    if not shutil.which("kind"):
        # the detail in parentheses is ansible-core's and differs by version (test_kind_preflight.py)
        assert "kind is not installed or not on PATH (" in msg, msg
        assert "): install kind v0.25.0 or later" in msg, msg
    assert "TASK [Preflight - stop before anything is created when a check failed]" in out
    assert "TASK [Create the cluster" not in out and "TASK [List the existing kind clusters]" not in out
    assert not (tmp_path / "kind-config.yaml").exists()
