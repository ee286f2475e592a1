# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_read's HTTP engine (plugins/module_utils/kube_rest.py, kube_rest_read.py) against
synthetic servers on 127.0.0.1: answers shaped as kube-apiserver's (a metav1.Status for 401/403,
an RBAC denial's message), a server that never answers, one that answers too much. The real
kube-apiserver is tests/integration/test_cluster_read.py's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import threading
import time

import pytest
from api_doubles import SilentServer, answering_server

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube_read, kube_rest
from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_rest_read import call, run

FORBIDDEN = ('pods is forbidden: User "system:serviceaccount:verify:probe" cannot list resource "pods" in API group '
             '"" in the namespace "mesh-test"')
POD_LIST = {"kind": "APIResourceList", "groupVersion": "v1",
            "resources": [{"name": "pods", "kind": "Pod", "namespaced": True}]}


def _server(routes):
    """routes: path -> (status, body dict or bytes); counts connections."""
    seen = {"connections": set(), "paths": []}

    def answer(request):
        seen["connections"].add(request.client_address)
        seen["paths"].append(request.path)
        return routes.get(request.path.split("?")[0], (404, {"kind": "Status", "code": 404}))

    server, url = answering_server(answer, protocol_version="HTTP/1.1")
    return server, url, seen


@pytest.fixture
def serve():
    started = []

    def start(routes):
        server, url, seen = _server(routes)
        started.append(server)
        return url, seen
    yield start
    for server in started:
        server.shutdown()


def _queries(**queries):
    return kube_read.validate_queries(queries)


def test_reads_share_one_connection_and_discover_once(serve):
    pods = {"items": [{"metadata": {"name": "a", "labels": {"app": "sleep"}}}], "metadata": {}}
    url, seen = serve({"/api/v1": (200, POD_LIST), "/api/v1/namespaces/n/pods": (200, pods),
                       "/api/v1/namespaces/n/pods/a": (200, pods["items"][0])})
    out = run({"server": url}, _queries(
        all={"api_version": "v1", "kind": "Pod", "namespace": "n", "label_selectors": ["app=sleep"]},
        one={"api_version": "v1", "kind": "Pod", "namespace": "n", "name": "a"},
        gone={"api_version": "v1", "kind": "Pod", "namespace": "n", "name": "b"},
        crd={"api_version": "example.com/v1", "kind": "Foo"}))
    assert out["results"]["all"]["resources"][0]["kind"] == "Pod"
    assert [r["metadata"]["name"] for r in out["results"]["one"]["resources"]] == ["a"]
    assert out["results"]["gone"] == {"served": True, "resources": []}
    assert out["results"]["crd"] == {"served": False, "resources": []}
    assert seen["paths"].count("/api/v1") == 1
    assert len(seen["connections"]) == 1 and out["requests"] == 5


def test_401_is_credentials_rejected(serve):
    url, _seen = serve({"/api/v1": (401, {"kind": "Status", "code": 401, "reason": "Unauthorized",
                                          "message": "Unauthorized"})})
    with pytest.raises(kube_rest.ReadError) as err:
        run({"server": url, "token": "bad"}, _queries(p={"api_version": "v1", "kind": "Pod"}))
    assert err.value.cause.startswith("credentials rejected (401 Unauthorized")
    assert err.value.msg.startswith("p: reading the resources of v1 from %s failed: credentials rejected" % url)


def test_403_names_verb_and_resource(serve):
    url, _seen = serve({"/api/v1": (200, POD_LIST), "/api/v1/namespaces/mesh-test/pods": (
        403, {"kind": "Status", "code": 403, "reason": "Forbidden", "message": FORBIDDEN})})
    result = call({"queries": {"p": {"api_version": "v1", "kind": "Pod", "namespace": "mesh-test"}}, "timeout": 5,
                   "api_host": url, "api_key": "t"}, in_controller=True, environ={})
    assert result["failed"] and result["cause"] == "forbidden: list pods in namespace mesh-test"
    assert "p: reading Pod objects in namespace mesh-test" in result["msg"]


