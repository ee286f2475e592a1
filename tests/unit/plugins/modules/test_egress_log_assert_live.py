# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live reads of egress_log_assert through Ansible and the official Kubernetes
client, against a fake API server on 127.0.0.1 (this file).

The fake serves pods and logs in the API's own JSON shapes (PodList, Pod,
Status) and answers 404/403 the way the API server does; the pod logs are the
REAL fixtures. One ansible-playbook run covers: every replica of a gateway
read (HA), since_time passed as sinceSeconds, a native sidecar (istio-proxy as
an init container), a pod that does not exist, RBAC denied, a pod without the
proxy container, a selector that matches nothing, a Pending pod, an
unreachable API server; issue 12: an evicted (not Ready) replica whose log read
answers 400 next to a Ready one, a Ready replica whose log read answers 400,
a log longer than max_bytes, and API servers that accept and never answer
(a raw TCP socket; a log stream that stops mid-way), bounded by timeout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import threading
import time

import pytest
from api_doubles import SilentServer, write_kubeconfig
from test_egress_log_assert import LOGS, MODULE, by_name, finish, no_traceback, start

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlparse
except ImportError:  # pragma: no cover
    ThreadingHTTPServer = None

pytest.importorskip("kubernetes")


def _read(name):
    with open(os.path.join(LOGS, name), encoding="utf-8") as handle:
        return handle.read()


def _pod(name, namespace, containers=("istio-proxy",), init=(), phase="Running", labels=None, ready=None):
    ready = phase == "Running" if ready is None else ready
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"containers": [{"name": c, "image": "example/%s" % c} for c in containers],
                 "initContainers": [{"name": c, "image": "example/%s" % c, "restartPolicy": "Always"}
                                    for c in init]},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def _status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


GATEWAY_LABELS = {"istio": "egressgateway"}
PODS = {
    ("istio-system", "istio-egressgateway-a"): (_pod("istio-egressgateway-a", "istio-system", labels=GATEWAY_LABELS),
                                                _read("istioio-egress-gateway-snips-2024.log")),
    ("istio-system", "istio-egressgateway-b"): (_pod("istio-egressgateway-b", "istio-system", labels=GATEWAY_LABELS),
                                                _read("istioio-egress-gateway-tls-origination.log")),
    ("demo", "sleep-native"): (_pod("sleep-native", "demo", containers=("sleep",), init=("istio-proxy",)),
                               _read("gh-istio-56356-sidecar-uf-urx-inboundpassthrough.log")),
    ("demo", "no-sidecar"): (_pod("no-sidecar", "demo", containers=("app",)), ""),
    ("pending", "gw-pending"): (_pod("gw-pending", "pending", phase="Pending", labels=GATEWAY_LABELS), ""),
    # issue 12: an evicted replica (its log read answers 400) next to a Ready one
    ("evicted", "gw-evicted"): (_pod("gw-evicted", "evicted", phase="Failed", labels=GATEWAY_LABELS), None),
    ("evicted", "gw-ready"): (_pod("gw-ready", "evicted", labels=GATEWAY_LABELS),
                              _read("istioio-egress-gateway-snips-2024.log")),
    # a Ready replica whose log read answers 400: an error, not a fact
    ("broken", "gw-broken"): (_pod("gw-broken", "broken", labels=GATEWAY_LABELS), None),
    # a Ready replica whose log stream stops after its first line and never ends
    ("stall", "gw-stall"): (_pod("gw-stall", "stall", labels=GATEWAY_LABELS), "STALL"),
}
RELEASE = threading.Event()  # set at teardown: handlers that hang on purpose return
FORBIDDEN = ('pods is forbidden: User "system:serviceaccount:ci:reader" cannot list resource "pods" in API '
             'group "" in the namespace "locked"')


