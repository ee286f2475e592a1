# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pod rules: which pods are Ready, and how a pod carries its Istio proxy.

Pure functions over Pod objects in the API's JSON shape (``k8s_info`` resources, or a client
model object turned into that shape by ``kube.plain``). Stdlib only, no I/O. The roles call
them through the filters of ``plugins/filter/pods.py``; the modules and the report's checks
import them, so "Ready" and "has a sidecar" mean the same everywhere (issue 13).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

PROXY_CONTAINER = "istio-proxy"


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def _name(pod):
    name = _dict(_dict(pod).get("metadata")).get("name")
    return name if isinstance(name, str) else ""


def is_ready(pod):
    """True when the pod takes traffic: phase Running, not being deleted, condition Ready=True.

    A pod with a deletionTimestamp is terminating: its endpoints are no longer ready (it
    receives no new connections) even while its Ready condition still says True, so it is not
    counted. A Failed or Succeeded pod (evicted, completed) may keep a stale Ready=True condition;
    only a Running pod counts. Anything unreadable (no status, no conditions) is not Ready:
    readiness is proved, never assumed (docs/upstream-facts.md).
    """
    if not isinstance(pod, dict):
        return False
    if _dict(pod.get("metadata")).get("deletionTimestamp"):
        return False
    status = _dict(pod.get("status"))
    if status.get("phase") != "Running":
        return False
    for condition in _list(status.get("conditions")):
        if _dict(condition).get("type") == "Ready":
            return _dict(condition).get("status") == "True"
    return False


def ready_pods(pods):
    """The Ready pods of a list (see is_ready), sorted by name so 'the first Ready one' is stable."""
    return sorted((p for p in _list(pods) if is_ready(p)), key=_name)


def native_sidecars(pod):
    """The init containers that are native sidecars: restartPolicy Always (Kubernetes 1.28+ API).

    Only these run next to the app; an ordinary init container of the same name (it ran once
    and exited, e.g. a copy of the proxy image used for setup) is not a sidecar.
    """
    spec = _dict(_dict(pod).get("spec"))
    return [c for c in _list(spec.get("initContainers"))
            if isinstance(c, dict) and c.get("restartPolicy") == "Always"]


def running_containers(pod):
    """The containers that run for the pod's life: the ordinary ones, then the native sidecars."""
    spec = _dict(_dict(pod).get("spec"))
    return [c for c in _list(spec.get("containers")) if isinstance(c, dict)] + native_sidecars(pod)


def container_names(pod):
    """Names of running_containers(pod), for messages such as 'it has: sleep, istio-proxy'."""
    return [c["name"] for c in running_containers(pod) if isinstance(c.get("name"), str)]


def proxy_kind(pod, container=PROXY_CONTAINER):
    """How the pod carries the proxy: 'container', 'native-sidecar' or None (no proxy).

    Istio 1.30 injects istio-proxy as an ordinary container, or on kubelet >= 1.33 as an init
    container with restartPolicy Always (docs/upstream-facts.md "Native sidecars"). An init
    container of that name without restartPolicy Always is not a proxy: it exits before the app
    starts.
    """
    spec = _dict(_dict(pod).get("spec"))
    if any(_dict(c).get("name") == container for c in _list(spec.get("containers"))):
        return "container"
    if any(c.get("name") == container for c in native_sidecars(pod)):
        return "native-sidecar"
    return None


def pods_without_proxy(pods, container=PROXY_CONTAINER):
    """Names of the pods (not being deleted) that have no proxy (proxy_kind None), sorted."""
    return sorted(_name(p) for p in _list(pods)
                  if isinstance(p, dict) and not _dict(p.get("metadata")).get("deletionTimestamp")
                  and proxy_kind(p, container) is None)


def live_pods(pods):
    """The pods that are not being deleted (no deletionTimestamp), sorted by name."""
    return sorted((p for p in _list(pods)
                   if isinstance(p, dict) and not _dict(p.get("metadata")).get("deletionTimestamp")), key=_name)
