# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/action/cluster_apply.py's argument check (plugins/plugin_utils/controller_first.py).

``objects`` (type raw, checked by kube_apply.validate_objects) is handed to the engine as the task
gave it, without ansible-core's deep copy of every validated value (a second for 100 hosts' 300
manifests, docs/dev/bench_site.md); every other option is still validated and coerced, an unknown
or missing option still fails in the module's words, and the task's arguments are left as they were.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.homelab.istio_egress.plugins.action.cluster_apply import ActionModule


class _NoCopy(dict):
    """A manifest that fails the test if anything deep-copies it."""

    def __deepcopy__(self, memo):
        raise AssertionError("objects was deep-copied")


class _Task(object):
    def __init__(self, args):
        self.args = args


def _action(args):
    action = ActionModule.__new__(ActionModule)
    action._task = _Task(args)
    action._load_name = "homelab.istio_egress.cluster_apply"  # ansible-core < 2.19 names the module with it
    return action


def test_objects_reach_the_engine_uncopied_and_the_rest_is_validated():
    objects = [_NoCopy(apiVersion="v1", kind="ConfigMap", metadata={"name": "a", "namespace": "n"})]
    args = {"objects": objects, "timeout": "5", "guard": "yes"}
    action = _action(args)
    params = action.validated_params()
    assert params["objects"] is objects
    assert params["timeout"] == 5.0 and params["guard"] is True and params["adopt"] is False
    assert action._task.args is args and args["objects"] is objects


def test_a_missing_objects_option_still_fails():
    with pytest.raises(AnsibleActionFail) as err:
        _action({"timeout": 5}).validated_params()
    assert "objects" in str(err.value)


def test_an_unknown_option_still_fails_and_the_args_are_restored():
    args = {"objects": [], "objets": 1}
    action = _action(args)
    with pytest.raises(AnsibleActionFail) as err:
        action.validated_params()
    assert "objets" in str(err.value)
    assert action._task.args is args and args["objects"] == []


def test_a_mistyped_option_names_it():
    with pytest.raises(AnsibleActionFail) as err:
        _action({"objects": [], "timeout": "soon"}).validated_params()
    assert "timeout" in str(err.value)
