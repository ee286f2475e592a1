# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/egress_verify/tasks/report.yml through ansible-playbook: its Jinja and the real module.

The registered results in playbooks/egress_verify_report_tasks.yml are SYNTHETIC, in the shapes
the role's tasks register (k8s_info resources, the raw curl attempt lines of tasks/call.yml, the
istioctl version output). Checked: the curl output reaches the one parser (a retried call is
counted), istiod's version is read from the injector's values and a 1.29 istioctl makes checks 2
and 3 not run, a DNS failure is no blocking proof, a secret in the client pod's env and
annotations reaches no file, the files are 0600 in a 0700 directory, and a failed check fails
the play with the summary.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import stat
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYBOOK = os.path.join(HERE, "playbooks", "egress_verify_report_tasks.yml")
SECRET = "sk_live_51HxYzSyntheticRoleSecret000"


@pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible-playbook not on PATH")
def test_report_tasks(tmp_path):
    out = tmp_path / "report"
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_STDOUT_CALLBACK="default")
    proc = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", PLAYBOOK, "-e", json.dumps({"out": str(out), "secret": SECRET})],
        capture_output=True, text=True, env=env, timeout=180, check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Traceback" not in text, text[-3000:]
    failure = (tmp_path / "failure.txt").read_text()
    assert failure.startswith("egress_verify: FAILED"), failure

    report = json.loads((out / "report.json").read_text())
    rows = {r["id"]: r for r in report["checks"]}
    assert report["verdict"] == "failed" and report["passed"] is False
    assert rows["call"]["verdict"] == "pass" and "(1 retry in 1 call)" in rows["call"]["actual"]
    assert rows["call"]["details"]["retries"] == {"httpbin.org": [1]}
    for check in ("xds_sync", "analyze"):
        assert rows[check]["verdict"] == "not_run"
        assert "istioctl 1.29.1 is not istiod's minor version 1.30.0" in rows[check]["reason"]
    assert rows["blocking"]["verdict"] == "not_run" and "curl exit 6" in rows["blocking"]["reason"]
    # the settle wait and the evidence source reach the report through report.yml
    assert report["settle"]["synced"] is False and report["settle"]["waited_s"] == 60.3
    assert rows["routing"]["settle_note"] == "the config had not arrived after 60.3 s of settle wait"
    assert rows["routing"]["source"] == "client: saved dump (istiod-xds)"
    assert rows["routing"]["verdict"] == "fail"
    md = (out / "report.md").read_text()
    assert "- settle: the config had NOT arrived when the proof ran (waited 60.3 s)" in md

    assert stat.S_IMODE(os.stat(str(out)).st_mode) == 0o700
    for path in out.iterdir():
        assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600, path
        assert SECRET not in path.read_text(), path
    assert SECRET not in text
