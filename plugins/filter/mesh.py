# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the mesh configuration rules (plugins/module_utils/mesh_config.py).

    {{ sidecars | homelab.istio_egress.registry_only_configured(mesh) }}   true/false
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.istio_egress.plugins.module_utils import mesh_config


class FilterModule(object):
    """Mesh configuration filters."""

    def filters(self):
        return {
            "registry_only_configured": mesh_config.registry_only_configured,
        }
