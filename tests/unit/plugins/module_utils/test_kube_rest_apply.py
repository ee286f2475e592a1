# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_apply's engine (plugins/module_utils/kube_rest_apply.py, Client.request) against a
SYNTHETIC API server on 127.0.0.1: it stores objects, answers GET, and server-side apply PATCHes
(the body replaces the stored object, dryRun=All stores nothing) with the server-written metadata
kube-apiserver adds. It counts the writes, which the real server cannot show directly; the real
kube-apiserver and istiod's webhook are tests/integration/test_cluster_apply.py's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.server
import json
import threading

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_rest_apply import call

CORE = {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
    {"name": "namespaces", "kind": "Namespace", "namespaced": False},
    {"name": "configmaps", "kind": "ConfigMap", "namespaced": True}]}
NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "mesh-test"}}
CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "mesh-test"}, "data": {"k": "1"}}
WEBHOOK = 'admission webhook "validation.istio.io" denied the request: configuration is invalid: empty domain name'


class FakeServer(object):
    def __init__(self):
        self.store, self.writes, self.requests, self.deny = {}, [], [], {}
        self.version = 1
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                path = self.path.split("?")[0]
                fake.requests.append(("GET", self.path, None))
                if path == "/api/v1":
                    return self._send(200, CORE)
                if path in fake.store:
                    return self._send(200, fake.store[path])
                return self._send(404, {"kind": "Status", "code": 404, "message": "not found"})

            def do_PATCH(self):
                path, _sep, query = self.path.partition("?")
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(("PATCH", self.path, self.headers["Content-Type"]))
                if path in fake.deny:
                    return self._send(fake.deny[path][0], {"kind": "Status", "message": fake.deny[path][1]})
                ns = (body.get("metadata") or {}).get("namespace")
                if ns and "/api/v1/namespaces/%s" % ns not in fake.store:
                    return self._send(404, {"kind": "Status", "message": 'namespaces "%s" not found' % ns})
                live = fake.store.get(path)
                out = dict(body)
                meta = dict(body["metadata"], uid="u", creationTimestamp="t",
                            managedFields=[{"manager": "homelab.istio_egress", "operation": "Apply"}])
                meta["resourceVersion"] = live["metadata"]["resourceVersion"] if live else "0"
                out["metadata"] = meta
                if "dryRun=All" not in query:
                    fake.version += 1
                    meta["resourceVersion"] = str(fake.version)
                    fake.store[path] = out
                    fake.writes.append(path)
                return self._send(200 if live else 201, out)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def apply(self, objects, check_mode=False, diff=False):
        self.writes, self.requests = [], []
        return call({"objects": objects, "timeout": 5, "field_manager": "homelab.istio_egress", "api_host": self.url,
                     "api_key": "t"}, in_controller=True, check_mode=check_mode, diff=diff, environ={})


@pytest.fixture
def fake():
    server = FakeServer()
    yield server
    server.server.shutdown()


def _actions(result):
    return [o["action"] for o in result["objects"]]


def test_create_then_rerun_writes_nothing(fake):
    first = fake.apply([NS, CM])
    assert first["changed"] is True and _actions(first) == ["created", "created"]
    assert fake.writes == ["/api/v1/namespaces/mesh-test", "/api/v1/namespaces/mesh-test/configmaps/cm"]
    patches = [r for r in fake.requests if r[0] == "PATCH"]
    assert all("fieldManager=homelab.istio_egress" in p[1] and "force=true" in p[1] for p in patches)
    assert {p[2] for p in patches} == {"application/apply-patch+yaml"}
    second = fake.apply([NS, CM])
    assert second["changed"] is False and _actions(second) == ["unchanged", "unchanged"]
    assert fake.writes == []
    # one discovery, then GET + dry-run per object, over one connection
    assert second["requests"] == 5


def test_a_field_change_is_written_and_diffed(fake):
    fake.apply([NS, CM])
    result = fake.apply([NS, dict(CM, data={"k": "2"})], diff=True)
    assert _actions(result) == ["unchanged", "updated"] and result["changed"] is True
    assert fake.writes == ["/api/v1/namespaces/mesh-test/configmaps/cm"]
    assert len(result["diff"]) == 1
    assert result["diff"][0]["before"]["data"] == {"k": "1"} and result["diff"][0]["after"]["data"] == {"k": "2"}
    assert "resourceVersion" not in result["diff"][0]["after"]["metadata"]
    assert result["objects"][1]["before"]["data"] == {"k": "1"}


def test_check_mode_writes_nothing_and_reports_a_new_namespace(fake):
    result = fake.apply([NS, CM, dict(CM, metadata={"name": "x", "namespace": "other"})], check_mode=True)
    assert fake.writes == [] and result["changed"] is True
    assert _actions(result) == ["created", "created", "created"]
    assert "namespace mesh-test does not exist yet" in result["objects"][1]["note"]
    assert "namespace other does not exist yet" in result["objects"][2]["note"]
    # the object in the namespace planned by the same call is not asked about at all
    assert not any("configmaps/cm" in r[1] for r in fake.requests)


def test_webhook_denial_stops_and_names_object_and_what_was_applied(fake):
    fake.deny["/api/v1/namespaces/mesh-test/configmaps/cm"] = (400, WEBHOOK)
    result = fake.apply([NS, CM, dict(CM, metadata={"name": "later", "namespace": "mesh-test"})])
    assert result["failed"] is True and result["cause"] == WEBHOOK
    assert result["msg"] == ("ConfigMap mesh-test/cm (objects[1]): applying failed: %s; already applied: Namespace "
                             "mesh-test (created) (the objects after it were not applied)" % WEBHOOK)
    assert _actions(result) == ["created"] and result["changed"] is True
    assert "/api/v1/namespaces/mesh-test/configmaps/later" not in fake.writes


def test_unserved_kind_and_scope_mistakes_are_named(fake):
    bad = fake.apply([NS, {"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}])
    assert bad["msg"].startswith("Widget w (objects[1]): discovering its kind failed: v1 Widget is not served by")
    unscoped = fake.apply([dict(CM, metadata={"name": "cm"})])
    assert unscoped["msg"].startswith("objects[0] (ConfigMap cm) has no metadata.namespace")
    assert fake.writes == []


def test_bad_input_fails_before_any_request(fake):
    result = fake.apply("kind: Namespace")
    assert result == {"failed": True, "changed": False, "in_controller": True,
                      "msg": "objects is 'kind: Namespace': expected a list of manifests (dicts), not text: parse a "
                             "rendered template with ansible.builtin.from_yaml or from_yaml_all"}
    assert fake.requests == []
