# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' preflight rules (plugins/module_utils/preflight.py), without Ansible.

Before issue 15 each role checked its inputs in two to four ``assert`` tasks (Jinja), whose long
messages Ansible templated on every pass. The checks moved here unchanged: the role defaults pass,
each check still refuses its bad value with the sentence the assert printed (tests/unit/roles/
test_bad_input.py runs the same cases through ansible-playbook), and values given with ``-e`` as
strings are read as Jinja's ``int`` and Ansible's ``bool`` read them. All values are SYNTHETIC.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.homelab.istio_egress.plugins.filter.preflight import FilterModule
from ansible_collections.homelab.istio_egress.plugins.module_utils import preflight

PORTS = [{"name": "status-port", "port": 15021, "targetPort": 15021}, {"name": "http2", "port": 80, "targetPort": 8080},
         {"name": "https", "port": 443, "targetPort": 8443}, {"name": "tls", "port": 15443, "targetPort": 15443}]
GATEWAY = {  # roles/egress_gateway/defaults/main.yml
    "egress_gateway_release_name": "istio-egressgateway", "egress_gateway_namespace": "istio-system",
    "egress_gateway_istiod_namespace": "istio-system", "egress_gateway_chart_version": "1.30.0",
    "egress_gateway_chart_path": "", "egress_gateway_chart_repo_url": "https://istio-release.storage.googleapis.com/charts",
    "egress_gateway_wait_timeout": "300s", "egress_gateway_pending_release_grace": 900,
    "egress_gateway_labels": {"istio": "egressgateway"}, "egress_gateway_api_timeout": 60,
    "egress_gateway_service_ports": PORTS, "egress_gateway_replicas": 1, "egress_gateway_ha_enabled": False}
CLIENT = {  # roles/test_client/defaults/main.yml
    "test_client_state": "present", "test_client_namespace": "mesh-test",
    "test_client_namespace_labels": {"istio-injection": "enabled"}, "test_client_api_timeout": 60,
    "test_client_name": "sleep", "test_client_image": "curlimages/curl", "test_client_command": ["/bin/sleep", "infinity"],
    "test_client_replicas": 1, "test_client_service_port": 80, "test_client_wait_timeout": 180}
ROUTES = {  # roles/egress_routes/defaults/main.yml, rendered
    "egress_routes_client_namespace": "mesh-test", "egress_routes_root_namespace": "istio-system",
    "egress_routes_gateway_namespace": "istio-system", "egress_routes_gateway_service": "istio-egressgateway",
    "egress_routes_gateway_name": "istio-egressgateway", "egress_routes_gateway_port": 443,
    "egress_routes_gateway_selector": {"istio": "egressgateway"}, "egress_routes_api_timeout": 60,
    "egress_routes_cluster_domain": "cluster.local"}
HOSTS = [{"host": "httpbin.org", "port": 443, "name": "httpbin", "url": "https://httpbin.org/"}]
REGISTRY = {  # roles/registry_only/defaults/main.yml, rendered
    "registry_only_namespaces": ["mesh-test"], "registry_only_mesh_wide": False,
    "registry_only_gateway_namespace": "istio-system", "registry_only_gateway_labels": {"istio": "egressgateway"},
    "registry_only_api_timeout": 60, "registry_only_istiod_namespace": "istio-system",
    "registry_only_sidecar_name": "default", "registry_only_istiod_release_name": "istiod"}
CALICO = {  # roles/calico_policy/defaults/main.yml, rendered for kubespray's defaults
    "calico_policy_namespaces": ["mesh-test"], "calico_policy_gateway_namespace": "istio-system",
    "calico_policy_istiod_namespace": "istio-system", "calico_policy_coredns_namespace": "kube-system",
    "calico_policy_gateway_labels": {"istio": "egressgateway"}, "calico_policy_istiod_selector": "app == 'istiod'",
    "calico_policy_coredns_selector": "k8s-app == 'kube-dns'", "calico_policy_name": "istio-egress-via-gateway",
    "calico_policy_order": 500, "calico_policy_gateway_target_ports": [8080, 8443, 15443],
    "calico_policy_istiod_port": 15012, "calico_policy_pod_cidr": "10.233.64.0/18",
    "calico_policy_extra_allowed_nets": [], "calico_policy_nodelocaldns_ip": "169.254.25.10",
    "calico_policy_apiserver_nets": [], "calico_policy_apiserver_port": "6443", "calico_policy_api_timeout": 60}


