# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight keeps the cause of an API failure, and a silent API server cannot hang a role.

Synthetic servers on 127.0.0.1 (issue 12): one answers every request with a metav1.Status 401 or
403 (kube-apiserver's wording for an RBAC denial), one accepts connections and never answers.
Before the fix every role said "Cannot reach the Kubernetes API ... check the context" for the
401/403 with the reason hidden, and waited forever on the silent server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
from api_doubles import SilentServer, answering_server, write_kubeconfig
from test_bad_input import PLAYBOOK

ROLES = ["egress_gateway", "test_client", "egress_routes", "registry_only", "calico_policy"]
FORBIDDEN_MESSAGE = ('namespaces is forbidden: User "system:serviceaccount:verify:probe" cannot list resource '
                     '"namespaces" in API group "" at the cluster scope')

pytestmark = pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible-playbook not on PATH")


def _status_server(code):
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code,
            "reason": "Unauthorized" if code == 401 else "Forbidden",
            "message": "Unauthorized" if code == 401 else FORBIDDEN_MESSAGE}
    return answering_server(lambda _request: (code, body))


def _kubeconfig(tmp_path, server):
    return write_kubeconfig(tmp_path / "config", server, {"token": "synthetic"}, context="homelab",
                            cluster={"insecure-skip-tls-verify": True})


def _run(role, kubeconfig, extra=None, timeout=120):
    variables = {"role_under_test": role, "istio_egress_kubeconfig": kubeconfig, "istio_egress_context": "homelab",
                 "calico_policy_gateway_target_ports": [8443],
                 # The modules must run (not fail on a discovered interpreter without the kubernetes client).
                 "ansible_python_interpreter": sys.executable}
    variables.update(extra or {})
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="default")
    start = time.time()
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", str(PLAYBOOK), "-e", json.dumps(variables)],
                          capture_output=True, text=True, env=env, timeout=timeout, check=False)
    return proc, proc.stdout + proc.stderr, time.time() - start


def _changed(out):
    recap = re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)", out)
    return recap.group(1) if recap else None


@pytest.mark.parametrize("role", ROLES)
def test_401_says_credentials_rejected(role, tmp_path):
    server, url = _status_server(401)
    try:
        proc, out, _seconds = _run(role, _kubeconfig(tmp_path, url))
    finally:
        server.shutdown()
    assert proc.returncode != 0, out
    assert "refused the request: credentials rejected (401 Unauthorized" in out, out
    assert "Cannot reach the Kubernetes API" not in out
    assert _changed(out) == "0", out


def test_403_names_the_verb_and_resource(tmp_path):
    server, url = _status_server(403)
    try:
        proc, out, _seconds = _run("egress_routes", _kubeconfig(tmp_path, url))
    finally:
        server.shutdown()
    assert proc.returncode != 0, out
    assert "refused the request: forbidden: list namespaces (cluster scope); nothing was changed." in out, out
    assert _changed(out) == "0", out


@pytest.mark.parametrize("role", ["egress_routes", "test_client"])
def test_silent_api_server_fails_in_bounded_time(role, tmp_path):
    silent = SilentServer()
    try:
        proc, out, seconds = _run(role, _kubeconfig(tmp_path, silent.url), {"%s_api_timeout" % role: 3}, timeout=90)
    finally:
        silent.close()
    assert proc.returncode != 0, out
    assert "Cannot reach the Kubernetes API" in out and "no answer within 3s" in out, out
    # ansible-playbook start-up plus one bounded call: far below the 90 s watchdog.
    assert seconds < 45, "took %.0fs" % seconds
    assert _changed(out) == "0", out
