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
from api_doubles import SilentServer, kubeconfig_doc, write_kubeconfig

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


# ---------------------------------------------------------------- connection options


def test_auth_env_fallbacks_as_kubernetes_core():
    env = {"K8S_AUTH_KUBECONFIG": "/k", "K8S_AUTH_HOST": "https://h:6443", "K8S_AUTH_VERIFY_SSL": "no",
           "K8S_AUTH_SSL_CA_CERT": "/ca", "K8S_AUTH_PROXY_HEADERS_USER_AGENT": "ua"}
    auth = kube.auth_from_params({"context": "lab", "kubeconfig": None}, environ=env)
    assert auth == {"kubeconfig": "/k", "context": "lab", "api_host": "https://h:6443", "validate_certs": False,
                    "ca_cert": "/ca", "proxy_headers": {"user_agent": "ua"}}
    # an option set on the task wins over the environment
    assert kube.auth_from_params({"kubeconfig": "/task"}, environ=env)["kubeconfig"] == "/task"


@pytest.mark.skipif(not kube.HAS_KUBERNETES, reason="needs the kubernetes client")
def test_host_and_token_need_no_kubeconfig(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "does-not-exist"))
    client = kube.api_client({"api_host": "https://10.0.0.1:6443/", "api_key": "t0k", "validate_certs": False},
                             timeout=7)
    cfg = client.configuration
    assert cfg.host == "https://10.0.0.1:6443" and cfg.api_key == {"authorization": "Bearer t0k"}
    assert cfg.verify_ssl is False and cfg.retries is False
    assert client.default_request_timeout == (7, 7.0)


@pytest.mark.skipif(not kube.HAS_KUBERNETES, reason="needs the kubernetes client")
def test_kubeconfig_as_dict_and_bad_kubeconfig(tmp_path):
    config = kubeconfig_doc("https://127.0.0.1:6443", {"token": "synthetic"}, context="c", cluster_name="x")
    client = kube.api_client({"kubeconfig": config})
    assert client.configuration.host == "https://127.0.0.1:6443"
    assert client.default_request_timeout == (kube.CONNECT_TIMEOUT, kube.DEFAULT_READ_TIMEOUT)
    with pytest.raises(kube.KubeError, match=r"^could not load kubeconfig .*/missing \(context \(current\)\): "):
        kube.api_client({"kubeconfig": str(tmp_path / "missing")})


# ------------------------------------------------------------------ error sentences


def _api_exc(status, message):
    exc = kube.ApiException(status=status, reason="x")
    exc.body = json.dumps({"kind": "Status", "message": message, "code": status})
    return exc


@pytest.mark.skipif(not kube.HAS_KUBERNETES, reason="needs ApiException")
@pytest.mark.parametrize("exc,expect", [
    (lambda: _api_exc(401, "Unauthorized"),
     ("credentials rejected by https://k:6443 (HTTP 401) while reading pod a/b: the token or client certificate "
     "of the connection options is not accepted (Unauthorized)")),
    (lambda: _api_exc(403, 'pods "b" is forbidden: User "system:serviceaccount:v:verify" cannot get resource '
                           '"pods" in API group "" in the namespace "a"'),
     ('forbidden: get pods in namespace a (HTTP 403) while reading pod a/b: pods "b" is forbidden: User '
     '"system:serviceaccount:v:verify" cannot get resource "pods" in API group "" in the namespace "a"')),
    # what kubernetes.stream reports when the exec upgrade is refused (websocket handshake status + Status body)
    (lambda: kube.ApiException(status=0, reason=(
        'Handshake status 403 Forbidden -+-+- {"content-type": "application/json"} -+-+- b\'{"kind":"Status",'
        '"message":"pods \\"b\\" is forbidden: User \\"v\\" cannot create resource \\"pods/exec\\" in API group '
        '\\"\\" in the namespace \\"a\\"","code":403}\'')),
     ('forbidden: create pods/exec in namespace a (HTTP 403) while reading pod a/b: pods "b" is forbidden: User "v" '
     'cannot create resource "pods/exec" in API group "" in the namespace "a"')),
    (lambda: _api_exc(404, 'pods "b" not found'), 'pod a/b was not found (HTTP 404): pods "b" not found'),
    (lambda: ConnectionRefusedError(111, "Connection refused"),
     "connection refused by https://k:6443 while reading pod a/b"),
    (lambda: TimeoutError("timed out"), "https://k:6443 did not answer within the timeout after 5 s while reading pod a/b"),
])
def test_describe_api_error(exc, expect):
    assert kube.describe_api_error(exc(), "pod a/b", server="https://k:6443", timeout=5) == expect


@pytest.mark.skipif(not kube.HAS_KUBERNETES, reason="needs urllib3")
def test_urllib3_errors_name_the_server():
    import urllib3

    pool = urllib3.HTTPSConnectionPool("10.0.0.1", 6443)
    exc = urllib3.exceptions.MaxRetryError(pool, "/api", urllib3.exceptions.ConnectTimeoutError(pool, "timed out"))
    assert kube.describe_api_error(exc, "pod a/b") == "connecting to https://10.0.0.1:6443 timed out while reading pod a/b"


@pytest.mark.skipif(not kube.HAS_KUBERNETES, reason="needs the kubernetes client")
def test_every_call_of_core_client_is_bounded(tmp_path):
    """A local server that accepts and never answers: a call without its own _request_timeout ends anyway.

    egress_log_assert calls core_client(kubeconfig, context) and the client's methods without a timeout:
    the client's default request timeout bounds them (before: they waited forever).
    """
    import time

    srv = SilentServer()
    port = srv.port
    config = write_kubeconfig(tmp_path / "kubeconfig", srv.url, {"token": "synthetic"}, context="c",
                              cluster={"insecure-skip-tls-verify": True}, cluster_name="x")
    try:
        core = kube.core_client(config, None)
        core.api_client.default_request_timeout = kube.request_timeout(1.5)
        start = time.monotonic()
        with pytest.raises(Exception) as err:
            core.list_namespaced_pod("istio-system", label_selector="istio=egressgateway")
        assert time.monotonic() - start < 6
        msg = kube.describe_api_error(err.value, "pods in namespace istio-system")
        assert msg.startswith(("connecting to https://127.0.0.1:%d timed out" % port,
                               "https://127.0.0.1:%d did not answer" % port)), msg
    finally:
        srv.close()
