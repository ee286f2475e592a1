# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark 3: playbooks/site.yml on the local plane against the guide's manual procedure.

Three figures, each a ratio of runs made side by side on the same plane (hack/plane):

- ``site_first_converge``: site.yml from a bare plane (no gateway, no client, no routes)
  against the guide's manual procedure from the same bare plane (bench_site.manual.bash apply:
  helm upgrade --install, kubectl apply of the same objects, kubectl wait, istioctl analyze).
  Target <= 1.5.
- ``site_rerun``: site.yml again on the converged plane (it must report changed=0) against the
  manual procedure again on its converged plane. Target <= 1.0.
- ``site_hosts_100_vs_1``: site.yml first converge with 100 external hosts against the same
  with 1 host (10 is measured and printed too). Target <= 1.3.

site.yml runs exactly as the Molecule scenario converges it: ``-i inventory/homelab`` and the
plane's variables of molecule/controlplane/molecule.yml (local gateway chart, Calico skipped,
``egress_verify_data_plane: false``), so it includes the egress_verify proof's API-only checks.
Runs alternate (site first in even rounds, manual first in odd ones); the reported ratio is
the median of the per-round ratios, the spread their min/max. Between runs the plane is put
back to bare with ``bench_site.manual.bash cleanup`` (not timed).

BENCH_SITE_RUNS (default 3; BENCH_QUICK=1: 2) sets the rounds. Needs the plane up
(hack/plane/up); otherwise every line is ``ratio=n/a`` with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import benchlib
from plane_helpers import SITE, PlaybookError, gateway_chart, plane_status, plane_vars, run_playbook

MANUAL = os.path.join(HERE, "bench_site.manual.bash")
FIRST = ("site_first_converge", "1.5",
         "guide manual procedure first run (helm upgrade --install, kubectl apply, kubectl wait), same plane")
RERUN = ("site_rerun", "1.0", "guide manual procedure re-run on its converged plane")
HOSTS = ("site_hosts_100_vs_1", "1.3", "site.yml first converge with 1 external host")
HOST_COUNTS = (1, 10, 100)


class BenchError(Exception):
    pass


def rounds() -> int:
    return benchlib.env_int("BENCH_SITE_RUNS", 2 if benchlib.quick() else 3)


def manual_env(pvars: dict) -> dict:
    env = benchlib.child_env()
    env.update({"KUBECONFIG": pvars["istio_egress_kubeconfig"], "CTX": pvars["istio_egress_context"],
                "CHART": gateway_chart(), "ISTIOCTL": _which("istioctl")})
    return env


def _which(name: str) -> str:
    for d in [os.environ.get("HOMELAB_PLANE_BIN", "")] + os.environ.get("PATH", "").split(os.pathsep):
        path = os.path.join(d, name)
        if d and os.access(path, os.X_OK):
            return path
    return ""


def manual(step: str, env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(["bash", MANUAL, step], env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise BenchError(f"bench_site.manual.bash {step} exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    return took


def site(pvars: dict, expect_unchanged: bool = False, label: str = "site.yml") -> float:
    run = run_playbook(SITE, pvars, timeout=900)
    if run.rc != 0 or run.failed:
        raise BenchError(f"{label} failed: {run.summary()}")
    if expect_unchanged and run.changed:
        raise BenchError(f"{label} re-run reported changed={run.changed} ({run.changed_tasks}): not idempotent")
    return run.seconds


def hosts_list(count: int) -> list:
    """httpbin.org plus count-1 more registered external hosts, one SE/DR/VS each."""
    return [{"host": "httpbin.org", "port": 443}] + [
        {"host": f"ext-{i:03d}.example.org", "port": 443} for i in range(1, count)]


def bench_first_and_rerun(pvars: dict, env: dict, n: int) -> None:
    times = {"site_first": [], "site_rerun": [], "manual_first": [], "manual_rerun": []}
    for i in range(n):
        order = ("site", "manual") if i % 2 == 0 else ("manual", "site")
        for side in order:
            manual("cleanup", env)
            if side == "site":
                times["site_first"].append(site(pvars, label="site.yml first converge"))
                times["site_rerun"].append(site(pvars, expect_unchanged=True, label="site.yml"))
            else:
                times["manual_first"].append(manual("apply", env))
                times["manual_rerun"].append(manual("apply", env))
        benchlib.note(f"round {i + 1}/{n}: site first {times['site_first'][-1]:.1f}s rerun "
                      f"{times['site_rerun'][-1]:.1f}s | manual first {times['manual_first'][-1]:.1f}s rerun "
                      f"{times['manual_rerun'][-1]:.1f}s")
    manual("cleanup", env)
    for key, values in times.items():
        benchlib.note(benchlib.fmt_stats(key.replace("_", " "), benchlib.stats(values)))
    for (name, target, baseline), key in ((FIRST, "first"), (RERUN, "rerun")):
        st = benchlib.paired_ratio(times[f"site_{key}"], times[f"manual_{key}"])
        benchlib.note(benchlib.fmt_ratio_stats(name, st))
        benchlib.emit(name, st["median"], target, baseline, spread=st)


def bench_hosts(pvars: dict, env: dict, n: int) -> None:
    times = {count: [] for count in HOST_COUNTS}
    for i in range(n):
        order = HOST_COUNTS if i % 2 == 0 else tuple(reversed(HOST_COUNTS))
        for count in order:
            manual("cleanup", env)
            times[count].append(site(dict(pvars, egress_routes_hosts=hosts_list(count)),
                                     label=f"site.yml with {count} hosts"))
        done = ", ".join(f"{count} host(s) {times[count][-1]:.1f}s" for count in HOST_COUNTS)
        benchlib.note(f"round {i + 1}/{n}: {done}")
    manual("cleanup", env)
    for count in HOST_COUNTS:
        benchlib.note(benchlib.fmt_stats(f"site.yml first converge, {count} host(s)", benchlib.stats(times[count])))
    st10 = benchlib.paired_ratio(times[10], times[1])
    benchlib.note(benchlib.fmt_ratio_stats("10 vs 1 host(s)", st10))
    st = benchlib.paired_ratio(times[100], times[1])
    benchlib.note(benchlib.fmt_ratio_stats("100 vs 1 host(s)", st))
    benchlib.emit(HOSTS[0], st["median"], HOSTS[1], HOSTS[2], spread=st)


def main() -> int:
    work, why = plane_status()
    if work is None:
        for name, target, baseline in (FIRST, RERUN, HOSTS):
            benchlib.skip(name, target, baseline, why)
        return 0
    pvars = plane_vars(work, os.path.join(benchlib.ensure_out(), "bench-site"))
    env = manual_env(pvars)
    n = rounds()
    print(f"bench 3: site.yml vs the guide's manual procedure on the local plane ({work}), {n} round(s)",
          flush=True)
    try:
        bench_first_and_rerun(pvars, env, n)
        bench_hosts(pvars, env, n)
    except (BenchError, PlaybookError) as exc:
        print(f"bench_site: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
