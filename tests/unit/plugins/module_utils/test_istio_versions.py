# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Istio version rule (module_utils/istio_versions.py), one home for the gateway role's skew check
and the report's istioctl skew guard.

The version strings are the shapes Istio ships: release tags (1.30.0, 1.30.0-distroless) and the
local plane's branch build (1.30-9739e10e, label app.kubernetes.io/version and image tag of the
istiod the plane installs). The Deployments are SYNTHETIC, reduced to the fields the rule reads.
Before issue 13 the role compared in Jinja and the report in Python, each with its own regex.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.homelab.istio_egress.plugins.filter.versions import FilterModule
from ansible_collections.homelab.istio_egress.plugins.module_utils import istio_versions, verify_parse


def _istiod(label=None, image="docker.io/istio/pilot:1.30.0"):
    labels = {"app": "istiod"}
    if label is not None:
        labels["app.kubernetes.io/version"] = label
    return {"metadata": {"name": "istiod", "labels": labels},
            "spec": {"template": {"spec": {"containers": [{"name": "discovery", "image": image}]}}}}


@pytest.mark.parametrize("tag, version", [
    ("1.30.0", "1.30.0"),
    ("1.30.0-distroless", "1.30.0"),
    ("1.30-9739e10e", "1.30"),
    (" 1.29.1 ", "1.29.1"),
    ("latest", ""),
    ("v1.30.0", ""),
    ("", ""),
    (None, ""),
    (130, ""),
])
def test_tag_version(tag, version):
    assert istio_versions.tag_version(tag) == version


@pytest.mark.parametrize("image, tag", [
    ("docker.io/istio/pilot:1.30.0", "1.30.0"),
    ("registry.local:5000/istio/pilot:1.30.0-distroless", "1.30.0-distroless"),
    ("registry.local:5000/istio/pilot", ""),
    ("docker.io/istio/pilot@sha256:0123abcd", ""),
    (None, ""),
])
def test_image_tag(image, tag):
    assert istio_versions.image_tag(image) == tag


def test_label_wins_over_the_image_tag_and_the_image_is_the_fallback():
    assert istio_versions.deployment_version(_istiod(label="1.30-9739e10e", image="x/pilot:1.29.0")) == "1.30"
    assert istio_versions.deployment_version(_istiod(label="")) == "1.30.0"
    assert istio_versions.deployment_version(_istiod(image="x/pilot@sha256:ab")) == ""
    assert istio_versions.deployment_version({"spec": {"template": {"spec": {"containers": []}}}}) == ""
    assert istio_versions.deployment_version("not a deployment") == ""


@pytest.mark.parametrize("left, right, order", [
    ("1.30.0", "1.30.0", 0),
    ("1.30.1", "1.30.0", 1),
    ("1.29.9", "1.30.0", -1),
    ("1.30.0", "1.30", 0),      # a branch build: only major.minor compared
    ("1.31.0", "1.30", 1),
    ("1.100.0", "1.30.0", 1),   # numeric, not text
    ("1.30.0", "", None),
])
def test_compare_over_the_common_parts(left, right, order):
    assert istio_versions.compare(left, right) == order


def test_gateway_skew_ahead_differs_and_unknown():
    assert istio_versions.gateway_skew("1.30.0", _istiod(label="1.30.0")) == {
        "gateway": "1.30.0", "istiod": "1.30.0", "known": True, "ahead": False, "differs": False}
    ahead = istio_versions.gateway_skew("1.31.0", _istiod(label="1.30.0"))
    assert ahead["ahead"] and ahead["differs"]
    older = istio_versions.gateway_skew("1.29.0", _istiod(label="1.30.0"))
    assert not older["ahead"] and older["differs"]
    plane = istio_versions.gateway_skew("1.30.0", _istiod(label="1.30-9739e10e"))
    assert plane["known"] and not plane["differs"]
    unknown = istio_versions.gateway_skew("1.31.0", _istiod(image="x/pilot@sha256:ab"))
    assert unknown == {"gateway": "1.31.0", "istiod": "", "known": False, "ahead": False, "differs": False}


def test_the_filter_is_the_rule():
    assert FilterModule().filters()["istio_version_skew"] is istio_versions.gateway_skew


def test_the_report_reads_tags_with_the_same_rule():
    assert verify_parse.istiod_version(["docker.io/istio/pilot:1.30-9739e10e"]) == (
        "1.30", "istiod image docker.io/istio/pilot:1.30-9739e10e")
    assert verify_parse.istiod_version(["docker.io/istio/pilot@sha256:ab"], '{"global": {"tag": "1.30.0-distroless"}}') == (
        "1.30.0", "istio-sidecar-injector values global.tag 1.30.0-distroless")
    assert verify_parse.istiod_version(["x/pilot:latest"], {"global": {"tag": "latest"}}) == (None, "")
