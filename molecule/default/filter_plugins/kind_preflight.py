# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kind scenario's preflight decisions (molecule/default/create.yml), before anything is created.

Pure functions over what create.yml read (command results as Ansible's `command` module
registers them: rc, stdout, stderr, msg; file contents or None when a file could not be read).
No I/O here: tests/unit/molecule/test_kind_preflight.py feeds them recorded outputs.
Development tooling of the repository: a playbook-adjacent filter, not shipped in the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

DOCKER_HUB = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


def _first_line(*texts):
    for text in texts:
        for line in (text or "").splitlines():
            if line.strip():
                return line.strip()[:200]
    return ""


def _version(text):
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text or "")
    return tuple(int(x) for x in match.groups()) if match else None


def _not_found(result, said):
    """The command's executable is missing. ansible-core <= 2.18 says "[Errno 2] No such file or
    directory: b'kind'"; 2.19+ only "Error executing command." with rc 2 and no output."""
    if "No such file or directory" in said or result.get("rc") == 127:
        return True
    return (result.get("rc") == 2 and said.startswith("Error executing command")
            and not (result.get("stdout") or result.get("stderr")))


def docker_status(result):
    """`docker info --format '{{json .}}'` -> {ok, reason, server_version, mem_total, ncpu, kernel, os}.

    Without an engine the CLI still prints the JSON (client part filled, ServerVersion empty) and
    exits 1: only a non-empty ServerVersion counts as reachable.
    """
    result = result or {}
    out = {"ok": False, "reason": "", "server_version": "", "mem_total": 0, "ncpu": 0, "kernel": "", "os": ""}
    try:
        info = json.loads(result.get("stdout") or "{}")
    except ValueError:
        info = {}
    if not isinstance(info, dict):
        info = {}
    out.update(server_version=info.get("ServerVersion") or "", mem_total=int(info.get("MemTotal") or 0),
               ncpu=int(info.get("NCPU") or 0), kernel=info.get("KernelVersion") or "",
               os=info.get("OperatingSystem") or "")
    said = _first_line(result.get("stderr"), result.get("msg"))
    if result.get("rc") == 0 and out["server_version"]:
        out["ok"] = True
    elif _not_found(result, said):
        out["reason"] = "docker is not installed or not on PATH (%s): install Docker and start its engine" % said
    elif "permission denied" in said.lower():
        out["reason"] = ("your user may not use the Docker engine (`docker info`: %s): add it to the docker group "
                         "(then log in again) or use rootless Docker" % said)
    else:
        out["reason"] = ("the Docker engine is not reachable (`docker info` exited %s: %s): start it and check "
                         "that `docker info` works for your user" % (result.get("rc"), said or "no server version"))
    return out


def kind_status(result, image_release):
    """`kind version` ("kind v0.25.0 go1.23.2 linux/amd64") against the kind release that published
    the pinned node image: older fails (kind supports an image only from the release it came
    with), newer is a warning (best effort, as kind's node-image docs say)."""
    result = result or {}
    want = _version(image_release)
    out = {"ok": False, "version": "", "reason": "", "warning": ""}
    if want is None:
        out["reason"] = "kind_node_image_kind_release %r is not a version such as v0.25.0" % image_release
        return out
    have = _version(result.get("stdout")) if result.get("rc") == 0 else None
    said = _first_line(result.get("stderr"), result.get("msg"), result.get("stdout"))
    if have is None and _not_found(result, said):
        out["reason"] = "kind is not installed or not on PATH (%s): install kind v%d.%d.%d or later" % (
            (said,) + want)
        return out
    if have is None:
        out["reason"] = "`kind version` did not give a version (%s): install kind v%d.%d.%d or later" % (
            _first_line(result.get("stderr"), result.get("msg"), result.get("stdout")) or "no output", *want)
        return out
    out["version"] = "v%d.%d.%d" % have
    if have < want:
        out["reason"] = ("kind %s is older than v%d.%d.%d, the release that published the pinned node image: "
                         "install kind v%d.%d.%d or later" % ((out["version"],) + want + want))
        return out
    out["ok"] = True
    if have[:2] != want[:2]:
        out["warning"] = ("kind %s runs the node image published with v%d.%d.%d only best effort: if the nodes "
                          "do not start, use kind v%d.%d.x or set KIND_NODE_IMAGE to an image of your kind "
                          "release" % ((out["version"],) + want + want[:2]))
    return out


def _has_ip_vs(proc_modules, modules_dep, modules_builtin):
    """True/False when one of the texts answers, None when none could be read."""
    answers = []
    if proc_modules is not None:
        answers.append(bool(re.search(r"^ip_vs\s", proc_modules, re.MULTILINE)))
    if modules_dep is not None:
        answers.append(bool(re.search(r"(^|/)ip_vs\.ko(\.[gx]z|\.zst)?:", modules_dep, re.MULTILINE)))
    if modules_builtin is not None:
        answers.append(bool(re.search(r"(^|/)ip_vs\.ko$", modules_builtin, re.MULTILINE)))
    if not answers:
        return None
    return any(answers)


