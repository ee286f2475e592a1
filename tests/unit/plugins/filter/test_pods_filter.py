# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pod filters (plugins/filter/pods.py) are the rules of module_utils/pods.py, not copies.

SYNTHETIC k8s_info resources. The roles used Jinja copies before issue 13: cluster_guard's and
egress_verify's Ready test, test_client's sidecar test. The cases below are the ones where a
copy differed from the rule now applied everywhere.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.istio_egress.plugins.filter.pods import FilterModule
from ansible_collections.homelab.istio_egress.plugins.module_utils import pods

FILTERS = FilterModule().filters()


def _pod(name, phase="Running", ready="True", **extra):
    pod = {"metadata": {"name": name}, "spec": {"containers": [{"name": "app"}]},
           "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]}}
    pod["metadata"].update(extra.get("metadata", {}))
    pod["spec"].update(extra.get("spec", {}))
    return pod


def test_filters_are_the_module_utils_functions():
    assert FILTERS["ready_pods"] is pods.ready_pods
    assert FILTERS["proxy_kind"] is pods.proxy_kind
    assert FILTERS["pods_without_proxy"] is pods.pods_without_proxy
    assert FILTERS["live_pods"] is pods.live_pods


def test_ready_pods_filter():
    resources = [_pod("gw-b"), _pod("gw-a"), _pod("gw-old", metadata={"deletionTimestamp": "2026-12-02T04:00:00Z"}),
                 _pod("gw-evicted", phase="Failed"), _pod("gw-starting", ready="False")]
    assert [p["metadata"]["name"] for p in FILTERS["ready_pods"](resources)] == ["gw-a", "gw-b"]


def test_sidecar_filters():
    native = _pod("sleep-native", spec={"initContainers": [{"name": "istio-proxy", "restartPolicy": "Always"}]})
    setup_only = _pod("sleep-init", spec={"initContainers": [{"name": "istio-proxy"}]})
    plain = _pod("sleep-plain", spec={"containers": [{"name": "app"}, {"name": "istio-proxy"}]})
    assert [FILTERS["proxy_kind"](p) for p in (native, setup_only, plain)] == ["native-sidecar", None, "container"]
    assert FILTERS["pods_without_proxy"]([native, setup_only, plain]) == ["sleep-init"]
