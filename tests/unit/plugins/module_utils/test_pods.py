# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pod rules of module_utils/pods.py: Ready, and how a pod carries its proxy (issue 13).

SYNTHETIC pods in the API's JSON shape (the keys k8s_info returns), reduced to what the rules
read. Before issue 13 these rules existed as Jinja (cluster_guard, egress_verify, test_client) and
Python (verify_inputs, egress_log_assert, istio_proxy_config), and the copies disagreed: the log
module counted a terminating pod as Ready and took any init container named istio-proxy as the
proxy. The tests named *_disagreed show the case and the rule now applied everywhere.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils import pods


def pod(name, phase="Running", ready="True", deleting=False, containers=("app", "istio-proxy"), init=()):
    """init: (name, restartPolicy or None) pairs."""
    meta = {"name": name, "namespace": "mesh-test"}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-02T04:00:00Z"
    init_containers = []
    for n, policy in init:
        c = {"name": n, "image": "docker.io/istio/proxyv2:1.30.0"}
        if policy is not None:
            c["restartPolicy"] = policy
        init_containers.append(c)
    status = {"phase": phase}
    if ready is not None:
        status["conditions"] = [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": ready}]
    return {"metadata": meta, "spec": {"containers": [{"name": c} for c in containers],
                                       "initContainers": init_containers}, "status": status}


def test_a_running_pod_with_ready_true_is_ready():
    assert pods.is_ready(pod("a"))


@pytest.mark.parametrize("case", [
    pod("a", ready="False"),
    pod("a", ready=None),                     # no conditions read: not proved
    pod("a", phase="Pending", ready="False"),
    {"metadata": {"name": "a"}},               # no status at all
    "a",                                       # not an object
])
def test_not_ready(case):
    assert not pods.is_ready(case)


def test_terminating_pod_with_ready_true_is_not_ready_the_copies_disagreed():
    """egress_log_assert's copy read only the Ready condition: a replica being deleted (still
    Ready=True during its grace period, but out of the endpoints) counted, and 'every Ready replica
    carries entries' then demanded entries from a pod that takes no new connections."""
    terminating = pod("gw-old", deleting=True)
    assert terminating["status"]["conditions"][1] == {"type": "Ready", "status": "True"}
    assert not pods.is_ready(terminating)


@pytest.mark.parametrize("phase", ["Failed", "Succeeded"])
def test_a_stale_ready_condition_of_a_finished_pod_does_not_count(phase):
    assert not pods.is_ready(pod("evicted", phase=phase, ready="True"))


def test_ready_pods_sorted_by_name_and_filtered():
    items = [pod("c"), pod("a", ready="False"), pod("b"), pod("d", deleting=True)]
    assert [p["metadata"]["name"] for p in pods.ready_pods(items)] == ["b", "c"]
    assert pods.ready_pods(None) == [] and pods.ready_pods([]) == []


def test_proxy_as_a_container_and_as_a_native_sidecar():
    assert pods.proxy_kind(pod("a")) == "container"
    native = pod("a", containers=("app",), init=(("istio-init", None), ("istio-proxy", "Always")))
    assert pods.proxy_kind(native) == "native-sidecar"
    assert pods.container_names(native) == ["app", "istio-proxy"]
    assert pods.proxy_kind(pod("a", containers=("app",))) is None


def test_an_init_container_named_istio_proxy_without_restart_policy_always_the_copies_disagreed():
    """egress_log_assert's copy took every init container; the others required restartPolicy Always.
    An ordinary init container runs to completion before the app starts: it proxies nothing."""
    once = pod("a", containers=("app",), init=(("istio-proxy", None),))
    assert pods.proxy_kind(once) is None
    assert pods.proxy_kind(pod("a", containers=("app",), init=(("istio-proxy", "OnFailure"),))) is None
    assert pods.container_names(once) == ["app"]


def test_another_proxy_container_name():
    assert pods.proxy_kind(pod("a", containers=("app", "envoy")), "envoy") == "container"
    assert pods.proxy_kind(pod("a", containers=("app", "envoy"))) is None


def test_pods_without_proxy_skip_pods_being_deleted():
    items = [pod("b", containers=("app",)), pod("a"), pod("c", containers=("app",), deleting=True),
             pod("d", containers=("app",), init=(("istio-proxy", None),))]
    assert pods.pods_without_proxy(items) == ["b", "d"]
    assert [p["metadata"]["name"] for p in pods.live_pods(items)] == ["a", "b", "d"]
