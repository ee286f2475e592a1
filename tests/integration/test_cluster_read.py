# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_read on the plane's real kube-apiserver (docs/cluster_read.md).

Reads by name and selector, a kind that is not served, discovery, waits met and not met, the
causes of a 401 (a bad token), a 403 (a ServiceAccount without rights, token minted as
test_rbac.py does) and a timeout (a silent server), module_defaults reaching the action plugin,
a kubeconfig user with an exec plugin (the kubernetes client's loader), and the module form
(_execute_module) through a connection that is not local
(tests/unit/plugins/action/connection_plugins/local_relay.py).
"""

import json
import os
import subprocess
import sys

import pytest
from plane_helpers import SilentServer, ansible_playbook, collections_path, plane_kubeconfig, write_kubeconfig

HERE = os.path.dirname(os.path.abspath(__file__))
# The test connection plugin "local_relay", shared with the unit tests of the action plugins.
RELAY_PLUGINS = os.path.join(HERE, "..", "unit", "plugins", "action", "connection_plugins")

NS = "cluster-read-test"


def _play(tmp_path, tasks, module_defaults=None, hosts="localhost", inventory="localhost,", extra_env=None):
    play = {"hosts": hosts, "gather_facts": False, "tasks": tasks}
    if hosts == "localhost":
        play["connection"] = "local"
    if module_defaults is not None:
        play["module_defaults"] = {"group/homelab.istio_egress.istio_egress": module_defaults}
    path = tmp_path / "play.yml"
    path.write_text(json.dumps([play]))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_NOCOLOR="1",
               ANSIBLE_CONNECTION_PLUGINS=RELAY_PLUGINS,
               ANSIBLE_COLLECTIONS_PATH=collections_path(), HOME=str(tmp_path))
    env.pop("KUBECONFIG", None)  # the connection must come from the task or its module_defaults
    env.update(extra_env or {})
    proc = subprocess.run([ansible_playbook(), "-i", inventory, str(path), "-e",
                           json.dumps({"ansible_python_interpreter": sys.executable})],
                          capture_output=True, text=True, env=env, timeout=240, check=False)
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        pytest.fail("no JSON output (rc %s): %s %s" % (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
    results = {}
    for task in doc["plays"][0]["tasks"]:
        for host, result in task["hosts"].items():
            results.setdefault(task["task"]["name"], {})[host] = result
    return results


def _read(name, **args):
    return {"name": name, "homelab.istio_egress.cluster_read": args, "ignore_errors": True}


def _kubeconfig(tmp_path, plane, user, name="kc"):
    return plane_kubeconfig(plane, tmp_path / name, user)


@pytest.fixture(scope="module")
def objects(plane):
    # a namespace left Terminating by an earlier run must be gone before it is created again
    plane.kubectl("wait", "--for=delete", "namespace/%s" % NS, "--timeout=120s", check=False, timeout=150)
    plane.kubectl("create", "namespace", NS)
    plane.kubectl("create", "serviceaccount", "reader", "-n", NS, check=False)
    plane.kubectl("create", "serviceaccount", "nobody", "-n", NS, check=False)
    plane.kubectl("create", "rolebinding", "reader-view", "--clusterrole=view", "--serviceaccount=%s:reader" % NS,
                  "-n", NS, check=False)
    plane.kubectl("create", "configmap", "one", "-n", NS, "--from-literal=a=b", check=False)
    plane.kubectl("label", "configmap", "one", "-n", NS, "app=sleep", "--overwrite")
    plane.kubectl("create", "configmap", "two", "-n", NS, "--from-literal=a=b", check=False)
    yield {"reader": plane.kubectl("create", "token", "reader", "-n", NS, "--duration", "1h").stdout.strip(),
           "nobody": plane.kubectl("create", "token", "nobody", "-n", NS, "--duration", "1h").stdout.strip()}
    plane.kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=false", check=False)


def test_reads_discovery_and_module_defaults(plane, objects, tmp_path):
    conn = {"kubeconfig": plane.kubeconfig, "context": plane.context}
    tasks = [_read("read", discovery=True, queries={
        "by_name": {"api_version": "v1", "kind": "ConfigMap", "namespace": NS, "name": "one"},
        "missing": {"api_version": "v1", "kind": "ConfigMap", "namespace": NS, "name": "three"},
        "selected": {"api_version": "v1", "kind": "ConfigMap", "namespace": NS, "label_selectors": ["app=sleep"]},
        "fields": {"api_version": "v1", "kind": "ConfigMap", "namespace": NS, "field_selectors": ["metadata.name=two"]},
        "ns": {"api_version": "v1", "kind": "Namespace", "name": NS},
        "not_served": {"api_version": "example.homelab/v1", "kind": "Widget"},
        "kind_not_served": {"api_version": "apps/v1", "kind": "Widget", "namespace": NS}})]
    r = _play(tmp_path, tasks, module_defaults=conn)["read"]["localhost"]
    assert not r.get("failed"), r
    assert r["in_controller"] is True and r["changed"] is False, r
    # module_defaults reached the action plugin: HOME and KUBECONFIG hold no other kubeconfig
    assert r["connection"] == {"server": plane.apiserver, "context": plane.context}
    res = r["results"]
    assert [o["metadata"]["name"] for o in res["by_name"]["resources"]] == ["one"]
    assert res["by_name"]["resources"][0]["kind"] == "ConfigMap"
    assert res["missing"] == {"served": True, "resources": []}
    assert [o["metadata"]["name"] for o in res["selected"]["resources"]] == ["one"]
    assert [o["metadata"]["name"] for o in res["fields"]["resources"]] == ["two"]
    assert res["ns"]["resources"][0]["apiVersion"] == "v1"
    assert res["not_served"] == {"served": False, "resources": []}
    assert res["kind_not_served"] == {"served": False, "resources": []}
    assert r["apis"]["v1"]["Pod"]["namespaced"] is True and r["apis"]["apps/v1"]["Deployment"]["name"] == "deployments"
    assert "Sidecar" in r["apis"]["networking.istio.io/v1"]
    assert r["server_version"]["gitVersion"].startswith("v1.")


def test_without_module_defaults_no_connection(plane, objects, tmp_path):
    """The control of the test above: without module_defaults there is no kubeconfig to read."""
    r = _play(tmp_path, [_read("read", queries={"ns": {"api_version": "v1", "kind": "Namespace", "name": NS}})])
    r = r["read"]["localhost"]
    assert r["failed"] and "kubeconfig problem" in r["cause"], r


def test_waits(plane, objects, tmp_path):
    conn = {"kubeconfig": plane.kubeconfig, "context": plane.context}
    dep = {"api_version": "apps/v1", "kind": "Deployment", "namespace": "istio-system", "name": "istiod"}
    tasks = [_read("met", queries={"dep": dict(dep, wait_condition={"type": "Available"}, wait_timeout=60)}),
             _read("not_met", queries={"dep": dict(dep, wait_condition={"type": "Available", "status": "False"},
                                                   wait_timeout=2, wait_sleep=0.5)})]
    out = _play(tmp_path, tasks, module_defaults=conn)
    met = out["met"]["localhost"]
    assert met["results"]["dep"]["wait_met"] is True and met["results"]["dep"]["waited"] >= 0, met
    not_met = out["not_met"]["localhost"]
    assert not_met["failed"]
    assert not_met["msg"].startswith("query dep: Deployment istio-system/istiod did not reach condition "
                                     "Available=False within the wait_timeout of 2 s (last observed: Available=True")


def test_401_403_and_exec_plugin(plane, objects, tmp_path):
    query = {"cms": {"api_version": "v1", "kind": "ConfigMap", "namespace": NS}}
    script = tmp_path / "exec-credential"
    script.write_text("#!%s\nimport json\nprint(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', "
                      "'kind': 'ExecCredential', 'status': {'token': %r}}))\n" % (sys.executable, objects["reader"]))
    os.chmod(str(script), 0o755)
    tasks = [
        _read("bad_token", kubeconfig=_kubeconfig(tmp_path, plane, {"token": "not-a-token"}, "bad"), queries=query),
        _read("forbidden", kubeconfig=_kubeconfig(tmp_path, plane, {"token": objects["nobody"]}, "nobody"),
              queries=query),
        _read("exec", kubeconfig=_kubeconfig(tmp_path, plane, {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": str(script),
            "interactiveMode": "Never"}}, "exec"), queries=query)]
    out = _play(tmp_path, tasks)
    bad = out["bad_token"]["localhost"]
    assert bad["failed"] and bad["cause"].startswith("credentials rejected (401 Unauthorized"), bad
    assert bad["msg"].startswith("cms: reading")
    forbidden = out["forbidden"]["localhost"]
    assert forbidden["failed"] and forbidden["cause"] == "forbidden: list configmaps in namespace %s" % NS, forbidden
    # the exec plugin's ServiceAccount token (view in NS) was used: the read works
    exec_result = out["exec"]["localhost"]
    assert not exec_result.get("failed"), exec_result
    assert {"one", "two"} <= {o["metadata"]["name"] for o in exec_result["results"]["cms"]["resources"]}


def test_silent_server_times_out(tmp_path):
    silent = SilentServer()
    try:
        kubeconfig = write_kubeconfig(tmp_path / "silent", silent.url, {"token": "synthetic"}, context="s",
                                      cluster={"insecure-skip-tls-verify": True})
        out = _play(tmp_path, [_read("read", kubeconfig=kubeconfig, timeout=2, discovery=True)])
    finally:
        silent.close()
    r = out["read"]["localhost"]
    assert r["failed"] and r["cause"].startswith("no answer within 2s"), r


def test_module_form_on_a_connection_that_is_not_local(plane, objects, tmp_path):
    """A non-local connection gets the module (AnsiballZ through _execute_module), same result."""
    inventory = tmp_path / "hosts"
    inventory.write_text("relay ansible_connection=local_relay\n")
    conn = {"kubeconfig": plane.kubeconfig, "context": plane.context}
    query = {"one": {"api_version": "v1", "kind": "ConfigMap", "namespace": NS, "name": "one"}}
    out = _play(tmp_path, [_read("remote", queries=query), dict(_read("delegated", queries=query),
                                                                delegate_to="localhost"),
                           _read("bad", queries={"x": {"api_version": "v1", "kind": "configmap"}})],
                module_defaults=conn, hosts="relay", inventory=str(inventory))
    remote = out["remote"]["relay"]
    assert not remote.get("failed"), remote
    assert remote["in_controller"] is False and remote["results"]["one"]["resources"][0]["metadata"]["name"] == "one"
    assert out["delegated"]["relay"]["in_controller"] is True
    bad = out["bad"]["relay"]
    assert bad["failed"] and bad["msg"] == ("queries.x.kind is 'configmap': expected a Kind such as Deployment "
                                            "(CamelCase, as in manifests)"), bad


def test_bad_option_is_one_sentence_in_the_controller(plane, tmp_path):
    out = _play(tmp_path, [_read("typo", timeuot=3), _read("type", discovery="sometimes")])
    typo = out["typo"]["localhost"]
    assert typo["failed"] and "timeuot" in typo["msg"] and "Traceback" not in json.dumps(typo), typo
    assert out["type"]["localhost"]["failed"] and "discovery" in out["type"]["localhost"]["msg"]
