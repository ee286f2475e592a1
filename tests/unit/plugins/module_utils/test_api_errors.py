# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cause of a failed API call survives into the preflight message (issue 12).

The 401/403 texts are what kubernetes.core 5.4 with kubernetes 37 printed against a local HTTP
server answering every request with a metav1.Status 401 or 403 (synthetic server, real client
output, shortened); the RBAC message is kube-apiserver's wording for a denied request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils.api_errors import api_error_cause

CRASH_401 = {"msg": "MODULE FAILURE: No start of json char found\nSee stdout/stderr for the exact error",
             "module_stderr": "Traceback (most recent call last):\n ...\n"
                              "kubernetes.client.exceptions.UnauthorizedException: (401)\nReason: Unauthorized\n"}
FORBIDDEN = {"msg": "Failed to retrieve requested object: b'{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                    "\"status\":\"Failure\",\"message\":\"namespaces \\\\\"mesh-test\\\\\" is forbidden: User "
                    "\\\\\"system:serviceaccount:v:verify\\\\\" cannot get resource \\\\\"namespaces\\\\\" in API "
                    "group \\\\\"\\\\\" in the namespace \\\\\"mesh-test\\\\\"\",\"reason\":\"Forbidden\","
                    "\"code\":403}'", "reason": "Forbidden", "status": 403}


def test_401_is_credentials_rejected():
    assert api_error_cause(CRASH_401).startswith("credentials rejected")


def test_403_names_verb_and_resource():
    assert api_error_cause(FORBIDDEN) == "forbidden: get namespaces in namespace mesh-test"


def test_403_with_group_and_cluster_scope():
    msg = ('sidecars.networking.istio.io is forbidden: User "u" cannot list resource "sidecars" in API group '
           '"networking.istio.io" at the cluster scope')
    assert api_error_cause({"msg": msg, "status": 403}) == \
        "forbidden: list sidecars.networking.istio.io (cluster scope)"


@pytest.mark.parametrize("msg, start", [
    ("The kubernetes.core.k8s_info action failed to execute in the expected time frame (30) and was terminated",
     "no answer within 30s"),
    # ansible-core 2.19+ (ansible/_internal/_errors/_alarm_timeout.py), as the task result shows it
    ("Task failed: Timed out after 3 second(s).", "no answer within 3s"),
    ("HTTPSConnectionPool: Max retries exceeded (Caused by NewConnectionError: [Errno 111] Connection refused)",
     "connection refused"),
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", "TLS certificate"),
    ("something else entirely", "something else entirely"),
])
def test_other_causes(msg, start):
    assert api_error_cause({"msg": msg}).startswith(start)


def test_cluster_read_cause_is_taken_as_is():
    """cluster_read classified the failure itself (with api_error_cause) and returns ``cause``."""
    cause = "forbidden: list namespaces (cluster scope)"
    failed = {"failed": True, "msg": "discovery: reading the served APIs (/api) from https://h:6443 failed: " + cause,
              "cause": cause}
    assert api_error_cause(failed) == cause
    # without it, the message is classified as before (a 401 in the message)
    assert api_error_cause({"msg": "x failed: credentials rejected (401 Unauthorized: no)"}).startswith(
        "credentials rejected")
