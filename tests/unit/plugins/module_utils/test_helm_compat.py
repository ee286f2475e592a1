# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helm major, kubernetes.core support, helm-diff and stale pending release records.

Real `helm version --short` and `helm plugin list` outputs of the plane's Helm 3 and Helm 4 are
in fixtures/helm (PROVENANCE.md there); cases marked SYNTHETIC are derived from them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils.helm_compat import (
    HelmCompatError,
    deployment_rolling,
    helm_support,
    parse_helm_version,
    parse_plugin_list,
    pending_release,
    release_history_needed,
    release_list_selector,
)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "helm")


def _fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


HELM3_VERSION = _fixture("helm3-version-short.txt")  # REAL
HELM4_VERSION = _fixture("helm4-version-short.txt")  # REAL


def test_real_versions_parse():
    assert parse_helm_version(HELM3_VERSION)["major"] == 3
    assert parse_helm_version(HELM3_VERSION)["version"] == "3.18.6"
    four = parse_helm_version(HELM4_VERSION)
    assert four["major"] == 4 and four["minor"] == 3, four


@pytest.mark.parametrize("text", ["", "\n", "Error: unknown flag: --short", "version.BuildInfo{Version:\"v3\"}"])
def test_unreadable_version_is_an_error_not_a_guess(text):
    with pytest.raises(HelmCompatError):
        parse_helm_version(text)


@pytest.mark.parametrize("helm, kcore, supported, install", [
    (HELM3_VERSION, "5.4.1", True, "helm_plugin"),   # the project venv today (ansible 11)
    (HELM3_VERSION, "6.2.0", True, "helm_plugin"),
    (HELM3_VERSION, "", True, "helm_plugin"),        # Helm 3 works with any kubernetes.core
    (HELM4_VERSION, "5.4.1", False, "command"),      # predates Helm 4: passes Helm 3 flags
    (HELM4_VERSION, "6.2.0", False, "command"),      # ansible 12: refuses Helm 4
    (HELM4_VERSION, "6.3.99", False, "command"),
    (HELM4_VERSION, "6.4.0", True, "command"),       # first with Helm 4 support
    (HELM4_VERSION, "7.0.0", True, "command"),
    (HELM4_VERSION, "", False, "command"),           # unknown: not assumed to work
    ("v2.17.0+ga690bad", "6.4.0", False, "helm_plugin"),  # SYNTHETIC
    ("v5.0.0", "9.0.0", False, "command"),                # SYNTHETIC
])
def test_helm_support(helm, kcore, supported, install):
    out = helm_support(helm, kcore, helm_binary="/usr/bin/helm")
    assert out["supported"] is supported, out
    assert out["helm_diff_install"] == install
    assert bool(out["reason"]) is not supported


def test_helm4_refusal_says_what_to_install():
    out = helm_support(HELM4_VERSION, "6.2.0", helm_binary="helm")
    assert out["reason"] == (
        "helm is Helm %s and this controller has kubernetes.core 6.2.0, which cannot drive Helm 4: install "
        "kubernetes.core >= 6.4.0 (`ansible-galaxy collection install 'kubernetes.core:>=6.4.0'`, or ansible >= 14 "
        "on Python >= 3.12), or set egress_gateway_helm_binary to a Helm 3 binary" % out["helm_version"])


def test_real_plugin_lists():
    assert "diff" in parse_plugin_list(_fixture("helm3-plugin-list.txt"))
    four = parse_plugin_list(_fixture("helm4-plugin-list.txt"))
    assert "diff" in four, four
    assert parse_plugin_list("") == {}
    with pytest.raises(HelmCompatError):
        parse_plugin_list("Error: plugins exist but cannot be loaded")  # SYNTHETIC


# --- pending release records (metadata as k8s_info returns it; SYNTHETIC, in Helm's label scheme) ---

NOW = 1796186000


def _record(version, status, created, modified=None):
    labels = {"name": "istio-egressgateway", "owner": "helm", "status": status, "version": str(version)}
    if modified is not None:
        labels["modifiedAt"] = str(modified)
    return {"name": "sh.helm.release.v1.istio-egressgateway.v%d" % version, "namespace": "istio-system",
            "creationTimestamp": created, "labels": labels}


SETTLED = {"metadata": {"generation": 3}, "spec": {"replicas": 2},
           "status": {"observedGeneration": 3, "updatedReplicas": 2, "availableReplicas": 2, "replicas": 2}}
ROLLING = {"metadata": {"generation": 4}, "spec": {"replicas": 2},
           "status": {"observedGeneration": 4, "updatedReplicas": 1, "availableReplicas": 2, "replicas": 3}}
OLD = "2026-12-02T03:00:00Z"      # 5600 s before NOW
YOUNG = "2026-12-02T04:30:00Z"    # 200 s before NOW (04:33:20Z)


def test_newest_deployed_is_none():
    records = [_record(1, "superseded", OLD), _record(2, "deployed", OLD)]
    assert pending_release(records, NOW, 900)["action"] == "none"
    assert pending_release([], NOW, 900)["action"] == "none"


def test_old_pending_with_settled_deployment_is_deleted():
    records = [_record(2, "deployed", OLD), _record(3, "pending-upgrade", OLD)]
    out = pending_release(records, NOW, 900, deployment=SETTLED)
    assert out == {"action": "delete", "record": "sh.helm.release.v1.istio-egressgateway.v3",
                   "status": "pending-upgrade", "age": 5600, "reason": ""}