def proxy_mode(wanted, proc_modules=None, modules_dep=None, modules_builtin=None, host_kernel="", docker_kernel=""):
    """kube-proxy mode for kind: {mode, note}. IPVS needs the ip_vs module of the kernel the
    Docker engine runs on (kind nodes share it). It is checked only when that kernel is this
    host's (`uname -r` equals docker's KernelVersion); else (Docker Desktop's VM, a remote engine)
    the wanted mode is kept and the note says it could not be checked."""
    if wanted != "ipvs":
        return {"mode": wanted, "note": ""}
    if docker_kernel and host_kernel and docker_kernel.strip() != host_kernel.strip():
        return {"mode": "ipvs", "note": "kube-proxy ipvs: the Docker engine runs on another kernel (%s) than this "
                                        "host's, so ip_vs could not be checked here" % docker_kernel.strip()}
    found = _has_ip_vs(proc_modules, modules_dep, modules_builtin)
    if found:
        return {"mode": "ipvs", "note": ""}
    why = ("the kernel has no ip_vs module (neither loaded in /proc/modules nor in /lib/modules/%s)" % host_kernel
           if found is False else "neither /proc/modules nor /lib/modules/%s could be read" % host_kernel)
    return {"mode": "iptables", "note": "kube-proxy falls back from ipvs to iptables: %s; the collection does not "
                                        "depend on the mode (set KIND_KUBE_PROXY_MODE=iptables to silence this)" % why}


def _meminfo_available(text):
    match = re.search(r"^MemAvailable:\s+(\d+)\s+kB", text or "", re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def memory_status(min_mib, meminfo=None, docker_mem_total=0, same_kernel=True):
    """Enough memory for the cluster: MemAvailable of /proc/meminfo when the engine runs on this
    host, else the engine's own MemTotal (Docker Desktop's VM)."""
    min_mib = int(min_mib)
    available = _meminfo_available(meminfo) if same_kernel else None
    if available is not None:
        have, what = available // (1024 * 1024), "available on this host (MemAvailable)"
    elif docker_mem_total:
        have, what = int(docker_mem_total) // (1024 * 1024), "in the Docker engine (MemTotal)"
    else:
        return {"ok": False, "available_mib": 0,
                "reason": "free memory could not be read (no MemAvailable in /proc/meminfo, no MemTotal from "
                          "`docker info`): set kind_min_free_memory_mib=0 to skip this check"}
    if have < min_mib:
        return {"ok": False, "available_mib": have,
                "reason": "only %d MiB are %s, the scenario needs %d MiB (two kind nodes, Calico, istiod, the "
                          "gateway and the client): free memory or lower kind_min_free_memory_mib at your own risk"
                          % (have, what, min_mib)}
    return {"ok": True, "available_mib": have, "reason": ""}


def docker_hub_hint(docker_config):
    """A `docker login` hint unless ~/.docker/config.json has Docker Hub credentials (or a helper)."""
    hint = ("not logged in to Docker Hub: anonymous pulls are rate-limited per IP, and the node, Calico, Istio "
            "and client images come from there; if a pull fails with 429 (toomanyrequests), run `docker login`")
    try:
        config = json.loads(docker_config) if docker_config else {}
    except ValueError:
        return hint
    if not isinstance(config, dict):
        return hint
    for key in ("auths", "credHelpers"):
        entries = config.get(key) or {}
        if any(any(hub in name for hub in DOCKER_HUB) for name in entries):
            return ""
    if config.get("credsStore") and any(any(hub in name for hub in DOCKER_HUB) for name in config.get("auths") or {}):
        return ""
    return hint


def kind_preflight(inputs):
    """All checks at once: {failures: [sentence], warnings: [sentence], kube_proxy_mode, docker, kind, memory}.

    ``inputs``: docker (command result), kind (command result), kind_image_release, kube_proxy_mode,
    host_kernel, proc_modules, modules_dep, modules_builtin, meminfo (text or None),
    min_free_memory_mib, docker_config (text or None), helm (the helm_support filter's dict, optional).
    """
    failures, warnings = [], []
    docker = docker_status(inputs.get("docker"))
    if not docker["ok"]:
        failures.append(docker["reason"])
    kind = kind_status(inputs.get("kind"), inputs.get("kind_image_release", ""))
    if not kind["ok"]:
        failures.append(kind["reason"])
    if kind["warning"]:
        warnings.append(kind["warning"])
    helm = inputs.get("helm") or {}
    if helm and not helm.get("supported", False):
        failures.append(helm.get("reason") or "Helm cannot be driven by this controller's kubernetes.core")
    same_kernel = not docker["kernel"] or docker["kernel"].strip() == (inputs.get("host_kernel") or "").strip()
    mode = proxy_mode(inputs.get("kube_proxy_mode", "ipvs"), inputs.get("proc_modules"), inputs.get("modules_dep"),
                      inputs.get("modules_builtin"), inputs.get("host_kernel", ""),
                      docker["kernel"] if docker["ok"] else "")
    if mode["note"]:
        warnings.append(mode["note"])
    memory = {"ok": True, "available_mib": 0, "reason": ""}
    if int(inputs.get("min_free_memory_mib") or 0) > 0:
        memory = memory_status(inputs["min_free_memory_mib"], inputs.get("meminfo"),
                               docker["mem_total"] if docker["ok"] else 0, same_kernel)
        if not memory["ok"]:
            failures.append(memory["reason"])
    hint = docker_hub_hint(inputs.get("docker_config"))
    if hint:
        warnings.append(hint)
    return {"failures": failures, "warnings": warnings, "kube_proxy_mode": mode["mode"],
            "docker": docker, "kind": kind, "memory": memory}


class FilterModule(object):
    """kind_preflight filter for molecule/default/create.yml."""

    def filters(self):
        return {"kind_preflight": kind_preflight}
