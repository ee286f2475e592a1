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
  - For a task on the controller's own local connection without C(become) (a play on localhost, or a task
    delegated to the implicit localhost), the action plugin of the same name runs this module's code in
    the controller's process instead of starting a module process; the result, the files and the
    resolution of O(dest) are the same (a relative O(dest) starts in the playbook's directory, where Ansible
    runs a module over the local connection). Any other connection, or C(become), runs the module.
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
in_controller:
  description: True when it ran in the controller's process (action plugin), false when the module ran.
  returned: always
  type: bool
  sample: true
markdown:
  description: The rendered report.md text.
  returned: when O(return_markdown=true)
  type: str
  sample: "# Egress verification report\n..."
"""

import os
import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_write import argument_spec, run


def _home():
    """This host's home directory for a ``~`` in dest (HOME, else the password database)."""
    return os.environ.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    # Resolved here, on the host that writes the files (not on the controller): a relative dest
    # starts in this process's working directory (docs/egress_verify.md "Where the report goes").
    result = run(module.params, module.check_mode, os.getcwd(), _home())
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
