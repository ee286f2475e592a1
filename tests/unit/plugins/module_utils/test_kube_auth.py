# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The REST modules' argument spec, written once (plugins/module_utils/kube_auth.py rest_argument_spec)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube_apply, kube_auth, kube_read, kube_rest_apply, kube_rest_read


@pytest.mark.parametrize("engine,own", [(kube_rest_read, kube_read.READ_ARG_SPEC),
                                        (kube_rest_apply, kube_apply.APPLY_ARG_SPEC)], ids=["read", "apply"])
def test_each_rest_module_takes_timeout_its_options_and_the_connection_options(engine, own):
    before = copy.deepcopy(own)
    spec = engine.argument_spec()
    # timeout first, as in the modules' specs before they shared it; a float of 30 s (doc fragment kube_request)
    assert list(spec) == ["timeout"] + list(own) + list(kube_auth.AUTH_ARG_SPEC)
    assert spec["timeout"] == {"type": "float", "default": 30}
    assert all(spec[name] == value for name, value in own.items())
    assert all(spec[name] == value for name, value in kube_auth.AUTH_ARG_SPEC.items())
    assert own == before  # the module's own spec is not changed in place


def test_the_own_options_do_not_repeat_the_shared_ones():
    for own in (kube_read.READ_ARG_SPEC, kube_apply.APPLY_ARG_SPEC):
        assert not set(own) & (set(kube_auth.REQUEST_ARG_SPEC) | set(kube_auth.AUTH_ARG_SPEC))
