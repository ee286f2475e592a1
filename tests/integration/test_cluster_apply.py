# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""homelab.istio_egress.cluster_apply (docs/cluster_apply.md) against the local plane's real
kube-apiserver and istiod's validating webhook.

- create -> changed; re-apply -> unchanged with no write (resourceVersion unchanged);
- a field change -> updated, and --diff shows that change and none of the server-written fields;
- check mode writes nothing, and reports an object in a namespace that does not exist yet;
- an invalid VirtualService gives istiod's webhook message, naming the object;
- a ServiceAccount that may read but not patch gets "forbidden: patch ...";
- objects created by kubernetes.core.k8s (client-side) are adopted without a write or a change;
- the module form (on a remote target) gives the same result as the action plugin;
- the ownership guard: someone else's ConfigMap among twelve objects of one call (read by LIST) is
  refused, in check mode and in a real run, and nothing of the call is written; with adopt it is
  taken over and labelled, and the writes go through the pool.
"""

import json
import os
import subprocess
import sys
import uuid

import pytest
from plane_helpers import REPO_ROOT, collections_path, run_playbook, service_account_kubeconfig

PLAYBOOK = os.path.join(REPO_ROOT, "tests", "integration", "playbooks", "cluster_apply.yml")


@pytest.fixture
def ns(plane):
    name = "apply-%s" % uuid.uuid4().hex[:8]
    yield name
    plane.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)


def _apply(plane, tmp_path, objects, check=False, diff=False, kubeconfig=None, context=None, **extra):
    out = tmp_path / ("result-%s.json" % uuid.uuid4().hex[:6])
    values = {"apply_objects": objects, "apply_out": str(out), "apply_kubeconfig": kubeconfig or plane.kubeconfig,
              "apply_context": context or plane.context}
    values.update(("apply_%s" % key, value) for key, value in extra.items())
    run = run_playbook(PLAYBOOK, values, check=check, diff=diff, timeout=300)
    assert out.exists(), run.summary()
    return json.loads(out.read_text()), run


def _objects(ns, data="1", replicas=1):
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"istio-injection": "enabled"}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": ns}, "data": {"k": data}},
        {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": "se", "namespace": ns},
         "spec": {"hosts": ["example.org"], "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
                  "resolution": "DNS"}},
    ]


def _versions(plane, ns):
    return {
        "ns": plane.kubectl_json("get", "namespace", ns)["metadata"]["resourceVersion"],
        "cm": plane.kubectl_json("get", "configmap", "cm", "-n", ns)["metadata"]["resourceVersion"],
        "se": plane.kubectl_json("get", "serviceentry.networking.istio.io", "se", "-n", ns)["metadata"]["resourceVersion"],
    }


def _actions(result):
    return [o["action"] for o in result["objects"]]


def test_create_rerun_without_write_then_update_with_diff(plane, tmp_path, ns):
    first, run = _apply(plane, tmp_path, _objects(ns))
    assert first["changed"] is True and _actions(first) == ["created"] * 3, run.summary()
    assert first["in_controller"] is True
    assert plane.kubectl_json("get", "configmap", "cm", "-n", ns)["data"] == {"k": "1"}
    managers = [m["manager"] for m in plane.kubectl_json("get", "configmap", "cm", "-n", ns,
                                                         "--show-managed-fields")["metadata"]["managedFields"]]
    assert managers == ["homelab.istio_egress"]
    before = _versions(plane, ns)

    second, run = _apply(plane, tmp_path, _objects(ns))
    assert second["changed"] is False and _actions(second) == ["unchanged"] * 3, run.summary()
    assert run.changed == 0
    assert _versions(plane, ns) == before  # nothing was written

    third, run = _apply(plane, tmp_path, _objects(ns, data="2"), diff=True)
    assert _actions(third) == ["unchanged", "updated", "unchanged"] and third["changed"] is True, run.summary()
    assert plane.kubectl_json("get", "configmap", "cm", "-n", ns)["data"] == {"k": "2"}
    assert len(third["diff"]) == 1 and third["diff"][0]["after_header"] == "ConfigMap %s/cm (applied)" % ns
    assert '-        "k": "1"' in run.stdout and '+        "k": "2"' in run.stdout, run.stdout
    for volatile in ("resourceVersion", "managedFields", "creationTimestamp", '"uid"', '"generation"'):
        assert volatile not in run.stdout.split("TASK [Write the result]")[0], volatile


def test_check_mode_writes_nothing_and_reports_new_namespace(plane, tmp_path, ns):
    result, run = _apply(plane, tmp_path, _objects(ns), check=True)
    assert result["changed"] is True and _actions(result) == ["created"] * 3, run.summary()
    assert "namespace %s does not exist yet" % ns in result["objects"][1]["note"]
    assert plane.kubectl("get", "namespace", ns, check=False).returncode != 0

    _apply(plane, tmp_path, _objects(ns))
    before = _versions(plane, ns)
    result, run = _apply(plane, tmp_path, _objects(ns, data="2"), check=True, diff=True)
    assert _actions(result) == ["unchanged", "updated", "unchanged"], run.summary()
    assert result["diff"][0]["after"]["data"] == {"k": "2"}
    assert _versions(plane, ns) == before
    assert plane.kubectl_json("get", "configmap", "cm", "-n", ns)["data"] == {"k": "1"}

    # A namespace that is not in the list and does not exist: the dry-run's 404, reported as created.
    other = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": ns + "-none"}}]
    result, run = _apply(plane, tmp_path, other, check=True)
    assert _actions(result) == ["created"] and "namespace %s-none does not exist yet" % ns in result["objects"][0]["note"]


def test_webhook_denial_names_object_and_gives_webhook_message(plane, tmp_path, ns):
    bad = {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "bad", "namespace": ns},
           "spec": {"hosts": ["*"], "http": [{"route": [{"destination": {"host": ""}}]}]}}
    result, run = _apply(plane, tmp_path, _objects(ns) + [bad])
    assert result["failed"] is True, run.summary()
    assert result["msg"].startswith("VirtualService %s/bad (objects[3]): " % ns)
    assert 'admission webhook "validation.istio.io" denied the request' in result["msg"]
    assert "already applied: Namespace %s (created), ConfigMap %s/cm (created)" % (ns, ns) in result["msg"]
    assert result["cause"].startswith('admission webhook "validation.istio.io" denied the request')
    assert plane.kubectl("get", "virtualservice.networking.istio.io", "bad", "-n", ns, check=False).returncode != 0


def test_forbidden_names_verb_resource_and_object(plane, tmp_path, ns):
    _apply(plane, tmp_path, _objects(ns))
    plane.kubectl("create", "serviceaccount", "reader", "-n", ns)
    plane.kubectl("create", "role", "read-cm", "-n", ns, "--verb=get", "--resource=configmaps")
    plane.kubectl("create", "rolebinding", "read-cm", "-n", ns, "--role=read-cm", "--serviceaccount=%s:reader" % ns)
    kubeconfig = service_account_kubeconfig(plane, tmp_path, ns, "reader")
    objects = [o for o in _objects(ns, data="3") if o["kind"] == "ConfigMap"]
    result, run = _apply(plane, tmp_path, objects, kubeconfig=kubeconfig, context="sa")
    assert result["failed"] is True, run.summary()
    assert result["cause"] == "forbidden: patch configmaps in namespace %s" % ns
    assert result["msg"] == ("ConfigMap %s/cm (objects[0]): the dry-run apply failed: forbidden: patch configmaps in "
                             "namespace %s; no object was applied before it (the objects after it were not applied)"
                             % (ns, ns))


ADOPT = """
- name: Create with kubernetes.core.k8s (client-side)
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Create
      kubernetes.core.k8s:
        kubeconfig: "{{ apply_kubeconfig }}"
        context: "{{ apply_context }}"
        definition: "{{ apply_objects }}"
        state: present
