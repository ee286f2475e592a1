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
from api_doubles import kubeconfig_doc

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


# The kubeconfig's four "inline data, else a file" pairs (kube_conn.PAIRS), each both ways.
# SYNTHETIC kubeconfigs: only the one field under test differs from a bare cluster and user.
# (section, data field, data value, settings key and value of the data, file field, settings key of the file)
PEM = b"-----BEGIN CERTIFICATE-----\nsynthetic\n-----END CERTIFICATE-----\n"
PAIR_CASES = [
    ("cluster", "certificate-authority-data", base64.b64encode(PEM).decode(), "ca_data", PEM,
     "certificate-authority", "ca_file"),
    ("user", "client-certificate-data", base64.b64encode(PEM).decode(), "cert_data", PEM,
     "client-certificate", "cert_file"),
    ("user", "client-key-data", base64.b64encode(b"synthetic key").decode(), "key_data", b"synthetic key",
     "client-key", "key_file"),
    # a token is sent as written: not base64 (this one would not even decode)
    ("user", "token", "abc", "token", "abc", "tokenFile", "token_file"),
]
PAIR_IDS = ["ca", "cert", "key", "token"]


def _bare(section, fields):
    if section == "cluster":
        return kubeconfig_doc("https://api.lab:6443", {}, context="lab", cluster=fields)
    return kubeconfig_doc("https://api.lab:6443", fields, context="lab")


ALL_PAIR_KEYS = {"ca_data", "ca_file", "cert_data", "cert_file", "key_data", "key_file", "token", "token_file"}


@pytest.mark.parametrize("section,data_field,data,data_key,value,file_field,file_key", PAIR_CASES, ids=PAIR_IDS)
def test_each_pair_takes_the_inline_data(section, data_field, data, data_key, value, file_field, file_key):
    out = kube_conn.from_kubeconfig(_bare(section, {data_field: data}))
    assert out[data_key] == value
    assert not (ALL_PAIR_KEYS - {data_key}) & set(out)
    # the data wins over the file when both are given
    out = kube_conn.from_kubeconfig(_bare(section, {data_field: data, file_field: "/etc/lab/x"}))
    assert out[data_key] == value and file_key not in out


@pytest.mark.parametrize("section,data_field,data,data_key,value,file_field,file_key", PAIR_CASES, ids=PAIR_IDS)
def test_each_pair_else_takes_the_file(section, data_field, data, data_key, value, file_field, file_key):
    out = kube_conn.from_kubeconfig(_bare(section, {file_field: "/etc/lab/x"}))
    assert out[file_key] == "/etc/lab/x"
    assert not (ALL_PAIR_KEYS - {file_key}) & set(out)
    # an empty data field is no data
    out = kube_conn.from_kubeconfig(_bare(section, {data_field: "", file_field: "/etc/lab/x"}))
    assert out[file_key] == "/etc/lab/x" and data_key not in out


@pytest.mark.parametrize("section,data_field", [(case[0], case[1]) for case in PAIR_CASES[:3]], ids=PAIR_IDS[:3])
def test_bad_base64_names_the_field_and_the_file(section, data_field):
    with pytest.raises(kube_conn.ConnError) as err:
        kube_conn.from_kubeconfig(_bare(section, {data_field: "abc"}), where="kubeconfig /k")
    assert str(err.value) == "kubeconfig /k: %s is not valid base64" % data_field
    with pytest.raises(kube_conn.ConnError) as err:
        kube_conn.from_kubeconfig(_bare(section, {data_field: "abc"}))
    assert str(err.value) == "the kubeconfig: %s is not valid base64" % data_field


@pytest.mark.parametrize("section,data_field", [(case[0], case[1]) for case in PAIR_CASES[:3]], ids=PAIR_IDS[:3])
def test_bad_base64_through_settings_for_names_the_kubeconfig_file(tmp_path, section, data_field):
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(_bare(section, {data_field: "abc"})))
    with pytest.raises(kube_rest.ReadError) as err:
        kube_rest.settings_for({"kubeconfig": str(path)}, environ={})
    assert err.value.cause == "kubeconfig %s: %s is not valid base64" % (path, data_field)


# option -> (settings key it sets, the other side of its pair, which it removes)
OVERRIDE_CASES = [("ca_cert", "ca_file", "ca_data"), ("client_cert", "cert_file", "cert_data"),
                  ("client_key", "key_file", "key_data"), ("api_key", "token", "token_file")]


@pytest.mark.parametrize("option,key,other", OVERRIDE_CASES, ids=PAIR_IDS)
def test_an_option_replaces_either_side_of_its_pair(option, key, other):
    settings = {"server": "https://api.lab:6443", key: "from the kubeconfig", other: "from the kubeconfig"}
    untouched = dict.fromkeys(ALL_PAIR_KEYS - {key, other}, "kept")
    over = kube_conn.override(dict(settings, **untouched), {option: "/from/option"})
    assert over[key] == "/from/option" and other not in over
    assert all(over[k] == "kept" for k in untouched)
    # without the option, both sides stay as the kubeconfig said
    assert kube_conn.override(settings, {}) == settings
