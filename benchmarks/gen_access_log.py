# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generate a large SYNTHETIC Envoy access log from the project's real fixture lines.

Every output line is a real captured line (shared/fixtures/access_logs/*.log,
see their PROVENANCE.md) with three things varied: the timestamp, the IPv4
addresses (first octet kept, so private stays private and public stays public)
and the external host names. The wanted host appears in exactly `percent` of
the lines, always in a template that carries an external host (SNI, authority,
`outbound|443||host` cluster), so a correct parser and `grep -c HOST` count
the same lines. A `<file>.README` written next to the log says it is synthetic
and how it was made.

    python3 benchmarks/gen_access_log.py OUT.log --lines 1000000 --host httpbin.org
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# The shared captured fixtures, next to the checkout (../shared/fixtures), only
# if the repository's own copies (tests/unit/**) are missing; BENCH_FIXTURES
# overrides. Missing everywhere: the generator exits saying so (never skips).
FIXTURES = os.environ.get("BENCH_FIXTURES") or os.path.join(os.path.dirname(ROOT), "shared", "fixtures")

TS_BRACKET = re.compile(r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z\]")
TS_AGENT = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})Z\t")
IPV4 = re.compile(r"\b(\d{1,3})\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")
# External names only: in-cluster names end in .svc.cluster.local / have no TLD.
EXT_HOST = re.compile(r"\b(?:[a-z0-9-]+\.)+(?:org|com|net|io)\b")
NOT_TRAFFIC_HOSTS = {"type.googleapis.com"}  # xDS type URL in an istio-agent line


def fixture_dirs():
    """Real access-log lines: the repo's copies first (tests/), else the shared fixtures."""
    pattern = os.path.join(ROOT, "tests", "unit", "**", "access_logs", "*.log")
    candidates = sorted(glob.glob(pattern, recursive=True))
    if candidates:
        return candidates
    return sorted(glob.glob(os.path.join(FIXTURES, "access_logs", "*.log")))


def load_templates(paths):
    """Split each real line into (format string with slots, hosts it carries)."""
    templates = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for raw in handle:
                line = raw.rstrip("\n")
                if not line.strip():
                    continue
                hosts = [h for h in dict.fromkeys(EXT_HOST.findall(line)) if h not in NOT_TRAFFIC_HOSTS]
                templates.append(_template(line, hosts, os.path.basename(path)))
    if not templates:
        raise SystemExit(f"gen_access_log: no fixture lines found (looked in {FIXTURES}/access_logs)")
    return templates


def _template(line, hosts, source):
    ts_kind = None
    if TS_BRACKET.match(line):
        ts_kind = "bracket"
        line = TS_BRACKET.sub("[{ts}Z]", line, count=1)
    elif TS_AGENT.match(line):
        ts_kind = "agent"
        line = TS_AGENT.sub("{tsu}Z\t", line, count=1)
    # Escape braces that are real data before adding our own slots.
    # One slot per distinct address: an address that a real line repeats stays
    # equal (a gateway's downstream and upstream local IPs are its own pod IP;
    # a sidecar's downstream local address is the upstream host), so the
    # varied lines keep the hop they were captured at.
    parts = []
    pos = 0
    slots = []
    slot_of = {}
    for match in IPV4.finditer(line):
        parts.append(line[pos:match.start()])
        if match.group(0) not in slot_of:
            slot_of[match.group(0)] = len(slots)
            slots.append(int(match.group(1)))
        parts.append(f"\0ip{slot_of[match.group(0)]}\0")
        pos = match.end()
    parts.append(line[pos:])
    line = "".join(parts)
    for i, host in enumerate(sorted(hosts, key=len, reverse=True)):
        line = line.replace(host, f"\0h{i}\0")
    hosts = sorted(hosts, key=len, reverse=True)
    line = line.replace("{", "{{").replace("}", "}}")
    line = line.replace("{{ts}}", "{ts}").replace("{{tsu}}", "{tsu}")
    line = re.sub("\0ip(\\d+)\0", lambda m: "{ip" + m.group(1) + "}", line)
    line = re.sub("\0h(\\d+)\0", lambda m: "{h" + m.group(1) + "}", line)
    return {"fmt": line, "ips": slots, "n_hosts": len(hosts), "ts": ts_kind, "source": source}


def generate(out_path, n_lines, host, percent=1.0, seed=1, start=None):
    """Write n_lines to out_path; return the number of lines carrying `host`."""
    templates = load_templates(fixture_dirs())
    with_host = [t for t in templates if t["n_hosts"]]
    if not with_host:
        raise SystemExit("gen_access_log: no fixture line carries an external host")
    rnd = random.Random(seed)
    # 1 % of lines exactly, spread evenly with jitter-free stride: reproducible counts.
    n_hits = round(n_lines * percent / 100.0)
    stride = n_lines / n_hits if n_hits else 0
    hit_at = {int(i * stride) for i in range(n_hits)}
    pool = [f"api-{i:04d}.ext{i % 97:02d}.example.net" for i in range(4000)]
    if any(host in p for p in pool):
        raise SystemExit(f"gen_access_log: host {host!r} collides with the synthetic host pool")
    clock = start or dt.datetime(2026, 11, 27, 0, 0, 0)
    step = dt.timedelta(microseconds=1700)
    octet = [str(i) for i in range(256)]
    written_hits = 0
    with open(out_path, "w", encoding="utf-8") as out:
        buf = []
        for i in range(n_lines):
            hit = i in hit_at
            tpl = rnd.choice(with_host) if hit else rnd.choice(templates)
            values = {}
            if tpl["ts"] == "bracket":
                values["ts"] = clock.strftime("%Y-%m-%dT%H:%M:%S.") + f"{clock.microsecond // 1000:03d}"
            elif tpl["ts"] == "agent":
                values["tsu"] = clock.strftime("%Y-%m-%dT%H:%M:%S.%f")
            for j, first in enumerate(tpl["ips"]):
                values[f"ip{j}"] = (f"{first}.{octet[rnd.randrange(256)]}."
                                    f"{octet[rnd.randrange(256)]}.{octet[1 + rnd.randrange(254)]}")
            for j in range(tpl["n_hosts"]):
                values[f"h{j}"] = host if (hit and j == 0) else pool[rnd.randrange(len(pool))]
            line = tpl["fmt"].format(**values)
            if host in line:
                written_hits += 1
            buf.append(line)
            clock += step
            if len(buf) >= 10000:
                out.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            out.write("\n".join(buf) + "\n")
    with open(out_path + ".README", "w", encoding="utf-8") as readme:
        readme.write(
            f"SYNTHETIC access log: {os.path.basename(out_path)}\n"
            f"lines={n_lines} host={host} lines_with_host={written_hits} ({percent}%) seed={seed}\n"
            "Made by benchmarks/gen_access_log.py from real captured Envoy/Istio access-log lines\n"
            f"({', '.join(sorted({t['source'] for t in templates}))}; provenance in the fixtures'\n"
            "PROVENANCE.md) by varying timestamps, IPv4 addresses and external host names only.\n"
            "Not real traffic; do not use as a parser fixture.\n")
    return written_hits


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--host", default="httpbin.org")
    parser.add_argument("--percent", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    hits = generate(args.out, args.lines, args.host, args.percent, args.seed)
    print(f"wrote {args.lines} lines ({hits} with {args.host}) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
