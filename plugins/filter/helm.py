# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over plugins/module_utils/helm_compat.py: the egress_gateway role's Helm decisions.

Documentation of each filter is in the YAML file of the same name next to this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.istio_egress.plugins.module_utils.helm_compat import (
    HelmCompatError,
    helm_support,
    parse_plugin_list,
    pending_release,
    release_history_needed,
)


def _wrap(func):
    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except HelmCompatError as exc:
            raise AnsibleFilterError(str(exc))
    return run


class FilterModule(object):
    """Helm filters."""

    def filters(self):
        return {
            "helm_support": _wrap(helm_support),
            "helm_plugins": _wrap(parse_plugin_list),
            "helm_pending_release": _wrap(pending_release),
            "helm_history_needed": _wrap(release_history_needed),
        }
