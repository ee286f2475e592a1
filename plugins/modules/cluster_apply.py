#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cluster_apply
short_description: Server-side apply a list of Kubernetes manifests in one call, writing only what changes
version_added: 0.2.0
description:
  - Applies the manifests of O(objects) with Kubernetes server-side apply (a C(PATCH) of
    type C(application/apply-patch+yaml) with O(field_manager) and C(force=true)), over one connection, with the
    Python standard library only (no C(kubernetes) client import, which costs about half a second per task).
  - Every object is read before any is written (a C(GET) each, or one paged C(LIST) for several objects of one
    kind in one namespace). With O(guard), the ownership rule of the collection judges them all first, and one
    object of someone else's fails the call before any write.
  - Idempotent without writing, each existing object is dry-run applied (C(dryRun=All)); only an
    object that does not exist or whose dry-run result differs from the live object is written. The comparison
    leaves out C(status) and the metadata the API server rewrites on every write (C(managedFields),
    C(resourceVersion), C(generation), C(uid), C(creationTimestamp)).
  - Cluster-scoped objects (Namespaces, CRDs) are applied first, in the given order. Eight or more namespaced
    objects are then applied over four connections side by side; fewer, in the given order on one connection.
    RV(objects) is always in the given order.
  - When the task runs on the controller (connection C(local), or delegated to C(localhost)), the action
    plugin of the same name applies from the controller's own process (no module is shipped or started);
    otherwise this module runs on the target. Both give the same result.
  - The first failure stops the task; the message names the object (kind, namespace/name), the cause (an
    admission webhook's denial as the webhook worded it, a 403's verb and resource), and what was applied before it
    (a failure while reading writes nothing).
  - The module never deletes; use M(kubernetes.core.k8s) with C(state=absent) for that.
author:
  - homelab platform engineers (!UNKNOWN)
