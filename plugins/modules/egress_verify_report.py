#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: egress_verify_report
short_description: Judge the egress checks, diagnose failures and write report.json, report.md and junit.xml
version_added: "0.1.0"
description:
  - Takes the facts collected by the C(homelab.istio_egress.egress_verify) role (Kubernetes objects,
    C(istioctl) output, curl status codes, the results of M(homelab.istio_egress.egress_log_assert) and
    M(homelab.istio_egress.istio_proxy_config)) and decides a verdict per check
    (V(pass), V(fail) or V(not_run) with the reason).
  - Maps failures to the likely cause and fix (guide section 9 and the collection's field notes).
  - Writes C(report.json), C(report.md) and C(junit.xml) into O(dest) when it is given.
  - The module never fails because a check failed; the role decides what to do with RV(verdict). It fails
    only on facts of the wrong shape (one sentence naming the key) or when the report cannot be written.
  - RV(passed) is true only when every check ran and passed (RV(verdict) V(proved)); a run where some checks
    did not run is V(incomplete), never passed, even with no failure.
  - The report files keep only what the proof needs (names, labels, images, container names and statuses);
    container environment values, args and annotations are never written. The directory is created with
    mode 0700, the files with mode 0600, each through a temporary file with an unpredictable name.
  - It reads nothing from the cluster. The only side effect is writing the report files, which is the
    verification's output; in check mode nothing is written and C(changed) tells whether the files
    would have changed.
author:
  - homelab platform engineers (!UNKNOWN)
options:
  facts:
    description:
      - The collected facts. Required key C(settings) (C(hosts) list of C(host)/C(port)/C(url), C(calls),
        C(data_plane), C(istioctl), C(registry_only), C(calico), C(gateway), C(client), C(unregistered),
        C(namespaces), C(context), C(call_retries)); optional keys C(run), C(preconditions) (with
        C(gateway_service)), C(xds), C(analyze), C(calls), C(gateway_log), C(gateway_log_any_time), C(routing),
        C(blocking), C(l3), C(istiod) (C(images), C(injector_values)).
      - curl and istioctl output is given raw (C(stdout), C(stderr), C(rc)) and parsed by the module.
      - See C(docs/egress_verify.md) for the layout; absent parts make their check V(not_run).
    type: dict
    required: true
  dest:
    description:
      - Directory for the report files on the host the task runs on; created (mode 0700) when missing.
      - A relative path starts in the module's working directory on that host (the directory
        ansible-playbook runs in with a local connection, the remote user's login directory over SSH);
        RV(dest) returns the absolute path.
      - When empty, the verdicts are returned and nothing is written.
    type: path
    default: ""
  formats:
    description: Which report files to write.
    type: list
    elements: str
    choices: [json, md, junit]
    default: [json, md, junit]
  return_markdown:
    description: Also return the rendered C(report.md) text as RV(markdown).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: In check mode the verdicts are computed and returned, and nothing is written.
  diff_mode:
    support: none
    description: The report files are new output, not a change to show as a diff.
notes:
  - Runs on the host the play targets (the controller for a play on localhost); the report directory is on
    that host.
seealso:
  - module: homelab.istio_egress.egress_log_assert
  - module: homelab.istio_egress.istio_proxy_config
"""

EXAMPLES = r"""
- name: Judge the collected facts and write the report
  homelab.istio_egress.egress_verify_report:
    facts: "{{ egress_verify_facts }}"
    dest: "{{ egress_verify_report_dir }}"
  register: egress_verify_result

- name: Fail the play when a check failed
  ansible.builtin.fail:
    msg: "{{ egress_verify_result.summary }}"
  when: not egress_verify_result.no_failures

- name: Require a complete proof (every check ran and passed)
  ansible.builtin.assert:
    that: egress_verify_result.verdict == 'proved'
    fail_msg: "{{ egress_verify_result.summary }}"
"""

RETURN = r"""
passed:
  description: True only when every check ran and passed (RV(verdict) is V(proved)).
  returned: always
  type: bool
  sample: false
verdict:
  description: V(proved) (every check ran and passed), V(failed) (at least one check failed) or
    V(incomplete) (nothing failed, but some checks did not run).
  returned: always
  type: str
  sample: incomplete
complete:
  description: True when every check ran (none is V(not_run)).
  returned: always
  type: bool
  sample: false
no_failures:
  description: True when no check failed.
  returned: always
  type: bool
  sample: true
failures:
  description: Number of failed checks.
  returned: always
  type: int
  sample: 0
dest:
  description: The absolute report directory on the host the task ran on (empty when O(dest) is empty).
  returned: always
  type: str
  sample: /srv/ops/istio-egress/reports/20261202T040000Z
summary:
  description: One line for the play output.
  returned: always
  type: str
  sample: "egress_verify: FAILED - 6 passed, 2 failed, 0 not run (failed: gateway_log, routing); likely cause: ..."
counts:
  description: Number of checks per verdict.
  returned: always
  type: dict
  sample: {"pass": 2, "fail": 2, "not_run": 4}
checks:
  description:
    - One row per check, in report order.
    - C(source) says where its evidence came from (C(live proxy), C(saved dump (<origin>)), the Kubernetes API,
      istioctl); C(settle_note) whether the config had arrived (checks 5-7).
  returned: always
  type: list
  elements: dict
  sample:
    - id: call
      name: "4. Call from the client"
      expected: "5 calls per host from the client, each 200"
      actual: "httpbin.org: 200\u00d75"
      verdict: pass
      reason: ""
      evidence: ["httpbin.org https://httpbin.org/get -> 200 200 200 200 200 (rc 0)"]
      reproduce: ["kubectl -n mesh-test exec deploy/sleep -c sleep -- curl -sS -o /dev/null ..."]
      details: {}
      source: "live proxy: curl in the client pod's container"
      settle_note: ""
failed_checks:
  description: Ids of the failed checks.
  returned: always
  type: list
  elements: str
  sample: ["gateway_log"]
not_run_checks:
  description: Ids of the checks that could not run (the reason is in each row).
  returned: always
  type: list
  elements: str
  sample: ["xds_sync", "l3_lock"]
diagnosis:
  description: Likely causes for the failures, each with symptom, cause, fix, guide reference and evidence.
  returned: always
  type: list
  elements: dict
  sample:
    - id: hop1_not_matched
      symptom: "calls to httpbin.org return 200 but the gateway log has 0 entries"
      cause: "the traffic leaves through the client sidecar directly ..."
      fix: "check the VirtualService hop-1 match ..."
      guide: "guide 7.2, 9 (200 but no gateway log)"
      evidence: ["..."]
settle:
  description:
    - How long the proof waited for the proxies to carry the config (the role's fact egress_verify_settle),
      with one sentence in C(text); null when the facts have no C(settle).
    - When C(synced) is not true, checks 5-7 carry a C(settle_note) saying so.
  returned: always
  type: dict
  sample: {"waited_s": 3.4, "synced": true, "method": "config_dump", "timeout_s": 60, "reason": "",
           "text": "proof only after the config arrived: ...; it took 3.4 s (config_dump, bounded by 60 s)"}
hops:
  description: Verdict per hop of the two-hop path (hop1 client sidecar to gateway, hop2 gateway to external).
  returned: always
  type: dict
  sample: {"hop1": "fail", "hop2": "pass"}
files:
  description: Paths of the report files written (or that would be written in check mode).
  returned: always
  type: list
  elements: str
  sample: ["reports/20261127T101500Z/report.json", "reports/20261127T101500Z/report.md"]
markdown:
  description: The rendered report.md text.
  returned: when O(return_markdown=true)
  type: str
  sample: "# Egress verification report\n..."
"""

import os
import pwd
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_render import report_directory
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_report import (
    VerifyReportError,
    build_report,
    render_json,
    render_junit,
    render_markdown,
    report_facts,
)

FILES = (
    ("json", "report.json", render_json),
    ("md", "report.md", render_markdown),
    ("junit", "junit.xml", render_junit),
)


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


def _home():
    """This host's home directory for a ``~`` in dest (HOME, else the password database)."""
    return os.environ.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir


def main():
    module = AnsibleModule(
        argument_spec=dict(
            facts=dict(type="dict", required=True),
            dest=dict(type="path", default=""),
            formats=dict(type="list", elements="str", choices=["json", "md", "junit"],
                         default=["json", "md", "junit"]),
            return_markdown=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    # The echoed arguments (invocation) would carry the raw pods, env values
    # included, into the task result: echo the redacted facts instead (issue 12).
    invocation = {"module_args": dict(module.params, facts=_safe_facts(module.params["facts"]))}
    try:
        report = build_report(module.params["facts"])
        rendered = [(name, fn(report)) for key, name, fn in FILES if key in module.params["formats"]]
    except VerifyReportError as exc:
        module.fail_json(msg="egress_verify_report: %s" % exc, invocation=invocation)
    except Exception as exc:
        # The pure functions validate the shapes they read; anything that still
        # escapes is one sentence, never a traceback (issue 10).
        module.fail_json(msg="egress_verify_report: the facts have an unexpected shape (%s: %s); "
                             "collect them with the egress_verify role" % (type(exc).__name__, to_native(exc)),
                         invocation=invocation)

    # Resolved here, on the host that writes the files (not on the controller): a relative dest
    # starts in this process's working directory (docs/egress_verify.md "Where the report goes").
    dest = report_directory(module.params["dest"], os.getcwd(), _home())
    files, changed = [], False
    if dest:
        for name, text in rendered:
            path = os.path.join(dest, name)
            data = to_bytes(text, errors="surrogate_or_strict")
            files.append(path)
            if not _differs(path, data):
                continue
            changed = True
            if module.check_mode:
                continue
            try:
                _write_private(dest, name, data)
            except (IOError, OSError) as exc:
                module.fail_json(msg="egress_verify_report: could not write %s: %s" % (path, to_native(exc)),
                                 invocation=invocation)

    result = dict(
        changed=changed,
        passed=report["passed"],
        verdict=report["verdict"],
        complete=report["complete"],
        no_failures=report["no_failures"],
        failures=report["failures"],
        summary=report["summary"],
        counts=report["counts"],
        checks=report["checks"],
        failed_checks=report["failed_checks"],
        not_run_checks=report["not_run_checks"],
        diagnosis=report["diagnosis"],
        hops=report["hops"],
        settle=report["settle"],
        dest=dest,
        files=files,
        invocation=invocation,
    )
    if module.params["return_markdown"]:
        result["markdown"] = render_markdown(report)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
