# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verdicts, diagnosis and report rendering for the egress_verify role.

Pure functions only: no I/O, no AnsibleModule, stdlib only. The role collects
facts (Kubernetes objects, istioctl output, curl status codes, the results of
the egress_log_assert and istio_proxy_config modules) into one dict; this file
turns that dict into

* one row per check (guide section 7.5, extended): name, expected, actual,
  verdict (pass | fail | not_run), evidence, reproduce commands;
* a diagnosis: the guide's section 9 symptoms and the NOTES' common problems
  matched against the facts, each with the likely cause and the fix;
* report.md, junit.xml and report.json texts.

A check that cannot run in an environment (no data plane, no istioctl, the
enforcement layer switched off) is ``not_run`` with the reason and is never
counted as passed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import quoteattr as _xml_quoteattr

SCHEMA_VERSION = 1

PASS = "pass"
FAIL = "fail"
NOT_RUN = "not_run"
VERDICTS = (PASS, FAIL, NOT_RUN)

# Report order = the numbering of issue 5 / docs/egress_verify.md.
CHECKS = (
    ("preconditions", "1. Preconditions"),
    ("xds_sync", "2. xDS sync"),
    ("analyze", "3. istioctl analyze"),
    ("call", "4. Call from the client"),
    ("gateway_log", "5. Gateway access log"),
    ("routing", "6. Routing in the proxy config"),
    ("blocking", "7. Blocking (REGISTRY_ONLY)"),
    ("l3_lock", "8. L3 lock (Calico)"),
)
CHECK_NAMES = dict(CHECKS)

# xDS types that must be SYNCED for the egress path (clusters, listeners and
# the endpoints of the hop-1 EDS cluster); other types may be NOT_SENT, which
# istiod reports for types a proxy never asked for (for example ECDS).
REQUIRED_XDS_TYPES = ("CDS", "LDS", "EDS")
_XDS_TYPE_NAMES = {
    "envoy.config.cluster.v3.Cluster": "CDS",
    "envoy.config.listener.v3.Listener": "LDS",
    "envoy.config.route.v3.RouteConfiguration": "RDS",
    "envoy.config.endpoint.v3.ClusterLoadAssignment": "EDS",
    "envoy.config.core.v3.TypedExtensionConfig": "ECDS",
}

# Response flags that point at upstream resolution/connection problems
# (guide section 9: 503 UH = DNS resolution / ServiceEntry resolution).
_UPSTREAM_FLAGS = ("UH", "UF", "URX", "NC")

_ANALYZE_LINE = re.compile(r"^(Error|Warning|Info)\s+\[(IST\d+)\]\s+\(([^)]*)\)\s*(.*)$")
_CODE = re.compile(r"^\d{3}$")

MARKS = {PASS: "\u2714 pass", FAIL: "\u2718 FAIL", NOT_RUN: "\u25cb not run"}


class VerifyReportError(Exception):
    """The collected facts do not have the expected shape; str(exc) names the key."""


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------

def _get(mapping, path, default=None):
    """Walk a dotted path through nested dicts; return default when absent."""
    cur = mapping
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


def _require(mapping, key, kind, where):
    value = mapping.get(key) if isinstance(mapping, dict) else None
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise VerifyReportError("facts.%s must be a %s, got %s" % (where, names, type(value).__name__))
    return value


_PLURALS = {"proxy": "proxies", "entry": "entries"}


def _plural(n, word):
    return "%d %s" % (n, word if n == 1 else _PLURALS.get(word, word + "s"))


def _histogram(values):
    counts = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return ", ".join("%s\u00d7%d" % (k, counts[k]) for k in sorted(counts))


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


def _host_covered(pattern, host):
    if pattern == "*" or pattern == host:
        return True
    return pattern.startswith("*.") and host.endswith(pattern[1:])


# --------------------------------------------------------------------------
# istioctl output
# --------------------------------------------------------------------------

def parse_proxy_status(text):
    """Parse ``istioctl proxy-status -o json`` (1.30 genericXdsConfigs shape).

    Returns a list of {"id", "statuses": {"CDS": "SYNCED", ...}}.
    """
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise VerifyReportError("istioctl proxy-status -o json did not print JSON: %s" % exc)
    if isinstance(data, list):
        resources = data
    elif isinstance(data, dict):
        resources = data.get("resources")
        if resources is None:
            resources = []
    else:
        resources = None
    if not isinstance(resources, list):
        raise VerifyReportError("istioctl proxy-status -o json: expected an object with 'resources', got %s"
                                % type(data).__name__)
    proxies = []
    for res in resources:
        if not isinstance(res, dict):
            continue
        node_id = (res.get("node") or {}).get("id", "")
        statuses = {}
        for cfg in res.get("genericXdsConfigs") or []:
            type_url = cfg.get("typeUrl", "")
            short = _XDS_TYPE_NAMES.get(type_url.rsplit("/", 1)[-1], type_url.rsplit(".", 1)[-1])
            statuses[short] = cfg.get("configStatus") or "UNKNOWN"
        proxies.append({"id": node_id, "statuses": statuses})
    return proxies


def _proxy_id_matches(node_id, pod_name, namespace):
    """Node ids are 'pod.ns' in syncz, or the full 'type~ip~pod.ns~domain'."""
    wanted = "%s.%s" % (pod_name, namespace)
    return node_id in (wanted, pod_name) or ("~%s~" % wanted) in node_id


def xds_verdict(proxy):
    """(ok, text) for one proxy's statuses."""
    statuses = proxy["statuses"]
    bad = []
    for t in REQUIRED_XDS_TYPES:
        if statuses.get(t) != "SYNCED":
            bad.append("%s=%s" % (t, statuses.get(t, "missing")))
    for t, s in sorted(statuses.items()):
        if t not in REQUIRED_XDS_TYPES and s not in ("SYNCED", "NOT_SENT"):
            bad.append("%s=%s" % (t, s))
    text = " ".join("%s=%s" % (t, statuses[t]) for t in sorted(statuses))
    return (not bad), (", ".join(bad) if bad else text)


def parse_analyze(stdout, stderr=""):
    """Messages of ``istioctl analyze``: [{level, code, resource, text}]."""
    messages = []
    no_issues = False
    for line in ((stdout or "") + "\n" + (stderr or "")).splitlines():
        line = line.strip()
        m = _ANALYZE_LINE.match(line)
        if m:
            messages.append({"level": m.group(1), "code": m.group(2), "resource": m.group(3),
                             "text": m.group(4)})
        elif "No validation issues found" in line:
            no_issues = True
    return {"messages": messages, "no_issues": no_issues}


def parse_curl_codes(stdout):
    """One http_code per line as printed by curl -w '%{http_code}\\n'."""
    codes = []
    for line in (stdout or "").splitlines():
        line = line.strip()
        if _CODE.match(line):
            codes.append(line)
    return codes


# --------------------------------------------------------------------------
# module results (egress_log_assert / istio_proxy_config)
# --------------------------------------------------------------------------

def _pod_counts(value):
    """(lines, matches) for one entry of egress_log_assert's 'pods' return."""
    if isinstance(value, dict):
        lines = value.get("lines", value.get("lines_read", value.get("lines_total")))
        matches = value.get("matches", value.get("count", value.get("matched")))
        return (int(lines) if lines is not None else None,
                int(matches) if matches is not None else None)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return int(value[0]), int(value[1])
    return None, None


