# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a person checks by hand after the playbook ran (guide §4.2, §3.4, §7.1, §7.4).

Through testinfra: the local backend for `kubectl get`, the kubectl backend
(`kubectl exec` into the client's own container) for the calls.
"""

import json
import shlex
import time

import pytest

testinfra = pytest.importorskip("testinfra", reason="pytest-testinfra is not installed")


def _pods(local, scenario, namespace, selector):
    cmd = scenario.kubectl("get", "pods", "-n", namespace, "-l", selector, "-o", "json")
    out = local.run(" ".join(shlex.quote(c) for c in cmd))
    assert out.rc == 0, f"kubectl get pods -n {namespace} -l {selector} failed: {out.stderr}"
    return json.loads(out.stdout)["items"]


def ready_column(pod):
    """kubectl's READY column: ready/total over app containers and native sidecars."""
    restartable = {c["name"] for c in pod["spec"].get("initContainers", [])
                   if c.get("restartPolicy") == "Always"}
    statuses = pod.get("status", {})
    total = len(pod["spec"]["containers"]) + len(restartable)
    ready = sum(1 for s in statuses.get("containerStatuses", []) if s.get("ready"))
    ready += sum(1 for s in statuses.get("initContainerStatuses", [])
                 if s["name"] in restartable and s.get("ready"))
    return ready, total


def _running(pods):
    return [p for p in pods if p.get("status", {}).get("phase") == "Running"
            and not p["metadata"].get("deletionTimestamp")]


def curl_code(host, url, max_time=10):
    out = host.run("curl -sS -o /dev/null -w %s --max-time %s %s", "%{http_code}", str(max_time), url)
    return out.stdout.strip(), out.rc, out.stderr.strip()


@pytest.fixture(scope="module")
def client(local, scenario):
    pods = _running(_pods(local, scenario, scenario.client_namespace, f"app={scenario.client_name}"))
    assert pods, f"no Running pod app={scenario.client_name} in {scenario.client_namespace}"
    name = pods[0]["metadata"]["name"]
    return testinfra.get_host(scenario.pod_url(name, scenario.client_namespace, scenario.client_name))


def test_client_pods_are_2_of_2(local, scenario):
    pods = _pods(local, scenario, scenario.client_namespace, f"app={scenario.client_name}")
    assert pods, f"no pod app={scenario.client_name} in {scenario.client_namespace}"
    for pod in _running(pods):
        assert ready_column(pod) == (2, 2), (
            f"{pod['metadata']['name']} is {'/'.join(map(str, ready_column(pod)))}, expected 2/2 "
            "(app + istio-proxy); 1/1 means no sidecar: label the namespace istio-injection=enabled "
            f"and kubectl rollout restart deploy/{scenario.client_name} (guide §4.2)")


def test_egress_gateway_pods_are_1_of_1(local, scenario):
    pods = _running(_pods(local, scenario, scenario.gateway_namespace, scenario.gateway_selector))
    assert pods, f"no Running egress gateway pod {scenario.gateway_selector} in {scenario.gateway_namespace}"
    for pod in pods:
        assert ready_column(pod) == (1, 1), (
            f"{pod['metadata']['name']} is {'/'.join(map(str, ready_column(pod)))}, expected 1/1")


def test_registered_hosts_return_200(client, scenario):
    assert scenario.registered_urls, "no registered URL given (SCENARIO_REGISTERED_URLS)"
    for url in scenario.registered_urls:
        # The public httpbin.org is flaky (NOTES): a bounded number of tries.
        seen = []
        for attempt in range(3):
            code, rc, err = curl_code(client, url)
            seen.append(code if code != "000" else f"000 ({err or 'rc ' + str(rc)})")
            if code == "200":
                break
            time.sleep(2 * (attempt + 1))
        assert seen[-1] == "200", f"curl {url} from the client: {', '.join(seen)}; expected 200"


def test_unregistered_host_is_blocked(client, scenario):
    if not scenario.expect_blocked:
        pytest.skip("REGISTRY_ONLY is not on in this scenario: nothing is blocked")
    code, rc, _err = curl_code(client, scenario.unregistered_url, max_time=5)
    expected = "502" if scenario.unregistered_url.startswith("http://") else "000"
    assert code == expected, (
        f"curl {scenario.unregistered_url} from the client returned {code} (rc {rc}); expected {expected}: "
        "an unregistered host must be blocked (guide §7.4) - is REGISTRY_ONLY applied?")
    if expected == "000":
        assert rc != 0, "curl reported 000 but exited 0"
