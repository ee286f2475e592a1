# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Istio versions as the collection reads and compares them, written once.

Pure functions only: stdlib, no I/O. The egress_gateway role reaches them through the filter
``istio_version_skew`` (plugins/filter/versions.py); the report's istioctl skew guard
(verify_parse.istiod_version) uses ``tag_version`` for image tags and injector values.

A version is the leading ``X.Y`` or ``X.Y.Z`` of a tag or label: release builds are tagged
``1.30.0`` or ``1.30.0-distroless``, branch builds ``1.30-9739e10e`` (the local plane's), so a
version may have two parts; two versions are compared over the parts both have.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_LEADING = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


def tag_version(tag):
    """'1.30.0' from '1.30.0-distroless', '1.30' from '1.30-9739e10e'; '' when the text does not start with one."""
    if not isinstance(tag, str):
        return ""
    m = _LEADING.match(tag.strip())
    return m.group(0) if m else ""


def image_tag(image):
    """The tag of an image reference ('docker.io/istio/pilot:1.30.0' -> '1.30.0'); '' for a digest or no tag."""
    if not isinstance(image, str) or "@" in image:
        return ""
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[-1] if ":" in last else ""


def deployment_version(deployment):
    """istiod's version from its Deployment: label app.kubernetes.io/version, else the first container's image tag."""
    if not isinstance(deployment, dict):
        return ""
    metadata = deployment.get("metadata") if isinstance(deployment.get("metadata"), dict) else {}
    labels = metadata.get("labels") if isinstance(metadata.get("labels"), dict) else {}
    version = tag_version(labels.get("app.kubernetes.io/version"))
    if version:
        return version
    spec = deployment.get("spec") if isinstance(deployment.get("spec"), dict) else {}
    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    pod_spec = template.get("spec") if isinstance(template.get("spec"), dict) else {}
    containers = pod_spec.get("containers") if isinstance(pod_spec.get("containers"), list) else []
    first = containers[0] if containers and isinstance(containers[0], dict) else {}
    return tag_version(image_tag(first.get("image")))


def compare(left, right):
    """-1, 0 or 1 comparing two versions over the parts both have; None when either is not a version."""
    a, b = tag_version(left), tag_version(right)
    if not a or not b:
        return None
    pa, pb = [int(p) for p in a.split(".")], [int(p) for p in b.split(".")]
    depth = min(len(pa), len(pb))
    pa, pb = pa[:depth], pb[:depth]
    return (pa > pb) - (pa < pb)


def gateway_skew(gateway_version, istiod_deployment):
    """The egress gateway chart's version against istiod's.

    Returns ``{gateway, istiod, known, ahead, differs}``: ``known`` is false when istiod's
    version cannot be read (no label, a digest image); ``ahead`` (the data plane newer than the
    control plane) and ``differs`` are false then, and the role says the check was skipped.
    """
    gateway = tag_version(gateway_version)
    istiod = deployment_version(istiod_deployment)
    order = compare(gateway, istiod)
    return {
        "gateway": gateway,
        "istiod": istiod,
        "known": order is not None,
        "ahead": order == 1,
        "differs": order not in (None, 0),
    }
