# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""egress_verify's report directory (issue 13 point 8), as roles/egress_verify/tasks/preflight.yml
fixes it: rendered with Ansible's own templating from the task file.

Before: the controller's $PWD was joined to every relative path, also when the play targets a
remote control-plane host, where that directory need not exist. Now: only a local connection
resolves against the directory ansible-playbook runs in; on a remote host the path stays relative
and the writing modules resolve it there (egress_verify_report returns the absolute path;
tests/unit/plugins/module_utils/test_report_directory.py).

The rendering runs in a child Python: the expression's lookup needs Ansible's plugin loader, whose
collection finder must not be configured inside the test session (other tests configure their own).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
PREFLIGHT = os.path.join(ROOT, "roles", "egress_verify", "tasks", "preflight.yml")

RENDER = """
import json, sys
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar
try:  # ansible-core 2.19+: only trusted strings are templated
    from ansible.template import trust_as_template
except ImportError:  # 2.16-2.18 template every string
    def trust_as_template(value):
        return value
init_plugin_loader()
expr, cases = json.loads(sys.stdin.read())
out = []
for report_dir, connection in cases:
    variables = {"egress_verify_report_dir": report_dir, "ansible_connection": connection}
    out.append(str(Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expr))).strip())
print(json.dumps(out))
"""

CASES = [
    ("reports/20261202T040000Z", "local", "/srv/checkout/reports/20261202T040000Z"),
    ("/var/tmp/egress", "local", "/var/tmp/egress"),
    ("~/reports", "local", "~/reports"),
    # remote: not the controller's directory; the module resolves it on the host
    ("reports/20261202T040000Z", "ssh", "reports/20261202T040000Z"),
    ("/var/tmp/egress", "ssh", "/var/tmp/egress"),
]


def _expression():
    with open(PREFLIGHT) as f:
        tasks = yaml.safe_load(f)
    for task in tasks:
        facts = task.get("ansible.builtin.set_fact") or {}
        if "_egress_verify_report_dir" in facts:
            return facts["_egress_verify_report_dir"]
    raise AssertionError("preflight.yml no longer fixes _egress_verify_report_dir")


def test_report_dir():
    pytest.importorskip("ansible")
    payload = json.dumps([_expression(), [[d, c] for d, c, _e in CASES]])
    proc = subprocess.run([sys.executable, "-c", RENDER], input=payload, capture_output=True, text=True,
                          env=dict(os.environ, PWD="/srv/checkout"), timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [e for _d, _c, e in CASES]