def _with(base, **changes):
    out = dict(base)
    out.update(changes)
    return out


def test_the_role_defaults_pass():
    assert preflight.egress_gateway_input_problems(GATEWAY) == []
    assert preflight.test_client_input_problems(CLIENT) == []
    assert preflight.egress_routes_input_problems(ROUTES, HOSTS) == []
    assert preflight.registry_only_input_problems(REGISTRY) == []
    assert preflight.calico_policy_input_problems(CALICO) == []


def test_extra_vars_as_strings_are_read_like_jinja():
    # -e egress_gateway_replicas=2 -e egress_gateway_ha_enabled=yes: the argument spec validates, never converts.
    assert preflight.egress_gateway_input_problems(_with(GATEWAY, egress_gateway_replicas="2",
                                                         egress_gateway_ha_enabled="yes")) == []
    assert preflight.egress_gateway_input_problems(_with(GATEWAY, egress_gateway_replicas="1",
                                                         egress_gateway_ha_enabled="yes")) != []
    assert preflight.test_client_input_problems(_with(CLIENT, test_client_service_port="8080")) == []
    assert preflight.test_client_input_problems(_with(CLIENT, test_client_service_port="http")) == [
        "Invalid test client input: test_client_service_port (http) must be between 1 and 65535."]


@pytest.mark.parametrize("changes, expected", [
    ({"egress_gateway_chart_version": "latest"},
     ["Invalid egress gateway input: egress_gateway_chart_version 'latest' must be X.Y.Z (or X.Y-<build>)."]),
    ({"egress_gateway_release_name": "Egress_GW", "egress_gateway_wait_timeout": "5 minutes"},
     [("Invalid egress gateway input: egress_gateway_release_name 'Egress_GW' must be a DNS label (lowercase letters, "
       "digits, '-', at most 63); egress_gateway_wait_timeout '5 minutes' must be a Go duration such as 300s or 5m.")]),
    ({"egress_gateway_chart_repo_url": "istio-release.storage.googleapis.com/charts"},
     [("Invalid egress gateway input: egress_gateway_chart_repo_url 'istio-release.storage.googleapis.com/charts' must "
       "be an http(s):// or oci:// URL (or set egress_gateway_chart_path).")]),
    ({"egress_gateway_pending_release_grace": 0},
     ["Invalid egress gateway input: egress_gateway_pending_release_grace (0) must be > 0 seconds."]),
    ({"egress_gateway_labels": {"istio": "egressgateway,app!=x"}},
     [("egress_gateway_labels value \"egressgateway,app!=x\" of istio is not a valid label value (at most 63 of letters, "
       "digits, '-', '_', '.', starting and ending alphanumeric; no ',', '=', '!', spaces or quotes): egress_gateway_labels "
       "must be a non-empty map of valid label keys and string values (the guide's {istio: egressgateway}); nothing was "
       "changed.")]),
    ({"egress_gateway_api_timeout": 0},
     [("egress_gateway_api_timeout (0) must be > 0 seconds: egress_gateway_labels must be a non-empty map of valid label "
       "keys and string values (the guide's {istio: egressgateway}); nothing was changed.")]),
    ({"egress_gateway_service_ports": [{"name": "https", "port": 0, "targetPort": 8443}]},
     [("egress_gateway_service_ports must list ports with unique DNS-label names (at most 15 characters) and unique port "
       "numbers, port and targetPort between 1 and 65535; got [{\"name\": \"https\", \"port\": 0, \"targetPort\": 8443}].")]),
    ({"egress_gateway_ha_enabled": True},
     [("egress_gateway_replicas is 1: it must be at least 1, and at least 2 when egress_gateway_ha_enabled is true (a "
       "PodDisruptionBudget over one replica blocks every node drain).")]),
])
def test_egress_gateway_refusals(changes, expected):
    assert preflight.egress_gateway_input_problems(_with(GATEWAY, **changes)) == expected


