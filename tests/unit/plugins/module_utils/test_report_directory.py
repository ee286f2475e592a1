# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where egress_verify's report files go (issue 13 point 8): verify_render.report_directory.

The module runs on the host the play targets and passes its own working directory and home; the
role no longer computes the directory on the controller (it joined the controller's $PWD, a path
that need not exist on a remote control-plane host). Synthetic paths.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_render import report_directory

CWD = "/srv/ops"      # the remote user's login directory over SSH
HOME = "/srv/ops"


@pytest.mark.parametrize("dest,expected", [
    ("reports/20261202T040000Z", "/srv/ops/reports/20261202T040000Z"),
    ("/var/tmp/egress", "/var/tmp/egress"),
    ("~/reports/x", "/srv/ops/reports/x"),
    ("~", "/srv/ops"),
    ("./reports/../reports/x/", "/srv/ops/reports/x"),
    ("  reports/x  ", "/srv/ops/reports/x"),
    ("", ""),
    (None, ""),
])
def test_report_directory(dest, expected):
    assert report_directory(dest, CWD, HOME) == expected


def test_the_working_directory_of_the_writing_host_counts_not_the_controllers():
    assert report_directory("reports/x", "/srv/checkout", HOME) == "/srv/checkout/reports/x"
    assert report_directory("reports/x", "/opt/ci", "/opt/ci") == "/opt/ci/reports/x"
