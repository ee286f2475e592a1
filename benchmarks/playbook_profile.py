# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a playbook run spends its time: module processes and per-task times (benchmark 3).

Pure helpers (stdlib only, no I/O beyond what the caller hands in), used by bench_site.py and
tested by test_benchmarks.py:

- an interpreter shim: a shell script that appends its arguments to a log, one line per
  invocation, then execs the real Python. Given to ansible-playbook as
  ``ansible_python_interpreter``, every module process (AnsiballZ run) of the play writes one
  line, so the log counts them and names their modules;
- the summary that the ``ansible.posix.profile_tasks`` callback prints after the PLAY RECAP,
  parsed into (task, seconds) pairs, and a Markdown report of both.
"""

from __future__ import annotations

import collections
import re
import shlex

# AnsiballZ_<module>.py is the file Ansible writes for a module run (without pipelining).
ANSIBALLZ = re.compile(r"AnsiballZ_(?P<module>[A-Za-z0-9_]+)\.py")
# profile_tasks: "<task name> ----- 1.23s"; the name is padded with dashes to the
# terminal width, and a time of 10 s or more leaves only two dashes (one at 100 s).
PROFILE_LINE = re.compile(r"^(?P<task>.*?) -+ (?P<secs>[0-9]+\.[0-9]+)s$")
RECAP = re.compile(r"^PLAY RECAP \*", re.MULTILINE)
# Not an AnsiballZ file on the command line: a pipelined module (its code on stdin)
# or another use of the interpreter. Still one process.
OTHER = "(interpreter run without an AnsiballZ file)"


def shim_script(real_python: str, log_path: str) -> str:
    """The text of the interpreter shim: log the arguments, then exec the real interpreter."""
    return ("#!/bin/sh\n"
            "# Benchmark shim (benchmarks/playbook_profile.py): one line per interpreter run.\n"
            f"printf '%s\\n' \"$*\" >> {shlex.quote(log_path)}\n"
            f"exec {shlex.quote(real_python)} \"$@\"\n")


def count_processes(log_text: str):
    """(total, Counter of module name -> runs) of a shim log; every non-empty line is one run."""
    modules = collections.Counter()
    for line in log_text.splitlines():
        if not line.strip():
            continue
        match = ANSIBALLZ.search(line)
        modules[match.group("module") if match else OTHER] += 1
    return sum(modules.values()), modules


def parse_profile(stdout: str):
    """[(task, seconds)] of the profile_tasks summary after the last PLAY RECAP, in its order.

    Empty when the output has no recap or no summary (the callback was not enabled).
    """
    recaps = list(RECAP.finditer(stdout))
    if not recaps:
        return []
    tasks = []
    for line in stdout[recaps[-1].end():].splitlines():
        match = PROFILE_LINE.match(line.rstrip())
        if match and match.group("task").strip():
            tasks.append((match.group("task").strip(), float(match.group("secs"))))
    return tasks


def slowest(tasks, top: int):
    """The ``top`` slowest tasks, slowest first (ties keep their order)."""
    return sorted(tasks, key=lambda item: -item[1])[:top]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def profile_markdown(title: str, runs, top: int = 25) -> str:
    """Markdown for the docs: per run its wall time, task count, module processes, top tasks.

    ``runs`` is a list of dicts: label, seconds (wall time of ansible-playbook), tasks
    (parse_profile), processes (total) and modules (Counter).
    """
    out = [f"### {title}", ""]
    for run in runs:
        tasks = run["tasks"]
        summed = sum(secs for _task, secs in tasks)
        out.append(f"**{run['label']}**: {run['seconds']:.1f} s wall time, {len(tasks)} tasks "
                   f"(their times add up to {summed:.1f} s), {run['processes']} module processes.")
        out.append("")
        if run["modules"]:
            parts = [f"{name} {count}" for name, count in sorted(run["modules"].items(), key=lambda kv: (-kv[1], kv[0]))]
            out.append("Module processes by module: " + ", ".join(parts) + ".")
            out.append("")
        out.append("| # | task | s |")
        out.append("|---|---|---|")
        for i, (task, secs) in enumerate(slowest(tasks, top), 1):
            out.append(f"| {i} | {_cell(task)} | {secs:.2f} |")
        out.append("")
    return "\n".join(out)
