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


OWNED = {"app.kubernetes.io/managed-by": "homelab.istio_egress"}


def _owned(obj, name=None):
    meta = dict(obj["metadata"], labels=OWNED)
    if name:
        meta["name"] = name
    return dict(obj, metadata=meta)


def test_guard_options_are_checked_before_any_request():
    entries = ka.validate_objects([_owned(NS), _owned(CM)])
    assert ka.validate_guard(entries, True, False, "egress_routes") == (True, False, "egress_routes")
    assert ka.validate_guard(entries, False, False, None) == (False, False, None)
    with pytest.raises(ka.ApplyInputError, match=r"^adopt is True: expected false while guard is false"):
        ka.validate_guard(entries, False, True, None)
    with pytest.raises(ka.ApplyInputError, match=r"^owner_role is 'Egress Routes': expected a role name"):
        ka.validate_guard(entries, True, False, "Egress Routes")
    # A manifest without the collection's label would be refused by the next run: refused now.
    unlabelled = ka.validate_objects([_owned(NS), CM])
    with pytest.raises(ka.ApplyInputError, match=r"^objects\[1\]\.metadata\.labels is None: expected "
                                                 r"app\.kubernetes\.io/managed-by=homelab\.istio_egress with guard"):
        ka.validate_guard(unlabelled, True, False, None)
    assert ka.validate_guard(unlabelled, False, False, None) == (False, False, None)


def test_guard_plan_uses_the_ownership_rule_on_listed_items():
    entries = ka.validate_objects([_owned(NS), _owned(CM), _owned(CM, "other"), _owned(CM, "new")])
    # List items carry no apiVersion/kind; the plan keys them from the entries.
    theirs = {"metadata": {"name": "other", "namespace": "mesh-test"}, "data": {}}
    ours = {"metadata": {"name": "cm", "namespace": "mesh-test", "labels": OWNED}, "data": {"k": "1"}}
    lives = [_live(_owned(NS)), ours, theirs, None]
    plan = ka.guard_plan(entries, lives, adopt=False)
    assert [e["action"] for e in plan["entries"]] == ["unchanged", "unchanged", "refuse", "create"]
    assert plan["refused"] == ["ConfigMap mesh-test/other"]
    adopted = ka.guard_plan(entries, lives, adopt=True)
    assert [e["action"] for e in adopted["entries"]] == ["unchanged", "unchanged", "adopt", "create"]


def test_applied_plan_takes_the_dry_run_word_and_keeps_adopt():
    entries = ka.validate_objects([_owned(NS), _owned(CM), _owned(CM, "other"), _owned(CM, "later")])
    plan = ka.guard_plan(entries, [_live(_owned(NS)), _live(_owned(CM)), {"metadata": {"name": "other",
                                                                                       "namespace": "mesh-test"}}, None],
                         adopt=True)
    # The ownership rule's guess (unchanged) yields to the dry-run (updated); None: not applied.
    shown = ka.applied_plan(plan, ["unchanged", "updated", "updated", None])
    assert [e["action"] for e in shown["entries"]] == ["unchanged", "update", "adopt", "create"]
    assert shown["summary"] == ("would create ConfigMap mesh-test/later; would change ConfigMap mesh-test/cm; would adopt "
                                "(take over, not labelled by the collection) ConfigMap mesh-test/other; leaves "
                                "unchanged Namespace mesh-test")
    assert ka.plan_text(shown, "test_client").startswith("test_client would create ConfigMap mesh-test/later; ")
    assert ka.plan_text(shown).startswith("cluster_apply would create") and ka.plan_text(shown).endswith(".")


def test_failure_sentences_while_reading_and_in_the_pool():
    entry = ka.validate_objects([CM])[0]
    assert ka.read_failure_message(entry, "reading it", "forbidden: get configmaps in namespace mesh-test") == (
        "ConfigMap mesh-test/cm (objects[0]): reading it failed: forbidden: get configmaps in namespace mesh-test; "
        "nothing was written (every object is read before any write)")
    done = [ka.object_result(ka.validate_objects([NS])[0], "created")]
    pooled = ka.failure_message(entry, "applying", WEBHOOK, done, parallel=True)
    assert pooled.endswith("already applied: Namespace mesh-test (created) (the objects not listed were not applied)")
    assert ka.failure_message(entry, "applying", WEBHOOK, done).endswith("(the objects after it were not applied)")
