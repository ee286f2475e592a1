# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verdicts, check names, the row shape and the reproduce-command helpers of the egress_verify report.

Pure, stdlib only; shared by the verify_* files (layout in docs/egress_verify.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


SCHEMA_VERSION = 1

PASS = "pass"
FAIL = "fail"
NOT_RUN = "not_run"
VERDICTS = (PASS, FAIL, NOT_RUN)

# Report order = the numbering of issue 5 / docs/egress_verify.md.
CHECKS = (
    ("preconditions", "1. Preconditions"),
    ("xds_sync", "2. xDS sync"),
    ("analyze", "3. istioctl analyze"),
    ("call", "4. Call from the client"),
    ("gateway_log", "5. Gateway access log"),
    ("routing", "6. Routing in the proxy config"),
    ("blocking", "7. Blocking (REGISTRY_ONLY)"),
    ("l3_lock", "8. L3 lock (Calico)"),
)
CHECK_NAMES = dict(CHECKS)

MARKS = {PASS: "\u2714 pass", FAIL: "\u2718 FAIL", NOT_RUN: "\u25cb not run"}


class VerifyReportError(Exception):
    """The collected facts do not have the expected shape; str(exc) names the key."""


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------

def get_path(mapping, path, default=None):
    """Walk a dotted path through nested dicts; return default when absent."""
    cur = mapping
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


# Shapes at the boundary: the facts come from Ansible (registered results,
# Jinja-rendered dicts), so any value may be None, "" or of another type.
# These coerce without raising, so no odd shape becomes a traceback.

def as_text(value):
    """Text of a stdout/stderr value: None -> '', bytes decoded, a list of lines joined."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        return "\n".join(as_text(v) for v in value)
    return value if isinstance(value, str) else str(value)


def as_list(value):
    """A list, or [] for None/''/anything that is not a list."""
    return list(value) if isinstance(value, (list, tuple)) else []


def as_dict(value):
    """A dict, or {} for anything else."""
    return value if isinstance(value, dict) else {}


def as_int(value):
    """An int, or None when the value is not a whole number (bools are not numbers here)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def last_line(value, limit=300):
    """The last non-blank line of an output, at most `limit` characters ('' when there is none)."""
    lines = [line for line in as_text(value).splitlines() if line.strip()]
    return lines[-1].strip()[:limit] if lines else ""


def verdict_of(problems, unknowns):
    """FAIL on any problem; else NOT_RUN while a needed fact is unknown; PASS only with neither."""
    if problems:
        return FAIL
    return NOT_RUN if unknowns else PASS


def retry_text(retries):
    """'no retries' or 'transient failures retried at most N times each'."""
    return "no retries" if not retries else "transient failures retried at most %d time%s each" % (
        retries, "" if retries == 1 else "s")


def ctx(settings, tool="kubectl"):
    return "%s --context %s" % (tool, settings["context"]) if settings["context"] else tool


def curl_cmd(url, max_time=10):
    return "curl -sS -o /dev/null -w \"%%{http_code}\\n\" --max-time %d %s" % (max_time, url)


def exec_client(settings, command):
    c = settings["client"]
    return "%s -n %s exec deploy/%s -c %s -- %s" % (
        ctx(settings), c["namespace"], c["deployment"], c["container"], command)


# --------------------------------------------------------------------------
# the checks
# --------------------------------------------------------------------------

def row(check_id, expected, actual, verdict, evidence=None, reproduce=None, reason=None, details=None):
    if verdict not in VERDICTS:
        raise VerifyReportError("internal: verdict %r is not one of %s" % (verdict, ", ".join(VERDICTS)))
    return {
        "id": check_id,
        "name": CHECK_NAMES[check_id],
        "expected": expected,
        "actual": actual,
        "verdict": verdict,
        "reason": reason or "",
        "evidence": list(evidence or []),
        "reproduce": list(reproduce or []),
        "details": details or {},
    }


def judged_row(check_id, expected, problems, unknowns, ok_text, evidence=None, reproduce=None, details=None):
    """The row of a check that collected `problems` (-> fail) and `unknowns` (facts it could not read).

    Unknown facts never pass: with no problem they make the check not_run, with
    the unknowns as the reason; with problems they are listed after them.
    """
    verdict = verdict_of(problems, unknowns)
    if verdict == FAIL:
        actual = "; ".join(problems + ["unknown: %s" % u for u in unknowns])
        reason = ""
    elif verdict == NOT_RUN:
        reason = "; ".join(unknowns)
        actual = "not run: %s" % reason
    else:
        actual, reason = ok_text, ""
    return row(check_id, expected, actual, verdict, evidence, reproduce, reason=reason, details=details)


def not_run_row(check_id, expected, reason, reproduce):
    return row(check_id, expected, "not run: %s" % reason, NOT_RUN, reason=reason, reproduce=reproduce)


def no_data_plane_reason(settings):
    return settings["reasons"].get("data_plane") or "no data plane (egress_verify_data_plane: false)"


def no_istioctl_reason(settings):
    return settings["reasons"].get("istioctl") or "istioctl not found on PATH"
