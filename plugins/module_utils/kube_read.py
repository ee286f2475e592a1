# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of cluster_read (docs/cluster_read.md), apart from its I/O in kube_rest.py.

Pure functions only: stdlib, no I/O, no AnsibleModule. They check the ``queries`` option (one
sentence per bad input, naming the option and the value), turn API answers into the shapes the
module returns (``apis`` as kubernetes.core.k8s_cluster_info's, ``resources`` as k8s_info's),
judge wait conditions, and decide whether a task runs in the controller or as a module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

QUERY_KEYS = ("api_version", "kind", "name", "namespace", "label_selectors", "field_selectors",
              "wait_condition", "wait_timeout", "wait_sleep")
CONDITION_KEYS = ("type", "status", "reason")
DEFAULT_WAIT_TIMEOUT = 120
DEFAULT_WAIT_SLEEP = 2
# A query key becomes part of messages and of the registered result's keys.
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,62}$")
# RFC 1123 names and DNS subdomains, as kube-apiserver validates them (a name with a '/' would
# change the request path).
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_GROUP = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_VERSION = re.compile(r"^v[0-9]+((alpha|beta)[0-9]+)?$")
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]{0,62}$")


# cluster_read's own options (timeout and the connection options: kube_auth.rest_argument_spec).
READ_ARG_SPEC = {
    "discovery": {"type": "bool", "default": False},
    "queries": {"type": "dict", "default": {}},
}


class ReadInputError(ValueError):
    """A query the engine cannot run; str(exc) is one sentence naming the option and the value."""


def _bad(where, value, expected):
    return ReadInputError("%s is %r: expected %s" % (where, value, expected))


def split_api_version(api_version):
    """``apps/v1`` -> ("apps", "v1"); ``v1`` -> ("", "v1")."""
    group, _sep, version = api_version.rpartition("/")
    return group, version


def _selectors(where, value):
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _bad(where, value, "a list of selector strings such as ['app=sleep']")
    return [v.strip() for v in value]


def _condition(where, value):
    if not isinstance(value, dict):
        raise _bad(where, value, "a dict such as {type: Available, status: 'True'}")
    unknown = sorted(set(value) - set(CONDITION_KEYS))
    if unknown:
        raise _bad(where, value, "only the keys %s (unknown: %s)" % (", ".join(CONDITION_KEYS), ", ".join(unknown)))
    ctype = value.get("type")
    if not isinstance(ctype, str) or not ctype:
        raise _bad(where + ".type", ctype, "a condition type such as Available or Ready")
    status = value.get("status", "True")
    if isinstance(status, bool):
        status = "True" if status else "False"
    if status not in ("True", "False", "Unknown"):
        raise _bad(where + ".status", status, "'True', 'False' or 'Unknown'")
    out = {"type": ctype, "status": status}
    if value.get("reason") is not None:
        out["reason"] = str(value["reason"])
    return out


def _number(where, value, default, low, high):
    if value is None:
        return default
    if isinstance(value, bool):
        raise _bad(where, value, "a number of seconds from %s to %s" % (low, high))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _bad(where, value, "a number of seconds from %s to %s" % (low, high))
    if not low <= number <= high:
        raise _bad(where, value, "a number of seconds from %s to %s" % (low, high))
    return number


def validate_query(key, query):
    """One query, normalised; raises ReadInputError naming ``queries.<key>.<field>``."""
    where = "queries.%s" % key
    if not isinstance(key, str) or not _KEY.match(key):
        raise _bad("a key of queries", key, "a name of letters, digits, '_', '.' or '-' starting with a letter")
    if not isinstance(query, dict):
        raise _bad(where, query, "a dict with api_version and kind")
    unknown = sorted(k for k in query if k not in QUERY_KEYS)
    if unknown:
        raise _bad(where, query, "only the keys %s (unknown: %s)" % (", ".join(QUERY_KEYS), ", ".join(map(str, unknown))))
    api_version = query.get("api_version")
    if not isinstance(api_version, str) or api_version.count("/") > 1:
        raise _bad(where + ".api_version", api_version, "v1 or <group>/<version> such as apps/v1")
    group, version = split_api_version(api_version)
    if not _VERSION.match(version) or (group and not _GROUP.match(group)) or api_version.startswith("/"):
        raise _bad(where + ".api_version", api_version, "v1 or <group>/<version> such as apps/v1")
    kind = query.get("kind")
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise _bad(where + ".kind", kind, "a Kind such as Deployment (CamelCase, as in manifests)")
    out = {"api_version": api_version, "kind": kind, "group": group, "version": version}
    for field, pattern, what in (("name", _NAME, "an object name (lowercase RFC 1123)"),
                                 ("namespace", _NAMESPACE, "a namespace name (lowercase RFC 1123 label)")):
        value = query.get(field)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or not pattern.match(value):
            raise _bad("%s.%s" % (where, field), value, what)
        out[field] = value
    out["label_selectors"] = _selectors(where + ".label_selectors", query.get("label_selectors"))
    out["field_selectors"] = _selectors(where + ".field_selectors", query.get("field_selectors"))
    if query.get("wait_condition") is not None:
        out["wait_condition"] = _condition(where + ".wait_condition", query["wait_condition"])
        out["wait_timeout"] = _number(where + ".wait_timeout", query.get("wait_timeout"), DEFAULT_WAIT_TIMEOUT, 0, 3600)
        out["wait_sleep"] = _number(where + ".wait_sleep", query.get("wait_sleep"), DEFAULT_WAIT_SLEEP, 0.1, 60)
    else:
        for field in ("wait_timeout", "wait_sleep"):
            if query.get(field) is not None:
                raise _bad("%s.%s" % (where, field), query[field], "no value unless %s.wait_condition is set" % where)
    return out


