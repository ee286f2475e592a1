# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the pod rules (plugins/module_utils/pods.py): which pods are Ready, how a pod
carries its Istio proxy. The roles call these; the modules and the report import the same functions.

    {{ _pods.resources | homelab.istio_egress.ready_pods }}            the Ready pods, sorted by name
    {{ pod | homelab.istio_egress.proxy_kind }}                        'container', 'native-sidecar' or none
    {{ _pods.resources | homelab.istio_egress.pods_without_proxy }}    names of live pods without the proxy
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.istio_egress.plugins.module_utils import pods


class FilterModule(object):
    """Pod filters."""

    def filters(self):
        return {
            "ready_pods": pods.ready_pods,
            "proxy_kind": pods.proxy_kind,
            "pods_without_proxy": pods.pods_without_proxy,
            "live_pods": pods.live_pods,
        }
