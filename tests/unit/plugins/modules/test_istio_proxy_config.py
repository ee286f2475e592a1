# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""istio_proxy_config through Ansible itself (ad-hoc ``ansible localhost -m`` with the JSON callback).

The dumps are REAL fixtures or SYNTHETIC ones built from them by
tests/unit/plugins/module_utils/envoy_synthetic.py. The ad-hoc runs and one
ansible-playbook run holding all failure cases start together (each Ansible
start-up costs ~2 s). The whole bad-input corpus also runs through main() in
test_istio_proxy_config_main.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
UTILS_TESTS = os.path.join(ROOT, "tests", "unit", "plugins", "module_utils")
BAD = os.path.join(ROOT, "tests", "unit", "bad_input", "config_dumps")
MODULE = "homelab.istio_egress.istio_proxy_config"

sys.path.insert(0, UTILS_TESTS)
syn = importlib.import_module("envoy_synthetic")

sys.path.insert(0, os.path.join(ROOT, "tests", "unit"))
from ansible_env import ansible_env, traceback_keys


def _shell_quote(arg):
    return "'" + arg.replace("'", "'\\''") + "'"


def start(argv):
    """Start ``argv`` (an ansible command) with the Ansible of the venv running
    the tests and *this* tree as homelab.istio_egress (tests/unit/ansible_env.py:
    a private collections path, so the tests may run from a copy, as
    ansible-test does, or from the installed collection)."""
    cmd = " ".join(_shell_quote(a) for a in argv)
    return subprocess.Popen(["bash", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, cwd=ROOT, env=ansible_env())


def finish(proc):
    out, err = proc.communicate(timeout=300)
    return {"rc": proc.returncode, "stdout": out, "stderr": err, "json": json.loads(out) if out.strip() else None}


def adhoc(args, check=False):
    argv = ["ansible", "localhost", "-m", MODULE, "-a", args]
    if check:
        argv.append("--check")
    return start(argv)


def task_result(run, index=0):
    return run["json"]["plays"][0]["tasks"][index]["hosts"]["localhost"]


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dumps")
    return {
        "via": syn.write(syn.sidecar_via_gateway(), str(tmp / "synthetic-sidecar-via-gateway.json")),
        "router": syn.write(syn.router_hop2(), str(tmp / "synthetic-router-hop2.json")),
        "registry_only": os.path.join(syn.FIXTURES, syn.SIDECAR_REGISTRY_ONLY),
    }


# Failures run as the tasks of one playbook: one Ansible start-up for all of them.
FAILURES = [
    ("bad_port", {"src": "@via", "host": "httpbin.org", "port": 70000},
     "port must be between 1 and 65535, got 70000"),
    ("two_sources", {"src": "@via", "pod": "sleep", "namespace": "demo"},
     "parameters are mutually exclusive: src|pod"),
    ("empty_host", {"src": "@via", "host": ""}, "host must not be empty"),
    ("pod_without_namespace", {"pod": "sleep"}, "missing parameter(s) required by 'pod': namespace"),
    ("bad_kubeconfig", {"pod": "sleep", "namespace": "demo", "kubeconfig": "/nonexistent/kubeconfig",
                        "host": "httpbin.org"}, "could not load kubeconfig /nonexistent/kubeconfig"),
    ("missing_src", {"src": "/nonexistent/dump.json"}, "cannot read src /nonexistent/dump.json"),
]


# The whole corpus runs through main() in test_istio_proxy_config_main.py; these go through the CLI too.
CORPUS_VIA_CLI = ["binary-garbage.bin", "non-utf8-latin1.json", "truncated-real-1.1.1.json",
                  "wrong-shape-no-configs.json"]


@pytest.fixture(scope="module")
def all_runs(dumps, tmp_path_factory):
    with open(os.path.join(BAD, "cases.json")) as f:
        corpus = json.load(f)["cases"]
    tasks = []
    for name, args, _fragment in FAILURES:
        args = {k: (dumps["via"] if v == "@via" else v) for k, v in args.items()}
        tasks.append({"name": name, MODULE: args, "ignore_errors": True})
    tasks.append({"name": "corpus", MODULE: {"src": "%s/{{ item }}" % BAD, "host": "httpbin.org"},
                  "loop": CORPUS_VIA_CLI, "ignore_errors": True})
    playbook = tmp_path_factory.mktemp("play") / "failures.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    procs = {
        "via": adhoc("src=%s host=httpbin.org" % dumps["via"], check=True),
        "registry_only": adhoc("src=%s host=httpbin.org include_raw=true" % dumps["registry_only"]),
        "router": adhoc("src=%s host=httpbin.org" % dumps["router"]),
        # Implicit localhost: the module runs with the controller's Python, as in the ad-hoc runs.
        "failures": start(["ansible-playbook", str(playbook)]),
    }
    runs = {name: finish(proc) for name, proc in procs.items()}
    for run in runs.values():
        assert "Traceback" not in run["stdout"] and "Traceback" not in run["stderr"]
    play = runs.pop("failures")
    results = {name: task_result(play, i) for i, (name, _a, _f) in enumerate(FAILURES)}
    return runs, (results, task_result(play, len(FAILURES))["results"], corpus)


