# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ownership labels and the converge/cleanup plans (issue 12, "Ownership").

The live objects are synthetic, in the shape k8s_info returns them (metadata.labels), standing
for a user's Gateway, Sidecar and Deployment of the same names the collection uses.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils import ownership as o

GW = {"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
      "metadata": {"name": "istio-egressgateway", "namespace": "mesh-test"},
      "spec": {"selector": {"istio": "egressgateway"}, "servers": [{"hosts": ["httpbin.org"]}]}}


def _live(obj, labels=None, **spec):
    live = {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
            "metadata": dict(obj["metadata"], labels=labels or {}, uid="u1", resourceVersion="1")}
    live["spec"] = spec or obj.get("spec")
    return live


def test_labels_defined_once_and_role_named():
    assert o.ownership_labels("egress_routes") == {
        "app.kubernetes.io/managed-by": "homelab.istio_egress",
        "app.kubernetes.io/part-of": "istio-egress",
        "istio-egress.homelab/role": "egress_routes"}
    with pytest.raises(o.OwnershipError):
        o.ownership_labels("nope")


def test_with_ownership_labels_objects_and_pod_templates():
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "sleep", "labels": {"a": "b"}},
              "spec": {"template": {"metadata": {"labels": {"app": "sleep"}}}}}
    out = o.with_ownership([deploy, GW], "test_client")
    assert out[0]["metadata"]["labels"]["a"] == "b"
    assert o.is_owned(out[0]) and o.is_owned(out[1])
    assert out[0]["spec"]["template"]["metadata"]["labels"]["app"] == "sleep"
    assert o.is_owned(out[0]["spec"]["template"])
    assert "labels" not in GW["metadata"], "the input is not modified"


def test_user_object_is_refused_and_adopted_only_when_asked():
    want = o.with_ownership([GW], "egress_routes")
    user = _live(GW, labels={"team": "web"}, servers=[{"hosts": ["other.example"]}])
    plan = o.ownership_plan(want, [{"resources": [user]}])
    assert plan["refused"] == ["Gateway mesh-test/istio-egressgateway"]
    assert "refuses to take over Gateway mesh-test/istio-egressgateway" in plan["summary"]
    plan = o.ownership_plan(want, [{"resources": [user]}], adopt=True)
    assert plan["refused"] == [] and plan["entries"][0]["action"] == "adopt"


def test_owned_object_update_unchanged_create():
    want = o.with_ownership([GW], "egress_routes")
    same = _live(GW, labels=o.ownership_labels("egress_routes"))
    same["spec"]["servers"][0]["port"] = None  # server-side extra fields do not count as a change
    same["spec"] = dict(same["spec"])
    plan = o.ownership_plan(want, [same])
    assert plan["entries"][0]["action"] in ("unchanged", "update")
    exact = _live(GW, labels=o.ownership_labels("egress_routes"))
    assert o.ownership_plan(want, [exact])["entries"][0]["action"] == "unchanged"
    other = _live(GW, labels=o.ownership_labels("egress_routes"), selector={"istio": "x"},
                  servers=GW["spec"]["servers"])
    assert o.ownership_plan(want, [other])["entries"][0]["action"] == "update"
    assert o.ownership_plan(want, [])["entries"][0]["action"] == "create"


def test_cleanup_plan_deletes_only_owned():
    want = o.with_ownership([GW], "egress_routes")
    assert o.ownership_plan(want, [_live(GW, {"x": "y"})], state="absent")["entries"][0]["action"] == "keep"
    owned = _live(GW, o.ownership_labels("egress_routes"))
    assert o.ownership_plan(want, [owned], state="absent")["entries"][0]["action"] == "delete"
    assert o.ownership_plan(want, [], state="absent")["entries"][0]["action"] == "absent"


def test_same_name_other_kind_or_namespace_does_not_match():
    want = o.with_ownership([GW], "egress_routes")
    elsewhere = _live(GW, {"x": "y"})
    elsewhere["metadata"]["namespace"] = "other"
    assert o.ownership_plan(want, [elsewhere])["entries"][0]["action"] == "create"


def test_queries_one_per_kind_and_namespace():
    objs = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": n, "namespace": "a"}} for n in "xyz"]
    objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})
    assert o.ownership_queries(objs) == [
        {"api_version": "v1", "kind": "Service", "namespace": "a"},
        {"api_version": "v1", "kind": "Namespace", "name": "a"}]
    # cluster_read takes them as one call's queries, keyed
    assert o.ownership_queries(objs, keyed=True) == {
        "service_0": {"api_version": "v1", "kind": "Service", "namespace": "a"},
        "namespace_1": {"api_version": "v1", "kind": "Namespace", "name": "a"}}


def test_plan_reads_cluster_read_results():
    """cluster_read registers ``results`` as a dict query key -> {served, resources}."""
    want = o.with_ownership([GW], "egress_routes")
    user = _live(GW, labels={"team": "web"})
    plan = o.ownership_plan(want, {"gateway_0": {"served": True, "resources": [user]},
                                   "service_1": {"served": False, "resources": []}})
    assert plan["refused"] == ["Gateway mesh-test/istio-egressgateway"]
    assert o.ownership_plan(want, {"gateway_0": {"served": True, "resources": []}})["entries"][0]["action"] == "create"


def test_foreign_objects_ignore_generated_and_owned():
    live = [
        {"kind": "ServiceAccount", "metadata": {"name": "default"}},
        {"kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt"}},
        {"kind": "Pod", "metadata": {"name": "sleep-1", "labels": o.ownership_labels("test_client")}},
        {"kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}}},
    ]
    assert o.foreign_objects([{"resources": live}]) == ["Deployment web"]


def test_ownership_labels_are_valid_kubernetes_labels():
    """The API server rejects an invalid key (an underscore in the prefix did, on the plane)."""
    from ansible_collections.homelab.istio_egress.plugins.module_utils import rules

    for role in o.ROLES:
        assert rules.label_problems(o.ownership_labels(role), "ownership labels") == []


def test_refusal_message_names_objects_label_nothing_changed_and_remedy():
    text = o.refusal_message(["Gateway mesh-test/istio-egressgateway", "Sidecar mesh-test/default"], "egress_routes")
    assert text.startswith("egress_routes refuses to take over Gateway mesh-test/istio-egressgateway, Sidecar "
                           "mesh-test/default: it exists without the label app.kubernetes.io/managed-by="
                           "homelab.istio_egress, so it was not created by this collection; nothing was changed.")
    assert "set egress_routes_adopt=true to take it over" in text
    # Without a role: cluster_apply's own option is the remedy.
    bare = o.refusal_message(["ConfigMap a/b"])
    assert bare.startswith("cluster_apply refuses to take over ConfigMap a/b: ")
    assert "set the option adopt to true" in bare and "_adopt=true" not in bare