def _other_hosts_text(result):
    other = result.get("other_hosts") or []
    parts = []
    if isinstance(other, dict):
        other = [{"host": k, "count": v} for k, v in other.items()]
    for item in other[:5]:
        if isinstance(item, dict):
            parts.append("%s\u00d7%s" % (item.get("host"), item.get("count")))
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            parts.append("%s\u00d7%s" % (item[0], item[1]))
        else:
            parts.append(str(item))
    return ", ".join(parts)


def _entry_text(entry):
    return "[%s] %s %s flags=%s sni=%s cluster=%s upstream=%s" % (
        entry.get("start_time"), entry.get("pod") or "-", entry.get("response_code"),
        entry.get("response_flags"), entry.get("requested_server_name"),
        entry.get("upstream_cluster"), entry.get("upstream_host"))


def flags_allowed(flags, allowed):
    """True when every flag of 'UF,URX' (or '-') is allowed; '*' allows all (as egress_log_assert)."""
    allowed = set(allowed)
    if "*" in allowed or flags in allowed:
        return True
    return all(part in allowed for part in str(flags).split(","))


def _bad_flags(result, allowed):
    flags = result.get("response_flags") or {}
    return {f: n for f, n in flags.items() if not flags_allowed(f, allowed)}


def _upstream_flag_hits(flags):
    hits = {}
    for flag, n in (flags or {}).items():
        for part in str(flag).split(","):
            if part in _UPSTREAM_FLAGS:
                hits[flag] = n
    return hits


def hop2_cluster(host, port):
    return "outbound|%s||%s" % (port, host)


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


def _ctx(settings, tool="kubectl"):
    return "%s --context %s" % (tool, settings["context"]) if settings["context"] else tool


def _curl(url, max_time=10):
    return "curl -sS -o /dev/null -w \"%%{http_code}\\n\" --max-time %d %s" % (max_time, url)


def _exec_client(settings, command):
    c = settings["client"]
    return "%s -n %s exec deploy/%s -c %s -- %s" % (
        _ctx(settings), c["namespace"], c["deployment"], c["container"], command)


# --------------------------------------------------------------------------
# the checks
# --------------------------------------------------------------------------

def _row(check_id, expected, actual, verdict, evidence=None, reproduce=None, reason=None, details=None):
    if verdict not in VERDICTS:
        raise VerifyReportError("internal: verdict %r is not one of %s" % (verdict, ", ".join(VERDICTS)))
    return {
        "id": check_id,
        "name": CHECK_NAMES[check_id],
        "expected": expected,
        "actual": actual,
        "verdict": verdict,
        "reason": reason or "",
        "evidence": list(evidence or []),
        "reproduce": list(reproduce or []),
        "details": details or {},
    }


def _not_run(check_id, expected, reason, reproduce):
    return _row(check_id, expected, "not run: %s" % reason, NOT_RUN, reason=reason, reproduce=reproduce)


def _no_data_plane_reason(settings):
    return settings["reasons"].get("data_plane") or "no data plane (egress_verify_data_plane: false)"


def _no_istioctl_reason(settings):
    return settings["reasons"].get("istioctl") or "istioctl not found on PATH"


def check_preconditions(facts, s):
    gw, client = s["gateway"], s["client"]
    expected = ("gateway pods Ready; every Gateway for the hosts selects them (labels match); "
                "client pod has its istio-proxy sidecar (container or native sidecar)")
    reproduce = [
        "%s -n %s get pod -l %s --show-labels" % (_ctx(s), gw["namespace"], gw["selector"]),
        "%s get gateways.networking.istio.io -A -o "
        "custom-columns=NS:.metadata.namespace,NAME:.metadata.name,SELECTOR:.spec.selector,HOSTS:.spec.servers[*].hosts"
        % _ctx(s),
        "%s -n %s get pod -l %s" % (_ctx(s), client["namespace"], client["selector"]),
    ]
    pre = facts.get("preconditions")
    if not isinstance(pre, dict):
        return _not_run("preconditions", expected, "no preconditions facts were collected", reproduce)
    if pre.get("error"):
        return _row("preconditions", expected, "could not read the objects: %s" % pre["error"], FAIL,
                    evidence=[pre["error"]], reproduce=reproduce)
    gw_pods = [pod_summary(p) for p in pre.get("gateway_pods") or []]
    cl_pods = [pod_summary(p, client.get("proxy_container", "istio-proxy")) for p in pre.get("client_pods") or []]
    gateways = [gateway_summary(g) for g in pre.get("gateways") or []]
    problems, evidence = [], []

    ready = [p for p in gw_pods if p["ready"]]
    evidence.append("gateway pods (%s in %s): %s" % (gw["selector"], gw["namespace"], ", ".join(
        "%s %s ready=%s" % (p["name"], p["ready_containers"], p["ready"]) for p in gw_pods) or "none"))
    if not gw_pods:
        problems.append("no gateway pod matches %s in %s" % (gw["selector"], gw["namespace"]))
    elif len(ready) < len(gw_pods):
        problems.append("%d of %d gateway pods Ready" % (len(ready), len(gw_pods)))

    relevant, mismatched = [], []
    for g in gateways:
        if not any(_host_covered(pat, h["host"]) for pat in g["hosts"] for h in s["hosts"]):
            continue
        relevant.append(g)
        selected = [p["name"] for p in gw_pods if selector_matches(g["selector"], p["labels"])]
        evidence.append("Gateway %s/%s selector %s hosts %s -> selects %s" % (
            g["namespace"], g["name"], json.dumps(g["selector"], sort_keys=True), ",".join(g["hosts"]),
            ", ".join(selected) or "NO gateway pod"))
        if gw_pods and not selected:
            mismatched.append(g)
    for h in s["hosts"]:
        if not any(_host_covered(pat, h["host"]) for g in relevant for pat in g["hosts"]):
            problems.append("no Gateway lists host %s" % h["host"])
    if mismatched:
        labels = sorted({"%s=%s" % kv for p in gw_pods for kv in p["labels"].items()})
        problems.append("Gateway selector matches no gateway pod (%s); pod labels: %s" % (
            ", ".join("%s/%s %s" % (g["namespace"], g["name"], json.dumps(g["selector"], sort_keys=True))
                      for g in mismatched), ", ".join(labels)))

    evidence.append("client pods (%s in %s): %s" % (client["selector"], client["namespace"], ", ".join(
        "%s %s proxy=%s" % (p["name"], p["ready_containers"], p["proxy"] or "none") for p in cl_pods) or "none"))
    no_proxy = [p for p in cl_pods if not p["proxy"]]
    if not cl_pods:
        problems.append("no client pod matches %s in %s" % (client["selector"], client["namespace"]))
    if no_proxy:
        problems.append("client pod without sidecar: %s" % ", ".join(
            "%s (%s)" % (p["name"], p["ready_containers"]) for p in no_proxy))
    not_ready = [p for p in cl_pods if not p["ready"]]
    if not_ready:
        problems.append("client pod not Ready: %s" % ", ".join(p["name"] for p in not_ready))

    actual = "; ".join(problems) if problems else "%s Ready, %s matched by %s, client %s" % (
        _plural(len(ready), "gateway pod"), "all selectors", _plural(len(relevant), "Gateway"),
        ", ".join("%s %s (%s)" % (p["name"], p["ready_containers"], p["proxy"]) for p in cl_pods))
    details = {"gateway_pods": gw_pods, "client_pods": cl_pods, "gateways": relevant,
               "mismatched_gateways": [g["name"] for g in mismatched],
               "destination_rules": [destination_rule_summary(d) for d in pre.get("destination_rules") or []]}
    return _row("preconditions", expected, actual, FAIL if problems else PASS, evidence, reproduce,
                details=details)


