# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of cluster_apply (docs/cluster_apply.md), apart from its I/O in kube_rest_apply.py.

Pure functions only: stdlib, no I/O, no AnsibleModule. They check the ``objects`` option (one
sentence per bad manifest, naming its index and field), compare a live object with what a
server-side apply would make of it (volatile fields dropped, so an apply that changes nothing is
not a change), shape the per-object results and Ansible's ``diff``, and word the failures.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube_read, ownership
from ansible_collections.homelab.istio_egress.plugins.module_utils.api_errors import api_error_cause

DEFAULT_FIELD_MANAGER = "homelab.istio_egress"

# cluster_apply's own options (timeout and the connection options: kube_auth.rest_argument_spec).
APPLY_ARG_SPEC = {
    "objects": {"type": "raw", "required": True},
    "field_manager": {"type": "str", "default": DEFAULT_FIELD_MANAGER},
    "guard": {"type": "bool", "default": False},
    "adopt": {"type": "bool", "default": False},
    "owner_role": {"type": "str"},
}

# Written by the API server on every write (or by the apply itself): never a difference the
# user made. Annotations and labels the server adds stay: they are part of the object.
VOLATILE_METADATA = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink")
# What a manifest copied from a live read may carry and an apply must not send (the API server
# refuses managedFields in an apply; a resourceVersion would turn the apply into a precondition).
NOT_SENT_METADATA = VOLATILE_METADATA + ("deletionTimestamp", "deletionGracePeriodSeconds")

_ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")

APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
ACTIONS = ("created", "updated", "unchanged")


class ApplyInputError(ValueError):
    """An ``objects`` value the engine cannot apply; str(exc) names the index, the field and the value."""


class ApplyError(Exception):
    """An apply failed: ``msg`` is one sentence naming the object, ``cause`` the cause in a few words."""

    def __init__(self, msg, cause=None):
        super(ApplyError, self).__init__(msg)
        self.msg = msg
        self.cause = cause or msg


def _short(value):
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _bad(where, value, expected):
    return ApplyInputError("%s is %s: expected %s" % (where, _short(value), expected))


def validate_field_manager(value):
    if not isinstance(value, str) or not value.strip() or len(value) > 128:
        raise _bad("field_manager", value, "a non-empty name of at most 128 characters such as homelab.istio_egress")
    return value


def validate_guard(entries, guard, adopt, owner_role):
    """The ownership options: (guard, adopt, owner_role) or ApplyInputError naming the option.

    With the guard on, every manifest must carry the collection's managed-by label: an object
    written without it would be someone else's to the next run (ownership.is_owned).
    """
    if owner_role is not None and (not isinstance(owner_role, str) or not _ROLE.match(owner_role)):
        raise _bad("owner_role", owner_role, "a role name such as egress_routes (lowercase letters, digits, _ and -)")
    if not guard:
        if adopt:
            raise _bad("adopt", adopt, "false while guard is false: adopt only changes what the ownership guard "
                       "refuses; set guard: true")
        return False, False, owner_role
    for entry in entries:
        if not ownership.is_owned(entry["manifest"]):
            raise _bad("objects[%d].metadata.labels" % entry["index"], (entry["manifest"]["metadata"].get("labels")),
                       "%s=%s with guard: true, or the next run would refuse the object this one writes "
                       "(the roles render ownership.ownership_labels)" % (ownership.MANAGED_BY_KEY, ownership.MANAGED_BY))
    return True, bool(adopt), owner_role


