# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the SYNTHETIC ``shape-*.json`` cases of this corpus (run it from anywhere; it rewrites them).

Each starts from a trimmed copy of the REAL istiod 1.30 sidecar dump
(tests/unit/plugins/module_utils/fixtures/generated/istiod-1.30-sidecar-sleep-via-egress-config_dump.json:
its node, the httpbin.org hop-1 cluster, PassthroughCluster, BlackHoleCluster,
and the listeners 0.0.0.0_443 and virtualOutbound) and puts one JSON value of a
type Envoy never prints at one place. Each file carries ``_synthetic`` saying so.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "..", "plugins", "module_utils", "fixtures", "generated",
                      "istiod-1.30-sidecar-sleep-via-egress-config_dump.json")
KEEP_CLUSTERS = ("outbound|443|httpbin|istio-egressgateway.istio-system.svc.cluster.local",
                 "PassthroughCluster", "BlackHoleCluster")
KEEP_LISTENERS = ("0.0.0.0_443", "virtualOutbound")


def trimmed():
    with open(SOURCE, "rb") as f:
        dump = json.loads(f.read())
    for entry in dump["configs"]:
        kind = entry["@type"].rsplit(".", 1)[-1]
        if kind == "BootstrapConfigDump":
            node = entry["bootstrap"]["node"]
            entry["bootstrap"] = {"node": {"id": node["id"], "cluster": node["cluster"],
                                           "metadata": {k: node["metadata"][k] for k in ("ISTIO_VERSION", "NAME",
                                                                                         "NAMESPACE")}}}
        elif kind == "ClustersConfigDump":
            entry.pop("static_clusters", None)
            entry["dynamic_active_clusters"] = [c for c in entry["dynamic_active_clusters"]
                                                if c["cluster"]["name"] in KEEP_CLUSTERS]
        elif kind == "ListenersConfigDump":
            entry["dynamic_listeners"] = [i for i in entry["dynamic_listeners"] if i["name"] in KEEP_LISTENERS]
    dump["configs"] = [e for e in dump["configs"] if not e["@type"].endswith("RoutesConfigDump")]
    return dump


def section(dump, kind):
    return next(e for e in dump["configs"] if e["@type"].endswith("." + kind))


def listener(dump, name="0.0.0.0_443"):
    return next(i for i in section(dump, "ListenersConfigDump")["dynamic_listeners"] if i["name"] == name)[
        "active_state"]["listener"]


def sni_match(dump):
    return listener(dump)["filter_chains"][0]["filter_chain_match"]


def tcp_proxy(dump):
    return listener(dump)["filter_chains"][0]["filters"][-1]["typed_config"]


def weight_as_string(dump):
    cfg = tcp_proxy(dump)
    cfg.pop("cluster")
    cfg["weighted_clusters"] = {"clusters": [{"name": "outbound|443||httpbin.org", "weight": "100"}]}


CASES = {
    "shape-server-name-number.json": ("server_names holds the number 443", lambda d: sni_match(d).update(
        server_names=[443])),
    "shape-server-names-string.json": ("server_names is a string", lambda d: sni_match(d).update(
        server_names="httpbin.org")),
    "shape-listener-name-list.json": ("a listener name is a list", lambda d: listener(d).update(
        name=["0.0.0.0_443"])),
    "shape-cluster-name-object.json": ("a cluster name is an object", lambda d: section(
        d, "ClustersConfigDump")["dynamic_active_clusters"][0]["cluster"].update(name={"value": "x"})),
    "shape-null-listeners.json": ("dynamic_listeners is null", lambda d: section(
        d, "ListenersConfigDump").update(dynamic_listeners=None)),
    "shape-port-string.json": ("port_value is a string", lambda d: listener(d)["address"]["socket_address"].update(
        port_value="443")),
    "shape-filter-chain-match-list.json": ("filter_chain_match is a list", lambda d: listener(
        d)["filter_chains"][0].update(filter_chain_match=[])),
    "shape-tcp-proxy-cluster-list.json": ("the tcp_proxy cluster is a list", lambda d: tcp_proxy(d).update(
        cluster=["outbound|443||httpbin.org"])),
    "shape-prefix-range-not-an-ip.json": ("a prefix range that is no IP", lambda d: sni_match(d).update(
        prefix_ranges=[{"address_prefix": "httpbin.org", "prefix_len": 32}])),
    "shape-null-node.json": ("the bootstrap node is null", lambda d: section(
        d, "BootstrapConfigDump")["bootstrap"].update(node=None)),
    "shape-node-id-number.json": ("the node id is a number", lambda d: section(
        d, "BootstrapConfigDump")["bootstrap"]["node"].update(id=12)),
    "shape-weight-string.json": ("a weighted cluster weight is a string", weight_as_string),
}


def main():
    base = trimmed()
    for name, (what, mutate) in sorted(CASES.items()):
        dump = copy.deepcopy(base)
        mutate(dump)
        dump["_synthetic"] = ["SYNTHETIC from the trimmed istiod 1.30 sidecar dump: %s" % what]
        with open(os.path.join(HERE, name), "w") as f:
            json.dump(dump, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