@pytest.fixture(scope="module")
def runs(all_runs):
    return all_runs[0]


@pytest.fixture(scope="module")
def failures(all_runs):
    return all_runs[1]


def assert_clean_failure(result, fragment):
    assert result.get("failed") is True, result
    assert fragment in result["msg"], result["msg"]
    assert traceback_keys(result) == [], result
    assert result.get("changed") in (False, None)


def test_sidecar_via_gateway_in_check_mode(runs):
    """SYNTHETIC dump (real 1.1.1 sidecar + SNI chain to the egress gateway)."""
    result = task_result(runs["via"])
    assert runs["via"]["rc"] == 0 and result["changed"] is False and "failed" not in result
    dest = result["destination"]
    assert dest["via_egress_gateway"] is True and dest["matched"] is True and dest["protocol"] == "tls"
    assert dest["listener"] == "0.0.0.0_443"
    assert dest["cluster"] == "outbound|443|httpbin|istio-egressgateway.istio-system.svc.cluster.local"
    assert dest["evidence"].startswith("listener 0.0.0.0_443 filter chain SNI httpbin.org \u2192 tcp_proxy ")
    assert result["proxy"]["istio_version"] == "1.1.1" and result["proxy"]["type"] == "sidecar"
    assert result["outbound_traffic_policy"]["mode"] == "ALLOW_ANY"
    assert result["source"] == "file" and "raw" not in result


def test_real_registry_only_sidecar(runs):
    """REAL 1.0-dev sidecar dump: REGISTRY_ONLY, httpbin.org is blackholed."""
    result = task_result(runs["registry_only"])
    assert result["changed"] is False
    assert result["outbound_traffic_policy"]["mode"] == "REGISTRY_ONLY"
    dest = result["destination"]
    assert dest["matched"] is False and dest["via_egress_gateway"] is False
    assert dest["cluster"] == "BlackHoleCluster"
    assert any(lst["name"] == "10.43.245.70_443" for lst in result["listeners"])
    assert len(result["clusters"]) == 80
    assert [c["@type"].rsplit(".", 1)[1] for c in result["raw"]["configs"]] == [
        "BootstrapConfigDump", "ClustersConfigDump", "ListenersConfigDump", "RoutesConfigDump"]


def test_router_hop2(runs):
    """SYNTHETIC dump (real 1.3.0 gateway + SNI passthrough chain)."""
    dest = task_result(runs["router"])["destination"]
    assert dest["hop"] == 2 and dest["cluster"] == "outbound|443||httpbin.org" and dest["direct"] is True


@pytest.mark.parametrize("name,fragment", [(n, f) for n, _a, f in FAILURES])
def test_argument_and_input_errors(failures, name, fragment):
    assert_clean_failure(failures[0][name], fragment)


def test_bad_input_corpus_through_ansible(failures):
    """Corpus files fail with their own sentence, prefixed by the file, and no traceback."""
    _results, items, corpus = failures
    assert [i["item"] for i in items] == CORPUS_VIA_CLI
    for item in items:
        assert_clean_failure(item, corpus[item["item"]])
        assert item["msg"].startswith("file %s/%s: the " % (BAD, item["item"]))


def test_ansible_doc():
    run = start(["ansible-doc", "-j", MODULE])
    out, _err = run.communicate(timeout=120)
    doc = json.loads(out)[MODULE]
    assert run.returncode == 0
    assert doc["doc"]["attributes"]["check_mode"]["support"] == "full"
    assert "via_egress_gateway" in doc["examples"]
    assert set(doc["return"]) >= {"proxy", "clusters", "listeners", "routes", "outbound_traffic_policy",
                                  "destination", "source", "cmd", "raw", "config_types"}
    assert doc["doc"]["options"]["port"]["default"] == 443
