# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The proof waits until the proxies carry the config (egress_verify tasks/settle.yml), on istiod's real push.

The plane has a real istiod and no Envoy: a background thread plays the proxies, asking istiod
over ADS (xdsdump, as test_xds_proof.py does) for the sleep sidecar's and the gateway's config
again and again and writing the dumps the role reads (egress_verify_*_config_dump), the way a
live read would see a proxy's config change. Then ``playbooks/verify.yml`` runs:

* the hop-1 route is applied a few seconds after the settle wait started: the wait must end
  ``synced`` only after istiod pushed it, and say how long it took;
* the route never comes: the wait ends at its bound, ``synced: false``, naming the host and hop;
* everything already in place: it ends at the first read.

Skipped only when the plane is not running (conftest.py).
"""

import json
import os
import re
import subprocess
import threading
import time

import pytest
from plane_helpers import plane_vars, run_playbook

# egress_setup is a fixture: importing it makes it available here.
from test_xds_proof import _apply, _dump_until, _virtualservice, egress_setup  # noqa: F401  # pylint: disable=unused-import

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VERIFY = os.path.join(REPO_ROOT, "playbooks", "verify.yml")
SETTLE_RE = re.compile(r'^\s*"msg": "egress_verify_settle: (?P<json>.*)"\s*$', re.MULTILINE)


class Refresher(threading.Thread):
    """Rewrites the sleep sidecar's and the gateway's dumps from istiod until stopped (bounded)."""

    def __init__(self, plane, pods, out_dir, limit=180):
        super().__init__(daemon=True)
        self.plane, self.pods, self.out_dir, self.limit = plane, pods, out_dir, limit
        self.stop = threading.Event()
        self.rounds = 0
        self.errors = []
        self.paths = {"sleep": os.path.join(out_dir, "sleep.json"), "gateway": os.path.join(out_dir, "gateway.json")}

    def _dump(self, name, proxy_type):
        pod = self.pods[name]
        meta = pod["metadata"]
        tmp = self.paths[name] + ".tmp"
        labels = ",".join("%s=%s" % kv for kv in sorted((meta.get("labels") or {}).items()))
        cmd = [self.plane.binary("xdsdump"), "-xds-address", self.plane.xds_address, "-type", proxy_type,
               "-ip", pod["status"]["podIP"], "-pod", meta["name"], "-namespace", meta["namespace"],
               "-service-account", pod["spec"].get("serviceAccountName") or "default",
               "-istio-version", os.environ.get("HOMELAB_PLANE_ISTIO_VERSION", "1.30-9739e10e"),
               "-labels", labels, "-out", tmp, "-timeout", "10s"]
        owners = meta.get("ownerReferences") or []
        if owners and owners[0]["kind"] == "ReplicaSet":
            deploy = owners[0]["name"].rsplit("-", 1)[0]
            cmd += ["-owner", "kubernetes://apis/apps/v1/namespaces/%s/deployments/%s" % (meta["namespace"], deploy)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
        if proc.returncode != 0:
            self.errors.append(proc.stderr.strip())
            return
        os.replace(tmp, self.paths[name])  # the role never reads a half-written dump

    def run(self):
        deadline = time.time() + self.limit
        while not self.stop.is_set() and time.time() < deadline:
            self._dump("sleep", "sidecar")
            self._dump("gateway", "router")
            self.rounds += 1
            self.stop.wait(0.3)


def _settle(run):
    found = SETTLE_RE.findall(run.stdout)
    assert found, "no 'Settle - outcome' in the output: " + run.summary()
    return json.loads(json.loads('"%s"' % found[-1]))


def _report(tmp_path):
    found = [os.path.join(d, "report.json") for d, _s, files in os.walk(str(tmp_path / "reports"))
             if "report.json" in files]
    assert len(found) == 1, found
    with open(found[0]) as f:
        report = json.load(f)
    return report, {r["id"]: r for r in report["checks"]}


def _verify(plane, tmp_path, refresher, timeout, on_line=None):
    values = plane_vars(plane.work, str(tmp_path / "reports"))
    values.update({
        "egress_verify_data_plane": False,
        "egress_verify_client_config_dump": refresher.paths["sleep"],
        "egress_verify_gateway_config_dump": refresher.paths["gateway"],
        "egress_verify_settle_timeout": timeout,
        "egress_verify_settle_interval": 1,
        # The dumps are what istiod pushes over ADS (xdsdump): the report names that as check 6's source.
        "egress_verify_config_dump_origin": "istiod-xds",
        # The verdict is not under test here (the other checks are "not run" without a data plane).
        "egress_verify_fail_on_error": False,
    })
    return run_playbook(VERIFY, values, timeout=300, on_line=on_line)


@pytest.fixture
def refresher(plane, egress_setup, tmp_path):  # noqa: F811 (pytest fixture injection)
    thread = Refresher(plane, egress_setup, str(tmp_path))
    thread.start()
    deadline = time.time() + 30
    while not all(os.path.exists(p) for p in thread.paths.values()):
        assert time.time() < deadline, "xdsdump wrote no dumps: %s" % thread.errors[-3:]
        time.sleep(0.2)
    yield thread
    thread.stop.set()
    thread.join(30)
    _apply(plane, _virtualservice())  # leave the guide's routes as test_xds_proof expects them


def test_waits_for_istiods_push_of_the_hop1_route(plane, egress_setup, refresher, tmp_path):  # noqa: F811
    _apply(plane, _virtualservice(hop1=False))
    _dump_until(plane, egress_setup["sleep"], "sidecar", str(tmp_path / "before.json"),
                lambda f: not f["destination"]["via_egress_gateway"])
    applied = {}

    def _apply_later():
        time.sleep(4)
        _apply(plane, _virtualservice())
        applied["at"] = time.time()

    def on_line(line, _proc):
        if "Settle - the client's sidecar routes each host" in line and not applied.get("started"):
            applied["started"] = time.time()
            threading.Thread(target=_apply_later, daemon=True).start()

    run = _verify(plane, tmp_path, refresher, timeout=60, on_line=on_line)
    settle = _settle(run)
    assert "at" in applied, "the hop-1 route was never applied: " + run.summary()
    # It polled the client's config while the route was missing.
    assert "FAILED - RETRYING: [localhost]: Settle - the client's sidecar routes" in run.stdout, run.summary()
    assert settle["synced"] is True, settle
    assert settle["method"] == "config_dump" and settle["reason"] == "", settle
    # It really waited for the push: not before the route was applied, well within the bound.
    assert settle["waited_s"] >= applied["at"] - applied["started"] - 1, (settle, applied)
    assert settle["waited_s"] < 60, settle
    print("settle after istiod's push: %s s (route applied %.1f s into the wait, %d dump rounds)" % (
        settle["waited_s"], applied["at"] - applied["started"], refresher.rounds))


def test_bounded_when_the_route_never_comes(plane, egress_setup, refresher, tmp_path):  # noqa: F811
    _apply(plane, _virtualservice(hop1=False))
    _dump_until(plane, egress_setup["sleep"], "sidecar", str(tmp_path / "before.json"),
                lambda f: not f["destination"]["via_egress_gateway"])
    start = time.time()
    run = _verify(plane, tmp_path, refresher, timeout=6)
    settle = _settle(run)
    assert settle["synced"] is False, settle
    assert settle["reason"].startswith("not settled after 6s: the client sidecar does not route httpbin.org:443 "
                                       "to istio-egressgateway.istio-system.svc.cluster.local (hop 1)"), settle
    assert 5 <= settle["waited_s"] < 20, settle
    assert time.time() - start < 120
    # The report says it next to checks 5-7, and check 6 fails on the dump istiod pushed.
    report, rows = _report(tmp_path)
    assert report["settle"]["synced"] is False and report["settle"]["text"].startswith(
        "the config had NOT arrived when the proof ran"), report["settle"]
    assert rows["routing"]["settle_note"].startswith("the config had not arrived after"), rows["routing"]
    assert rows["routing"]["verdict"] == "fail", rows["routing"]


def test_already_settled_ends_at_the_first_read(plane, egress_setup, refresher, tmp_path):  # noqa: F811
    _dump_until(plane, egress_setup["sleep"], "sidecar", str(tmp_path / "before.json"),
                lambda f: f["destination"]["via_egress_gateway"])
    time.sleep(1)  # one refresher round after the route is in
    run = _verify(plane, tmp_path, refresher, timeout=60)
    settle = _settle(run)
    assert settle["synced"] is True and settle["reason"] == "", settle
    # One read per side: no retry (the time is two module runs, a few seconds on a busy machine).
    assert "FAILED - RETRYING: [localhost]: Settle" not in run.stdout, run.summary()
    assert settle["waited_s"] < 30, settle
    # The report: how long it took, and that check 6's evidence is istiod's generated config.
    report, rows = _report(tmp_path)
    assert report["settle"]["synced"] is True and report["settle"]["waited_s"] == settle["waited_s"]
    assert rows["routing"]["source"] == "client: saved dump (istiod-xds); gateway: saved dump (istiod-xds)"
    assert rows["routing"]["settle_note"] == ""
    assert rows["routing"]["verdict"] == "pass", rows["routing"]  # every listener path, no assumption
    print("check 6 on istiod's pushed config: %s - %s" % (rows["routing"]["verdict"], rows["routing"]["actual"]))


def test_no_data_plane_and_no_dumps_waits_for_nothing(plane, egress_setup, tmp_path):  # noqa: F811
    values = plane_vars(plane.work, str(tmp_path / "reports"))
    values.update({"egress_verify_data_plane": False, "egress_verify_fail_on_error": False})
    settle = _settle(run_playbook(VERIFY, values, timeout=300))
    assert settle == {"waited_s": settle["waited_s"], "synced": False, "method": "none", "timeout_s": 60,
                      "reason": "nothing to wait for: no data plane (or no Ready client and gateway pod) and no "
                                "saved config dumps"}, settle
    assert settle["waited_s"] < 2
