# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""calico_policy through calicoctl on a control-plane host, against a live API server.

Needs a cluster without projectcalico.org/v3 (the local plane: `hack/plane/up`, then
`source <(hack/plane/env)`); skipped otherwise. calicoctl itself is replaced by the
test double doubles/calicoctl (the plane has no Calico; docs/dev/plane.md), run on a
`kube_control_plane` host reached with a local connection.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess

import pytest

HERE = pathlib.Path(__file__).resolve().parent
PLAYBOOK = HERE / "playbooks" / "role.yml"
KUBECONFIG = os.environ.get("HOMELAB_PLANE_KUBECONFIG", "")
CONTEXT = os.environ.get("HOMELAB_PLANE_CONTEXT", "istio-egress-plane")

pytestmark = pytest.mark.skipif(not KUBECONFIG or not os.path.isfile(KUBECONFIG),
                                reason="no local plane (HOMELAB_PLANE_KUBECONFIG); see docs/dev/plane.md")

INVENTORY = """all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
  children:
    kube_control_plane:
      hosts:
        cp1:
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
          ansible_become_method: su
"""


def run(tmp_path, store, *args, **extra):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(INVENTORY)
    variables = dict({"role_under_test": "calico_policy", "istio_egress_kubeconfig": KUBECONFIG,
                      "istio_egress_context": CONTEXT, "calico_policy_calicoctl": str(HERE / "doubles" / "calicoctl"),
                      "calico_policy_gateway_target_ports": [8080, 8443, 15443]}, **extra)
    env = dict(os.environ, FAKE_CALICO_STORE=str(store), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), str(PLAYBOOK), "-e", json.dumps(variables), *args],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    return int(re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)", out).group(1)), out


def test_calicoctl_path_is_idempotent_and_honest_in_check_mode(tmp_path):
    store = tmp_path / "calico.json"
    assert run(tmp_path, store, "--check")[0] == 1
    assert not store.exists()  # check mode changed nothing
    changed, out = run(tmp_path, store)
    assert changed == 1 and "Apply the policy with calicoctl" in out
    policy = json.loads(store.read_text())["istio-egress-via-gateway"]
    assert policy["apiVersion"] == "projectcalico.org/v3"
    assert policy["metadata"]["annotations"]["istio-egress.homelab/spec-sha256"]
    assert run(tmp_path, store)[0] == 0
    assert run(tmp_path, store, "--check", "--diff")[0] == 0
    changed, out = run(tmp_path, store, "--check", "--diff", calico_policy_order=600)
    assert changed == 1 and '"order": 600' in out
    assert json.loads(store.read_text())["istio-egress-via-gateway"]["spec"]["order"] == 500
    assert run(tmp_path, store, calico_policy_state="absent")[0] == 1
    assert json.loads(store.read_text()) == {}
    assert run(tmp_path, store, calico_policy_state="absent")[0] == 0
