# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_apply's engine: server-side apply of a list of manifests over kube_rest.Client.

Shared by the action plugin (in the controller's worker, no AnsiballZ) and the module (on a
remote target). In three phases (docs/cluster_apply.md):

1. read: every object's kind (discovery of its group/version, once per call) and its live state:
   a GET per object, or one paged LIST for LIST_MIN or more objects of one kind in one namespace
   (absence from a list counts only when every page was read; else those objects are read by GET);
2. judge: with ``guard``, the ownership rule (ownership.ownership_plan) over all of them; a
   single object of someone else's fails the call before any write;
3. write: per object a dry-run apply (dryRun=All) unless the object is new and this is a real
   run, compare (kube_apply.plan_action), and only a difference, or a new object, is written
   with the real apply (fieldManager, force=true). Cluster-scoped objects (Namespaces, CRDs) go
   first, in order; POOL_MIN or more namespaced objects then go through POOL_SIZE connections.

The first failure stops the call, naming the object and what was applied before it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube_apply, kube_auth, kube_read, kube_rest, ownership
from ansible_collections.homelab.istio_egress.plugins.module_utils.api_errors import api_error_cause
from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_apply import ApplyError
from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_rest import ReadError
from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_rest_read import Reader

# From this many objects of one kind in one namespace, one LIST replaces their GETs. Measured on
# the local plane (benchmarks/bench_cluster_apply.py, docs/dev/benchmarks.md): 2 GETs 2.3 ms, 4 GETs
# 4.5 ms, one LIST of the same objects 1.4 ms. A LIST also reads the kind's other objects in the
# namespace, so it starts where it saves two requests, not one.
LIST_MIN = 3
# A LIST reads at most this many pages of kube_rest.PAGE_LIMIT; a namespace holding more of
# the kind is not proof of absence: the objects not seen are read by GET.
LIST_MAX_PAGES = 4
# Connections that write namespaced objects side by side, and from how many objects a pool is
# worth its threads (below it, one connection in order, as before).
POOL_SIZE = 4
POOL_MIN = 8


def _status_message(exc):
    try:
        doc = json.loads(exc.body.decode("utf-8", "replace"))
        return doc.get("message") or "" if isinstance(doc, dict) else ""
    except ValueError:
        return exc.body[:300].decode("utf-8", "replace")


class _Failed(Exception):
    def __init__(self, entry, step, cause, status=None):
        super(_Failed, self).__init__(cause)
        self.entry, self.step, self.cause, self.status = entry, step, cause, status


