# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark 2: istio_proxy_config's pure functions on a ~100 MB config dump.

What the module does with `src=<dump>`: read the file, then
`envoy_config.analyse_config_dump(data, host, port)` (decode, walk every
cluster/listener/route, find the destination of host:port). Measured side by
side, on the same synthetic dump (grown from a real one, see gen_config_dump.py):

- against a bare `json.loads(open(dump, "rb").read())` (target <= 1.5x): the
  price of the analysis on top of the decoding nobody can avoid. That is the
  fastest stdlib parse; `json.load` of a text-mode file is also printed, for
  reference (slower: the text layer decodes and translates newlines);
- against `istioctl proxy-config all --file <dump>` (target < 1.0x, i.e.
  faster), whole process wall time on both sides, when an istioctl binary is
  present ($ISTIOCTL, $HOMELAB_PLANE_BIN/istioctl, ~/.cache/homelab-plane/bin,
  PATH); otherwise ratio=n/a with the reason.

Each measurement is a fresh subprocess. Each figure is the median of
BENCH_RUNS ratios of runs made back to back, with their min/max (the machine
is shared; pairing cancels most of the load drift).
Size: BENCH_DUMP_MB (default 100; 10 with BENCH_QUICK=1).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import benchlib
import gen_config_dump

HOST = os.environ.get("BENCH_HOST", "httpbin.org")

# The baseline: a bare stdlib parse of the file's bytes. Printed for reference:
# json.load on a text-mode file (slower: the TextIOWrapper decodes and
# translates newlines) and json.loads with the cyclic GC off (the module turns
# it off while decoding: JSON builds no cycles, and a 100 MB dump otherwise
# triggers many useless collections), the best a stdlib parse can do.
PROBE_JSON = r"""
import gc, json, sys, time
if sys.argv[2] == "bytes-nogc":
    gc.disable()
t0 = time.perf_counter()
if sys.argv[2].startswith("bytes"):
    with open(sys.argv[1], "rb") as f:
        d = json.loads(f.read())
else:
    with open(sys.argv[1], encoding="utf-8") as f:
        d = json.load(f)
t1 = time.perf_counter()
print(json.dumps({"seconds": t1 - t0, "top_keys": len(d)}))
"""

PROBE_MODULE = r"""
import json, sys, time
t0 = time.perf_counter()
from ansible_collections.homelab.istio_egress.plugins.module_utils import envoy_config
t1 = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    data = f.read()
facts = envoy_config.analyse_config_dump(data, host=sys.argv[2], port=443)
t2 = time.perf_counter()
dest = facts.get("destination") or {}
print(json.dumps({"seconds": t2 - t1, "import_seconds": t1 - t0,
                  "clusters": len(facts.get("clusters") or []),
                  "listeners": len(facts.get("listeners") or []),
                  "matched": bool(dest.get("matched"))}))
"""


