# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the mesh configuration rules (plugins/module_utils/mesh_config.py).

    {{ sidecars | homelab.istio_egress.registry_only_configured(mesh) }}   true/false
    {{ egress_verify_registry_only | homelab.istio_egress.registry_only_check(reads, [ns, root_ns]) }}
        -> {run: true/false, reason: "..."}; reads: cluster_read's result with client_sidecars,
           root_sidecars and mesh_config (ConfigMap istio), or a skipped task's (nothing read)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.istio_egress.plugins.module_utils import mesh_config


def _resources(reads, name):
    read = reads.get(name) if isinstance(reads.get(name), dict) else {}
    items = read.get("resources")
    return items if isinstance(items, list) else []


def registry_only_check(mode, reads=None, namespaces=()):
    """mesh_config.registry_only_check over cluster_read's answer: the Sidecars of both namespaces
    and the ``mesh`` key of ConfigMap istio (YAML, parsed here: module_utils stays stdlib-only)."""
    if str(mode).strip().lower() in ("true", "yes", "false", "no"):
        reads = None  # given: the objects are not read, and not looked at
    results = reads.get("results") if isinstance(reads, dict) else None
    results = results if isinstance(results, dict) else {}
    configmap = (_resources(results, "mesh_config") or [{}])[0]
    data = configmap.get("data") if isinstance(configmap, dict) else None
    text = (data or {}).get("mesh") if isinstance(data, dict) else None
    try:
        mesh = yaml.safe_load(text) if text else None
    except yaml.YAMLError as exc:
        raise AnsibleFilterError("registry_only_check: the mesh key of ConfigMap istio is not YAML (%s)"
                                 % str(exc).splitlines()[0])
    sidecars = _resources(results, "client_sidecars") + _resources(results, "root_sidecars")
    return mesh_config.registry_only_check(mode, sidecars, mesh, list(namespaces or ()))


class FilterModule(object):
    """Mesh configuration filters."""

    def filters(self):
        return {
            "registry_only_configured": mesh_config.registry_only_configured,
            "registry_only_check": registry_only_check,
        }