@pytest.mark.parametrize("ports", [
    [],
    [{"name": "https", "port": 443, "targetPort": 8443}, {"name": "https", "port": 444, "targetPort": 8444}],
    [{"name": "a", "port": 443, "targetPort": 8443}, {"name": "b", "port": 443, "targetPort": 8444}],
    [{"name": "a-very-long-port-name", "port": 443, "targetPort": 8443}],
    [{"name": "https", "port": 443, "targetPort": 70000}],
    [{"name": "https", "port": 443}],
    ["https"],
])
def test_egress_gateway_service_ports_refused(ports):
    problems = preflight.egress_gateway_input_problems(_with(GATEWAY, egress_gateway_service_ports=ports))
    assert len(problems) == 1 and problems[0].startswith("egress_gateway_service_ports must list ports"), problems


def test_every_gateway_problem_is_reported_in_one_message():
    problems = preflight.egress_gateway_input_problems(_with(
        GATEWAY, egress_gateway_chart_version="latest", egress_gateway_labels={}, egress_gateway_replicas=0))
    assert [p.split(" ", 2)[:2] for p in problems] == [["Invalid", "egress"], ["egress_gateway_labels", "must"],
                                                       ["egress_gateway_replicas", "is"]]


@pytest.mark.parametrize("changes, fragment", [
    ({"test_client_namespace": "Mesh_Test"}, "test_client_namespace 'Mesh_Test' must be a DNS label"),
    ({"test_client_namespace": "kube-system"}, "test_client_namespace must not contain the system namespace(s) kube-system"),
    ({"test_client_namespace_labels": {"istio-injection": "enabled", "bad key!": "x"}},
     "test_client_namespace_labels key \"bad key!\" is not a valid label key"),
    ({"test_client_name": "Sleep"}, "test_client_name 'Sleep' must be a DNS label"),
    ({"test_client_image": ""}, "test_client_image and test_client_command must not be empty"),
    ({"test_client_command": []}, "test_client_image and test_client_command must not be empty"),
    ({"test_client_replicas": 0}, "test_client_replicas (0) must be at least 1"),
    ({"test_client_service_port": 0}, "test_client_service_port (0) must be between 1 and 65535"),
    ({"test_client_wait_timeout": 0}, "test_client_wait_timeout (0) must be > 0 seconds"),
    ({"test_client_api_timeout": -1}, "test_client_api_timeout (-1) must be > 0 seconds"),
])
def test_test_client_refusals(changes, fragment):
    problems = preflight.test_client_input_problems(_with(CLIENT, **changes))
    assert len(problems) == 1 and problems[0].startswith("Invalid test client input: ") and fragment in problems[0], problems


@pytest.mark.parametrize("labels, on", [
    ({"istio-injection": "enabled"}, True),
    ({"istio.io/rev": "canary"}, True),
    ({"istio.io/rev": "canary", "istio-injection": "disabled"}, False),  # istio-injection wins
    ({"istio-injection": "disabled"}, False),
    ({}, False),
    (None, False),
])
def test_sidecar_injection_on(labels, on):
    assert preflight.sidecar_injection_on(labels) is on


def test_test_client_labels_without_injection_are_refused_only_when_present():
    labels = {"team": "a"}
    problems = preflight.test_client_input_problems(_with(CLIENT, test_client_namespace_labels=labels))
    assert problems == [("test_client_namespace_labels {\"team\": \"a\"} do not turn sidecar injection on: add "
                         "istio-injection: enabled (guide §4.1) or istio.io/rev: <revision>. Without a sidecar the "
                         "mesh cannot steer the client's egress.")]
    assert preflight.test_client_input_problems(_with(CLIENT, test_client_namespace_labels=labels,
                                                      test_client_state="absent")) == []