def check_xds(facts, s, pre_row):
    expected = "gateway and client proxies: %s SYNCED (istioctl proxy-status -o json)" % "/".join(
        REQUIRED_XDS_TYPES)
    reproduce = ["%s proxy-status -o json" % _ctx(s, "istioctl"),
                 "%s proxy-status -v 1" % _ctx(s, "istioctl")]
    if not s["data_plane"]:
        return _not_run("xds_sync", expected, _no_data_plane_reason(s), reproduce)
    if not s["istioctl"]:
        return _not_run("xds_sync", expected, _no_istioctl_reason(s), reproduce)
    xds = facts.get("xds")
    if not isinstance(xds, dict):
        return _not_run("xds_sync", expected, "proxy-status was not collected", reproduce)
    if xds.get("rc") not in (0, None):
        msg = (xds.get("stderr") or xds.get("stdout") or "").strip().splitlines()
        text = "istioctl proxy-status failed (rc %s): %s" % (xds.get("rc"), msg[-1] if msg else "no output")
        return _row("xds_sync", expected, text, FAIL, [text], reproduce)
    try:
        proxies = parse_proxy_status(xds.get("stdout", ""))
    except VerifyReportError as exc:
        return _row("xds_sync", expected, str(exc), FAIL, [str(exc)], reproduce)
    wanted = [(p["name"], p["namespace"]) for p in pre_row["details"].get("gateway_pods", [])]
    wanted += [(p["name"], p["namespace"]) for p in pre_row["details"].get("client_pods", [])]
    if not wanted:
        return _row("xds_sync", expected, "no gateway or client pod known to check", FAIL,
                    ["proxy-status lists %s" % _plural(len(proxies), "proxy")], reproduce)
    problems, evidence = [], []
    for name, ns in wanted:
        found = [p for p in proxies if _proxy_id_matches(p["id"], name, ns)]
        if not found:
            problems.append("%s.%s is not connected to istiod" % (name, ns))
            evidence.append("%s.%s: not in proxy-status" % (name, ns))
            continue
        ok, text = xds_verdict(found[0])
        evidence.append("%s.%s: %s" % (name, ns, text))
        if not ok:
            problems.append("%s.%s %s" % (name, ns, text))
    actual = "; ".join(problems) if problems else "%s SYNCED" % _plural(len(wanted), "proxy")
    return _row("xds_sync", expected, actual, FAIL if problems else PASS, evidence, reproduce,
                details={"proxies": proxies})


def check_analyze(facts, s):
    expected = "istioctl analyze: 0 warnings, 0 errors in %s" % ", ".join(s["namespaces"])
    reproduce = ["%s analyze -n %s" % (_ctx(s, "istioctl"), ns) for ns in s["namespaces"]]
    if not s["istioctl"]:
        return _not_run("analyze", expected, _no_istioctl_reason(s), reproduce)
    runs = facts.get("analyze")
    if not isinstance(runs, list) or not runs:
        return _not_run("analyze", expected, "istioctl analyze was not run", reproduce)
    problems, evidence, messages = [], [], []
    for run in runs:
        ns = run.get("namespace", "?")
        parsed = parse_analyze(run.get("stdout"), run.get("stderr"))
        findings = [m for m in parsed["messages"] if m["level"] in ("Error", "Warning")]
        for m in parsed["messages"]:
            messages.append(dict(m, namespace=ns))
            evidence.append("%s: %s [%s] (%s) %s" % (ns, m["level"], m["code"], m["resource"], m["text"]))
        if findings:
            problems.append("%s: %s" % (ns, _histogram("%s %s" % (m["level"], m["code"]) for m in findings)))
        elif run.get("rc") not in (0, None):
            err = (run.get("stderr") or run.get("stdout") or "").strip().splitlines()
            problems.append("%s: istioctl analyze failed (rc %s): %s" % (ns, run.get("rc"),
                                                                         err[-1] if err else "no output"))
        elif parsed["no_issues"]:
            evidence.append("%s: No validation issues found" % ns)
        elif not parsed["messages"]:
            evidence.append("%s: rc 0, no messages" % ns)
    actual = "; ".join(problems) if problems else "0 warnings, 0 errors (%s)" % _plural(len(runs), "namespace")
    return _row("analyze", expected, actual, FAIL if problems else PASS, evidence, reproduce,
                details={"messages": messages})


def check_call(facts, s):
    n, code = s["calls"], s["expected_code"]
    expected = "%s per host from the client, each %s" % (_plural(n, "call"), code)
    reproduce = [_exec_client(s, _curl(h["url"])) for h in s["hosts"]]
    if not s["data_plane"]:
        return _not_run("call", expected, _no_data_plane_reason(s), reproduce)
    calls = facts.get("calls")
    if not isinstance(calls, dict):
        return _not_run("call", expected, s["reasons"].get("no_client") or "no call results were collected",
                        reproduce)
    problems, evidence, actual_parts, per_host = [], [], [], {}
    for h in s["hosts"]:
        res = calls.get(h["host"])
        if not isinstance(res, dict):
            problems.append("%s: no result" % h["host"])
            continue
        codes = list(res.get("codes") or parse_curl_codes(res.get("stdout")))
        per_host[h["host"]] = codes
        actual_parts.append("%s: %s" % (h["host"], _histogram(codes) or "no status code"))
        evidence.append("%s %s -> %s (rc %s)" % (h["host"], h["url"], " ".join(codes) or "-", res.get("rc")))
        if res.get("stderr"):
            evidence.append("%s stderr: %s" % (h["host"], res["stderr"].strip().splitlines()[-1][:300]))
        if len(codes) < n or any(c != code for c in codes):
            problems.append("%s: %s of %d calls returned %s" % (
                h["host"], sum(1 for c in codes if c == code), n, code))
    actual = "; ".join(actual_parts) if actual_parts else "no results"
    if problems and not actual_parts:
        actual = "; ".join(problems)
    return _row("call", expected, actual, FAIL if problems else PASS, evidence, reproduce,
                details={"codes": per_host})


