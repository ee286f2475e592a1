# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the mesh is configured to do, read from its objects (not from a proxy's config dump:
that evidence is module_utils/envoy_policy.py's job).

Pure functions only: stdlib, no I/O. egress_verify reaches them through the filter
``registry_only_check`` (plugins/filter/mesh.py) to decide whether check 7 (blocking) runs
(``egress_verify_registry_only``: true, false or auto).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

REGISTRY_ONLY = "REGISTRY_ONLY"


def _dict(value):
    return value if isinstance(value, dict) else {}


def _mode(holder):
    return _dict(_dict(holder).get("outboundTrafficPolicy")).get("mode")


def namespace_wide_registry_only(sidecar):
    """True for a Sidecar without a workloadSelector (it applies to its whole namespace, or to the
    mesh in the root namespace) whose outboundTrafficPolicy.mode is REGISTRY_ONLY."""
    spec = _dict(_dict(sidecar).get("spec"))
    return not spec.get("workloadSelector") and _mode(spec) == REGISTRY_ONLY


def registry_only_configured(sidecars, mesh=None):
    """True when one of ``sidecars`` (Sidecar objects of the client and root namespaces) or the
    mesh config ``mesh`` (the parsed ``mesh`` key of ConfigMap istio) sets REGISTRY_ONLY."""
    items = sidecars if isinstance(sidecars, list) else []
    return any(namespace_wide_registry_only(sc) for sc in items) or _mode(mesh) == REGISTRY_ONLY


def registry_only_check(mode, sidecars, mesh=None, namespaces=()):
    """Whether egress_verify's check 7 (blocking) runs, and the reason when it does not.

    ``mode`` is egress_verify_registry_only: true/yes and false/no (any case, or a bool) win over
    the cluster; auto asks registry_only_configured(``sidecars``, ``mesh``). ``namespaces`` (the
    client's and the root namespace) name where a Sidecar was looked for. Returns
    ``{"run": bool, "reason": str}``; the reason says why check 7 is "not run" when it does not run.
    """
    mode = str(mode).strip().lower()
    if mode in ("true", "yes"):
        run = True
    elif mode in ("false", "no"):
        run = False
    else:
        run = registry_only_configured(sidecars, mesh)
    if mode == "auto":
        where = " or ".join(sorted(set(namespaces), key=list(namespaces).index))
        reason = ("REGISTRY_ONLY is not configured: no namespace-wide Sidecar with it in %s and the mesh config "
                  "does not set it (egress_verify_registry_only: auto)" % where)
    else:
        reason = "REGISTRY_ONLY is not enabled (egress_verify_registry_only: false)"
    return {"run": run, "reason": reason}
