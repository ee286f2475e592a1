# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checking of the egress_verify facts: settings, Kubernetes object summaries, module results by host.

Pure, stdlib only. Everything the checks read passes through here first, so a
wrong shape is one VerifyReportError sentence naming the key, never a traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.istio_egress.plugins.module_utils import pods, rules
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_common import (
    VerifyReportError,
    as_dict,
    as_int,
    as_list,
    as_text,
)


def _require(mapping, key, kind, where):
    value = mapping.get(key) if isinstance(mapping, dict) else None
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise VerifyReportError("facts.%s must be a %s, got %s" % (where, names, type(value).__name__))
    return value


# Label selectors have one home (module_utils/rules.py); the checks import them from here too.
selector_matches = rules.selector_matches


def parse_label_selector(text):
    """rules.parse_label_selector with the report's error type."""
    try:
        return rules.parse_label_selector(text)
    except rules.RulesError as exc:
        raise VerifyReportError(str(exc))


def _names(items):
    return [as_text(as_dict(c).get("name")) for c in as_list(items) if isinstance(c, dict)]


def pod_summary(pod, proxy_container="istio-proxy"):
    """Summarise a Pod object (k8s_info resource) for the preconditions.

    Ready and the proxy's kind (a container, or a native sidecar: an init container with
    restartPolicy Always) are the rules of module_utils/pods.py, as everywhere else.

    Only what the proof needs is kept (issue 12): names, labels, images,
    container names and statuses, named ports; never env, args or annotations,
    so a secret in a pod spec cannot reach the report files.
    """
    if not isinstance(pod, dict):
        raise VerifyReportError("a pod in the facts is not an object: %r" % (pod,))
    meta = as_dict(pod.get("metadata"))
    spec = as_dict(pod.get("spec"))
    status = as_dict(pod.get("status"))
    containers_raw = [c for c in as_list(spec.get("containers")) if isinstance(c, dict)]
    native_raw = pods.native_sidecars(pod)
    containers = _names(containers_raw)
    native = _names(native_raw)
    proxy = pods.proxy_kind(pod, proxy_container)
    statuses = [s for s in as_list(status.get("containerStatuses")) if isinstance(s, dict)]
    statuses += [s for s in as_list(status.get("initContainerStatuses"))
                 if isinstance(s, dict) and s.get("name") in native]
    total = len(containers) + len(native)
    ready_n = sum(1 for s in statuses if s.get("ready") is True)
    ports = {}
    for c in containers_raw + native_raw:
        for p in as_list(c.get("ports")):
            p = as_dict(p)
            if p.get("name") and as_int(p.get("containerPort")) is not None:
                ports[as_text(p["name"])] = as_int(p["containerPort"])
    labels = {as_text(k): as_text(v) for k, v in as_dict(meta.get("labels")).items()}
    return {
        "name": as_text(meta.get("name")) or "(unnamed)",
        "namespace": as_text(meta.get("namespace")) or "(no namespace)",
        "labels": labels,
        "phase": as_text(status.get("phase")) or None,
        "ready": pods.is_ready(pod),
        "ready_containers": "%d/%d" % (ready_n, total),
        "containers": containers + native,
        "images": {as_text(c.get("name")): as_text(c.get("image")) for c in containers_raw + native_raw},
        "container_statuses": {as_text(s.get("name")): {"ready": s.get("ready") is True,
                                                        "restarts": as_int(s.get("restartCount"))}
                               for s in statuses},
        "ports": ports,
        "proxy": proxy,
        "pod_ip": as_text(status.get("podIP")) or None,
    }


def gateway_summary(obj):
    obj = as_dict(obj)
    meta = as_dict(obj.get("metadata"))
    spec = as_dict(obj.get("spec"))
    hosts = []
    for server in as_list(spec.get("servers")):
        for h in as_list(as_dict(server).get("hosts")):
            h = as_text(h)
            hosts.append(h.split("/", 1)[1] if "/" in h else h)
    return {
        "name": as_text(meta.get("name")) or "(unnamed)",
        "namespace": as_text(meta.get("namespace")) or "(no namespace)",
        "selector": {as_text(k): as_text(v) for k, v in as_dict(spec.get("selector")).items()},
        "hosts": sorted(set(hosts)),
    }


def destination_rule_summary(obj):
    obj = as_dict(obj)
    meta = as_dict(obj.get("metadata"))
    spec = as_dict(obj.get("spec"))
    return {
        "name": as_text(meta.get("name")) or None,
        "namespace": as_text(meta.get("namespace")) or None,
        "host": as_text(spec.get("host")) or None,
        "subsets": [as_text(as_dict(s).get("name")) for s in as_list(spec.get("subsets"))],
        "export_to": [as_text(x) for x in as_list(spec.get("exportTo"))],
    }


