# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The xDS proof on a real istiod (issue 4).

On the local plane (hack/plane/up) the guide's objects are applied through the real
apiserver (validated by the real istiod webhook); then xdsdump asks the real istiod, over
ADS, for the config it generates for the sleep pod's sidecar and for the egress gateway
pod, and envoy_config reads those dumps:

* sidecar: httpbin.org:443 goes to the egress gateway (via_egress_gateway true);
* sidecar with the hop-1 tls route removed: it goes direct (false);
* gateway: the hop-2 cluster outbound|443||httpbin.org exists and carries httpbin.org.

HOMELAB_REGENERATE_FIXTURES=1 also copies the dumps into
tests/unit/plugins/module_utils/fixtures/generated/ (see PROVENANCE.md there).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import shutil
import time

import pytest
import yaml
from plane_helpers import xds_dump

from ansible_collections.homelab.istio_egress.plugins.module_utils.envoy_config import analyse_config_dump

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NS = "mesh-test"
ISTIO_NS = "istio-system"
GATEWAY_SERVICE = "istio-egressgateway.istio-system.svc.cluster.local"
FIXTURES = os.path.join(REPO_ROOT, "tests", "unit", "plugins", "module_utils", "fixtures", "generated")

# Guide §4.1: the client namespace and the sleep workload.
# The guide's own YAML blocks, the copies the role tests compare with
# (tests/unit/roles/guide/PROVENANCE.md): written once in the repository.
GUIDE = os.path.join(REPO_ROOT, "tests", "unit", "roles", "guide")


def _guide(*names):
    """The guide's YAML files joined into one multi-document manifest."""
    docs = []
    for name in names:
        with open(os.path.join(GUIDE, name)) as handle:
            docs.append(handle.read())
    return "\n---\n".join(docs)


# Guide §4.1 (namespace, sleep), §3.2 (gateway values), §6.1-6.3 (ServiceEntry, Gateway, DestinationRule).
APP = _guide("namespace.yaml", "sleep.yaml")
GATEWAY_VALUES = os.path.join(GUIDE, "values-egress-gateway.yaml")
SE_GW_DR = _guide("serviceentry-httpbin-ext.yaml", "gateway-egress.yaml", "destinationrule-egress.yaml")


def _virtualservice(hop1=True, extra=None):
    """Guide §6.4 as JSON for kubectl, with or without its hop-1 (gateways: [mesh]) tls route."""
    vs = yaml.safe_load(_guide("virtualservice-egress.yaml"))
    if not hop1:
        vs["spec"]["tls"] = [r for r in vs["spec"]["tls"]
                             if "mesh" not in r["match"][0].get("gateways", [])]
    vs["spec"].update(extra or {})
    return json.dumps(vs)


EGRESS_OBJECTS = (("serviceentry", "httpbin-ext"), ("gateway", "istio-egressgateway"),
                  ("destinationrule", "egressgateway-for-httpbin"),
                  ("virtualservice", "direct-httpbin-through-egress"))


def _apply(plane, manifest):
    return plane.kubectl("apply", "-f", "-", input=manifest)


def _exists(plane, *args):
    return plane.kubectl("get", *args, check=False).returncode == 0


def _wait_namespace_gone_if_terminating(plane, name, timeout=120):
    deadline = time.time() + timeout
    while True:
        proc = plane.kubectl("get", "namespace", name, "-o", "json", check=False)
        if proc.returncode != 0 or not json.loads(proc.stdout)["metadata"].get("deletionTimestamp"):
            return
        if time.time() > deadline:
            pytest.fail("namespace %s is still terminating after %ss" % (name, timeout))
        time.sleep(1)


