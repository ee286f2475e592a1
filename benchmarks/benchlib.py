# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared helpers for the benchmark scripts (not part of the collection).

Every benchmark reports a *ratio against a baseline run side by side in the
same run*, as one machine-readable line:

    BENCH <name> ratio=<measured> target=<target> baseline=<what the ratio is against>

A few figures are not ratios but counts of something that costs time (module
processes of one playbook run); they use the second line kind:

    BENCH <name> count=<whole number> target=<largest count allowed> baseline=<what was counted>

For both kinds the target reads "value <= target". The value is `n/a` when
the benchmark could not run (missing prerequisite); the reason is printed on a
`# <name> skipped: ...` line just before it.

Used as a library by bench_*.py and as a tiny CLI by shell benchmarks:

    python3 benchmarks/benchlib.py line NAME RATIO TARGET BASELINE...
    python3 benchmarks/benchlib.py count NAME COUNT TARGET BASELINE...
    python3 benchmarks/benchlib.py stats 1.2 1.1 1.3        # median/min/max
    python3 benchmarks/benchlib.py machine                   # one-line machine info
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.environ.get("BENCH_OUT", os.path.join(HERE, "out"))
BENCH_RE_FIELDS = ("ratio", "target", "baseline")
# The value keys a BENCH line can carry (see the module docstring).
KINDS = ("ratio", "count")


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        sys.exit(f"benchmarks: {name}={raw!r} is not an integer")
    if value <= 0:
        sys.exit(f"benchmarks: {name}={raw!r} must be a positive integer")
    return value


def quick() -> bool:
    """BENCH_QUICK=1 shrinks every input so CI can run the whole set in seconds."""
    return env_flag("BENCH_QUICK")


def runs() -> int:
    """How many timed repetitions per side (median reported); BENCH_RUNS overrides."""
    return env_int("BENCH_RUNS", 3 if quick() else 5)


def ensure_out() -> str:
    os.makedirs(OUT, exist_ok=True)
    return OUT


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    mem_total = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    mem_total = f"{int(line.split()[1]) // 1024} MiB"
                    break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "mem": mem_total,
        "loadavg_1m": round(load[0], 2),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def machine_line() -> str:
    info = machine_info()
    return "machine: " + ", ".join(f"{k}={v}" for k, v in info.items())


def stats(values):
    """Median and spread of a list of seconds (or bytes)."""
    values = sorted(values)
    return {
        "median": statistics.median(values),
        "min": values[0],
        "max": values[-1],
        "n": len(values),
    }


def paired_ratio(measured, baseline):
    """Ratios of runs made back to back (measured[i] / baseline[i]) and their stats.

    On a shared machine the load drifts between runs; a ratio of two runs made
    one right after the other cancels most of that drift, so the reported
    figure is the median of the per-pair ratios and the spread is theirs.
    """
    if len(measured) != len(baseline) or not measured:
        raise ValueError("paired_ratio needs two non-empty lists of the same length")
    return stats([m / b for m, b in zip(measured, baseline)])


def fmt_ratio_stats(label: str, st: dict) -> str:
    return (f"{label}: median={st['median']:.2f}x min={st['min']:.2f}x "
            f"max={st['max']:.2f}x (n={st['n']} back-to-back pairs)")


def fmt_stats(label: str, st: dict, unit: str = "s") -> str:
    if unit == "s":
        return (f"{label}: median={st['median']:.3f}s min={st['min']:.3f}s "
                f"max={st['max']:.3f}s (n={st['n']})")
    return (f"{label}: median={st['median']:.1f}{unit} min={st['min']:.1f}{unit} "
            f"max={st['max']:.1f}{unit} (n={st['n']})")


def fmt_ratio(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}"


def bench_line(name: str, ratio, target, baseline: str) -> str:
    if " " in name or not name:
        raise ValueError(f"benchmark name {name!r} must be one word")
    ratio_s = ratio if isinstance(ratio, str) else fmt_ratio(ratio)
    target_s = target if isinstance(target, str) else f"{target:g}"
    return f"BENCH {name} ratio={ratio_s} target={target_s} baseline={baseline}"


def count_line(name: str, count, target, baseline: str) -> str:
    """A `count=` BENCH line: a whole number (or "n/a") against the largest count allowed."""
    if " " in name or not name:
        raise ValueError(f"benchmark name {name!r} must be one word")
    if isinstance(count, bool) or not (count == "n/a" or (isinstance(count, int) and count >= 0)):
        raise ValueError(f"count {count!r} of {name} must be a whole number >= 0 or 'n/a'")
    if isinstance(target, bool) or not isinstance(target, (int, str)) or not str(target).isdigit():
        raise ValueError(f"target {target!r} of {name} must be a whole number (the largest count allowed)")
    return f"BENCH {name} count={count} target={target} baseline={baseline}"


def emit_count(name: str, count, target, baseline: str) -> None:
    print(count_line(name, count, target, baseline), flush=True)


def skip_count(name: str, target, baseline: str, reason: str) -> None:
    print(f"# {name} skipped: {reason}", flush=True)
    emit_count(name, "n/a", target, baseline)


def emit(name: str, ratio, target, baseline: str, spread=None) -> None:
    """Print the BENCH line; `spread` (a stats() dict of the ratios) goes on a line before it."""
    if spread:
        print(f"# {name} spread: min={spread['min']:.2f} max={spread['max']:.2f} n={spread['n']}", flush=True)
    print(bench_line(name, ratio, target, baseline), flush=True)


def skip(name: str, target, baseline: str, reason: str) -> None:
    print(f"# {name} skipped: {reason}", flush=True)
    emit(name, "n/a", target, baseline)


def note(message: str) -> None:
    print(f"  {message}", flush=True)


def time_cmd(argv, stdout=subprocess.DEVNULL, env=None, check=True):
    """Wall time of one subprocess run, plus its completed process."""
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE, env=env, check=False)
    elapsed = time.perf_counter() - start
    if check and proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        tail = err[-1] if err else ""
        raise RuntimeError(f"{' '.join(map(str, argv[:3]))} ... exited {proc.returncode}: {tail}")
    return elapsed, proc


def run_probe(argv, env=None) -> dict:
    """Run a Python probe that prints one JSON object on its last stdout line."""
    proc = subprocess.run(argv, capture_output=True, env=env, check=False)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"probe {' '.join(map(str, argv[1:3]))} failed: {err[-1] if err else proc.returncode}")
    lines = proc.stdout.decode("utf-8", "replace").strip().splitlines()
    return json.loads(lines[-1])


def maxrss_bytes() -> int:
    """Peak RSS of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def child_env() -> dict:
    """Environment for probes: the collection importable, deterministic hashing."""
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _cli(argv) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "line" and len(args) >= 4:
        print(bench_line(args[0], args[1], args[2], " ".join(args[3:])))
        return 0
    if cmd == "count" and len(args) >= 4:
        count = args[1] if args[1] == "n/a" else int(args[1]) if args[1].isdigit() else args[1]
        try:
            print(count_line(args[0], count, args[2], " ".join(args[3:])))
        except ValueError as exc:
            print(f"benchlib: {exc}", file=sys.stderr)
            return 2
        return 0
    if cmd == "stats" and args:
        st = stats([float(a) for a in args])
        print(f"median={st['median']:.3f} min={st['min']:.3f} max={st['max']:.3f} n={st['n']}")
        return 0
    if cmd == "machine":
        print(machine_line())
        return 0
    print(f"benchlib: unknown command or missing arguments: {' '.join(argv)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_cli(sys.argv[1:]))
