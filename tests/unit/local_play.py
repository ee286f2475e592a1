# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The offline harness of the role-task and action tests: a play on localhost (connection local,
the Python running ansible-playbook) written to a temporary file, run by ``ansible-playbook -i
localhost,`` (no cluster); its tasks write what the test checks as JSON to the file named by the
``out`` variable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import textwrap

import yaml


def run_play(tmp_path, tasks, extra_vars, play_vars=None, options=(), timeout=300):
    """Run the play of ``tasks`` (YAML text of a task list) and ``play_vars`` with ``extra_vars`` plus
    ``out``; the JSON its tasks wrote there.

    ``options`` go before the inventory (say ``--check``). A failed run fails the test with the
    end of its output.
    """
    play_vars = dict({"ansible_python_interpreter": "{{ ansible_playbook_python }}"}, **(play_vars or {}))
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "vars": play_vars,
             "tasks": yaml.safe_load(textwrap.dedent(tasks))}]
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    out = tmp_path / "out.json"
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0")
    proc = subprocess.run(
        ["ansible-playbook", *options, "-i", "localhost,", str(path), "-e", json.dumps(dict(extra_vars, out=str(out)))],
        capture_output=True, text=True, env=env, timeout=timeout, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    with open(str(out)) as handle:
        return json.load(handle)
