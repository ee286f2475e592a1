# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_read in the controller's process when the task targets the controller, else the module
(plugins/plugin_utils/controller_first.py); the engine is plugins/module_utils/kube_rest_read.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_rest_read import argument_spec, call
from ansible_collections.homelab.istio_egress.plugins.plugin_utils.controller_first import ControllerFirstAction


class ActionModule(ControllerFirstAction):
    MODULE = "homelab.istio_egress.cluster_read"

    def argument_spec(self):
        return argument_spec()

    def run_engine(self, params, deadline):
        return call(params, in_controller=True, deadline=deadline)

    def from_module(self, result):
        # ansible-core renames a module's "results" (the loop key) with a warning: the module returns
        # "query_results" and the result here has the in-process shape.
        if "query_results" in result:
            result["results"] = result.pop("query_results")
        return result