def check_gateway_log(facts, s, pre_row):
    n = s["calls"]
    gw = s["gateway"]
    expected = ("egress gateway access log (all replicas, since the probe started): >= %d entries per host "
                "for host:port, response flags in %s%s" % (
                    n, ",".join(s["allowed_response_flags"]),
                    "; every Ready replica carries some" if s["require_all_replicas"] else ""))
    since = _get(facts, "run.probe_started", "")
    reproduce = ["%s -n %s logs -l %s -c istio-proxy --prefix --since-time=%s | grep %s" % (
        _ctx(s), gw["namespace"], gw["selector"], since or "<probe start>", h["host"]) for h in s["hosts"]]
    if not s["data_plane"]:
        return _not_run("gateway_log", expected, _no_data_plane_reason(s), reproduce)
    logs = facts.get("gateway_log")
    if not isinstance(logs, dict):
        return _not_run("gateway_log", expected,
                        s["reasons"].get("no_client") or "the gateway log was not read", reproduce)
    ready_pods = sorted(p["name"] for p in pre_row["details"].get("gateway_pods", []) if p["ready"])
    problems, evidence, actual_parts = [], [], []
    coverage = {}
    for h in s["hosts"]:
        res = logs.get(h["host"])
        if not isinstance(res, dict):
            problems.append("%s: the gateway log was not read" % h["host"])
            actual_parts.append(problems[-1])
            continue
        if res.get("error"):
            problems.append("%s: reading the gateway log failed: %s" % (h["host"], res["error"]))
            actual_parts.append(problems[-1])
            evidence.append(res["error"])
            continue
        count = int(res.get("count") or 0)
        bad = _bad_flags(res, s["allowed_response_flags"])
        pods = res.get("pods") or {}
        actual_parts.append("%s:%s %s (flags %s) in %s" % (
            h["host"], h["port"], _plural(count, "entry"), _histogram_dict(res.get("response_flags")) or "none",
            _plural(len(pods), "pod")))
        if res.get("msg"):
            evidence.append("%s: %s" % (h["host"], res["msg"]))
        for entry in (res.get("entries") or [])[:3]:
            evidence.append(_entry_text(entry))
        if count < n:
            problems.append("%s: %d entries for %s:%s, expected >= %d" % (h["host"], count, h["host"], h["port"], n))
        if bad:
            problems.append("%s: response flags %s" % (h["host"], _histogram_dict(bad)))
        for pod, val in pods.items():
            lines, matches = _pod_counts(val)
            cov = coverage.setdefault(pod, {"lines": 0, "matches": 0})
            cov["lines"] += lines or 0
            cov["matches"] += matches or 0
    uncovered = []
    if s["require_all_replicas"] and len(ready_pods) > 1 and coverage:
        for pod in ready_pods:
            cov = coverage.get(pod)
            if cov is None or cov["matches"] == 0:
                uncovered.append(pod)
        if uncovered and len(uncovered) < len(ready_pods):
            problems.append("no entries from %s of %s Ready replicas: %s" % (
                len(uncovered), len(ready_pods), ", ".join(uncovered)))
    for pod in sorted(coverage):
        evidence.append("pod %s: %d lines read, %d matching" % (pod, coverage[pod]["lines"], coverage[pod]["matches"]))
    actual = "; ".join(actual_parts) if actual_parts else "; ".join(problems)
    if uncovered and len(uncovered) < len(ready_pods):
        actual += "; replicas without entries: %s" % ", ".join(uncovered)
    return _row("gateway_log", expected, actual, FAIL if problems else PASS, evidence, reproduce,
                details={"coverage": coverage, "uncovered_replicas": uncovered})


def _histogram_dict(d):
    if not d:
        return ""
    return ", ".join("%s\u00d7%s" % (k, d[k]) for k in sorted(d))


def _cluster_names(result):
    names = set()
    for c in result.get("clusters") or []:
        if isinstance(c, dict) and c.get("name"):
            names.add(c["name"])
        elif isinstance(c, str):
            names.add(c)
    return names


def check_routing(facts, s):
    gw, client = s["gateway"], s["client"]
    expected = ("client sidecar: SNI host -> hop-1 cluster of the egress gateway service "
                "(via_egress_gateway); gateway: SNI host -> hop-2 cluster outbound|PORT||HOST")
    reproduce = []
    for h in s["hosts"]:
        reproduce.append("%s proxy-config listeners deploy/%s.%s --port %s -o json | grep -B2 -A12 '\"%s\"'" % (
            _ctx(s, "istioctl"), client["deployment"], client["namespace"], h["port"], h["host"]))
        reproduce.append("%s proxy-config clusters deploy/%s.%s | grep -E '%s|egressgateway'" % (
            _ctx(s, "istioctl"), client["deployment"], client["namespace"], h["host"]))
        reproduce.append("%s proxy-config clusters deploy/%s.%s | grep %s" % (
            _ctx(s, "istioctl"), gw["deployment"], gw["namespace"], h["host"]))
    routing = facts.get("routing")
    if not isinstance(routing, dict) or not (routing.get("client") or routing.get("gateway")):
        reason = _no_data_plane_reason(s) if not s["data_plane"] else "the proxy config was not read"
        return _not_run("routing", expected, reason, reproduce)
    problems, evidence, actual_parts = [], [], []
    details = {"client": {}, "gateway": {}}
    for h in s["hosts"]:
        cres = (routing.get("client") or {}).get(h["host"])
        gres = (routing.get("gateway") or {}).get(h["host"])
        # hop 1
        if not isinstance(cres, dict):
            problems.append("%s: client proxy config not read" % h["host"])
        elif cres.get("error"):
            problems.append("%s: client proxy config: %s" % (h["host"], cres["error"]))
        else:
            dest = cres.get("destination") or {}
            details["client"][h["host"]] = dest
            evidence.append("client %s: %s" % (h["host"], dest.get("evidence") or "no evidence"))
            if not dest.get("matched"):
                problems.append("%s: the client sidecar has no route for SNI %s:%s%s" % (
                    h["host"], h["host"], h["port"],
                    " (it falls through to %s)" % dest["cluster"] if dest.get("cluster") else ""))
            elif not dest.get("via_egress_gateway"):
                problems.append("%s: the client sidecar sends it to %s, not to the egress gateway" % (
                    h["host"], dest.get("cluster")))
            else:
                cluster = dest.get("cluster")
                names = _cluster_names(cres)
                if dest.get("cluster_found") is False or (cluster and names and cluster not in names):
                    problems.append("%s: hop-1 cluster %s is referenced but does not exist in the client's "
                                    "clusters" % (h["host"], cluster))
                else:
                    actual_parts.append("hop 1 %s -> %s" % (h["host"], cluster))
        # hop 2
        want = hop2_cluster(h["host"], h["port"])
        if not isinstance(gres, dict):
            problems.append("%s: gateway proxy config not read" % h["host"])
        elif gres.get("error"):
            problems.append("%s: gateway proxy config: %s" % (h["host"], gres["error"]))
        else:
            dest = gres.get("destination") or {}
            details["gateway"][h["host"]] = dest
            evidence.append("gateway %s: %s" % (h["host"], dest.get("evidence") or "no evidence"))
            if not dest.get("matched"):
                problems.append("%s: the gateway has no SNI filter chain for %s (hop 2 missing)"
                                % (h["host"], h["host"]))
            elif dest.get("cluster") != want and want not in (dest.get("clusters") or []):
                problems.append("%s: the gateway sends it to %s, expected %s" % (h["host"], dest.get("cluster"), want))
            elif want not in _cluster_names(gres) and _cluster_names(gres):
                problems.append("%s: the gateway has no cluster %s" % (h["host"], want))
            else:
                actual_parts.append("hop 2 %s -> %s" % (h["host"], want))
    actual = "; ".join(problems) if problems else "; ".join(actual_parts)
    return _row("routing", expected, actual, FAIL if problems else PASS, evidence, reproduce, details=details)