def test_answer_above_the_cap_is_refused(serve):
    url, _seen = serve({"/api/v1": (200, b" " * 2048 + json.dumps(POD_LIST).encode())})
    client = kube_rest.Client({"server": url}, 5, max_bytes=1024)
    with pytest.raises(kube_rest.ReadError, match="larger than the 0 MiB cap"):
        client.get("/api/v1")


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_silent_server_times_out_in_bounded_time(scheme):
    silent = SilentServer()
    try:
        settings = {"server": silent.url.replace("https://", scheme + "://"), "insecure": True}
        start = time.monotonic()
        result = call({"queries": {"p": {"api_version": "v1", "kind": "Pod"}}, "timeout": 1, "discovery": False,
                       "api_host": settings["server"], "api_key": "t", "validate_certs": False},
                      in_controller=True, environ={})
        took = time.monotonic() - start
    finally:
        silent.close()
    assert result["failed"] and took < 5
    assert result["cause"].startswith("no answer within 1s"), result


def test_refused():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    result = call({"queries": {}, "discovery": True, "timeout": 2, "api_host": "http://127.0.0.1:%d" % port,
                   "api_key": "t"}, in_controller=False, environ={})
    assert result["failed"] and result["cause"].startswith("connection refused"), result
    assert result["msg"].startswith("discovery: reading the served APIs (/api)")


def test_bad_query_fails_before_any_request():
    result = call({"queries": {"p": {"api_version": "v1", "kind": "pods"}}, "timeout": 2}, in_controller=True,
                  environ={})
    assert result == {"failed": True, "changed": False, "in_controller": True,
                      "msg": "queries.p.kind is 'pods': expected a Kind such as Deployment (CamelCase, as in manifests)"}


def test_wait_not_met_fails_naming_what_was_seen(serve):
    dep = {"metadata": {"name": "s"}, "status": {"conditions": [{"type": "Available", "status": "False",
                                                                 "reason": "MinimumReplicasUnavailable"}]}}
    url, _seen = serve({"/apis/apps/v1": (200, {"resources": [{"name": "deployments", "kind": "Deployment",
                                                               "namespaced": True}]}),
                        "/apis/apps/v1/namespaces/n/deployments/s": (200, dep)})
    start = time.monotonic()
    with pytest.raises(kube_rest.ReadError) as err:
        run({"server": url}, _queries(d={"api_version": "apps/v1", "kind": "Deployment", "namespace": "n", "name": "s",
                                         "wait_condition": {"type": "Available"}, "wait_timeout": 1,
                                         "wait_sleep": 0.2}))
    assert time.monotonic() - start < 3
    assert err.value.msg.startswith("query d: Deployment n/s did not reach condition Available=True within the "
                                    "wait_timeout of 1 s (last observed: Available=False (MinimumReplicasUnavailable))")


class _ConnectProxy(object):
    """A minimal HTTP CONNECT proxy (synthetic): records each CONNECT's request head, then relays bytes."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.heads = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.sock.getsockname()[1]

    def _accept(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
        text = head.decode("latin-1")
        self.heads.append(text)
        host, port = text.split()[1].rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), timeout=5)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pipe(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pipe, args=(upstream, conn), daemon=True).start()
        pipe(conn, upstream)

    def close(self):
        self.sock.close()


def test_proxy_tunnel_and_no_proxy(serve):
    url, seen = serve({"/api/v1": (200, POD_LIST), "/api/v1/pods": (200, {"items": [], "metadata": {}})})
    proxy = _ConnectProxy()
    try:
        params = {"queries": {"p": {"api_version": "v1", "kind": "Pod"}}, "timeout": 5, "api_host": url,
                  "api_key": "t", "proxy": proxy.url, "proxy_headers": {"proxy_basic_auth": "a:b"}}
        result = call(params, in_controller=True, environ={})
        assert not result.get("failed"), result
        # one tunnel for both requests, with the proxy's credentials; the API server saw its own paths
        assert len(proxy.heads) == 1 and proxy.heads[0].startswith("CONNECT 127.0.0.1:")
        assert "Proxy-Authorization: Basic YTpi" in proxy.heads[0]
        assert seen["paths"][-2:] == ["/api/v1", "/api/v1/pods?limit=500"]
        # no_proxy: straight to the server, the proxy sees nothing more
        result = call(dict(params, no_proxy="127.0.0.0/8"), in_controller=True, environ={})
        assert not result.get("failed") and len(proxy.heads) == 1, result
    finally:
        proxy.close()
