# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the Istio version rules (plugins/module_utils/istio_versions.py).

    {{ egress_gateway_chart_version | homelab.istio_egress.istio_version_skew(istiod_deployment) }}
        -> {gateway, istiod, known, ahead, differs}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.istio_egress.plugins.module_utils import istio_versions


class FilterModule(object):
    """Version filters."""

    def filters(self):
        return {
            "istio_version_skew": istio_versions.gateway_skew,
        }