def check_blocking(facts, s):
    unreg = s["unregistered"]
    plain = unreg["url"].startswith("http://")
    blocked_codes = ("502",) if plain else ("000",)
    expected = ("REGISTRY_ONLY: %s returns %s, no gateway log entry for it, no PassthroughCluster in the "
                "client's config" % (unreg["url"], "/".join(blocked_codes)))
    reproduce = [
        _exec_client(s, _curl(unreg["url"], 5)),
        "%s proxy-config clusters deploy/%s.%s | grep -E 'PassthroughCluster|BlackHoleCluster'" % (
            _ctx(s, "istioctl"), s["client"]["deployment"], s["client"]["namespace"]),
    ]
    # No data plane first: it is the reason whatever the enforcement settings are.
    if not s["data_plane"]:
        return _not_run("blocking", expected, _no_data_plane_reason(s), reproduce)
    if not s["registry_only"]:
        reason = (s["reasons"].get("registry_only")
                  or "REGISTRY_ONLY is not enabled (egress_verify_registry_only: false)")
        return _not_run("blocking", expected, reason, reproduce)
    b = facts.get("blocking")
    if not isinstance(b, dict):
        return _not_run("blocking", expected,
                        s["reasons"].get("no_client") or "the blocking probe was not run", reproduce)
    problems, evidence, parts = [], [], []
    call = b.get("call") or {}
    codes = list(call.get("codes") or parse_curl_codes(call.get("stdout")))
    parts.append("%s -> %s" % (unreg["host"], _histogram(codes) or "no code"))
    evidence.append("%s -> %s (rc %s)" % (unreg["url"], " ".join(codes) or "-", call.get("rc")))
    if not codes or any(c not in blocked_codes for c in codes):
        problems.append("%s was not blocked: %s" % (unreg["host"], _histogram(codes) or "no status code"))
    log = b.get("gateway_log")
    if isinstance(log, dict) and log.get("error"):
        problems.append("reading the gateway log failed: %s" % log["error"])
    elif isinstance(log, dict):
        cnt = int(log.get("count") or 0)
        parts.append("%d gateway entries" % cnt)
        if cnt:
            problems.append("the gateway logged %d entries for %s" % (cnt, unreg["host"]))
            for entry in (log.get("entries") or [])[:2]:
                evidence.append(_entry_text(entry))
    cfg = b.get("client_config")
    if isinstance(cfg, dict) and not cfg.get("error"):
        policy = cfg.get("outbound_traffic_policy") or {}
        mode = policy.get("mode", "unknown")
        parts.append("client outbound policy %s" % mode)
        policy_evidence = policy.get("evidence") or ""
        if isinstance(policy_evidence, list):
            policy_evidence = "; ".join(str(e) for e in policy_evidence)
        evidence.append("client config: %s (%s)" % (mode, policy_evidence))
        if mode != "REGISTRY_ONLY":
            problems.append("the client's outbound traffic policy is %s" % mode)
    elif isinstance(cfg, dict):
        problems.append("client proxy config: %s" % cfg["error"])
    actual = "; ".join(problems) if problems else "; ".join(parts)
    return _row("blocking", expected, actual, FAIL if problems else PASS, evidence, reproduce,
                details={"codes": codes})


def check_l3(facts, s, call_row):
    ns = s["client"]["namespace"]
    h = s["hosts"][0]
    expected = ("a pod without sidecar in %s cannot reach %s directly (000, timeout) while the sidecar "
                "path returns %s" % (ns, h["url"], s["expected_code"]))
    reproduce = [
        "%s -n %s run egress-l3-probe --rm -i --restart=Never --image=curlimages/curl "
        "--labels=sidecar.istio.io/inject=false --command -- %s" % (_ctx(s), ns, _curl(h["url"], 5)),
        _exec_client(s, _curl(h["url"])),
    ]
    if not s["data_plane"]:
        return _not_run("l3_lock", expected, _no_data_plane_reason(s), reproduce)
    if not s["calico"]:
        reason = s["reasons"].get("calico") or "the Calico policy is not enabled (egress_verify_calico: false)"
        return _not_run("l3_lock", expected, reason, reproduce)
    l3 = facts.get("l3")
    if not isinstance(l3, dict):
        return _not_run("l3_lock", expected, s["reasons"].get("l3") or "the L3 probe was not run", reproduce)
    problems, evidence = [], []
    if l3.get("error"):
        return _row("l3_lock", expected, "the L3 probe pod failed: %s" % l3["error"], FAIL, [l3["error"]], reproduce)
    direct = l3.get("direct") or {}
    dcodes = list(direct.get("codes") or parse_curl_codes(direct.get("stdout")))
    evidence.append("no-sidecar pod -> %s: %s (curl exit %s)%s" % (
        h["url"], " ".join(dcodes) or "-", direct.get("rc"),
        (" " + direct.get("stderr", "").strip().splitlines()[-1][:200]) if direct.get("stderr", "").strip() else ""))
    if not dcodes or any(c != "000" for c in dcodes):
        problems.append("the no-sidecar pod reached %s directly: %s" % (h["host"], _histogram(dcodes) or "no code"))
    sidecar = l3.get("sidecar") or {}
    scodes = list(sidecar.get("codes") or parse_curl_codes(sidecar.get("stdout")))
    if not scodes:
        scodes = list((call_row["details"].get("codes") or {}).get(h["host"]) or [])
    evidence.append("sidecar path -> %s: %s" % (h["url"], " ".join(scodes) or "-"))
    if not scodes or any(c != s["expected_code"] for c in scodes):
        problems.append("the sidecar path returned %s" % (_histogram(scodes) or "nothing"))
    note = ""
    if not problems and direct.get("rc") not in (None, 28):
        note = " (curl exit %s, not a timeout: a reject rule or DNS failure rather than a drop)" % direct.get("rc")
    actual = "; ".join(problems) if problems else "direct %s%s, sidecar path %s" % (
        _histogram(dcodes), note, _histogram(scodes))
    return _row("l3_lock", expected, actual, FAIL if problems else PASS, evidence, reproduce,
                details={"direct_codes": dcodes, "sidecar_codes": scodes})


# --------------------------------------------------------------------------
# diagnosis (guide section 9 + NOTES "What users of egress gateways report most")
# --------------------------------------------------------------------------

def _diag(diag_id, symptom, cause, fix, guide, evidence):
    return {"id": diag_id, "symptom": symptom, "cause": cause, "fix": fix, "guide": guide,
            "evidence": list(evidence)}


