# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/action/egress_verify_report.py: the report in the controller's process for a task on
the local connection, the module everywhere else, with the same result and the same files.

One playbook runs twice through ansible-playbook: on a host with the local connection (the
action plugin runs plugins/module_utils/verify_write.py here, no module process) and on a host
with a connection that is not called local (connection_plugins/local_relay.py: the module is
shipped and run as on a remote host). The facts are the ones of test_egress_verify_report.py
(real module outputs on real fixtures, a SYNTHETIC secret in the client pod). Checked: both forms
write byte-identical report files and return the same result; a second run is no change; check
mode writes nothing and says it would; bad facts are the same one sentence; a task delegated to
localhost from the relayed host runs in the controller; become always gets the module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "unit"))
from ansible_env import ansible_env

# The module test's facts (tests/unit/plugins/modules/test_egress_verify_report.py), loaded by path.
_SPEC = importlib.util.spec_from_file_location(
    "egress_verify_report_module_test", os.path.join(ROOT, "tests", "unit", "plugins", "modules",
                                                     "test_egress_verify_report.py"))
_MODULE_TEST = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_MODULE_TEST)
SECRET, _facts = _MODULE_TEST.SECRET, _MODULE_TEST._facts

from ansible_collections.homelab.istio_egress.plugins.action.egress_verify_report import ActionModule

PLAYBOOK = """
- hosts: target
  gather_facts: false
  vars:
    facts: "{{ lookup('ansible.builtin.file', facts_file) | from_json }}"
  tasks:
""" + _MODULE_TEST.REPORT_TASKS.lstrip("\n") + """
    - name: delegated
      homelab.istio_egress.egress_verify_report:
        facts: "{{ facts }}"
        dest: "{{ out }}/delegated"
      delegate_to: localhost
"""

# What AnsibleModule adds about a result's dest on its own (add_path_info), undocumented.
PATH_INFO = ("uid", "gid", "owner", "group", "mode", "state", "size", "secontext")


def _run(tmp_path, form, connection):
    base = tmp_path / form
    base.mkdir()
    facts_file = base / "facts.json"
    facts_file.write_text(json.dumps(_facts()))
    play = base / "play.yml"
    play.write_text(PLAYBOOK)
    inventory = base / "hosts"
    inventory.write_text("target ansible_connection=%s ansible_python_interpreter=%s\n" % (connection, sys.executable))
    out = base / "out"
    env = ansible_env(ANSIBLE_CONNECTION_PLUGINS=os.path.join(HERE, "connection_plugins"), ANSIBLE_PIPELINING="1")
    proc = subprocess.run([os.path.join(sys.prefix, "bin", "ansible-playbook"), "-i", str(inventory), str(play),
                           "-e", json.dumps({"facts_file": str(facts_file), "out": str(out)})],
                          capture_output=True, text=True, cwd=str(base), timeout=300, check=False, env=env)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    tasks = {t["task"]["name"]: t["hosts"]["target"] for t in json.loads(proc.stdout)["plays"][0]["tasks"]}
    return out, tasks, proc.stdout


def _comparable(result, out):
    text = json.dumps({k: v for k, v in result.items() if k not in PATH_INFO + ("in_controller",)}, sort_keys=True)
    return json.loads(text.replace(str(out), "<out>"))


def test_in_controller_and_module_agree(tmp_path):
    local_out, local, local_stdout = _run(tmp_path, "local", "local")
    relay_out, relay, relay_stdout = _run(tmp_path, "relay", "local_relay")

    # Where each ran: the local connection in this process, the other through the module,
    # a task delegated to (the implicit) localhost in this process again.
    assert all(local[name]["in_controller"] is True for name in ("write", "again", "check mode", "delegated"))
    assert all(relay[name]["in_controller"] is False for name in ("write", "again", "check mode"))
    assert relay["delegated"]["in_controller"] is True

    for name in ("write", "again", "check mode", "bad facts"):
        assert _comparable(local[name], local_out) == _comparable(relay[name], relay_out), name
    written = local["write"]
    assert written["changed"] is True and written["verdict"] == "failed" and written["failed_checks"] == ["gateway_log"]
    assert local["again"]["changed"] is False and relay["again"]["changed"] is False
    assert local["check mode"]["changed"] is True and not (local_out / "check").exists()
    assert not (relay_out / "check").exists()
    assert local["check mode"]["markdown"].startswith("# Egress verification report")
    assert local["bad facts"]["failed"] is True and local["bad facts"]["msg"] == (
        "egress_verify_report: facts.settings.hosts: port 70000 of a.example is outside 1-65535")

    # The same bytes on disk, and the secret in neither the files nor any result (issue 12).
    names = sorted(p.name for p in (local_out / "written").iterdir())
    assert names == ["junit.xml", "report.json", "report.md"] == sorted(p.name for p in (relay_out / "written").iterdir())
    for name in names:
        mine, theirs = (local_out / "written" / name).read_bytes(), (relay_out / "written" / name).read_bytes()
        assert mine == theirs.replace(str(relay_out).encode(), str(local_out).encode()), name
        assert SECRET.encode() not in mine
    assert (local_out / "delegated" / "report.md").read_bytes() == (local_out / "written" / "report.md").read_bytes()
    assert SECRET not in local_stdout and SECRET not in relay_stdout


class _Connection(object):
    def __init__(self, transport):
        self.transport = transport


class _PlayContext(object):
    def __init__(self, become):
        self.become = become
        self.connection = "ssh"


def _decides(transport, become):
    action = ActionModule.__new__(ActionModule)  # only the decision is under test, no task runs
    action._connection, action._play_context = _Connection(transport), _PlayContext(become)
    return action.in_controller()


def test_only_the_plain_local_connection_runs_in_the_controller():
    """Written as the controller's user in the playbook's directory only when the module would be too:
    become (another user) and any other connection (another host, or localhost over SSH) get the module."""
    assert _decides("local", False) is True
    assert _decides("ansible.builtin.local", False) is True
    assert _decides("local", True) is False
    assert _decides("ssh", False) is False
    assert _decides("local_relay", False) is False
