# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kind scenario's preflight decisions (molecule/default/filter_plugins/kind_preflight.py).

Real outputs are in fixtures/ (PROVENANCE.md); cases marked SYNTHETIC are derived from them.
"""

import copy
import importlib.util
import json
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
FIXTURES = os.path.join(HERE, "fixtures")

_spec = importlib.util.spec_from_file_location(
    "kind_preflight", os.path.join(REPO_ROOT, "molecule", "default", "filter_plugins", "kind_preflight.py"))
kp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kp)


def _fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


DOCKER_NO_ENGINE = json.loads(_fixture("ansible-command-docker-info-no-engine.json"))  # REAL
KIND_MISSING = json.loads(_fixture("ansible-command-kind-not-installed.json"))  # REAL
MEMINFO = _fixture("proc-meminfo.txt")  # REAL: MemAvailable 23772172 kB here


def _docker_ok(kernel="6.18.44-fc-v857", mem_total=25276059648):
    """SYNTHETIC: the real no-engine result with a server filled in."""
    result = copy.deepcopy(DOCKER_NO_ENGINE)
    info = json.loads(result["stdout"])
    info.update(ServerVersion="28.2.2", MemTotal=mem_total, NCPU=4, KernelVersion=kernel, OperatingSystem="Debian")
    result.update(rc=0, stderr="", stdout=json.dumps(info), msg="")
    return result


def _kind(version):
    """SYNTHETIC: other versions in the shape of the real fixtures/kind-version-v0.25.0.txt."""
    return {"rc": 0, "stdout": "kind %s go1.23.2 linux/amd64\n" % version, "stderr": ""}


PROC_MODULES_IPVS = ("ip_vs_rr 12288 1 - Live 0x0000000000000000\n"  # SYNTHETIC, /proc/modules format
                     "ip_vs 212992 7 ip_vs_rr, Live 0x0000000000000000\n"
                     "nf_conntrack 192512 5 ip_vs,nf_nat, Live 0x0000000000000000\n")
PROC_MODULES_NO_IPVS = "nf_conntrack 192512 5 nf_nat, Live 0x0000000000000000\n"  # SYNTHETIC
MODULES_DEP_IPVS = ("kernel/net/netfilter/ipvs/ip_vs.ko.zst: kernel/net/netfilter/nf_conntrack.ko.zst\n"  # SYNTHETIC
                    "kernel/net/netfilter/ipvs/ip_vs_rr.ko.zst: kernel/net/netfilter/ipvs/ip_vs.ko.zst\n")


def _inputs(**over):
    base = {"docker": _docker_ok(), "kind": _kind("v0.25.0"), "kind_image_release": "v0.25.0",
            "kube_proxy_mode": "ipvs", "host_kernel": "6.18.44-fc-v857", "proc_modules": PROC_MODULES_IPVS,
            "modules_dep": None, "modules_builtin": None, "meminfo": MEMINFO, "min_free_memory_mib": 6144,
            "docker_config": json.dumps({"auths": {"https://index.docker.io/v1/": {}}, "credsStore": "desktop"}),
            "helm": {"supported": True, "helm_major": 3}}
    base.update(over)
    return base


def test_all_good_passes_without_notes():
    out = kp.kind_preflight(_inputs())
    assert out["failures"] == [] and out["warnings"] == [], out
    assert out["kube_proxy_mode"] == "ipvs"


def test_real_docker_without_engine_fails_although_it_printed_json():
    """The CLI prints its client JSON and exits 1: parsing JSON alone would look like a success."""
    out = kp.docker_status(DOCKER_NO_ENGINE)
    assert out["ok"] is False
    assert out["reason"] == (
        "the Docker engine is not reachable (`docker info` exited 1: Cannot connect to the Docker daemon at "
        "unix:///var/run/docker.sock. Is the docker daemon running?): start it and check that `docker info` "
        "works for your user")
    # Even with rc 0 an empty ServerVersion is no engine (a wrapper that swallows the exit code).
    assert kp.docker_status(dict(DOCKER_NO_ENGINE, rc=0))["ok"] is False


def test_docker_permission_denied_says_docker_group():
    result = {"rc": 1, "stdout": "", "stderr": "permission denied while trying to connect to the Docker daemon "
                                               "socket at unix:///var/run/docker.sock"}  # SYNTHETIC
    assert "add it to the docker group" in kp.docker_status(result)["reason"]


def test_docker_not_installed():
    result = dict(KIND_MISSING, msg="[Errno 2] No such file or directory: b'docker'", cmd="docker")  # from REAL
    assert kp.docker_status(result)["reason"].startswith("docker is not installed or not on PATH")


def test_real_kind_not_installed():
    out = kp.kind_status(KIND_MISSING, "v0.25.0")
    assert out["ok"] is False
    assert out["reason"] == ("kind is not installed or not on PATH ([Errno 2] No such file or directory: "
                             "b'kind'): install kind v0.25.0 or later")


def test_kind_not_installed_ansible_core_219():
    # REAL: what ansible.builtin.command registers for a missing executable on ansible-core 2.19.14
    # (captured with failed_when: false): the errno text is gone, rc 2, no output.
    result = {"changed": False, "cmd": "kind version", "failed": False, "msg": "Error executing command.",
              "rc": 2, "stderr": "", "stderr_lines": [], "stdout": "", "stdout_lines": []}
    out = kp.kind_status(result, "v0.25.0")
    assert out["ok"] is False
    assert out["reason"] == ("kind is not installed or not on PATH (Error executing command.): "
                             "install kind v0.25.0 or later")
    docker = kp.docker_status(dict(result, cmd="docker info --format {{json .}}"))
    assert docker["reason"].startswith("docker is not installed or not on PATH")


@pytest.mark.parametrize("version, ok, warn", [
    ("v0.24.0", False, False),   # older than the image's release: fails
    ("v0.25.0", True, False),
    ("v0.25.1", True, False),    # same minor: supported
    ("v0.27.0", True, True),     # newer: best effort, a warning
])
def test_kind_version_range(version, ok, warn):
    out = kp.kind_status(_kind(version), "v0.25.0")
    assert out["ok"] is ok, out
    assert bool(out["warning"]) is warn, out
    if not ok:
        assert out["reason"] == ("kind %s is older than v0.25.0, the release that published the pinned node "
                                 "image: install kind v0.25.0 or later" % version)


def test_real_kind_v0_25_output():
    out = kp.kind_status({"rc": 0, "stdout": _fixture("kind-version-v0.25.0.txt")}, "v0.25.0")
    assert out == {"ok": True, "version": "v0.25.0", "reason": "", "warning": ""}


def test_ipvs_kept_when_loaded_or_available():
    assert kp.proxy_mode("ipvs", PROC_MODULES_IPVS)["mode"] == "ipvs"
    # Not loaded but available as a module file: kube-proxy in the kind node loads it.
    assert kp.proxy_mode("ipvs", PROC_MODULES_NO_IPVS, MODULES_DEP_IPVS)["mode"] == "ipvs"
    assert kp.proxy_mode("ipvs", None, None, "kernel/net/netfilter/ipvs/ip_vs.ko\n")["mode"] == "ipvs"


def test_no_ip_vs_falls_back_to_iptables_and_says_so():
    out = kp.proxy_mode("ipvs", PROC_MODULES_NO_IPVS, "kernel/net/netfilter/nf_nat.ko.zst:\n", "",
                        host_kernel="6.1.0")
    assert out["mode"] == "iptables"
    assert out["note"].startswith("kube-proxy falls back from ipvs to iptables: the kernel has no ip_vs module")
    # A module that only mentions ip_vs in its dependencies does not count.
    assert kp.proxy_mode("ipvs", "ip_vs_rr 1 0 - Live 0x0\n", None)["mode"] == "iptables"


def test_real_machine_without_proc_modules_falls_back():
    """This machine has neither /proc/modules nor /lib/modules (real): the mode cannot be ipvs."""
    out = kp.kind_preflight(_inputs(proc_modules=None))
    assert out["kube_proxy_mode"] == "iptables"
    assert any("could be read" in w for w in out["warnings"]), out["warnings"]


def test_engine_on_another_kernel_keeps_ipvs_unchecked():
    out = kp.kind_preflight(_inputs(docker=_docker_ok(kernel="6.10.14-linuxkit"), proc_modules=None))
    assert out["kube_proxy_mode"] == "ipvs"
    assert any("another kernel (6.10.14-linuxkit)" in w for w in out["warnings"]), out["warnings"]


def test_iptables_wanted_is_kept():
    assert kp.proxy_mode("iptables", None) == {"mode": "iptables", "note": ""}


def test_real_meminfo_is_enough_and_too_little_fails():
    assert kp.memory_status(6144, MEMINFO) == {"ok": True, "available_mib": 23215, "reason": ""}
    out = kp.memory_status(32768, MEMINFO)
    assert out["ok"] is False
    assert out["reason"].startswith("only 23215 MiB are available on this host (MemAvailable), the scenario "
                                    "needs 32768 MiB")


def test_memory_of_a_docker_vm_is_its_memtotal():
    out = kp.kind_preflight(_inputs(docker=_docker_ok(kernel="6.10.14-linuxkit", mem_total=4 * 1024 ** 3)))
    want = ("only 4096 MiB are in the Docker engine (MemTotal), the scenario needs 6144 MiB "
            "(two kind nodes, Calico, istiod, the gateway and the client): free memory or "
            "lower kind_min_free_memory_mib at your own risk")
    assert out["failures"] == [want], out


def test_memory_unreadable_fails_not_passes():
    out = kp.memory_status(6144, None, 0)
    assert out["ok"] is False and "could not be read" in out["reason"]
    assert kp.kind_preflight(_inputs(min_free_memory_mib=0, meminfo=None))["failures"] == []


@pytest.mark.parametrize("config, hint", [
    (None, True),
    ("{}", True),
    ("not json", True),
    (json.dumps({"auths": {"ghcr.io": {"auth": "eA=="}}}), True),
    (json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": "eA=="}}}), False),
    (json.dumps({"credHelpers": {"docker.io": "pass"}}), False),
])
def test_docker_hub_hint(config, hint):
    text = kp.docker_hub_hint(config)
    assert bool(text) is hint
    if hint:
        assert "`docker login`" in text and "429" in text


def test_helm_refusal_is_a_failure():
    reason = "helm is Helm 4.3.2 and this controller has kubernetes.core 6.2.0, which cannot drive Helm 4: ..."
    out = kp.kind_preflight(_inputs(helm={"supported": False, "reason": reason}))
    assert out["failures"] == [reason]


def test_this_machine_as_it_is():
    """REAL inputs of this machine: no engine, no kind, no /proc/modules; two failures, no traceback."""
    out = kp.kind_preflight(_inputs(docker=DOCKER_NO_ENGINE, kind=KIND_MISSING, proc_modules=None,
                                    docker_config=None))
    assert len(out["failures"]) == 2, out["failures"]
    assert out["failures"][0].startswith("the Docker engine is not reachable")
    assert out["failures"][1].startswith("kind is not installed or not on PATH")
    assert out["kube_proxy_mode"] == "iptables"
