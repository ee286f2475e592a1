# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""egress_log_assert through Ansible itself (``ansible localhost -m`` and one
``ansible-playbook``, with the JSON callback), on the REAL access-log fixtures.

Each Ansible start costs ~2 s, so the independent runs start together and the
argument checks, in-memory inputs and the whole bad-input corpus go through
one playbook. Live reads: tests/unit/plugins/modules/test_egress_log_assert_live.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "module_utils"))
import access_log_corpus as corpus  # the bad-input corpus, some files made at test time

ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
LOGS = os.path.join(ROOT, "tests", "unit", "plugins", "module_utils", "fixtures", "access_logs")
BAD = corpus.BAD
MODULE = "homelab.istio_egress.egress_log_assert"
sys.path.insert(0, os.path.join(ROOT, "tests", "unit"))
from ansible_env import ansible_env, traceback_keys

JSON_ENV = "ANSIBLE_PIPELINING=1"
# Through Ansible: the corpus files that must fail, and one damaged log that must
# still give facts; every file's facts are checked in test_access_log.py.
CORPUS_VIA_ANSIBLE = ("empty.txt", "binary-garbage.bin", "gzip-compressed.log.gz", "non-utf8-latin1.txt",
                      "truncated-real-2024.txt", "agent-lines-only.txt")

GW = os.path.join(LOGS, "istioio-egress-gateway-snips-2024.log")
SNI_BLOG = os.path.join(LOGS, "istioio-blog-egress-sni-sidecar.log")
UFURX = os.path.join(LOGS, "gh-istio-56356-sidecar-uf-urx-inboundpassthrough.log")
NR = os.path.join(LOGS, "gh-envoy-15698-istio-1.9.1-ingressgw-nr.log")
FACT_KEYS = {"passed", "complete", "reason", "hop", "count", "entries", "pods", "response_flags", "lines_total",
             "lines_unparsed", "lines_unparsed_with_host", "unparsed_sample", "uncertain", "uncertain_sample",
             "other_hops", "other_clients", "other_hosts", "msg"}


def pod_facts(lines, matches):
    return {"lines": lines, "matches": matches, "read": True, "error": None, "complete": True, "ready": None,
            "phase": None}


def _quote(arg):
    return "'" + arg.replace("'", "'\\''") + "'"