def diagnose(facts, rows, s):
    """Map the rows and facts to likely causes; returns a list of diagnosis dicts."""
    by = {r["id"]: r for r in rows}
    out = []
    pre = by["preconditions"]["details"]
    gw, client = s["gateway"], s["client"]
    call_codes = by["call"]["details"].get("codes") or {}
    routing = by["routing"]["details"]
    logs = facts.get("gateway_log") if isinstance(facts.get("gateway_log"), dict) else {}
    logs_any = facts.get("gateway_log_any_time") if isinstance(facts.get("gateway_log_any_time"), dict) else {}

    # client 1/2 -> no injection
    no_proxy = [p for p in pre.get("client_pods", []) if not p["proxy"]]
    if no_proxy:
        out.append(_diag(
            "no_injection", "client pod %s without istio-proxy" % ", ".join(
                "%s %s" % (p["name"], p["ready_containers"]) for p in no_proxy),
            "the sidecar was not injected, so nothing intercepts the app's traffic",
            "label the namespace: kubectl label ns %s istio-injection=enabled --overwrite; then "
            "kubectl -n %s rollout restart deploy/%s" % (
                client["namespace"], client["namespace"], client["deployment"]),
            "guide 4.2, 9 (sleep 1/2)", [p["name"] for p in no_proxy]))

    # missing pieces (preconditions)
    gw_pods = pre.get("gateway_pods") or []
    if by["preconditions"]["verdict"] == FAIL and (not gw_pods or not all(p["ready"] for p in gw_pods)):
        out.append(_diag(
            "gateway_not_ready",
            "no Ready egress gateway pod (%s in %s)" % (gw["selector"], gw["namespace"]),
            "the egress gateway is not installed, not rolled out, or its pods carry other labels",
            "install it (egress_gateway role, guide 3.3); kubectl -n %s get deploy,pod -l %s; check that "
            "egress_verify_gateway_labels is the chart's labels" % (gw["namespace"], gw["selector"]),
            "guide 3.4", ["%s %s ready=%s" % (p["name"], p["ready_containers"], p["ready"]) for p in gw_pods]
            or ["no pod"]))
    if by["preconditions"]["verdict"] == FAIL and not (pre.get("client_pods") or []):
        out.append(_diag(
            "client_missing", "no client pod %s in %s" % (client["selector"], client["namespace"]),
            "the test client is not deployed (or has another name/namespace)",
            "deploy it (test_client role, guide 4.1) or set egress_verify_client_name/namespace",
            "guide 4.1", []))
    missing_hosts = [h["host"] for h in s["hosts"]
                     if not any(_host_covered(pat, h["host"]) for g in pre.get("gateways") or [] for pat in g["hosts"])]
    if by["preconditions"]["verdict"] == FAIL and missing_hosts:
        out.append(_diag(
            "routes_missing", "no Istio Gateway lists %s" % ", ".join(missing_hosts),
            "the egress objects (ServiceEntry, Gateway, DestinationRule, VirtualService) are not applied",
            "apply them (egress_routes role, guide 6); kubectl get gateways.networking.istio.io -A",
            "guide 6", []))

    # evidence computed first: it decides which of the 000 explanations fits
    dns_evidence = []
    for h, codes in call_codes.items():
        if "503" in codes:
            dns_evidence.append("%s returned 503" % h)
    for h, res in logs.items():
        if isinstance(res, dict):
            hits = _upstream_flag_hits(res.get("response_flags"))
            if hits:
                dns_evidence.append("gateway log flags for %s: %s" % (h, _histogram_dict(hits)))
    dr_evidence = []
    lookup = {client["namespace"], s["root_namespace"]}
    for d in pre.get("destination_rules") or []:
        host = d.get("host") or ""
        if host.split(".")[0] == gw["service"] and d.get("namespace") not in lookup:
            dr_evidence.append("DestinationRule %s/%s (host %s, subsets %s) is outside the client's lookup path %s"
                               % (d.get("namespace"), d.get("name"), host, ",".join(d.get("subsets") or []) or "-",
                                  ", ".join(sorted(lookup))))
    client_results = (facts.get("routing") or {}).get("client") or {} if isinstance(facts.get("routing"), dict) else {}
    for h in s["hosts"]:
        cres = client_results.get(h["host"])
        if isinstance(cres, dict) and not cres.get("error"):
            dest = cres.get("destination") or {}
            names = _cluster_names(cres)
            if dest.get("via_egress_gateway") and dest.get("cluster") and (
                    dest.get("cluster_found") is False or (names and dest["cluster"] not in names)):
                dr_evidence.append("hop-1 cluster %s is referenced by the client's SNI chain but the client has "
                                   "no such cluster" % dest["cluster"])

    # selector/label mismatch (guide 3.2, 9 row 2)
    mismatched = pre.get("mismatched_gateways") or []
    zero_hosts = [h for h, codes in call_codes.items() if codes and all(c == "000" for c in codes)]
    gw_missing_hop2 = [h for h, d in (routing.get("gateway") or {}).items() if not d.get("matched")]
    if mismatched or (zero_hosts and gw_missing_hop2):
        labels = sorted({"%s=%s" % kv for p in pre.get("gateway_pods", []) for kv in p["labels"].items()})
        out.append(_diag(
            "gateway_selector_mismatch",
            "registered host returns 000" if zero_hosts else "Gateway selects no gateway pod",
            "the Gateway's selector does not match the egress gateway pods' labels, so istiod programs no "
            "PASSTHROUGH server on them and hop 2 never exists (no error anywhere)",
            "compare `kubectl -n %s get pod -l %s --show-labels` with the Gateway's spec.selector; make the "
            "chart's labels.istio and the Gateway selector the same value (egress_gateway role)" % (
                gw["namespace"], gw["selector"]),
            "guide 3.2, 9 (registered host 000)",
            ["mismatched Gateways: %s" % (", ".join(mismatched) or "-"), "pod labels: %s" % ", ".join(labels),
             "000 for: %s" % (", ".join(zero_hosts) or "-"),
             "no hop-2 filter chain at the gateway for: %s" % (", ".join(gw_missing_hop2) or "-")]))
    elif zero_hosts and not dns_evidence and not dr_evidence:
        out.append(_diag(
            "registered_host_unreachable", "registered host returns 000 while the Gateway selects the pods",
            "the gateway is programmed but the connection fails: upstream unreachable from the gateway node, "
            "an L3 policy dropping the gateway's own egress, or the flaky public host",
            "look at the gateway log flags for the host (UF/URX = upstream connect failure), try the call "
            "again, check the node's route to the internet",
            "NOTES (httpbin.org is flaky)", ["000 for: %s" % ", ".join(zero_hosts)]))

    # 503 UH -> DNS / resolution
    if dns_evidence:
        out.append(_diag(
            "dns_resolution", "503 / UH (no healthy upstream) or UF",
            "the gateway cannot resolve or reach the external host: ServiceEntry resolution is not DNS "
            "(resolution: NONE loops the gateway to itself), the host is misspelled, or DNS fails on the node",
            "keep ServiceEntry resolution: DNS and check the host spelling; test DNS from the node "
            "(nslookup <host>); with a Calico lock make sure DNS (nodelocaldns 169.254.25.10 + CoreDNS) "
            "is allowed", "guide 9 (503 UH), NOTES", dns_evidence))

    # DR on the wrong lookup path
    if dr_evidence:
        out.append(_diag(
            "destination_rule_lookup_path", "DestinationRule subset for the gateway not visible to the client",
            "the DestinationRule is not on the client's lookup path (client namespace or the root namespace %s); "
            "istiod silently ignores it, so the subset cluster is never built" % s["root_namespace"],
            "move the DestinationRule for %s.%s.svc.cluster.local into %s or %s" % (
                gw["service"], gw["namespace"], client["namespace"], s["root_namespace"]),
            "NOTES (DR lookup path)", dr_evidence))

    # gateway log problems: bypass / logging off / stale lines / other host / one replica
    client_dests = routing.get("client") or {}
    for h in s["hosts"]:
        host = h["host"]
        res = logs.get(host)
        if not isinstance(res, dict) or res.get("error"):
            continue
        count = int(res.get("count") or 0)
        codes = call_codes.get(host) or []
        ok_calls = bool(codes) and all(c == s["expected_code"] for c in codes)
        if count >= s["calls"]:
            continue
        lines_total = int(res.get("lines_total") or 0)
        via = (client_dests.get(host) or {}).get("via_egress_gateway")
        any_time = logs_any.get(host) if isinstance(logs_any.get(host), dict) else None
        other = _other_hosts_text(res)
        if any_time and int(any_time.get("count") or 0) > 0 and count == 0:
            out.append(_diag(
                "lines_older_than_probe",
                "gateway log has %s entries for %s, all older than the probe start %s" % (
                    any_time.get("count"), host, _get(facts, "run.probe_started", "?")),
                "this run's calls did not reach the gateway (earlier runs did: routing changed since), "
                "or the controller's clock is ahead of the nodes' clocks",
                "compare the newest entry's time with the probe start; check the hop-1 route of the client "
                "(check 6); fix the clock skew (NTP) if the times are close",
                "issue 5 (since_time)", [_entry_text(e) for e in (any_time.get("entries") or [])[-2:]]))
        elif lines_total == 0 and via is not False and ok_calls:
            out.append(_diag(
                "access_logging_off",
                "no access-log lines at all from the gateway pods while the calls %s" % (
                    "returned %s" % s["expected_code"] if ok_calls else "were routed to the gateway"),
                "access logging is off: DefaultMeshConfig has accessLogFile \"\" (only the demo profile logs)",
                "apply a telemetry.istio.io/v1 Telemetry in %s selecting %s with accessLogging "
                "providers [{name: envoy}], or set meshConfig.accessLogFile: /dev/stdout" % (
                    gw["namespace"], gw["selector"]),
                "NOTES (Access logs are off by default)",
                ["lines read: 0 from %s" % _plural(len(res.get("pods") or {}), "pod")]))
        elif other and ok_calls:
            out.append(_diag(
                "other_host_only",
                "the gateway logged other hosts (%s) but not %s" % (other, host),
                "the gateway path works, but the calls to %s leave through the client sidecar directly: the "
                "hop-1 match of its VirtualService (gateways: [mesh], sniHosts) does not list %s" % (host, host),
                "add %s to the hop-1 tls.match sniHosts (and the Gateway/ServiceEntry hosts) of the "
                "VirtualService; check the spelling against the called URL" % host,
                "guide 6.4, 9 (200 but no gateway log)", [res.get("msg") or ""]))
        elif ok_calls:
            out.append(_diag(
                "hop1_not_matched",
                "calls to %s return %s but the gateway log has %d entries" % (host, s["expected_code"], count),
                "the traffic leaves through the client sidecar directly (ALLOW_ANY passthrough): hop 1 of the "
                "VirtualService is not matched",
                "check the VirtualService hop-1 match (gateways: [mesh], port %s, sniHosts: [%s]) and that it "
                "is visible to the client namespace; REGISTRY_ONLY turns a silent bypass into a visible failure"
                % (h["port"], host),
                "guide 7.2, 9 (200 but no gateway log)",
                [(client_dests.get(host) or {}).get("evidence") or "client config not read", res.get("msg") or ""]))

    # logs from only one of several replicas
    uncovered = by["gateway_log"]["details"].get("uncovered_replicas") or []
    coverage = by["gateway_log"]["details"].get("coverage") or {}
    if uncovered and by["gateway_log"]["verdict"] == FAIL and len(uncovered) < len(
            [p for p in pre.get("gateway_pods", []) if p["ready"]]):
        silent = [p for p in uncovered if (coverage.get(p) or {}).get("lines", 0) == 0]
        out.append(_diag(
            "replica_without_logs",
            "entries from only some gateway replicas; none from %s" % ", ".join(uncovered),
            "%s: those replicas wrote no access-log line at all: their access logging is off (a Telemetry "
            "selector or a pod label that only matches some replicas) or they receive no traffic (not an "
            "endpoint of the Service)" % ", ".join(silent) if silent else
            "those replicas log, but not the probed host: they are not programmed with the host's "
            "PASSTHROUGH server (labels differ between replicas, or xDS is stale on them)",
            "compare the replicas' labels (kubectl -n %s get pod -l %s --show-labels), the Telemetry selector, "
            "`kubectl -n %s get endpoints %s` and istioctl proxy-status for each replica" % (
                gw["namespace"], gw["selector"], gw["namespace"], gw["service"]),
            "issue 3 (HA gateways), NOTES",
            ["pod %s: %d lines, %d matching" % (p, c["lines"], c["matches"]) for p, c in sorted(coverage.items())]))

    # routing: bypass visible in the config even if the log said nothing
    for h in s["hosts"]:
        dest = client_dests.get(h["host"])
        if not isinstance(dest, dict) or dest.get("via_egress_gateway") is not False:
            continue
        if any(d["id"] in ("hop1_not_matched", "other_host_only") for d in out):
            break
        if dest.get("matched"):
            symptom = "the client sidecar sends %s:%s to %s, not to the egress gateway" % (
                h["host"], h["port"], dest.get("cluster"))
            cause = ("the client's SNI route for the host goes straight out: the VirtualService has the "
                     "host but no hop-1 tls route for gateways: [mesh] to the egress gateway")
        else:
            symptom = "the client sidecar has no SNI route for %s:%s" % (h["host"], h["port"])
            cause = "the VirtualService hop 1 (gateways: [mesh], sniHosts) is missing or not visible to the client"
        out.append(_diag(
            "hop1_not_matched", symptom, cause,
            "add/fix the hop-1 tls route (match gateways: [mesh], port %s, sniHosts: [%s] -> %s.%s.svc.cluster.local "
            "subset) and check the VirtualService's namespace/exportTo" % (
                h["port"], h["host"], gw["service"], gw["namespace"]),
            "guide 6.4, 9", [dest.get("evidence") or ""]))

    # not blocked -> REGISTRY_ONLY not applied
    if by["blocking"]["verdict"] == FAIL:
        out.append(_diag(
            "registry_only_not_applied", "unregistered host not blocked: %s" % by["blocking"]["actual"],
            "the proxies still run with ALLOW_ANY (PassthroughCluster): the REGISTRY_ONLY Sidecar is not in the "
            "client namespace or is named/selected differently, or the mesh-wide setting was not rolled out",
            "apply Sidecar 'default' with outboundTrafficPolicy.mode: REGISTRY_ONLY in %s (registry_only role) "
            "or meshConfig.outboundTrafficPolicy.mode; then check istioctl proxy-config clusters for "
            "BlackHoleCluster only" % client["namespace"],
            "guide 7.4, 9 (not blocked)", by["blocking"]["evidence"]))

    # xDS
    if by["xds_sync"]["verdict"] == FAIL:
        out.append(_diag(
            "xds_not_synced", "proxies not SYNCED: %s" % by["xds_sync"]["actual"],
            "istiod has not pushed the current config to the proxies (or they are not connected)",
            "istioctl proxy-status; istioctl analyze; check the istiod logs and the proxies' istio-agent logs",
            "guide 3.4, 9 (no cluster in proxy-config)", by["xds_sync"]["evidence"]))
    if by["analyze"]["verdict"] == FAIL:
        out.append(_diag(
            "analyze_findings", "istioctl analyze: %s" % by["analyze"]["actual"],
            "the objects have validation findings (IST0101 referenced selector/host not found is the usual "
            "egress one)", "fix the objects named in the findings", "guide 3.4, 6.5", by["analyze"]["evidence"]))

    # L3 lock
    if by["l3_lock"]["verdict"] == FAIL:
        direct = by["l3_lock"]["details"].get("direct_codes") or []
        if direct and any(c != "000" for c in direct):
            out.append(_diag(
                "l3_not_locked", "a pod without sidecar reaches the external host directly",
                "the Calico policy is not applied to the namespace or allows 0.0.0.0/0 egress",
                "check the policy (calicoctl get globalnetworkpolicy -o yaml) selects the workload namespace and "
                "ends in a Deny", "guide 11 (Calico), NOTES (Calico)", by["l3_lock"]["evidence"]))
        elif not any(d["id"] in ("gateway_selector_mismatch", "dns_resolution", "destination_rule_lookup_path",
                                 "no_injection") for d in out):
            out.append(_diag(
                "l3_blocks_sidecar_path", "the sidecar path fails with the Calico policy on",
                "the policy blocks the egress gateway pods' target ports, DNS or istiod 15012",
                "allow the gateway pods on their target ports (post-DNAT), nodelocaldns 169.254.25.10 + CoreDNS "
                "UDP/TCP 53 and istiod 15012", "NOTES (Calico)", by["l3_lock"]["evidence"]))
    return out


