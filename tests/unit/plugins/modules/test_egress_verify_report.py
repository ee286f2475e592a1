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
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
MODULE_UTILS_TESTS = os.path.join(ROOT, "tests", "unit", "plugins", "module_utils")
sys.path.insert(0, os.path.join(ROOT, "tests", "unit"))
from ansible_env import ansible_env

JSON_ENV = "ANSIBLE_PIPELINING=1"

# The report's tasks, also run by tests/unit/plugins/action/test_egress_verify_report_action.py
# on a host whose connection is not local.
REPORT_TASKS = """
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

PLAY_HEAD = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    facts: "{{ lookup('ansible.builtin.file', facts_file) | from_json }}"
  tasks:
"""

PLAYBOOK = PLAY_HEAD + REPORT_TASKS.lstrip("\n")


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
    # SYNTHETIC secrets in the client pod (issue 12): an env value, and the same in
    # kubectl's last-applied-configuration annotation. Neither may reach a written file.
    client = facts["preconditions"]["client_pods"][0]
    client["spec"]["containers"][0]["env"] = [{"name": "STRIPE_KEY", "value": SECRET}]
    client["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps({"spec": {"containers": [
            {"name": "sleep", "env": [{"name": "STRIPE_KEY", "value": SECRET}]}]}})}
    return facts


SECRET = "sk_live_51HxYzSyntheticTestSecret0000"


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
    # 8 checks + "verdict: proof complete"; the failed check and the failed verdict
    assert suite.get("failures") == "2" and len(suite.findall("testcase")) == 9
    assert report["verdict"] == "failed" and written["verdict"] == "failed" and written["no_failures"] is False

    # issue 12: no secret in any written file; files 0600 in a 0700 directory; no temp file left
    assert stat.S_IMODE(os.stat(str(out / "written")).st_mode) == 0o700
    for path in (out / "written").iterdir():
        assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600, path
        assert SECRET not in path.read_text(), path
        assert "last-applied-configuration" not in path.read_text(), path
    assert sorted(p.name for p in (out / "written").iterdir()) == ["junit.xml", "report.json", "report.md"]
    assert SECRET not in proc.stdout  # nor in what the module returned
    client = report["facts"]["preconditions"]["client_pods"][0]
    assert client["images"] == {"sleep": "curlimages/curl:8.10.1", "istio-proxy": "docker.io/istio/proxyv2:1.30.0"}
    assert client["containers"] == ["sleep", "istio-proxy"] and "env" not in json.dumps(client)
    assert "### access_logging_off" in (out / "written" / "report.md").read_text()

    assert tasks["again"]["changed"] is False  # same facts, same files

    checked = tasks["check mode"]
    assert checked["changed"] is True  # would write ...
    assert not (out / "check").exists()  # ... but did not
    assert checked["markdown"].startswith("# Egress verification report")

    bad = tasks["bad facts"]
    assert bad["failed"] is True
    assert bad["msg"] == ("egress_verify_report: facts.settings.hosts: port 70000 of a.example is outside 1-65535")


RELATIVE_PLAYBOOK = PLAY_HEAD + """    - name: relative
      homelab.istio_egress.egress_verify_report:
        facts: "{{ facts }}"
        dest: reports/run-1
"""


def test_a_relative_dest_is_resolved_where_the_module_runs(tmp_path):
    """Issue 13 point 8: the module resolves a relative dest in its own working directory on the
    host that writes the files (over SSH the remote user's login directory) and returns the
    absolute directory. With a local connection Ansible runs modules in the playbook's directory,
    not where ansible-playbook was started (here tmp_path vs tmp_path/work): that is why the role
    resolves a relative egress_verify_report_dir itself for local connections only."""
    facts_file = tmp_path / "facts.json"
    facts_file.write_text(json.dumps(_facts()))
    play = tmp_path / "play.yml"
    play.write_text(RELATIVE_PLAYBOOK)
    work = tmp_path / "work"
    work.mkdir()
    cmd = "%s ansible-playbook %s -e %s" % (JSON_ENV, _quote(str(play)), _quote("facts_file=%s" % facts_file))
    proc = subprocess.run(["bash", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, cwd=str(work), timeout=300, check=False, env=ansible_env())
    assert "Traceback" not in proc.stdout and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    expected = tmp_path / "reports" / "run-1"
    assert not (work / "reports").exists()
    assert result["dest"] == str(expected)
    assert result["files"] == [str(expected / n) for n in ("report.json", "report.md", "junit.xml")]
    assert sorted(p.name for p in expected.iterdir()) == ["junit.xml", "report.json", "report.md"]
