# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline validation of the Calico policy (the local plane has no Calico).

The rendered GlobalNetworkPolicy is checked against the projectcalico.org/v3
fields (calico_v3_globalnetworkpolicy.schema.json), against Calico's rule that
ports need a port protocol, and against what NOTES.md requires of it.
"""

from __future__ import annotations

import ipaddress
import json
import pathlib
import re

import jsonschema
import pytest
from rolerender import render, template_value

SCHEMA = json.loads((pathlib.Path(__file__).resolve().parent
                     / "calico_v3_globalnetworkpolicy.schema.json").read_text(encoding="utf-8"))
PORT_PROTOCOLS = {"TCP", "UDP", "SCTP", "UDPLite"}


def policy(overrides=None, play=True):
    docs = render("calico_policy", "globalnetworkpolicy.yaml.j2", overrides, play)
    assert len(docs) == 1
    return docs[0]


def calico_problems(doc):
    """Schema errors plus Calico's own validation of rules."""
    problems = [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(doc)]
    for index, rule in enumerate(doc.get("spec", {}).get("egress", [])):
        for side in ("source", "destination"):
            entity = rule.get(side, {})
            if (entity.get("ports") or entity.get("notPorts")) and rule.get("protocol") not in PORT_PROTOCOLS:
                problems.append("egress[%d].%s: ports need protocol TCP, UDP, SCTP or UDPLite" % (index, side))
            for net in entity.get("nets", []):
                try:
                    ipaddress.ip_network(net)
                except ValueError:
                    problems.append("egress[%d].%s.nets: %r is not a CIDR" % (index, side, net))
    return problems


def selected_namespaces(selector):
    match = re.fullmatch(r"kubernetes\.io/metadata\.name in \{ ?(.*?) ?\}", selector)
    assert match, selector
    return [name.strip().strip("'") for name in match.group(1).split(",")]


def test_default_policy_is_a_valid_v3_globalnetworkpolicy():
    doc = policy()
    assert doc["apiVersion"] == "projectcalico.org/v3"  # never crd.projectcalico.org/v1
    assert calico_problems(doc) == []


def test_validation_catches_a_broken_policy():
    doc = policy()
    doc["spec"]["egress"][0]["protocol"] = "HTTP"
    doc["spec"]["egress"][-2]["destination"]["nets"] = ["10.233.64.0/33"]
    doc["spec"]["egress"][-1]["destination"] = {"ports": [53]}
    doc["spec"]["egres"] = []
    problems = calico_problems(doc)
    assert len(problems) >= 4, problems


def test_default_policy_follows_the_notes():
    spec = policy()["spec"]
    rules = spec["egress"]
    assert spec["types"] == ["Egress"]
    assert spec["selector"] == "all()"
    assert spec["order"] < 1000  # before Kubernetes NetworkPolicies
    assert selected_namespaces(spec["namespaceSelector"]) == ["mesh-test"]
    dns = [(r["protocol"], r.get("destination", {}).get("nets"), r.get("destination", {}).get("selector"))
           for r in rules if r.get("destination", {}).get("ports") == [53]]
    assert sorted(dns, key=str) == sorted([
        ("UDP", ["169.254.25.10/32"], None), ("TCP", ["169.254.25.10/32"], None),
        ("UDP", None, "k8s-app == 'kube-dns'"), ("TCP", None, "k8s-app == 'kube-dns'")], key=str)
    istiod = [r for r in rules if r.get("destination", {}).get("selector") == "app == 'istiod'"]
    assert [(r["protocol"], r["destination"]["ports"]) for r in istiod] == [("TCP", [15012])]
    gateway = [r for r in rules if r.get("destination", {}).get("selector") == "istio == 'egressgateway'"]
    assert len(gateway) == 1
    assert gateway[0]["destination"]["namespaceSelector"] == "kubernetes.io/metadata.name == 'istio-system'"
    assert gateway[0]["destination"]["ports"] == [8080, 8443, 15443]  # target ports, not 80/443
    assert rules[-2] == {"action": "Allow", "destination": {"nets": ["10.233.64.0/18"]}}
    assert rules[-1] == {"action": "Deny"}
    assert [r["action"] for r in rules[:-1]] == ["Allow"] * (len(rules) - 1)


