# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the benchmark tooling itself (fast; run with `python -m pytest benchmarks`).

The figures in docs/dev/benchmarks.md are only worth something if the synthetic
inputs are what they claim (real lines, varied only in timestamps, addresses
and hosts; the host in exactly 1 %; a grown dump the module and istioctl both
read) and if the harness's BENCH lines and table say what was measured.
"""

import json
import os
import re
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import benchlib
import gen_access_log
import gen_config_dump
import harness

IP = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z")


def _normalise(line, hosts):
    line = TS.sub("TS", line)
    line = IP.sub("IP", line)
    for host in sorted(hosts, key=len, reverse=True):
        line = line.replace(host, "HOST")
    return line


def test_generated_log_lines_are_real_lines_varied(tmp_path):
    out = tmp_path / "a.log"
    hits = gen_access_log.generate(str(out), 5000, "httpbin.org", percent=1.0, seed=7)
    assert hits == 50
    real_lines, real_hosts = [], set()
    for path in gen_access_log.fixture_dirs():
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    real_lines.append(line.rstrip("\n"))
                    real_hosts.update(h for h in gen_access_log.EXT_HOST.findall(line)
                                      if h not in gen_access_log.NOT_TRAFFIC_HOSTS)
    generated = out.read_text(encoding="utf-8").splitlines()
    assert len(generated) == 5000
    pool = set(re.findall(r"api-\d{4}\.ext\d\d\.example\.net", out.read_text(encoding="utf-8")))
    hosts = real_hosts | pool | {"httpbin.org"}
    allowed = {_normalise(line, hosts) for line in real_lines}
    for line in generated:
        assert _normalise(line, hosts) in allowed, f"not a varied real line: {line}"
    assert sum("httpbin.org" in line for line in generated) == 50
    assert "SYNTHETIC" in (tmp_path / "a.log.README").read_text(encoding="utf-8")


def test_grown_dump_routes_every_added_host_through_the_gateway(tmp_path):
    src, _kind = gen_config_dump.pick_source()
    out = tmp_path / "d.json"
    info = gen_config_dump.grow(src, str(out), 1.0)
    assert info["services"] > 0
    from ansible_collections.homelab.istio_egress.plugins.module_utils import envoy_config

    facts = envoy_config.analyse_config_dump(out.read_bytes(), host="svc-00000.ext00.example.net")
    dest = facts["destination"]
    assert dest["matched"] and dest["cluster_found"]
    if info["mode"] == "sni-chain":
        assert dest["via_egress_gateway"], dest["evidence"]
    with open(out, encoding="utf-8") as handle:
        kinds = [c["@type"].rsplit(".", 1)[-1] for c in json.load(handle)["configs"]]
    assert "SecretsConfigDump" in kinds
    assert "SYNTHETIC" in (tmp_path / "d.json.README").read_text(encoding="utf-8")


def test_bench_lines_parse_and_malformed_ones_do_not():
    line = benchlib.bench_line("x_vs_y", 1.234, 3, "grep -c h on the same file")
    assert line == "BENCH x_vs_y ratio=1.23 target=3 baseline=grep -c h on the same file"
    assert harness.parse_bench(line)["ratio"] == "1.23"
    assert harness.parse_bench("BENCH x ratio=n/a target=1 baseline=istioctl")["ratio"] == "n/a"
    assert harness.parse_bench("BENCH x ratio=fast target=1 baseline=y") is None
    assert harness.parse_bench("BENCH x ratio=1.0 baseline=y") is None
    with pytest.raises(ValueError):
        benchlib.bench_line("two words", 1, 1, "b")


def test_table_marks_missed_and_not_run_with_reason():
    results = [harness.parse_bench(x) for x in (
        "BENCH a ratio=3.31 target=3 baseline=grep",
        "BENCH b ratio=0.23 target=1 baseline=istioctl",
        "BENCH c ratio=n/a target=1.5 baseline=manual")]
    notes = {}
    harness.note_of("# a spread: min=1.70 max=4.07 n=5", notes)
    harness.note_of("# c skipped: plane not running", notes)
    rows = harness.table(results, notes).splitlines()
    assert "**no**" in rows[2] and "min=1.70 max=4.07 n=5" in rows[2]
    assert rows[3].endswith("| yes |")
    assert "not run: plane not running" in rows[4]
    assert harness.missed(results[0]) and not harness.missed(results[1]) and not harness.missed(results[2])


def test_write_results_replaces_only_the_block(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("intro\n<!-- BEGIN RESULTS (x) -->\nold\n<!-- END RESULTS -->\noutro\n", encoding="utf-8")
    log = tmp_path / "run.log"
    log.write_text("machine: nproc=2\nBENCH a ratio=1.00 target=2 baseline=b\n", encoding="utf-8")
    assert harness.main(["--table-from", str(log), "--into", str(doc)]) == 0
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("intro\n<!-- BEGIN RESULTS (x) -->\n| benchmark")
    assert "old" not in text and text.endswith("<!-- END RESULTS -->\noutro\n")
    assert "machine: nproc=2" in text
