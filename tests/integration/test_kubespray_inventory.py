# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml converges on the local plane with a kubespray inventory as the only inventory (issue 14).

The inventory is kubespray v2.26.0's real sample (tests/unit/roles/kubespray/, PROVENANCE.md),
copied into a temporary directory and edited only as a user would, and only here:

* ``inventory.ini``: one control-plane host (``node1``) is uncommented, as every real inventory
  has it. Nothing connects to it: the kubeconfig is the controller's (the plane's) and there is
  no Calico policy to push through its calicoctl. The kubespray lookup reads the cluster's
  variables as that host sees them (group_vars/k8s_cluster).
* ``group_vars/all/istio_egress.yml`` (new): the collection's own variables, which a user puts
  next to kubespray's: the plane's kubeconfig and context, the plane's gateway chart, no data
  plane (egress_verify_data_plane: false), and names no other test on the plane uses
  (namespace ``kubespray-mesh``, release ``kubespray-egressgateway``): the collection refuses to
  take over objects it did not create, so another test's leftovers must not be in the way.
  ``calico_policy_enabled: false``: the sample keeps ``kube_network_plugin: calico`` (so the
  collection would lock the namespace with a Calico policy), but the plane has no Calico at all
  (no Calico API server, no calicoctl: docs/dev/plane.md); this is the collection's documented
  switch for a cluster whose Calico it must not touch (README, calico_policy_enabled).
