# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""istio_proxy_config main() in-process (the ansible-test units way): the whole bad-input corpus.

The ad-hoc runs in test_istio_proxy_config.py prove the same through the
ansible CLI for a few items; here every corpus file runs through main(),
fail_json and the JSON the module prints, in milliseconds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.homelab.istio_egress.plugins.modules import (
    istio_proxy_config as mod,
)

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.abspath(os.path.join(HERE, "..", "..", "bad_input", "config_dumps"))
FIXTURES = os.path.abspath(os.path.join(HERE, "..", "module_utils", "fixtures", "config_dumps"))


@contextlib.contextmanager
def module_args(args):
    try:  # ansible-core >= 2.19
        from ansible.module_utils.testing import patch_module_args
    except ImportError:
        patch_module_args = None
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    saved = basic._ANSIBLE_ARGS
    basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = saved


def run_main(capsys, args):
    with module_args(args), pytest.raises(SystemExit):
        mod.main()
    out = capsys.readouterr().out
    return json.loads(out)


def _corpus():
    with open(os.path.join(BAD, "cases.json")) as f:
        return sorted(json.load(f)["cases"].items())


@pytest.mark.parametrize("name,fragment", _corpus())
def test_corpus_item_fails_cleanly(capsys, name, fragment):
    result = run_main(capsys, {"src": os.path.join(BAD, name), "host": "httpbin.org"})
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == "file %s: %s" % (os.path.join(BAD, name), result["msg"].split(": ", 1)[1])
    assert fragment in result["msg"]
    assert "exception" not in result and "\n" not in result["msg"]


def test_real_dump_without_host_has_no_destination(capsys):
    result = run_main(capsys, {"src": os.path.join(FIXTURES, "istio-1.3.0-ingressgateway-full-config_dump.json")})
    assert result["changed"] is False and "destination" not in result
    assert result["proxy"]["type"] == "router"
    assert [lst["name"] for lst in result["listeners"]] == [None, "0.0.0.0_80", "0.0.0.0_31400"]


def test_istioctl_missing(capsys, monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, *a, **k: None)
    result = run_main(capsys, {"pod": "sleep", "namespace": "demo", "source": "istioctl"})
    assert result["failed"] is True
    assert result["msg"].startswith("source=istioctl was requested but istioctl is not on PATH")


def test_istioctl_pod_not_found(capsys, monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, *a, **k: "/usr/bin/istioctl")
    monkeypatch.setattr(basic.AnsibleModule, "run_command",
                        lambda self, cmd, **k: (1, "", 'Error: pods "sleep" not found\n'))
    result = run_main(capsys, {"pod": "sleep", "namespace": "demo", "source": "istioctl", "context": "lab"})
    assert result["msg"] == 'pod demo/sleep was not found (istioctl): Error: pods "sleep" not found'
    assert result["cmd"] == ["/usr/bin/istioctl", "proxy-config", "all", "sleep.demo", "-o", "json",
                             "--context", "lab"]
    assert result["rc"] == 1


def test_istioctl_output_is_parsed(capsys, monkeypatch):
    with open(os.path.join(FIXTURES, "istio-1.0-dev-sidecar-full-config_dump.json")) as f:
        dump = f.read()
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, *a, **k: "/usr/bin/istioctl")
    monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, cmd, **k: (0, dump + "\n", ""))
    result = run_main(capsys, {"pod": "a", "namespace": "apps", "source": "istioctl", "host": "httpbin.org"})
    assert result["source"] == "istioctl" and result["outbound_traffic_policy"]["mode"] == "REGISTRY_ONLY"
    assert result["destination"]["cluster"] == "BlackHoleCluster"


GENERATED = os.path.abspath(os.path.join(HERE, "..", "module_utils", "fixtures", "generated"))
SIDECAR_130 = os.path.join(GENERATED, "istiod-1.30-sidecar-sleep-via-egress-config_dump.json")
GATEWAY_130 = os.path.join(GENERATED, "istiod-1.30-egressgateway-config_dump.json")


def test_generated_sidecar_through_main(capsys):
    """REAL istiod 1.30 dumps: hop 1 on the sidecar, hop 2 and its listener port on the gateway."""
    result = run_main(capsys, {"src": SIDECAR_130, "host": "httpbin.org"})
    dest = result["destination"]
    assert dest["via_egress_gateway"] is True and dest["listener_port"] == 443 and dest["call"] == "tls"
    assert result["proxy"]["type"] == "sidecar" and result["outbound_traffic_policy"]["mode"] == "ALLOW_ANY"
    gateway = run_main(capsys, {"src": GATEWAY_130, "host": "httpbin.org"})
    assert gateway["proxy"]["type"] == "router" and gateway["destination"]["listener_port"] == 8443


def test_address_and_protocol_options(capsys):
    result = run_main(capsys, {"src": SIDECAR_130, "host": "sleep.mesh-test.svc.cluster.local", "port": 80,
                               "protocol": "tls", "address": "10.233.1.2"})
    dest = result["destination"]
    assert dest["address"] == "10.233.1.2" and dest["call"] == "tls"
    assert dest["filter_chain"] == "PassthroughFilterChain" and dest["matched"] is False


@pytest.mark.parametrize("args,msg", [
    ({"address": "10.0.0.1"}, "address needs host: it is the IP address the client connects to for host"),
    ({"host": "httpbin.org", "address": "httpbin.org"},
     "address must be an IP address (the one the client connects to), not 'httpbin.org'"),
])
def test_bad_address(capsys, args, msg):
    result = run_main(capsys, dict({"src": SIDECAR_130}, **args))
    assert result["failed"] is True and result["msg"] == msg


def test_istioctl_refuses_options_it_cannot_pass(capsys):
    result = run_main(capsys, {"pod": "sleep", "namespace": "demo", "source": "istioctl",
                               "api_host": "https://10.0.0.1:6443", "api_key": "synthetic"})
    assert result["failed"] is True
    assert result["msg"] == ("source=istioctl takes only kubeconfig and context from the connection options; "
                             "api_host, api_key would be ignored: use source=api, or a kubeconfig")
