# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of values that reach names, label selectors and Calico selectors (issue 12).

The payloads are the ones the issue reports (synthetic inputs, no captured output involved):
a namespace that closes the Calico selector's quote and adds ``||``, and a label value that
appends another requirement to a Kubernetes label selector.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils import rules

SELECTOR_INJECTION = "istio-system' || kubernetes.io/metadata.name != '"


@pytest.mark.parametrize("value", ["mesh-test", "a", "a" * 63, "x1-2"])
def test_dns_labels_accepted(value):
    assert rules.namespace_problems([value], "ns") == []


@pytest.mark.parametrize("value", [SELECTOR_INJECTION, "Mesh", "a" * 64, "-a", "a.b", "", "a b", 5])
def test_non_labels_refused_in_one_sentence(value):
    problems = rules.namespace_problems([value], "calico_policy_namespaces")
    assert len(problems) == 1
    assert problems[0].startswith("calico_policy_namespaces has ")
    assert "not a DNS-1123 label" in problems[0]


@pytest.mark.parametrize("ns", ["kube-system", "istio-system", "calico-system", "tigera-operator", "kube-public",
                                "kube-node-lease", "calico-apiserver"])
def test_every_system_namespace_refused(ns):
    problems = rules.namespace_problems(["mesh-test", ns], "calico_policy_namespaces", forbid_system=True)
    assert problems and ns in problems[0] and "system namespace" in problems[0]


def test_extra_protected_namespace():
    assert rules.namespace_problems(["gw"], "v", forbid_system=True, extra_forbidden=["gw"])
    assert rules.namespace_problems(["gw"], "v", forbid_system=True) == []


@pytest.mark.parametrize("labels", [{"istio": "egressgateway"}, {"app.kubernetes.io/name": "x"},
                                    {"a": ""}, {"k8s-app": "kube-dns"}])
def test_labels_accepted(labels):
    assert rules.label_problems(labels, "v") == []


@pytest.mark.parametrize("labels, fragment", [
    ({"istio": "egressgateway,app!=x"}, "not a valid label value"),
    ({"istio": "a b"}, "not a valid label value"),
    ({"istio": "x'"}, "not a valid label value"),
    ({"istio,app": "x"}, "not a valid label key"),
    ({"Bad_Prefix/x": "y"}, "not a valid label key"),
    ({"istio": 1}, "must be a string"),
    ({}, "must not be empty"),
    ("istio=egressgateway", "must be a map"),
])
def test_label_injection_refused(labels, fragment):
    problems = rules.label_problems(labels, "egress_gateway_labels")
    assert problems and fragment in problems[0] and problems[0].startswith("egress_gateway_labels")


@pytest.mark.parametrize("expr", ["k8s-app == 'kube-dns'", "app == 'istiod'", "a == 'b' && has(c)",
                                  "all()", "app != 'x'"])
def test_calico_selectors_accepted(expr):
    assert rules.calico_selector_problems(expr, "v") == []


@pytest.mark.parametrize("expr", ["app == 'istiod' || all()", "!has(a)", "app in {'a'}", "(app == 'x')",
                                  "app == 'x'' || ''=='", "app == x", "", "app == 'a b'"])
def test_calico_selectors_refused(expr):
    problems = rules.calico_selector_problems(expr, "calico_policy_istiod_selector")
    assert len(problems) == 1 and "calico_policy_istiod_selector" in problems[0]


def test_selector_from_labels_sorted():
    assert rules.selector_from_labels({"b": "2", "a": "1"}) == "a=1,b=2"


def test_selectors_built_from_labels_and_namespaces():
    """Issue 13: the selector strings are built here only (the Calico ones were Jinja in calico_policy)."""
    labels = {"istio": "egressgateway", "app": "istio-egressgateway"}
    assert rules.selector_from_labels(labels) == "app=istio-egressgateway,istio=egressgateway"
    assert rules.calico_selector_from_labels(labels) == "app == 'istio-egressgateway' && istio == 'egressgateway'"
    assert rules.calico_namespace_selector(["mesh-test", "apps"]) == "kubernetes.io/metadata.name in { 'mesh-test', 'apps' }"
    assert rules.calico_selector_problems(rules.calico_selector_from_labels(labels), "x") == []
    assert rules.parse_label_selector(rules.selector_from_labels(labels)) == labels


@pytest.mark.parametrize("text", ["istio!=x", "env in (a,b)", "!canary"])
def test_only_equality_selectors_are_parsed(text):
    with pytest.raises(rules.RulesError, match="only key=value terms"):
        rules.parse_label_selector(text)


def test_selector_matches():
    assert rules.selector_matches({"istio": "egressgateway"}, {"istio": "egressgateway", "app": "x"})
    assert not rules.selector_matches({"istio": "egressgateway"}, {"istio": "ingressgateway"})
    assert not rules.selector_matches({}, {"istio": "egressgateway"})  # selects every gateway: never meant
