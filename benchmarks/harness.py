# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Discover and run the benchmarks; repeat their BENCH lines at the end.

A benchmark is any executable-or-not file `benchmarks/bench_<name>.py` (run
with this Python) or `benchmarks/bench_<name>.sh` (run with bash), discovered
in file-name order. Contract for a benchmark script:

- it may print anything (progress, medians, spread); the harness passes it on;
- it prints one `BENCH <name> ratio=<r> target=<t> baseline=<b>` line per
  measured figure (benchlib.bench_line / `benchlib.py line` build it), or,
  for a figure that is a count (module processes of a run), one
  `BENCH <name> count=<n> target=<t> baseline=<b>` line (benchlib.count_line /
  `benchlib.py count`); either way the target reads "value <= target";
- when a prerequisite is missing (no istioctl, no local plane) it prints
  `# <name> skipped: <reason>` and `BENCH <name> ratio=n/a ...` and exits 0;
- it honours BENCH_QUICK=1 (small inputs) and BENCH_RUNS (repetitions);
- a non-zero exit is an error: the harness reports it and exits 1.

The harness ends with a summary: the machine line, then every BENCH line in
order (nothing else), so a script can read the tail of the output.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import benchlib

SPREAD_LINE = re.compile(r"^# (?P<name>\S+) spread: (?P<spread>.+)$")
SKIP_LINE = re.compile(r"^# (?P<name>\S+) skipped: (?P<reason>.+)$")
BENCH_LINE = re.compile(
    r"^BENCH (?P<name>\S+) (?:ratio=(?P<ratio>n/a|[0-9]+(?:\.[0-9]+)?)|count=(?P<count>n/a|[0-9]+)) "
    r"target=(?P<target>\S+) baseline=(?P<baseline>.+)$")


def discover(only=None):
    scripts = sorted(glob.glob(os.path.join(HERE, "bench_*.py")) + glob.glob(os.path.join(HERE, "bench_*.sh")),
                     key=os.path.basename)
    if only:
        scripts = [s for s in scripts if any(o in os.path.basename(s) for o in only)]
    return scripts


def command_for(script):
    if script.endswith(".py"):
        return [sys.executable, script]
    return ["bash", script]


def parse_bench(line):
    """The fields of a BENCH line, or None: name, kind (ratio|count), value, target, baseline.

    The value is also under its kind's key (res["ratio"] or res["count"]).
    """
    match = BENCH_LINE.match(line.rstrip("\n"))
    if not match:
        return None
    kind = "ratio" if match.group("ratio") is not None else "count"
    value = match.group(kind)
    return {"name": match.group("name"), "kind": kind, "value": value, kind: value,
            "target": match.group("target"), "baseline": match.group("baseline")}


def format_bench(res):
    """The BENCH line of a parse_bench() result (the summary repeats them)."""
    return f"BENCH {res['name']} {res['kind']}={res['value']} target={res['target']} baseline={res['baseline']}"


def missed(result):
    """True when a measured value (ratio or count) is above its target; n/a is not measured."""
    if result["value"] == "n/a":
        return False
    try:
        return float(result["value"]) > float(result["target"])
    except ValueError:
        return False


def table(results, notes=None):
    """Markdown table; notes maps a benchmark name to its spread or skip reason."""
    notes = notes or {}
    rows = ["| benchmark | ratio (median) or count | spread | target | baseline | target met |",
            "|---|---|---|---|---|---|"]
    for res in results:
        note = notes.get(res["name"], {})
        if res["value"] == "n/a":
            met = "not run: " + note.get("reason", "see the run's output")
        else:
            met = "**no**" if missed(res) else "yes"
        spread = note.get("spread", "")
        value = res["value"] if res["kind"] == "ratio" or res["value"] == "n/a" else f"{res['value']} (count)"
        rows.append(f"| `{res['name']}` | {value} | {spread} | <= {res['target']} | "
                    f"{res['baseline']} | {met} |")
    return "\n".join(rows)


def note_of(line, notes):
    """Collect `# <name> spread: ...` and `# <name> skipped: ...` lines into notes."""
    for regex, key in ((SPREAD_LINE, "spread"), (SKIP_LINE, "reason")):
        match = regex.match(line.rstrip("\n"))
        if match:
            notes.setdefault(match.group("name"), {})[key] = match.group(key)
            return True
    return False


RESULTS_BLOCK = re.compile(r"(<!-- BEGIN RESULTS[^>]*-->\n).*?(<!-- END RESULTS -->)", re.DOTALL)