# --------------------------------------------------------------------------
# the whole report
# --------------------------------------------------------------------------

def _hop_marks(by):
    """One mark per hop: fail if any of its evidence failed, pass only if all of it passed.

    Hop 1 is proven by the client's config (via_egress_gateway) and the gateway
    log; hop 2 by the gateway's config (hop-2 filter chain) and the call's 200.
    Evidence that was not run leaves the hop "not run" (never "pass").
    """
    def combine(verdicts):
        if FAIL in verdicts:
            return FAIL
        if verdicts and all(v == PASS for v in verdicts):
            return PASS
        return NOT_RUN

    def side(name, key):
        routing = by["routing"]
        dests = routing["details"].get(name) or {}
        if routing["verdict"] == NOT_RUN or not dests:
            return NOT_RUN
        return PASS if all(d.get(key) for d in dests.values()) else FAIL

    return {
        "hop1": combine([side("client", "via_egress_gateway"), by["gateway_log"]["verdict"]]),
        "hop2": combine([side("gateway", "matched"), by["call"]["verdict"]]),
    }


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


def build_report(facts):
    """Evaluate all checks and the diagnosis; return the report dict."""
    facts = normalise_facts(facts)
    s = normalise_settings(facts.get("settings"))
    pre = check_preconditions(facts, s)
    call = check_call(facts, s)
    rows = [
        pre,
        check_xds(facts, s, pre),
        check_analyze(facts, s),
        call,
        check_gateway_log(facts, s, pre),
        check_routing(facts, s),
        check_blocking(facts, s),
        check_l3(facts, s, call),
    ]
    by = {r["id"]: r for r in rows}
    diagnosis = diagnose(facts, rows, s)
    counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in VERDICTS}
    passed = counts[FAIL] == 0
    report = {
        "schema": SCHEMA_VERSION,
        "run": dict(facts.get("run") or {}),
        "settings": s,
        "passed": passed,
        "counts": counts,
        "checks": rows,
        "failed_checks": [r["id"] for r in rows if r["verdict"] == FAIL],
        "not_run_checks": [r["id"] for r in rows if r["verdict"] == NOT_RUN],
        "diagnosis": diagnosis,
        "hops": _hop_marks(by),
        "facts": facts,
    }
    report["summary"] = summary_line(report)
    return report


