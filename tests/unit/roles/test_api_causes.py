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

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest
from test_bad_input import PLAYBOOK

ROLES = ["egress_gateway", "test_client", "egress_routes", "registry_only", "calico_policy"]
FORBIDDEN_MESSAGE = ('namespaces is forbidden: User "system:serviceaccount:verify:probe" cannot list resource '
                     '"namespaces" in API group "" at the cluster scope')

pytestmark = pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible-playbook not on PATH")


def _status_server(code):
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code,
            "reason": "Unauthorized" if code == 401 else "Forbidden",
            "message": "Unauthorized" if code == 401 else FORBIDDEN_MESSAGE}
    data = json.dumps(body).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]


class _Silent:
    """Accepts TCP connections and never answers (a hung API server)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.conns = []
        self.stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        self.sock.settimeout(0.5)
        while not self.stop:
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                continue

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.sock.getsockname()[1]

    def close(self):
        self.stop = True
        for conn in self.conns:
            conn.close()
        self.sock.close()


def _kubeconfig(tmp_path, server):
    path = tmp_path / "config"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "homelab",
        "clusters": [{"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": "homelab", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "synthetic"}}]}))
    return str(path)


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
    silent = _Silent()
    try:
        proc, out, seconds = _run(role, _kubeconfig(tmp_path, silent.url), {"%s_api_timeout" % role: 3}, timeout=90)
    finally:
        silent.close()
    assert proc.returncode != 0, out
    assert "Cannot reach the Kubernetes API" in out and "no answer within 3s" in out, out
    # ansible-playbook start-up plus one bounded call: far below the 90 s watchdog.
    assert seconds < 45, "took %.0fs" % seconds
    assert _changed(out) == "0", out