def start(argv, env=""):
    """Start an ansible command (tests/unit/ansible_env.py: no hack/ needed)."""
    cmd = "%s %s %s" % (JSON_ENV, env, " ".join(_quote(a) for a in argv))
    return subprocess.Popen(["bash", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, cwd=ROOT, env=ansible_env())


def finish(proc):
    out, err = proc.communicate(timeout=300)
    assert "Traceback" not in out and "Traceback" not in err, out + err
    return {"rc": proc.returncode, "stdout": out, "stderr": err, "json": json.loads(out)}


def adhoc(args, check=False):
    argv = ["ansible", "localhost", "-m", MODULE, "-a", args]
    return start(argv + (["--check"] if check else []))


def task_result(run, index=0):
    return run["json"]["plays"][0]["tasks"][index]["hosts"]["localhost"]


def by_name(run):
    """Task name -> localhost result of a playbook run."""
    tasks = run["json"]["plays"][0]["tasks"]
    return {t["task"]["name"]: t["hosts"]["localhost"] for t in tasks}


def no_traceback(result):
    assert traceback_keys(result) == [], result


def bad(name, args):
    return {"name": name, MODULE: args, "ignore_errors": True}


def playbook_tasks(huge_path, corpus_dir):
    with open(GW, encoding="utf-8") as handle:
        gw_text = handle.read()
    return [
        bad("port 0", {"src": GW, "host": "edition.cnn.com", "port": 0}),
        bad("empty host", {"src": GW, "host": ""}),
        bad("two sources", {"src": GW, "content": "x", "host": "edition.cnn.com"}),
        bad("pod and lines", {"pod": "gw-0", "lines": ["x"], "host": "edition.cnn.com"}),
        bad("bad since_time", {"src": GW, "host": "edition.cnn.com", "since_time": "yesterday"}),
        bad("bad expect", {"src": GW, "host": "edition.cnn.com", "expect": "maybe"}),
        bad("missing src", {"src": os.path.join(BAD, "no-such-file.log"), "host": "edition.cnn.com"}),
        bad("huge line", {"src": huge_path, "host": "edition.cnn.com"}),
        {"name": "content", MODULE: {"content": gw_text, "host": "edition.cnn.com",
                                     "since_time": "2024-01-10T00:00:00+00:00"}},
        {"name": "lines absent", MODULE: {"lines": gw_text.splitlines(), "host": "httpbin.org",
                                          "expect": "absent"}},
        bad("lines absent fails", {"lines": gw_text.splitlines(), "host": "edition.cnn.com", "port": 80,
                                   "expect": "absent"}),
        bad("bad hop", {"src": GW, "host": "edition.cnn.com", "hop": "sidecar"}),
        bad("bad client_ip", {"src": GW, "host": "edition.cnn.com", "client_ip": "10.0.0"}),
        bad("timeout 0", {"src": GW, "host": "edition.cnn.com", "timeout": 0}),
        bad("max_bytes 0", {"src": GW, "host": "edition.cnn.com", "max_bytes": 0}),
        # issue 13 point 4: the facts without failing the task
        {"name": "facts only", MODULE: {"src": SNI_BLOG, "host": "en.wikipedia.org", "fail_on_mismatch": False}},
        {"name": "facts only absent", MODULE: {"lines": gw_text.splitlines(), "host": "edition.cnn.com",
                                               "expect": "absent", "fail_on_mismatch": False}},
        {"name": "hop 1 at the client", MODULE: {"src": SNI_BLOG, "host": "en.wikipedia.org", "hop": "client"}},
        {"name": "corpus", MODULE: {"src": corpus_dir + "/{{ item }}", "host": "edition.cnn.com"},
         "loop": list(CORPUS_VIA_ANSIBLE), "ignore_errors": True},
    ]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("egress_log_assert")
    huge = tmp / "huge-line.txt"
    with open(str(GW), "rb") as src, open(str(huge), "wb") as out:
        out.write(src.read())
        out.write(b"[" + b"x" * (3 * 1024 * 1024) + b"]\n")
    corpus_dir = tmp / "corpus"
    corpus_dir.mkdir()
    corpus.materialize(corpus_dir)
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": playbook_tasks(str(huge), str(corpus_dir))}]
    playbook = tmp / "play.yml"
    playbook.write_text(json.dumps(play))  # JSON is YAML
    procs = {
        "pass": adhoc("src=%s host=edition.cnn.com" % GW),
        "fail": adhoc("src=%s host=httpbin.org since_time=2023-01-01T00:00:00Z max_entries=5" % SNI_BLOG),
        "check": adhoc("src=%s host=api.github.com allowed_response_flags=-,UF,URX min_count=4 hop=any" % UFURX,
                       check=True),
        "play": start(["ansible-playbook", str(playbook)]),
    }
    return {name: finish(proc) for name, proc in procs.items()}


def test_passing_check_returns_the_real_entry(runs):
    assert runs["pass"]["rc"] == 0
    res = task_result(runs["pass"])
    assert set(res) >= FACT_KEYS
    assert res["changed"] is False and res["passed"] is True and res["count"] == 1
    entry = res["entries"][0]
    assert entry["requested_server_name"] == "edition.cnn.com"
    assert entry["upstream_cluster"] == "outbound|443||edition.cnn.com"
    assert (entry["response_code"], entry["response_flags"], entry["bytes_sent"]) == (0, "-", 2504306)
    assert entry["start_time"] == "2024-01-11T21:09:42.835Z" and entry["pod"] == GW
    assert entry["hop"] == "gateway"
    assert res["pods"] == {GW: pod_facts(2, 1)}
    assert res["complete"] is True and res["reason"] is None and res["hop"] == "gateway"
    assert res["other_hosts"] == []  # a passing check skips the diagnosis
    assert res["msg"] == ("1 entry for edition.cnn.com:443 at the gateway hop in %s (expected at least 1; "
                          "flags: - \u00d71)" % GW)


def test_failed_expectation_fails_with_msg_and_all_facts(runs):
    assert runs["fail"]["rc"] != 0
    res = task_result(runs["fail"])
    no_traceback(res)
    assert res["failed"] is True and res["changed"] is False
    assert set(res) >= FACT_KEYS
    assert res["passed"] is False and res["count"] == 0 and res["entries"] == []
    assert res["msg"] == ("0 entries for httpbin.org:443 at the gateway hop in %s since 2023-01-01T00:00:00Z (expected at least 1); "
                          "seen: cloud.ibm.com \u00d71, de.wikipedia.org \u00d71, en.wikipedia.org \u00d71" % SNI_BLOG)
    assert res["lines_total"] == 3 and res["lines_unparsed"] == 0
    assert {"host": "en.wikipedia.org", "count": 1} in res["other_hosts"]


def test_check_mode_and_allowed_flags(runs):
    assert runs["check"]["rc"] == 0
    res = task_result(runs["check"])
    assert res["passed"] is True and res["changed"] is False and res["count"] == 4
    assert res["response_flags"] == {"UF,URX": 4}
    assert [e["duration_ms"] for e in res["entries"]] == [9995, 9999, 9994, 9999]
    assert {e["upstream_cluster"] for e in res["entries"]} == {"InboundPassthroughCluster"}
    assert {e["hop"] for e in res["entries"]} == {"inbound"}


@pytest.mark.parametrize("task,fragment", [
    ("port 0", "port 0 is outside 1-65535"),
    ("empty host", "host must be a non-empty host name"),
    ("two sources", "parameters are mutually exclusive: src|content|lines|pod"),
    ("pod and lines", "parameters are mutually exclusive: src|content|lines|pod"),
    ("bad since_time", "since_time 'yesterday' is not an RFC 3339 timestamp"),
    ("bad expect", "value of expect must be one of: present, absent"),
    ("missing src", "cannot read src %s: No such file or directory" % os.path.join(BAD, "no-such-file.log")),
    ("huge line", "longer than 1048576 bytes"),
    ("lines absent fails", ("1 entry for edition.cnn.com:80 at the gateway hop in lines (expected none; "
                            "flags: - \u00d71)")),
    ("bad hop", "value of hop must be one of: gateway, client, any, got: sidecar"),
    ("bad client_ip", "client_ip '10.0.0' is not an IP address"),
    ("timeout 0", "timeout must be at least 1 second"),
    ("max_bytes 0", "max_bytes must be at least 1"),
])
def test_rejected_inputs_fail_cleanly(runs, task, fragment):
    res = by_name(runs["play"])[task]
    no_traceback(res)
    assert res["failed"] is True
    assert fragment in res["msg"]


def test_content_and_lines_inputs(runs):
    results = by_name(runs["play"])
    content = results["content"]
    assert content["passed"] is True and content["count"] == 1
    assert content["entries"][0]["pod"] == "content"
    assert content["msg"].startswith("1 entry for edition.cnn.com:443 at the gateway hop in content since "
                                     "2024-01-10T00:00:00+00:00")
    absent = results["lines absent"]
    assert absent["passed"] is True and absent["count"] == 0 and absent["pods"] == {"lines": pod_facts(2, 0)}
    assert "as expected (absent)" in absent["msg"]


def test_bad_input_corpus_through_ansible(runs):
    cases = corpus.cases()
    results = {r["item"]: r for r in by_name(runs["play"])["corpus"]["results"]}
    assert sorted(results) == sorted(CORPUS_VIA_ANSIBLE)
    for name, res in results.items():
        case = cases[name]
        no_traceback(res)
        if "error" in case:
            assert res["failed"] is True and case["error"] in res["msg"], (name, res["msg"])
            continue
        if case.get("host"):
            continue  # the playbook asks for edition.cnn.com everywhere; facts vary with the host
        assert set(res) >= FACT_KEYS, name
        for key, value in case["result"].items():
            if key == "msg":
                assert value in res["msg"], name
            else:
                assert res[key] == value, (name, key)


def test_fail_on_mismatch_false_returns_the_facts(runs):
    results = by_name(runs["play"])
    res = results["facts only"]  # hop 1 lines only: the gateway hop has none
    assert "failed" not in res or res["failed"] is False
    assert res["passed"] is False and res["count"] == 0 and res["other_hops"] == {"client": 1}
    assert "from other hops: client" in res["msg"]
    res = results["facts only absent"]
    assert res.get("failed") is not True and res["passed"] is False and res["count"] == 1
    res = results["hop 1 at the client"]
    assert res["passed"] is True and res["entries"][0]["hop"] == "client"