def summary_line(report):
    c = report["counts"]
    if not report["passed"]:
        word = "FAILED"
    elif c[NOT_RUN]:
        word = "NO FAILURES, NOT COMPLETE"
    else:
        word = "PASSED"
    text = "egress_verify: %s - %d passed, %d failed, %d not run" % (word, c[PASS], c[FAIL], c[NOT_RUN])
    if report["failed_checks"]:
        text += " (failed: %s)" % ", ".join(report["failed_checks"])
    if report["diagnosis"]:
        text += "; likely cause: %s" % report["diagnosis"][0]["id"]
    return text


# --------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------

def _md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_diagram(report):
    s = report["settings"]
    hops = report["hops"]
    client = "%s (%s)" % (s["client"]["deployment"], s["client"]["namespace"])
    gateway = "%s (%s)" % (s["gateway"]["service"], s["gateway"]["namespace"])
    dest = ", ".join("%s:%s" % (h["host"], h["port"]) for h in s["hosts"])
    return "\n".join([
        "```",
        "%s --hop 1--> %s --hop 2--> %s" % (client, gateway, dest),
        "  hop 1 (client sidecar -> egress gateway): %s" % MARKS[hops["hop1"]],
        "  hop 2 (egress gateway -> external):       %s" % MARKS[hops["hop2"]],
        "```",
    ])


def render_markdown(report):
    s = report["settings"]
    run = report["run"]
    lines = [
        "# Egress verification report",
        "",
        "**%s**" % report["summary"],
        "",
        "- started: %s; probe started: %s" % (run.get("started") or "?", run.get("probe_started") or "-"),
        "- context: %s; data plane: %s; istioctl: %s" % (
            s["context"] or "(current)", "yes" if s["data_plane"] else "no",
            s["istioctl"] or "not found"),
        "- hosts: %s; calls per host: %d" % (", ".join(h["url"] for h in s["hosts"]), s["calls"]),
        "",
        "## Two-hop path",
        "",
        render_diagram(report),
        "",
        "## Acceptance (guide 7.5, extended)",
        "",
        "| check | expected | actual | verdict |",
        "|---|---|---|---|",
    ]
    for r in report["checks"]:
        lines.append("| %s | %s | %s | %s |" % (_md_cell(r["name"]), _md_cell(r["expected"]),
                                                _md_cell(r["actual"]), MARKS[r["verdict"]]))
    if report["diagnosis"]:
        lines += ["", "## Diagnosis", ""]
        for d in report["diagnosis"]:
            lines += [
                "### %s" % d["id"],
                "",
                "- symptom: %s" % d["symptom"],
                "- likely cause: %s" % d["cause"],
                "- fix: %s" % d["fix"],
                "- see: %s" % d["guide"],
            ]
            for e in d["evidence"]:
                if e:
                    lines.append("  - evidence: `%s`" % str(e).replace("`", "'"))
            lines.append("")
    lines += ["", "## Evidence", ""]
    for r in report["checks"]:
        lines.append("### %s: %s" % (r["name"], MARKS[r["verdict"]]))
        lines.append("")
        if r["reason"]:
            lines.append("- not run because: %s" % r["reason"])
        for e in r["evidence"]:
            lines.append("- `%s`" % str(e).replace("`", "'"))
        lines.append("")
    lines += ["## Reproduce", "", "```sh"]
    for r in report["checks"]:
        lines.append("# %s" % r["name"])
        lines.extend(r["reproduce"])
    lines += ["```", ""]
    return "\n".join(lines)


def render_junit(report):
    """JUnit XML: one testcase per check; not_run -> skipped, fail -> failure."""
    c = report["counts"]
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<testsuites name="egress_verify" tests="%d" failures="%d" skipped="%d">' % (
               len(report["checks"]), c[FAIL], c[NOT_RUN]),
           '  <testsuite name="egress_verify" tests="%d" failures="%d" errors="0" skipped="%d" timestamp=%s>' % (
               len(report["checks"]), c[FAIL], c[NOT_RUN], _xml_quoteattr(str(report["run"].get("started", ""))))]
    for r in report["checks"]:
        out.append('    <testcase classname="egress_verify" name=%s>' % _xml_quoteattr(r["name"]))
        if r["verdict"] == FAIL:
            out.append('      <failure message=%s>%s</failure>' % (
                _xml_quoteattr(r["actual"]), _xml_escape("\n".join(
                    ["expected: %s" % r["expected"], "actual: %s" % r["actual"]] + r["evidence"]))))
        elif r["verdict"] == NOT_RUN:
            out.append('      <skipped message=%s/>' % _xml_quoteattr(r["actual"]))
        out.append('      <system-out>%s</system-out>' % _xml_escape("\n".join(
            ["expected: %s" % r["expected"], "actual: %s" % r["actual"]] + r["evidence"]
            + ["reproduce: %s" % x for x in r["reproduce"]])))
        out.append('    </testcase>')
    if report["diagnosis"]:
        out.append('    <system-err>%s</system-err>' % _xml_escape("\n".join(
            "%s: %s -> %s" % (d["id"], d["cause"], d["fix"]) for d in report["diagnosis"])))
    out += ['  </testsuite>', '</testsuites>', '']
    return "\n".join(out)


def render_json(report):
    return json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"
