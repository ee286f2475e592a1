# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/kubespray.py: which layer answers, and where kubespray's group_vars are."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils.kubespray import (
    KUBESPRAY_DEFAULTS,
    KubesprayVarError,
    cluster_host,
    group_vars_paths,
    resolve,
)


def test_first_layer_that_defines_it_wins():
    layers = [("play host", {}), ("kubespray inventory", {"kube_pods_subnet": "10.42.0.0/16"})]
    assert resolve("kube_pods_subnet", layers) == ("10.42.0.0/16", "kubespray inventory")
    layers.insert(0, ("play host", {"kube_pods_subnet": "10.1.0.0/16"}))
    assert resolve("kube_pods_subnet", layers) == ("10.1.0.0/16", "play host")


def test_kubespray_default_when_nobody_defines_it():
    assert resolve("nodelocaldns_ip", [("play host", {}), ("x", None)]) == ("169.254.25.10", "kubespray default")
    assert resolve("enable_nodelocaldns", []) == (True, "kubespray default")
    assert KUBESPRAY_DEFAULTS["kube_apiserver_port"] == 6443


def test_a_false_or_empty_value_is_a_value_but_none_is_not():
    assert resolve("enable_nodelocaldns", [("inv", {"enable_nodelocaldns": False})]) == (False, "inv")
    assert resolve("kube_network_plugin", [("inv", {"kube_network_plugin": None})])[1] == "kubespray default"


def test_cluster_name_answers_from_dns_domain_first():
    layers = [("inv", {"cluster_name": "a.local", "dns_domain": "b.local"})]
    assert resolve("cluster_name", layers) == ("b.local", "inv")
    assert resolve("cluster_name", [("inv", {"cluster_name": "a.local"})]) == ("a.local", "inv")


def test_unknown_name_is_one_sentence():
    with pytest.raises(KubesprayVarError, match="not one the collection reads"):
        resolve("kube_pod_subnet", [])


def test_cluster_host_prefers_the_control_plane():
    assert cluster_host({"kube_control_plane": ["cp1", "cp2"], "k8s_cluster": ["n1"]}) == "cp1"
    assert cluster_host({"kube_control_plane": [], "k8s_cluster": ["n1"]}) == "n1"
    assert cluster_host({}) is None and cluster_host(None) is None


def test_group_vars_paths_file_then_directory_sorted():
    files = {"/inv/group_vars/k8s_cluster.yml", "/inv/group_vars/k8s_cluster/k8s-net-calico.yml",
             "/inv/group_vars/k8s_cluster/addons.yml", "/inv/group_vars/k8s_cluster/README"}
    dirs = {"/inv", "/inv/group_vars/k8s_cluster"}
    listdir = {"/inv/group_vars/k8s_cluster": ["k8s-net-calico.yml", "README", "addons.yml"]}.get
    got = group_vars_paths(["/inv/inventory.ini"], listdir, dirs.__contains__, files.__contains__)
    assert got == ["/inv/group_vars/k8s_cluster.yml", "/inv/group_vars/k8s_cluster/addons.yml",
                   "/inv/group_vars/k8s_cluster/k8s-net-calico.yml"]
    assert group_vars_paths(["/inv"], listdir, dirs.__contains__, files.__contains__) == got
    assert group_vars_paths(["/elsewhere/hosts.yml"], listdir, dirs.__contains__, files.__contains__) == []