class FakeApi(BaseHTTPRequestHandler if ThreadingHTTPServer else object):
    requests = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, code, body, content_type="application/json"):
        data = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        FakeApi.requests.append((url.path, query))
        parts = url.path.strip("/").split("/")
        # /api/v1/namespaces/{ns}/pods[/{name}[/log]]
        if parts[:3] != ["api", "v1", "namespaces"] or len(parts) < 5 or parts[4] != "pods":
            return self._send(404, _status(404, "NotFound", "the server could not find the requested resource"))
        namespace = parts[3]
        if namespace == "locked":
            return self._send(403, _status(403, "Forbidden", FORBIDDEN))
        if len(parts) == 5:
            wanted = dict(s.split("=", 1) for s in query.get("labelSelector", [""])[0].split(",") if "=" in s)
            items = [pod for (ns, _n), (pod, _log) in sorted(PODS.items())
                     if ns == namespace and all(pod["metadata"]["labels"].get(k) == v for k, v in wanted.items())]
            return self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})
        key = (namespace, parts[5])
        if key not in PODS:
            return self._send(404, _status(404, "NotFound", 'pods "%s" not found' % parts[5]))
        pod, log = PODS[key]
        if len(parts) == 6:
            return self._send(200, pod)
        if log is None:  # what the API answers for a container that cannot give its log
            message = 'container "istio-proxy" in pod "%s" is not available' % parts[5]
            return self._send(400, _status(400, "BadRequest", message))
        if log == "STALL":
            first = _read("istioio-egress-gateway-snips-2024.log").encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(first) * 10))
            self.end_headers()
            self.wfile.write(first)
            self.wfile.flush()
            RELEASE.wait(120)
            return None
        limit = query.get("limitBytes")
        data = log.encode("utf-8")
        if limit:
            data = data[:int(limit[0])]
        return self._send(200, data.decode("utf-8", "replace"), "text/plain")


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    if ThreadingHTTPServer is None:
        pytest.skip("needs http.server.ThreadingHTTPServer")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    tmp = tmp_path_factory.mktemp("live")
    kubeconfig = write_kubeconfig(tmp / "kubeconfig", "http://127.0.0.1:%d" % server.server_port,
                                  {"token": "fake-token"}, context="fake", cluster_name="fake", user_name="fake")
    yield {"kubeconfig": kubeconfig, "tmp": tmp}
    RELEASE.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def run(api):
    kc = api["kubeconfig"]

    def task(name, args, ok=False):
        args = dict(args, kubeconfig=kc) if "kubeconfig" not in args else args
        item = {"name": name, MODULE: args}
        if not ok:
            item["ignore_errors"] = True
        return item

    tasks = [
        task("ha", {"host": "edition.cnn.com", "since_time": "2024-01-01T00:00:00Z"}, ok=True),
        task("native sidecar", {"namespace": "demo", "pod": "sleep-native", "host": "api.github.com",
                                "allowed_response_flags": ["UF", "URX"], "hop": "any"}, ok=True),
        task("absent on both replicas", {"host": "httpbin.org", "expect": "absent"}, ok=True),
        task("missing pod", {"pod": "istio-egressgateway-x", "host": "httpbin.org"}),
        task("rbac", {"namespace": "locked", "host": "httpbin.org"}),
        task("no proxy", {"namespace": "demo", "pod": "no-sidecar", "host": "httpbin.org"}),
        task("no pods", {"namespace": "demo", "selector": "istio=nothing", "host": "httpbin.org"}),
        task("pending", {"namespace": "pending", "host": "httpbin.org"}),
        task("unreachable", {"host": "httpbin.org", "kubeconfig": str(api["tmp"] / "missing-kubeconfig")}),
        task("evicted replica", {"namespace": "evicted", "host": "edition.cnn.com"}, ok=True),
        task("evicted replica absent", {"namespace": "evicted", "host": "httpbin.org", "expect": "absent",
                                        "fail_on_mismatch": False}, ok=True),
        task("ready replica unreadable", {"namespace": "broken", "host": "edition.cnn.com"}),
        task("max_bytes cuts the window", {"pod": "istio-egressgateway-a", "host": "httpbin.org",
                                           "expect": "absent", "max_bytes": 400, "fail_on_mismatch": False},
             ok=True),
        task("max_bytes present", {"pod": "istio-egressgateway-a", "host": "edition.cnn.com", "port": 80,
                                   "max_bytes": 400}, ok=True),
    ]
    playbook = api["tmp"] / "live.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    FakeApi.requests[:] = []
    result = finish(start(["ansible-playbook", str(playbook)]))
    return by_name(result), list(FakeApi.requests)


def test_every_gateway_replica_is_read(run):
    results, requests = run
    res = results["ha"]
    assert res["passed"] is True and res["changed"] is False
    assert res["count"] == 2
    # since 2024-01-01 drops the 2020 line of replica b and keeps its 2024 one
    ok = {"read": True, "error": None, "complete": True, "ready": True, "phase": "Running"}
    assert res["pods"] == {"istio-egressgateway-a": dict(ok, lines=2, matches=1),
                           "istio-egressgateway-b": dict(ok, lines=3, matches=1)}
    assert res["complete"] is True
    assert res["msg"].startswith("2 entries for edition.cnn.com:443 at the gateway hop in 2 pods since "
                                 "2024-01-01T00:00:00Z")
    assert [e["pod"] for e in res["entries"]] == ["istio-egressgateway-a", "istio-egressgateway-b"]
    assert res["entries"][1]["route_name"] == "default.forward-cnn-from-egress-gateway.0"
    assert res["entries"][0]["upstream_cluster"] == "outbound|443||edition.cnn.com"
    logs = [(path, query) for path, query in requests if path.endswith("/log")]
    read = {path.strip("/").split("/")[5] for path, _q in logs}
    assert {"istio-egressgateway-a", "istio-egressgateway-b"} <= read
    first = next(q for p, q in logs if "istio-egressgateway-a" in p)  # the first task's read
    assert first["container"] == ["istio-proxy"]
    assert int(first["sinceSeconds"][0]) > 60  # since_time -> sinceSeconds, with the skew margin
    assert int(first["limitBytes"][0]) == 256 * 1024 * 1024 + 1  # max_bytes + 1: more means the window was cut