def service_target_port(service, port, pods=()):
    """(target port number or None, text) that the Service's `port` sends to.

    targetPort may be a number, a named container port (resolved through the
    pods' named ports) or absent (= port). None when it cannot be resolved.
    """
    svc = as_dict(service)
    if not svc:
        return None, "the gateway Service was not read"
    name = "%s/%s" % (as_dict(svc.get("metadata")).get("namespace"), as_dict(svc.get("metadata")).get("name"))
    for p in as_list(as_dict(svc.get("spec")).get("ports")):
        p = as_dict(p)
        if as_int(p.get("port")) != port:
            continue
        target = p.get("targetPort", port)
        if as_int(target) is not None:
            return as_int(target), "Service %s port %d -> targetPort %d" % (name, port, as_int(target))
        named = {pod_port for pod in pods for n, pod_port in as_dict(as_dict(pod).get("ports")).items()
                 if n == target}
        if len(named) == 1:
            number = named.pop()
            return number, "Service %s port %d -> targetPort %s = %d" % (name, port, target, number)
        return None, "Service %s port %d -> targetPort %r not resolved on the gateway pods" % (name, port, target)
    return None, "Service %s has no port %d" % (name, port)


def host_covered(pattern, host):
    pattern, host = as_text(pattern), as_text(host)
    if pattern == "*" or pattern == host:
        return True
    return pattern.startswith("*.") and host.endswith(pattern[1:])


# Keys whose values are never written to a report file (issue 12): container
# environment values and annotations (kubectl's last-applied-configuration
# holds a whole earlier spec, env included; others carry tokens).
_SECRET_KEYS = ("env", "envFrom", "annotations", "managedFields", "args", "command")
REDACTED = "<redacted>"


