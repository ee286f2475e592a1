# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' preflight input checks, one function per role, and when a play's discovery is reused.

Pure functions only: stdlib and rules.py, no I/O, no AnsibleModule. The roles call them through
the filters of ``plugins/filter/preflight.py``: ONE ``fail`` task per role with
``when: problems | length > 0``. Before issue 15 each role ran two to four ``assert`` tasks whose
long ``fail_msg`` Ansible templated on every pass (docs/dev/bench_site.md); a ``fail`` that is
skipped renders nothing, and a Python function compiles no template.

Every ``*_input_problems`` function takes the role's variables as a dict (their names as keys,
the values as given: ``-e`` passes strings, the argument spec validates types but does not convert
them, so numbers and booleans are read the way Jinja's ``int`` and Ansible's ``bool`` filters read
them) and returns a list of sentences, empty when the input is valid. Each sentence names the
variable, the value and what was expected; the role joins them with a space. The sentences are the
ones the roles' asserts printed before (tests/unit/roles/test_bad_input.py greps them).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.homelab.istio_egress.plugins.module_utils import rules

_CHART_VERSION = re.compile(r"^[0-9]+[.][0-9]+([.][0-9]+)?([-+][0-9A-Za-z.-]+)?$")
_CHART_REPO = re.compile(r"^(https?|oci)://")
_GO_DURATION = re.compile(r"^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$")
# A Service port name is an IANA_SVC_NAME: a DNS label of at most 15 characters.
_PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$")
_DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_CALICO_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(r"^%s([.]%s){3}$" % (_OCTET, _OCTET))
_CIDR = re.compile(r"^%s([.]%s){3}/([0-9]|[12][0-9]|3[0-2])$" % (_OCTET, _OCTET))
_TRUE = ("y", "yes", "on", "1", "true", "t", "1.0")

# The variable that turns the Istio APIs on in a discovery (reach.yml reuses only such a one).
ISTIO_NETWORKING = "networking.istio.io/v1"


