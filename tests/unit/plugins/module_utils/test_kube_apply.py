# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_apply's pure decisions (plugins/module_utils/kube_apply.py): the ``objects`` checks,
the comparison that makes a converged object "unchanged", the results, the diff and the failure
sentences. The Status messages below are synthetic, in the words kube-apiserver and istiod's
validating webhook use (the real ones are tests/integration/test_cluster_apply.py's)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube_apply as ka

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "mesh-test"}}
CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "mesh-test"}, "data": {"k": "1"}}
WEBHOOK = ('admission webhook "validation.istio.io" denied the request: configuration is invalid: '
           'wildcard host * is not allowed for virtual services bound to the mesh gateway')


def _live(obj, **extra):
    """``obj`` as the API server returns it: server-written metadata and a status added."""
    out = dict(obj, status={"phase": "Active"})
    out["metadata"] = dict(obj["metadata"], resourceVersion="42", uid="u-1", generation=3,
                           creationTimestamp="2026-12-02T07:00:00Z",
                           managedFields=[{"manager": "kubectl", "operation": "Update"}], **extra)
    return out


@pytest.mark.parametrize("objects, fragment", [
    ("apiVersion: v1", "objects is 'apiVersion: v1': expected a list of manifests (dicts), not text"),
    (42, "objects is 42: expected a list of manifests"),
    ([NS, "x"], "objects[1] is 'x': expected a manifest"),
    ([{"kind": "Namespace", "metadata": {"name": "a"}}], "objects[0].apiVersion is None: expected v1 or <group>/<version>"),
    ([dict(NS, apiVersion="a/b/v1")], "objects[0].apiVersion is 'a/b/v1'"),
    ([dict(NS, kind="namespace")], "objects[0].kind is 'namespace': expected a Kind such as Deployment"),
    ([dict(NS, metadata=None)], "objects[0].metadata is None: expected a dict with at least name"),
    ([dict(NS, metadata={"generateName": "x-"})], "objects[0].metadata.name is None: expected an object name"),
    ([dict(NS, metadata={"name": "a/b"})], "objects[0].metadata.name is 'a/b'"),
    ([dict(CM, metadata={"name": "cm", "namespace": "Mesh"})], "objects[0].metadata.namespace is 'Mesh'"),
])
def test_bad_objects_are_one_sentence_naming_index_and_field(objects, fragment):
    with pytest.raises(ka.ApplyInputError) as err:
        ka.validate_objects(objects)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_objects_in_order_one_dict_accepted_and_server_fields_not_sent():
    entries = ka.validate_objects([NS, _live(CM)])
    assert [ka.label(e) for e in entries] == ["Namespace mesh-test", "ConfigMap mesh-test/cm"]
    assert entries[1]["manifest"] == CM  # a manifest copied from a live read: no status, no managedFields
    assert ka.validate_objects(NS)[0]["namespace"] is None
    assert ka.validate_objects([]) == []


def test_field_manager_checked():
    assert ka.validate_field_manager("homelab.istio_egress") == "homelab.istio_egress"
    with pytest.raises(ka.ApplyInputError, match="field_manager is ''"):
        ka.validate_field_manager("")


def test_scope_problems_named():
    cm, ns = ka.validate_objects([dict(CM, metadata={"name": "cm"}), dict(NS, metadata={"name": "a", "namespace": "b"})])
    assert "objects[0] (ConfigMap cm) has no metadata.namespace: ConfigMap is namespaced" in ka.scope_problem(cm, True)
    assert "Namespace is cluster-scoped" in ka.scope_problem(ns, False)
    assert ka.scope_problem(ka.validate_objects([CM])[0], True) is None


def test_server_written_fields_are_not_a_change():
    assert ka.plan_action(None, CM) == "created"
    assert ka.plan_action(_live(CM), dict(_live(CM), status={"phase": "Other"})) == "unchanged"
    changed = _live(dict(CM, data={"k": "2"}))
    assert ka.plan_action(_live(CM), changed) == "updated"
    # an annotation (a server's or another tool's) is part of the object
    assert ka.plan_action(_live(CM), _live(CM, annotations={"a": "b"})) == "updated"


def test_comparable_keeps_labels_and_annotations_drops_volatile():
    out = ka.comparable(_live(CM, annotations={"a": "b"}, labels={"l": "v"}))
    assert out == {"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "1"},
                   "metadata": {"name": "cm", "namespace": "mesh-test", "annotations": {"a": "b"}, "labels": {"l": "v"}}}
    assert ka.comparable(None) is None


def test_results_and_diff_only_in_diff_mode():
    entry = ka.validate_objects([CM])[0]
    plain = ka.object_result(entry, "updated", _live(CM), CM)
    assert plain == {"api_version": "v1", "kind": "ConfigMap", "namespace": "mesh-test", "name": "cm", "action": "updated"}
    with_diff = ka.object_result(entry, "created", None, _live(CM), diff=True, note="n")
    assert with_diff["before"] == {} and "managedFields" not in with_diff["after"]["metadata"] and with_diff["note"] == "n"
    diff = ka.diff_entry(entry, None, _live(CM))
    assert diff["before"] == {} and diff["after"]["data"] == {"k": "1"}
    assert diff["before_header"] == "ConfigMap mesh-test/cm (live)"
    assert diff["after_header"] == "ConfigMap mesh-test/cm (applied)"


@pytest.mark.parametrize("status, reason, message, expected", [
    (400, "Bad Request", WEBHOOK, WEBHOOK),
    (403, "Forbidden", WEBHOOK, WEBHOOK),
    (403, "Forbidden",
     ('configmaps "cm" is forbidden: User "system:serviceaccount:t:none" cannot patch resource '
      '"configmaps" in API group "" in the namespace "mesh-test"'),
     "forbidden: patch configmaps in namespace mesh-test"),
    (401, "Unauthorized", "Unauthorized", "credentials rejected (401 Unauthorized: the token or client certificate is not accepted)"),
    (404, "Not Found", 'namespaces "gone" not found', '404 Not Found: namespaces "gone" not found'),
    (422, "Unprocessable Entity", 'Deployment.apps "s" is invalid:\n spec.replicas: Invalid value: -1',
     '422 Unprocessable Entity: Deployment.apps "s" is invalid: spec.replicas: Invalid value: -1'),
    (500, "Internal Server Error", "", "500 Internal Server Error"),
])
def test_write_cause(status, reason, message, expected):
    assert ka.write_cause(status, reason, message) == expected


def test_failure_message_names_object_cause_and_what_was_applied():
    ns, cm = ka.validate_objects([NS, CM])
    done = [ka.object_result(ns, "created")]
    msg = ka.failure_message(cm, "applying", WEBHOOK, done)
    assert msg == ("ConfigMap mesh-test/cm (objects[1]): applying failed: %s; already applied: Namespace mesh-test "
                   "(created) (the objects after it were not applied)" % WEBHOOK)
    assert ka.failure_message(ns, "reading it", "x", []).endswith("no object was applied before it (the objects "
                                                                  "after it were not applied)")
    check = ka.failure_message(cm, "the dry-run apply", "x", done, check_mode=True)
    assert check.startswith("ConfigMap mesh-test/cm (objects[1]): the dry-run apply failed: x; ")
    assert check.endswith("checked before it: Namespace mesh-test (created) (check mode: nothing was written)")


def test_summary():
    entry = ka.validate_objects([CM])[0]
    assert ka.summary([ka.object_result(entry, "unchanged")]) is False
    assert ka.summary([ka.object_result(entry, "unchanged"), ka.object_result(entry, "created")]) is True
    assert ka.summary([]) is False