class Applier(object):
    def __init__(self, client, field_manager, check_mode=False, diff=False, deadline=None):
        self.client = client
        self.reader = Reader(client, deadline)
        self.field_manager = field_manager
        self.check_mode = check_mode
        self.diff = diff
        self.deadline = deadline
        self.new_namespaces = set()   # created by this call in check mode (so not there to dry-run)
        self.lists = 0

    def _call(self, client, entry, step, method, path, body=None, params=None, missing_ok=False):
        try:
            return client.request_json(method, path, body, kube_apply.APPLY_CONTENT_TYPE if body else None,
                                       params, deadline=self.deadline, missing_ok=missing_ok)
        except kube_rest._HTTPFailure as exc:
            cause = kube_apply.write_cause(exc.status, exc.reason, _status_message(exc))
            raise _Failed(entry, step, cause, exc.status)
        except kube_rest._Transport as exc:
            raise _Failed(entry, step, api_error_cause(str(exc)))
        except ReadError as exc:
            raise _Failed(entry, step, exc.cause)

    # --- phase 1: where each object lives, and what is there

    def locate(self, entry):
        """{namespaced, path}: the kind's scope and the object's REST path; raises _Failed/ApplyError."""
        try:
            info = self.reader.kind_info(kube_apply.label(entry), kube_apply.query_of(entry, False))
        except ReadError as exc:
            raise _Failed(entry, "discovering its kind", exc.cause)
        if info is None:
            raise _Failed(entry, "discovering its kind", "%s %s is not served by %s (is its CRD installed?)" % (
                entry["api_version"], entry["kind"], self.client.server))
        problem = kube_apply.scope_problem(entry, info["namespaced"])
        if problem:
            raise ApplyError(problem)
        path = kube_read.resource_path(kube_apply.query_of(entry, info["namespaced"]), info["name"],
                                       info["namespaced"])
        return {"namespaced": info["namespaced"], "plural": info["name"], "path": path}

    def _list(self, entries, where):
        """Live objects of one kind in one namespace by name, and whether every page was read."""
        first = entries[0]
        query = dict(kube_apply.query_of(first, True), name=None)
        path = kube_read.resource_path(query, where[first["index"]]["plural"], True)
        found, params = {}, [("limit", str(kube_rest.PAGE_LIMIT))]
        for _page in range(LIST_MAX_PAGES):
            doc = self._call(self.client, first, "listing its kind in its namespace", "GET", path, params=params)
            self.lists += 1
            for item in doc.get("items") or []:
                name = ((item or {}).get("metadata") or {}).get("name")
                if name:
                    found[name] = kube_read.with_type([item], first["api_version"], first["kind"])[0]
            token = (doc.get("metadata") or {}).get("continue")
            if not token:
                return found, True
            params = [("limit", str(kube_rest.PAGE_LIMIT)), ("continue", token)]
        return found, False

    def read_all(self, entries, where):
        """The live object (or None) of each entry, in order; a namespace the call reads as absent
        holds none of its objects, so those are not asked about."""
        lives = [None] * len(entries)
        absent_namespaces = set()
        groups, order = {}, []
        for entry in entries:
            if not where[entry["index"]]["namespaced"]:
                lives[entry["index"]] = self._call(self.client, entry, "reading it", "GET",
                                                   where[entry["index"]]["path"], missing_ok=True)
                if entry["kind"] == "Namespace" and entry["api_version"] == "v1" and lives[entry["index"]] is None:
                    absent_namespaces.add(entry["name"])
                continue
            key = (entry["api_version"], entry["kind"], entry["namespace"])
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append(entry)
        for key in order:
            members = groups[key]
            if key[2] in absent_namespaces:
                continue
            seen, complete = ({}, False)
            if len(members) >= LIST_MIN:
                seen, complete = self._list(members, where)
            for entry in members:
                if entry["name"] in seen:
                    lives[entry["index"]] = seen[entry["name"]]
                elif not complete:
                    lives[entry["index"]] = self._call(self.client, entry, "reading it", "GET",
                                                       where[entry["index"]]["path"], missing_ok=True)
        return lives

    # --- phase 3: dry-run, compare, write

    def _apply(self, client, entry, path, dry_run):
        params = [("fieldManager", self.field_manager), ("force", "true")]
        if dry_run:
            params.append(("dryRun", "All"))
        return self._call(client, entry, "applying" if not dry_run else "the dry-run apply", "PATCH", path,
                          entry["manifest"], params)

    def _namespace_missing(self, client, entry):
        if entry["namespace"] in self.new_namespaces:
            return True
        found = self._call(client, entry, "reading its namespace", "GET",
                           "/api/v1/namespaces/%s" % entry["namespace"], missing_ok=True)
        return found is None

    def write_one(self, client, entry, place, live):
        """(action, before, after, note) of one object; raises _Failed."""
        path = place["path"]
        missing_note = kube_apply.missing_namespace_note(entry.get("namespace"))
        if self.check_mode and place["namespaced"] and entry["namespace"] in self.new_namespaces:
            return "created", None, entry["manifest"], missing_note
        if live is None and not self.check_mode:
            return "created", None, self._apply(client, entry, path, False), None
        try:
            dry = self._apply(client, entry, path, True)
        except _Failed as exc:
            if (exc.status == 404 and self.check_mode and place["namespaced"]
                    and self._namespace_missing(client, entry)):
                return "created", None, entry["manifest"], missing_note
            raise
        action = kube_apply.plan_action(live, dry)
        if action == "created" and entry["kind"] == "Namespace" and not place["namespaced"]:
            self.new_namespaces.add(entry["name"])
        after = dry
        if action != "unchanged" and not self.check_mode:
            after = self._apply(client, entry, path, False)
            # What the real apply made decides, not the dry-run (a webhook may have mutated it).
            if kube_apply.plan_action(live, after) == "unchanged":
                action = "unchanged"
        return action, live, after, None

    def write_pool(self, entries, where, lives, done):
        """write_one for ``entries`` over POOL_SIZE connections of their own; ``done[i]`` gets each
        outcome. Returns the failures (_Failed); after the first, no new object starts."""
        todo = list(entries)
        lock = threading.Lock()
        failures = []
        clients = []

        def worker(client):
            while True:
                with lock:
                    if failures or not todo:
                        return
                    entry = todo.pop(0)
                try:
                    outcome = self.write_one(client, entry, where[entry["index"]], lives[entry["index"]])
                except _Failed as exc:
                    with lock:
                        failures.append(exc)
                    return
                except Exception as exc:  # pylint: disable=broad-except
                    # Never lose a thread's error silently: reported like a failed request.
                    with lock:
                        failures.append(_Failed(entry, "applying", "%s: %s" % (type(exc).__name__, exc)))
                    return
                with lock:
                    done[entry["index"]] = outcome

        threads = []
        for _n in range(min(POOL_SIZE, len(todo))):
            client = self.client.sibling()
            clients.append(client)
            thread = threading.Thread(target=worker, args=(client,))
            thread.daemon = True
            threads.append(thread)
            thread.start()
        for thread in threads:
            thread.join()   # every request of a worker is bounded by timeout and the deadline
        for client in clients:
            client.close()
            self.client.requests += client.requests
        return failures


