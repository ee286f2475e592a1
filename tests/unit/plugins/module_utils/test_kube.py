# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exit codes from the exec status channel.

The status documents are hand-written in the metav1.Status shape that the
kubelet sends on channel 3 of the exec stream (remotecommand v4); they are
synthetic, not captured.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube


@pytest.mark.parametrize(
    "status, code",
    [
        ({"metadata": {}, "status": "Success"}, 0),
        ({"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
          "message": "command terminated with non-zero exit code: exit status 7",
          "details": {"causes": [{"reason": "ExitCode", "message": "7"}]}}, 7),
    ],
)
def test_exit_code(status, code):
    assert kube.exec_exit_code(json.dumps(status)) == code


def test_no_status_is_unknown():
    assert kube.exec_exit_code("") is None


def test_runtime_failure_keeps_runtime_message():
    status = {"metadata": {}, "status": "Failure",
              "message": 'exec: "pilot-agent": executable file not found in $PATH: unknown'}
    with pytest.raises(kube.KubeError, match="executable file not found"):
        kube.exec_exit_code(json.dumps(status), "container sleep in pod a/b")


def test_unreadable_status():
    with pytest.raises(kube.KubeError, match="unreadable status"):
        kube.exec_exit_code("<html>")