def test_native_sidecar_init_container(run):
    res = run[0]["native sidecar"]
    assert res["passed"] is True and res["count"] == 4
    assert res["entries"][0]["pod"] == "sleep-native"


def test_absent_over_all_replicas(run):
    res = run[0]["absent on both replicas"]
    assert res["passed"] is True and res["count"] == 0
    assert res["msg"].startswith("0 entries for httpbin.org:443 at the gateway hop in 2 pods, as expected (absent)")


@pytest.mark.parametrize("task,fragment", [
    ("missing pod", ('pod istio-system/istio-egressgateway-x was not found (HTTP 404): pods '
                     '"istio-egressgateway-x" not found')),
    ("rbac", "forbidden: list pods in namespace locked (HTTP 403) while reading pods with selector "
             "'istio=egressgateway' in namespace locked: " + FORBIDDEN),
    ("no proxy", "pod demo/no-sidecar has no container 'istio-proxy' (it has: app)"),
    ("no pods", "no pod matches selector 'istio=nothing' in namespace demo"),
    ("pending", "0 entries for httpbin.org:443 at the gateway hop in 1 pod (expected at least 1)"),
    ("ready replica unreadable", ("the log of Ready pod gw-broken could not be read completely: reading the log "
                                  "of container istio-proxy in pod broken/gw-broken failed (HTTP 400)")),
    ("unreachable", "could not load kubeconfig"),
])
def test_live_failures_are_one_sentence(run, task, fragment):
    res = run[0][task]
    no_traceback(res)
    assert res["failed"] is True
    assert fragment in res["msg"]


def test_evicted_replica_is_a_per_pod_fact(run):
    res = run[0]["evicted replica"]
    assert res["passed"] is True and res["count"] == 1
    evicted = res["pods"]["gw-evicted"]
    assert evicted["read"] is False and evicted["ready"] is False and evicted["phase"] == "Failed"
    assert "HTTP 400" in evicted["error"] and evicted["complete"] is False
    assert res["pods"]["gw-ready"]["complete"] is True and res["complete"] is False
    assert any("gw-evicted" in w for w in res.get("warnings", []))
    # absence cannot be proved while a replica was not read
    absent = run[0]["evicted replica absent"]
    assert absent["passed"] is False and "failed" not in absent
    assert "gw-evicted" in absent["reason"] and "absence is not proved" in absent["msg"]


def test_pending_replica_is_not_read(run):
    res = run[0]["pending"]
    assert res["pods"]["gw-pending"]["read"] is False and "is Pending" in res["pods"]["gw-pending"]["error"]


def test_max_bytes_bounds_the_read_and_the_proof(run):
    res = run[0]["max_bytes cuts the window"]
    pod = res["pods"]["istio-egressgateway-a"]
    assert pod["complete"] is False and "longer than max_bytes=400" in pod["error"]
    assert res["passed"] is False and res["complete"] is False and "max_bytes" in res["reason"]
    # the first line (HTTP, port 80) was read in full and still proves presence
    present = run[0]["max_bytes present"]
    assert present["passed"] is True and present["count"] == 1 and present["complete"] is False


def test_silent_api_server_and_stalled_log_stream_do_not_hang(api):
    silent = SilentServer()
    try:
        kubeconfig = write_kubeconfig(api["tmp"] / "silent-kubeconfig", "http://127.0.0.1:%d" % silent.port,
                                      {"token": "fake-token"}, context="silent", cluster_name="silent",
                                      user_name="silent")
        tasks = [
            {"name": "silent", MODULE: {"host": "httpbin.org", "timeout": 2, "kubeconfig": kubeconfig},
             "ignore_errors": True},
            {"name": "stalled stream", MODULE: {"namespace": "stall", "host": "httpbin.org", "expect": "absent",
                                                "timeout": 2, "kubeconfig": api["kubeconfig"]},
             "ignore_errors": True},
        ]
        playbook = api["tmp"] / "silent.yml"
        playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
        began = time.monotonic()
        results = by_name(finish(start(["ansible-playbook", str(playbook)])))
        took = time.monotonic() - began
    finally:
        silent.close()
    # urllib3 retries a timed-out GET a few times: bounded, far from "until killed"
    assert took < 120, took
    res = results["silent"]
    no_traceback(res)
    # one sentence naming the server and the cause (module_utils/kube.py describe_api_error)
    assert res["failed"] is True and "did not answer within the timeout" in res["msg"]
    assert "127.0.0.1" in res["msg"]
    stalled = results["stalled stream"]
    no_traceback(stalled)
    assert stalled["failed"] is True
    assert stalled["msg"].startswith("the log of Ready pod gw-stall could not be read completely: reading the log")
    assert "timed out" in stalled["pods"]["gw-stall"]["error"].lower()
    assert stalled["pods"]["gw-stall"]["complete"] is False and stalled["complete"] is False
