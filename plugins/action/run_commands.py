# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a few read-only CLI commands (helm, istioctl) with a time bound, in the controller
process when the task's connection is local (no AnsiballZ process), else through
ansible.builtin.command under coreutils `timeout`. Documentation: plugins/modules/run_commands.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import selectors
import signal
import subprocess
import time

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = {
    "commands": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "argv": {"type": "list", "elements": "str", "required": True},
            "timeout": {"type": "int"},
        },
    },
    "timeout": {"type": "int", "default": 30},
    "output_limit": {"type": "int", "default": 4194304},
    "in_process": {"type": "str", "default": "auto", "choices": ["auto", "never"]},
}

# What coreutils `timeout` returns when the command ran out of time: the
# remote path (ansible.builtin.command under `timeout`) and the local one agree.
TIMEOUT_RC = 124
KILL_AFTER = 5


def _read_bounded(proc, deadline, limit):
    """Read stdout/stderr until both close or the deadline passes. Keeps at most ``limit``
    bytes of each (the rest is read and dropped, so the child never blocks on a full pipe).
    Returns (stdout_bytes, stderr_bytes, truncated, timed_out)."""
    sel = selectors.DefaultSelector()
    bufs = {proc.stdout: bytearray(), proc.stderr: bytearray()}
    truncated = False
    for pipe in bufs:
        sel.register(pipe, selectors.EVENT_READ)
    timed_out = False
    while sel.get_map():
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        for key, _events in sel.select(timeout=left):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            buf = bufs[key.fileobj]
            room = limit - len(buf)
            if room < len(chunk):
                truncated = True
            if room > 0:
                buf.extend(chunk[:room])
    sel.close()
    return bytes(bufs[proc.stdout]), bytes(bufs[proc.stderr]), truncated, timed_out


def run_local(argv, timeout, limit):
    """One command in this process's environment; bounded in time (``timeout`` seconds, then
    the whole process group is killed) and in memory (``limit`` bytes per stream)."""
    started = time.monotonic()
    result = {"cmd": list(argv), "rc": None, "stdout": "", "stderr": "", "msg": ""}
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        # ansible.builtin.command fails with rc 2 and the OSError's words.
        result.update(rc=2, msg=to_text(str(exc)))
        return result
    try:
        out, err, truncated, timed_out = _read_bounded(proc, started + timeout, limit)
        if not timed_out:
            try:
                proc.wait(timeout=max(0.1, started + timeout - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    result["stdout"] = to_text(out, errors="surrogate_or_replace").rstrip("\n")
    result["stderr"] = to_text(err, errors="surrogate_or_replace").rstrip("\n")
    if timed_out:
        result.update(rc=TIMEOUT_RC, msg="timed out after %s s (killed)" % timeout)
    else:
        result["rc"] = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
        if result["rc"] != 0:
            result["msg"] = "non-zero return code"
    if truncated:
        result["output_truncated"] = True
    result["delta"] = "%.3f" % (time.monotonic() - started)
    return result


class ActionModule(ActionBase):
    """Read-only commands; see plugins/modules/run_commands.py."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def _in_process(self, mode):
        # Only where the controller IS the target and nothing changes the
        # process the command would run as (become, a task environment).
        return (mode == "auto"
                and getattr(self._connection, "transport", "") == "local"
                and not self._play_context.become
                and not any(self._task.environment or []))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        problems = []
        for index, command in enumerate(args["commands"]):
            if not command["argv"] or not command["argv"][0]:
                problems.append("commands[%d].argv must name a program" % index)
            if (command.get("timeout") if command.get("timeout") is not None else args["timeout"]) <= 0:
                problems.append("commands[%d].timeout must be > 0 seconds" % index)
        if args["output_limit"] <= 0:
            problems.append("output_limit must be > 0 bytes")
        if problems:
            result.update(failed=True, msg="run_commands: " + "; ".join(problems) + ".")
            return result
        # Same contract as ansible.builtin.command: nothing runs in check mode
        # unless the task says check_mode: false (these are read-only probes).
        if self._task.check_mode:
            result.update(skipped=True, changed=False, msg="Not run in check mode (set check_mode: false on the task).")
            return result
        local = self._in_process(args["in_process"])
        runs = []
        for command in args["commands"]:
            timeout = command.get("timeout") or args["timeout"]
            if local:
                runs.append(run_local(command["argv"], timeout, args["output_limit"]))
                continue
            argv = ["timeout", "--kill-after=%d" % KILL_AFTER, str(timeout)] + list(command["argv"])
            res = self._execute_module(module_name="ansible.builtin.command",
                                       module_args={"argv": argv}, task_vars=task_vars)
            runs.append({
                "cmd": list(command["argv"]), "rc": res.get("rc"),
                "stdout": res.get("stdout", ""), "stderr": res.get("stderr", ""),
                "msg": res.get("msg", "") if res.get("rc") != 0 else "",
            })
        result.update(changed=False, in_process=local, runs=runs)
        return result
