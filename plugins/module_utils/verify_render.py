# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rendering of the egress_verify report: report.md, junit.xml and report.json.

Pure, stdlib only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import posixpath
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import quoteattr as _xml_quoteattr

from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_common import FAIL, MARKS, NOT_RUN, retry_text

_VERDICT_TEXT = {
    "proved": "every check ran and passed",
    "failed": "at least one check failed",
    "incomplete": "nothing failed, but some checks did not run: not a proof",
}


def _md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_diagram(report):
    s = report["settings"]
    hops = report["hops"]
    client = "%s (%s)" % (s["client"]["deployment"], s["client"]["namespace"])
    gateway = "%s (%s)" % (s["gateway"]["service"], s["gateway"]["namespace"])
    dest = ", ".join("%s:%s" % (h["host"], h["port"]) for h in s["hosts"])
    return "\n".join([
        "```",
        "%s --hop 1--> %s --hop 2--> %s" % (client, gateway, dest),
        "  hop 1 (client sidecar -> egress gateway): %s" % MARKS[hops["hop1"]],
        "  hop 2 (egress gateway -> external):       %s" % MARKS[hops["hop2"]],
        "```",
    ])


def render_markdown(report):
    s = report["settings"]
    run = report["run"]
    lines = [
        "# Egress verification report",
        "",
        "**%s**" % report["summary"],
        "",
        "- verdict: **%s** (%s); complete: %s; failures: %d" % (
            report["verdict"], _VERDICT_TEXT[report["verdict"]], "yes" if report["complete"] else "no",
            report["failures"]),
        "- started: %s; probe started: %s" % (run.get("started") or "?", run.get("probe_started") or "-"),
        "- context: %s; data plane: %s; istioctl: %s" % (
            s["context"] or "(current)", "yes" if s["data_plane"] else "no",
            s["istioctl"] or "not found"),
        "- hosts: %s; calls per host: %d (%s)" % (
            ", ".join(h["url"] for h in s["hosts"]), s["calls"], retry_text(s.get("call_retries", 0))),
        "- settle: %s" % (report["settle"]["text"] if report.get("settle")
                          else "the settle wait did not run (no egress_verify_settle fact)"),
        "",
        "## Two-hop path",
        "",
        render_diagram(report),
        "",
        "## Acceptance (guide 7.5, extended)",
        "",
        "| check | expected | actual | verdict | evidence from |",
        "|---|---|---|---|---|",
    ]
    for r in report["checks"]:
        actual = r["actual"] + ((" (\u26a0 %s)" % r["settle_note"]) if r.get("settle_note") else "")
        lines.append("| %s | %s | %s | %s | %s |" % (_md_cell(r["name"]), _md_cell(r["expected"]),
                                                     _md_cell(actual), MARKS[r["verdict"]],
                                                     _md_cell(r.get("source") or "-")))
    if report["diagnosis"]:
        lines += ["", "## Diagnosis", ""]
        for d in report["diagnosis"]:
            lines += [
                "### %s" % d["id"],
                "",
                "- symptom: %s" % d["symptom"],
                "- likely cause: %s" % d["cause"],
                "- fix: %s" % d["fix"],
                "- see: %s" % d["guide"],
            ]
            for e in d["evidence"]:
                if e:
                    lines.append("  - evidence: `%s`" % str(e).replace("`", "'"))
            lines.append("")
    lines += ["", "## Evidence", ""]
    for r in report["checks"]:
        lines.append("### %s: %s" % (r["name"], MARKS[r["verdict"]]))
        lines.append("")
        if r["reason"]:
            lines.append("- not run because: %s" % r["reason"])
        if r.get("source"):
            lines.append("- evidence from: %s" % r["source"])
        if r.get("settle_note"):
            lines.append("- settle: %s" % r["settle_note"])
        for e in r["evidence"]:
            lines.append("- `%s`" % str(e).replace("`", "'"))
        lines.append("")
    lines += ["## Reproduce", "", "```sh"]
    for r in report["checks"]:
        lines.append("# %s" % r["name"])
        lines.extend(r["reproduce"])
    lines += ["```", ""]
    return "\n".join(lines)