def test_gateway_facts_come_from_the_gateway_role():
    overrides = {
        "egress_gateway_labels": {"istio": "egress-b", "team": "net"},
        "egress_gateway_namespace": "istio-egress",
        "egress_gateway_service_ports": [
            {"name": "status-port", "port": 15021, "targetPort": 15021},
            {"name": "https", "port": 443, "targetPort": 9443},
        ],
    }
    gateway = [r for r in policy(overrides)["spec"]["egress"]
               if "istio ==" in r.get("destination", {}).get("selector", "")]
    assert gateway[0]["destination"] == {
        "namespaceSelector": "kubernetes.io/metadata.name == 'istio-egress'",
        "selector": "istio == 'egress-b' && team == 'net'",
        "ports": [9443],
    }


def test_standalone_role_has_no_gateway_ports_and_preflight_asks_for_them():
    # Without the egress_gateway role in the play nothing retypes the ports.
    assert template_value("calico_policy", "{{ calico_policy_gateway_target_ports }}", play=False) == []
    # test_bad_input.py (case calico-no-gateway-ports) proves the preflight then fails.


def test_several_namespaces_and_no_nodelocaldns():
    spec = policy({"calico_policy_namespaces": ["mesh-test", "payments"],
                   "calico_policy_nodelocaldns_ip": ""})["spec"]
    assert selected_namespaces(spec["namespaceSelector"]) == ["mesh-test", "payments"]
    assert not any("169.254.25.10/32" in r.get("destination", {}).get("nets", []) for r in spec["egress"])
    assert calico_problems(policy({"calico_policy_nodelocaldns_ip": ""})) == []


@pytest.mark.parametrize("extra", [["192.0.2.0/24"], []])
def test_extra_nets_join_the_pod_network_rule(extra):
    rules = policy({"calico_policy_extra_allowed_nets": extra})["spec"]["egress"]
    assert rules[-2]["destination"]["nets"] == ["10.233.64.0/18"] + extra


# Issue 12: API server access is an explicit choice (calico_policy_allow_apiserver).
def _apiserver_rules(overrides):
    from rolerender import render

    policy = render("calico_policy", "globalnetworkpolicy.yaml.j2",
                    dict({"calico_policy_gateway_target_ports": [8443]}, **overrides))[0]
    return [r for r in policy["spec"]["egress"]
            if r.get("destination", {}).get("ports") and 6443 in r["destination"]["ports"]]


def test_apiserver_allowed_on_listed_addresses():
    rules = _apiserver_rules({"calico_policy_apiserver_nets": ["192.0.2.11", "192.0.2.0/28"]})
    assert rules == [{"action": "Allow", "protocol": "TCP",
                      "destination": {"nets": ["192.0.2.11/32", "192.0.2.0/28"], "ports": [6443]}}]


def test_apiserver_from_discovered_endpoints():
    # The shape k8s_info returns for EndpointSlices of Service default/kubernetes (synthetic values).
    slices = {"resources": [{"addressType": "IPv4", "endpoints": [{"addresses": ["192.0.2.11"]},
                                                                  {"addresses": ["192.0.2.12"]}],
                             "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]}
    rules = _apiserver_rules({"_calico_policy_apiserver_slices": slices})
    assert rules[0]["destination"] == {"nets": ["192.0.2.11/32", "192.0.2.12/32"], "ports": [6443]}


def test_apiserver_denied_when_not_allowed_and_never_an_empty_nets_allow():
    assert _apiserver_rules({"calico_policy_allow_apiserver": False,
                             "calico_policy_apiserver_nets": ["192.0.2.11"]}) == []
    # Nothing discovered (offline render): no Allow with empty nets, which would match everything.
    from rolerender import render

    policy = render("calico_policy", "globalnetworkpolicy.yaml.j2", {"calico_policy_gateway_target_ports": [8443]})[0]
    assert all(r.get("destination", {}).get("nets", ["x"]) for r in policy["spec"]["egress"])


def test_tight_mode_allows_only_the_mesh_and_the_namespace_itself():
    from rolerender import render

    policy = render("calico_policy", "globalnetworkpolicy.yaml.j2",
                    {"calico_policy_gateway_target_ports": [8443], "calico_policy_allow_pod_network": False})[0]
    nets = [n for r in policy["spec"]["egress"] for n in r.get("destination", {}).get("nets", [])]
    assert "10.233.64.0/18" not in nets
    inside = [r for r in policy["spec"]["egress"]
              if r.get("destination", {}).get("namespaceSelector") == policy["spec"]["namespaceSelector"]]
    assert inside == [{"action": "Allow", "destination": {"namespaceSelector": "kubernetes.io/metadata.name in { 'mesh-test' }"}}]
    assert policy["spec"]["egress"][-1] == {"action": "Deny"}
