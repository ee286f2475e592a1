# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_read's pure decisions (plugins/module_utils/kube_read.py): query validation, shapes, waits,
and where the engine runs. Objects and discovery documents are synthetic, shaped as kube-apiserver
1.30 answers them (docs/cluster_read.md)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube_read as kr


def test_valid_queries_are_normalised():
    out = kr.validate_queries({
        "ns": {"api_version": "v1", "kind": "Namespace", "name": "mesh-test"},
        "pods": {"api_version": "v1", "kind": "Pod", "namespace": "mesh-test", "label_selectors": "app=sleep"},
        "dep": {"api_version": "apps/v1", "kind": "Deployment", "namespace": "mesh-test", "name": "sleep",
                "wait_condition": {"type": "Available", "status": True}, "wait_timeout": 5}})
    assert list(out) == ["ns", "pods", "dep"]
    assert out["ns"]["group"] == "" and out["ns"]["version"] == "v1"
    assert out["pods"]["label_selectors"] == ["app=sleep"]
    assert out["dep"]["wait_condition"] == {"type": "Available", "status": "True"}
    assert out["dep"]["wait_timeout"] == 5 and out["dep"]["wait_sleep"] == kr.DEFAULT_WAIT_SLEEP


@pytest.mark.parametrize("queries, words", [
    ([], "queries is []: expected a dict"),
    ({"a": "x"}, "queries.a is 'x': expected a dict"),
    ({"a": {"api_version": "v1", "kind": "Pod", "nmae": "x"}}, "unknown: nmae"),
    ({"a": {"kind": "Pod"}}, "queries.a.api_version is None"),
    ({"a": {"api_version": "apps/v1/x", "kind": "Pod"}}, "queries.a.api_version is 'apps/v1/x'"),
    ({"a": {"api_version": "Apps/V1", "kind": "Pod"}}, "queries.a.api_version is 'Apps/V1'"),
    ({"a": {"api_version": "v1", "kind": "pod"}}, "queries.a.kind is 'pod'"),
    ({"a": {"api_version": "v1", "kind": "Pod", "name": "a/b"}}, "queries.a.name is 'a/b'"),
    ({"a": {"api_version": "v1", "kind": "Pod", "namespace": "Mesh"}}, "queries.a.namespace is 'Mesh'"),
    ({"a": {"api_version": "v1", "kind": "Pod", "label_selectors": [1]}}, "queries.a.label_selectors is [1]"),
    ({"a": {"api_version": "v1", "kind": "Pod", "wait_condition": "Ready"}}, "queries.a.wait_condition is 'Ready'"),
    ({"a": {"api_version": "v1", "kind": "Pod", "wait_condition": {"type": "Ready", "status": "yes"}}},
     "queries.a.wait_condition.status is 'yes'"),
    ({"a": {"api_version": "v1", "kind": "Pod", "wait_condition": {"type": "Ready"}, "wait_timeout": -1}},
     "queries.a.wait_timeout is -1"),
    ({"a": {"api_version": "v1", "kind": "Pod", "wait_timeout": 3}}, "no value unless queries.a.wait_condition"),
    ({"a b": {"api_version": "v1", "kind": "Pod"}}, "a key of queries is 'a b'"),
])
def test_bad_queries_get_one_sentence(queries, words):
    with pytest.raises(kr.ReadInputError) as err:
        kr.validate_queries(queries)
    assert words in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("value", [0, -1, True, "30", 4000])
def test_bad_timeout(value):
    with pytest.raises(kr.ReadInputError, match="timeout is"):
        kr.validate_timeout(value)


def test_paths_and_params():
    q = kr.validate_query("d", {"api_version": "apps/v1", "kind": "Deployment", "namespace": "n", "name": "s"})
    assert kr.resource_path(q, "deployments", True) == "/apis/apps/v1/namespaces/n/deployments/s"
    q = kr.validate_query("n", {"api_version": "v1", "kind": "Namespace", "name": "n"})
    assert kr.resource_path(q, "namespaces", False) == "/api/v1/namespaces/n"
    q = kr.validate_query("se", {"api_version": "networking.istio.io/v1", "kind": "ServiceEntry",
                                 "label_selectors": ["a=b", "c=d"], "field_selectors": ["metadata.name=x"]})
    assert kr.resource_path(q, "serviceentries", True) == "/apis/networking.istio.io/v1/serviceentries"
    assert kr.list_params(q) == [("labelSelector", "a=b,c=d"), ("fieldSelector", "metadata.name=x")]
    assert kr.object_label(q) == "ServiceEntry objects with a=b,c=d,metadata.name=x"


def test_list_items_get_their_type():
    out = kr.with_type([{"metadata": {"name": "a"}}], "apps/v1", "Deployment")
    assert out == [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}}]


