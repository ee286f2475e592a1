# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The L3 probe pod of egress_verify is hardened, labelled and never touches someone else's pod.

Reads roles/egress_verify/tasks/l3_lock.yml (issue 12 "Least privilege"): before the fix the
pod mounted a ServiceAccount token, ran as the image's user with every default capability and no
deadline, and the `always` step deleted any pod of that name.
"""

from __future__ import annotations

import pathlib

import yaml

TASKS = pathlib.Path(__file__).resolve().parents[3] / "roles" / "egress_verify" / "tasks" / "l3_lock.yml"


def _tasks():
    block = yaml.safe_load(TASKS.read_text(encoding="utf-8"))[0]
    return block["block"], block["always"]


def _named(tasks, start):
    found = [t for t in tasks if t.get("name", "").startswith(start)]
    assert len(found) == 1, [t.get("name") for t in tasks]
    return found[0]


def test_probe_pod_is_hardened():
    body, _always = _tasks()
    pod = _named(body, "L3 lock - throw-away pod")["kubernetes.core.k8s"]["definition"]
    spec = pod["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert 0 < spec["activeDeadlineSeconds"] <= 600
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert isinstance(spec["securityContext"]["runAsUser"], int) and spec["securityContext"]["runAsUser"] > 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = spec["containers"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["securityContext"]["privileged"] is False
    assert container["resources"]["limits"]


def test_probe_pod_carries_the_ownership_labels():
    body, _always = _tasks()
    labels = _named(body, "L3 lock - throw-away pod")["kubernetes.core.k8s"]["definition"]["metadata"]["labels"]
    assert "'egress_verify' | homelab.istio_egress.ownership_labels" in labels
    assert "'sidecar.istio.io/inject': 'false'" in labels


def test_foreign_pod_is_refused_before_anything_is_created_or_deleted():
    body, _always = _tasks()
    names = [t["name"] for t in body]
    refuse = names.index("L3 lock - refuse a pod of that name the collection did not create")
    assert refuse < names.index("L3 lock - remove the probe pod an interrupted run left behind")
    assert refuse < names.index('L3 lock - throw-away pod without sidecar (sidecar.istio.io/inject "false")')
    removal = _named(body, "L3 lock - remove the probe pod")["kubernetes.core.k8s"]
    assert removal["delete_options"]["preconditions"]["uid"].startswith("{{ _egress_verify_l3_existing")


def test_always_deletes_only_an_owned_pod_by_uid():
    _body, always = _tasks()
    delete = _named(always, "L3 lock - delete the throw-away pod")
    assert "homelab.istio_egress.is_owned" in " ".join(delete["when"])
    assert delete["kubernetes.core.k8s"]["delete_options"]["preconditions"]["uid"]


def test_every_api_call_is_bounded():
    body, always = _tasks()
    for task in body + always:
        if any(k.startswith("kubernetes.core.") for k in task):
            assert "timeout" in task, task["name"]
