#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the work is done by the action plugin of the same name
# (plugins/action/run_commands.py), on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: run_commands
short_description: Run a few read-only CLI commands with a time bound, in the controller process when local
version_added: "0.1.0"
description:
  - Runs each command of O(commands) (an argv list, no shell) and returns its C(rc), C(stdout) and C(stderr)
    in RV(runs). A command that fails does not fail the task; the caller decides (like
    C(ansible.builtin.command) with C(failed_when=false)).
  - When the task's connection is C(local) (no C(become), no task C(environment)), the commands run as
    children of the controller process and no module process is started, which saves about half a second
    per command (docs/roles.md, "How many processes a converge starts").
  - On any other connection (or O(in_process=never)) each command runs through C(ansible.builtin.command)
    on the target, wrapped in coreutils C(timeout --kill-after=5).
  - Meant for read-only probes (C(helm version), C(helm plugin list), C(istioctl version)). Like
    C(ansible.builtin.command) nothing runs in check mode unless the task sets C(check_mode=false).
author:
  - homelab platform engineers (!UNKNOWN)
options:
  commands:
    description: The commands, run one after the other.
    type: list
    elements: dict
    required: true
    suboptions:
      argv:
        description: Program and arguments.
        type: list
        elements: str
        required: true
      timeout:
        description: Seconds this command may take (default O(timeout)); then its whole process group is killed and C(rc) is 124.
        type: int
  timeout:
    description: Seconds each command may take unless it says otherwise.
    type: int
    default: 30
  output_limit:
    description: Bytes of stdout and of stderr kept per command (in-process runs); the rest is read and dropped.
    type: int
    default: 4194304
  in_process:
    description: V(auto) runs in the controller process when the connection is local; V(never) always uses C(ansible.builtin.command).
    type: str
    choices: [auto, never]
    default: auto
attributes:
  check_mode:
    support: none
    description: Skipped in check mode unless the task sets C(check_mode=false), like C(ansible.builtin.command).
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  platform:
    support: full
    platforms: posix
    description: In-process runs need a local connection; any other connection runs the commands on the target.
notes:
  - The in-process path inherits the controller's environment (C(PATH), C(KUBECONFIG)), which is what a local
    C(ansible.builtin.command) sees too.
"""

EXAMPLES = r"""
- name: Helm version and plugins in one task
  homelab.istio_egress.run_commands:
    commands:
      - argv: [helm, version, --short]
      - argv: [helm, plugin, list]
    timeout: 30
  register: helm_probe
  changed_when: false
  check_mode: false
"""

RETURN = r"""
runs:
  description: One entry per command, in order.
  returned: when not skipped
  type: list
  elements: dict
  contains:
    cmd:
      description: The argv that was run (without the C(timeout) wrapper).
      type: list
      elements: str
      sample: [helm, version, --short]
    rc:
      description: Exit code; 124 when the command ran out of time; 2 (in process) or 127 (through C(timeout)) when the program was not found.
      type: int
      sample: 0
    stdout:
      description: Standard output, trailing newlines removed.
      type: str
      sample: v3.18.6+gb76a950
    stderr:
      description: Standard error, trailing newlines removed.
      type: str
      sample: ""
    msg:
      description: Empty on success, else why (the OSError's words, "timed out after N s (killed)", "non-zero return code").
      type: str
      sample: ""
in_process:
  description: Whether the commands ran in the controller process.
  returned: when not skipped
  type: bool
  sample: true
"""
