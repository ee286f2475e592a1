# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live-read error mapping of istio_proxy_config, with a fake Kubernetes client.

The fake raises what the official client raises (ApiException with the API's
Status body; KubeError from kube.exec_in_pod with the runtime's message), so
each failure must come out as one specific sentence.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube
from ansible_collections.homelab.istio_egress.plugins.modules import (
    istio_proxy_config as mod,
)

pytestmark = pytest.mark.skipif(not kube.HAS_KUBERNETES, reason="needs the kubernetes client for ApiException")


def api_error(status, reason, message):
    exc = kube.ApiException(status=status, reason=reason)
    exc.body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                           "message": message, "code": status})
    return exc


def pod(name="sleep-1", namespace="demo", containers=("sleep", "istio-proxy"), init=()):
    """A real client model object (V1Pod), as read_namespaced_pod returns it."""
    from kubernetes.client import V1Container, V1ObjectMeta, V1Pod, V1PodSpec
    return V1Pod(metadata=V1ObjectMeta(name=name, namespace=namespace),
                 spec=V1PodSpec(containers=[V1Container(name=c) for c in containers],
                                init_containers=[V1Container(name=n, restart_policy=r) for n, r in init]))


class FakeCore:
    def __init__(self, result=None, error=None):
        from kubernetes.client import ApiClient
        self.result, self.error = result, error
        # kube.plain turns the model object into the API's JSON shape with the real client's serializer.
        self.api_client = ApiClient()
        # The server messages name (kube.server_of); the client's default differs between versions
        # ('' in kubernetes 37, 'http://localhost' in 29, the oldest end's).
        self.api_client.configuration.host = "https://127.0.0.1:6443"
        self.timeouts = []

    def read_namespaced_pod(self, name, namespace, _request_timeout=None):
        # every API call must carry a (connect, read) timeout
        assert isinstance(_request_timeout, tuple) and len(_request_timeout) == 2
        self.timeouts.append(_request_timeout)
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture
def exec_returns(monkeypatch):
    calls = []

    def install(rc=0, out="", err="", raises=None):
        def fake(core, namespace, pod_name, container, command, timeout=60):
            calls.append((namespace, pod_name, container, list(command)))
            if raises is not None:
                raise raises
            return rc, out, err
        monkeypatch.setattr(kube, "exec_in_pod", fake)
        return calls
    return install


def test_reads_dump_from_proxy_container(exec_returns):
    calls = exec_returns(out='{"configs": []}')
    assert mod.read_dump_api(FakeCore(pod()), "demo", "sleep-1", "istio-proxy", 30) == '{"configs": []}'
    assert calls == [("demo", "sleep-1", "istio-proxy", ["pilot-agent", "request", "GET", "config_dump"])]


def test_native_sidecar_init_container(exec_returns):
    exec_returns(out="{}")
    native = pod(containers=("sleep",), init=(("istio-proxy", "Always"),))
    assert mod.read_dump_api(FakeCore(native), "demo", "sleep-1", "istio-proxy", 30) == "{}"


def test_an_init_container_without_restart_policy_always_is_not_the_proxy(exec_returns):
    """The copies disagreed (issue 13): egress_log_assert took any init container of the name, this
    module only a native sidecar. An init container runs once and exits: there is nothing to exec in."""
    calls = exec_returns(out="{}")
    setup = pod(containers=("sleep",), init=(("istio-proxy", None),))
    with pytest.raises(mod.ReadError) as err:
        mod.read_dump_api(FakeCore(setup), "demo", "sleep-1", "istio-proxy", 30)
    assert str(err.value).startswith("pod demo/sleep-1 has no container 'istio-proxy' (containers: sleep)")
    assert calls == []


def test_pod_not_found(exec_returns):
    exec_returns()
    core = FakeCore(error=api_error(404, "Not Found", 'pods "nope" not found'))
    with pytest.raises(mod.ReadError) as err:
        mod.read_dump_api(core, "demo", "nope", "istio-proxy", 30)
    assert str(err.value) == 'pod demo/nope was not found (HTTP 404): pods "nope" not found'


def test_rbac_denied_on_pod_read(exec_returns):
    exec_returns()
    message = ('pods "sleep-1" is forbidden: User "viewer" cannot get resource "pods" in API group "" '
               'in the namespace "demo"')
    core = FakeCore(error=api_error(403, "Forbidden", message))
    with pytest.raises(mod.ReadError) as err:
        mod.read_dump_api(core, "demo", "sleep-1", "istio-proxy", 30)
    assert str(err.value).startswith("forbidden: get pods in namespace demo (HTTP 403) while reading pod demo/sleep-1")
    assert core.timeouts and core.timeouts[0][0] <= 10 and core.timeouts[0][1] <= 30


def test_credentials_rejected(exec_returns):
    exec_returns()
    core = FakeCore(error=api_error(401, "Unauthorized", "Unauthorized"))
    with pytest.raises(mod.ReadError) as err:
        mod.read_dump_api(core, "demo", "sleep-1", "istio-proxy", 30)
    assert str(err.value).startswith("credentials rejected by https://127.0.0.1:6443 (HTTP 401) while reading pod demo/sleep-1")


def test_rbac_denied_on_exec(exec_returns):
    # The websocket client reports a refused upgrade as ApiException(status=0, reason="Handshake status 403 ...").
    exec_returns(raises=kube.KubeError("could not reach the Kubernetes API while reading container istio-proxy "
                                       "in pod demo/sleep-1: Handshake status 403 Forbidden"))
    with pytest.raises(mod.ReadError) as err:
        mod.read_dump_api(FakeCore(pod()), "demo", "sleep-1", "istio-proxy", 30)
    assert str(err.value).startswith("forbidden: create pods/exec in namespace demo (HTTP 403)")


def test_container_missing(exec_returns):
    calls = exec_returns()
    with pytest.raises(mod.ReadError) as err:
        mod.read_dump_api(FakeCore(pod(containers=("sleep",))), "demo", "sleep-1", "istio-proxy", 30)
    assert str(err.value).startswith("pod demo/sleep-1 has no container 'istio-proxy' (containers: sleep)")
    assert calls == []


def test_container_without_pilot_agent(exec_returns):
    # kube.exec_in_pod wraps the runtime's error channel message.
    exec_returns(raises=kube.KubeError(
        "exec in container sleep in pod demo/sleep-1 broke off: invalid literal for int() with base 10: "
        "'OCI runtime exec failed: exec failed: unable to start container process: exec: \"pilot-agent\": "
        "executable file not found in $PATH: unknown'"))
    with pytest.raises(mod.ReadError) as err:
        mod.read_dump_api(FakeCore(pod()), "demo", "sleep-1", "sleep", 30)
    assert str(err.value).startswith("container sleep in pod demo/sleep-1 has no pilot-agent")


def test_pilot_agent_fails(exec_returns):
    exec_returns(rc=1, err='Error: failed to execute command: Get "http://localhost:15000/config_dump": '
                           'dial tcp 127.0.0.1:15000: connect: connection refused\n')
    with pytest.raises(mod.ReadError) as err:
        mod.read_dump_api(FakeCore(pod()), "demo", "sleep-1", "istio-proxy", 30)
    assert str(err.value).startswith("'pilot-agent request GET config_dump' failed in container istio-proxy of "
                                     "pod demo/sleep-1 (rc=1): Error: failed to execute command")
    assert err.value.facts["rc"] == 1