def find_istioctl():
    candidates = [os.environ.get("ISTIOCTL", "")]
    plane_bin = os.environ.get("HOMELAB_PLANE_BIN")
    if plane_bin:
        candidates.append(os.path.join(plane_bin, "istioctl"))
    candidates.append(os.path.expanduser("~/.cache/homelab-plane/bin/istioctl"))
    candidates.append(shutil.which("istioctl") or "")
    for cand in candidates:
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def istioctl_version(path):
    try:
        out = subprocess.run([path, "version", "--remote=false", "--short"], capture_output=True,
                             text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (out.stdout.strip() or out.stderr.strip() or "unknown").splitlines()[0]


def prepare_dump(mb):
    out = benchlib.ensure_out()
    src, kind = gen_config_dump.pick_source()
    path = os.path.join(out, f"config_dump-synthetic-{mb:g}MB.json")
    stamp = f"{src}:{os.path.getmtime(src):.0f}:{mb:g}:{os.path.getmtime(gen_config_dump.__file__):.0f}"
    stamp_path = path + ".stamp"
    if os.path.exists(path) and os.path.exists(stamp_path):
        with open(stamp_path, encoding="utf-8") as handle:
            if handle.read() == stamp:
                return path, src, kind, None
    info = gen_config_dump.grow(src, path, mb)
    with open(stamp_path, "w", encoding="utf-8") as handle:
        handle.write(stamp)
    return path, src, kind, info


def main():
    quick = benchlib.quick()
    mb = float(os.environ.get("BENCH_DUMP_MB") or (10 if quick else 100))
    runs = benchlib.runs()
    env = benchlib.child_env()
    py = sys.executable

    print(f"bench 2: istio_proxy_config pure functions on a {mb:g} MB synthetic dump, host {HOST}, runs={runs}")
    path, src, kind, info = prepare_dump(mb)
    size = os.path.getsize(path)
    benchlib.note(f"dump: {path} ({size / 1048576:.1f} MiB, SYNTHETIC, grown from {kind} "
                  f"{os.path.relpath(src, benchlib.ROOT)}; see {os.path.basename(path)}.README)")
    if info:
        benchlib.note(f"added {info['services']} external services ({info['mode']})")

    istioctl = find_istioctl()
    reason = None
    if istioctl is None:
        reason = ("no istioctl binary (looked at $ISTIOCTL, $HOMELAB_PLANE_BIN/istioctl, "
                  "~/.cache/homelab-plane/bin/istioctl, PATH); build the local plane (hack/plane) to get one")
    else:
        benchlib.note(f"istioctl: {istioctl} ({istioctl_version(istioctl)})")

    json_s, json_text_s, json_nogc_s, mod_s, mod_wall, ictl = [], [], [], [], [], []
    last = None
    for _run in range(runs):
        res = benchlib.run_probe([py, "-c", PROBE_JSON, path, "bytes"], env=env)
        json_s.append(res["seconds"])
        res = benchlib.run_probe([py, "-c", PROBE_JSON, path, "text"], env=env)
        json_text_s.append(res["seconds"])
        res = benchlib.run_probe([py, "-c", PROBE_JSON, path, "bytes-nogc"], env=env)
        json_nogc_s.append(res["seconds"])
        start = time.perf_counter()
        last = benchlib.run_probe([py, "-c", PROBE_MODULE, path, HOST], env=env)
        mod_wall.append(time.perf_counter() - start)
        mod_s.append(last["seconds"])
        if istioctl is not None and reason is None:
            try:
                elapsed, _proc = benchlib.time_cmd([istioctl, "proxy-config", "all", "--file", path])
                ictl.append(elapsed)
            except RuntimeError as exc:
                reason = (f"istioctl cannot read the dump grown from {os.path.basename(src)} ({exc}); "
                          "it needs a v3 dump with a bootstrap section, such as the istiod-generated "
                          "ones tests/integration/test_xds_proof.py writes with HOMELAB_REGENERATE_FIXTURES=1")
    benchlib.note(f"module facts: {last['clusters']} clusters, {last['listeners']} listeners, "
                  f"destination matched={last['matched']}")
    benchlib.note(benchlib.fmt_stats("json.loads(file bytes)", benchlib.stats(json_s)))
    benchlib.note(benchlib.fmt_stats("json.load(text-mode file)", benchlib.stats(json_text_s)))
    benchlib.note(benchlib.fmt_stats("json.loads(file bytes), cyclic GC off", benchlib.stats(json_nogc_s)))
    benchlib.note(benchlib.fmt_stats("read + analyse_config_dump", benchlib.stats(mod_s)))
    r_json = benchlib.paired_ratio(mod_s, json_s)
    benchlib.note(benchlib.fmt_ratio_stats("module / json.loads(bytes)", r_json))
    benchlib.note(benchlib.fmt_ratio_stats("module / json.load(text-mode file), for reference",
                                           benchlib.paired_ratio(mod_s, json_text_s)))
    benchlib.note(benchlib.fmt_ratio_stats("module / json.loads(bytes) with GC off, for reference",
                                           benchlib.paired_ratio(mod_s, json_nogc_s)))
    ratio_json = r_json["median"]
    spread_ictl = None

    ratio_ictl = None
    if reason is None and ictl:
        benchlib.note(benchlib.fmt_stats("istioctl proxy-config all --file (process)", benchlib.stats(ictl)))
        benchlib.note(benchlib.fmt_stats("module probe (process: python start, import, read, analyse)",
                                         benchlib.stats(mod_wall)))
        r_ictl = benchlib.paired_ratio(mod_wall, ictl)
        benchlib.note(benchlib.fmt_ratio_stats("module process / istioctl process", r_ictl))
        ratio_ictl = r_ictl["median"]
        spread_ictl = r_ictl

    benchlib.emit("proxy_config_vs_json_load", ratio_json, 1.5,
                  f"bare json.loads of the same {size / 1048576:.0f} MiB dump's bytes", spread=r_json)
    if ratio_ictl is None:
        benchlib.skip("proxy_config_vs_istioctl", 1.0, "istioctl proxy-config all --file (same dump)", reason)
    else:
        benchlib.emit("proxy_config_vs_istioctl", ratio_ictl, 1.0,
                      "istioctl proxy-config all --file (same dump)", spread=spread_ictl)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, json.JSONDecodeError) as exc:
        print(f"bench_proxy_config: {exc}", file=sys.stderr)
        sys.exit(1)
