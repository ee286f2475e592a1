# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The egress_gateway role with Helm 3 and Helm 4 on the local plane (issue 16 point 1).

* Helm 3 (the plane's `helm`): converge, re-run changed=0, check mode changed=0.
* Helm 4 (`helm4`, `hack/plane/build.sh helm4`) with the project venv's kubernetes.core (older
  than 6.4.0): preflight refuses with one sentence, before any change.
* Helm 4 with kubernetes.core >= 6.4.0: converge, re-run changed=0, check mode changed=0, run by
  the ansible-playbook of a second venv named by HOMELAB_HELM4_VENV (Python >= 3.12 with
  `ansible>=14`, see docs/dev/plane.md "Helm 4"). Skipped without it.

Without `helm4` or the venv only their own tests skip; with HOMELAB_REQUIRE_HELM4=1 (a CI job that
builds helm4) a missing `helm4` fails instead. Own release names and labels, removed afterwards.
"""

import json
import os
import re
import shutil
import subprocess

import plane_helpers
import pytest
from plane_helpers import SITE, plane_vars, run_playbook

ISTIO_NS = "istio-system"
VENV4 = os.environ.get("HOMELAB_HELM4_VENV", "")
# One task refuses a Helm that does not run and one kubernetes.core cannot drive (roles/egress_gateway/tasks/helm_check.yml).
HELM_REFUSAL = "homelab.istio_egress.egress_gateway : Stop when Helm cannot be run or this kubernetes.core cannot drive it"


def _helm4(plane):
    path = os.path.join(plane.bin_dir, "helm4")
    if not os.access(path, os.X_OK):
        if os.environ.get("HOMELAB_REQUIRE_HELM4") == "1":
            pytest.fail("helm4 is missing and HOMELAB_REQUIRE_HELM4=1: hack/plane/build.sh helm4")
        pytest.skip("no helm4: hack/plane/build.sh helm4")
    return path


def _records(plane, release):
    items = plane.kubectl_json("get", "secret", "-n", ISTIO_NS, "-l", "owner=helm,name=%s" % release)["items"]
    return {int(s["metadata"]["labels"]["version"]): s["metadata"]["labels"]["status"] for s in items}


def _vars(plane, tmp_path, release, **extra):
    values = plane_vars(plane.work, str(tmp_path))
    values.update({"egress_gateway_release_name": release, "egress_gateway_labels": {"istio": release},
                   "istio_egress_cleanup_gateway": True}, **extra)
    return values


def _uninstall(plane, release):
    plane.helm("uninstall", "-n", ISTIO_NS, release, "--wait", "--timeout", "2m", check=False)
    plane.kubectl("delete", "-n", ISTIO_NS, "telemetry", release + "-access-log", "--ignore-not-found", check=False)


def _three_runs(values, gateway_only=True):
    """converge, re-converge, check mode: the recaps, and the seconds each took."""
    tags = ["gateway"] if gateway_only else None
    first = run_playbook(SITE, values, tags=tags, timeout=600)
    assert first.rc == 0, first.summary()
    second = run_playbook(SITE, values, tags=tags, timeout=600)
    assert second.rc == 0, second.summary()
    check = run_playbook(SITE, values, tags=tags, check=True, diff=True, timeout=600)
    assert check.rc == 0, check.summary()
    return first, second, check


def test_helm3_converge_rerun_and_check_mode(plane, tmp_path):
    release = "helm3-egressgateway"
    values = _vars(plane, tmp_path, release, egress_gateway_helm_binary=plane.binary("helm"))
    try:
        first, second, check = _three_runs(values)
        assert "homelab.istio_egress.egress_gateway : Install or upgrade release %s" % release in first.changed_tasks
        assert second.changed == 0, second.summary()
        assert check.changed == 0, check.summary()
        assert _records(plane, release)[max(_records(plane, release))] == "deployed"
        print("helm3: converge %.0fs, re-run %.0fs, check %.0fs" % (first.seconds, second.seconds, check.seconds))

        # Issue 12: a stale pending record is touched only after Helm is known to run.
        newest = max(_records(plane, release))
        record = "sh.helm.release.v1.%s.v%d" % (release, newest)
        plane.kubectl("label", "secret", "-n", ISTIO_NS, record, "status=pending-upgrade", "--overwrite")
        broken = dict(values, egress_gateway_helm_binary="/nonexistent/helm", egress_gateway_pending_release_grace=1)
        run = run_playbook(SITE, broken, tags=["gateway"], timeout=300)
        task, msg = run.fatal[-1]
        assert task == HELM_REFUSAL, run.summary()
        # The cause in the parentheses is ansible-core's: "[Errno 2] No such file or directory: ..." up to
        # 2.18, "Error executing command." from 2.19 on.
        assert msg.startswith("Helm cannot be run ('/nonexistent/helm version --short' failed: "), msg
        assert msg.endswith("): nothing was changed; install Helm 3 or 4 or set egress_gateway_helm_binary."), msg
        assert ("No such file or directory" in msg) or ("Error executing command." in msg), msg
        assert run.changed == 0 and _records(plane, release)[newest] == "pending-upgrade"
        # Young (default grace 900 s): refused, the record kept, the reason given.
        run = run_playbook(SITE, values, tags=["gateway"], timeout=300)
        task, msg = run.fatal[-1]
        assert task.endswith("Refuse to touch a release another Helm run may still be changing"), run.summary()
        assert "it is younger than egress_gateway_pending_release_grace (900s)" in msg, msg
        assert "egress_gateway_recover_pending=true" in msg and record in msg, msg
        assert _records(plane, release)[newest] == "pending-upgrade"
        # The explicit recovery removes it (no_log: the record never reaches the output) and upgrades.
        run = run_playbook(SITE, dict(values, egress_gateway_recover_pending=True), tags=["gateway"], timeout=300)
        assert run.rc == 0, run.summary()
        assert "homelab.istio_egress.egress_gateway : Remove the stale pending record of release %s" % release \
            in run.changed_tasks, run.summary()
        section = run.stdout.split("Remove the stale pending record", 1)[1].split("TASK [", 1)[0]
        assert "sh.helm.release" not in section and '"data"' not in section, section
        assert "pending-upgrade" not in _records(plane, release).values()
    finally:
        _uninstall(plane, release)


def test_helm4_with_an_older_kubernetes_core_is_refused_before_any_change(plane, tmp_path):
    helm4 = _helm4(plane)
    release = "helm4-refused"
    values = _vars(plane, tmp_path, release, egress_gateway_helm_binary=helm4)
    run = run_playbook(SITE, values, tags=["gateway"], timeout=300)
    assert run.rc != 0
    task, msg = run.fatal[-1]
    assert task == HELM_REFUSAL, \
        run.summary()
    assert re.fullmatch(
        re.escape(helm4) + r" is Helm 4\.\d+\.\d+ and this controller has kubernetes\.core \d+\.\d+\.\d+, which cannot "
        r"drive Helm 4: install kubernetes\.core >= 6\.4\.0 \(`ansible-galaxy collection install "
        r"'kubernetes\.core:>=6\.4\.0'`, or ansible >= 14 on Python >= 3\.12\), or set egress_gateway_helm_binary to a "
        r"Helm 3 binary: nothing was changed\.", msg), msg
    assert run.changed == 0
    assert _records(plane, release) == {}


def test_helm4_converge_rerun_and_check_mode_with_kubernetes_core_6_4(plane, tmp_path, monkeypatch):
    helm4 = _helm4(plane)
    playbook = os.path.join(VENV4, "bin", "ansible-playbook")
    if not (VENV4 and os.access(playbook, os.X_OK)):
        pytest.skip("HOMELAB_HELM4_VENV names no venv with ansible>=14 (kubernetes.core >= 6.4.0)")
    monkeypatch.setattr(plane_helpers, "ansible_playbook", lambda: playbook)
    release = "helm4-egressgateway"
    values = _vars(plane, tmp_path, release, egress_gateway_helm_binary=helm4)
    try:
        first, second, check = _three_runs(values)
        assert "homelab.istio_egress.egress_gateway : Install or upgrade release %s" % release in first.changed_tasks
        assert second.changed == 0, second.summary()
        assert check.changed == 0, check.summary()
        records = _records(plane, release)
        assert records[max(records)] == "deployed", records
        # Helm 4 wrote the release: its own `helm list` reads it back.
        out = plane.helm("list", "-n", ISTIO_NS, "-o", "json").stdout
        assert release in [r["name"] for r in json.loads(out)]
        print("helm4: converge %.0fs, re-run %.0fs, check %.0fs" % (first.seconds, second.seconds, check.seconds))
    finally:
        _uninstall(plane, release)


HELM_DIFF_PLAY = """
- name: Install helm-diff the way the egress_gateway role does (molecule/default/prepare.yml)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Helm check
      ansible.builtin.include_role:
        name: homelab.istio_egress.egress_gateway
        tasks_from: helm_check.yml
    - name: Helm-diff
      ansible.builtin.include_role:
        name: homelab.istio_egress.egress_gateway
        tasks_from: helm_diff.yml
      vars:
        egress_gateway_helm_diff_install: true
