# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module side of cluster_read and cluster_apply, written once.

Their action plugins (plugins/plugin_utils/controller_first.py) run the engine in the
controller's process for a local task; any other target gets the module, whose main() is
``run_module``: the argument spec, the engine's ``call`` (kube_rest_read.py, kube_rest_apply.py)
on the target, and its result through exit_json or fail_json. Wiring only: the decisions stay
in the engines.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule


def run_module(argument_spec, call, modes=False):
    """Run ``call(params, in_controller=False)`` as the module; ``modes`` also passes the task's
    check and diff modes (cluster_apply's engine takes them, cluster_read's only reads)."""
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    kwargs = {"check_mode": module.check_mode, "diff": module._diff} if modes else {}
    result = call(module.params, in_controller=False, **kwargs)
    # ansible-core renames a module's "results" (the loop key) with a warning; cluster_read's
    # action plugin, which always runs first, hands it back as "results".
    if "results" in result:
        result["query_results"] = result.pop("results")
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)
