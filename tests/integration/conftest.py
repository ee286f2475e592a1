# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures that reach the running local plane (hack/plane/up).

The plane writes its state into hack/plane/.work (or $HOMELAB_PLANE_WORK): the admin
kubeconfig (context ``istio-egress-plane``) and ports.env with every component's port.
A test that needs the plane takes the ``plane`` fixture; it is skipped, with the reason,
only when the plane is not running.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import ssl
import subprocess
import urllib.request

import pytest
from plane_helpers import read_ports

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLANE_DIR = os.path.join(REPO_ROOT, "hack", "plane")
PLANE_CONTEXT = "istio-egress-plane"


class Plane(object):
    """What a test needs to talk to the plane: kubeconfig, ports, binaries."""

    def __init__(self, work, ports, bin_dir):
        self.work = work
        self.kubeconfig = os.path.join(work, "kubeconfig")
        self.context = PLANE_CONTEXT
        self.ports = ports
        self.bin_dir = bin_dir
        self.xds_address = "127.0.0.1:%s" % ports["ISTIOD_GRPC_PORT"]
        self.apiserver = "https://127.0.0.1:%s" % ports["APISERVER_PORT"]

    def binary(self, name):
        """The plane's own build first (build.sh), else one on PATH."""
        path = os.path.join(self.bin_dir, name)
        if os.access(path, os.X_OK):
            return path
        found = shutil.which(name)
        if not found:
            pytest.fail("%s not found in %s or on PATH: run hack/plane/build.sh" % (name, self.bin_dir))
        return found

    def env(self):
        env = dict(os.environ)
        env["KUBECONFIG"] = self.kubeconfig
        return env

    def kubectl(self, *args, **kwargs):
        """Run kubectl against the plane; returns CompletedProcess (text). check=True by default."""
        check = kwargs.pop("check", True)
        cmd = [self.binary("kubectl"), "--kubeconfig", self.kubeconfig, "--context", self.context] + list(args)
        proc = subprocess.run(cmd, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=kwargs.pop("timeout", 120), check=False, **kwargs)
        if check and proc.returncode != 0:
            pytest.fail("%s failed (rc=%s): %s" % (" ".join(cmd[3:]), proc.returncode, proc.stderr.strip()))
        return proc

    def kubectl_json(self, *args):
        return json.loads(self.kubectl(*(list(args) + ["-o", "json"])).stdout)

    def helm(self, *args, **kwargs):
        check = kwargs.pop("check", True)
        cmd = [self.binary("helm"), "--kubeconfig", self.kubeconfig, "--kube-context", self.context] + list(args)
        proc = subprocess.run(cmd, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=kwargs.pop("timeout", 300), check=False)
        if check and proc.returncode != 0:
            pytest.fail("helm %s failed (rc=%s): %s" % (" ".join(args), proc.returncode, proc.stderr.strip()))
        return proc


def _plane_state():
    """Return (Plane, None) when the plane answers, else (None, why-not)."""
    work = os.environ.get("HOMELAB_PLANE_WORK") or os.path.join(PLANE_DIR, ".work")
    ports_file = os.path.join(work, "ports.env")
    kubeconfig = os.path.join(work, "kubeconfig")
    if not (os.path.isfile(ports_file) and os.path.isfile(kubeconfig)):
        return None, "the local plane is not running (no %s): start it with hack/plane/up" % ports_file
    ports = read_ports(ports_file)
    cache = os.environ.get("HOMELAB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "homelab-istio-egress")
    plane = Plane(work, ports, os.environ.get("HOMELAB_PLANE_BIN") or os.path.join(cache, "bin"))
    pki = os.path.join(work, "pki")
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
    ctx.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))
    checks = (
        ("kube-apiserver", plane.apiserver + "/readyz", ctx),
        ("istiod", "http://127.0.0.1:%s/ready" % ports.get("ISTIOD_HTTP_PORT"), None),
    )
    for name, url, context in checks:
        try:
            urllib.request.urlopen(url, context=context, timeout=5).read()
        except Exception as exc:  # any failure to answer means: not running
            return None, "the local plane is not running (%s at %s: %s): start it with hack/plane/up" % (
                name, url, exc)
    return plane, None


@pytest.fixture(scope="session")
def plane():
    """The running local plane, or a skip saying how to start it."""
    found, why = _plane_state()
    if found is None:
        pytest.skip(why)
    return found