def _results(entries, done, diff):
    results, diffs = [], []
    for entry in entries:
        outcome = done.get(entry["index"])
        if outcome is None:
            continue
        action, before, after, note = outcome
        results.append(kube_apply.object_result(entry, action, before, after, diff, note))
        if diff and action != "unchanged":
            diffs.append(kube_apply.diff_entry(entry, before, after))
    return results, diffs


def _write(applier, entries, where, lives, done, check_mode):
    """Phase 3; returns (failed entry's message, cause) or None."""
    namespaced = [e for e in entries if where[e["index"]]["namespaced"]]
    parallel = len(namespaced) >= POOL_MIN
    sequential = [e for e in entries if not where[e["index"]]["namespaced"]] if parallel else entries
    for entry in sequential:
        try:
            done[entry["index"]] = applier.write_one(applier.client, entry, where[entry["index"]], lives[entry["index"]])
        except _Failed as exc:
            results, _d = _results(entries, done, False)
            return kube_apply.failure_message(exc.entry, exc.step, exc.cause, results, check_mode), exc.cause
    if not parallel:
        return None
    failures = applier.write_pool(namespaced, where, lives, done)
    if failures:
        exc = min(failures, key=lambda f: f.entry["index"])
        results, _d = _results(entries, done, False)
        return kube_apply.failure_message(exc.entry, exc.step, exc.cause, results, check_mode, parallel=True), exc.cause
    return None


def run(settings, entries, field_manager, check_mode=False, diff=False, timeout=30, deadline=None, guard=None):
    """The result of one cluster_apply call; ``failed`` with msg/cause on the first failure.

    ``guard``: None, or {adopt, owner_role} to take the ownership decision (phase 2).
    """
    client = kube_rest.Client(settings, timeout)
    applier = Applier(client, field_manager, check_mode, diff, deadline)
    result = {"connection": {"server": client.server, "context": settings.get("context")}}
    done = {}
    plan = None
    try:
        try:
            where = {}
            for entry in entries:
                where[entry["index"]] = applier.locate(entry)
            lives = applier.read_all(entries, where)
        except _Failed as exc:
            result.update(failed=True, cause=exc.cause, msg=kube_apply.read_failure_message(
                exc.entry, exc.step, exc.cause))
        except ApplyError as exc:
            result.update(failed=True, cause=exc.cause, msg="%s; nothing was written" % exc.msg)
        if not result.get("failed") and guard is not None:
            plan = kube_apply.guard_plan(entries, lives, guard["adopt"])
            if plan["refused"]:
                result.update(failed=True, msg=ownership.refusal_message(plan["refused"], guard.get("owner_role")),
                              cause="someone else's object (not labelled app.kubernetes.io/managed-by)")
        if not result.get("failed"):
            failure = _write(applier, entries, where, lives, done, check_mode)
            if failure:
                result.update(failed=True, msg=failure[0], cause=failure[1])
    finally:
        client.close()
    results, diffs = _results(entries, done, diff)
    result.update(changed=kube_apply.summary(results), objects=results, requests=client.requests)
    if plan is not None:
        actions = [done[e["index"]][0] if e["index"] in done else None for e in entries]
        shown = plan if plan["refused"] else kube_apply.applied_plan(plan, actions)
        result["plan"] = {"entries": [{"id": i["id"], "action": i["action"]} for i in shown["entries"]],
                          "summary": shown["summary"]}
        text = kube_apply.plan_text(shown, guard.get("owner_role"))
        if not result.get("failed"):
            result["msg"] = text
            if any(i["action"] == "adopt" for i in shown["entries"]):
                result["warnings"] = [text]
        if diff:
            # Printed as it is by Ansible's diff display: the plan first, then each object's diff.
            diffs.insert(0, {"prepared": text})
    if diff:
        result["diff"] = diffs
    return result


def argument_spec():
    """The module's argument spec: cluster_apply's options, timeout and the connection options."""
    return kube_auth.rest_argument_spec(kube_apply.APPLY_ARG_SPEC)


def call(params, in_controller, check_mode=False, diff=False, deadline=None, environ=None):
    """The whole call on validated params: the result (``failed`` with msg and cause on an error)."""
    try:
        timeout = kube_read.validate_timeout(params.get("timeout"))
        entries = kube_apply.validate_objects(params.get("objects"))
        field_manager = kube_apply.validate_field_manager(params.get("field_manager"))
        guard, adopt, owner_role = kube_apply.validate_guard(entries, params.get("guard"), params.get("adopt"),
                                                             params.get("owner_role"))
    except (kube_read.ReadInputError, kube_apply.ApplyInputError) as exc:
        return {"failed": True, "changed": False, "msg": str(exc), "in_controller": in_controller}
    try:
        settings = kube_rest.settings_for(kube_auth.auth_from_params(params, environ), environ)
        result = run(settings, entries, field_manager, check_mode, diff, timeout, deadline,
                     {"adopt": adopt, "owner_role": owner_role} if guard else None)
    except ReadError as exc:
        return {"failed": True, "changed": False, "msg": exc.msg, "cause": exc.cause, "in_controller": in_controller}
    result["in_controller"] = in_controller
    return result
