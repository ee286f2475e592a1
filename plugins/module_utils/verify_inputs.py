# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checking of the egress_verify facts: settings, Kubernetes object summaries, module results by host.

Pure, stdlib only. Everything the checks read passes through here first, so a
wrong shape is one VerifyReportError sentence naming the key, never a traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_common import VerifyReportError


def _require(mapping, key, kind, where):
    value = mapping.get(key) if isinstance(mapping, dict) else None
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise VerifyReportError("facts.%s must be a %s, got %s" % (where, names, type(value).__name__))
    return value


def selector_matches(selector, labels):
    """True when every key/value of a Gateway selector is among the labels.

    An empty selector selects nothing useful for an egress Gateway, so it does
    not count as a match (istiod would apply it to every gateway proxy).
    """
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def parse_label_selector(text):
    """'istio=egressgateway,app=x' -> dict; only equality selectors are supported."""
    result = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part or "!=" in part:
            raise VerifyReportError("label selector %r: only key=value terms are supported" % text)
        key, value = part.split("=", 1)
        result[key.strip().rstrip("=")] = value.strip().lstrip("=")
    return result


# --------------------------------------------------------------------------
# Kubernetes objects
# --------------------------------------------------------------------------

def pod_summary(pod, proxy_container="istio-proxy"):
    """Summarise a Pod object (k8s_info resource) for the preconditions.

    The sidecar is found as a normal container (kubelet < 1.33) or as a native
    sidecar: an init container with restartPolicy Always (Istio 1.30 on
    kubelet >= 1.33, NOTES "Native sidecars").
    """
    if not isinstance(pod, dict):
        raise VerifyReportError("a pod in the facts is not an object: %r" % (pod,))
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    containers = [c.get("name") for c in spec.get("containers") or []]
    native = [c.get("name") for c in spec.get("initContainers") or []
              if c.get("restartPolicy") == "Always"]
    if proxy_container in containers:
        proxy = "container"
    elif proxy_container in native:
        proxy = "native-sidecar"
    else:
        proxy = None
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    statuses = list(status.get("containerStatuses") or [])
    statuses += [s for s in status.get("initContainerStatuses") or [] if s.get("name") in native]
    total = len(containers) + len(native)
    ready_n = sum(1 for s in statuses if s.get("ready"))
    return {
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "labels": dict(meta.get("labels") or {}),
        "phase": status.get("phase"),
        "ready": conditions.get("Ready") == "True" and not meta.get("deletionTimestamp"),
        "ready_containers": "%d/%d" % (ready_n, total),
        "containers": containers + native,
        "proxy": proxy,
        "pod_ip": status.get("podIP"),
    }


def gateway_summary(obj):
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    hosts = []
    for server in spec.get("servers") or []:
        for h in server.get("hosts") or []:
            hosts.append(h.split("/", 1)[1] if "/" in h else h)
    return {
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "selector": dict(spec.get("selector") or {}),
        "hosts": sorted(set(hosts)),
    }


def destination_rule_summary(obj):
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    return {
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "host": spec.get("host"),
        "subsets": [s.get("name") for s in spec.get("subsets") or []],
        "export_to": list(spec.get("exportTo") or []),
    }


def host_covered(pattern, host):
    if pattern == "*" or pattern == host:
        return True
    return pattern.startswith("*.") and host.endswith(pattern[1:])


def _item_host(item):
    """The host a loop item stands for: 'h', {'host': h} or a result whose item is {'host': h}."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        if item.get("host"):
            return item["host"]
        return _item_host(item.get("item"))
    return None


def by_host(value):
    """Key module results by host.

    Accepts a dict already keyed by host, a registered loop result
    ({"results": [...]}) or its list of results; skipped items are dropped.
    """
    if value is None:
        return {}
    if isinstance(value, dict) and isinstance(value.get("results"), list):
        value = value["results"]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if isinstance(v, dict)}
    if not isinstance(value, list):
        raise VerifyReportError("expected a list of module results or a dict keyed by host, got %s"
                                % type(value).__name__)
    out = {}
    for res in value:
        if not isinstance(res, dict) or res.get("skipped"):
            continue
        host = _item_host(res.get("item")) or res.get("host")
        if host:
            out[host] = res
    return out


def module_error(res, fact_key):
    """The error message of a module run that produced no facts, else ''.

    egress_log_assert fails *with* its facts when the expectation fails; that
    is a verdict, not an error. A failure without the facts (pod not found,
    RBAC denied, no exec) is an error.
    """
    if not isinstance(res, dict):
        return "no result"
    if res.get("error"):
        return str(res["error"])
    if (res.get("failed") or res.get("unreachable")) and fact_key not in res:
        return str(res.get("msg") or "the module failed without a message")
    return ""


# --------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------

def _to_bool(value, name):
    """Booleans as Ansible passes them (bool, or 'true'/'false'/'yes'/'no'/'1'/'0' text)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0", "", "none"):
        return False
    raise VerifyReportError("facts.settings.%s must be a boolean, got %r" % (name, value))


