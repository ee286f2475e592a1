# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_apply in the controller's process when the task targets the controller, with the task's
check and diff modes, else the module (plugins/plugin_utils/controller_first.py); the engine is
plugins/module_utils/kube_rest_apply.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_rest_apply import argument_spec, call
from ansible_collections.homelab.istio_egress.plugins.plugin_utils.controller_first import ControllerFirstAction


class ActionModule(ControllerFirstAction):
    MODULE = "homelab.istio_egress.cluster_apply"
    OPAQUE_OPTIONS = ("objects",)  # raw; kube_apply.validate_objects checks it

    def argument_spec(self):
        return argument_spec()

    def run_engine(self, params, deadline):
        return call(params, in_controller=True, check_mode=bool(self._task.check_mode),
                    diff=bool(self._task.diff), deadline=deadline)
