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


# --- count lines (issue 15: module processes per run) --------------------------------------

def test_count_lines_parse_and_are_held_against_their_target():
    line = benchlib.count_line("site_module_processes_first", 43, 12, "module processes of one run")
    assert line == "BENCH site_module_processes_first count=43 target=12 baseline=module processes of one run"
    res = harness.parse_bench(line)
    assert (res["kind"], res["value"], res["count"], res["target"]) == ("count", "43", "43", "12")
    assert "ratio" not in res
    assert harness.format_bench(res) == line
    assert harness.missed(res)
    assert not harness.missed(harness.parse_bench("BENCH p count=12 target=12 baseline=b"))
    assert not harness.missed(harness.parse_bench("BENCH p count=n/a target=12 baseline=b"))
    # A count is a whole number: a fraction or a word is not a BENCH line.
    assert harness.parse_bench("BENCH p count=4.5 target=12 baseline=b") is None
    assert harness.parse_bench("BENCH p count=many target=12 baseline=b") is None
    ratio = harness.parse_bench("BENCH r ratio=1.50 target=2.5 baseline=b")
    assert (ratio["kind"], ratio["value"], ratio["ratio"]) == ("ratio", "1.50", "1.50")
    assert harness.format_bench(ratio) == "BENCH r ratio=1.50 target=2.5 baseline=b"


def test_count_line_refuses_what_is_not_a_count():
    for bad in (4.5, -1, "43", True):
        with pytest.raises(ValueError):
            benchlib.count_line("p", bad, 12, "b")
    for bad_target in (1.5, "1.5", "twelve", True):
        with pytest.raises(ValueError):
            benchlib.count_line("p", 3, bad_target, "b")
    assert benchlib.count_line("p", "n/a", "12", "b") == "BENCH p count=n/a target=12 baseline=b"
    assert benchlib.count_line("p", 0, 12, "b") == "BENCH p count=0 target=12 baseline=b"


def test_count_line_from_the_cli(capsys):
    assert benchlib._cli(["count", "p", "7", "12", "module", "processes"]) == 0
    assert capsys.readouterr().out == "BENCH p count=7 target=12 baseline=module processes\n"
    assert benchlib._cli(["count", "p", "7.5", "12", "b"]) == 2


def test_table_shows_counts_and_marks_a_missed_one():
    results = [harness.parse_bench(x) for x in (
        "BENCH a count=43 target=12 baseline=module processes",
        "BENCH b count=9 target=12 baseline=module processes",
        "BENCH c count=n/a target=12 baseline=module processes")]
    notes = {}
    harness.note_of("# c skipped: plane not running", notes)
    rows = harness.table(results, notes).splitlines()
    assert rows[2].startswith("| `a` | 43 (count) |") and rows[2].endswith("| **no** |")
    assert rows[3].startswith("| `b` | 9 (count) |") and rows[3].endswith("| yes |")
    assert "| n/a |" in rows[4] and "not run: plane not running" in rows[4]


def _fake_bench(tmp_path, monkeypatch, body):
    (tmp_path / "bench_fake.py").write_text(body, encoding="utf-8")
    monkeypatch.setattr(harness, "HERE", str(tmp_path))
    monkeypatch.setattr(benchlib, "OUT", str(tmp_path / "out"))


@pytest.mark.parametrize(("line", "strict_rc"), [
    ("BENCH fake count=43 target=12 baseline=module processes", 3),
    ("BENCH fake count=12 target=12 baseline=module processes", 0),
    ("BENCH fake ratio=2.60 target=2.5 baseline=manual", 3),
    ("BENCH fake count=n/a target=12 baseline=module processes", 0),
])
def test_strict_exit_follows_counts_and_ratios(tmp_path, monkeypatch, capsys, line, strict_rc):
    _fake_bench(tmp_path, monkeypatch, f"print({line!r})\n")
    assert harness.main([]) == 0
    assert harness.main(["--strict"]) == strict_rc
    assert capsys.readouterr().out.rstrip().endswith(line)  # the summary repeats the line as printed


# --- benchmark 3's profile helpers and naive playbook --------------------------------------

# Lines copied from a real run of site.yml on the local plane with
# ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks (2026-12-02), around its PLAY RECAP;
# the 12.34 s line is SYNTHETIC (made from a real one) to cover a time of 10 s or more, where
# the callback leaves only two dashes before the time.
PROFILE_OUTPUT = """\
TASK [homelab.istio_egress.egress_verify : Report - assemble the facts] ********
ok: [localhost]

PLAY RECAP *********************************************************************
localhost                  : ok=150  changed=9    unreachable=0    failed=0    skipped=33   rescued=0    ignored=0

Wednesday 02 December 2026  07:35:11 +0000 (0:00:00.121)       0:01:35.412 ****
===============================================================================
homelab.istio_egress.cluster_guard : Read the live objects - egress_routes -- 12.34s
homelab.istio_egress.egress_routes : Check the namespace of the objects exists --- 6.06s
homelab.istio_egress.egress_gateway : Install or upgrade release istio-egressgateway --- 4.17s
homelab.istio_egress.cluster_guard : Show the plan - egress_routes ------ 0.05s
Check the Kubernetes API answers ---------------------------------------- 0.06s
"""


