# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""With default variables the roles render exactly the guide's objects.

Field by field against tests/unit/roles/guide (the guide's YAML). Documented
differences (docs/roles.md "Where the roles differ from the guide") are listed
in DIFFERENCES and nothing else may differ.
"""

from __future__ import annotations

import pytest
from rolerender import guide, render

# (role, template, guide file, {(kind, name): {field path: rendered value}})
# Every object of the guide appears unchanged with the defaults; the roles only
# add objects (the gateway's access-log Telemetry), they never alter one.
DIFFERENCES = {
    # Guide placement: the VirtualService is exported only to its namespace and the gateway's,
    # or other namespaces' sidecars get hop 1 without the DestinationRule (docs/scenarios.md).
    ("VirtualService", "direct-httpbin-through-egress"): {"spec.exportTo"},
}
# The one difference on every object (docs/roles.md "Where the roles differ from the guide"):
# the ownership labels, so cleanup can tell the collection's objects from a user's (issue 12).
OWNERSHIP_KEYS = ("app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "istio-egress.homelab/role")


def _without_ownership(doc, role):
    """The object with its ownership labels checked and removed (also on a pod template)."""
    import copy

    doc = copy.deepcopy(doc)
    for meta in [doc.get("metadata")] + [((doc.get("spec") or {}).get("template") or {}).get("metadata")]:
        if not isinstance(meta, dict):
            continue
        labels = meta.get("labels") or {}
        assert {k: labels.get(k) for k in OWNERSHIP_KEYS} == {
            "app.kubernetes.io/managed-by": "homelab.istio_egress", "app.kubernetes.io/part-of": "istio-egress",
            "istio-egress.homelab/role": role}, "%s lacks the ownership labels" % doc.get("kind")
        for key in OWNERSHIP_KEYS:
            labels.pop(key)
        if not labels:
            meta.pop("labels")
    return doc


CASES = [
    ("egress_gateway", "values.yaml.j2", "values-egress-gateway.yaml"),
    ("test_client", "namespace.yaml.j2", "namespace.yaml"),
    ("test_client", "sleep.yaml.j2", "sleep.yaml"),
    ("egress_routes", "routes.yaml.j2", "serviceentry-httpbin-ext.yaml"),
    ("egress_routes", "routes.yaml.j2", "gateway-egress.yaml"),
    ("egress_routes", "routes.yaml.j2", "destinationrule-egress.yaml"),
    ("egress_routes", "routes.yaml.j2", "virtualservice-egress.yaml"),
    ("registry_only", "sidecar.yaml.j2", "sidecar-registry-only.yaml"),
]


def field_diff(expected, actual, path=""):
    """Paths where two YAML values differ, e.g. spec.tls[0].route[0].destination.port."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual), key=str):
            sub = "%s.%s" % (path, key) if path else str(key)
            if key not in actual:
                out.append("%s: missing (guide: %r)" % (sub, expected[key]))
            elif key not in expected:
                out.append("%s: extra (%r)" % (sub, actual[key]))
            else:
                out.extend(field_diff(expected[key], actual[key], sub))
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return ["%s: %d items, guide has %d" % (path, len(actual), len(expected))]
        out = []
        for index, (exp, act) in enumerate(zip(expected, actual)):
            out.extend(field_diff(exp, act, "%s[%d]" % (path, index)))
        return out
    if expected != actual or type(expected) is not type(actual):
        return ["%s: %r, guide has %r" % (path, actual, expected)]
    return []


def _key(doc):
    return (doc.get("kind"), doc.get("metadata", {}).get("name"))


@pytest.mark.parametrize("role,template,guide_file", CASES, ids=[c[2] for c in CASES])
def test_defaults_render_the_guide_objects(role, template, guide_file):
    rendered = {_key(doc): doc for doc in render(role, template)}
    for expected in guide(guide_file):
        key = _key(expected)
        if key == (None, None):  # chart values, not an object
            actual = rendered[(None, None)] if (None, None) in rendered else render(role, template)[0]
        else:
            assert key in rendered, "%s %s of the guide is not rendered; rendered: %s" % (
                key[0], key[1], sorted(rendered, key=str))
            actual = _without_ownership(rendered[key], role)
        allowed = DIFFERENCES.get(key, {})
        problems = [p for p in field_diff(expected, actual) if p.split(":")[0] not in allowed]
        assert not problems, "%s differs from guide %s:\n  %s" % (template, guide_file, "\n  ".join(problems))


def test_routes_render_exactly_the_four_guide_objects():
    kinds = [_key(doc) for doc in render("egress_routes", "routes.yaml.j2")]
    assert kinds == [
        ("ServiceEntry", "httpbin-ext"),
        ("Gateway", "istio-egressgateway"),
        ("DestinationRule", "egressgateway-for-httpbin"),
        ("VirtualService", "direct-httpbin-through-egress"),
    ]


def test_field_diff_reports_a_changed_field():
    # The comparison itself must be able to fail.
    expected = guide("virtualservice-egress.yaml")[0]
    actual = render("egress_routes", "routes.yaml.j2", {"egress_routes_gateway_port": 15443})[3]
    problems = field_diff(expected, actual)
    assert "spec.tls[0].route[0].destination.port.number: 15443, guide has 443" in problems
    assert "spec.tls[1].match[0].port: 15443, guide has 443" in problems
