# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared object checks of the molecule scenarios can fail, and say why.

molecule/shared/tasks/assert_objects.yml judges a converged cluster in every
scenario (kind and the local control plane). Here it runs, without a cluster,
on the guide's own objects (tests/unit/roles/guide, copied from guide §6 and
§7.4) plus the Telemetry and GlobalNetworkPolicy rendered from the roles'
templates: as they are it must pass; with each defect the guide's §9 and the
NOTES describe it must fail, naming the object. Pods are reduced to the fields
the check reads (container names, restartPolicy): a synthetic stand-in for the
injected pod spec, built from the two shapes Istio 1.30 produces.
"""

import copy
import json
import os
import shutil
import subprocess

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(HERE, "data")
# The guide's own YAML blocks (tests/unit/roles/guide/PROVENANCE.md), written
# once in the repository: §6.1-§6.4 and §7.4 method A.
GUIDE_FILES = [os.path.join(ROOT, "tests", "unit", "roles", "guide", name) for name in (
    "serviceentry-httpbin-ext.yaml", "gateway-egress.yaml", "destinationrule-egress.yaml",
    "virtualservice-egress.yaml", "sidecar-registry-only.yaml")]


def _guide():
    docs = []
    for path in GUIDE_FILES:
        with open(path, encoding="utf-8") as handle:
            docs.extend(d for d in yaml.safe_load_all(handle) if d)
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    return by_kind


def _cases():
    g = _guide()

    def changed(kind, edit):
        objs = copy.deepcopy(g[kind])
        edit(objs[0])
        return {kind: objs}

    no_hop1 = changed("VirtualService", lambda vs: vs["spec"]["tls"].pop(0))
    wrong_selector = changed("Gateway", lambda gw: gw["spec"].update(selector={"istio": "egress-gateway"}))
    not_passthrough = changed("Gateway", lambda gw: gw["spec"]["servers"][0]["tls"].update(mode="SIMPLE"))
    dr_elsewhere = changed("DestinationRule", lambda dr: dr["metadata"].update(namespace="other-ns"))
    subset_renamed = changed("DestinationRule", lambda dr: dr["spec"]["subsets"][0].update(name="other"))
    resolution_none = changed("ServiceEntry", lambda se: se["spec"].update(resolution="NONE"))
    allow_any = changed("Sidecar", lambda sc: sc["spec"]["outboundTrafficPolicy"].update(mode="ALLOW_ANY"))
    native = [{"spec": {"containers": [{"name": "sleep"}],
                        "initContainers": [{"name": "istio-init"},
                                           {"name": "istio-proxy", "restartPolicy": "Always"}]}}]
    return [
        ("as_converged", {}, True, ""),
        ("native_sidecar", {"ClientPod": native}, True, ""),
        ("no_hop1_route", no_hop1, False, "no hop-1 route"),
        ("hop1_subset_not_in_dr", subset_renamed, False, "no hop-1 route"),
        ("gateway_selector_mismatch", wrong_selector, False, "Gateway istio-egressgateway: expected selector"),
        ("gateway_not_passthrough", not_passthrough, False, "TLS PASSTHROUGH server for httpbin.org"),
        ("dr_off_lookup_path", dr_elsewhere, False, "silently ignored"),
        ("serviceentry_resolution_none", resolution_none, False, "ServiceEntry for httpbin.org"),
        ("sidecar_allow_any", allow_any, False, "Sidecar in mesh-test"),
        ("no_access_log_telemetry", {"Telemetry": []}, False, "accessLogging provider envoy"),
        ("no_calico_policy", {"GlobalNetworkPolicy": []}, False, "GlobalNetworkPolicy"),
        ("client_without_proxy", {"ClientPod": [{"spec": {"containers": [{"name": "sleep"}]}}]},
         False, "istio-injection=enabled"),
        ("no_client_pod", {"ClientPod": []}, False, "0 pod(s)"),
    ]


CASES = _cases()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    playbook = shutil.which("ansible-playbook")
    if not playbook:
        pytest.skip("ansible-playbook is not on PATH (source hack/env.sh)")
    tmp = tmp_path_factory.mktemp("shared_checks")
    cases = tmp / "cases.json"
    with open(cases, "w", encoding="utf-8") as handle:
        json.dump([{"name": n, "objects": o} for n, o, _want, _defect in CASES], handle)
    out = tmp / "results.json"
    proc = subprocess.run(
        [playbook, "-i", "localhost,", "-c", "local", os.path.join(DATA, "check_cases.yml"),
         "-e", json.dumps({"collection_root": ROOT, "data_dir": DATA, "guide_files": GUIDE_FILES, "results_file": str(out),
                           "cases_file": str(cases),
                           "ansible_python_interpreter": "{{ ansible_playbook_python }}"})],
        capture_output=True, text=True, check=False,
        env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default"))
    assert proc.returncode == 0, f"the check playbook failed to run:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
    with open(out, encoding="utf-8") as handle:
        return {r["name"]: r for r in json.load(handle)}


@pytest.mark.parametrize("name,objects,passes,message", CASES, ids=[c[0] for c in CASES])
def test_shared_object_checks(results, name, objects, passes, message):
    res = results[name]
    if passes:
        assert res["passed"], f"{name}: the checks failed on correct objects: {res['msg']}"
    else:
        assert not res["passed"], f"{name}: the checks passed although the objects are broken"
        assert message in res["msg"], f"{name}: failure message does not say {message!r}: {res['msg']}"