def validate_object(index, obj):
    """One manifest -> {api_version, group, version, kind, name, namespace, manifest}; raises ApplyInputError."""
    where = "objects[%d]" % index
    if not isinstance(obj, dict):
        raise _bad(where, obj, "a manifest (a dict with apiVersion, kind and metadata.name)")
    api_version = obj.get("apiVersion")
    group, version = kube_read.split_api_version(api_version) if isinstance(api_version, str) else ("", "")
    if (not isinstance(api_version, str) or api_version.count("/") > 1 or api_version.startswith("/")
            or not kube_read._VERSION.match(version) or (group and not kube_read._GROUP.match(group))):
        raise _bad(where + ".apiVersion", api_version, "v1 or <group>/<version> such as apps/v1")
    kind = obj.get("kind")
    if not isinstance(kind, str) or not kube_read._KIND.match(kind):
        raise _bad(where + ".kind", kind, "a Kind such as Deployment (CamelCase, as in manifests)")
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        raise _bad(where + ".metadata", metadata, "a dict with at least name")
    name = metadata.get("name")
    if not isinstance(name, str) or not kube_read._NAME.match(name):
        raise _bad(where + ".metadata.name", name, "an object name (lowercase RFC 1123; generateName is not supported)")
    namespace = metadata.get("namespace")
    if namespace in (None, ""):
        namespace = None
    elif not isinstance(namespace, str) or not kube_read._NAMESPACE.match(namespace):
        raise _bad(where + ".metadata.namespace", namespace, "a namespace name (lowercase RFC 1123 label)")
    manifest = dict(obj)
    manifest["metadata"] = {k: v for k, v in metadata.items() if k not in NOT_SENT_METADATA}
    manifest.pop("status", None)
    return {"index": index, "api_version": api_version, "group": group, "version": version, "kind": kind,
            "name": name, "namespace": namespace, "manifest": manifest}


def validate_objects(objects):
    """The ``objects`` option (a list of manifests, or one manifest) in the given order."""
    if isinstance(objects, dict):
        objects = [objects]
    if isinstance(objects, str):
        raise _bad("objects", objects, "a list of manifests (dicts), not text: parse a rendered template "
                   "with ansible.builtin.from_yaml or from_yaml_all")
    if not isinstance(objects, (list, tuple)):
        raise _bad("objects", objects, "a list of manifests (dicts with apiVersion, kind and metadata.name)")
    return [validate_object(index, obj) for index, obj in enumerate(objects)]


def label(entry):
    """``Deployment mesh-test/sleep`` or ``Namespace mesh-test``, as messages show an object."""
    target = "%s/%s" % (entry["namespace"], entry["name"]) if entry.get("namespace") else entry["name"]
    return "%s %s" % (entry["kind"], target)


def query_of(entry, namespaced):
    """The kube_read query shape of an entry (for discovery and kube_read.resource_path)."""
    query = {"api_version": entry["api_version"], "group": entry["group"], "version": entry["version"],
             "kind": entry["kind"], "name": entry["name"]}
    if namespaced:
        query["namespace"] = entry["namespace"]
    return query


def scope_problem(entry, namespaced):
    """A sentence when the manifest and the kind's scope disagree, else None."""
    if namespaced and not entry.get("namespace"):
        return ("objects[%d] (%s %s) has no metadata.namespace: %s is namespaced; set the namespace in the manifest"
                % (entry["index"], entry["kind"], entry["name"], entry["kind"]))
    if not namespaced and entry.get("namespace"):
        return ("objects[%d] (%s %s) has metadata.namespace %s: %s is cluster-scoped; remove the namespace"
                % (entry["index"], entry["kind"], entry["name"], entry["namespace"], entry["kind"]))
    return None


def comparable(obj):
    """A copy of ``obj`` without what the server rewrites on every write (and without status)."""
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    out.pop("status", None)
    metadata = out.get("metadata")
    if isinstance(metadata, dict):
        for key in VOLATILE_METADATA:
            metadata.pop(key, None)
    return out


def plan_action(live, applied):
    """created | updated | unchanged, from the live object (None when absent) and the dry-run result."""
    if live is None:
        return "created"
    return "unchanged" if comparable(live) == comparable(applied) else "updated"


def object_result(entry, action, before=None, after=None, diff=False, note=None):
    """One entry of the ``objects`` result."""
    out = {"api_version": entry["api_version"], "kind": entry["kind"], "namespace": entry.get("namespace"),
           "name": entry["name"], "action": action}
    if note:
        out["note"] = note
    if diff:
        out["before"] = comparable(before) or {}
        out["after"] = comparable(after) or {}
    return out


