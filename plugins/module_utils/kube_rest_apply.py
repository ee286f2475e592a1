# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_apply's engine: server-side apply of a list of manifests over kube_rest.Client.

Shared by the action plugin (in the controller's worker, no AnsiballZ) and the module (on a
remote target). Per object, in the given order (docs/cluster_apply.md):

1. the kind's resource name and scope (discovery of its group/version, once per call);
2. GET the live object (404: it does not exist);
3. a dry-run apply (dryRun=All) unless the object is new and this is a real run;
4. compare (kube_apply.plan_action): only a difference, or a new object, is written, with the
   real apply (fieldManager, force=true), so a converged object costs two reads and no write.

The first failure stops the call, naming the object and what was applied before it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube_apply, kube_auth, kube_read, kube_rest
from ansible_collections.homelab.istio_egress.plugins.module_utils.api_errors import api_error_cause
from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_apply import ApplyError
from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_rest import ReadError
from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_rest_read import Reader


def _status_message(exc):
    try:
        doc = json.loads(exc.body.decode("utf-8", "replace"))
        return doc.get("message") or "" if isinstance(doc, dict) else ""
    except ValueError:
        return exc.body[:300].decode("utf-8", "replace")


class Applier(object):
    def __init__(self, client, field_manager, check_mode=False, diff=False, deadline=None):
        self.client = client
        self.reader = Reader(client, deadline)
        self.field_manager = field_manager
        self.check_mode = check_mode
        self.diff = diff
        self.deadline = deadline
        self.results = []
        self.diffs = []
        self.new_namespaces = set()   # created by this call in check mode (so not there to dry-run)

    def _call(self, entry, step, method, path, body=None, params=None, missing_ok=False):
        try:
            return self.client.request_json(method, path, body, kube_apply.APPLY_CONTENT_TYPE if body else None,
                                            params, deadline=self.deadline, missing_ok=missing_ok)
        except kube_rest._HTTPFailure as exc:
            cause = kube_apply.write_cause(exc.status, exc.reason, _status_message(exc))
            raise _Failed(entry, step, cause, exc.status)
        except kube_rest._Transport as exc:
            raise _Failed(entry, step, api_error_cause(str(exc)))
        except ReadError as exc:
            raise _Failed(entry, step, exc.cause)

    def _apply(self, entry, path, dry_run):
        params = [("fieldManager", self.field_manager), ("force", "true")]
        if dry_run:
            params.append(("dryRun", "All"))
        return self._call(entry, "applying" if not dry_run else "the dry-run apply", "PATCH", path,
                          entry["manifest"], params)

    def _namespace_missing(self, entry):
        if entry["namespace"] in self.new_namespaces:
            return True
        found = self._call(entry, "reading its namespace", "GET", "/api/v1/namespaces/%s" % entry["namespace"],
                           missing_ok=True)
        return found is None

    def one(self, entry):
        key = kube_apply.label(entry)
        try:
            info = self.reader.kind_info(key, kube_apply.query_of(entry, False))
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
        if self.check_mode and info["namespaced"] and entry["namespace"] in self.new_namespaces:
            return self._record(entry, "created", None, entry["manifest"],
                                kube_apply.missing_namespace_note(entry["namespace"]))
        live = self._call(entry, "reading it", "GET", path, missing_ok=True)
        if live is None and not self.check_mode:
            return self._record(entry, "created", None, self._apply(entry, path, False))
        try:
            dry = self._apply(entry, path, True)
        except _Failed as exc:
            if exc.status == 404 and self.check_mode and info["namespaced"] and self._namespace_missing(entry):
                return self._record(entry, "created", None, entry["manifest"],
                                    kube_apply.missing_namespace_note(entry["namespace"]))
            raise
        action = kube_apply.plan_action(live, dry)
        if action == "created" and entry["kind"] == "Namespace" and not info["namespaced"]:
            self.new_namespaces.add(entry["name"])
        after = dry
        if action != "unchanged" and not self.check_mode:
            after = self._apply(entry, path, False)
            # What the real apply made decides, not the dry-run (a webhook may have mutated it).
            if kube_apply.plan_action(live, after) == "unchanged":
                action = "unchanged"
        return self._record(entry, action, live, after)

    def _record(self, entry, action, before, after, note=None):
        self.results.append(kube_apply.object_result(entry, action, before, after, self.diff, note))
        if self.diff and action != "unchanged":
            self.diffs.append(kube_apply.diff_entry(entry, before, after))


class _Failed(Exception):
    def __init__(self, entry, step, cause, status=None):
        super(_Failed, self).__init__(cause)
        self.entry, self.step, self.cause, self.status = entry, step, cause, status


def run(settings, entries, field_manager, check_mode=False, diff=False, timeout=30, deadline=None):
    """The result of one cluster_apply call; ``failed`` with msg/cause on the first failure."""
    client = kube_rest.Client(settings, timeout)
    applier = Applier(client, field_manager, check_mode, diff, deadline)
    result = {"connection": {"server": client.server, "context": settings.get("context")}}
    try:
        for entry in entries:
            try:
                applier.one(entry)
            except _Failed as exc:
                result.update(failed=True, cause=exc.cause, msg=kube_apply.failure_message(
                    exc.entry, exc.step, exc.cause, applier.results, check_mode))
                break
            except ApplyError as exc:
                result.update(failed=True, cause=exc.cause, msg="%s; %s" % (
                    exc.msg, kube_apply.done_text(applier.results, check_mode)))
                break
    finally:
        client.close()
    result.update(changed=kube_apply.summary(applier.results), objects=applier.results, requests=client.requests)
    if diff:
        result["diff"] = applier.diffs
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
    except (kube_read.ReadInputError, kube_apply.ApplyInputError) as exc:
        return {"failed": True, "changed": False, "msg": str(exc), "in_controller": in_controller}
    try:
        settings = kube_rest.settings_for(kube_auth.auth_from_params(params, environ), environ)
        result = run(settings, entries, field_manager, check_mode, diff, timeout, deadline)
    except ReadError as exc:
        return {"failed": True, "changed": False, "msg": exc.msg, "cause": exc.cause, "in_controller": in_controller}
    result["in_controller"] = in_controller
    return result