def validate_timeout(timeout):
    """Seconds per request: a positive number up to an hour."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 3600:
        raise _bad("timeout", timeout, "seconds per API request, more than 0 and at most 3600")
    return float(timeout)


def validate_queries(queries):
    """The ``queries`` option (a dict key -> query), normalised, in the given order."""
    if queries is None:
        return {}
    if not isinstance(queries, dict):
        raise _bad("queries", queries, "a dict of query name -> {api_version, kind, ...}")
    return {key: validate_query(key, query) for key, query in queries.items()}


def object_label(query):
    """``Deployment mesh-test/sleep``, ``Pod in mesh-test with app=sleep``, as messages show it."""
    name = query.get("name")
    namespace = query.get("namespace")
    if name:
        target = "%s/%s" % (namespace, name) if namespace else name
        text = "%s %s" % (query["kind"], target)
    else:
        text = "%s objects%s" % (query["kind"], " in namespace %s" % namespace if namespace else "")
    selectors = query.get("label_selectors", []) + query.get("field_selectors", [])
    if selectors:
        text += " with %s" % ",".join(selectors)
    return text


def list_params(query):
    """URL query parameters of a list request (selectors joined as kubectl does)."""
    params = []
    if query.get("label_selectors"):
        params.append(("labelSelector", ",".join(query["label_selectors"])))
    if query.get("field_selectors"):
        params.append(("fieldSelector", ",".join(query["field_selectors"])))
    return params


def resource_path(query, plural, namespaced):
    """The REST path of a query, e.g. /apis/apps/v1/namespaces/mesh-test/deployments/sleep."""
    base = "/apis/%s/%s" % (query["group"], query["version"]) if query["group"] else "/api/%s" % query["version"]
    if namespaced and query.get("namespace"):
        base += "/namespaces/%s" % query["namespace"]
    base += "/%s" % plural
    if query.get("name"):
        base += "/%s" % query["name"]
    return base


def with_type(items, api_version, kind):
    """List items lack apiVersion/kind on the wire; k8s_info's resources carry them."""
    out = []
    for item in items or []:
        if isinstance(item, dict):
            item = dict(item)
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
            out.append(item)
    return out


def matches_name(obj, query):
    """A by-name answer still has to pass the query's label selectors of the form k=v / k!=v / k / !k."""
    labels = ((obj.get("metadata") or {}).get("labels")) or {}
    for selector in query.get("label_selectors", []):
        for part in selector.split(","):
            part = part.strip()
            if "!=" in part:
                key, value = [p.strip() for p in part.split("!=", 1)]
                if labels.get(key) == value:
                    return False
            elif "==" in part or "=" in part:
                key, value = [p.strip() for p in re.split("==?", part, maxsplit=1)]
                if labels.get(key) != value:
                    return False
            elif part.startswith("!"):
                if part[1:].strip() in labels:
                    return False
            elif part and " " not in part and part not in labels:
                return False
    return True


# ----------------------------------------------------------------------------------------------
# discovery answers -> kind index and the ``apis`` result


def resources_of(resource_list):
    """{Kind: {name, namespaced, ...}} of an APIResourceList (subresources such as pods/log left out)."""
    out = {}
    for res in (resource_list or {}).get("resources") or []:
        name = res.get("name") or ""
        kind = res.get("kind")
        if not kind or "/" in name:
            continue
        out[kind] = {"name": name, "namespaced": bool(res.get("namespaced")),
                     "singular_name": res.get("singularName") or "", "short_names": res.get("shortNames") or [],
                     "categories": res.get("categories") or []}
    return out


