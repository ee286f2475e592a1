# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark 3: playbooks/site.yml on the local plane, against what a person would do instead.

Figures of issue 15, each a ratio of runs made side by side on the same plane (hack/plane), or a
count:

- ``site_first_converge``: site.yml from a bare plane (no gateway, no client, no routes)
  against the guide's manual procedure from the same bare plane (bench_site.manual.bash apply:
  helm upgrade --install, kubectl apply of the same objects, kubectl wait, istioctl analyze).
  Target <= 2.5.
- ``site_rerun``: site.yml again on the converged plane (it must report changed=0) against the
  manual procedure again on its converged plane. Target <= 2.5.
- ``site_vs_naive_playbook``: site.yml first converge against the plain kubernetes.core playbook
  a user would write from the guide (benchmarks/naive_site.yml: kubernetes.core.helm with the
  §3.2 values and wait, one kubernetes.core.k8s task per guide file, no checks) from the same bare
  plane. Target <= 1.0. The re-run pair is printed too.
- ``site_module_processes_first`` / ``site_module_processes_rerun`` (counts): module processes
  (AnsiballZ runs) of one site.yml first converge and of its re-run, counted by an interpreter
  shim (benchmarks/playbook_profile.py) given as ``ansible_python_interpreter``. Target <= 12
  each. The naive playbook's counts are printed, and named in the lines' baseline, for comparison.
- ``site_hosts_100_vs_1``: site.yml first converge with 100 external hosts against the same
  with 1 host (10 is measured and printed too). Target <= 1.15.

site.yml runs exactly as the Molecule scenario converges it: ``-i inventory/homelab`` and the
plane's variables of molecule/controlplane/molecule.yml (local gateway chart, Calico skipped,
``egress_verify_data_plane: false``), so it includes the egress_verify proof's API-only checks.
The naive playbook gets the same variables and inventory. In each round site.yml, the manual
procedure and the naive playbook each run first from a bare plane, then again; even rounds go
site, manual, naive, odd ones naive, manual, site. A ratio is the median of the per-round ratios,
the spread their min/max. Before every first run the plane is put back to bare with
``bench_site.manual.bash cleanup`` (not timed). Every playbook run must end with failed=0, and
every site.yml re-run with changed=0, or the benchmark stops with an error.

BENCH_SITE_RUNS (default 3; BENCH_QUICK=1: 2) sets the rounds. BENCH_SITE_PROFILE=1 also enables
``ansible.posix.profile_tasks`` for the counted site.yml runs and writes their per-task times to
benchmarks/out/site-profile.md (and .txt); ``python benchmarks/bench_site.py --profile`` does only
that (the counted runs and the profile, no timing rounds). Needs the plane up (hack/plane/up);
otherwise every line is ``n/a`` with the reason.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import benchlib
import playbook_profile
from plane_helpers import SITE, PlaybookError, ansible_playbook, gateway_chart, plane_status, plane_vars, run_playbook

MANUAL = os.path.join(HERE, "bench_site.manual.bash")
NAIVE_PLAYBOOK = os.path.join(HERE, "naive_site.yml")
PLANE_ENV = os.path.join(ROOT, "hack", "plane", "env")
FIRST = ("site_first_converge", "2.5",
         "guide manual procedure first run (helm upgrade --install, kubectl apply, kubectl wait), same plane")
RERUN = ("site_rerun", "2.5", "guide manual procedure re-run on its converged plane")
NAIVE = ("site_vs_naive_playbook", "1.0",
         ("benchmarks/naive_site.yml first converge (kubernetes.core.helm + one kubernetes.core.k8s task per guide file, "
          "no checks), same plane"))
PROCS_FIRST = ("site_module_processes_first", "12", "module processes (AnsiballZ runs) of one site.yml first converge")
PROCS_RERUN = ("site_module_processes_rerun", "12", "module processes (AnsiballZ runs) of one site.yml re-run")
HOSTS = ("site_hosts_100_vs_1", "1.15", "site.yml first converge with 1 external host")
RATIOS = (FIRST, RERUN, NAIVE)
COUNTS = (PROCS_FIRST, PROCS_RERUN)
HOST_COUNTS = (1, 10, 100)
PROFILE_TOP = 25
SIDES = ("site", "manual", "naive")


class BenchError(Exception):
    pass


def rounds() -> int:
    return benchlib.env_int("BENCH_SITE_RUNS", 2 if benchlib.quick() else 3)