def normalise_settings(settings):
    """Validate and complete the 'settings' part of the facts."""
    if not isinstance(settings, dict):
        raise VerifyReportError("facts.settings must be a dict, got %s" % type(settings).__name__)
    hosts = _require(settings, "hosts", list, "settings")
    if not hosts:
        raise VerifyReportError("facts.settings.hosts is empty: give at least one registered host")
    norm_hosts = []
    for item in hosts:
        if isinstance(item, str) and item:
            item = {"host": item}
        if not isinstance(item, dict) or not item.get("host"):
            raise VerifyReportError("facts.settings.hosts: every item needs a 'host', got %r" % (item,))
        try:
            port = int(item.get("port") or 443)
        except (TypeError, ValueError):
            raise VerifyReportError("facts.settings.hosts: port %r of %s is not a number"
                                    % (item.get("port"), item["host"]))
        if not 0 < port < 65536:
            raise VerifyReportError("facts.settings.hosts: port %r of %s is outside 1-65535"
                                    % (item.get("port"), item["host"]))
        url = item.get("url") or ("https://%s/" % item["host"] if port == 443
                                  else "https://%s:%d/" % (item["host"], port))
        norm_hosts.append({"host": item["host"], "port": port, "url": url})
    out = dict(settings)
    out["hosts"] = norm_hosts
    try:
        out["calls"] = int(settings.get("calls") or 5)
    except (TypeError, ValueError):
        raise VerifyReportError("facts.settings.calls must be a whole number, got %r" % (settings.get("calls"),))
    if out["calls"] < 1:
        raise VerifyReportError("facts.settings.calls must be at least 1, got %d" % out["calls"])
    out["expected_code"] = str(settings.get("expected_code") or "200")
    out["data_plane"] = _to_bool(settings.get("data_plane", True), "data_plane")
    out["istioctl"] = settings.get("istioctl") or ""
    out["registry_only"] = _to_bool(settings.get("registry_only", False), "registry_only")
    out["calico"] = _to_bool(settings.get("calico", False), "calico")
    out["require_all_replicas"] = _to_bool(settings.get("require_all_replicas", True), "require_all_replicas")
    out["allowed_response_flags"] = list(settings.get("allowed_response_flags") or ["-"])
    gw = dict(settings.get("gateway") or {})
    gw.setdefault("namespace", "istio-system")
    gw.setdefault("selector", "istio=egressgateway")
    gw.setdefault("service", "istio-egressgateway")
    gw.setdefault("deployment", gw["service"])
    out["gateway"] = gw
    client = dict(settings.get("client") or {})
    client.setdefault("namespace", "mesh-test")
    client.setdefault("selector", "app=sleep")
    client.setdefault("deployment", "sleep")
    client.setdefault("container", "sleep")
    out["client"] = client
    unreg = dict(settings.get("unregistered") or {})
    unreg.setdefault("host", "example.com")
    unreg.setdefault("url", "https://%s" % unreg["host"])
    out["unregistered"] = unreg
    out["namespaces"] = list(settings.get("namespaces") or [client["namespace"], gw["namespace"]])
    out["root_namespace"] = settings.get("root_namespace") or "istio-system"
    out["context"] = settings.get("context") or ""
    out["reasons"] = dict(settings.get("reasons") or {})
    return out


def _with_errors(results, fact_key):
    out = {}
    for host, res in results.items():
        res = dict(res)
        err = module_error(res, fact_key)
        if err:
            res["error"] = err
        out[host] = res
    return out


def normalise_facts(facts):
    """Turn the role's raw registered results into the shapes the checks read."""
    if not isinstance(facts, dict):
        raise VerifyReportError("facts must be a dict, got %s" % type(facts).__name__)
    nf = dict(facts)
    # Ansible renders "{{ x | default(none) }}" inside a dict as "": absent.
    for key in ("preconditions", "xds", "analyze", "calls", "gateway_log", "gateway_log_any_time",
                "routing", "blocking", "l3"):
        if nf.get(key) in ("", "None"):
            nf[key] = None
    # A loop whose items were all skipped registers only skipped results: not run.
    for key, fact_key in (("gateway_log", "count"), ("gateway_log_any_time", "count")):
        if nf.get(key) is not None:
            nf[key] = _with_errors(by_host(nf[key]), fact_key) or None
    if nf.get("calls") is not None:
        nf["calls"] = by_host(nf["calls"]) or None
    routing = nf.get("routing")
    if routing is not None:
        if not isinstance(routing, dict):
            raise VerifyReportError("facts.routing must be a dict with 'client' and 'gateway', got %s"
                                    % type(routing).__name__)
        nf["routing"] = {side: _with_errors(by_host(routing.get(side)), "destination")
                         for side in ("client", "gateway")}
    analyze = nf.get("analyze")
    if analyze is not None:
        if not isinstance(analyze, list):
            raise VerifyReportError("facts.analyze must be a list of istioctl runs, got %s" % type(analyze).__name__)
        runs = []
        for run in analyze:
            if not isinstance(run, dict) or run.get("skipped"):
                continue
            run = dict(run)
            run.setdefault("namespace", run.get("item") if isinstance(run.get("item"), str) else "?")
            runs.append(run)
        nf["analyze"] = runs
    blocking = nf.get("blocking")
    if isinstance(blocking, dict):
        blocking = dict(blocking)
        for key, fact_key in (("gateway_log", "count"), ("client_config", "outbound_traffic_policy")):
            res = blocking.get(key)
            if isinstance(res, dict) and res.get("skipped"):
                blocking[key] = None
            elif isinstance(res, dict):
                err = module_error(res, fact_key)
                blocking[key] = dict(res, error=err) if err else res
        nf["blocking"] = blocking
    return nf
