# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection settings of cluster_read (plugins/module_utils/kube_conn.py, kube_rest.settings_for).

fixtures/kubeconfig/plane.yaml has the plane's kubeconfig shape (synthetic blobs, PROVENANCE.md);
the live hack/plane/.work/kubeconfig is parsed too when a plane is up.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os

import pytest
import yaml

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube_conn, kube_rest

HERE = os.path.dirname(os.path.abspath(__file__))
PLANE_FIXTURE = os.path.join(HERE, "fixtures", "kubeconfig", "plane.yaml")
LIVE = os.path.join(HERE, "..", "..", "..", "..", "hack", "plane", ".work", "kubeconfig")


def _doc():
    with open(PLANE_FIXTURE) as handle:
        return yaml.safe_load(handle)


def test_plane_kubeconfig_shape():
    out = kube_conn.from_kubeconfig(_doc())
    assert out["server"].startswith("https://127.0.0.1:") and out["context"] == "istio-egress-plane"
    assert out["ca_data"].startswith(b"-----BEGIN CERTIFICATE-----")
    assert out["cert_data"].startswith(b"-----BEGIN CERTIFICATE-----") and b"PRIVATE KEY" in out["key_data"]
    assert not out["insecure"] and not out["needs_client"] and "token" not in out


@pytest.mark.skipif(not os.path.exists(LIVE), reason="no plane is up in this checkout")
def test_live_plane_kubeconfig():
    settings = kube_rest.settings_for({"kubeconfig": LIVE}, environ={})
    assert settings["server"].startswith("https://127.0.0.1:") and b"BEGIN CERTIFICATE" in settings["ca_data"]
    client = kube_rest.Client(settings, 5)  # the CA and the client key load into an ssl context
    assert client.server == settings["server"]


def test_context_user_fields(tmp_path):
    doc = _doc()
    doc["contexts"].append({"name": "files", "context": {"cluster": "files", "user": "tok"}})
    doc["clusters"].append({"name": "files", "cluster": {"server": "https://api.lab:6443",
                                                         "certificate-authority": "ca.crt",
                                                         "insecure-skip-tls-verify": True}})
    doc["users"].append({"name": "tok", "user": {"tokenFile": "token", "username": "u", "password": "p"}})
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(doc))
    (tmp_path / "token").write_text("abc\n")
    settings = kube_rest.settings_for({"kubeconfig": str(path), "context": "files"}, environ={})
    assert settings["ca_file"] == str(tmp_path / "ca.crt")  # relative to the kubeconfig, as kubectl
    assert settings["token"] == "abc" and settings["insecure"] is True
    assert kube_conn.authorization(settings) == "Bearer abc"
    del settings["token"]
    assert kube_conn.authorization(settings) == "Basic " + base64.b64encode(b"u:p").decode()


def test_exec_user_needs_the_client():
    doc = _doc()
    doc["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "x"}}
    assert kube_conn.from_kubeconfig(doc)["needs_client"] is True


def test_missing_context_names_it():
    with pytest.raises(kube_conn.ConnError) as err:
        kube_conn.from_kubeconfig(_doc(), "nope", "kubeconfig /k")
    assert str(err.value) == "context 'nope' does not exist in kubeconfig /k (it has: istio-egress-plane)"
    doc = _doc()
    doc["contexts"][0]["context"]["user"] = "gone"
    with pytest.raises(kube_conn.ConnError, match="user 'gone' of context 'istio-egress-plane' does not exist"):
        kube_conn.from_kubeconfig(doc)


def test_wrong_context_cause_is_a_kubeconfig_problem(tmp_path):
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(_doc()))
    with pytest.raises(kube_rest.ReadError) as err:
        kube_rest.settings_for({"kubeconfig": str(path), "context": "homelab"}, environ={})
    assert err.value.cause == ("kubeconfig problem: context 'homelab' does not exist in kubeconfig %s "
                               "(it has: istio-egress-plane)" % path)


def test_missing_file_is_a_kubeconfig_problem(tmp_path):
    with pytest.raises(kube_rest.ReadError) as err:
        kube_rest.settings_for({"kubeconfig": str(tmp_path / "none")}, environ={})
    assert "cannot read kubeconfig" in err.value.msg and err.value.cause.startswith("kubeconfig problem")


def test_default_kubeconfig_is_the_first_of_the_list(tmp_path):
    first = tmp_path / "a"
    first.write_text(yaml.safe_dump(_doc()))
    env = {"KUBECONFIG": os.pathsep.join([str(first), str(tmp_path / "b")])}
    assert kube_rest.default_kubeconfig(env) == str(first)
    assert kube_rest.settings_for({}, environ=env)["context"] == "istio-egress-plane"


def test_explicit_options_override_and_skip_the_kubeconfig():
    auth = {"api_host": "https://10.0.0.1:6443/", "api_key": "t", "validate_certs": False, "ca_cert": "/ca",
            "proxy": "http://proxy:3128", "no_proxy": "10.0.0.0/8",
            "proxy_headers": {"proxy_basic_auth": "a:b", "user_agent": "me"}}
    settings = kube_rest.settings_for(auth, environ={"KUBECONFIG": "/does/not/exist"})
    assert settings["server"] == "https://10.0.0.1:6443" and settings["token"] == "t"
    assert settings["insecure"] is True and settings["ca_file"] == "/ca"
    over = kube_conn.override(kube_conn.from_kubeconfig(_doc()), {"ca_cert": "/ca", "api_key": "x"})
    assert "ca_data" not in over and over["ca_file"] == "/ca" and over["token"] == "x"


def test_in_cluster_settings():
    out = kube_conn.in_cluster({"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}, "tok\n", "/ca")
    assert out["server"] == "https://[fd00::1]:443" and out["token"] == "tok"


@pytest.mark.parametrize("server, expected", [
    ("https://127.0.0.1:36077", ("https", "127.0.0.1", 36077, "")),
    ("https://api.lab", ("https", "api.lab", 443, "")),
    ("http://[::1]:8080/prefix/", ("http", "::1", 8080, "/prefix")),
])
def test_split_server(server, expected):
    assert kube_conn.split_server(server) == expected


@pytest.mark.parametrize("bad", ["127.0.0.1:6443", "ftp://x", "https://:1", "https://h:port"])
def test_bad_server(bad):
    with pytest.raises(kube_conn.ConnError):
        kube_conn.split_server(bad)


@pytest.mark.parametrize("host, no_proxy, expected", [
    ("10.1.2.3", "10.0.0.0/8", True),
    ("10.1.2.3", "192.168.0.0/16", False),
    ("api.lab.example", ".example", True),
    ("api.lab.example", "lab.example", True),
    ("example", "lab.example", False),
    ("api.lab", "*", True),
    ("api.lab", "", False),
    ("127.0.0.1", "localhost,127.0.0.1", True),
])
def test_no_proxy(host, no_proxy, expected):
    assert kube_conn.bypasses_proxy(host, no_proxy) is expected


def test_proxy_headers():
    tunnel, request = kube_conn.proxy_header_values({"proxy_basic_auth": "a:b", "basic_auth": "c:d", "user_agent": "x"})
    assert tunnel == {"Proxy-Authorization": "Basic YTpi", "User-Agent": "x"}
    assert request == {"Authorization": "Basic Yzpk", "User-Agent": "x"}