def diff_entry(entry, before, after):
    """One item of Ansible's ``diff`` list: the object before and after, volatile fields dropped."""
    name = label(entry)
    return {"before": comparable(before) or {}, "after": comparable(after) or {},
            "before_header": "%s (live)" % name, "after_header": "%s (applied)" % name}


def missing_namespace_note(namespace):
    return ("namespace %s does not exist yet: the API server cannot dry-run an object in it, so it is reported "
            "as created without asking the API (check mode)" % namespace)


def write_cause(status, reason, message):
    """The cause of a refused request in a few words, keeping what an admission webhook said.

    istiod's validating webhook answers an invalid Istio object with a denial the API server
    returns as 400 (or 403) carrying 'admission webhook "..." denied the request: ...': that
    sentence is the cause, not "forbidden". RBAC denials and 401 keep api_errors' words.
    """
    message = " ".join((message or "").split())
    if "admission webhook" in message:
        return message[:1000]
    if status in (401, 403):
        return api_error_cause("(%d)\nReason: %s\n%s" % (status, reason, message))
    text = "%d %s" % (status, reason or "")
    return ("%s: %s" % (text.strip(), message[:600])) if message else text.strip()


def done_text(results, check_mode=False):
    """What happened before a failure: ``Namespace mesh-test (created), ...`` or a plain statement."""
    if not results:
        return "no object was %s before it" % ("checked" if check_mode else "applied")
    parts = []
    for res in results:
        target = "%s/%s" % (res["namespace"], res["name"]) if res.get("namespace") else res["name"]
        parts.append("%s %s (%s)" % (res["kind"], target, res["action"]))
    return ("checked before it: " if check_mode else "already applied: ") + ", ".join(parts)


def failure_message(entry, step, cause, results, check_mode=False, parallel=False):
    """One sentence: the object, the step, the cause, and what was applied before it.

    ``parallel``: the objects were written by a pool, so "before it" means "besides it".
    """
    later = " (the objects after it were not applied)" if not check_mode else " (check mode: nothing was written)"
    if parallel and not check_mode:
        later = " (the objects not listed were not applied)"
    return "%s (objects[%d]): %s failed: %s; %s%s" % (
        label(entry), entry["index"], step, cause, done_text(results, check_mode), later)


_PLAN_WORDS = {"created": "create", "updated": "update", "unchanged": "unchanged"}


def guard_plan(entries, lives, adopt):
    """ownership.ownership_plan of the call: ``lives[i]`` is entries[i]'s live object or None."""
    live = []
    for entry, obj in zip(entries, lives):
        if obj is not None:
            # List items lack apiVersion/kind; the rule keys objects by group, kind, namespace, name.
            live.append(dict(obj, apiVersion=entry["api_version"], kind=entry["kind"]))
    return ownership.ownership_plan([e["manifest"] for e in entries], live, adopt, "present")


def applied_plan(plan, actions):
    """``plan`` with the apply's own outcome for the collection's objects, as the result shows it.

    ``actions[i]`` is created/updated/unchanged, or None for an object not applied (a failure
    before it). The dry-run decides update/unchanged (ownership._would_change only guesses);
    adopt and refuse stay the ownership rule's.
    """
    entries = []
    for item, action in zip(plan["entries"], actions):
        word = item["action"]
        if word in ("create", "update", "unchanged") and action in _PLAN_WORDS:
            word = _PLAN_WORDS[action]
        entries.append({"id": item["id"], "action": word})
    return {"entries": entries, "refused": list(plan["refused"]), "summary": ownership.plan_summary(entries)}


def plan_text(plan, owner_role=None):
    """``egress_routes would create ...; leaves unchanged ....``: the plan as the roles used to print it."""
    return "%s %s." % (owner_role or "cluster_apply", plan["summary"])


def read_failure_message(entry, step, cause):
    """A failure while reading, before any write: one sentence, and that nothing was written."""
    return "%s (objects[%d]): %s failed: %s; nothing was written (every object is read before any write)" % (
        label(entry), entry["index"], step, cause)


def summary(results):
    """The task's ``changed``: any object created or updated (would be, in check mode)."""
    return any(res["action"] != "unchanged" for res in results)
