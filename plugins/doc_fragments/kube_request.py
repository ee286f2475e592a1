# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared documentation for the per-request timeout of the standard-library REST modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # cluster_read and cluster_apply (plugins/module_utils/kube_rest.py bounds every request with it);
    # the connection options are the kube_auth fragment. The spec is kube_auth.REQUEST_ARG_SPEC.
    DOCUMENTATION = r"""
options:
  timeout:
    description:
      - Seconds each API request may take (connecting, TLS and every read). The task keyword C(timeout)
        bounds the whole call as well.
    type: float
    default: 30
"""
