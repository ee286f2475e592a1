# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark 1: egress_log_assert's pure functions on 1,000,000 access-log lines.

What the module does with `src=<file> host=<host>`: stream the file
(`access_log.file_blocks`) into `access_log.assess` (parse, classify the hop
of each line with the host, filter host:port at the gateway hop, judge the
flags, keep bounded samples). Measured side by side on the same
SYNTHETIC log (real fixture lines with varied timestamps, addresses and hosts,
the host in 1 % of the lines; see gen_access_log.py):

- wall time against `grep -c HOST FILE` (LC_ALL=C), both as processes
  (target <= 3x): what a person would type instead of the module;
- peak memory (ru_maxrss of a fresh process) at N/10 lines against N lines
  (target <= 1.2x, i.e. flat: the module streams; a reader that held the
  file would grow by the file's size, 25 MiB -> 250 MiB).

Each figure is the median of BENCH_RUNS ratios of runs made back to back
(module, then baseline), with their min/max: the machine is shared.

Sizes: BENCH_LOG_LINES (default 1,000,000; 100,000 with BENCH_QUICK=1);
the memory comparison uses BENCH_LOG_LINES/10 as its small size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import benchlib
import gen_access_log

HOST = os.environ.get("BENCH_HOST", "httpbin.org")

PROBE = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from ansible_collections.homelab.istio_egress.plugins.module_utils import access_log
rss_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t1 = time.perf_counter()
path, host = sys.argv[1], sys.argv[2]
reader = getattr(access_log, "file_blocks", None) or access_log.file_chunks
facts = access_log.assess([(path, reader(path))], host, port=443, expect="present", min_count=1)
t2 = time.perf_counter()
print(json.dumps({"seconds": t2 - t1, "import_seconds": t1 - t0,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "maxrss_after_import_kib": rss_import,
                  "count": facts["count"], "lines_total": facts["lines_total"],
                  "lines_unparsed": facts["lines_unparsed"], "passed": facts["passed"],
                  "flags": facts["response_flags"]}))
"""


def prepare_log(lines):
    out = benchlib.ensure_out()
    path = os.path.join(out, f"access-synthetic-{lines}.log")
    sources = gen_access_log.fixture_dirs()
    stamp = json.dumps({"lines": lines, "host": HOST, "sources": [
        [p, os.path.getmtime(p)] for p in sources], "generator": os.path.getmtime(gen_access_log.__file__)})
    stamp_path = path + ".stamp"
    if os.path.exists(path) and os.path.exists(stamp_path):
        with open(stamp_path, encoding="utf-8") as handle:
            if handle.read() == stamp:
                return path, None
    start = time.perf_counter()
    hits = gen_access_log.generate(path, lines, HOST, percent=1.0)
    took = time.perf_counter() - start
    with open(stamp_path, "w", encoding="utf-8") as handle:
        handle.write(stamp)
    return path, (hits, took)


def grep_count(path):
    env = dict(os.environ, LC_ALL="C")
    start = time.perf_counter()
    proc = subprocess.run(["grep", "-c", HOST, path], capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"grep -c {HOST} {path} exited {proc.returncode}: {proc.stderr.decode().strip()}")
    return elapsed, int(proc.stdout.strip() or 0)


def probe(path, env):
    start = time.perf_counter()
    res = benchlib.run_probe([sys.executable, "-c", PROBE, path, HOST], env=env)
    res["wall"] = time.perf_counter() - start
    return res


def main():
    quick = benchlib.quick()
    lines = benchlib.env_int("BENCH_LOG_LINES", 100_000 if quick else 1_000_000)
    small = max(1000, lines // 10)
    runs = benchlib.runs()
    env = benchlib.child_env()
    print(f"bench 1: egress_log_assert pure functions on {lines} lines (memory also at {small}), "
          f"host {HOST} in 1 %, runs={runs}")

    big_path, made = prepare_log(lines)
    small_path, _made_small = prepare_log(small)
    size = os.path.getsize(big_path)
    benchlib.note(f"log: {big_path} ({size / 1048576:.0f} MiB, SYNTHETIC from the real fixture lines; "
                  f"see {os.path.basename(big_path)}.README)")
    if made:
        benchlib.note(f"generated: {made[0]} lines carry {HOST} ({made[1]:.1f}s)")

    grep_s, mod_wall, mod_inner = [], [], []
    grep_n = last = None
    for _run in range(runs):
        elapsed, grep_n = grep_count(big_path)
        grep_s.append(elapsed)
        last = probe(big_path, env)
        mod_wall.append(last["wall"])
        mod_inner.append(last["seconds"])
    benchlib.note(f"grep -c {HOST}: {grep_n} lines; module: {last['count']} entries for {HOST}:443 "
                  f"(of {last['lines_total']} lines, {last['lines_unparsed']} unparsed), "
                  f"flags {last['flags']}")
    if not 0 < last["count"] <= grep_n:
        raise RuntimeError(f"the module found {last['count']} entries for {HOST}:443 but grep found "
                           f"{grep_n} lines with {HOST}: the benchmark would time a wrong answer")
    st_grep, st_wall = benchlib.stats(grep_s), benchlib.stats(mod_wall)
    benchlib.note(benchlib.fmt_stats(f"grep -c {HOST} (process)", st_grep))
    benchlib.note(benchlib.fmt_stats("module probe (process: python start, import, assess)", st_wall))
    benchlib.note(benchlib.fmt_stats("  of which file_blocks + assess", benchlib.stats(mod_inner)))
    benchlib.note(f"throughput: {lines / st_wall['median'] / 1e6:.2f} M lines/s, "
                  f"{size / st_wall['median'] / 1048576:.0f} MiB/s")

    rss_small, rss_big = [], []
    for _run in range(runs):
        rss_small.append(probe(small_path, env)["maxrss_kib"] / 1024.0)
        rss_big.append(probe(big_path, env)["maxrss_kib"] / 1024.0)
    st_small, st_big = benchlib.stats(rss_small), benchlib.stats(rss_big)
    benchlib.note(benchlib.fmt_stats(f"peak RSS at {small} lines", st_small, unit=" MiB"))
    benchlib.note(benchlib.fmt_stats(f"peak RSS at {lines} lines", st_big, unit=" MiB"))
    benchlib.note(f"interpreter + module import alone: {last['maxrss_after_import_kib'] / 1024.0:.1f} MiB")

    r_time = benchlib.paired_ratio(mod_wall, grep_s)
    r_mem = benchlib.paired_ratio(rss_big, rss_small)
    benchlib.note(benchlib.fmt_ratio_stats("module / grep", r_time))
    benchlib.note(benchlib.fmt_ratio_stats(f"peak RSS {lines} / {small} lines", r_mem))

    benchlib.emit("log_assert_vs_grep", r_time["median"], 3,
                  f"grep -c {HOST} on the same {lines}-line file", spread=r_time)
    benchlib.emit("log_assert_memory_growth", r_mem["median"], 1.2,
                  f"peak RSS at {small} lines (vs {lines} lines)", spread=r_mem)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, ValueError) as exc:
        print(f"bench_access_log: {exc}", file=sys.stderr)
        sys.exit(1)
