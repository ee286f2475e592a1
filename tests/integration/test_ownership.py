# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ownership on a shared cluster, on the local plane (issue 12): the collection never changes or
deletes what it did not create.

- a user's namespace with a user's Deployment, Gateway ``istio-egressgateway`` and Sidecar
  ``default``: converge refuses the Gateway (its ``servers`` stay), shows the adoption in
  ``--check --diff``, adopts it only with ``egress_routes_adopt``; REGISTRY_ONLY is never merged
  into the user's Sidecar; cleanup removes only labelled objects and keeps the namespace;
- enforcement on a cluster without a Ready gateway is refused before any change;
- a namespace the collection created keeps living while a user's object is in it;
- the L3 probe pod: a user's pod of that name is never touched, a left-over probe is replaced.

Before the fix each of these changed or deleted the user's objects. Names are this module's own
(``own-*``), so the other integration tests and the Molecule scenario are not affected.
"""

import json
import os
import time

import pytest
from plane_helpers import CLEANUP, REPO_ROOT, SITE, plane_vars, run_playbook

NS = "own-mesh-test"
KEEP_NS = "own-keep"
RELEASE = "own-egressgateway"
LABELS = {"istio": RELEASE}
OWNED = "app.kubernetes.io/managed-by"
L3_PLAYBOOK = os.path.join(REPO_ROOT, "tests", "integration", "playbooks", "l3_probe.yml")


def _apply(plane, *docs):
    plane.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(docs)}))


def _get(plane, *args):
    proc = plane.kubectl("get", *(list(args) + ["-o", "json"]), check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def _user_objects(namespace):
    """A user's namespace (injection on, no ownership labels) with objects of the collection's names."""
    return [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": namespace, "labels": {"istio-injection": "enabled", "team": "web"}}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": namespace},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                  "template": {"metadata": {"labels": {"app": "web"}},
                               "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}},
        {"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
         "metadata": {"name": "istio-egressgateway", "namespace": namespace},
         "spec": {"selector": {"istio": "user-gateway"},
                  "servers": [{"port": {"number": 443, "name": "tls", "protocol": "TLS"},
                               "hosts": ["user.example.org"], "tls": {"mode": "PASSTHROUGH"}}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "Sidecar", "metadata": {"name": "default", "namespace": namespace},
         "spec": {"outboundTrafficPolicy": {"mode": "ALLOW_ANY"}}},
    ]


def _fatal_messages(run):
    return " | ".join(msg for _task, msg in run.fatal)


def _wait_gone(plane, namespaces, timeout=180):
    """Namespaces of an earlier run may still be Terminating: objects cannot be created in them."""
    deadline = time.time() + timeout
    while any(_get(plane, "namespace", ns) is not None for ns in namespaces):
        assert time.time() < deadline, "namespaces %s still exist after %ss" % (namespaces, timeout)
        time.sleep(2)


ALL_NS = (NS, KEEP_NS, "own-enforce", "own-probe")


@pytest.fixture(scope="module")
def own_vars(plane, tmp_path_factory):
    _wait_gone(plane, ALL_NS)
    values = plane_vars(plane.work, str(tmp_path_factory.mktemp("ownership")))
    values.update({"test_client_namespace": NS, "egress_gateway_release_name": RELEASE,
                   "egress_gateway_labels": LABELS, "istio_egress_cleanup_gateway": True})
    yield values
    run_playbook(CLEANUP, values, timeout=400)
    run_playbook(CLEANUP, dict(values, test_client_namespace=KEEP_NS), timeout=300)
    for namespace in ALL_NS:
        plane.kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false", check=False)
    _wait_gone(plane, ALL_NS)


def test_user_objects_are_refused_adopted_only_when_asked_and_kept_by_cleanup(plane, own_vars):
    _apply(plane, *_user_objects(NS))
    before = _get(plane, "gateway", "-n", NS, "istio-egressgateway")

    # Converge up to the routes: the user's Gateway is refused before egress_routes changes anything.
    run = run_playbook(SITE, own_vars, tags=["gateway", "apps", "egress"], timeout=600)
    assert run.rc != 0, run.summary()
    assert ("egress_routes refuses to take over Gateway own-mesh-test/istio-egressgateway: it exists without the "
            "label app.kubernetes.io/managed-by=homelab.istio_egress") in _fatal_messages(run), run.summary()
    after = _get(plane, "gateway", "-n", NS, "istio-egressgateway")
    assert after["spec"] == before["spec"] and after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert _get(plane, "serviceentry", "-n", NS, "httpbin-ext") is None, "a ServiceEntry was created before the refusal"
    # The user's namespace was used, not relabelled.
    namespace = _get(plane, "namespace", NS)
    assert OWNED not in namespace["metadata"].get("labels", {}), namespace["metadata"]

    # --check --diff says exactly what an adoption would do, and changes nothing.
    run = run_playbook(SITE, dict(own_vars, egress_routes_adopt=True), tags=["egress"], check=True, diff=True)
    assert run.rc == 0, run.summary()
    assert ("egress_routes would create ServiceEntry own-mesh-test/httpbin-ext, DestinationRule "
            "own-mesh-test/egressgateway-for-httpbin, VirtualService own-mesh-test/direct-httpbin-through-egress; "
            "would adopt (take over, not labelled by the collection) Gateway own-mesh-test/istio-egressgateway."
            ) in run.stdout, run.summary()
    assert _get(plane, "gateway", "-n", NS, "istio-egressgateway")["spec"] == before["spec"]

    # Adopted on request: the Gateway becomes the collection's (labels, its servers).
    run = run_playbook(SITE, dict(own_vars, egress_routes_adopt=True), tags=["egress"], timeout=300)
    assert run.rc == 0, run.summary()
    adopted = _get(plane, "gateway", "-n", NS, "istio-egressgateway")
    assert adopted["metadata"]["labels"][OWNED] == "homelab.istio_egress"

    # REGISTRY_ONLY is never merged into the user's Sidecar.
    sidecar = _get(plane, "sidecar", "-n", NS, "default")
    run = run_playbook(SITE, own_vars, tags=["enforce"], timeout=300)
    assert run.rc != 0, run.summary()
    assert "registry_only refuses to take over Sidecar own-mesh-test/default" in _fatal_messages(run), run.summary()
    assert _get(plane, "sidecar", "-n", NS, "default")["spec"] == sidecar["spec"]

    # Cleanup: the collection's objects go; the user's Sidecar, Deployment and namespace stay.
    run = run_playbook(CLEANUP, own_vars, tags=["egress", "enforce", "apps"], timeout=400)
    assert run.rc == 0, run.summary()
    assert "Kept namespace own-mesh-test: it was not created by this collection" in run.stdout, run.summary()
    assert ("registry_only keeps (not labelled app.kubernetes.io/managed-by=homelab.istio_egress) Sidecar "
            "own-mesh-test/default") in run.stdout, run.summary()
    assert _get(plane, "sidecar", "-n", NS, "default")["spec"] == sidecar["spec"]
    assert _get(plane, "deployment", "-n", NS, "web") is not None
    assert _get(plane, "namespace", NS) is not None
    assert _get(plane, "deployment", "-n", NS, "sleep") is None
    assert _get(plane, "gateway", "-n", NS, "istio-egressgateway") is None, "the adopted Gateway is the collection's"


def test_enforcement_without_a_ready_gateway_is_refused(plane, own_vars):
    namespace = "own-enforce"
    _apply(plane, {"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": namespace, "labels": {"istio-injection": "enabled"}}})
    values = dict(own_vars, test_client_namespace=namespace, egress_gateway_labels={"istio": "own-no-gateway"})
    run = run_playbook(SITE, values, tags=["enforce"], timeout=300)
    assert run.rc != 0, run.summary()
    assert ("registry_only would cut egress off: " in _fatal_messages(run)
            and "no Ready egress gateway pod with labels istio=own-no-gateway in namespace istio-system"
            in _fatal_messages(run)), run.summary()
    assert run.changed == 0, run.summary()
    assert _get(plane, "sidecar", "-n", namespace, "default") is None


def test_collection_namespace_with_a_user_object_is_kept(plane, own_vars):
    values = dict(own_vars, test_client_namespace=KEEP_NS)
    run = run_playbook(SITE, values, tags=["apps"], timeout=300)
    assert run.rc == 0, run.summary()
    assert _get(plane, "namespace", KEEP_NS)["metadata"]["labels"][OWNED] == "homelab.istio_egress"
    _apply(plane, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "user-data", "namespace": KEEP_NS},
                   "data": {"k": "v"}})

    run = run_playbook(CLEANUP, values, tags=["apps"], timeout=300)
    assert run.rc == 0, run.summary()
    assert ("Kept namespace own-keep: it holds objects the collection did not create (ConfigMap user-data)"
            in run.stdout), run.summary()
    assert _get(plane, "configmap", "-n", KEEP_NS, "user-data") is not None

    plane.kubectl("delete", "configmap", "-n", KEEP_NS, "user-data")
    run = run_playbook(CLEANUP, values, tags=["apps"], timeout=300)
    assert run.rc == 0, run.summary()
    assert _get(plane, "namespace", KEEP_NS) is None


def _probe_pod(namespace, labels):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "egress-verify-l3-probe", "namespace": namespace, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"]}]}}


def test_l3_probe_never_touches_a_user_pod_and_replaces_a_left_over(plane, own_vars):
    namespace = "own-probe"
    _apply(plane, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    values = dict(own_vars, egress_verify_client_namespace=namespace)

    _apply(plane, _probe_pod(namespace, {"app": "user"}))
    user = _get(plane, "pod", "-n", namespace, "egress-verify-l3-probe")
    run = run_playbook(L3_PLAYBOOK, values, timeout=300)
    assert run.rc == 0, run.summary()
    assert ("L3 ERROR: Pod own-probe/egress-verify-l3-probe exists and was not created by this collection"
            in run.stdout), run.summary()
    still = _get(plane, "pod", "-n", namespace, "egress-verify-l3-probe")
    assert still["metadata"]["uid"] == user["metadata"]["uid"]
    assert still["metadata"]["resourceVersion"] == user["metadata"]["resourceVersion"]
    plane.kubectl("delete", "pod", "-n", namespace, "egress-verify-l3-probe", "--grace-period=0", "--force")

    # A probe left by an interrupted run (the collection's labels) is removed and the check runs.
    _apply(plane, _probe_pod(namespace, {OWNED: "homelab.istio_egress", "app.kubernetes.io/part-of": "istio-egress",
                                         "istio-egress.homelab/role": "egress_verify"}))
    run = run_playbook(L3_PLAYBOOK, values, timeout=300)
    assert run.rc == 0, run.summary()
    assert "exists and was not created by this collection" not in run.stdout, run.summary()
    assert "TASK [homelab.istio_egress.egress_verify : L3 lock - direct call from the pod without sidecar" \
        in run.stdout, run.summary()
    assert _get(plane, "pod", "-n", namespace, "egress-verify-l3-probe") is None, "the probe outlived the check"
