#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cluster_read
short_description: Read Kubernetes objects, the served APIs and wait conditions in one call
version_added: 0.2.0
description:
  - Runs several reads against the Kubernetes API in one task, over one connection, with the Python
    standard library only (no C(kubernetes) client import, which costs about half a second per task).
  - Each entry of O(queries) reads objects by name or by label and field selectors, like
    M(kubernetes.core.k8s_info), and may wait until a status condition holds.
  - With O(discovery=true) it also returns what the cluster serves (RV(apis)) and its version
    (RV(server_version)), like M(kubernetes.core.k8s_cluster_info).
  - When the task runs on the controller (connection C(local), or delegated to C(localhost)), the action
    plugin of the same name runs the reads in the controller's own process (no module is shipped or
    started); otherwise this module runs on the target. Both give the same result.
  - A kind or API the cluster does not serve is not an error (its entry of RV(results) has C(served=false) and no
    resources).
  - The module never changes anything.
author:
  - homelab platform engineers (!UNKNOWN)
options:
  discovery:
    description:
      - Also read the served APIs (aggregated discovery of C(/api) and C(/apis)) and C(/version).
    type: bool
    default: false
  queries:
    description:
      - The reads, as a dictionary of a name (used in RV(results) and in messages) to a query.
      - "Each query takes: C(api_version) (required, V(v1) or C(group/version)); C(kind) (required, as in
        manifests); C(name); C(namespace) (all namespaces when omitted for a namespaced kind);
        C(label_selectors) and C(field_selectors) (lists of selector strings, joined with commas);
        C(wait_condition) (C(type), C(status) default V(True), optional C(reason)): poll until every matching
        object has it; C(wait_timeout) (seconds, default 120); C(wait_sleep) (seconds between polls, default 2)."
      - The queries run in the given order; the first failure ends the task, naming the query.
    type: dict
    default: {}
extends_documentation_fragment:
  - homelab.istio_egress.kube_auth
  - homelab.istio_egress.kube_request
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
notes:
  - Kubeconfig users with C(exec) or C(auth-provider) plugins are handed to the C(kubernetes) client's loader,
    which runs the plugin; only then is the client needed.
  - With neither O(kubeconfig) nor O(context), only the first file of E(KUBECONFIG) is read (lists are not
    merged), else C(~/.kube/config); a pod's service account is used first when running in a cluster.
  - An answer larger than 64 MiB is refused; list reads are paged (500 objects a page).
  - See docs/cluster_read.md in the collection for the rules and limits.
"""

EXAMPLES = r"""
- name: Read a namespace, the sleep pods and wait for the Deployment
  homelab.istio_egress.cluster_read:
    kubeconfig: ~/.kube/config
    queries:
      ns: {api_version: v1, kind: Namespace, name: mesh-test}
      pods: {api_version: v1, kind: Pod, namespace: mesh-test, label_selectors: ["app=sleep"]}
      dep:
        api_version: apps/v1
        kind: Deployment
        namespace: mesh-test
        name: sleep
        wait_condition: {type: Available, status: "True"}
        wait_timeout: 120
  register: read

- name: What the cluster serves
  homelab.istio_egress.cluster_read:
    discovery: true
  register: cluster

- name: Use it
  ansible.builtin.debug:
    msg: "{{ 'Sidecar' in (cluster.apis['networking.istio.io/v1'] | default({})) }}"
"""

RETURN = r"""
results:
  description:
    - One entry per query, under the query's name.
    - C(resources) lists the live objects (with C(apiVersion) and C(kind)); a read by name gives 0 or 1.
    - C(served) is false when the cluster does not serve the kind or its API (then C(resources) is empty).
    - Wait queries also have C(waited) (seconds) and C(wait_met) (true; a wait not met fails the task).
  returned: always
  type: dict
  sample:
    ns: {served: true, resources: [{apiVersion: v1, kind: Namespace, metadata: {name: mesh-test}}]}
    dep: {served: true, resources: [], waited: 3.2, wait_met: true}
apis:
  description:
    - Served APIs as C(<group/version>) (C(v1) for the core group) to a dictionary of kinds, each with
      C(name) (the plural resource), C(namespaced), C(preferred), C(singular_name), C(short_names), C(categories),
      the shape of M(kubernetes.core.k8s_cluster_info)'s C(apis).
  returned: when O(discovery=true)
  type: dict
  sample: {"apps/v1": {"Deployment": {"name": "deployments", "namespaced": true, "preferred": true}}}
server_version:
  description: The API server's C(/version) answer.
  returned: when O(discovery=true)
  type: dict
  sample: {"major": "1", "minor": "34", "gitVersion": "v1.34.1"}
connection:
  description: The API server URL and kubeconfig context used.
  returned: always
  type: dict
  sample: {"server": "https://127.0.0.1:6443", "context": "homelab"}
requests:
  description: Number of HTTP requests the call made.
  returned: always
  type: int
  sample: 4
in_controller:
  description: True when the reads ran in the controller's process (the action plugin), false for the module.
  returned: always
  type: bool
  sample: true
cause:
  description: On failure, the cause in a few words (credentials rejected, forbidden, timed out, refused, TLS).
  returned: failure
  type: str
  sample: "credentials rejected (401 Unauthorized: the token or client certificate is not accepted)"
"""

from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_module import run_module
from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_rest_read import argument_spec, call


def main():
    run_module(argument_spec(), call)


if __name__ == "__main__":
    main()
