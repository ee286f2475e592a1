# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""egress_verify_report in the controller's process for a task on the controller's own local
connection, else the module (plugins/plugin_utils/controller_first.py); the run is
plugins/module_utils/verify_write.py, the same for both.

The report is written on the host that runs it, as that host's user: the module with a local
connection runs as the controller's user in the playbook's directory (Ansible sets the local
connection's working directory to the loader's base directory), so the engine runs here only
when that is exactly what would happen: a local connection (also a task delegated to an
implicit localhost) and no privilege escalation. A delegation to a ``localhost`` reached over
another connection, or ``become``, gets the module (docs/egress_verify.md "Where the report goes").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import pwd

from ansible import constants as C

from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_read import LOCAL_CONNECTIONS
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_write import argument_spec, run
from ansible_collections.homelab.istio_egress.plugins.plugin_utils.controller_first import ControllerFirstAction


def _plain(value):
    """What a value becomes on its way to a module (JSON), for anything JSON has no type for."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, (set, frozenset)):
        return list(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class ActionModule(ControllerFirstAction):
    MODULE = "homelab.istio_egress.egress_verify_report"

    def run(self, tmp=None, task_vars=None):
        self._task_vars = task_vars or {}
        return super(ActionModule, self).run(tmp, task_vars)

    def _inject_invocation(self):
        """Whether a module's result would carry ``invocation``: always before ansible-core 2.21, since
        then only with INJECT_INVOCATION (AnsibleModule drops the key otherwise)."""
        try:
            return bool(C.config.get_config_value("INJECT_INVOCATION", variables=self._task_vars))
        except Exception:  # no such setting: ansible-core < 2.21
            return True

    def in_controller(self):
        return self.connection_name() in LOCAL_CONNECTIONS and not self._play_context.become

    def argument_spec(self):
        return argument_spec()

    def run_engine(self, params, deadline):
        del deadline  # writing three small files needs no bound beyond the task's own timeout
        # The facts as the module would receive them (through JSON): plain dicts, lists and strings,
        # so the report is byte for byte the module's (tests/unit/plugins/action/test_egress_verify_report.py).
        params = dict(params, facts=json.loads(json.dumps(params["facts"], default=_plain)))
        home = os.environ.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir
        result = run(params, bool(self._task.check_mode), self._loader.get_basedir(), home)
        if not self._inject_invocation():
            result.pop("invocation", None)
        result["in_controller"] = True
        return result
