# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad variables are rejected before any change, with a message naming them.

Each case runs the role with ansible-playbook against a kubeconfig whose API
server does not exist: a run that got past the input checks would fail on the
connection instead, so the expected message proves the input check fired
first, and the recap proves nothing changed.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
PLAYBOOK = HERE / "playbooks" / "role.yml"

DEAD_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- cluster: {server: "https://127.0.0.1:9"}
  name: nowhere
contexts:
- context: {cluster: nowhere, user: nobody}
  name: homelab
current-context: homelab
users:
- name: nobody
  user: {token: none}
"""

CASES = [
    # (id, role, extra vars, expected message fragment)
    ("url-as-host", "egress_routes", {"egress_routes_hosts": [{"host": "https://httpbin.org"}]},
     "host(s) https://httpbin.org are not lowercase DNS names"),
    ("wildcard-host", "egress_routes", {"egress_routes_hosts": [{"host": "*.example.com"}]},
     "host(s) *.example.com are not lowercase DNS names"),
    ("port-not-a-number", "egress_routes", {"egress_routes_hosts": [{"host": "httpbin.org", "port": "https"}]},
     "port"),
    ("port-out-of-range", "egress_routes", {"egress_routes_hosts": [{"host": "httpbin.org", "port": 70000}]},
     "port(s) 70000 are not integers between 1 and 65535"),
    # Issue 13: port 0 was read as 443 by egress_routes and refused by egress_verify; both refuse it now,
    # through the same rule (module_utils/rules.py), in one assert that templates once.
    ("routes-port-zero", "egress_routes", {"egress_routes_hosts": [{"host": "httpbin.org", "port": 0}]},
     "Invalid egress_routes_hosts: port(s) 0 are not integers between 1 and 65535"),
    ("verify-port-zero", "egress_verify", {"egress_verify_hosts": [{"host": "httpbin.org", "port": 0}]},
     "egress_verify: bad egress_verify_hosts - port(s) 0 are not integers between 1 and 65535"),
    # One fail task checks every egress_verify input before anything runs (it renders its message only
    # when it fails); the settle bounds are checked there too, no longer after the cluster was read.
    ("verify-calls-zero", "egress_verify", {"egress_verify_calls": 0},
     "egress_verify: bad input - egress_verify_hosts must be a non-empty list"),
    ("verify-settle-negative", "egress_verify", {"egress_verify_settle_timeout": -1},
     "egress_verify_settle_timeout (-1) must be >= 0 seconds (0: do not wait)"),
    ("verify-ftp-url", "egress_verify", {"egress_verify_hosts": [{"host": "httpbin.org", "url": "ftp://httpbin.org/"}]},
     'url(s) \\"ftp://httpbin.org/\\" are not http(s) URLs'),
    ("unknown-placement", "egress_routes", {"egress_routes_placement": "default"},
     "egress_routes_placement"),
    ("same-short-name", "egress_routes",
     {"egress_routes_hosts": [{"host": "example.com"}, {"host": "example.org"}]},
     "two hosts share the short name"),
    ("gateway-port-zero", "egress_gateway",
     {"egress_gateway_service_ports": [{"name": "https", "port": 0, "targetPort": 8443}]},
     "egress_gateway_service_ports must list ports"),
    ("ha-with-one-replica", "egress_gateway", {"egress_gateway_ha_enabled": True},
     "at least 2 when egress_gateway_ha_enabled is true"),
    ("bad-namespace", "test_client", {"test_client_namespace": "Mesh_Test"},
     "test_client_namespace 'Mesh_Test'"),
    ("sidecar-in-root-namespace", "registry_only", {"registry_only_namespaces": ["istio-system"]},
     "must not contain the root namespace 'istio-system'"),
    ("calico-locks-istio-system", "calico_policy", {"calico_policy_namespaces": ["mesh-test", "istio-system"]},
     "calico_policy_namespaces must not contain the system namespace(s) istio-system"),
    ("calico-bad-cidr", "calico_policy",
     {"calico_policy_pod_cidr": "10.233.64.0/40", "calico_policy_gateway_target_ports": [8443]},
     "must be IPv4 CIDRs such as 10.233.64.0/18."),
    ("calico-no-gateway-ports", "calico_policy", {},
     "calico_policy_gateway_target_ports ([]) must list the gateway pods' target ports"),
    # Issue 12: every value that reaches a Calico or a label selector is validated (synthetic payloads
    # from the issue). Before the fix the first rendered a selector matching every namespace.
    ("calico-namespace-selector-injection", "calico_policy",
     {"calico_policy_namespaces": ["istio-system' || kubernetes.io/metadata.name != '"],
      "calico_policy_gateway_target_ports": [8443]},
     "kubernetes.io/metadata.name != '\\\", which is not a DNS-1123 label"),
    ("calico-gateway-namespace-injection", "calico_policy",
     {"calico_policy_gateway_namespace": "istio-system' || all() || '", "calico_policy_gateway_target_ports": [8443]},
     "calico_policy_gateway_namespace has"),
    ("calico-istiod-selector-or", "calico_policy",
     {"calico_policy_istiod_selector": "app == 'istiod' || all()", "calico_policy_gateway_target_ports": [8443]},
     "|| all()\\\" is not a selector of the form key == 'value'"),
    ("calico-gateway-label-injection", "calico_policy",
     {"calico_policy_gateway_labels": {"istio": "egressgateway' || all() || '"},
      "calico_policy_gateway_target_ports": [8443]},
     "calico_policy_gateway_labels value"),
    ("routes-selector-label-injection", "egress_routes",
     {"egress_routes_gateway_selector": {"istio": "egressgateway,app!=x"}},
     "egressgateway,app!=x\\\" of istio is not a valid label value"),
    ("registry-only-system-namespace", "registry_only", {"registry_only_namespaces": ["kube-system"]},
     "registry_only_namespaces must not contain the system namespace(s) kube-system"),
    ("registry-only-gateway-label-injection", "registry_only",
     {"registry_only_gateway_labels": {"istio": "egressgateway,app!=x"}},
     "registry_only_gateway_labels value"),
    ("gateway-label-injection", "egress_gateway", {"egress_gateway_labels": {"istio": "egressgateway,app!=x"}},
     "of istio is not a valid label value"),
    ("bad-chart-version", "egress_gateway", {"egress_gateway_chart_version": "latest"},
     "Invalid egress gateway input: egress_gateway_chart_version 'latest' must be X.Y.Z (or X.Y-<build>)."),
]


@pytest.fixture(scope="module")
def dead_kubeconfig(tmp_path_factory):
    path = tmp_path_factory.mktemp("kube") / "config"
    path.write_text(DEAD_KUBECONFIG)
    return str(path)


def _run_role(extra):
    """Run the role under test through ansible-playbook; return the process and its whole output."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="default")
    # The modules run with this Python (it has the kubernetes client): a discovered interpreter
    # without it would fail every API call with MODULE FAILURE instead of the real cause.
    extra = dict({"ansible_python_interpreter": sys.executable}, **extra)
    proc = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", str(PLAYBOOK), "-e", json.dumps(extra)],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    return proc, proc.stdout + proc.stderr


