# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_apply in the controller's process when the task targets the controller.

The same decision as plugins/action/cluster_read.py (kube_read.runs_in_controller): a local task
runs the engine of plugins/module_utils/kube_rest_apply.py right here, with the task's check and
diff modes; any other target gets the module, so a play against a remote host keeps module
semantics (its kubeconfig, its network).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.plugins.action import ActionBase

from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_read import runs_in_controller
from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_rest_apply import argument_spec, call

MODULE = "homelab.istio_egress.cluster_apply"


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
            result["in_controller"] = False
            return result
        # Raises AnsibleActionFail with the module's wording for unknown or mistyped options.
        _validation, params = self.validate_argument_spec(argument_spec=argument_spec())
        deadline = time.monotonic() + self._task.timeout if self._task.timeout else None
        result.update(call(params, in_controller=True, check_mode=bool(self._task.check_mode),
                           diff=bool(self._task.diff), deadline=deadline))
        return result