def _running_pod(plane, namespace, selector, timeout=120):
    """The first Running pod with an IP for the selector (kwok makes it Running/Ready)."""
    deadline = time.time() + timeout
    while True:
        pods = plane.kubectl_json("get", "pods", "-n", namespace, "-l", selector)["items"]
        for pod in pods:
            if pod["status"].get("phase") == "Running" and pod["status"].get("podIP") \
                    and not pod["metadata"].get("deletionTimestamp"):
                return pod
        if time.time() > deadline:
            pytest.fail("no Running pod with %s in %s after %ss: %s" % (
                selector, namespace, timeout, [(p["metadata"]["name"], p["status"].get("phase")) for p in pods]))
        time.sleep(1)


def _dump_until(plane, pod, proxy_type, out, want, timeout=60):
    """Dump until istiod has pushed the config under test (it debounces changes)."""
    deadline = time.time() + timeout
    while True:
        text = xds_dump(plane, pod, proxy_type, out)
        facts = analyse_config_dump(text, host="httpbin.org", port=443, egress_gateway_service=GATEWAY_SERVICE)
        if want(facts) or time.time() > deadline:
            return text, facts
        time.sleep(1)


def _save_fixture(path, name):
    if os.environ.get("HOMELAB_REGENERATE_FIXTURES") == "1":
        if not os.path.isdir(FIXTURES):
            os.makedirs(FIXTURES)
        shutil.copyfile(path, os.path.join(FIXTURES, name))


@pytest.fixture(scope="module")
def egress_setup(plane):
    """The guide's default setup on the plane; removes what it created afterwards."""
    _wait_namespace_gone_if_terminating(plane, NS)
    created_ns = not _exists(plane, "namespace", NS)
    _apply(plane, APP)
    created_gw = plane.helm("status", "-n", ISTIO_NS, "istio-egressgateway", check=False).returncode != 0
    if created_gw:
        charts = os.environ.get("HOMELAB_PLANE_CHARTS") or os.path.join(REPO_ROOT, "hack", "plane", "charts")
        plane.helm("upgrade", "--install", "istio-egressgateway", os.path.join(charts, "gateway"),
                   "-n", ISTIO_NS, "-f", GATEWAY_VALUES, "--wait", "--timeout", "3m")
    existing = {kind: _exists(plane, "-n", NS, kind, name) for kind, name in EGRESS_OBJECTS}
    original_vs = None
    if existing["virtualservice"]:
        original_vs = plane.kubectl_json("get", "-n", NS, "virtualservice", "direct-httpbin-through-egress")
    _apply(plane, SE_GW_DR)
    _apply(plane, _virtualservice())
    yield {
        "sleep": _running_pod(plane, NS, "app=sleep"),
        "gateway": _running_pod(plane, ISTIO_NS, "istio=egressgateway"),
    }
    if original_vs is not None:
        _apply(plane, _virtualservice())
    for kind, name in EGRESS_OBJECTS:
        if not existing[kind]:
            plane.kubectl("delete", "-n", NS, kind, name, "--ignore-not-found", check=False)
    if created_gw:
        plane.helm("uninstall", "-n", ISTIO_NS, "istio-egressgateway", "--wait", check=False)
    if created_ns:
        plane.kubectl("delete", "namespace", NS, "--timeout=120s", check=False, timeout=150)


def test_invalid_virtualservice_is_rejected_by_istiod(plane, egress_setup):
    """The apiserver really calls the local istiod's validating webhook."""
    # Passes the CRD's schema, fails istiod's own validation (empty destination host).
    bad = _virtualservice(hop1=False, extra={"http": [{"route": [{"destination": {"host": ""}}]}]})
    proc = plane.kubectl("apply", "--dry-run=server", "-f", "-", input=bad, check=False)
    assert proc.returncode != 0
    assert 'admission webhook "validation.istio.io" denied the request' in proc.stderr \
        or 'admission webhook "rev.validation.istio.io" denied the request' in proc.stderr, proc.stderr


