# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Kubernetes objects belong to the collection, and what a run may do to them.

Pure functions only: stdlib, no I/O, no AnsibleModule. The roles call them through the filters
of ``plugins/filter/guard.py`` (docs/ownership.md explains the rules for users):

* every object the collection creates carries OWNERSHIP_LABELS plus ROLE_KEY=<role>;
* converge refuses an existing object of the same kind, namespace and name that lacks them,
  unless the role's ``<role>_adopt`` is true (then it is taken over and labelled);
* cleanup deletes only objects that carry them and reports the others as kept, with the reason.

An object "carries" the labels when ``app.kubernetes.io/managed-by`` is ``homelab.istio_egress``:
that is the label the collection alone writes. ``part-of`` and the role label say more about it,
but a missing role label (an object labelled by an older version) does not make it foreign.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

MANAGED_BY_KEY = "app.kubernetes.io/managed-by"
MANAGED_BY = "homelab.istio_egress"
PART_OF_KEY = "app.kubernetes.io/part-of"
PART_OF = "istio-egress"
ROLE_KEY = "istio-egress.homelab/role"

ROLES = ("egress_gateway", "test_client", "egress_routes", "registry_only", "calico_policy", "egress_verify")


class OwnershipError(ValueError):
    """An input the ownership rules cannot work with (named in the message)."""


def ownership_labels(role):
    """The labels every object written by ``role`` carries."""
    if role not in ROLES:
        raise OwnershipError("ownership_labels: unknown role %r (expected one of %s)" % (role, ", ".join(ROLES)))
    return {MANAGED_BY_KEY: MANAGED_BY, PART_OF_KEY: PART_OF, ROLE_KEY: role}


def with_ownership(objects, role):
    """Copies of ``objects`` (a manifest or a list) whose metadata.labels include the ownership labels.

    The ownership labels win over a user label of the same key: an object the collection writes
    must be recognisable as its own. A Deployment's pod template gets them too, so its pods (and
    ReplicaSets) are recognisably the collection's when cleanup looks at what is left in a namespace.
    """
    single = isinstance(objects, dict)
    labels = ownership_labels(role)
    out = []
    for obj in ([objects] if single else objects or []):
        if not isinstance(obj, dict):
            raise OwnershipError("with_ownership: expected Kubernetes manifests (dicts), got %r" % (obj,))
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        meta["labels"] = dict(meta.get("labels") or {}, **labels)
        template = (obj.get("spec") or {}).get("template")
        if obj.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job") and isinstance(template, dict):
            tmeta = template.setdefault("metadata", {})
            tmeta["labels"] = dict(tmeta.get("labels") or {}, **labels)
        out.append(obj)
    return out[0] if single else out


def is_owned(obj):
    """True when a live object carries the collection's managed-by label."""
    labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY_KEY) == MANAGED_BY


def object_id(obj):
    """``Kind namespace/name`` (or ``Kind name`` for cluster-scoped objects), as messages show it."""
    meta = obj.get("metadata") or {}
    where = "%s/%s" % (meta["namespace"], meta.get("name")) if meta.get("namespace") else meta.get("name")
    return "%s %s" % (obj.get("kind"), where)


def _key(obj):
    meta = obj.get("metadata") or {}
    group = (obj.get("apiVersion") or "").rpartition("/")[0]
    return (group, obj.get("kind"), meta.get("namespace") or "", meta.get("name"))


def ownership_queries(objects, keyed=False):
    """The reads that find every live object of ``objects``: one per kind and namespace.

    A kind and namespace with one object is read by name; with several, the whole list is read
    (one call per kind, however many hosts a role renders), and plans match by name.
    ``keyed``: a dict ``<kind>_<n>`` -> query, the ``queries`` of one cluster_read call.
    """
    groups = {}
    order = []
    for obj in objects or []:
        meta = obj.get("metadata") or {}
        key = (obj.get("apiVersion"), obj.get("kind"), meta.get("namespace") or "")
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(meta.get("name"))
    queries = []
    for key in order:
        query = {"api_version": key[0], "kind": key[1]}
        if key[2]:
            query["namespace"] = key[2]
        if len(groups[key]) == 1:
            query["name"] = groups[key][0]
        queries.append(query)
    if keyed:
        return {"%s_%d" % (q["kind"].lower(), n): q for n, q in enumerate(queries)}
    return queries


def _live_index(live):
    """Live objects (a flat list, k8s_info results with ``resources``, or cluster_read's ``results``
    dict of them) by key."""
    index = {}
    if isinstance(live, dict):
        live = list(live.values())
    for entry in live or []:
        resources = entry.get("resources") if isinstance(entry, dict) and "resources" in entry else [entry]
        for obj in resources or []:
            if isinstance(obj, dict) and obj.get("metadata"):
                index[_key(obj)] = obj
    return index


