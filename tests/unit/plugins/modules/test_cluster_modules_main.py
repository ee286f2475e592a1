# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cluster_read and cluster_apply main() in-process: the module side both share
(plugins/module_utils/kube_module.py run_module). The engines' own tests are
tests/unit/plugins/module_utils/test_kube_rest*.py; the module on a real target is
tests/integration (the local_relay connection)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from test_istio_proxy_config_main import module_args

from ansible_collections.homelab.istio_egress.plugins.modules import cluster_apply, cluster_read

# No request is made: an empty query set, or input refused before connecting. Port 9 (discard) is never asked.
CONN = {"api_host": "http://127.0.0.1:9", "api_key": "synthetic-token-1f3a", "timeout": 5}


def run_main(capsys, mod, args):
    with module_args(args), pytest.raises(SystemExit) as exit_:
        mod.main()
    return exit_.value.code, json.loads(capsys.readouterr().out)


def test_read_returns_query_results_not_results(capsys):
    code, out = run_main(capsys, cluster_read, dict(CONN, queries={}))
    assert code == 0 and out["query_results"] == {} and "results" not in out
    assert out["in_controller"] is False and out["changed"] is False and out["requests"] == 0
    assert out["connection"]["server"] == "http://127.0.0.1:9"


def test_read_bad_input_fails_with_one_sentence(capsys):
    code, out = run_main(capsys, cluster_read, dict(CONN, queries={"pods": {"kind": "Pod"}}))
    assert code == 1 and out["failed"] is True and out["in_controller"] is False
    assert "pods" in out["msg"] and "api_version" in out["msg"]


def test_apply_bad_input_fails_with_one_sentence(capsys):
    code, out = run_main(capsys, cluster_apply, dict(CONN, objects=[{"kind": "Namespace"}]))
    assert code == 1 and out["failed"] is True and out["in_controller"] is False and out["changed"] is False
    assert "apiVersion" in out["msg"]


@pytest.mark.parametrize("mod,args,modes", [
    (cluster_read, {"queries": {}}, {}),
    (cluster_apply, {"objects": [], "_ansible_check_mode": True, "_ansible_diff": True},
     {"check_mode": True, "diff": True}),
    (cluster_apply, {"objects": []}, {"check_mode": False, "diff": False}),
], ids=["read", "apply-check-diff", "apply"])
def test_the_engine_gets_the_params_and_only_apply_gets_the_modes(capsys, monkeypatch, mod, args, modes):
    seen = []

    def call(params, **kwargs):
        seen.append((params, kwargs))
        return {"changed": False, "failed": True, "msg": "engine says no", "cause": "c", "in_controller": False}

    monkeypatch.setattr(mod, "call", call)
    code, out = run_main(capsys, mod, dict(CONN, **args))
    assert code == 1 and out["msg"] == "engine says no" and out["cause"] == "c" and "failed" in out
    (params, kwargs), = seen
    assert kwargs == dict(modes, in_controller=False)
    assert params["api_host"] == CONN["api_host"] and params["timeout"] == 5