@pytest.mark.parametrize("changes, expected", [
    ({"egress_routes_root_namespace": "Istio", "egress_routes_gateway_name": "gw_1"},
     ("Invalid egress routes input: egress_routes_root_namespace, egress_routes_gateway_name must be DNS labels "
      "(lowercase letters, digits, '-').")),
    ({"egress_routes_gateway_port": 0}, ("Invalid egress routes input: egress_routes_gateway_port (0) must be between 1 "
                                         "and 65535.")),
    ({"egress_routes_cluster_domain": "Cluster.Local"}, ("Invalid egress routes input: egress_routes_cluster_domain "
                                                         "'Cluster.Local' must be a DNS name such as cluster.local.")),
    ({"egress_routes_api_timeout": 0}, "Invalid egress routes input: egress_routes_api_timeout (0) must be > 0 seconds."),
    ({"egress_routes_gateway_selector": {"istio": "egressgateway,app!=x"}},
     ("Invalid egress routes input: egress_routes_gateway_selector value \"egressgateway,app!=x\" of istio is not a valid "
      "label value (at most 63 of letters, digits, '-', '_', '.', starting and ending alphanumeric; no ',', '=', '!', "
      "spaces or quotes) (it must equal the gateway pods' labels, egress_gateway_labels, and becomes part of label "
      "selectors).")),
])
def test_egress_routes_refusals(changes, expected):
    assert preflight.egress_routes_input_problems(_with(ROUTES, **changes), HOSTS) == [expected]


def test_egress_routes_hosts_go_through_the_host_rule():
    hosts = [dict(HOSTS[0], port=0)]
    assert preflight.egress_routes_input_problems(ROUTES, hosts) == [
        ("Invalid egress_routes_hosts: port(s) 0 are not integers between 1 and 65535; expected items like "
         "{host: httpbin.org, port: 443}.")]


@pytest.mark.parametrize("changes, fragment", [
    ({"registry_only_namespaces": [], "registry_only_mesh_wide": "false"},
     "registry_only_namespaces is empty and registry_only_mesh_wide is false, so nothing would be enforced"),
    ({"registry_only_namespaces": ["mesh-test", "mesh-test"]},
     "registry_only_namespaces [\"mesh-test\", \"mesh-test\"] lists a namespace twice"),
    ({"registry_only_namespaces": ["kube-system"]},
     "registry_only_namespaces must not contain the system namespace(s) kube-system"),
    ({"registry_only_gateway_labels": {"istio": "egressgateway,app!=x"}}, "registry_only_gateway_labels value"),
    ({"registry_only_gateway_namespace": "Istio"}, "registry_only_gateway_namespace has \"Istio\""),
    ({"registry_only_api_timeout": "0"}, "registry_only_api_timeout (0) must be > 0 seconds"),
    ({"registry_only_sidecar_name": "Default"},
     ("registry_only_sidecar_name 'Default', registry_only_istiod_namespace 'istio-system' and "
      "registry_only_istiod_release_name 'istiod' must be DNS labels")),
])
def test_registry_only_refusals(changes, fragment):
    problems = preflight.registry_only_input_problems(_with(REGISTRY, **changes))
    assert len(problems) == 1 and problems[0].startswith("Invalid registry_only input: ") and fragment in problems[0], problems


def test_registry_only_root_namespace_is_refused_twice_over():
    problems = preflight.registry_only_input_problems(_with(REGISTRY, registry_only_namespaces=["istio-system"]))
    assert "must not contain the root namespace 'istio-system' (a Sidecar there is mesh-wide" in problems[0]
    assert "must not contain the system namespace(s) istio-system" in problems[0]
    assert preflight.registry_only_input_problems(_with(REGISTRY, registry_only_namespaces=[],
                                                        registry_only_mesh_wide=True)) == []


