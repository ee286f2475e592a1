# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_read in the controller's process when the task targets the controller.

A module costs a process, AnsiballZ and (for kubernetes.core) the kubernetes client import for
reads that take milliseconds (docs/cluster_read.md, issue "converge at the speed of the tools").
When the task's connection is local, the engine of plugins/module_utils/kube_rest_read.py runs
right here with the same arguments and result; any other target gets the module, so a play that
targets a remote host keeps module semantics (its kubeconfig, its network).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.plugins.action import ActionBase

from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_read import runs_in_controller
from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_rest_read import argument_spec, call

MODULE = "homelab.istio_egress.cluster_read"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        connection = getattr(self._connection, "transport", None) or self._play_context.connection
        if not runs_in_controller(connection, self._task.delegate_to):
            result.update(self._execute_module(module_name=MODULE, module_args=self._task.args, task_vars=task_vars))
            # ansible-core renames a module's "results" (the loop key) with a warning: the module returns
            # "query_results" and the result here has the in-process shape.
            if "query_results" in result:
                result["results"] = result.pop("query_results")
            result["in_controller"] = False
            return result
        # Raises AnsibleActionFail with the module's wording for unknown or mistyped options.
        _validation, params = self.validate_argument_spec(argument_spec=argument_spec())
        deadline = time.monotonic() + self._task.timeout if self._task.timeout else None
        result.update(call(params, in_controller=True, deadline=deadline))
        return result
