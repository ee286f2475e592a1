# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_read's engine: discovery, the queries and their waits over kube_rest.Client.

Shared by the action plugin (in the controller's worker, no AnsiballZ) and the module (on a
remote target): both call ``run`` with the connection options and the validated queries and
get the module's result, or ReadError (docs/cluster_read.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube_auth, kube_read, kube_rest
from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_rest import ReadError, failure


class Reader(object):
    """Lazy discovery (once per call, only the group/versions asked for) and the reads."""

    def __init__(self, client, deadline=None):
        self.client = client
        self.deadline = deadline
        self.kinds = {}   # group/version -> {Kind: {name, namespaced, ...}} ({} when not served)
        self.apis = None

    def _get(self, key, what, path, params=None, accept="application/json", missing_ok=False):
        try:
            return self.client.get_json(path, params, accept, self.deadline, missing_ok)
        except (kube_rest._HTTPFailure, kube_rest._Transport, ReadError) as exc:
            raise failure(key, what, self.client.server, exc)

    def discover(self):
        """{"<group/version>": {Kind: {...}}} of everything served, and the server's /version."""
        key = "discovery"
        core = self._get(key, "the served APIs (/api)", "/api", accept=kube_rest.AGGREGATED)
        groups = self._get(key, "the served APIs (/apis)", "/apis", accept=kube_rest.AGGREGATED)
        if kube_read.is_aggregated(core) and kube_read.is_aggregated(groups):
            apis, _complete = kube_read.apis_from_aggregated([core, groups])
        else:
            lists = {}
            for gv, preferred in kube_read.group_versions(core, groups):
                path = "/api/%s" % gv if "/" not in gv else "/apis/%s" % gv
                # 404/503 of one aggregated API (e.g. an unavailable metrics server) leaves it out.
                try:
                    found = self.client.get_json(path, None, "application/json", self.deadline, True)
                except kube_rest._HTTPFailure as exc:
                    if exc.status == 503:
                        continue
                    raise failure(key, "the resources of %s" % gv, self.client.server, exc)
                except (kube_rest._Transport, ReadError) as exc:
                    raise failure(key, "the resources of %s" % gv, self.client.server, exc)
                if found is not None:
                    lists[gv] = (found, preferred)
            apis = kube_read.apis_from_lists(lists)
        self.apis = apis
        self.kinds.update(apis)
        version = self._get(key, "the server version (/version)", "/version")
        return apis, version

    def kind_info(self, key, query):
        """{name, namespaced} of the query's kind, or None when the kind is not served."""
        gv = query["api_version"]
        if gv not in self.kinds:
            if self.apis is not None:
                self.kinds[gv] = {}
            else:
                path = "/apis/%s" % gv if query["group"] else "/api/%s" % gv
                found = self._get(key, "the resources of %s" % gv, path, missing_ok=True)
                self.kinds[gv] = kube_read.resources_of(found) if found is not None else {}
        return self.kinds[gv].get(query["kind"])

    def read(self, key, query):
        """The live objects of one query: (served, [objects])."""
        info = self.kind_info(key, query)
        if info is None:
            return False, []
        what = kube_read.object_label(query)
        path = kube_read.resource_path(query, info["name"], info["namespaced"])
        if query.get("name"):
            found = self._get(key, what, path, missing_ok=True)
            items = [found] if found is not None and kube_read.matches_name(found, query) else []
            return True, kube_read.with_type(items, query["api_version"], query["kind"])
        items, params = [], kube_read.list_params(query) + [("limit", str(kube_rest.PAGE_LIMIT))]
        for _page in range(kube_rest.MAX_PAGES):
            doc = self._get(key, what, path, params)
            items.extend(doc.get("items") or [])
            token = (doc.get("metadata") or {}).get("continue")
            if not token:
                break
            params = [p for p in params if p[0] != "continue"] + [("continue", token)]
        return True, kube_read.with_type(items, query["api_version"], query["kind"])

    def wait(self, key, query):
        """Poll until the wait condition holds; ReadError past wait_timeout (naming what was seen)."""
        until = time.monotonic() + query["wait_timeout"]
        while True:
            served, resources = self.read(key, query)
            if served and kube_read.wait_met(resources, query["wait_condition"]):
                return served, resources
            if not served:
                raise ReadError("query %s: cannot wait for %s: %s is not served by %s" % (
                    key, kube_read.object_label(query), query["api_version"], self.client.server),
                    "%s %s is not served" % (query["api_version"], query["kind"]))
            if time.monotonic() + query["wait_sleep"] > until:
                msg = kube_read.wait_failure(key, query, resources)
                raise ReadError(msg, msg.split(": ", 1)[1])
            time.sleep(query["wait_sleep"])


def run(settings, queries, discovery=False, timeout=30, deadline=None):
    """The result of one cluster_read call (without changed/failed); raises ReadError.

    ``settings`` from kube_rest.settings_for, ``queries`` from kube_read.validate_queries.
    """
    client = kube_rest.Client(settings, timeout)
    reader = Reader(client, deadline)
    result = {"results": {}, "connection": {"server": client.server, "context": settings.get("context")}}
    try:
        if discovery:
            result["apis"], result["server_version"] = reader.discover()
        for key, query in queries.items():
            if query.get("wait_condition"):
                started = time.monotonic()
                served, resources = reader.wait(key, query)
                entry = {"served": served, "resources": resources, "waited": round(time.monotonic() - started, 1),
                         "wait_met": True}
            else:
                served, resources = reader.read(key, query)
                entry = {"served": served, "resources": resources}
            result["results"][key] = entry
    finally:
        client.close()
    result["requests"] = client.requests
    return result


def argument_spec():
    """The module's argument spec: cluster_read's options, timeout and the connection options."""
    return kube_auth.rest_argument_spec(kube_read.READ_ARG_SPEC)


def call(params, in_controller, deadline=None, environ=None):
    """The whole call on validated params: the result (``failed`` with msg and cause on an error)."""
    try:
        timeout = kube_read.validate_timeout(params.get("timeout"))
        queries = kube_read.validate_queries(params.get("queries"))
    except kube_read.ReadInputError as exc:
        return {"failed": True, "changed": False, "msg": str(exc), "in_controller": in_controller}
    try:
        settings = kube_rest.settings_for(kube_auth.auth_from_params(params, environ), environ)
        result = run(settings, queries, bool(params.get("discovery")), timeout, deadline)
    except ReadError as exc:
        return {"failed": True, "changed": False, "msg": exc.msg, "cause": exc.cause, "in_controller": in_controller}
    result.update(changed=False, in_controller=in_controller)
    return result
