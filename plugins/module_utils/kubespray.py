# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubespray's cluster variables, as the roles read them (pure, stdlib only).

A kubespray user already wrote the cluster's network facts in the kubespray
inventory (group_vars/k8s_cluster/k8s-cluster.yml and friends). The roles take
them from there, so nothing is written twice: the variable as the play host
sees it, else as the first kube_control_plane (then k8s_cluster) host sees it
(kubespray's k8s_cluster group_vars do not apply to the controller's localhost),
else kubespray's own default. The collection's role variables default to this
and override it when set. Defaults: kubespray v2.26.0
roles/kubespray-defaults/defaults/main/main.yml (docs/upstream-facts.md,
"Versions and support").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# kubespray v2.26.0, roles/kubespray-defaults/defaults/main/main.yml (and the
# sample inventory, tests/unit/roles/kubespray/v2.26.0/, which repeats them).
KUBESPRAY_DEFAULTS = {
    "kube_pods_subnet": "10.233.64.0/18",
    "kube_service_addresses": "10.233.0.0/18",
    "enable_nodelocaldns": True,
    "nodelocaldns_ip": "169.254.25.10",
    "cluster_name": "cluster.local",
    "kube_network_plugin": "calico",
    "kube_proxy_mode": "ipvs",
    "kube_apiserver_port": 6443,
    "calico_apiserver_enabled": False,
}
# Where kubespray's cluster-wide variables live: its group_vars for these
# groups, so their first host sees them.
CLUSTER_GROUPS = ("kube_control_plane", "k8s_cluster")


class KubesprayVarError(Exception):
    """An unknown variable name: one sentence."""


def cluster_host(groups):
    """The host whose variables are kubespray's view of the cluster: the first
    kube_control_plane host, else the first k8s_cluster host, else None."""
    for group in CLUSTER_GROUPS:
        hosts = (groups or {}).get(group) or []
        if hosts:
            return hosts[0]
    return None


def group_vars_paths(inventory_sources, listdir, isdir, isfile):
    """Files of ``group_vars/k8s_cluster`` next to the inventory sources.

    kubespray >= 2.27 samples no longer define the k8s_cluster group in the
    inventory (kubespray's playbooks make it from kube_control_plane and
    kube_node), so Ansible does not apply those group_vars outside kubespray:
    the lookup reads them itself. The file system calls are passed in (this
    module does no I/O); returns the paths in Ansible's order (the
    ``k8s_cluster.yml`` file, then the directory's files sorted).
    """
    out = []
    for source in inventory_sources or []:
        source = str(source)
        base = source if isdir(source) else source.rsplit("/", 1)[0] if "/" in source else "."
        stem = base.rstrip("/") + "/group_vars/k8s_cluster"
        for ext in ("", ".yml", ".yaml", ".json"):
            if ext and isfile(stem + ext):
                out.append(stem + ext)
        if isdir(stem):
            for name in sorted(listdir(stem)):
                if name.endswith((".yml", ".yaml", ".json")) and isfile(stem + "/" + name):
                    out.append(stem + "/" + name)
    return out


def resolve(name, layers):
    """The value of kubespray variable ``name`` and the layer it came from.

    ``layers``: (label, variables) pairs, the first that defines the variable
    wins (the roles pass: the play host's variables, the cluster host's
    variables, the k8s_cluster group_vars files); else kubespray's default,
    labelled ``kubespray default``. ``cluster_name`` also answers from
    ``dns_domain`` (kubespray: dns_domain defaults to cluster_name and is what
    the cluster's DNS serves).
    """
    if name not in KUBESPRAY_DEFAULTS:
        raise KubesprayVarError(
            "kubespray variable %r is not one the collection reads (known: %s)"
            % (name, ", ".join(sorted(KUBESPRAY_DEFAULTS))))
    names = ("dns_domain", "cluster_name") if name == "cluster_name" else (name,)
    for label, variables in layers:
        if not variables:
            continue
        for key in names:
            if key in variables and variables[key] is not None:
                return variables[key], label
    return KUBESPRAY_DEFAULTS[name], "kubespray default"