def render_junit(report):
    """JUnit XML: one testcase per check (not_run -> skipped with the reason, fail -> failure),
    then the testcase "verdict: proof complete", which fails unless the verdict is proved:
    a JUnit reader that counts failures never takes an incomplete run for a pass."""
    c = report["counts"]
    verdict_failed = report["verdict"] != "proved"
    tests = len(report["checks"]) + 1
    failures = c[FAIL] + (1 if verdict_failed else 0)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<testsuites name="egress_verify" tests="%d" failures="%d" skipped="%d">' % (tests, failures, c[NOT_RUN]),
           '  <testsuite name="egress_verify" tests="%d" failures="%d" errors="0" skipped="%d" timestamp=%s>' % (
               tests, failures, c[NOT_RUN], _xml_quoteattr(str(report["run"].get("started", "")))),
           '    <properties>',
           '      <property name="verdict" value=%s/>' % _xml_quoteattr(report["verdict"]),
           '      <property name="passed" value=%s/>' % _xml_quoteattr(str(report["passed"]).lower()),
           '      <property name="complete" value=%s/>' % _xml_quoteattr(str(report["complete"]).lower()),
           '      <property name="failures" value="%d"/>' % report["failures"],
           '      <property name="settle_synced" value=%s/>' % _xml_quoteattr(
               str(bool((report.get("settle") or {}).get("synced"))).lower()),
           '      <property name="settle_waited_s" value=%s/>' % _xml_quoteattr(
               str((report.get("settle") or {}).get("waited_s"))),
           '    </properties>']
    for r in report["checks"]:
        out.append('    <testcase classname="egress_verify" name=%s>' % _xml_quoteattr(r["name"]))
        if r["verdict"] == FAIL:
            out.append('      <failure message=%s>%s</failure>' % (
                _xml_quoteattr(r["actual"]), _xml_escape("\n".join(
                    ["expected: %s" % r["expected"], "actual: %s" % r["actual"]] + r["evidence"]))))
        elif r["verdict"] == NOT_RUN:
            out.append('      <skipped message=%s/>' % _xml_quoteattr(r["reason"] or r["actual"]))
        out.append('      <system-out>%s</system-out>' % _xml_escape("\n".join(
            ["expected: %s" % r["expected"], "actual: %s" % r["actual"]] + r["evidence"]
            + ["reproduce: %s" % x for x in r["reproduce"]])))
        out.append('    </testcase>')
    out.append('    <testcase classname="egress_verify" name="verdict: proof complete">')
    if verdict_failed:
        out.append('      <failure message=%s>%s</failure>' % (
            _xml_quoteattr(report["summary"]), _xml_escape(
                "verdict %s: %s" % (report["verdict"], _VERDICT_TEXT[report["verdict"]]))))
    out.append('    </testcase>')
    if report["diagnosis"]:
        out.append('    <system-err>%s</system-err>' % _xml_escape("\n".join(
            "%s: %s -> %s" % (d["id"], d["cause"], d["fix"]) for d in report["diagnosis"])))
    out += ['  </testsuite>', '</testsuites>', '']
    return "\n".join(out)


def render_json(report):
    return json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"


def report_directory(dest, cwd, home):
    """The absolute report directory on the host that writes the files ('' when dest is empty).

    The egress_verify_report module runs on the host the play targets, so a relative dest starts
    in that process's working directory there (``cwd``): the directory ansible-playbook runs in
    with a local connection, the remote user's login directory on a remote host. ``~`` is that
    host's ``home``. Nothing is read from the disk here.
    """
    dest = "" if dest is None else str(dest).strip()
    if not dest:
        return ""
    if dest == "~" or dest.startswith("~/"):
        dest = home + dest[1:]
    if not posixpath.isabs(dest):
        dest = posixpath.join(cwd, dest)
    return posixpath.normpath(dest)
