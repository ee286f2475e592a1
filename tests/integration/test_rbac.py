# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/rbac.md's rights work, on the local plane (issue 12 "Least privilege").

The YAML of docs/rbac.md is applied as written (default namespaces replaced by this module's own),
and the playbooks run with kubeconfigs holding ServiceAccount tokens:

- site.yml as ``istio-egress-converge`` (converge set), then verify.yml as ``istio-egress-verify``
  (verify-only set): both pass;
- a ServiceAccount without any right gets one sentence naming the missing right;
- cleanup.yml as the converge identity removes what it created.
"""

import os
import re

import pytest
from plane_helpers import CLEANUP, REPO_ROOT, SITE, plane_vars, run_playbook, service_account_kubeconfig

OPS_NS = "rbac-egress-ops"
CLIENT_NS = "rbac-mesh-test"
RELEASE = "rbac-egressgateway"
VERIFY = os.path.join(REPO_ROOT, "playbooks", "verify.yml")
RBAC_DOC = os.path.join(REPO_ROOT, "docs", "rbac.md")


def _doc_yaml(section):
    """The ```yaml block of a '## <section>' of docs/rbac.md, namespaces replaced by this module's."""
    with open(RBAC_DOC, encoding="utf-8") as handle:
        text = handle.read()
    part = text.split("## %s\n" % section, 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```yaml\n(.*?)```", part, re.DOTALL).group(1)
    return (block.replace("namespace: istio-egress-ops", "namespace: " + OPS_NS)
            .replace("namespace: mesh-test", "namespace: " + CLIENT_NS))


def _split(manifest):
    return [doc for doc in manifest.split("\n---\n") if doc.strip()]


def _kubeconfig(plane, tmp_path, account):
    return service_account_kubeconfig(plane, tmp_path, OPS_NS, account, duration="2h")


@pytest.fixture(scope="module")
def rbac(plane, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rbac")
    plane.kubectl("create", "namespace", OPS_NS, check=False)
    for account in ("istio-egress-converge", "istio-egress-verify", "istio-egress-nobody"):
        plane.kubectl("create", "serviceaccount", account, "-n", OPS_NS, check=False)
    verify_docs = _split(_doc_yaml("Verify only"))
    # The client namespace's RoleBinding needs the namespace: applied after the converge.
    cluster_and_gateway = [d for d in verify_docs if "namespace: %s" % CLIENT_NS not in d]
    client_docs = [d for d in verify_docs if "namespace: %s" % CLIENT_NS in d]
    plane.kubectl("apply", "-f", "-", input="\n---\n".join(cluster_and_gateway + _split(_doc_yaml("Converge"))))
    values = plane_vars(plane.work, str(tmp))
    values.update({"test_client_namespace": CLIENT_NS, "egress_gateway_release_name": RELEASE,
                   "egress_gateway_labels": {"istio": RELEASE}, "istio_egress_cleanup_gateway": True,
                   "istio_egress_context": "sa"})
    state = {"values": values, "client_docs": client_docs,
             "converge": _kubeconfig(plane, tmp, "istio-egress-converge"),
             "verify": _kubeconfig(plane, tmp, "istio-egress-verify"),
             "nobody": _kubeconfig(plane, tmp, "istio-egress-nobody")}
    yield state
    run_playbook(CLEANUP, dict(values, istio_egress_kubeconfig=state["converge"]), timeout=400)
    plane.kubectl("delete", "namespace", OPS_NS, CLIENT_NS, "--ignore-not-found", "--wait=false", check=False)
    for kind, name in (("clusterrole", "istio-egress-verify-read"), ("clusterrole", "istio-egress-converge"),
                       ("clusterrolebinding", "istio-egress-verify-read"),
                       ("clusterrolebinding", "istio-egress-converge"),
                       ("clusterrolebinding", "istio-egress-converge-read"),
                       ("role", "istio-egress-verify-gateway"), ("rolebinding", "istio-egress-verify-gateway"),
                       ("clusterrole", "istio-egress-verify-analyze"),
                       ("clusterrolebinding", "istio-egress-verify-analyze"),
                       ("rolebinding", "istio-egress-converge-gateway")):
        plane.kubectl("delete", kind, name, "-n", "istio-system", "--ignore-not-found", check=False)


def test_converge_then_verify_with_the_documented_rights(plane, rbac):
    run = run_playbook(SITE, dict(rbac["values"], istio_egress_kubeconfig=rbac["converge"]), timeout=900)
    assert run.rc == 0 and run.failed == 0, run.summary()

    plane.kubectl("apply", "-f", "-", input="\n---\n".join(rbac["client_docs"]))
    run = run_playbook(VERIFY, dict(rbac["values"], istio_egress_kubeconfig=rbac["verify"]), timeout=600)
    assert run.rc == 0 and run.failed == 0, run.summary()


def test_a_missing_right_is_named_in_one_sentence(plane, rbac):
    run = run_playbook(SITE, dict(rbac["values"], istio_egress_kubeconfig=rbac["nobody"]), tags=["apps"], timeout=300)
    assert run.rc != 0, run.summary()
    assert run.fatal[-1][1] == (
        "Cannot read namespace %s: forbidden: get namespaces in namespace %s; nothing was changed "
        "(rights: docs/rbac.md)." % (CLIENT_NS, CLIENT_NS)), run.summary()
    assert run.changed == 0, run.summary()
