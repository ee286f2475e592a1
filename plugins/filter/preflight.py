# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the roles' preflight rules (plugins/module_utils/preflight.py).

    {{ {'egress_gateway_release_name': ..., ...} | homelab.istio_egress.egress_gateway_input_problems }}
        -> [] or the sentences of one failure message (one fail task per role)
    {{ labels | homelab.istio_egress.sidecar_injection_on }}                          true/false
    {{ cluster_guard_discovery_cache | homelab.istio_egress.discovery_reusable(play, kubeconfig, context) }}
    {{ [play, kubeconfig, context] | homelab.istio_egress.discovery_cache_key }}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.istio_egress.plugins.module_utils import preflight, rules


def _wrap(func):
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except rules.RulesError as exc:
            raise AnsibleFilterError(str(exc))
    call.__doc__ = func.__doc__
    return call


def _cache_key(parts):
    return preflight.discovery_cache_key(*parts)


class FilterModule(object):
    """Preflight filters."""

    def filters(self):
        return {
            "egress_gateway_input_problems": _wrap(preflight.egress_gateway_input_problems),
            "test_client_input_problems": _wrap(preflight.test_client_input_problems),
            "egress_routes_input_problems": _wrap(preflight.egress_routes_input_problems),
            "registry_only_input_problems": _wrap(preflight.registry_only_input_problems),
            "calico_policy_input_problems": _wrap(preflight.calico_policy_input_problems),
            "sidecar_injection_on": preflight.sidecar_injection_on,
            "discovery_reusable": preflight.discovery_reusable,
            "discovery_cache_key": _cache_key,
        }