@pytest.mark.parametrize("changes, fragment", [
    ({"calico_policy_namespaces": []}, "calico_policy_namespaces is empty: name the workload namespaces to lock"),
    ({"calico_policy_namespaces": ["mesh-test", "istio-system"]},
     "calico_policy_namespaces must not contain the system namespace(s) istio-system"),
    ({"calico_policy_istiod_selector": "app == 'istiod' || all()"}, "is not a selector of the form key == 'value'"),
    ({"calico_policy_name": "Policy"}, "calico_policy_name 'Policy' must be a DNS name"),
    ({"calico_policy_order": -1}, "calico_policy_order (-1) must be >= 0"),
    ({"calico_policy_gateway_target_ports": []}, "calico_policy_gateway_target_ports ([]) must list the gateway pods'"),
    ({"calico_policy_gateway_target_ports": ["8443", "https"]}, "calico_policy_gateway_target_ports ([\"8443\", \"https\"])"),
    ({"calico_policy_istiod_port": 70000}, "calico_policy_istiod_port (70000) must be between 1 and 65535"),
    ({"calico_policy_pod_cidr": "10.233.64.0/40"},
     ("calico_policy_pod_cidr / calico_policy_extra_allowed_nets [\"10.233.64.0/40\"] must be IPv4 CIDRs such as "
      "10.233.64.0/18.")),
    ({"calico_policy_extra_allowed_nets": ["10.0.0.1"]}, "[\"10.0.0.1\"] must be IPv4 CIDRs"),
    ({"calico_policy_nodelocaldns_ip": "169.254.25.300"}, "calico_policy_nodelocaldns_ip '169.254.25.300' must be an IPv4"),
    ({"calico_policy_apiserver_nets": ["192.0.2.10", "example.org"]}, ("calico_policy_apiserver_nets [\"192.0.2.10\", "
                                                                       "\"example.org\"] must list IPv4 addresses or CIDRs")),
    ({"calico_policy_apiserver_port": "x"}, "calico_policy_apiserver_port (x) must be between 1 and 65535"),
    ({"calico_policy_api_timeout": 0}, "calico_policy_api_timeout (0) must be > 0 seconds"),
])
def test_calico_policy_refusals(changes, fragment):
    problems = preflight.calico_policy_input_problems(_with(CALICO, **changes))
    assert len(problems) == 1 and problems[0].startswith("Invalid Calico policy input: ") and fragment in problems[0], problems


def test_calico_accepts_an_empty_nodelocaldns_ip_and_listed_apiserver_nets():
    assert preflight.calico_policy_input_problems(_with(CALICO, calico_policy_nodelocaldns_ip="",
                                                        calico_policy_apiserver_nets=["192.0.2.10", "192.0.2.0/24"])) == []


PLAY = "Converge the Istio egress gateway scenario"
SERVED = {"networking.istio.io/v1": {"Sidecar": {}}, "v1": {"Pod": {}}}


def test_the_discovery_is_reused_for_the_same_play_and_connection():
    cache = {"key": preflight.discovery_cache_key(PLAY, "/k", "ctx"), "apis": SERVED}
    assert preflight.discovery_reusable(cache, PLAY, "/k", "ctx") is True


@pytest.mark.parametrize("cache, play, kubeconfig, context", [
    (None, PLAY, "/k", "ctx"),  # nothing discovered yet
    ({}, PLAY, "/k", "ctx"),
    ({"key": preflight.discovery_cache_key(PLAY, "/k", "ctx"), "apis": {"v1": {}}}, PLAY, "/k", "ctx"),  # no Istio yet
    ({"key": preflight.discovery_cache_key(PLAY, "/k", "ctx"), "apis": SERVED}, "Another play", "/k", "ctx"),
    ({"key": preflight.discovery_cache_key(PLAY, "/k", "ctx"), "apis": SERVED}, PLAY, "/other", "ctx"),
    ({"key": preflight.discovery_cache_key(PLAY, "/k", "ctx"), "apis": SERVED}, PLAY, "/k", "other"),
    ({"key": preflight.discovery_cache_key(PLAY, "/k", "ctx"), "apis": "not a dict"}, PLAY, "/k", "ctx"),
])
def test_the_discovery_is_made_again_otherwise(cache, play, kubeconfig, context):
    assert preflight.discovery_reusable(cache, play, kubeconfig, context) is False


def test_the_filters_call_the_same_functions():
    filters = FilterModule().filters()
    assert filters["egress_gateway_input_problems"](_with(GATEWAY, egress_gateway_chart_version="latest")) == [
        "Invalid egress gateway input: egress_gateway_chart_version 'latest' must be X.Y.Z (or X.Y-<build>)."]
    assert filters["discovery_cache_key"]([PLAY, None, "ctx"]) == preflight.discovery_cache_key(PLAY, "", "ctx")
    assert filters["sidecar_injection_on"]({"istio-injection": "enabled"}) is True
    assert filters["discovery_reusable"](None, PLAY, "", "") is False