options:
  objects:
    description:
      - The manifests to apply, in order (a Namespace before the objects in it), or one manifest as a dictionary.
      - Each needs C(apiVersion), C(kind) and C(metadata.name); C(metadata.namespace) for a namespaced kind.
        C(status) and the server-written metadata of a manifest copied from a live read are not sent.
    type: raw
    required: true
  field_manager:
    description:
      - The field manager of the applies; it owns the fields the manifests set.
    type: str
    default: homelab.istio_egress
  guard:
    description:
      - Refuse to take over someone else's objects. An existing object of the same kind, namespace and name that
        lacks the label C(app.kubernetes.io/managed-by=homelab.istio_egress) was not created by this collection;
        the call then fails with one sentence naming it and writes nothing, also in check mode (unless O(adopt)).
      - Every manifest must then carry that label, or the next run would refuse what this one writes.
      - Off by default, as for any apply module; the collection's roles always turn it on.
      - RV(plan) and RV(msg) then say per object what the call does (create, update, unchanged, adopt, refuse).
    type: bool
    default: false
  adopt:
    description:
      - With O(guard), take over the objects that lack the label instead of refusing them; they are written with
        the labels of the manifests (and a warning names them). Only valid with O(guard=true).
    type: bool
    default: false
  owner_role:
    description:
      - Who applies, in the messages of O(guard) (the collection's role, such as V(egress_routes)); the refusal
        names it and its remedy C(<owner_role>_adopt=true). Without it the messages say C(cluster_apply) and
        O(adopt).
    type: str
extends_documentation_fragment:
  - homelab.istio_egress.kube_auth
  - homelab.istio_egress.kube_request
attributes:
  check_mode:
    support: full
    description:
      - Every object is dry-run applied and nothing is written; RV(objects) and C(changed) say what a real run
        would do. An object in a namespace that does not exist yet (created by an earlier object of the same call,
        or absent) cannot be dry-run by the API server; it is reported as created, with a C(note) in RV(objects).
  diff_mode:
    support: full
    description:
      - Returns Ansible's C(diff) for every object created or updated (would be, in check mode), with the
        server-written metadata and C(status) left out, and C(before)/C(after) in RV(objects).
notes:
  - A field removed from a manifest is removed from the live object only once the field manager owns it, that is
    after it wrote the object once; an object adopted unchanged (say, created earlier by M(kubernetes.core.k8s))
    is not written, so its fields stay owned by their previous manager until the first real change.
  - See docs/cluster_apply.md in the collection for the rules and limits.
"""

EXAMPLES = r"""
- name: Apply a namespace and the client objects in one call
  homelab.istio_egress.cluster_apply:
    objects:
      - {apiVersion: v1, kind: Namespace, metadata: {name: mesh-test, labels: {istio-injection: enabled}}}
      - {apiVersion: v1, kind: ServiceAccount, metadata: {name: sleep, namespace: mesh-test}}
  register: applied

- name: Objects rendered from a multi-document template
  homelab.istio_egress.cluster_apply:
    objects: "{{ lookup('ansible.builtin.template', 'routes.yaml.j2') | ansible.builtin.from_yaml_all | list }}"

- name: The collection's objects, refusing someone else's of the same names (as the roles do)
  homelab.istio_egress.cluster_apply:
    objects: "{{ lookup('ansible.builtin.template', 'routes.yaml.j2') | ansible.builtin.from_yaml_all | list }}"
    guard: true
    adopt: "{{ egress_routes_adopt | bool }}"
    owner_role: egress_routes
"""

RETURN = r"""
objects:
  description:
    - One entry per object applied (or checked, in check mode), in order; on a failure, the objects before it.
    - C(action) is V(created), V(updated) or V(unchanged) (what a real run would do, in check mode).
    - C(note) explains an object reported without asking the API (check mode, its namespace does not exist yet).
    - C(before) and C(after) (server-written metadata and C(status) left out) only in diff mode.
  returned: always
  type: list
  elements: dict
  sample:
    - {api_version: v1, kind: Namespace, namespace: null, name: mesh-test, action: unchanged}
    - {api_version: apps/v1, kind: Deployment, namespace: mesh-test, name: sleep, action: updated}
diff:
  description: Ansible's diff, one item per object created or updated (C(before), C(after) and their headers).
  returned: in diff mode
  type: list
  elements: dict
  sample: [{before: {}, after: {apiVersion: v1, kind: Namespace, metadata: {name: mesh-test}},
            before_header: "Namespace mesh-test (live)", after_header: "Namespace mesh-test (applied)"}]
plan:
  description:
    - With O(guard), what the call does to each object, in order; C(action) is V(create), V(update),
      V(unchanged), V(adopt) or V(refuse) (what a real run would do, in check mode). C(summary) says it in words.
    - In diff mode the plan is also the first item of C(diff), so C(--diff) prints it when the task is changed
      (Ansible prints no diff for an unchanged task; RV(msg) still carries it).
  returned: when guard is true and the objects could be read
  type: dict
  sample: {entries: [{id: Gateway mesh-test/istio-egressgateway, action: adopt}],
           summary: "would adopt (take over, not labelled by the collection) Gateway mesh-test/istio-egressgateway"}
msg:
  description: With O(guard), the plan in one sentence, headed by O(owner_role); on failure, what failed.
  returned: when guard is true, and on failure
  type: str
  sample: egress_routes would create ServiceEntry mesh-test/httpbin-ext; leaves unchanged Gateway mesh-test/istio-egressgateway.
connection:
  description: The API server URL and kubeconfig context used.
  returned: when the connection settings could be read
  type: dict
  sample: {"server": "https://127.0.0.1:6443", "context": "homelab"}
requests:
  description: Number of HTTP requests the call made (a converged object costs two, plus one discovery per API group).
  returned: when the connection settings could be read
  type: int
  sample: 9
in_controller:
  description: True when the objects were applied from the controller's process (the action plugin), false for the module.
  returned: always
  type: bool
  sample: true
cause:
  description: On failure, the cause in a few words (the webhook's denial, forbidden, credentials rejected, timed out).
  returned: failure
  type: str
  sample: 'admission webhook "validation.istio.io" denied the request: configuration is invalid: ...'
"""

from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_module import run_module
from ansible_collections.homelab.istio_egress.plugins.module_utils.kube_rest_apply import argument_spec, call


def main():
    run_module(argument_spec(), call, modes=True)


if __name__ == "__main__":
    main()