"""


def test_objects_created_by_kubernetes_core_are_adopted_without_change(plane, tmp_path, ns):
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc", "namespace": ns},
         "spec": {"selector": {"app": "x"}, "ports": [{"port": 80, "name": "http"}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "dep", "namespace": ns},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "x"}},
                  "template": {"metadata": {"labels": {"app": "x"}},
                               "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}}},
    ]
    playbook = tmp_path / "adopt.yml"
    playbook.write_text(ADOPT)
    run = run_playbook(str(playbook), {"apply_objects": objects, "apply_kubeconfig": plane.kubeconfig,
                                       "apply_context": plane.context})
    assert run.rc == 0 and run.changed == 1, run.summary()

    def versions():
        return [plane.kubectl_json("get", kind, name, "-n", ns)["metadata"]["resourceVersion"]
                for kind, name in (("service", "svc"), ("deployment", "dep"))]
    first, run = _apply(plane, tmp_path, objects)
    assert _actions(first) == ["unchanged"] * 3 and first["changed"] is False, run.summary()
    seen = versions()
    second, run = _apply(plane, tmp_path, objects)
    assert _actions(second) == ["unchanged"] * 3 and run.changed == 0, run.summary()
    assert versions() == seen


def test_module_form_gives_the_same_result(plane, tmp_path, ns):
    _apply(plane, tmp_path, _objects(ns))
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
        "objects": _objects(ns), "kubeconfig": plane.kubeconfig, "context": plane.context,
        "_ansible_check_mode": True}}))
    env = dict(os.environ, PYTHONPATH=collections_path())
    proc = subprocess.run([sys.executable, "-m", "ansible_collections.homelab.istio_egress.plugins.modules.cluster_apply",
                           str(args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          env=env, cwd=str(tmp_path), timeout=120, check=False)
    result = json.loads(proc.stdout)
    assert result["in_controller"] is False and result["changed"] is False, proc.stdout + proc.stderr
    assert _actions(result) == ["unchanged"] * 3


OWNED = {"app.kubernetes.io/managed-by": "homelab.istio_egress", "app.kubernetes.io/part-of": "istio-egress",
         "istio-egress.homelab/role": "test_client"}


def test_guard_refuses_someone_elses_object_among_many_and_writes_nothing(plane, tmp_path, ns):
    plane.kubectl("create", "namespace", ns)
    plane.kubectl("create", "configmap", "cm-05", "-n", ns, "--from-literal=user=data")
    user = plane.kubectl_json("get", "configmap", "cm-05", "-n", ns)
    objects = [{"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cm-%02d" % n, "namespace": ns, "labels": OWNED}, "data": {"k": str(n)}}
               for n in range(12)]

    def names():
        return sorted(c["metadata"]["name"] for c in plane.kubectl_json("get", "configmap", "-n", ns)["items"]
                      if c["metadata"]["name"].startswith("cm-"))

    refusal = ("test_client refuses to take over ConfigMap %s/cm-05: it exists without the label "
               "app.kubernetes.io/managed-by=homelab.istio_egress, so it was not created by this collection; "
               "nothing was changed." % ns)
    for check in (True, False):
        result, run = _apply(plane, tmp_path, objects, check=check, diff=check, guard=True, owner_role="test_client")
        assert result["failed"] is True and result["msg"].startswith(refusal), run.summary()
        assert "set test_client_adopt=true" in result["msg"]
        assert result["objects"] == [] and result["changed"] is False
        assert [e["action"] for e in result["plan"]["entries"]] == ["create"] * 5 + ["refuse"] + ["create"] * 6
        # Every other object of the call is still absent, and the user's is as it was.
        assert names() == ["cm-05"], run.summary()
        assert plane.kubectl_json("get", "configmap", "cm-05", "-n", ns)["metadata"]["resourceVersion"] == \
            user["metadata"]["resourceVersion"]

    # A manifest without the label is refused as input when the guard is on.
    result, run = _apply(plane, tmp_path, [dict(objects[0], metadata={"name": "cm-00", "namespace": ns})], guard=True)
    assert result["msg"].startswith("objects[0].metadata.labels is None: expected app.kubernetes.io/managed-by="), \
        run.summary()

    # adopt: the user's object is taken over (labelled), the others created, in the given order.
    result, run = _apply(plane, tmp_path, objects, diff=True, guard=True, adopt=True, owner_role="test_client")
    assert result.get("failed") is not True, run.summary()
    assert _actions(result) == ["created"] * 5 + ["updated"] + ["created"] * 6
    assert [o["name"] for o in result["objects"]] == ["cm-%02d" % n for n in range(12)]
    assert result["plan"]["entries"][5] == {"id": "ConfigMap %s/cm-05" % ns, "action": "adopt"}
    assert "would adopt (take over, not labelled by the collection) ConfigMap %s/cm-05" % ns in result["msg"]
    assert result["warnings"] == [result["msg"]]
    assert result["diff"][0] == {"prepared": result["msg"]}
    assert "test_client would create ConfigMap" in run.stdout, run.summary()
    adopted = plane.kubectl_json("get", "configmap", "cm-05", "-n", ns)
    assert adopted["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "homelab.istio_egress"
    # Server-side apply takes the fields it sets; the field kubectl create set stays (docs/cluster_apply.md Limits).
    assert adopted["data"] == {"k": "5", "user": "data"}
    assert names() == ["cm-%02d" % n for n in range(12)]

    # The re-run: one LIST instead of twelve GETs, twelve dry-runs, nothing written.
    again, run = _apply(plane, tmp_path, objects, guard=True, owner_role="test_client")
    assert _actions(again) == ["unchanged"] * 12 and again["changed"] is False, run.summary()
    unchanged = ", ".join("ConfigMap %s/cm-%02d" % (ns, n) for n in range(12))
    assert again["msg"] == "test_client leaves unchanged %s." % unchanged
    assert again["requests"] <= 1 + 1 + 12 + 1, again["requests"]