def redact(value):
    """A copy of `value` without env values, annotations, args and managedFields, at any depth."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in _SECRET_KEYS and v not in (None, "", [], {}):
                out[k] = REDACTED
            else:
                out[k] = redact(v)
        return out
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


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
        if host and isinstance(host, str):
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


# Where a saved config dump (egress_verify_*_config_dump) came from: generated by a real istiod over
# xDS (hack/plane's xdsdump), captured from a live proxy earlier, or not said.
CONFIG_DUMP_ORIGINS = ("istiod-xds", "live-capture", "unknown")


def normalise_settings(settings):
    """Validate and complete the 'settings' part of the facts."""
    if not isinstance(settings, dict):
        raise VerifyReportError("facts.settings must be a dict, got %s" % type(settings).__name__)
    hosts = _require(settings, "hosts", list, "settings")
    if not hosts:
        raise VerifyReportError("facts.settings.hosts is empty: give at least one registered host")
    for item in hosts:
        if not (isinstance(item, str) and item) and (
                not isinstance(item, dict) or not item.get("host") or not isinstance(item.get("host"), str)):
            raise VerifyReportError("facts.settings.hosts: every item needs a 'host', got %r" % (item,))
    # The same normalising as the role's preflight (module_utils/rules.py): a missing port is 443,
    # an explicit 0 is refused (this copy used to read it as 443 while the role refused it).
    norm_hosts = []
    for item in rules.normalise_hosts(hosts):
        port = rules.port_number(item["port"])
        if port is None:
            raise VerifyReportError("facts.settings.hosts: port %r of %s is not a number" % (item["port"], item["host"]))
        if not 0 < port < 65536:
            raise VerifyReportError("facts.settings.hosts: port %r of %s is outside 1-65535" % (item["port"], item["host"]))
        url = item["url"]
        if not isinstance(url, str):
            raise VerifyReportError("facts.settings.hosts: url %r of %s is not text" % (url, item["host"]))
        problems = rules.host_list_problems([item], dns_names=False, short_names=False)
        if problems:
            raise VerifyReportError("facts.settings.hosts: %s" % "; ".join(problems))
        norm = {"host": item["host"], "port": port, "url": url}
        if "address" in item:
            norm["address"] = item["address"]
        norm_hosts.append(norm)
    out = dict(settings)
    out["hosts"] = norm_hosts
    try:
        out["calls"] = int(settings.get("calls") or 5)
    except (TypeError, ValueError):
        raise VerifyReportError("facts.settings.calls must be a whole number, got %r" % (settings.get("calls"),))
    if out["calls"] < 1:
        raise VerifyReportError("facts.settings.calls must be at least 1, got %d" % out["calls"])
    out["expected_code"] = str(settings.get("expected_code") or "200")
    retries = as_int(settings.get("call_retries", 0) if settings.get("call_retries") not in (None, "") else 0)
    if retries is None or retries < 0:
        raise VerifyReportError("facts.settings.call_retries must be a whole number >= 0, got %r"
                                % (settings.get("call_retries"),))
    out["call_retries"] = retries
    out["data_plane"] = _to_bool(settings.get("data_plane", True), "data_plane")
    out["istioctl"] = settings.get("istioctl") or ""
    out["registry_only"] = _to_bool(settings.get("registry_only", False), "registry_only")
    out["calico"] = _to_bool(settings.get("calico", False), "calico")
    out["require_all_replicas"] = _to_bool(settings.get("require_all_replicas", True), "require_all_replicas")
    flags = settings.get("allowed_response_flags") or ["-"]
    if isinstance(flags, str):
        flags = [flags]
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise VerifyReportError("facts.settings.allowed_response_flags must be a list of flag names, got %r" % (flags,))
    out["allowed_response_flags"] = flags
    gw = dict(_mapping(settings, "gateway"))
    gw.setdefault("namespace", "istio-system")
    gw.setdefault("selector", "istio=egressgateway")
    gw.setdefault("service", "istio-egressgateway")
    gw.setdefault("deployment", gw["service"])
    out["gateway"] = gw
    client = dict(_mapping(settings, "client"))
    client.setdefault("namespace", "mesh-test")
    client.setdefault("selector", "app=sleep")
    client.setdefault("deployment", "sleep")
    client.setdefault("container", "sleep")
    out["client"] = client
    unreg = dict(_mapping(settings, "unregistered"))
    unreg.setdefault("host", "example.com")
    unreg.setdefault("url", "https://%s" % unreg["host"])
    out["unregistered"] = unreg
    namespaces = settings.get("namespaces") or [client["namespace"], gw["namespace"]]
    if not isinstance(namespaces, list) or not all(isinstance(n, str) and n for n in namespaces):
        raise VerifyReportError("facts.settings.namespaces must be a list of namespace names, got %r" % (namespaces,))
    out["namespaces"] = namespaces
    out["root_namespace"] = settings.get("root_namespace") or "istio-system"
    origin = settings.get("config_dump_origin") or "unknown"
    if origin not in CONFIG_DUMP_ORIGINS:
        raise VerifyReportError("facts.settings.config_dump_origin must be one of %s, got %r"
                                % (", ".join(CONFIG_DUMP_ORIGINS), origin))
    out["config_dump_origin"] = origin
    out["context"] = settings.get("context") or ""
    out["reasons"] = {k: as_text(v) for k, v in _mapping(settings, "reasons").items()}
    for key in ("gateway", "client", "unregistered"):
        for k, v in out[key].items():
            if not isinstance(v, str):
                raise VerifyReportError("facts.settings.%s.%s must be text, got %r" % (key, k, v))
    return out


def _mapping(settings, key):
    value = settings.get(key)
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise VerifyReportError("facts.settings.%s must be a dict, got %s" % (key, type(value).__name__))
    return value


def report_facts(facts):
    """The facts as report.json keeps them: object summaries instead of whole objects, no secrets.

    Pods become pod_summary() (names, labels, images, container names and
    statuses); Gateways, DestinationRules and the gateway Service their
    summaries; istiod's injector values (a whole Helm values tree) are dropped
    after their version was read; everything else passes through redact().
    """
    out = redact(facts)
    pre = facts.get("preconditions")
    if isinstance(pre, dict):
        def summaries(key):
            return [pod_summary(p) if isinstance(p, dict) else REDACTED for p in as_list(pre.get(key))]
        svc = as_dict(pre.get("gateway_service"))
        out["preconditions"] = {
            "gateway_pods": summaries("gateway_pods"),
            "client_pods": summaries("client_pods"),
            "gateways": [gateway_summary(g) for g in as_list(pre.get("gateways"))],
            "destination_rules": [destination_rule_summary(d) for d in as_list(pre.get("destination_rules"))],
            "gateway_service": {
                "name": as_dict(svc.get("metadata")).get("name"),
                "namespace": as_dict(svc.get("metadata")).get("namespace"),
                "ports": [{k: as_dict(p).get(k) for k in ("name", "port", "targetPort", "protocol")}
                          for p in as_list(as_dict(svc.get("spec")).get("ports"))],
            } if svc else None,
        }
    istiod = facts.get("istiod")
    if isinstance(istiod, dict):
        out["istiod"] = {"images": [as_text(i) for i in as_list(istiod.get("images"))],
                         "injector_values": "<omitted>" if istiod.get("injector_values") else None}
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
                "routing", "blocking", "l3", "istiod"):
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