def write_results(doc, text, machine, source):
    try:
        with open(doc, encoding="utf-8") as handle:
            content = handle.read()
    except OSError as exc:
        print(f"harness: cannot read {doc}: {exc.strerror}", file=sys.stderr)
        return 1
    if not RESULTS_BLOCK.search(content):
        print(f"harness: {doc} has no <!-- BEGIN RESULTS --> ... <!-- END RESULTS --> block", file=sys.stderr)
        return 1
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(os.path.getmtime(source)))
    body = f"{text}\n\nRun of {stamp}; {machine or 'machine: not recorded'}.\n"
    content = RESULTS_BLOCK.sub(lambda m: m.group(1) + body + m.group(2), content, count=1)
    with open(doc, "w", encoding="utf-8") as handle:
        handle.write(content)
    print(f"harness: results written into {doc}")
    return 0


NOTES = {}


def run_one(script, log):
    name = os.path.basename(script)
    header = f"=== {name} ({time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC)"
    print(header, flush=True)
    log.write(header + "\n")
    start = time.perf_counter()
    proc = subprocess.Popen(command_for(script), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=os.path.dirname(HERE), env=benchlib.child_env(), text=True, bufsize=1)
    found = []
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        log.write(line)
        res = parse_bench(line)
        if res:
            found.append(res)
        elif note_of(line, NOTES):
            pass
        elif line.startswith("BENCH "):
            print(f"harness: malformed BENCH line from {name}: {line.strip()}", file=sys.stderr)
            proc.wait()
            return found, 1
    rc = proc.wait()
    took = time.perf_counter() - start
    tail = f"--- {name}: exit {rc} in {took:.1f}s"
    print(tail, flush=True)
    log.write(tail + "\n")
    if rc == 0 and not found:
        print(f"harness: {name} printed no BENCH line", file=sys.stderr)
        rc = 1
    return found, rc


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the benchmarks in benchmarks/bench_*.{py,sh}.")
    parser.add_argument("--only", action="append", help="substring of the script names to run (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--strict", action="store_true", help="exit 3 when a measured ratio or count misses its target")
    parser.add_argument("--table", action="store_true", help="print a Markdown table of the results")
    parser.add_argument("--table-from", metavar="LOG",
                        help="print the Markdown table of the BENCH lines in LOG (a saved run) and exit")
    parser.add_argument("--into", metavar="DOC",
                        help="with --table-from: replace the results block of DOC (between the "
                             "BEGIN RESULTS / END RESULTS comments) instead of printing")
    args = parser.parse_args(argv)

    if args.table_from:
        try:
            with open(args.table_from, encoding="utf-8") as handle:
                found, machine, notes = {}, "", {}
                for line in handle:
                    res = parse_bench(line)
                    if res:
                        found[res["name"]] = res  # the summary repeats them: keep one each
                    elif line.startswith("machine: "):
                        machine = line.strip()
                    else:
                        note_of(line, notes)
        except OSError as exc:
            print(f"harness: cannot read {args.table_from}: {exc.strerror}", file=sys.stderr)
            return 1
        text = table(list(found.values()), notes)
        if not args.into:
            print(text)
            return 0
        return write_results(args.into, text, machine, args.table_from)

    scripts = discover(args.only)
    if args.list:
        for script in scripts:
            print(os.path.relpath(script, os.path.dirname(HERE)))
        return 0
    if not scripts:
        print("harness: no benchmark matched", file=sys.stderr)
        return 1

    out = benchlib.ensure_out()
    machine = benchlib.machine_line()
    mode = "quick (BENCH_QUICK=1)" if benchlib.quick() else "full"
    print(f"benchmarks: {mode}, runs={benchlib.runs()}", flush=True)
    print(machine, flush=True)
    results, errors = [], []
    with open(os.path.join(out, "last-run.log"), "w", encoding="utf-8") as log:
        log.write(machine + "\n")
        for script in scripts:
            found, rc = run_one(script, log)
            results.extend(found)
            if rc != 0:
                errors.append(os.path.basename(script))

    if args.table:
        print()
        print(table(results, NOTES))
    print()
    if errors:
        print(f"harness: failed: {', '.join(errors)}", file=sys.stderr)
    print(machine)
    for res in results:
        print(format_bench(res))
    if errors:
        return 1
    if args.strict and any(missed(r) for r in results):
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
