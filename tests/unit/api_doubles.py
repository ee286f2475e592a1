# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SYNTHETIC Kubernetes API servers on 127.0.0.1 and kubeconfig files, written once for the tests.

The unit tests import this module directly (tests/unit/conftest.py puts this directory on
sys.path); the integration tests through tests/integration/plane_helpers.py. A double stands in
for kube-apiserver only where the real one cannot show the case (a server that never answers, a
chosen status); each test says which answer it gives and why.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.server
import json
import os
import socket
import threading


class SilentServer(object):
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
                self.conns.append(self.sock.accept()[0])  # held open, never read or answered
            except OSError:  # the 0.5 s poll, or the socket closed (then stop is set)
                continue

    @property
    def port(self):
        return self.sock.getsockname()[1]

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def close(self):
        self.stop = True
        for conn in self.conns:
            conn.close()
        self.sock.close()


def answering_server(answer, protocol_version="HTTP/1.0"):
    """An HTTP server whose every GET gets ``answer(handler)``: (status, a JSON-able body or bytes).

    Returns (server, its http:// URL); the caller shuts it down. ``handler`` is the request's
    BaseHTTPRequestHandler (path, client_address) for answers that depend on them or record them.
    """

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, body = answer(self)
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    Handler.protocol_version = protocol_version
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]


def kubeconfig_doc(server, user, context="homelab", cluster=None, cluster_name="c", user_name="u"):
    """A kubeconfig with one cluster (``server`` and the fields of ``cluster``), one user (the fields
    of ``user``, say ``{"token": ...}``) and one context, the current one."""
    return {"apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": cluster_name, "cluster": dict(cluster or {}, server=server)}],
            "contexts": [{"name": context, "context": {"cluster": cluster_name, "user": user_name}}],
            "users": [{"name": user_name, "user": user}]}


def write_kubeconfig(path, server, user, **names):
    """kubeconfig_doc(server, user, **names) written to ``path``, mode 0600 as it holds a credential;
    returns the path as a string."""
    path = str(path)
    with open(path, "w") as handle:
        json.dump(kubeconfig_doc(server, user, **names), handle)
    os.chmod(path, 0o600)
    return path
