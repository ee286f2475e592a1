# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Helm the controller has, whether kubernetes.core can drive it, and what to do with a
release record stuck in a pending status.

Pure functions (stdlib only, no I/O): the egress_gateway role runs the commands and reads the
cluster, the filters in plugins/filter/helm.py call these, and tests/unit feeds them recorded
outputs. Facts behind the rules are in docs/roles.md ("Helm 3 and Helm 4").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from datetime import datetime

# kubernetes.core gained Helm 4 support in 6.4.0 (PR #1090); 6.x before it refuses Helm 4
# ("Helm version must be >=3.0.0,<4.0.0"), 5.x and older predate Helm 4 and pass it Helm 3 flags.
KUBERNETES_CORE_HELM4 = (6, 4, 0)
SUPPORTED_MAJORS = (3, 4)
PENDING_STATUSES = ("pending-install", "pending-upgrade", "pending-rollback")

_HELM_VERSION_RE = re.compile(r"^v?(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)(?P<rest>[-+][0-9A-Za-z.+-]*)?$")


class HelmCompatError(Exception):
    """Input that cannot be judged; str(exc) is one sentence for the user."""


def parse_helm_version(text):
    """`helm version --short` output ("v3.18.6+g4bb8a61", "v4.3.2") -> dict(version, major, minor, patch).

    Only the first non-empty line counts: Helm prints warnings about the kubeconfig on stderr,
    which the role does not pass in, but a wrapper script might print more.
    """
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        raise HelmCompatError("`helm version --short` printed nothing: cannot tell which Helm this is")
    match = _HELM_VERSION_RE.match(lines[0])
    if not match:
        raise HelmCompatError("`helm version --short` printed %r, not a version such as v3.18.6" % lines[0][:80])
    major, minor, patch = int(match.group("major")), int(match.group("minor")), int(match.group("patch"))
    return {"version": "%d.%d.%d" % (major, minor, patch), "major": major, "minor": minor, "patch": patch,
            "raw": lines[0]}


def version_tuple(text):
    """"6.4.0" -> (6, 4, 0); "6.4.0-dev1" -> (6, 4, 0); "" or garbage -> None."""
    match = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?", (text or "").strip())
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())


def helm_support(helm_version_text, kubernetes_core_version, helm_binary="helm"):
    """Can this controller's kubernetes.core drive this Helm, and how is helm-diff installed for it?

    Returns {helm_version, helm_major, kubernetes_core_version, supported, reason,
    helm_diff_install}; ``reason`` is one sentence (empty when supported). ``helm_diff_install``
    is ``helm_plugin`` (kubernetes.core.helm_plugin, Helm 3) or ``command`` (`helm plugin install
    --verify=false`, Helm 4: the plugin source carries no signature and kubernetes.core.helm_plugin
    has no option to skip the check).
    """
    helm = parse_helm_version(helm_version_text)
    kcore = version_tuple(kubernetes_core_version)
    out = {
        "helm_version": helm["version"],
        "helm_major": helm["major"],
        "kubernetes_core_version": (kubernetes_core_version or "").strip(),
        "supported": True,
        "reason": "",
        "helm_diff_install": "command" if helm["major"] >= 4 else "helm_plugin",
    }
    if helm["major"] not in SUPPORTED_MAJORS:
        out["supported"] = False
        out["reason"] = ("%s is Helm %s, but the egress_gateway role drives Helm 3 or Helm 4: set "
                         "egress_gateway_helm_binary to a Helm 3 or 4 binary" % (helm_binary, helm["version"]))
    elif helm["major"] == 4 and (kcore is None or kcore < KUBERNETES_CORE_HELM4):
        have = ("kubernetes.core %s" % out["kubernetes_core_version"]) if kcore else "no readable kubernetes.core version"
        out["supported"] = False
        out["reason"] = (
            "%s is Helm %s and this controller has %s, which cannot drive Helm 4: install "
            "kubernetes.core >= 6.4.0 (`ansible-galaxy collection install 'kubernetes.core:>=6.4.0'`, or "
            "ansible >= 14 on Python >= 3.12), or set egress_gateway_helm_binary to a Helm 3 binary"
            % (helm_binary, helm["version"], have))
    return out


def parse_plugin_list(text):
    """`helm plugin list` output -> {name: version}. Helm 3 prints NAME VERSION DESCRIPTION,
    Helm 4 NAME VERSION TYPE APIVERSION PROVENANCE SOURCE; both start with NAME and VERSION."""
    plugins = {}
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return plugins
    header = lines[0].split()
    if header[:2] != ["NAME", "VERSION"]:
        raise HelmCompatError("`helm plugin list` printed %r, not a NAME VERSION table" % lines[0][:80])
    for line in lines[1:]:
        cols = line.split()
        plugins[cols[0]] = cols[1] if len(cols) > 1 else ""
    return plugins