"""


def _plugin_source(tmp_path):
    """A copy of the plane's helm-diff plugin (hack/plane/build.sh helm-diff) as a local install source."""
    plugins = os.environ.get("HELM_PLUGINS") or ""
    src = os.path.join(plugins, "diff")
    if not os.path.isfile(os.path.join(src, "plugin.yaml")):
        pytest.skip("no helm-diff plugin in HELM_PLUGINS (%s): hack/plane/build.sh helm-diff" % plugins)
    dest = tmp_path / "source" / "diff"
    shutil.copytree(src, str(dest))
    return str(dest)


@pytest.mark.parametrize("major", [3, 4])
def test_helm_diff_is_installed_the_way_each_major_needs(plane, tmp_path, monkeypatch, major):
    """Helm 3 through kubernetes.core.helm_plugin, Helm 4 through `helm plugin install --verify=false`;
    from a local copy of the plugin (no internet here), into an empty HELM_PLUGINS; twice."""
    source = _plugin_source(tmp_path)
    if major == 4:
        helm = _helm4(plane)
        playbook = os.path.join(VENV4, "bin", "ansible-playbook")
        if not (VENV4 and os.access(playbook, os.X_OK)):
            pytest.skip("HOMELAB_HELM4_VENV names no venv with ansible>=14 (kubernetes.core >= 6.4.0)")
        monkeypatch.setattr(plane_helpers, "ansible_playbook", lambda: playbook)
    else:
        helm = plane.binary("helm")
    # Helm 4.3.2 installs from a local directory into $HELM_DATA_HOME/plugins whatever $HELM_PLUGINS
    # says (its LocalInstaller.Path uses helmpath.DataPath; the VCS/HTTP installers honour
    # HELM_PLUGINS), so both point at the test's own directory: nothing lands in the user's.
    monkeypatch.setenv("HELM_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("HELM_PLUGINS", str(tmp_path / "plugins"))
    play = tmp_path / "helm_diff.yml"
    play.write_text(HELM_DIFF_PLAY)
    values = {"egress_gateway_helm_binary": helm, "egress_gateway_helm_diff_url": source}
    first = run_playbook(str(play), values, timeout=300)
    assert first.rc == 0, first.summary()
    method = "Install helm-diff with kubernetes.core.helm_plugin (Helm 3)" if major == 3 else \
        "Install helm-diff with helm plugin install --verify=false (Helm 4)"
    assert any(t.endswith(method) for t in first.changed_tasks), first.summary()
    listed = subprocess.run([helm, "plugin", "list"], capture_output=True, text=True, timeout=60, check=False,
                            env=dict(os.environ, HELM_PLUGINS=str(tmp_path / "plugins")))
    assert listed.returncode == 0 and re.search(r"^diff\s", listed.stdout, re.MULTILINE), listed.stdout
    again = run_playbook(str(play), values, timeout=300)
    assert again.rc == 0 and again.changed == 0, again.summary()
