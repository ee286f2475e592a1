# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""istio_proxy_config against API servers that misbehave, on local ports: it ends within its timeout.

Real parts: the official kubernetes client and websocket client, the module
run as a process (as Ansible runs it) with a kubeconfig written to a temporary
directory that points at a local TCP server:

- a server that accepts and never answers (before: the module hung even with timeout=5);
- a closed port (connection refused, naming the server);
- an HTTP server that answers the pod read, then never answers the exec upgrade;
- the same, but it completes the websocket upgrade and then sends nothing;
- a fake ``istioctl`` that never ends (source=istioctl).

The pod object served is SYNTHETIC (written here, in the v1 Pod shape).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from api_doubles import write_kubeconfig

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube

pytestmark = pytest.mark.skipif(not kube.HAS_KUBERNETES, reason="needs the kubernetes client")

MODULE = "ansible_collections.homelab.istio_egress.plugins.modules.istio_proxy_config"
TIMEOUT = 3
# The module's own bound plus Python start-up and the kubernetes import on a loaded machine
# (4-8 s measured with a load average of 9 on 2 CPUs); WALL only stops a hung run.
BOUND = 2 * TIMEOUT + 10
WALL = TIMEOUT + 25

POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "sleep-1", "namespace": "demo"},
       "spec": {"containers": [{"name": "sleep", "image": "curl"}, {"name": "istio-proxy", "image": "proxyv2"}]},
       "status": {"phase": "Running"}}


class Server:
    """A TCP server on 127.0.0.1 whose behaviour is one of: silent, http-then-silent, ws-then-silent."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.requests = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.conns.append(conn)
            if self.mode != "silent":
                threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        conn.settimeout(30)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
        except OSError:
            return
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        self.requests.append(head.splitlines()[0])
        headers = {k.strip().lower(): v.strip() for k, _s, v in
                   (line.partition(":") for line in head.splitlines()[1:])}
        if "upgrade" in headers.get("connection", "").lower():
            if self.mode == "ws-then-silent":
                accept = base64.b64encode(hashlib.sha1(
                    (headers["sec-websocket-key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
                conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             b"Sec-WebSocket-Accept: " + accept + b"\r\nSec-WebSocket-Protocol: v4.channel.k8s.io"
                             b"\r\n\r\n")
            return  # and never say anything more
        body = json.dumps(POD).encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                     % (len(body), body))

    def close(self):
        self.stop.set()
        for conn in self.conns:
            conn.close()
        self.sock.close()


def kubeconfig(tmp_path, server_url):
    return write_kubeconfig(tmp_path / "kubeconfig", server_url, {"token": "synthetic-token"}, context="silent",
                            cluster={"insecure-skip-tls-verify": True}, cluster_name="silent")


def run_module(tmp_path, args, env=None):
    """Run the module as a process and return its result; a run past BOUND (or a hang) fails the test."""
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    child_env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    child_env.update(env or {})
    for var in ("K8S_AUTH_KUBECONFIG", "K8S_AUTH_CONTEXT", "KUBECONFIG"):
        child_env.pop(var, None)
    start = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", MODULE, str(args_file)], capture_output=True, text=True, check=False,
                              timeout=WALL, env=child_env, cwd=str(tmp_path))
    except subprocess.TimeoutExpired:
        pytest.fail("the module hung: still running after %d s with timeout=%d" % (WALL, TIMEOUT))
    elapsed = time.monotonic() - start
    out = proc.stdout.strip().splitlines()
    assert out, proc.stderr
    assert elapsed < BOUND, "the module took %.1f s with timeout=%d" % (elapsed, TIMEOUT)
    return json.loads(out[-1])


@pytest.fixture
def server(request):
    srv = Server(request.param)
    yield srv
    srv.close()


@pytest.mark.parametrize("server", ["silent"], indirect=True)
def test_silent_server_times_out(tmp_path, server):
    result = run_module(tmp_path, {
        "pod": "sleep-1", "namespace": "demo", "timeout": TIMEOUT,
        "kubeconfig": kubeconfig(tmp_path, "https://127.0.0.1:%d" % server.port)})
    assert result["failed"] is True and "Traceback" not in result["msg"]
    assert "127.0.0.1:%d" % server.port in result["msg"]
    assert "timed out" in result["msg"] or "did not answer" in result["msg"]
    assert result["msg"].endswith("while reading pod demo/sleep-1"), result["msg"]


def test_connection_refused(tmp_path):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    result = run_module(tmp_path, {
        "pod": "sleep-1", "namespace": "demo", "timeout": TIMEOUT,
        "kubeconfig": kubeconfig(tmp_path, "https://127.0.0.1:%d" % port)})
    assert result["msg"] == "connection refused by https://127.0.0.1:%d while reading pod demo/sleep-1" % port


@pytest.mark.parametrize("server", ["http-then-silent", "ws-then-silent"], indirect=True)
def test_exec_that_never_answers(tmp_path, server):
    """The pod read is answered; the exec upgrade (or the exec stream after it) never is."""
    result = run_module(tmp_path, {
        "pod": "sleep-1", "namespace": "demo", "timeout": TIMEOUT,
        "kubeconfig": kubeconfig(tmp_path, "http://127.0.0.1:%d" % server.port)})
    assert server.requests[0].startswith("GET /api/v1/namespaces/demo/pods/sleep-1 ")
    assert any("/exec?" in r for r in server.requests), server.requests
    assert result["failed"] is True and "Traceback" not in result["msg"]
    if server.mode == "ws-then-silent":
        assert result["msg"].startswith("exec in container istio-proxy in pod demo/sleep-1 did not finish within")
    else:
        assert "did not answer" in result["msg"] or "timed out" in result["msg"], result["msg"]
    assert "127.0.0.1:%d" % server.port in result["msg"]


def test_istioctl_that_never_ends(tmp_path):
    fake = tmp_path / "bin" / "istioctl"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n# SYNTHETIC: an istioctl that hangs like one talking to a silent API server\n"
                    "exec sleep 300\n")
    fake.chmod(0o755)
    result = run_module(tmp_path, {"pod": "sleep-1", "namespace": "demo", "source": "istioctl", "timeout": TIMEOUT},
                        env={"PATH": "%s:%s" % (fake.parent, os.environ.get("PATH", ""))})
    assert result["msg"] == ("istioctl proxy-config all did not finish within the %d s timeout for pod demo/sleep-1"
                             % TIMEOUT)
