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
                if path.endswith("/configmaps"):
                    # A LIST, paged by limit/continue (continue = offset) as kube-apiserver pages it.
                    query = dict(p.split("=", 1) for p in self.path.partition("?")[2].split("&") if p)
                    names = sorted(k for k in fake.store if k.startswith(path + "/"))
                    start = int(query.get("continue", 0))
                    end = start + int(query.get("limit", len(names) or 1))
                    items = [{k: v for k, v in fake.store[n].items() if k not in ("apiVersion", "kind")}
                             for n in names[start:end]]
                    return self._send(200, {"kind": "ConfigMapList", "apiVersion": "v1", "items": items,
                                            "metadata": {"continue": str(end) if end < len(names) else ""}})
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

    def apply(self, objects, check_mode=False, diff=False, **options):
        self.writes, self.requests = [], []
        params = {"objects": objects, "timeout": 5, "field_manager": "homelab.istio_egress", "api_host": self.url,
                  "api_key": "t", "guard": False, "adopt": False, "owner_role": None}
        params.update(options)
        return call(params, in_controller=True, check_mode=check_mode, diff=diff, environ={})


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


OWNED = {"app.kubernetes.io/managed-by": "homelab.istio_egress"}


def _cms(count, labels=None):
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": dict(
        {"name": "cm-%02d" % n, "namespace": "mesh-test"}, **({"labels": labels} if labels else {})),
        "data": {"k": str(n)}} for n in range(count)]


def _gets(fake):
    return [r[1] for r in fake.requests if r[0] == "GET" and r[1] != "/api/v1"]


def test_guard_refuses_someone_elses_object_among_many_and_writes_nothing(fake):
    mine = [dict(NS, metadata=dict(NS["metadata"], labels=OWNED))] + _cms(12, OWNED)
    fake.apply([mine[0], dict(_cms(12)[5], data={"user": "data"})])
    for check_mode in (True, False):
        result = fake.apply(mine, check_mode=check_mode, diff=True, guard=True, owner_role="test_client")
        assert result["failed"] is True
        assert result["msg"].startswith("test_client refuses to take over ConfigMap mesh-test/cm-05: it exists without "
                                        "the label app.kubernetes.io/managed-by=homelab.istio_egress")
        # Not a write, not even a dry-run: the call was judged before any.
        assert fake.writes == [] and not [r for r in fake.requests if r[0] == "PATCH"]
        assert result["objects"] == [] and result["changed"] is False
        assert [e["action"] for e in result["plan"]["entries"]] == ["unchanged"] + ["create"] * 5 + ["refuse"] + \
            ["create"] * 6
        assert result["diff"][0]["prepared"].startswith("test_client would create ConfigMap mesh-test/cm-00")


def test_guard_adopts_when_asked_and_warns(fake):
    fake.apply([NS, dict(CM, data={"user": "data"})])
    result = fake.apply([dict(CM, metadata=dict(CM["metadata"], labels=OWNED))], guard=True, adopt=True)
    assert _actions(result) == ["updated"] and fake.writes == ["/api/v1/namespaces/mesh-test/configmaps/cm"]
    assert result["msg"] == ("cluster_apply would adopt (take over, not labelled by the collection) "
                             "ConfigMap mesh-test/cm.")
    assert result["warnings"] == [result["msg"]]
    again = fake.apply([dict(CM, metadata=dict(CM["metadata"], labels=OWNED))], guard=True)
    assert _actions(again) == ["unchanged"] and "warnings" not in again
    assert again["msg"] == "cluster_apply leaves unchanged ConfigMap mesh-test/cm."


def test_without_guard_someone_elses_object_is_applied_as_before(fake):
    fake.apply([NS, CM])
    result = fake.apply([dict(CM, data={"k": "2"})])
    assert _actions(result) == ["updated"] and "plan" not in result and "msg" not in result


def test_many_objects_of_one_kind_are_read_with_one_list(fake):
    fake.apply([NS] + _cms(3))
    result = fake.apply([NS] + _cms(10))
    assert _actions(result) == ["unchanged"] + ["unchanged"] * 3 + ["created"] * 7
    assert _gets(fake) == ["/api/v1/namespaces/mesh-test", "/api/v1/namespaces/mesh-test/configmaps?limit=500"]
    # Fewer than LIST_MIN of the kind: a GET each.
    fake.apply([NS] + _cms(2))
    assert _gets(fake) == ["/api/v1/namespaces/mesh-test", "/api/v1/namespaces/mesh-test/configmaps/cm-00",
                           "/api/v1/namespaces/mesh-test/configmaps/cm-01"]


def test_a_list_not_read_to_its_end_proves_no_absence(fake, monkeypatch):
    from ansible_collections.homelab.istio_egress.plugins.module_utils import kube_rest, kube_rest_apply
    fake.apply([NS] + _cms(10))
    monkeypatch.setattr(kube_rest, "PAGE_LIMIT", 2)
    monkeypatch.setattr(kube_rest_apply, "LIST_MAX_PAGES", 2)
    wanted = _cms(10) + [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "zz", "namespace": "mesh-test"}}]
    result = fake.apply(wanted, check_mode=True)
    assert _actions(result) == ["unchanged"] * 10 + ["created"]
    gets = _gets(fake)
    lists = [g for g in gets if "configmaps?" in g]
    assert lists == ["/api/v1/namespaces/mesh-test/configmaps?limit=2",
                     "/api/v1/namespaces/mesh-test/configmaps?limit=2&continue=2"]
    # cm-00..03 were seen in the two pages; every other object is read by name, the absent one too.
    assert sorted(g.rsplit("/", 1)[1] for g in gets if "?" not in g) == ["cm-%02d" % n for n in range(4, 10)] + ["zz"]


def test_the_pool_writes_in_parallel_and_reports_in_order(fake):
    result = fake.apply([NS] + _cms(12), diff=True)
    assert _actions(result) == ["created"] * 13
    assert [o["name"] for o in result["objects"]] == ["mesh-test"] + ["cm-%02d" % n for n in range(12)]
    assert [d["after_header"] for d in result["diff"]][:2] == ["Namespace mesh-test (applied)",
                                                               "ConfigMap mesh-test/cm-00 (applied)"]
    # The Namespace first, before any object in it.
    assert fake.writes[0] == "/api/v1/namespaces/mesh-test" and len(fake.writes) == 13
    # discovery, the Namespace's GET (absent: its objects are not read), its create, 12 creates
    assert result["requests"] == 1 + 1 + 1 + 12


def test_the_pool_reports_the_first_failure_and_what_was_applied(fake):
    fake.apply([NS])
    fake.deny["/api/v1/namespaces/mesh-test/configmaps/cm-07"] = (400, WEBHOOK)
    fake.deny["/api/v1/namespaces/mesh-test/configmaps/cm-09"] = (400, WEBHOOK)
    result = fake.apply([NS] + _cms(12))
    assert result["failed"] is True and result["cause"] == WEBHOOK
    assert result["msg"].startswith("ConfigMap mesh-test/cm-07 (objects[8]): applying failed: %s; already applied: "
                                    "Namespace mesh-test (unchanged)" % WEBHOOK)
    assert result["msg"].endswith("(the objects not listed were not applied)")
    applied = [o["name"] for o in result["objects"]]
    assert "cm-07" not in applied and "cm-09" not in applied and applied[1:] == sorted(applied[1:])
    assert all(path in fake.writes for path in ("/api/v1/namespaces/mesh-test/configmaps/%s" % n for n in applied[1:]))