def _contains(want, have):
    """True when ``have`` already holds every field of ``want`` (server defaults may add more)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and _contains(v, have[k]) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(want) == len(have) and all(
            _contains(w, h) for w, h in zip(want, have))
    if isinstance(want, bool) or isinstance(have, bool):
        return want is have
    if isinstance(want, (int, float)) and isinstance(have, (int, float)):
        return want == have
    return str(want) == str(have)


def _would_change(want, have):
    fields = {k: v for k, v in want.items() if k not in ("apiVersion", "kind", "metadata", "status")}
    meta = want.get("metadata") or {}
    have_meta = have.get("metadata") or {}
    for part in ("labels", "annotations"):
        if meta.get(part) and not _contains(meta[part], have_meta.get(part) or {}):
            return True
    return not _contains(fields, have)


def ownership_plan(desired, live, adopt=False, state="present"):
    """What a run would do to each object of ``desired`` given the ``live`` ones.

    Returns ``{'entries': [{'id', 'action', 'object'}], 'refused': [ids], 'summary': str}`` where
    action is, for state present: ``create`` (absent), ``unchanged``, ``update`` (ours, differs),
    ``adopt`` (someone else's, ``adopt`` true) or ``refuse`` (someone else's); for state absent:
    ``delete`` (ours), ``keep`` (someone else's) or ``absent``. ``object`` is the desired manifest
    (present) or the live one (absent).
    """
    if state not in ("present", "absent"):
        raise OwnershipError("ownership_plan: state must be present or absent, got %r" % (state,))
    index = _live_index(live)
    items = []
    for want in desired or []:
        have = index.get(_key(want))
        if have is not None and (have.get("metadata") or {}).get("deletionTimestamp"):
            have = None if state == "absent" else have
        if state == "absent":
            if have is None:
                action = "absent"
            else:
                action = "delete" if is_owned(have) else "keep"
            items.append({"id": object_id(want), "action": action, "object": have if have is not None else want})
            continue
        if have is None:
            action = "create"
        elif not is_owned(have):
            action = "adopt" if adopt else "refuse"
        else:
            action = "update" if _would_change(want, have) else "unchanged"
        items.append({"id": object_id(want), "action": action, "object": want})
    refused = [i["id"] for i in items if i["action"] == "refuse"]
    return {"entries": items, "refused": refused, "summary": plan_summary(items)}


_VERBS = (
    ("create", "would create"), ("update", "would change"),
    ("adopt", "would adopt (take over, not labelled by the collection)"),
    ("refuse", "refuses to take over"), ("delete", "would remove"),
    ("keep", "keeps (not labelled app.kubernetes.io/managed-by=%s)" % MANAGED_BY),
    ("unchanged", "leaves unchanged"), ("absent", "finds nothing to remove for"))


def plan_summary(items):
    """One sentence per action: ``would create Gateway a/b, ...; leaves unchanged ...``."""
    parts = []
    for action, verb in _VERBS:
        ids = [i["id"] for i in items if i["action"] == action]
        if ids:
            parts.append("%s %s" % (verb, ", ".join(ids)))
    return "; ".join(parts) if parts else "no objects"


def refusal_message(refused, role=None):
    """The one sentence a converge fails with when objects of its names are someone else's.

    ``refused``: the ``refused`` ids of an ownership_plan; ``role``: who refuses (a role of the
    collection, whose ``<role>_adopt`` is the remedy), else cluster_apply and its ``adopt`` option.
    """
    who = role or "cluster_apply"
    remedy = ("set %s_adopt=true" % role) if role else "set the option adopt to true"
    return ("%s refuses to take over %s: it exists without the label %s=%s, so it was not created by this "
            "collection; nothing was changed. Rename the collection's object (see docs/roles.md), remove yours, "
            "or %s to take it over (it is then overwritten and removed by cleanup)."
            % (who, ", ".join(refused), MANAGED_BY_KEY, MANAGED_BY, remedy))


# Objects Kubernetes or Istio create in every namespace by themselves: not the user's, not ours.
_GENERATED = {
    ("ServiceAccount", "default"),
    ("ConfigMap", "kube-root-ca.crt"),
    ("ConfigMap", "istio-ca-root-cert"),
    # istiod 1.30 also writes its CRL ConfigMap into every namespace (seen on the local plane).
    ("ConfigMap", "istio-ca-crl"),
}


def foreign_objects(live):
    """``Kind name`` of the live objects that are neither the collection's nor generated by the platform.

    ``live`` is a flat list or k8s_info results. Objects controlled by an owner (a ReplicaSet's pods,
    a Deployment's ReplicaSets, EndpointSlices of a Service) are judged through their labels like
    any other: the collection's pod templates carry the ownership labels.
    """
    out = []
    for obj in _live_index(live).values():
        meta = obj.get("metadata") or {}
        if is_owned(obj) or (obj.get("kind"), meta.get("name")) in _GENERATED:
            continue
        if meta.get("deletionTimestamp"):
            continue
        out.append("%s %s" % (obj.get("kind"), meta.get("name")))
    return sorted(out)
