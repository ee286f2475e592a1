# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/action/run_commands.py: the in-process runner (time and memory bounds, the words of a
missing program) and, through ansible-playbook, that the in-process path and the
ansible.builtin.command path (in_process: never) give the same rc/stdout/stderr, and that nothing
runs in check mode unless the task says check_mode: false. Real processes, no mocks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil
import time

import pytest
from local_play import run_play

from ansible_collections.homelab.istio_egress.plugins.action.run_commands import TIMEOUT_RC, run_local


def test_output_and_rc():
    res = run_local(["sh", "-c", "echo out; echo err >&2; exit 3"], 10, 1024)
    assert (res["rc"], res["stdout"], res["stderr"]) == (3, "out", "err")
    assert res["msg"] == "non-zero return code"


def test_missing_program_names_the_cause():
    res = run_local(["/nonexistent/helm", "version"], 10, 1024)
    assert res["rc"] == 2 and "No such file or directory" in res["msg"], res


def test_timeout_kills_the_whole_process_group(tmp_path):
    # The grandchild would keep the pipe open for 30 s if only the direct child were killed.
    marker = tmp_path / "late"
    started = time.monotonic()
    res = run_local(["sh", "-c", "(sleep 3; touch %s) & sleep 30" % marker], 1, 1024)
    assert res["rc"] == TIMEOUT_RC and "timed out after 1 s" in res["msg"], res
    assert time.monotonic() - started < 5
    time.sleep(3.5)
    assert not marker.exists(), "a grandchild survived the timeout"


def test_output_is_bounded_but_drained():
    # 1 MiB on stdout through a 1 KiB limit: the child is not blocked on a full pipe and exits 0.
    res = run_local(["sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' x; echo done >&2"], 20, 1024)
    assert res["rc"] == 0 and len(res["stdout"]) == 1024 and res["output_truncated"] is True
    assert res["stderr"] == "done"


PLAY_TASKS = """
    - name: Same commands both ways
      homelab.istio_egress.run_commands:
        commands:
          - argv: [sh, -c, 'echo out; echo err >&2; exit 3']
          - argv: [sh, -c, 'sleep 30']
            timeout: 1
        in_process: "{{ item }}"
      loop: [auto, never]
      register: both
      check_mode: false
    - name: Skipped in check mode without check_mode false
      homelab.istio_egress.run_commands:
        commands: [{argv: [touch, "{{ marker }}"]}]
      register: skipped
    - name: Keep
      ansible.builtin.copy:
        content: "{{ {'both': both.results, 'skipped': skipped} | to_json }}"
        dest: "{{ out }}"
      check_mode: false
"""


@pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible-playbook not on PATH")
def test_in_process_and_command_module_agree(tmp_path):
    marker = tmp_path / "marker"
    data = run_play(tmp_path, PLAY_TASKS, {"marker": str(marker)}, options=["--check"], timeout=180)
    auto, never = data["both"]
    assert auto["in_process"] is True and never["in_process"] is False
    for res in (auto, never):
        first, slow = res["runs"]
        assert (first["rc"], first["stdout"], first["stderr"]) == (3, "out", "err"), res
        assert slow["rc"] == TIMEOUT_RC, res
    assert data["skipped"]["skipped"] is True and not marker.exists()
