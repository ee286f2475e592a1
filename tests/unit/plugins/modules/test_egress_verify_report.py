# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""egress_verify_report through Ansible itself (one ansible-playbook run, JSON callback).

The facts are the ones of tests/unit/plugins/module_utils/test_verify_report.py
(real module outputs on real fixtures; see there). Checked here: the files are
written and parse, a second run is not a change, check mode writes nothing but
says it would, and bad facts fail with one sentence and no traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
MODULE_UTILS_TESTS = os.path.join(ROOT, "tests", "unit", "plugins", "module_utils")
sys.path.insert(0, os.path.join(ROOT, "tests", "unit"))
from ansible_env import ansible_env

JSON_ENV = "ANSIBLE_PIPELINING=1"

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    facts: "{{ lookup('ansible.builtin.file', facts_file) | from_json }}"
  tasks:
    - name: write
      homelab.istio_egress.egress_verify_report:
        facts: "{{ facts }}"
        dest: "{{ out }}/written"
    - name: again
      homelab.istio_egress.egress_verify_report:
        facts: "{{ facts }}"
        dest: "{{ out }}/written"
    - name: check mode
      homelab.istio_egress.egress_verify_report:
        facts: "{{ facts }}"
        dest: "{{ out }}/check"
        return_markdown: true
      check_mode: true
    - name: bad facts
      homelab.istio_egress.egress_verify_report:
        facts: {settings: {hosts: [{host: a.example, port: 70000}]}}
      ignore_errors: true
"""


def _quote(arg):
    return "'" + arg.replace("'", "'\\''") + "'"


def _facts():
    sys.path.insert(0, MODULE_UTILS_TESTS)
    try:
        import test_verify_report as scenarios
    finally:
        sys.path.remove(MODULE_UTILS_TESTS)
    facts = scenarios.passing_facts()
    facts["gateway_log"] = scenarios.loop({scenarios.HOST: scenarios.log_result({scenarios.GW_A: ""})})
    return facts


def test_module_through_ansible(tmp_path):
    facts_file = tmp_path / "facts.json"
    facts_file.write_text(json.dumps(_facts()))
    play = tmp_path / "play.yml"
    play.write_text(PLAYBOOK)
    out = tmp_path / "out"
    cmd = "%s ansible-playbook %s -e %s -e %s" % (
        JSON_ENV, _quote(str(play)), _quote("facts_file=%s" % facts_file), _quote("out=%s" % out))
    proc = subprocess.run(["bash", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, cwd=ROOT, timeout=300, check=False, env=ansible_env())
    assert "Traceback" not in proc.stdout and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    tasks = {t["task"]["name"]: t["hosts"]["localhost"] for t in json.loads(proc.stdout)["plays"][0]["tasks"]}

    written = tasks["write"]
    assert written["changed"] is True and written["passed"] is False
    assert written["failed_checks"] == ["gateway_log"]
    assert [d["id"] for d in written["diagnosis"]] == ["access_logging_off"]
    assert sorted(os.path.basename(f) for f in written["files"]) == ["junit.xml", "report.json", "report.md"]
    report = json.loads((out / "written" / "report.json").read_text())
    assert report["failed_checks"] == ["gateway_log"]
    suite = ET.parse(str(out / "written" / "junit.xml")).getroot().find("testsuite")
    assert suite.get("failures") == "1" and len(suite.findall("testcase")) == 8
    assert "### access_logging_off" in (out / "written" / "report.md").read_text()

    assert tasks["again"]["changed"] is False  # same facts, same files

    checked = tasks["check mode"]
    assert checked["changed"] is True  # would write ...
    assert not (out / "check").exists()  # ... but did not
    assert checked["markdown"].startswith("# Egress verification report")

    bad = tasks["bad facts"]
    assert bad["failed"] is True
    assert bad["msg"] == ("egress_verify_report: facts.settings.hosts: port 70000 of a.example is outside 1-65535")
