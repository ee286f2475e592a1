# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults on the local plane: the collection's playbooks must fail early and say how, or recover.

- a wrong kube context fails in the first role's preflight, before any change;
- a gateway chart version ahead of istiod is refused before any change;
- a Helm release left ``pending-upgrade`` by a killed ``helm upgrade``: the egress_gateway role
  refuses while the record is young (and says how to proceed), removes it once it is stale and
  the gateway Deployment is settled;
- kube-apiserver killed during a converge and restarted the way ``hack/plane/up`` does: the
  interrupted run fails, a re-run converges;
- an Istio CRD missing: preflight names the API and how to install the CRDs (run last; the
  CRD is recreated from its own saved definition afterwards).

Everything runs with the Molecule scenario's plane variables (plane_helpers.plane_vars) and its
own names (namespace ``fault-mesh-test``, release ``fault-egressgateway``), so it never touches
what the other integration tests or the scenario create. Skipped only when the plane is not
running (the ``plane`` fixture of conftest.py).
"""

import json
import re
import subprocess
import time

import pytest
from plane_helpers import (
    CLEANUP,
    SITE,
    gateway_chart,
    kill_component,
    plane_up,
    plane_vars,
    run_playbook,
)

FAULT_NS = "fault-mesh-test"
FAULT_RELEASE = "fault-egressgateway"
ISTIO_NS = "istio-system"
TELEMETRY_CRD = "telemetries.telemetry.istio.io"
# One task holds every refusal about the cluster of the egress_gateway preflight (issue 15: fewer tasks).
GATEWAY_CLUSTER_CHECK = (
    "homelab.istio_egress.egress_gateway : Check the Istio APIs this role writes are served, istiod runs and the "
    "gateway is not ahead of it")


@pytest.fixture(scope="module")
def fault_vars(plane, tmp_path_factory):
    """The plane's variables with this module's own names; everything removed afterwards."""
    values = plane_vars(plane.work, str(tmp_path_factory.mktemp("faults")))
    values.update({
        "test_client_namespace": FAULT_NS,
        "egress_gateway_release_name": FAULT_RELEASE,
        "egress_gateway_labels": {"istio": FAULT_RELEASE},
        "istio_egress_cleanup_gateway": True,
    })
    yield values
    run = run_playbook(CLEANUP, values, timeout=300)
    if run.rc != 0:
        pytest.fail(f"cleanup after the fault tests failed: {run.summary()}")


def _release_records(plane, release):
    """{revision: status} of a Helm release, from its release Secrets."""
    items = plane.kubectl_json("get", "secret", "-n", ISTIO_NS, "-l", f"owner=helm,name={release}")["items"]
    return {int(s["metadata"]["labels"]["version"]): s["metadata"]["labels"]["status"] for s in items}


def _final_fatal(run):
    """(task, msg) of the failure that ended the play (earlier ones were rescued)."""
    assert run.fatal, f"expected a failed task: {run.summary()}"
    return run.fatal[-1]


def test_wrong_context_fails_before_any_change(plane, fault_vars):
    """The homelab inventory's context `homelab` does not exist in the plane's kubeconfig."""
    values = dict(fault_vars, istio_egress_context="homelab", test_client_namespace="fault-wrong-context",
                  egress_gateway_release_name="fault-wrong-context")
    run = run_playbook(SITE, values, timeout=180)
    task, msg = _final_fatal(run)
    assert run.rc != 0
    # The shared preflight (roles/cluster_guard/tasks/reach.yml) keeps the cause (issue 12).
    assert task == "homelab.istio_egress.cluster_guard : Explain why the cluster cannot be used", run.summary()
    # The cause in cluster_read's words (roles/cluster_guard reads through it, docs/cluster_read.md).
    assert msg == (
        f"Cannot reach the Kubernetes API with kubeconfig '{plane.kubeconfig}' and context 'homelab': "
        f"nothing was changed (kubeconfig problem: context 'homelab' does not exist in kubeconfig {plane.kubeconfig} "
        "(it has: istio-egress-plane)). Check istio_egress_kubeconfig / istio_egress_context (or "
        "egress_gateway_kubeconfig / egress_gateway_context), and that `kubectl --context <context> get ns` works."), msg
    assert run.changed == 0, run.summary()
    # Nothing was created: no namespace, no release record.
    assert plane.kubectl("get", "namespace", "fault-wrong-context", check=False).returncode != 0
    assert _release_records(plane, "fault-wrong-context") == {}


def test_gateway_ahead_of_istiod_is_refused_before_any_change(plane, fault_vars):
    """The plane's istiod is a 1.30 branch build (label 1.30-<commit>): a 1.31 gateway would be ahead.

    The comparison is module_utils/istio_versions.py through the istio_version_skew filter; 1.30.0
    against the plane's 1.30 passes (only major.minor are compared for a branch build).
    """
    values = dict(fault_vars, egress_gateway_chart_version="1.31.0", egress_gateway_release_name="fault-skew")
    run = run_playbook(SITE, values, tags=["gateway"], timeout=180)
    task, msg = _final_fatal(run)
    assert run.rc != 0
    assert task == GATEWAY_CLUSTER_CHECK, run.summary()
    assert msg.startswith("The egress gateway 1.31.0 would be ahead of istiod 1.30 in 'istio-system'"), msg
    assert run.changed == 0, run.summary()
    assert _release_records(plane, "fault-skew") == {}


def test_pending_upgrade_is_refused_then_recovered(plane, fault_vars):
    """A `helm upgrade` killed while it waits leaves the release pending-upgrade."""
    run = run_playbook(SITE, fault_vars, tags=["gateway"], timeout=300)
    assert run.rc == 0, run.summary()
    records = _release_records(plane, FAULT_RELEASE)
    last = max(records)
    assert records[last] == "deployed", records

    # The fault, for real: an upgrade that waits for a LoadBalancer address no controller will
    # ever give, killed with SIGKILL once Helm has written its pending-upgrade record.
    helm = subprocess.Popen(
        [plane.binary("helm"), "--kubeconfig", plane.kubeconfig, "--kube-context", plane.context,
         "upgrade", FAULT_RELEASE, gateway_chart(), "-n", ISTIO_NS, "--reuse-values",
         "--set", "service.type=LoadBalancer", "--wait", "--timeout", "5m"],
        env=plane.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        while _release_records(plane, FAULT_RELEASE).get(last + 1) != "pending-upgrade":
            assert helm.poll() is None, f"helm upgrade ended (rc {helm.returncode}) before it could be killed"
            assert time.time() < deadline, "helm never wrote a pending-upgrade record"
            time.sleep(0.2)
    finally:
        helm.kill()
        helm.wait()
    assert _release_records(plane, FAULT_RELEASE)[last + 1] == "pending-upgrade"
    record = f"sh.helm.release.v1.{FAULT_RELEASE}.v{last + 1}"

    # Young record: another Helm may still run; the role refuses, changes nothing, says how.
    run = run_playbook(SITE, fault_vars, tags=["gateway"], timeout=300)
    task, msg = _final_fatal(run)
    assert task == "homelab.istio_egress.egress_gateway : Refuse to touch a release another Helm run may still be changing"
    assert re.fullmatch(
        rf"Helm release '{FAULT_RELEASE}' in '{ISTIO_NS}' is pending-upgrade since \d+s \(record {re.escape(record)}\) "
        r"and another Helm operation may still hold it: it is younger than egress_gateway_pending_release_grace "
        r"\(900s\)\. Wait for it and rerun; if you know nothing runs, rerun with egress_gateway_recover_pending=true "
        r"\(the record is removed and the release falls back to its last deployed revision\), or "
        rf"`helm rollback {FAULT_RELEASE} -n {ISTIO_NS}`\.", msg), msg
    assert run.changed == 0, run.summary()
    assert _release_records(plane, FAULT_RELEASE)[last + 1] == "pending-upgrade"

    # Stale record (older than the grace, the gateway Deployment settled): the role removes it and
    # the release is usable again.
    time.sleep(2)
    run = run_playbook(SITE, dict(fault_vars, egress_gateway_pending_release_grace=1), tags=["gateway"], timeout=300)
    assert run.rc == 0, run.summary()
    assert f"homelab.istio_egress.egress_gateway : Remove the stale pending record of release {FAULT_RELEASE}" \
        in run.changed_tasks, run.summary()
    records = _release_records(plane, FAULT_RELEASE)
    assert "pending-upgrade" not in records.values(), records
    assert records[max(records)] == "deployed", records
    status = json.loads(plane.helm("status", FAULT_RELEASE, "-n", ISTIO_NS, "-o", "json").stdout)
    assert status["info"]["status"] == "deployed", status["info"]


def test_apiserver_killed_during_converge_then_rerun_converges(plane, fault_vars):
    """kube-apiserver dies mid-converge (SIGKILL by its pid file) and is restarted by hack/plane/up."""
    killed = {}

    def kill_at_client(line, _proc):
        # The client role talks to the apiserver in every task: kill it as that role starts.
        if not killed and line.startswith("TASK [homelab.istio_egress.test_client : "):
            killed["pid"] = kill_component(plane.work, "kube-apiserver")
            killed["at"] = line

    up = None
    try:
        run = run_playbook(SITE, fault_vars, on_line=kill_at_client, timeout=400)
        assert killed, f"the converge never reached the test_client role: {run.summary()}"
        assert run.rc != 0 and run.failed > 0, f"the converge survived a dead apiserver: {run.summary()}"
        task, msg = _final_fatal(run)
        # The role's own task, or the shared reach check it includes (roles/cluster_guard/tasks/reach.yml),
        # whose message names the role's connection variables.
        assert task.startswith("homelab.istio_egress.test_client : ") or (
            task.startswith("homelab.istio_egress.cluster_guard : ") and "test_client_kubeconfig" in msg), run.summary()
    finally:
        # Whatever the assertions said, the plane is brought back for the tests after this one.
        up = plane_up(plane.work) if killed else None
    assert up is not None and up.returncode == 0, up.stdout[-3000:] if up else "the apiserver was never killed"
    started = re.findall(r"started (\S+) \(pid", up.stdout)
    assert started == ["kube-apiserver"], f"hack/plane/up restarted {started}, expected only kube-apiserver"

    run = run_playbook(SITE, fault_vars, timeout=400)
    assert run.rc == 0 and run.failed == 0, run.summary()
    deploy = plane.kubectl_json("get", "deployment", "-n", FAULT_NS, "sleep")
    available = [c for c in deploy["status"].get("conditions", []) if c["type"] == "Available"]
    assert available and available[0]["status"] == "True", deploy["status"]


def test_missing_istio_crd_preflight_says_which_and_how(plane, fault_vars):
    """Runs last: deletes the Telemetry CRD, then recreates it from its own saved definition."""
    saved = plane.kubectl_json("get", "crd", TELEMETRY_CRD)
    meta = saved["metadata"]
    restore = {
        "apiVersion": saved["apiVersion"], "kind": saved["kind"],
        "metadata": {k: meta[k] for k in ("name", "labels", "annotations") if k in meta},
        "spec": saved["spec"],
    }
    restore["metadata"].get("annotations", {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    plane.kubectl("delete", "crd", TELEMETRY_CRD, "--wait=true", timeout=120)
    try:
        deadline = time.time() + 60
        while plane.kubectl("get", "--raw", "/apis/telemetry.istio.io/v1", check=False).returncode == 0:
            assert time.time() < deadline, "telemetry.istio.io/v1 is still served 60s after its CRD was deleted"
            time.sleep(1)
        run = run_playbook(SITE, fault_vars, tags=["gateway"], timeout=300)
        task, msg = _final_fatal(run)
        assert task == GATEWAY_CLUSTER_CHECK, \
            run.summary()
        assert msg.startswith(
            "The cluster does not serve telemetry.istio.io/v1/Telemetry: the Istio CRDs are missing or older than "
            "Istio 1.22. Install them with the istio/base chart first, for example `helm upgrade --install "
            "istio-base base --repo "), msg
        assert f"-n {ISTIO_NS} --create-namespace --version " in msg, msg
        assert run.changed == 0, run.summary()
    finally:
        plane.kubectl("create", "-f", "-", input=json.dumps(restore), check=False)
        plane.kubectl("wait", "--for=condition=Established", f"crd/{TELEMETRY_CRD}", "--timeout=60s")
    # The plane is whole again: the API is served and istiod still validates Telemetry.
    assert plane.kubectl("get", "--raw", "/apis/telemetry.istio.io/v1", check=False).returncode == 0