@pytest.mark.parametrize("selector, labels, expected", [
    ("app=sleep", {"app": "sleep"}, True),
    ("app=sleep", {"app": "other"}, False),
    ("app!=sleep", {"app": "sleep"}, False),
    ("app", {}, False),
    ("!app", {"app": "x"}, False),
    ("app==sleep,tier=a", {"app": "sleep", "tier": "a"}, True),
])
def test_by_name_reads_still_honour_label_selectors(selector, labels, expected):
    q = kr.validate_query("x", {"api_version": "v1", "kind": "Pod", "name": "p", "label_selectors": [selector]})
    assert kr.matches_name({"metadata": {"name": "p", "labels": labels}}, q) is expected


AGGREGATED_CORE = {"kind": "APIGroupDiscoveryList", "items": [{"metadata": {}, "versions": [{
    "version": "v1", "freshness": "Current", "resources": [
        {"resource": "pods", "responseKind": {"kind": "Pod"}, "scope": "Namespaced", "singularResource": "pod",
         "shortNames": ["po"], "categories": ["all"], "subresources": [{"subresource": "log"}]},
        {"resource": "namespaces", "responseKind": {"kind": "Namespace"}, "scope": "Cluster"}]}]}]}
SIDECARS = {"resource": "sidecars", "responseKind": {"kind": "Sidecar"}, "scope": "Namespaced"}
AGGREGATED_GROUPS = {"kind": "APIGroupDiscoveryList", "items": [{
    "metadata": {"name": "networking.istio.io"},
    "versions": [{"version": "v1", "resources": [SIDECARS]},
                 {"version": "v1beta1", "freshness": "Stale", "resources": []}]}]}


def test_aggregated_discovery_has_the_cluster_info_shape():
    apis, complete = kr.apis_from_aggregated([AGGREGATED_CORE, AGGREGATED_GROUPS])
    assert set(apis) == {"v1", "networking.istio.io/v1", "networking.istio.io/v1beta1"}
    assert apis["v1"]["Pod"]["name"] == "pods" and apis["v1"]["Pod"]["namespaced"] is True
    assert apis["v1"]["Namespace"]["namespaced"] is False
    assert "Sidecar" in apis["networking.istio.io/v1"] and apis["networking.istio.io/v1"]["Sidecar"]["preferred"]
    assert apis["networking.istio.io/v1beta1"] == {} and complete is False


def test_legacy_discovery():
    gvs = kr.group_versions({"versions": ["v1"]}, {"groups": [{"name": "apps", "versions": [
        {"groupVersion": "apps/v1"}, {"groupVersion": "apps/v1beta1"}], "preferredVersion": {"groupVersion": "apps/v1"}}]})
    assert gvs == [("v1", True), ("apps/v1", True), ("apps/v1beta1", False)]
    apis = kr.apis_from_lists({"apps/v1": ({"resources": [
        {"name": "deployments", "kind": "Deployment", "namespaced": True},
        {"name": "deployments/status", "kind": "Deployment", "namespaced": True}]}, True)})
    assert apis == {"apps/v1": {"Deployment": {"name": "deployments", "namespaced": True, "singular_name": "",
                                               "short_names": [], "categories": [], "preferred": True}}}


def _dep(status, reason=None, deleting=False):
    meta = {"name": "sleep"}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-02T00:00:00Z"
    cond = {"type": "Available", "status": status}
    if reason:
        cond.update(reason=reason, message="Deployment does not have minimum availability.")
    return {"metadata": meta, "status": {"conditions": [cond]}}


def test_wait_conditions():
    want = {"type": "Available", "status": "True"}
    assert kr.wait_met([_dep("True")], want)
    assert not kr.wait_met([_dep("False")], want)
    assert not kr.wait_met([], want)  # nothing matched yet is not met
    assert not kr.wait_met([_dep("True", deleting=True)], want)
    assert not kr.wait_met([_dep("True"), _dep("False")], want)
    assert kr.condition_met(_dep("True", "NewReplicaSetAvailable"), dict(want, reason="NewReplicaSetAvailable"))
    assert not kr.condition_met(_dep("True", "Other"), dict(want, reason="NewReplicaSetAvailable"))


def test_wait_failure_names_object_condition_timeout_and_last_seen():
    q = kr.validate_query("dep", {"api_version": "apps/v1", "kind": "Deployment", "namespace": "mesh-test",
                                  "name": "sleep", "wait_condition": {"type": "Available"}, "wait_timeout": 7})
    msg = kr.wait_failure("dep", q, [_dep("False", "MinimumReplicasUnavailable")])
    assert msg == ("query dep: Deployment mesh-test/sleep did not reach condition Available=True within the "
                   "wait_timeout of 7 s (last observed: Available=False (MinimumReplicasUnavailable: Deployment "
                   "does not have minimum availability.))")
    assert kr.wait_failure("dep", q, []).endswith("(last observed: no such object)")


@pytest.mark.parametrize("connection, delegate_to, expected", [
    ("local", None, True),
    ("ansible.builtin.local", None, True),
    ("ssh", None, False),
    ("ssh", "localhost", True),
    ("ssh", "127.0.0.1", True),
    ("paramiko_ssh", "gateway-host", False),
    (None, None, False),
])
def test_runs_in_controller(connection, delegate_to, expected):
    assert kr.runs_in_controller(connection, delegate_to) is expected