def apis_from_aggregated(documents):
    """``apis`` from APIGroupDiscoveryList documents (aggregated discovery of /api and /apis).

    Returns ({"<group/version>": {Kind: {...}}}, complete): complete is False when a version
    reports a stale or failed freshness (an unavailable aggregated API server).
    """
    apis = {}
    complete = True
    for doc in documents:
        for group in (doc or {}).get("items") or []:
            gname = (group.get("metadata") or {}).get("name") or ""
            for index, version in enumerate(group.get("versions") or []):
                gv = "%s/%s" % (gname, version.get("version")) if gname else version.get("version")
                if version.get("freshness") not in (None, "Current"):
                    complete = False
                kinds = {}
                for res in version.get("resources") or []:
                    kind = (res.get("responseKind") or {}).get("kind")
                    if not kind:
                        continue
                    kinds[kind] = {"name": res.get("resource") or "", "namespaced": res.get("scope") == "Namespaced",
                                   "singular_name": res.get("singularResource") or "",
                                   "short_names": res.get("shortNames") or [],
                                   "categories": res.get("categories") or [], "preferred": index == 0}
                apis[gv] = kinds
    return apis, complete


def is_aggregated(doc):
    return isinstance(doc, dict) and doc.get("kind") == "APIGroupDiscoveryList"


def group_versions(core_versions, group_list):
    """[(group/version, preferred)] from /api's APIVersions and /apis' APIGroupList."""
    out = [(v, True) for v in (core_versions or {}).get("versions") or []]
    for group in (group_list or {}).get("groups") or []:
        preferred = (group.get("preferredVersion") or {}).get("groupVersion")
        for version in group.get("versions") or []:
            gv = version.get("groupVersion")
            if gv:
                out.append((gv, gv == preferred))
    return out


def apis_from_lists(lists):
    """``apis`` from {(group/version): (APIResourceList, preferred)} (legacy discovery)."""
    apis = {}
    for gv, (resource_list, preferred) in lists.items():
        kinds = resources_of(resource_list)
        for info in kinds.values():
            info["preferred"] = preferred
        apis[gv] = kinds
    return apis


# ----------------------------------------------------------------------------------------------
# wait conditions


def observed_condition(obj, ctype):
    """The live condition of type ``ctype`` (dict) or None."""
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == ctype:
            return cond
    return None


def condition_met(obj, condition):
    """True when ``obj`` has the condition with the wanted status (and reason, when given)."""
    live = observed_condition(obj, condition["type"])
    if live is None or str(live.get("status")) != condition["status"]:
        return False
    return condition.get("reason") is None or live.get("reason") == condition["reason"]


def wait_met(resources, condition):
    """A wait is met when something matched and every matched object meets the condition."""
    live = [r for r in resources if not (r.get("metadata") or {}).get("deletionTimestamp")]
    return bool(live) and all(condition_met(r, condition) for r in live)


def describe_observed(resources, condition):
    """What the last poll saw, for the failure message."""
    if not resources:
        return "no such object"
    parts = []
    for obj in resources[:5]:
        meta = obj.get("metadata") or {}
        live = observed_condition(obj, condition["type"])
        if live is None:
            seen = "no %s condition" % condition["type"]
        else:
            seen = "%s=%s" % (condition["type"], live.get("status"))
            if live.get("reason"):
                seen += " (%s" % live["reason"] + (": %s)" % live["message"] if live.get("message") else ")")
        parts.append("%s: %s" % (meta.get("name"), seen) if len(resources) > 1 else seen)
    more = " and %d more" % (len(resources) - 5) if len(resources) > 5 else ""
    return "; ".join(parts) + more


def wait_failure(key, query, resources):
    cond = query["wait_condition"]
    want = "%s=%s" % (cond["type"], cond["status"]) + (" (reason %s)" % cond["reason"] if cond.get("reason") else "")
    return ("query %s: %s did not reach condition %s within the wait_timeout of %g s (last observed: %s)"
            % (key, object_label(query), want, query["wait_timeout"], describe_observed(resources, cond)))


# ----------------------------------------------------------------------------------------------
# where the engine runs

LOCAL_CONNECTIONS = ("local", "ansible.builtin.local", "ansible.legacy.local")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def runs_in_controller(connection, delegate_to=None):
    """True when the task's target is the controller itself, so the engine can run in-process.

    ``connection`` is the connection plugin the task resolved to (a delegated task's own);
    ``delegate_to`` the delegated host name, if any.
    """
    if (connection or "") in LOCAL_CONNECTIONS:
        return True
    return (delegate_to or "") in LOCAL_HOSTS
