# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn a failed Kubernetes API call into its cause, in a few words.

Pure functions only: stdlib, no I/O, no AnsibleModule. The roles' preflight (the shared
``roles/cluster_guard/tasks/reach.yml``) calls ``api_error_cause`` through the filter of
``plugins/filter/guard.py`` on ``ansible_failed_result``: a 401 must read "credentials rejected",
a 403 "forbidden: <verb> <resource>", not "cannot reach the API" with the reason hidden.

kubernetes.core reports the same failure in different fields depending on where it happened:
``msg`` ("Failed to retrieve requested object: b'{...}'"), ``reason``/``status``/``error``, or,
when the client crashed during discovery, a traceback in ``module_stderr``
("kubernetes.client.exceptions.UnauthorizedException: (401)"). All of them are searched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_FIELDS = ("msg", "reason", "status", "error", "body", "module_stderr", "module_stdout", "stderr")

# kube-apiserver's RBAC denial: User "x" cannot <verb> resource "<res>" in API group "<g>" ...
_FORBIDDEN = re.compile(
    r'cannot (?P<verb>[a-z]+) resource \\*"(?P<resource>[^"\\]+)\\*"'
    r'(?: in API group \\*"(?P<group>[^"\\]*)\\*")?'
    r'(?: in the namespace \\*"(?P<namespace>[^"\\]+)\\*"| at the cluster scope)?')
# The task keyword `timeout` cut the call: ansible-core <= 2.18 says "... failed to execute in the
# expected time frame (N) ...", 2.19+ says "Timed out after N second(s)."
_TIMEOUT = re.compile(r"failed to execute in the expected time frame \((?P<seconds>\d+)\)"
                      r"|Timed out after (?P<seconds2>\d+) second")


def _text(result):
    if isinstance(result, dict):
        parts = []
        for field in _FIELDS:
            value = result.get(field)
            if value not in (None, ""):
                parts.append(str(value))
        return "\n".join(parts)
    return "" if result is None else str(result)


def api_error_cause(result):
    """A short cause for a failed API call (``ansible_failed_result`` or a message string).

    homelab.istio_egress.cluster_read classifies its own failures with this function and returns
    the words as ``cause``: that is taken as is.
    """
    if isinstance(result, dict) and isinstance(result.get("cause"), str) and result["cause"]:
        return result["cause"]
    text = _text(result)
    timed_out = _TIMEOUT.search(text)
    if timed_out:
        return "no answer within %ss (the API server accepted the connection but did not reply)" % (
            timed_out.group("seconds") or timed_out.group("seconds2"))
    if re.search(r"\(401\)|\b401\b.*Unauthorized|Reason: Unauthorized|\"code\":\s*401", text):
        return "credentials rejected (401 Unauthorized: the token or client certificate is not accepted)"
    if re.search(r"\(403\)|Reason: Forbidden|\"code\":\s*403|is forbidden", text):
        match = _FORBIDDEN.search(text)
        if not match:
            return "forbidden (403): the credentials lack a right this step needs"
        resource = match.group("resource")
        if match.group("group"):
            resource = "%s.%s" % (resource, match.group("group"))
        where = (" in namespace %s" % match.group("namespace")) if match.group("namespace") else (
            " (cluster scope)" if "at the cluster scope" in match.group(0) else "")
        return "forbidden: %s %s%s" % (match.group("verb"), resource, where)
    if re.search(r"CERTIFICATE_VERIFY_FAILED|certificate verify failed", text):
        return "TLS certificate of the API server not trusted (certificate-authority of the kubeconfig)"
    if re.search(r"Connection refused|ConnectionRefusedError", text):
        return "connection refused (nothing listens at the server address of the kubeconfig)"
    if re.search(r"Name or service not known|nodename nor servname|Temporary failure in name resolution", text):
        return "the API server's host name does not resolve"
    if re.search(r"timed out|Timeout", text):
        return "the connection timed out"
    if re.search(r"context .*(not found|does not exist)|Invalid kube-config|No such file", text, re.IGNORECASE):
        first = text.strip().splitlines()[0] if text.strip() else ""
        return "kubeconfig problem: %s" % first[:300]
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return first[:300]
