# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""egress_verify_report's run, written once for its two forms (I/O: writes the report files).

The module (plugins/modules/egress_verify_report.py) calls it on the host the play targets; the
action plugin of the same name (plugins/action/egress_verify_report.py) calls it in the
controller's process for a task on the controller's own local connection. Both hand it the
validated options, check mode, the working directory a relative ``dest`` starts in and the home
directory of ``~``; the judging is the pure code of verify_report.py, the directory rule
verify_render.report_directory.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_render import report_directory
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_report import (
    VerifyReportError,
    build_report,
    render_json,
    render_junit,
    render_markdown,
    report_facts,
)

ARGUMENT_SPEC = dict(
    facts=dict(type="dict", required=True),
    dest=dict(type="path", default=""),
    formats=dict(type="list", elements="str", choices=["json", "md", "junit"], default=["json", "md", "junit"]),
    return_markdown=dict(type="bool", default=False),
)

FILES = (
    ("json", "report.json", render_json),
    ("md", "report.md", render_markdown),
    ("junit", "junit.xml", render_junit),
)

# The result keys a report returns, in the module's RETURN order.
REPORT_KEYS = ("passed", "verdict", "complete", "no_failures", "failures", "summary", "counts", "checks",
               "failed_checks", "not_run_checks", "diagnosis", "hops", "settle")


def argument_spec():
    return {k: dict(v) for k, v in ARGUMENT_SPEC.items()}


def _differs(path, data):
    try:
        with open(path, "rb") as fh:
            return fh.read() != data
    except (IOError, OSError):
        return True


def _safe_facts(facts):
    try:
        return report_facts(facts) if isinstance(facts, dict) else facts
    except Exception:
        return "<redacted>"


def _write_private(dest, name, data):
    """Write dest/name with mode 0600 through a temporary file with an unpredictable name.

    The report holds the cluster's object names and proxy facts (issue 12):
    the directory is created 0700, and an existing one is left as it is.
    """
    if not os.path.isdir(dest):
        os.makedirs(dest, 0o700)
        os.chmod(dest, 0o700)  # makedirs' mode is filtered by the umask
    fd, tmp = tempfile.mkstemp(prefix=".%s." % name, dir=dest)  # 0600, O_EXCL, random name
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, os.path.join(dest, name))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run(params, check_mode, cwd, home):
    """Judge, render and (unless ``check_mode``) write; return the task result.

    A failure is a result with ``failed`` and one sentence in ``msg``, never an exception. The
    echoed arguments (``invocation``) carry the redacted facts, not the raw pods (issue 12).
    """
    invocation = {"module_args": dict(params, facts=_safe_facts(params["facts"]))}
    try:
        report = build_report(params["facts"])
        rendered = [(name, fn(report)) for key, name, fn in FILES if key in params["formats"]]
    except VerifyReportError as exc:
        return dict(failed=True, msg="egress_verify_report: %s" % exc, invocation=invocation)
    except Exception as exc:
        # The pure functions validate the shapes they read; anything that still
        # escapes is one sentence, never a traceback (issue 10).
        return dict(failed=True, invocation=invocation,
                    msg="egress_verify_report: the facts have an unexpected shape (%s: %s); "
                        "collect them with the egress_verify role" % (type(exc).__name__, exc))

    # Resolved on the host that writes the files: a relative dest starts in ``cwd`` there
    # (docs/egress_verify.md "Where the report goes").
    dest = report_directory(params["dest"], cwd, home)
    files, changed = [], False
    if dest:
        for name, text in rendered:
            path = os.path.join(dest, name)
            data = text.encode("utf-8", "surrogateescape")
            files.append(path)
            if not _differs(path, data):
                continue
            changed = True
            if check_mode:
                continue
            try:
                _write_private(dest, name, data)
            except (IOError, OSError) as exc:
                return dict(failed=True, invocation=invocation,
                            msg="egress_verify_report: could not write %s: %s" % (path, exc))

    result = dict(changed=changed, dest=dest, files=files, invocation=invocation)
    result.update((key, report[key]) for key in REPORT_KEYS)
    if params["return_markdown"]:
        result["markdown"] = render_markdown(report)
    return result