def load_plane_env() -> None:
    """Take the plane's environment (hack/plane/env: charts, HELM_PLUGINS, PATH) when not sourced yet.

    The gateway chart lives in the plane's cache (HOMELAB_PLANE_CHARTS); hack/plane/charts is
    only a convenience link that a fresh worktree may not have.
    """
    if os.environ.get("HOMELAB_PLANE_CHARTS"):
        return
    try:
        proc = subprocess.run(["bash", "-c", 'source <(bash "$1") && env -0', "plane-env", PLANE_ENV],
                              capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BenchError(f"cannot read the plane's environment from hack/plane/env: {exc}")
    if proc.returncode != 0:
        raise BenchError(f"hack/plane/env exited {proc.returncode}: {proc.stderr.decode(errors='replace').strip()[-400:]}")
    for item in proc.stdout.decode("utf-8", "replace").split("\0"):
        key, sep, value = item.partition("=")
        if sep and (key.startswith(("HOMELAB_PLANE_", "HELM_")) or key in ("PATH", "KUBECONFIG")):
            os.environ[key] = value


def bench_vars(work: str) -> dict:
    pvars = plane_vars(work, os.path.join(benchlib.ensure_out(), "bench-site"))
    # The same chart the manual procedure installs (the plane's cache, hack/plane/env).
    pvars["egress_gateway_chart_path"] = gateway_chart()
    return pvars


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


def play(playbook: str, pvars: dict, label: str, expect_unchanged: bool = False):
    """One ansible-playbook run that must end with failed=0 (and changed=0 when asked)."""
    run = run_playbook(playbook, pvars, timeout=900)
    if run.rc != 0 or run.failed:
        raise BenchError(f"{label} failed: {run.summary()}")
    if expect_unchanged and run.changed:
        raise BenchError(f"{label} re-run reported changed={run.changed} ({run.changed_tasks}): not idempotent")
    return run


def site(pvars: dict, expect_unchanged: bool = False, label: str = "site.yml") -> float:
    return play(SITE, pvars, label, expect_unchanged).seconds


def hosts_list(count: int) -> list:
    """httpbin.org plus count-1 more registered external hosts, one SE/DR/VS each."""
    return [{"host": "httpbin.org", "port": 443}] + [
        {"host": f"ext-{i:03d}.example.org", "port": 443} for i in range(1, count)]


def run_side(side: str, pvars: dict, env: dict, times: dict) -> None:
    """First run from a bare plane, then the re-run, of one side; times appended to times."""
    manual("cleanup", env)
    if side == "site":
        times["site_first"].append(site(pvars, label="site.yml first converge"))
        times["site_rerun"].append(site(pvars, expect_unchanged=True, label="site.yml"))
    elif side == "manual":
        times["manual_first"].append(manual("apply", env))
        times["manual_rerun"].append(manual("apply", env))
    else:
        times["naive_first"].append(play(NAIVE_PLAYBOOK, pvars, "naive_site.yml first converge").seconds)
        rerun = play(NAIVE_PLAYBOOK, pvars, "naive_site.yml re-run")
        times["naive_rerun"].append(rerun.seconds)
        if rerun.changed:
            benchlib.note(f"naive_site.yml re-run reported changed={rerun.changed} ({rerun.changed_tasks})")


def bench_first_and_rerun(pvars: dict, env: dict, n: int) -> None:
    times = {f"{side}_{key}": [] for side in SIDES for key in ("first", "rerun")}
    for i in range(n):
        order = SIDES if i % 2 == 0 else tuple(reversed(SIDES))
        for side in order:
            run_side(side, pvars, env, times)
        benchlib.note(f"round {i + 1}/{n} ({', '.join(order)}): " + " | ".join(
            f"{side} first {times[side + '_first'][-1]:.1f}s rerun {times[side + '_rerun'][-1]:.1f}s" for side in SIDES))
    manual("cleanup", env)
    for key, values in times.items():
        benchlib.note(benchlib.fmt_stats(key.replace("_", " "), benchlib.stats(values)))
    rerun_vs_naive = benchlib.paired_ratio(times["site_rerun"], times["naive_rerun"])
    benchlib.note(benchlib.fmt_ratio_stats("site.yml re-run vs naive_site.yml re-run (printed, no target)",
                                           rerun_vs_naive))
    for (name, target, baseline), (mine, theirs) in ((FIRST, ("site_first", "manual_first")),
                                                     (RERUN, ("site_rerun", "manual_rerun")),
                                                     (NAIVE, ("site_first", "naive_first"))):
        st = benchlib.paired_ratio(times[mine], times[theirs])
        benchlib.note(benchlib.fmt_ratio_stats(name, st))
        benchlib.emit(name, st["median"], target, baseline, spread=st)


def real_python() -> str:
    """The interpreter the inventory gives modules: ansible-playbook's own ({{ ansible_playbook_python }})."""
    try:
        with open(ansible_playbook(), "rb") as handle:
            first = handle.readline().decode("utf-8", "replace").strip()
    except OSError:
        first = ""
    if first.startswith("#!"):
        candidate = first[2:].strip().split()[0] if first[2:].strip() else ""
        if os.path.isabs(candidate) and os.access(candidate, os.X_OK) and not candidate.endswith("/env"):
            return candidate
    return sys.executable


@contextlib.contextmanager
def environ(extra: dict):
    """os.environ with extra keys for the runs inside (run_playbook copies os.environ)."""
    saved = {key: os.environ.get(key) for key in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def counted_pair(playbook: str, pvars: dict, env: dict, label: str, shim_dir: str, profile: bool,
                 expect_unchanged: bool) -> list:
    """A first converge from bare and a re-run, each with the shim; [{label, seconds, processes, ...}]."""
    manual("cleanup", env)
    log = os.path.join(shim_dir, "runs.log")
    shim = os.path.join(shim_dir, "python")
    with open(shim, "w", encoding="utf-8") as handle:
        handle.write(playbook_profile.shim_script(real_python(), log))
    os.chmod(shim, 0o755)
    extra = {}
    if profile:
        enabled = [c for c in os.environ.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if c.strip()]
        extra = {"ANSIBLE_CALLBACKS_ENABLED": ",".join(enabled + ["ansible.posix.profile_tasks"]),
                 "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all", "PROFILE_TASKS_SORT_ORDER": "descending"}
    out = []
    for which in ("first converge", "re-run"):
        open(log, "w", encoding="utf-8").close()
        with environ(extra):
            run = play(playbook, dict(pvars, ansible_python_interpreter=shim), f"{label} {which} (counted)",
                       expect_unchanged=expect_unchanged and which == "re-run")
        with open(log, encoding="utf-8") as handle:
            total, modules = playbook_profile.count_processes(handle.read())
        tasks = playbook_profile.parse_profile(run.stdout) if profile else []
        if profile and not tasks:
            raise BenchError(f"{label} {which}: no profile_tasks summary in the output "
                             "(is the ansible.posix collection installed?)")
        out.append({"label": f"{label} {which}", "seconds": run.seconds, "processes": total, "modules": modules,
                    "tasks": tasks, "stdout": run.stdout})
        benchlib.note(f"{label} {which}: {total} module processes in {run.seconds:.1f}s ("
                      + ", ".join(f"{m} {c}" for m, c in modules.most_common()) + ")")
    return out


def write_profile(runs: list) -> str:
    out = benchlib.ensure_out()
    md = os.path.join(out, "site-profile.md")
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with open(md, "w", encoding="utf-8") as handle:
        handle.write(f"<!-- benchmarks/bench_site.py --profile, {stamp}; {benchlib.machine_line()} -->\n\n")
        handle.write(playbook_profile.profile_markdown("site.yml per-task profile (profile_tasks)", runs,
                                                       PROFILE_TOP))
    with open(os.path.join(out, "site-profile.txt"), "w", encoding="utf-8") as handle:
        for run in runs:
            handle.write(f"== {run['label']}: {run['seconds']:.1f}s, {run['processes']} module processes\n")
            handle.writelines(f"{secs:8.2f}s  {task}\n"
                              for task, secs in playbook_profile.slowest(run["tasks"], len(run["tasks"])))
    return md


def bench_processes(pvars: dict, env: dict, profile: bool, with_naive: bool = True) -> None:
    shim_dir = tempfile.mkdtemp(prefix="bench-site-shim-")
    try:
        mine = counted_pair(SITE, pvars, env, "site.yml", shim_dir, profile, expect_unchanged=True)
        theirs = (counted_pair(NAIVE_PLAYBOOK, pvars, env, "naive_site.yml", shim_dir, False, expect_unchanged=False)
                  if with_naive else None)
        manual("cleanup", env)
    finally:
        shutil.rmtree(shim_dir, ignore_errors=True)
    if profile:
        benchlib.note(f"per-task profile written to {os.path.relpath(write_profile(mine), ROOT)}")
    for (name, target, baseline), i in ((PROCS_FIRST, 0), (PROCS_RERUN, 1)):
        if theirs:
            baseline = f"{baseline}; naive_site.yml: {theirs[i]['processes']}"
        benchlib.emit_count(name, mine[i]["processes"], target, baseline)


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark 3: site.yml on the local plane (docs/dev/bench_site.md).")
    parser.add_argument("--profile", action="store_true",
                        help="only the counted site.yml first converge and re-run with profile_tasks "
                             "(writes benchmarks/out/site-profile.md); no timing rounds")
    args = parser.parse_args(argv)
    profile = args.profile or benchlib.env_flag("BENCH_SITE_PROFILE")
    work, why = plane_status()
    if work is None:
        for name, target, baseline in (() if args.profile else RATIOS + (HOSTS,)):
            benchlib.skip(name, target, baseline, why)
        for name, target, baseline in COUNTS:
            benchlib.skip_count(name, target, baseline, why)
        return 0
    try:
        load_plane_env()
        if not os.path.isdir(gateway_chart()):
            raise BenchError(f"the plane's gateway chart {gateway_chart()} is missing: run hack/plane/build.sh charts")
        pvars = bench_vars(work)
        env = manual_env(pvars)
        if args.profile:
            print(f"bench 3 (--profile): counted site.yml runs with profile_tasks on the local plane ({work})",
                  flush=True)
            bench_processes(pvars, env, profile=True, with_naive=False)
            return 0
        n = rounds()
        print(f"bench 3: site.yml vs the guide's manual procedure and the naive playbook on the local plane "
              f"({work}), {n} round(s)", flush=True)
        bench_first_and_rerun(pvars, env, n)
        bench_processes(pvars, env, profile)
        bench_hosts(pvars, env, n)
    except (BenchError, PlaybookError) as exc:
        print(f"bench_site: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
