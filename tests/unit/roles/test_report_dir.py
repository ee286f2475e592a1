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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

pytest.importorskip("ansible")
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar

try:  # ansible-core 2.19+: only trusted strings are templated
    from ansible.template import trust_as_template
except ImportError:  # 2.16-2.18 template every string
    def trust_as_template(value):
        return value

# The expression's lookup('ansible.builtin.env') needs the plugin loader (once per process).
init_plugin_loader()

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
PREFLIGHT = os.path.join(ROOT, "roles", "egress_verify", "tasks", "preflight.yml")


def _expression():
    with open(PREFLIGHT) as f:
        tasks = yaml.safe_load(f)
    for task in tasks:
        facts = task.get("ansible.builtin.set_fact") or {}
        if "_egress_verify_report_dir" in facts:
            return facts["_egress_verify_report_dir"]
    raise AssertionError("preflight.yml no longer fixes _egress_verify_report_dir")


def _render(report_dir, connection, monkeypatch):
    monkeypatch.setenv("PWD", "/srv/checkout")
    variables = {"egress_verify_report_dir": report_dir, "ansible_connection": connection}
    return str(Templar(loader=DataLoader(), variables=variables).template(trust_as_template(_expression()))).strip()


@pytest.mark.parametrize("report_dir,connection,expected", [
    ("reports/20261202T040000Z", "local", "/srv/checkout/reports/20261202T040000Z"),
    ("/var/tmp/egress", "local", "/var/tmp/egress"),
    ("~/reports", "local", "~/reports"),
    # remote: not the controller's directory; the module resolves it on the host
    ("reports/20261202T040000Z", "ssh", "reports/20261202T040000Z"),
    ("/var/tmp/egress", "ssh", "/var/tmp/egress"),
])
def test_report_dir(report_dir, connection, expected, monkeypatch):
    assert _render(report_dir, connection, monkeypatch) == expected
