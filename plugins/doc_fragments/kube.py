# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared documentation for the Kubernetes connection options of our modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file used for live reads.
      - Falls back to the E(K8S_AUTH_KUBECONFIG) environment variable, then to
        the client library's default (E(KUBECONFIG) or C(~/.kube/config)).
    type: path
  context:
    description:
      - Name of the kubeconfig context to use for live reads.
      - Falls back to the E(K8S_AUTH_CONTEXT) environment variable, then to the
        kubeconfig's current context.
    type: str
requirements:
  - kubernetes >= 24.2.0 (Python client), only for live reads
"""