def test_sleep_pod_gets_a_real_injected_sidecar(plane, egress_setup):
    spec = egress_setup["sleep"]["spec"]
    names = [c["name"] for c in spec["containers"]]
    init = [c["name"] for c in spec.get("initContainers") or []]
    # k8s 1.30: istio-proxy is a normal container, not a native sidecar (NOTES.md).
    assert names == ["sleep", "istio-proxy"], names
    assert "istio-init" in init, init
    proxy = next(c for c in spec["containers"] if c["name"] == "istio-proxy")
    assert proxy["image"].endswith(":" + os.environ.get("HOMELAB_PLANE_ISTIO_VERSION", "1.30-9739e10e"))


def test_sidecar_sends_httpbin_to_the_egress_gateway(plane, egress_setup, tmp_path):
    out = str(tmp_path / "sleep.json")
    _dump_path, facts = _dump_until(plane, egress_setup["sleep"], "sidecar", out,
                                    lambda f: f["destination"]["via_egress_gateway"])
    dest = facts["destination"]
    assert facts["proxy"]["type"] == "sidecar"
    assert dest["matched"] is True, dest["evidence"]
    assert dest["via_egress_gateway"] is True, dest["evidence"]
    assert dest["cluster"] == "outbound|443|httpbin|" + GATEWAY_SERVICE, dest
    assert dest["cluster_found"] is True, dest["evidence"]
    assert "httpbin.org" in (dest["server_names"] or []), dest
    _save_fixture(out, "istiod-1.30-sidecar-sleep-via-egress-config_dump.json")


def test_without_hop1_the_sidecar_goes_direct(plane, egress_setup, tmp_path):
    out = str(tmp_path / "sleep-no-hop1.json")
    _apply(plane, _virtualservice(hop1=False))
    try:
        _dump_path, facts = _dump_until(plane, egress_setup["sleep"], "sidecar", out,
                                        lambda f: not f["destination"]["via_egress_gateway"])
    finally:
        _apply(plane, _virtualservice())
    dest = facts["destination"]
    assert dest["via_egress_gateway"] is False, dest["evidence"]
    # What istiod generates instead: the ServiceEntry's own cluster, i.e. straight out.
    assert dest["cluster"] == "outbound|443||httpbin.org", dest
    assert dest["direct"] is True, dest["evidence"]
    _save_fixture(out, "istiod-1.30-sidecar-sleep-no-hop1-config_dump.json")


def test_gateway_has_the_hop2_cluster(plane, egress_setup, tmp_path):
    out = str(tmp_path / "gateway.json")
    _dump_path, facts = _dump_until(plane, egress_setup["gateway"], "router", out,
                                    lambda f: f["destination"]["cluster"] == "outbound|443||httpbin.org")
    assert facts["proxy"]["type"] == "router"
    names = [c["name"] for c in facts["clusters"]]
    assert "outbound|443||httpbin.org" in names, names
    dest = facts["destination"]
    assert dest["matched"] is True, dest["evidence"]
    assert dest["cluster"] == "outbound|443||httpbin.org", dest
    assert dest["direct"] is True and dest["hop"] == 2, dest
    _save_fixture(out, "istiod-1.30-egressgateway-config_dump.json")


def test_istiod_keeps_the_planes_webhook_ca(plane):
    """istiod's webhook controllers patch the caBundle it serves: the plane's CA, as in the charts."""
    with open(os.path.join(plane.work, "pki", "istiod-ca.crt"), "rb") as handle:
        ca = handle.read()
    seen = []
    for kind in ("mutatingwebhookconfiguration", "validatingwebhookconfiguration"):
        for item in plane.kubectl_json("get", kind, "-l", "istio.io/rev=default")["items"]:
            for hook in item["webhooks"]:
                url = hook["clientConfig"].get("url", "")
                assert url.startswith("https://127.0.0.1:%s/" % plane.ports["ISTIOD_HTTPS_PORT"]), (item["metadata"]["name"], url)
                assert base64.b64decode(hook["clientConfig"]["caBundle"]) == ca, item["metadata"]["name"]
                seen.append(hook["name"])
    assert "validation.istio.io" in seen and "rev.validation.istio.io" in seen, seen
    assert "namespace.sidecar-injector.istio.io" in seen, seen
