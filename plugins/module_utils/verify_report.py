# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verdicts, diagnosis and report rendering for the egress_verify role.

Pure functions only: no I/O, no AnsibleModule, stdlib only. The role collects
facts (Kubernetes objects, istioctl output, curl status codes, the results of
the egress_log_assert and istio_proxy_config modules) into one dict; this file
turns that dict into

* one row per check (guide section 7.5, extended): name, expected, actual,
  verdict (pass | fail | not_run), evidence, reproduce commands;
* a diagnosis: the guide's section 9 symptoms and the NOTES' common problems
  matched against the facts, each with the likely cause and the fix;
* report.md, junit.xml and report.json texts (verify_render.py).

This file assembles the report from the parts: verify_inputs.py (input
checking), verify_parse.py (istioctl/curl/module-result parsing),
verify_checks_control.py and verify_checks_traffic.py (the eight checks),
verify_diagnosis.py (named diagnosis rules) and verify_render.py.

A check that cannot run in an environment (no data plane, no istioctl, the
enforcement layer switched off) is ``not_run`` with the reason and is never
counted as passed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The parts, one job per file (docs/egress_verify.md, "Code layout"); their
# public names are re-exported here so callers keep one import.
from ansible_collections.homelab.istio_egress.plugins.module_utils.common_text import flags_allowed, histogram, plural
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_checks_config import check_blocking, check_routing
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_checks_control import check_analyze, check_preconditions, check_xds
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_checks_traffic import check_call, check_gateway_log, check_l3
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_common import (
    CHECK_NAMES,
    CHECKS,
    FAIL,
    MARKS,
    NOT_RUN,
    PASS,
    SCHEMA_VERSION,
    VERDICTS,
    VerifyReportError,
    as_dict,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_context import (
    SETTLE_CHECKS,
    evidence_sources,
    settle_note,
    settle_summary,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_diagnosis import diagnose
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_inputs import (
    by_host,
    destination_rule_summary,
    gateway_summary,
    module_error,
    normalise_facts,
    normalise_settings,
    parse_label_selector,
    pod_summary,
    redact,
    report_facts,
    selector_matches,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_parse import (
    REQUIRED_XDS_TYPES,
    hop2_cluster,
    parse_analyze,
    parse_curl_codes,
    parse_curl_output,
    parse_proxy_status,
    xds_verdict,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_render import render_diagram, render_json, render_junit, render_markdown

__all__ = (  # the public names, the re-exported parts included, so they count as used
    "CHECKS",
    "CHECK_NAMES",
    "FAIL",
    "MARKS",
    "NOT_RUN",
    "PASS",
    "REQUIRED_XDS_TYPES",
    "SCHEMA_VERSION",
    "SETTLE_CHECKS",
    "VERDICTS",
    "VerifyReportError",
    "as_dict",
    "build_report",
    "by_host",
    "check_analyze",
    "check_blocking",
    "check_call",
    "check_gateway_log",
    "check_l3",
    "check_preconditions",
    "check_routing",
    "check_xds",
    "destination_rule_summary",
    "diagnose",
    "evidence_sources",
    "flags_allowed",
    "gateway_summary",
    "histogram",
    "hop2_cluster",
    "module_error",
    "normalise_facts",
    "normalise_settings",
    "parse_analyze",
    "parse_curl_codes",
    "parse_curl_output",
    "parse_label_selector",
    "parse_proxy_status",
    "plural",
    "pod_summary",
    "redact",
    "render_diagram",
    "render_json",
    "render_junit",
    "render_markdown",
    "report_facts",
    "selector_matches",
    "settle_note",
    "settle_summary",
    "summary_line",
    "xds_verdict",
)

# The three verdicts of a whole run (report.json "verdict").
PROVED = "proved"
FAILED = "failed"
INCOMPLETE = "incomplete"
HEADLINES = {PROVED: "PROVED", FAILED: "FAILED", INCOMPLETE: "INCOMPLETE (not proved)"}


def _hop_marks(by):
    """One mark per hop: fail if any of its evidence failed, pass only if all of it passed.

    Hop 1 is proven by the client's config (check 6, client side) and the
    gateway log (check 5); hop 2 by the gateway's config (check 6, gateway
    side) and the calls (check 4). Evidence that was not run leaves the hop
    "not run" (never "pass").
    """
    def combine(verdicts):
        if FAIL in verdicts:
            return FAIL
        if verdicts and all(v == PASS for v in verdicts):
            return PASS
        return NOT_RUN

    def side(key):
        routing = by["routing"]
        return NOT_RUN if routing["verdict"] == NOT_RUN and not routing["details"].get(key) else (
            routing["details"].get(key) or NOT_RUN)

    return {
        "hop1": combine([side("hop1"), by["gateway_log"]["verdict"]]),
        "hop2": combine([side("hop2"), by["call"]["verdict"]]),
    }


def build_report(facts):
    """Evaluate all checks and the diagnosis; return the report dict."""
    facts = normalise_facts(facts)
    s = normalise_settings(facts.get("settings"))
    pre = check_preconditions(facts, s)
    call = check_call(facts, s)
    rows = [
        pre,
        check_xds(facts, s, pre),
        check_analyze(facts, s),
        call,
        check_gateway_log(facts, s, pre),
        check_routing(facts, s, pre),
        check_blocking(facts, s),
        check_l3(facts, s, call),
    ]
    # Where each check's evidence came from (live proxy or saved dump), and
    # whether the config had arrived when checks 5-7 ran (the settle wait).
    sources = evidence_sources(facts, s, rows)
    settle = settle_summary(facts)
    note = settle_note(settle)
    for r in rows:
        r["source"] = sources.get(r["id"], "")
        r["settle_note"] = note if r["id"] in SETTLE_CHECKS else ""
    by = {r["id"]: r for r in rows}
    diagnosis = diagnose(facts, rows, s)
    counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in VERDICTS}
    complete = counts[NOT_RUN] == 0
    no_failures = counts[FAIL] == 0
    verdict = FAILED if not no_failures else (PROVED if complete else INCOMPLETE)
    report = {
        "schema": SCHEMA_VERSION,
        "run": redact(as_dict(facts.get("run"))),
        "settings": s,
        # true only when every check ran and passed: a run with checks not run
        # proves nothing about them, so it is never "passed" (issue 10).
        "passed": verdict == PROVED,
        "verdict": verdict,
        "complete": complete,
        "no_failures": no_failures,
        "failures": counts[FAIL],
        "counts": counts,
        "checks": rows,
        "failed_checks": [r["id"] for r in rows if r["verdict"] == FAIL],
        "not_run_checks": [r["id"] for r in rows if r["verdict"] == NOT_RUN],
        "diagnosis": diagnosis,
        "hops": _hop_marks(by),
        "settle": settle,
        # Only what the proof needs, without env values or annotations (issue 12).
        "facts": report_facts(facts),
    }
    report["summary"] = summary_line(report)
    return report


def summary_line(report):
    c = report["counts"]
    text = "egress_verify: %s - %d passed, %d failed, %d not run" % (
        HEADLINES[report["verdict"]], c[PASS], c[FAIL], c[NOT_RUN])
    if report["failed_checks"]:
        text += " (failed: %s)" % ", ".join(report["failed_checks"])
    if report["not_run_checks"]:
        text += " (not run: %s)" % ", ".join(report["not_run_checks"])
    if report["diagnosis"]:
        text += "; likely cause: %s" % report["diagnosis"][0]["id"]
    return text
