# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the ownership and validation rules (plugins/module_utils/ownership.py, rules.py,
api_errors.py): the roles' templates and preflights call these, modules import the same functions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.istio_egress.plugins.module_utils import api_errors, ownership, rules


def _wrap(func):
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ownership.OwnershipError, rules.RulesError) as exc:
            raise AnsibleFilterError(str(exc))
    call.__doc__ = func.__doc__
    return call


class FilterModule(object):
    def filters(self):
        return {
            "ownership_labels": _wrap(ownership.ownership_labels),
            "with_ownership": _wrap(ownership.with_ownership),
            "ownership_queries": _wrap(ownership.ownership_queries),
            "ownership_plan": _wrap(ownership.ownership_plan),
            "ownership_refusal": _wrap(ownership.refusal_message),
            "foreign_objects": _wrap(ownership.foreign_objects),
            "is_owned": _wrap(ownership.is_owned),
            "namespace_problems": _wrap(rules.namespace_problems),
            "label_problems": _wrap(rules.label_problems),
            "calico_selector_problems": _wrap(rules.calico_selector_problems),
            "label_selector": _wrap(rules.selector_from_labels),
            "calico_label_selector": _wrap(rules.calico_selector_from_labels),
            "calico_namespace_selector": _wrap(rules.calico_namespace_selector),
            "normalise_hosts": _wrap(rules.normalise_hosts),
            "host_list_problems": _wrap(rules.host_list_problems),
            "api_error_cause": _wrap(api_errors.api_error_cause),
        }
