# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of tests/molecule_default.

test_by_hand.py runs against a live cluster with a data plane (molecule
scenario `default` on kind), with settings handed over by
molecule/shared/testinfra.yml; outside such a run (no SCENARIO_KUBECONFIG) it
is skipped with that reason. test_shared_checks.py needs no cluster.
"""

import os

import pytest


class Scenario:
    def __init__(self, env):
        self.kubeconfig = env["SCENARIO_KUBECONFIG"]
        self.context = env.get("SCENARIO_CONTEXT") or None
        self.client_namespace = env.get("SCENARIO_CLIENT_NAMESPACE", "mesh-test")
        self.client_name = env.get("SCENARIO_CLIENT_NAME", "sleep")
        self.gateway_namespace = env.get("SCENARIO_GATEWAY_NAMESPACE", "istio-system")
        self.gateway_selector = env.get("SCENARIO_GATEWAY_SELECTOR", "istio=egressgateway")
        self.registered_urls = [u for u in env.get("SCENARIO_REGISTERED_URLS", "").split(",") if u]
        self.unregistered_url = env.get("SCENARIO_UNREGISTERED_URL", "https://example.com")
        self.expect_blocked = env.get("SCENARIO_EXPECT_BLOCKED", "true").lower() == "true"

    def kubectl(self, *args):
        base = ["kubectl", "--kubeconfig", self.kubeconfig]
        if self.context:
            base += ["--context", self.context]
        return base + list(args)

    def pod_url(self, pod, namespace, container):
        url = f"kubectl://{pod}?namespace={namespace}&container={container}&kubeconfig={self.kubeconfig}"
        if self.context:
            url += f"&context={self.context}"
        return url


@pytest.fixture(scope="session")
def scenario():
    if not os.environ.get("SCENARIO_KUBECONFIG"):
        pytest.skip("not in a molecule run: molecule/shared/testinfra.yml sets SCENARIO_KUBECONFIG")
    return Scenario(os.environ)


@pytest.fixture(scope="session")
def local():
    testinfra = pytest.importorskip("testinfra", reason="pytest-testinfra is not installed")
    return testinfra.get_host("local://")
