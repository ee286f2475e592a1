# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""egress_routes with several hosts, other ports and the canonical placement."""

from __future__ import annotations

import pathlib

import yaml
from rolerender import ROLES, render, template_value


def routes(overrides=None, play=True):
    return render("egress_routes", "routes.yaml.j2", overrides, play)


def names(docs, kind):
    return [d["metadata"]["name"] for d in docs if d["kind"] == kind]


def test_names_are_derived_consistently_for_other_hosts():
    docs = routes({"egress_routes_hosts": [
        {"host": "httpbin.org", "port": 443},
        {"host": "api.github.com"},
        {"host": "example.org", "port": 8443, "name": "example"},
    ]})
    assert names(docs, "ServiceEntry") == ["httpbin-ext", "api-github-ext", "example-ext"]
    assert names(docs, "Gateway") == ["istio-egressgateway"]
    assert names(docs, "DestinationRule") == [
        "egressgateway-for-httpbin", "egressgateway-for-api-github", "egressgateway-for-example"]
    assert names(docs, "VirtualService") == [
        "direct-httpbin-through-egress", "direct-api-github-through-egress", "direct-example-through-egress"]
    gateway = next(d for d in docs if d["kind"] == "Gateway")
    assert gateway["spec"]["servers"][0]["hosts"] == ["httpbin.org", "api.github.com", "example.org"]
    subsets = [d["spec"]["subsets"][0]["name"] for d in docs if d["kind"] == "DestinationRule"]
    assert subsets == ["httpbin", "api-github", "example"]


def test_a_host_on_another_port_keeps_the_gateway_port_in_between():
    docs = routes({"egress_routes_hosts": [{"host": "example.org", "port": 8443}]})
    entry = next(d for d in docs if d["kind"] == "ServiceEntry")
    assert entry["spec"]["ports"] == [{"number": 8443, "name": "tls", "protocol": "TLS"}]
    hop1, hop2 = next(d for d in docs if d["kind"] == "VirtualService")["spec"]["tls"]
    assert hop1["match"] == [{"gateways": ["mesh"], "port": 8443, "sniHosts": ["example.org"]}]
    assert hop1["route"][0]["destination"]["port"] == {"number": 443}
    assert hop2["match"] == [{"gateways": ["istio-egressgateway"], "port": 443, "sniHosts": ["example.org"]}]
    assert hop2["route"][0]["destination"] == {"host": "example.org", "port": {"number": 8443}}


def test_canonical_placement_puts_everything_in_the_root_namespace():
    docs = routes({"egress_routes_placement": "canonical"})
    assert {d["metadata"]["namespace"] for d in docs} == {"istio-system"}
    guide = routes()
    assert {d["metadata"]["namespace"] for d in guide} == {"mesh-test"}


def test_gateway_selector_and_host_come_from_the_gateway_role():
    docs = routes({"egress_gateway_labels": {"istio": "egress-b"},
                   "egress_gateway_release_name": "egress-b", "egress_gateway_namespace": "istio-egress"})
    gateway = next(d for d in docs if d["kind"] == "Gateway")
    assert gateway["spec"]["selector"] == {"istio": "egress-b"}
    rule = next(d for d in docs if d["kind"] == "DestinationRule")
    assert rule["spec"]["host"] == "egress-b.istio-egress.svc.cluster.local"
    hop1 = next(d for d in docs if d["kind"] == "VirtualService")["spec"]["tls"][0]
    assert hop1["route"][0]["destination"]["host"] == "egress-b.istio-egress.svc.cluster.local"
    # The same labels select the pods in the chart values and the Telemetry.
    overrides = {"egress_gateway_labels": {"istio": "egress-b"}}
    values = render("egress_gateway", "values.yaml.j2", overrides)[0]
    assert values["labels"]["istio"] == "egress-b"
    telemetry = render("egress_gateway", "telemetry.yaml.j2", overrides)[0]
    assert telemetry["spec"]["selector"]["matchLabels"] == {"istio": "egress-b"}


def test_standalone_role_falls_back_to_the_chart_label():
    assert template_value("egress_routes", "{{ egress_routes_gateway_selector }}", play=False) == {
        "istio": "egressgateway"}


def test_hundred_hosts_are_one_task():
    hosts = [{"host": "h%03d.example.net" % i} for i in range(100)]
    docs = routes({"egress_routes_hosts": hosts})
    assert len(docs) == 100 * 3 + 1
    tasks = yaml.safe_load((ROLES / "egress_routes" / "tasks" / "present.yml").read_text())
    applies = [t for t in tasks if "homelab.istio_egress.cluster_apply" in t]
    assert len(applies) == 1 and "loop" not in applies[0]


def test_ha_values_add_pdb_and_anti_affinity():
    values = render("egress_gateway", "values.yaml.j2", {"egress_gateway_ha_enabled": True,
                                                         "egress_gateway_replicas": 3})[0]
    assert values["replicaCount"] == 3
    assert values["autoscaling"] == {"enabled": False}
    assert values["podDisruptionBudget"] == {"minAvailable": 1}
    term = values["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["podAffinityTerm"] == {"topologyKey": "kubernetes.io/hostname",
                                       "labelSelector": {"matchLabels": {"istio": "egressgateway"}}}
    required = render("egress_gateway", "values.yaml.j2", {"egress_gateway_ha_enabled": True,
                                                           "egress_gateway_replicas": 2,
                                                           "egress_gateway_anti_affinity": "required"})[0]
    assert "requiredDuringSchedulingIgnoredDuringExecution" in required["affinity"]["podAntiAffinity"]


def test_values_use_only_keys_of_the_chart_schema():
    # values.schema.json of istio/gateway 1.30 has additionalProperties: false at
    # the root; these are its properties that the role may render.
    allowed = {"name", "labels", "service", "autoscaling", "replicaCount", "resources",
               "podDisruptionBudget", "affinity"}
    values = render("egress_gateway", "values.yaml.j2", {"egress_gateway_ha_enabled": True,
                                                         "egress_gateway_replicas": 2})[0]
    assert set(values) <= allowed
    assert pathlib.Path(ROLES / "egress_gateway" / "templates" / "values.yaml.j2").is_file()
