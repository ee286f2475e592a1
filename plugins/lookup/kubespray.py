# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: kubespray
author: homelab platform engineers (@homelab)
short_description: Read a cluster variable from the kubespray inventory, or kubespray's default
description:
  - Returns the value of kubespray variables such as C(kube_pods_subnet) as the kubespray inventory
    defines them, so that a kubespray user writes the cluster's network facts once.
  - Looks at the play host's variables first, then at the first host of C(kube_control_plane)
    (then C(k8s_cluster)), whose group_vars hold kubespray's cluster settings, then at the
    C(group_vars/k8s_cluster) files next to the inventory (kubespray 2.27+ samples do not define
    the C(k8s_cluster) group, so Ansible does not apply them), and falls back to kubespray v2.26's
    default.
  - C(cluster_name) answers from C(dns_domain) when that is set (the cluster's DNS domain).
  - The roles' own variables default to this lookup and override it when set.
options:
  _terms:
    description: Names of kubespray variables.
    required: true
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: The pod network as the kubespray inventory says
  ansible.builtin.debug:
    msg: "{{ lookup('homelab.istio_egress.kubespray', 'kube_pods_subnet') }}"
"""

RETURN = r"""
_raw:
  description: One value per term (string, boolean or integer, as kubespray defines it).
  type: list
  elements: raw
"""

import inspect
import os

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase

from ansible_collections.homelab.istio_egress.plugins.module_utils.kubespray import (
    KubesprayVarError,
    cluster_host,
    group_vars_paths,
    resolve,
)


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        groups = variables.get("groups") or {}
        host = cluster_host(groups)
        cluster = None
        if host is not None:
            hostvars = variables.get("hostvars") or {}
            if host in hostvars:
                cluster = hostvars[host]
        files = None  # read only when needed
        out = []
        for term in terms:
            layers = [("play host", variables), ("kubespray inventory", _Lazy(cluster))]
            try:
                value, source = resolve(str(term), layers)
                if source == "kubespray default" and host not in (groups.get("k8s_cluster") or []):
                    if files is None:
                        files = self._k8s_cluster_group_vars(variables)
                    value, source = resolve(str(term), [("group_vars/k8s_cluster", files)])
            except KubesprayVarError as exc:
                raise AnsibleError(str(exc))
            if source == "play host":
                value = self._templar.template(value)
            elif source == "group_vars/k8s_cluster":
                templar = self._templar.copy_with_new_env(available_variables=dict(variables, **files))
                value = templar.template(value)
            out.append(value)
        return out

    @property
    def _trusted(self):
        """ansible-core 2.19+ templates only trusted strings: inventory files
        are, as Ansible's own group_vars loading marks them (kubespray writes
        dns_domain as "{{ cluster_name }}"). Older versions template all."""
        params = inspect.signature(self._loader.load_from_file).parameters
        return {"trusted_as_template": True} if "trusted_as_template" in params else {}

    def _k8s_cluster_group_vars(self, variables):
        """The k8s_cluster group_vars next to the inventory sources, merged in
        Ansible's file order (later files win)."""
        merged = {}
        sources = variables.get("ansible_inventory_sources") or []
        for path in group_vars_paths(sources, os.listdir, os.path.isdir, os.path.isfile):
            try:
                data = self._loader.load_from_file(path, **self._trusted)
            except Exception as exc:  # a broken file: say which
                raise AnsibleError("cannot read kubespray group_vars %s: %s" % (path, exc))
            if isinstance(data, dict):
                merged.update(data)
        return merged


class _Lazy:
    """The cluster host's variables: `in` and [] only, templated by Ansible's
    hostvars on access (kubespray writes dns_domain as "{{ cluster_name }}")."""

    def __init__(self, hostvars_of_host):
        self._vars = hostvars_of_host

    def __bool__(self):
        return self._vars is not None

    def __contains__(self, key):
        if self._vars is None:
            return False
        try:
            return key in self._vars
        except Exception:  # an undefined or broken variable counts as absent
            return False

    def __getitem__(self, key):
        return self._vars[key]