def test_old_pending_while_the_deployment_rolls_is_refused():
    """The old rule (age alone) deleted the record of a live long `helm upgrade --wait`."""
    records = [_record(2, "deployed", OLD), _record(3, "pending-upgrade", OLD)]
    out = pending_release(records, NOW, 900, deployment=ROLLING)
    assert out["action"] == "refuse"
    assert out["reason"] == "its Deployment is rolling out (1 of 2 replicas updated)"


def test_young_pending_is_refused_and_modified_at_counts():
    records = [_record(3, "pending-install", YOUNG)]
    out = pending_release(records, NOW, 900, deployment=SETTLED)
    assert out["action"] == "refuse" and out["age"] == 200
    assert out["reason"] == "it is younger than egress_gateway_pending_release_grace (900s)"
    # Created long ago but modified a minute ago (Helm 3.13+ modifiedAt): young.
    out = pending_release([_record(3, "pending-upgrade", OLD, modified=NOW - 60)], NOW, 900, deployment=SETTLED)
    assert out["action"] == "refuse" and out["age"] == 60


def test_explicit_recover_deletes_whatever_the_age():
    out = pending_release([_record(3, "pending-rollback", YOUNG)], NOW, 900, recover=True, deployment=ROLLING)
    assert out["action"] == "delete" and out["status"] == "pending-rollback"


def test_unreadable_age_is_refused():
    out = pending_release([_record(3, "pending-upgrade", "yesterday")], NOW, 900, deployment=SETTLED)
    assert out["action"] == "refuse" and "age cannot be read" in out["reason"]


def test_no_deployment_yet_counts_as_settled():
    """A pending-install whose chart never created its Deployment has nothing to wait for."""
    assert pending_release([_record(1, "pending-install", OLD)], NOW, 900, deployment={})["action"] == "delete"


@pytest.mark.parametrize("deployment, rolling", [
    ({}, False),
    (SETTLED, False),
    (ROLLING, True),
    ({"metadata": {"generation": 5}, "spec": {"replicas": 1}, "status": {"observedGeneration": 4}}, True),
    ({"metadata": {"generation": 1}, "spec": {"replicas": 1},
      "status": {"observedGeneration": 1, "updatedReplicas": 1, "availableReplicas": 0, "unavailableReplicas": 1}},
     True),
    ({"metadata": {"generation": 1, "deletionTimestamp": OLD}, "spec": {}, "status": {}}, True),
])
def test_deployment_rolling(deployment, rolling):
    assert bool(deployment_rolling(deployment)) is rolling


def test_bad_numbers_are_an_error():
    with pytest.raises(HelmCompatError):
        pending_release([], "now", 900)


# --- release_history_needed: `helm list --selector <not settled> ... -o json` (REAL outputs of Helm 3.18.6 and 4.3.2) ---

@pytest.mark.parametrize("major", ["helm3", "helm4"])
def test_real_settled_release_skips_the_history(major):
    out = release_history_needed(0, _fixture("%s-list-settled.json" % major), "istio-egressgateway")
    assert out["needed"] is False and out["status"] == "", out


@pytest.mark.parametrize("major", ["helm3", "helm4"])
def test_real_pending_install_needs_the_history(major):
    out = release_history_needed(0, _fixture("%s-list-pending-install.json" % major), "fx-pending")
    assert out["needed"] is True and out["status"] == "pending-install"


@pytest.mark.parametrize("major", ["helm3", "helm4"])
def test_real_record_labelled_pending_needs_the_history(major):
    # Only the status LABEL says pending-upgrade (Helm decodes "deployed" from the record): the
    # labels are what pending_release reads, so the history is read.
    out = release_history_needed(0, _fixture("%s-list-pending-label.json" % major), "fx-labelled")
    assert out["needed"] is True and out["status"] == "deployed"


@pytest.mark.parametrize("rc, text", [
    (1, "[]"),  # the list failed: its stdout proves nothing
    (0, ""),  # nothing printed
    (0, "Error: Kubernetes cluster unreachable"),  # not JSON
    (0, '{"name": "istio-egressgateway"}'),  # not a list
    (0, '["istio-egressgateway"]'),  # not a list of releases
    (0, '[{"name": "istio-egressgateway"}]'),  # listed, no status
])
def test_unreadable_answers_never_skip_the_history(rc, text):
    # SYNTHETIC failures: without a full answer the pending-record check must still read the records.
    assert release_history_needed(rc, text, "istio-egressgateway")["needed"] is True


def test_another_release_of_the_namespace_is_not_ours():
    # SYNTHETIC: a real answer under another name (a regex --filter could let it through).
    text = _fixture("helm3-list-pending-install.json")
    assert release_history_needed(0, text, "istio-egressgateway")["needed"] is False


def test_the_role_lists_with_the_selector_the_rule_expects():
    # One rule: the selector written in the role's task is the one release_history_needed assumes.
    tasks = os.path.join(os.path.dirname(FIXTURES), "..", "..", "..", "..", "..",
                         "roles", "egress_gateway", "tasks", "preflight.yml")
    with open(os.path.normpath(tasks)) as handle:
        text = handle.read()
    assert "'--selector', '%s'" % release_list_selector() in text
    assert release_list_selector().count("status!=") == 5 and "pending" not in release_list_selector()