def test_profile_summary_is_read_after_the_recap_only():
    import playbook_profile

    tasks = playbook_profile.parse_profile(PROFILE_OUTPUT)
    assert tasks == [
        ("homelab.istio_egress.cluster_guard : Read the live objects - egress_routes", 12.34),
        ("homelab.istio_egress.egress_routes : Check the namespace of the objects exists", 6.06),
        ("homelab.istio_egress.egress_gateway : Install or upgrade release istio-egressgateway", 4.17),
        ("homelab.istio_egress.cluster_guard : Show the plan - egress_routes", 0.05),
        ("Check the Kubernetes API answers", 0.06),
    ]
    assert playbook_profile.slowest(tasks, 2) == tasks[:2]
    assert playbook_profile.slowest(tasks, 5)[-1] == tasks[3]
    # Without the callback there is no summary; without a recap nothing is read.
    assert playbook_profile.parse_profile(PROFILE_OUTPUT.split("Wednesday", maxsplit=1)[0]) == []
    assert playbook_profile.parse_profile(PROFILE_OUTPUT.split("PLAY RECAP")[1]) == []


def test_shim_logs_each_run_and_runs_the_real_interpreter(tmp_path):
    import subprocess

    import playbook_profile

    log = tmp_path / "runs.log"
    shim = tmp_path / "python"
    shim.write_text(playbook_profile.shim_script(sys.executable, str(log)), encoding="utf-8")
    shim.chmod(0o755)
    module = tmp_path / "AnsiballZ_k8s_info.py"
    module.write_text("import sys; print('ran', sys.argv[1:])\n", encoding="utf-8")
    for _run in range(2):
        out = subprocess.run([str(shim), str(module), "x y"], capture_output=True, text=True, check=True)
        assert out.stdout == "ran ['x y']\n"
    subprocess.run([str(shim), "-c", "pass"], check=True)
    total, modules = playbook_profile.count_processes(log.read_text(encoding="utf-8"))
    assert total == 3
    assert modules == {"k8s_info": 2, playbook_profile.OTHER: 1}


def test_profile_markdown_lists_the_slowest_tasks_and_the_modules():
    import collections

    import playbook_profile

    tasks = playbook_profile.parse_profile(PROFILE_OUTPUT)
    text = playbook_profile.profile_markdown("t", [{
        "label": "site.yml first converge", "seconds": 95.4, "tasks": tasks, "processes": 43,
        "modules": collections.Counter({"k8s_info": 26, "command": 6})}], top=2)
    assert ("**site.yml first converge**: 95.4 s wall time, 5 tasks (their times add up to 22.7 s), "
            "43 module processes.") in text
    assert "Module processes by module: k8s_info 26, command 6." in text
    rows = [r for r in text.splitlines() if r.startswith("| ") and r[2].isdigit()]
    assert rows == ["| 1 | homelab.istio_egress.cluster_guard : Read the live objects - egress_routes | 12.34 |",
                    "| 2 | homelab.istio_egress.egress_routes : Check the namespace of the objects exists | 6.06 |"]


def test_naive_playbook_applies_the_manual_procedures_files_one_task_each():
    import yaml

    root = os.path.dirname(HERE)
    with open(os.path.join(HERE, "naive_site.yml"), encoding="utf-8") as handle:
        plays = yaml.safe_load(handle)
    with open(os.path.join(HERE, "bench_site.manual.bash"), encoding="utf-8") as handle:
        manual = handle.read()
    guide = os.path.join(root, "tests", "unit", "roles", "guide")
    tasks = plays[0]["tasks"]
    modules = [next(k for k in t if k.startswith("kubernetes.core.")) for t in tasks]
    assert modules == ["kubernetes.core.helm"] + ["kubernetes.core.k8s"] * (len(tasks) - 1)
    helm = tasks[0]["kubernetes.core.helm"]
    assert helm["wait"] is True and helm["values_files"] == ["{{ naive_guide_dir }}/values-egress-gateway.yaml"]
    srcs = [t["kubernetes.core.k8s"]["src"] for t in tasks[1:]]
    files = [s.replace("{{ naive_guide_dir }}", guide).replace("{{ playbook_dir }}", HERE) for s in srcs]
    assert all(os.path.isfile(f) for f in files), files
    # The same guide files as the manual procedure, each once, and the same Telemetry.
    guide_files = sorted(os.path.basename(f) for f in files if f.startswith(guide))
    assert guide_files == sorted(set(re.findall(r'\$GUIDE/([\w.-]+\.yaml)', manual)) - {"values-egress-gateway.yaml"})
    telemetry = [f for f in files if not f.startswith(guide)]
    with open(telemetry[0], encoding="utf-8") as handle:
        mine = yaml.safe_load(handle)
    theirs = yaml.safe_load(re.search(r"<<'EOF'\n(.*?)\nEOF", manual, re.DOTALL).group(1))
    assert telemetry == [os.path.join(HERE, "naive", "telemetry-access-log.yaml")] and mine == theirs
    # No checks: nothing but the apply tasks.
    assert not any(k.startswith(("ansible.builtin.assert", "kubernetes.core.k8s_info")) for t in tasks for k in t)