def _timestamp(value):
    """A Kubernetes timestamp ("2026-12-02T04:20:00Z") or Helm's modifiedAt label (epoch seconds)."""
    if value in (None, ""):
        return None
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return int((parsed - datetime(1970, 1, 1)).total_seconds())


def deployment_rolling(deployment):
    """Why the release's Deployment looks mid-rollout (what a live `helm upgrade --wait` waits
    for), or "" when it is settled. ``deployment`` is the object (dict) or empty."""
    if not deployment:
        return ""
    meta = deployment.get("metadata") or {}
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    if meta.get("deletionTimestamp"):
        return "its Deployment is being deleted"
    wanted = spec.get("replicas", 1)
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        return "its Deployment has a change the controller has not picked up yet"
    if status.get("updatedReplicas", 0) < wanted:
        return "its Deployment is rolling out (%s of %s replicas updated)" % (status.get("updatedReplicas", 0), wanted)
    if status.get("unavailableReplicas", 0) or status.get("availableReplicas", 0) < wanted:
        return "its Deployment has unavailable replicas (%s of %s available)" % (status.get("availableReplicas", 0), wanted)
    return ""


def pending_release(records, now, grace, recover=False, deployment=None):
    """Decide what to do about the newest Helm release record.

    ``records``: the release Secrets' metadata (labels name, owner, status, version, modifiedAt;
    creationTimestamp). ``now``: epoch seconds. Returns {action, record, status, age, reason}:
    action ``none`` (the newest record is not pending), ``delete`` (stale: older than ``grace``
    and the Deployment is settled, or ``recover`` says so) or ``refuse`` (another Helm run may
    hold it; ``reason`` is one sentence). Never reads or returns the Secrets' data.
    """
    try:
        grace = int(grace)
        now = int(now)
    except (TypeError, ValueError):
        raise HelmCompatError("the grace period and the current time must be whole seconds")
    newest = None
    for meta in records or []:
        labels = meta.get("labels") or {}
        try:
            version = int(labels.get("version", ""))
        except ValueError:
            continue
        if newest is None or version > newest[0]:
            newest = (version, meta)
    if newest is None or (newest[1].get("labels") or {}).get("status") not in PENDING_STATUSES:
        return {"action": "none", "record": "", "status": "", "age": 0, "reason": ""}
    meta = newest[1]
    labels = meta.get("labels") or {}
    changed = [t for t in (_timestamp(meta.get("creationTimestamp")), _timestamp(labels.get("modifiedAt"))) if t]
    age = now - max(changed) if changed else 0
    out = {"action": "delete", "record": meta.get("name", ""), "status": labels["status"], "age": age, "reason": ""}
    if recover:
        return out
    held = []
    if not changed:
        held.append("its age cannot be read")
    elif age < grace:
        held.append("it is younger than egress_gateway_pending_release_grace (%ss)" % grace)
    rolling = deployment_rolling(deployment)
    if rolling:
        held.append(rolling)
    if held:
        out["action"] = "refuse"
        out["reason"] = " and ".join(held)
    return out


# Status labels of records nothing waits on; every other value (pending-*, none) needs a look.
SETTLED_STATUSES = ("deployed", "superseded", "failed", "uninstalled", "uninstalling")


def release_list_selector():
    """The label selector of the `helm list` that gates the history read: a release's records
    whose `status` label is not a settled one (Helm's selector takes only =, == and !=)."""
    return ",".join("status!=%s" % status for status in SETTLED_STATUSES)


def release_history_needed(rc, text, release):
    """Does the pending-record check need the release's history (Secrets and Deployment)?

    ``rc`` and ``text``: exit code and stdout of `helm list --filter '^<release>$' --selector
    <release_list_selector()> --output json` with every status flag, in the release's namespace.
    The selector goes to the API server with the label query, so the release is listed only
    when one of its records carries a status label other than a settled one: the same labels
    pending_release() reads (Helm's own status, decoded from the record, may differ). Returns
    {needed, status, reason}. Not needed only when the list was read in full and names no
    record of the release: an unreadable answer never skips the check (docs/roles.md).
    """
    if rc != 0:
        return {"needed": True, "status": "", "reason": "`helm list` failed (rc %s)" % rc}
    try:
        releases = json.loads(text or "")
    except ValueError:
        return {"needed": True, "status": "", "reason": "`helm list -o json` printed no JSON"}
    if not isinstance(releases, list) or not all(isinstance(item, dict) for item in releases):
        return {"needed": True, "status": "", "reason": "`helm list -o json` printed no list of releases"}
    mine = [item for item in releases if item.get("name") == release]
    if not mine:
        return {"needed": False, "status": "", "reason": "no record of release %s is labelled other than %s"
                % (release, ", ".join(SETTLED_STATUSES))}
    status = ",".join(sorted({str(item.get("status", "")) for item in mine}))
    return {"needed": True, "status": status,
            "reason": "a record of release %s is labelled neither %s" % (release, " nor ".join(SETTLED_STATUSES))}