def _int(value):
    """An integer as Jinja's ``int`` filter reads it: 0 when it is not a number."""
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def _bool(value):
    """A boolean as Ansible's ``bool`` filter reads it (yes/on/true/1 ...)."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def _text(value):
    """A value as Jinja prints it in a sentence ('' for None)."""
    return "" if value is None else str(value)


def _list(value):
    return list(value) if isinstance(value, (list, tuple)) else []


def _in_range(value, low=1, high=65535):
    return low <= _int(value) <= high


def _matches(pattern, value):
    return isinstance(value, str) and bool(pattern.match(value))


def _grouped(head, failed, tail="."):
    """'<head>: a; b.' or nothing."""
    return ["%s: %s%s" % (head, "; ".join(failed), tail)] if failed else []


# --------------------------------------------------------------------------
# sidecar injection (test_client: its own namespace labels and someone else's live namespace)

def sidecar_injection_on(labels):
    """True when namespace labels turn Istio sidecar injection on.

    ``istio-injection: enabled``, or a revision label ``istio.io/rev`` without an ``istio-injection``
    label (Istio's injector: an ``istio-injection`` label of any other value wins over the revision).
    """
    if not isinstance(labels, dict):
        return False
    return labels.get("istio-injection") == "enabled" or ("istio.io/rev" in labels and "istio-injection" not in labels)


# --------------------------------------------------------------------------
# the play's discovery (roles/cluster_guard/tasks/reach.yml)

def discovery_cache_key(play, kubeconfig, context):
    """The key of a discovery: the play and the connection it was made with."""
    return json.dumps([_text(play), _text(kubeconfig), _text(context)])


def discovery_reusable(cache, play, kubeconfig, context):
    """True when reach.yml's ``cluster_guard_discovery_cache`` answers for this play and connection.

    Only a discovery that already served the Istio APIs is reused: egress_gateway's chart run may
    install them during the play, and a later role must then see them.
    """
    if not isinstance(cache, dict) or cache.get("key") != discovery_cache_key(play, kubeconfig, context):
        return False
    apis = cache.get("apis")
    return isinstance(apis, dict) and ISTIO_NETWORKING in apis


# --------------------------------------------------------------------------
# the roles' inputs

def egress_gateway_input_problems(v):
    """roles/egress_gateway: release, namespaces, chart, timeouts, labels, Service ports, replicas."""
    label = "must be a DNS label (lowercase letters, digits, '-', at most 63)"
    failed = ["%s '%s' %s" % (name, _text(v.get(name)), label)
              for name in ("egress_gateway_release_name", "egress_gateway_namespace", "egress_gateway_istiod_namespace")
              if not rules.is_dns1123_label(v.get(name))]
    if not _matches(_CHART_VERSION, _text(v.get("egress_gateway_chart_version"))):
        failed.append("egress_gateway_chart_version '%s' must be X.Y.Z (or X.Y-<build>)"
                      % _text(v.get("egress_gateway_chart_version")))
    if not (_text(v.get("egress_gateway_chart_path")) or _matches(_CHART_REPO, _text(v.get("egress_gateway_chart_repo_url")))):
        failed.append("egress_gateway_chart_repo_url '%s' must be an http(s):// or oci:// URL (or set "
                      "egress_gateway_chart_path)" % _text(v.get("egress_gateway_chart_repo_url")))
    if not _matches(_GO_DURATION, _text(v.get("egress_gateway_wait_timeout"))):
        failed.append("egress_gateway_wait_timeout '%s' must be a Go duration such as 300s or 5m"
                      % _text(v.get("egress_gateway_wait_timeout")))
    if _int(v.get("egress_gateway_pending_release_grace")) <= 0:
        failed.append("egress_gateway_pending_release_grace (%s) must be > 0 seconds"
                      % _text(v.get("egress_gateway_pending_release_grace")))
    problems = _grouped("Invalid egress gateway input", failed)

    # The labels become label selectors (verify, Telemetry, PDB) and Calico selectors:
    # "egressgateway,app!=x" would add a requirement to each of them.
    labels = rules.label_problems(v.get("egress_gateway_labels"), "egress_gateway_labels")
    if _int(v.get("egress_gateway_api_timeout")) <= 0:
        labels.append("egress_gateway_api_timeout (%s) must be > 0 seconds" % _text(v.get("egress_gateway_api_timeout")))
    if labels:
        problems.append("%s: egress_gateway_labels must be a non-empty map of valid label keys and string values "
                        "(the guide's {istio: egressgateway}); nothing was changed." % "; ".join(labels))

    ports = v.get("egress_gateway_service_ports")
    items = [p if isinstance(p, dict) else {} for p in _list(ports)]
    names = [p.get("name") for p in items]
    numbers = [p.get("port") for p in items]
    if not (items and len(items) == len(_list(ports))
            and len({_text(n) for n in names}) == len(items) and len({_text(n) for n in numbers}) == len(items)
            and all(rules.port_number(p) is not None and _in_range(p) for p in numbers + [i.get("targetPort") for i in items])
            and all(_matches(_PORT_NAME, n) for n in names)):
        problems.append("egress_gateway_service_ports must list ports with unique DNS-label names (at most 15 "
                        "characters) and unique port numbers, port and targetPort between 1 and 65535; got %s."
                        % rules.show_value(ports))

    replicas = _int(v.get("egress_gateway_replicas"))
    if replicas < 1 or (_bool(v.get("egress_gateway_ha_enabled")) and replicas < 2):
        problems.append("egress_gateway_replicas is %s: it must be at least 1, and at least 2 when "
                        "egress_gateway_ha_enabled is true (a PodDisruptionBudget over one replica blocks every node "
                        "drain)." % _text(v.get("egress_gateway_replicas")))
    return problems


def test_client_input_problems(v):
    """roles/test_client: namespace (and its labels), client, timeouts; injection when present."""
    namespace = v.get("test_client_namespace")
    failed = []
    if not rules.is_dns1123_label(namespace):
        failed.append("test_client_namespace '%s' must be a DNS label (lowercase letters, digits, '-')" % _text(namespace))
    failed += [p for p in rules.namespace_problems(namespace, "test_client_namespace", forbid_system=True)
               if "system namespace" in p]
    failed += rules.label_problems(v.get("test_client_namespace_labels"), "test_client_namespace_labels")
    if _int(v.get("test_client_api_timeout")) <= 0:
        failed.append("test_client_api_timeout (%s) must be > 0 seconds" % _text(v.get("test_client_api_timeout")))
    if not rules.is_dns1123_label(v.get("test_client_name")):
        failed.append("test_client_name '%s' must be a DNS label" % _text(v.get("test_client_name")))
    if not (v.get("test_client_image") and v.get("test_client_command")):
        failed.append("test_client_image and test_client_command must not be empty")
    if _int(v.get("test_client_replicas")) < 1:
        failed.append("test_client_replicas (%s) must be at least 1" % _text(v.get("test_client_replicas")))
    if not _in_range(v.get("test_client_service_port")):
        failed.append("test_client_service_port (%s) must be between 1 and 65535" % _text(v.get("test_client_service_port")))
    if _int(v.get("test_client_wait_timeout")) <= 0:
        failed.append("test_client_wait_timeout (%s) must be > 0 seconds" % _text(v.get("test_client_wait_timeout")))
    problems = _grouped("Invalid test client input", failed)
    labels = v.get("test_client_namespace_labels")
    if v.get("test_client_state", "present") == "present" and not sidecar_injection_on(labels):
        problems.append("test_client_namespace_labels %s do not turn sidecar injection on: add istio-injection: "
                        "enabled (guide §4.1) or istio.io/rev: <revision>. Without a sidecar the mesh cannot "
                        "steer the client's egress." % rules.show_value(labels))
    return problems


def egress_routes_input_problems(v, items):
    """roles/egress_routes: the normalised host list (rules.host_list_problems), placement, gateway."""
    problems = _grouped("Invalid egress_routes_hosts", rules.host_list_problems(items),
                        "; expected items like {host: httpbin.org, port: 443}.")
    names = ("egress_routes_client_namespace", "egress_routes_root_namespace", "egress_routes_gateway_namespace",
             "egress_routes_gateway_service", "egress_routes_gateway_name")
    bad = [n for n in names if not rules.is_dns1123_label(v.get(n))]
    failed = ["%s must be DNS labels (lowercase letters, digits, '-')" % ", ".join(bad)] if bad else []
    if not _in_range(v.get("egress_routes_gateway_port")):
        failed.append("egress_routes_gateway_port (%s) must be between 1 and 65535" % _text(v.get("egress_routes_gateway_port")))
    selector = rules.label_problems(v.get("egress_routes_gateway_selector"), "egress_routes_gateway_selector")
    if selector:
        failed.append("%s (it must equal the gateway pods' labels, egress_gateway_labels, and becomes part of label "
                      "selectors)" % "; ".join(selector))
    if _int(v.get("egress_routes_api_timeout")) <= 0:
        failed.append("egress_routes_api_timeout (%s) must be > 0 seconds" % _text(v.get("egress_routes_api_timeout")))
    if not _matches(_DNS_NAME, v.get("egress_routes_cluster_domain")):
        failed.append("egress_routes_cluster_domain '%s' must be a DNS name such as cluster.local"
                      % _text(v.get("egress_routes_cluster_domain")))
    return problems + _grouped("Invalid egress routes input", failed)


def registry_only_input_problems(v):
    """roles/registry_only: the managed namespaces, the gateway it waits for, names."""
    namespaces = _list(v.get("registry_only_namespaces"))
    root = v.get("registry_only_istiod_namespace")
    failed = []
    if not namespaces and not _bool(v.get("registry_only_mesh_wide")):
        failed.append("registry_only_namespaces is empty and registry_only_mesh_wide is false, so nothing would be enforced")
    # A Sidecar in a system namespace changes the platform's own egress.
    ns = rules.namespace_problems(namespaces, "registry_only_namespaces", forbid_system=True)
    if ns:
        failed.append("; ".join(ns))
    gateway = (rules.namespace_problems(v.get("registry_only_gateway_namespace"), "registry_only_gateway_namespace")
               + rules.label_problems(v.get("registry_only_gateway_labels"), "registry_only_gateway_labels"))
    if gateway:
        failed.append("; ".join(gateway))
    if _int(v.get("registry_only_api_timeout")) <= 0:
        failed.append("registry_only_api_timeout (%s) must be > 0 seconds" % _text(v.get("registry_only_api_timeout")))
    if root in namespaces:
        failed.append("registry_only_namespaces must not contain the root namespace '%s' (a Sidecar there is "
                      "mesh-wide: use registry_only_mesh_wide=true instead)" % _text(root))
    if len({rules.show_value(n) for n in namespaces}) != len(namespaces):
        failed.append("registry_only_namespaces %s lists a namespace twice" % rules.show_value(namespaces))
    names = (v.get("registry_only_sidecar_name"), root, v.get("registry_only_istiod_release_name"))
    if not all(rules.is_dns1123_label(n) for n in names):
        failed.append("registry_only_sidecar_name '%s', registry_only_istiod_namespace '%s' and "
                      "registry_only_istiod_release_name '%s' must be DNS labels" % tuple(_text(n) for n in names))
    return _grouped("Invalid registry_only input", failed)


def calico_policy_input_problems(v):
    """roles/calico_policy: everything that reaches a Calico selector, then the policy's own inputs.

    Every value below is pasted into a Calico selector: a namespace such as
    ``istio-system' || kubernetes.io/metadata.name != '`` would widen the policy to every namespace.
    Validate, never escape (rules.py).
    """
    namespaces = v.get("calico_policy_namespaces")
    selector = [] if _list(namespaces) else ["calico_policy_namespaces is empty: name the workload namespaces to lock"]
    selector += rules.namespace_problems(
        namespaces, "calico_policy_namespaces", forbid_system=True,
        extra_forbidden=[v.get("calico_policy_gateway_namespace"), v.get("calico_policy_istiod_namespace"),
                         v.get("calico_policy_coredns_namespace")])
    for name in ("calico_policy_gateway_namespace", "calico_policy_istiod_namespace", "calico_policy_coredns_namespace"):
        selector += rules.namespace_problems(v.get(name), name)
    selector += rules.label_problems(v.get("calico_policy_gateway_labels"), "calico_policy_gateway_labels")
    for name in ("calico_policy_istiod_selector", "calico_policy_coredns_selector"):
        selector += rules.calico_selector_problems(v.get(name), name)
    problems = _grouped("Invalid Calico policy input", selector, "; nothing was changed.")

    failed = []
    if not _matches(_CALICO_NAME, v.get("calico_policy_name")):
        failed.append("calico_policy_name '%s' must be a DNS name" % _text(v.get("calico_policy_name")))
    if _int(v.get("calico_policy_order")) < 0:
        failed.append("calico_policy_order (%s) must be >= 0 (and below 1000 to precede NetworkPolicies)"
                      % _text(v.get("calico_policy_order")))
    if not v.get("calico_policy_gateway_labels"):
        failed.append("calico_policy_gateway_labels (from egress_gateway_labels) must not be empty")
    ports = _list(v.get("calico_policy_gateway_target_ports"))
    if not ports or not all(_in_range(p) for p in ports):
        failed.append("calico_policy_gateway_target_ports (%s) must list the gateway pods' target ports, 1-65535 (they "
                      "derive from egress_gateway_service_ports: set that, or list them)"
                      % rules.show_value(v.get("calico_policy_gateway_target_ports")))
    if not _in_range(v.get("calico_policy_istiod_port")):
        failed.append("calico_policy_istiod_port (%s) must be between 1 and 65535" % _text(v.get("calico_policy_istiod_port")))
    nets = [v.get("calico_policy_pod_cidr")] + _list(v.get("calico_policy_extra_allowed_nets"))
    bad = [n for n in nets if not _matches(_CIDR, n)]
    if bad:
        failed.append("calico_policy_pod_cidr / calico_policy_extra_allowed_nets %s must be IPv4 CIDRs such as "
                      "10.233.64.0/18" % rules.show_value(bad))
    dns_ip = _text(v.get("calico_policy_nodelocaldns_ip"))
    if dns_ip and not _matches(_IPV4, dns_ip):
        failed.append("calico_policy_nodelocaldns_ip '%s' must be an IPv4 address or empty" % dns_ip)
    apiserver = _list(v.get("calico_policy_apiserver_nets"))
    if [n for n in apiserver if not (_matches(_CIDR, _text(n)) or _matches(_IPV4, _text(n)))]:
        failed.append("calico_policy_apiserver_nets %s must list IPv4 addresses or CIDRs of the API server (or be "
                      "empty to read them from Service default/kubernetes)" % rules.show_value(v.get("calico_policy_apiserver_nets")))
    if not _in_range(v.get("calico_policy_apiserver_port")):
        failed.append("calico_policy_apiserver_port (%s) must be between 1 and 65535"
                      % _text(v.get("calico_policy_apiserver_port")))
    if _int(v.get("calico_policy_api_timeout")) <= 0:
        failed.append("calico_policy_api_timeout (%s) must be > 0 seconds" % _text(v.get("calico_policy_api_timeout")))
    return problems + _grouped("Invalid Calico policy input", failed)
