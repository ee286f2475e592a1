# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin shape of cluster_read and cluster_apply, written once.

A module costs a process, AnsiballZ and (for kubernetes.core) the kubernetes client import for API
calls that take milliseconds (docs/cluster_read.md). When the task's connection is local
(kube_read.runs_in_controller), the module's stdlib engine runs right here with the task's
arguments, check and diff modes and ``timeout``; any other target gets the module itself, so a
play that targets a remote host keeps module semantics (its kubeconfig, its network).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.plugins.action import ActionBase

from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_read import runs_in_controller


class ControllerFirstAction(ActionBase):
    """Subclasses set MODULE and implement argument_spec() and run_engine(params, deadline).

    ``in_controller()`` decides; by default a task on the controller (kube_read.runs_in_controller).
    """

    TRANSFERS_FILES = False
    _requires_connection = False
    MODULE = None
    # Options of type raw the engine validates itself (cluster_apply's objects). ansible-core's
    # argument validation deep-copies every value it is given, and a rendered list of 300 tagged
    # manifests costs about a second to copy (docs/dev/bench_site.md): such an option is validated
    # for presence with a placeholder and handed to the engine as the task gave it.
    OPAQUE_OPTIONS = ()

    def argument_spec(self):
        raise NotImplementedError

    def run_engine(self, params, deadline):
        raise NotImplementedError

    def from_module(self, result):
        """The module's result in the in-process shape (hook for keys ansible-core treats specially)."""
        return result

    def connection_name(self):
        """The connection plugin the task resolved to (a delegated task's own)."""
        return getattr(self._connection, "transport", None) or self._play_context.connection

    def in_controller(self):
        """Whether the engine runs here (hook: a subclass may ask for more than a local target)."""
        return runs_in_controller(self.connection_name(), self._task.delegate_to)

    def validated_params(self):
        """The task's arguments checked against argument_spec(); OPAQUE_OPTIONS are not copied."""
        args = self._task.args
        opaque = {key: args[key] for key in self.OPAQUE_OPTIONS if key in args}
        if not opaque:
            return self.validate_argument_spec(argument_spec=self.argument_spec())[1]
        self._task.args = dict(args, **dict.fromkeys(opaque, True))
        try:
            params = self.validate_argument_spec(argument_spec=self.argument_spec())[1]
        finally:
            self._task.args = args
        params.update(opaque)
        return params

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        result = super(ControllerFirstAction, self).run(tmp, task_vars)
        del tmp
        if not self.in_controller():
            result.update(self.from_module(
                self._execute_module(module_name=self.MODULE, module_args=self._task.args, task_vars=task_vars)))
            result["in_controller"] = False
            return result
        # Raises AnsibleActionFail with the module's wording for unknown or mistyped options.
        params = self.validated_params()
        deadline = time.monotonic() + self._task.timeout if self._task.timeout else None
        result.update(self.run_engine(params, deadline))
        return result