def _changed(out):
    """The changed= count of the PLAY RECAP, or None when there is no recap."""
    recap = re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)", out)
    return recap.group(1) if recap else None


@pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible-playbook not on PATH")
@pytest.mark.parametrize("role,extra,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_before_any_change(role, extra, message, dead_kubeconfig):
    extra = dict(extra, role_under_test=role, istio_egress_kubeconfig=dead_kubeconfig,
                 istio_egress_context="homelab")
    proc, out = _run_role(extra)
    assert proc.returncode != 0, out
    assert message in out, out
    assert "Cannot reach the Kubernetes API" not in out, "the input check ran after the cluster was contacted"
    assert "Traceback" not in out
    assert _changed(out) == "0", out


SYSTEM_NAMESPACES = ["kube-system", "istio-system", "calico-system", "tigera-operator", "kube-public",
                     "kube-node-lease", "calico-apiserver"]


@pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible-playbook not on PATH")
def test_calico_refuses_every_system_namespace(dead_kubeconfig):
    """One run with all of them: each one is named in the single refusal."""
    extra = {"role_under_test": "calico_policy", "istio_egress_kubeconfig": dead_kubeconfig,
             "istio_egress_context": "homelab", "calico_policy_gateway_target_ports": [8443],
             "calico_policy_namespaces": SYSTEM_NAMESPACES}
    proc, out = _run_role(extra)
    assert proc.returncode != 0, out
    refusal = re.search(r"must not contain the system namespace\(s\) ([^(]*) \(protected", out)
    assert refusal, out
    assert sorted(refusal.group(1).split(", ")) == sorted(SYSTEM_NAMESPACES)
    assert _changed(out) == "0", out


@pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="ansible-playbook not on PATH")
@pytest.mark.parametrize("role", ["egress_gateway", "test_client", "egress_routes", "registry_only", "calico_policy"])
def test_unreachable_context_fails_before_any_change(role, dead_kubeconfig):
    extra = {"role_under_test": role, "istio_egress_kubeconfig": dead_kubeconfig,
             "istio_egress_context": "homelab",
             # calico_policy on its own has no gateway ports to derive (see its preflight).
             "calico_policy_gateway_target_ports": [8443]}
    proc, out = _run_role(extra)
    assert proc.returncode != 0, out
    assert "Cannot reach the Kubernetes API with kubeconfig '%s' and context 'homelab': nothing was changed" % (
        dead_kubeconfig) in out, out
    # The cause is kept (issue 12): nothing listens on port 9.
    assert "nothing was changed (connection refused" in out, out
    assert _changed(out) == "0", out