* ``cluster_name`` stays kubespray's ``cluster.local`` for the converge: the plane's istiod serves
  that domain (the gateway's real name is ``<release>.istio-system.svc.cluster.local``). Once the
  idempotence run has passed, one test changes it in the copy's ``k8s-cluster.yml`` and applies the
  routes again (``--tags egress``): the DestinationRule host and the VirtualService's hop 1 follow
  the inventory. The cleanup then removes those objects by name.

Then: ``ansible-playbook -i <copy>/inventory.ini playbooks/site.yml`` converges (failed=0), the
objects carry the inventory's cluster domain and the collection's names; a second run in the
installed-collection form (``homelab.istio_egress.site``) reports changed=0; ``playbooks/cleanup.yml``
with the same inventory removes everything the collection created. Skipped only when the plane
is not running (conftest.py).
"""

import os
import shutil

import pytest
import yaml
from plane_helpers import CLEANUP, SITE, gateway_chart, run_playbook

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "unit", "roles", "kubespray", "v2.26.0", "inventory", "sample")
NAMESPACE = "kubespray-mesh"
RELEASE = "kubespray-egressgateway"
GATEWAY_NS = "istio-system"
ROUTE_KINDS = ",".join("%s.networking.istio.io" % kind for kind in (
    "serviceentries", "gateways", "destinationrules", "virtualservices"))


def _edit(path, old, new):
    """Replace exactly one occurrence of ``old`` in the file (the edit must hit kubespray's text)."""
    with open(path) as handle:
        text = handle.read()
    assert text.count(old) == 1, "%r is not once in %s: kubespray's sample changed?" % (old, path)
    with open(path, "w") as handle:
        handle.write(text.replace(old, new))


@pytest.fixture(scope="module")
def inventory(plane, tmp_path_factory):
    """The edited copy of kubespray's v2.26.0 sample; its inventory.ini path."""
    base = tmp_path_factory.mktemp("kubespray")
    copy = str(base / "sample")
    shutil.copytree(SAMPLE, copy)
    ini = os.path.join(copy, "inventory.ini")
    # One control-plane host, as in every real inventory (kubespray's own sample line).
    _edit(ini, "# node1 ansible_host=95.54.0.12", "node1 ansible_host=95.54.0.12")
    _edit(ini, "[kube_control_plane]\n# node1", "[kube_control_plane]\nnode1")
    own = {
        # --- the plane (hack/plane): the controller's kubeconfig, no SSH ---
        "istio_egress_kubeconfig": plane.kubeconfig,
        "istio_egress_context": plane.context,
        "egress_gateway_chart_path": gateway_chart(),
        "egress_gateway_chart_version": "1.30.0-9739e10e",
        "egress_gateway_wait_timeout": "180s",
        # --- names of this test only ---
        "test_client_namespace": NAMESPACE,
        "egress_gateway_release_name": RELEASE,
        "egress_gateway_labels": {"istio": RELEASE},
        "istio_egress_cleanup_gateway": True,
        # --- no Calico on the plane (kube_network_plugin stays calico) ---
        "calico_policy_enabled": False,
        # --- no data plane: the traffic checks are "not run", never passed ---
        "egress_verify_data_plane": False,
        "egress_verify_report_dir": str(base / "reports"),
    }
    with open(os.path.join(copy, "group_vars", "all", "istio_egress.yml"), "w") as handle:
        handle.write("---\n# The collection's variables, next to kubespray's (the local plane).\n")
        yaml.safe_dump(own, handle, default_flow_style=False, sort_keys=False)
    return ini


def _destination_rule(plane):
    items = plane.kubectl_json("get", "destinationrules.networking.istio.io", "-n", NAMESPACE)["items"]
    assert len(items) == 1, [i["metadata"]["name"] for i in items]
    return items[0]


@pytest.fixture(scope="module")
def converged(plane, inventory):
    run = run_playbook(SITE, {}, inventory=inventory, timeout=600)
    state = {"run": run, "cleaned": False}
    yield state
    if not state["cleaned"]:  # a test failed before the cleanup test: leave the plane clean anyway
        run_playbook(CLEANUP, {}, inventory=inventory, timeout=600)


def test_site_converges_from_the_kubespray_inventory(plane, converged):
    run = converged["run"]
    assert run.rc == 0 and run.failed == 0 and run.recap, run.summary()
    assert run.changed > 0, run.summary()  # it created the objects (a fresh namespace)
    assert "calico_policy_enabled is false" in run.stdout, run.summary()
    dr = _destination_rule(plane)
    # The cluster domain is kubespray's cluster_name (k8s-cluster.yml), the release is the collection's.
    assert dr["spec"]["host"] == "%s.%s.svc.cluster.local" % (RELEASE, GATEWAY_NS), dr["spec"]
    assert dr["metadata"]["labels"]["app.kubernetes.io/managed-by"], dr["metadata"]
    kinds = {i["kind"] for i in plane.kubectl_json("get", ROUTE_KINDS, "-n", NAMESPACE)["items"]}
    assert kinds == {"ServiceEntry", "Gateway", "DestinationRule", "VirtualService"}, kinds
    assert plane.kubectl_json("get", "sidecars.networking.istio.io", "default", "-n", NAMESPACE)[
        "spec"]["outboundTrafficPolicy"]["mode"] == "REGISTRY_ONLY"
    service = plane.kubectl_json("get", "service", RELEASE, "-n", GATEWAY_NS)
    assert service["spec"]["selector"]["istio"] == RELEASE, service["spec"]


def test_second_run_installed_collection_form_changes_nothing(converged, inventory):
    assert converged["run"].rc == 0, "did not converge"
    run = run_playbook("homelab.istio_egress.site", {}, inventory=inventory, timeout=600)
    assert run.rc == 0 and run.failed == 0 and run.recap, run.summary()
    assert run.changed == 0, run.summary()


def test_cluster_name_from_the_inventory_reaches_the_destination_rule(plane, converged, inventory):
    """Another cluster_name in kubespray's k8s-cluster.yml: the routes are rendered with that domain."""
    assert converged["run"].rc == 0, "did not converge"
    k8s_cluster = os.path.join(os.path.dirname(inventory), "group_vars", "k8s_cluster", "k8s-cluster.yml")
    _edit(k8s_cluster, "\ncluster_name: cluster.local\n", "\ncluster_name: homelab.example\n")
    try:
        run = run_playbook(SITE, {}, inventory=inventory, tags=["egress"], timeout=300)
    finally:
        _edit(k8s_cluster, "\ncluster_name: homelab.example\n", "\ncluster_name: cluster.local\n")
    assert run.rc == 0 and run.failed == 0, run.summary()
    # One task changed: the routes apply (the DR names the gateway host, so does the VS hop 1).
    assert run.changed == 1, run.summary()
    host = "%s.%s.svc.homelab.example" % (RELEASE, GATEWAY_NS)
    assert _destination_rule(plane)["spec"]["host"] == host
    vs = plane.kubectl_json("get", "virtualservices.networking.istio.io", "-n", NAMESPACE)["items"]
    hops = [r["destination"]["host"] for v in vs for t in v["spec"]["tls"] for r in t["route"]]
    assert host in hops, hops
    # The plane's istiod serves cluster.local: this DR names no real host. The cleanup below removes
    # it by name, as it removes everything the collection created.


def test_cleanup_with_the_same_inventory(plane, converged, inventory):
    run = run_playbook(CLEANUP, {}, inventory=inventory, timeout=600)
    converged["cleaned"] = True
    assert run.rc == 0 and run.failed == 0, run.summary()
    assert plane.helm("status", RELEASE, "-n", GATEWAY_NS, check=False).returncode != 0, "release left"
    ns = plane.kubectl("get", "namespace", NAMESPACE, "-o", "json", check=False)
    assert ns.returncode != 0 or '"deletionTimestamp"' in ns.stdout, "namespace %s left" % NAMESPACE
    left = plane.kubectl("get", "telemetries.telemetry.istio.io", "-n", GATEWAY_NS, "-o", "name", check=False)
    assert RELEASE not in left.stdout, left.stdout
