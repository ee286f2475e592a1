# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SYNTHETIC config dumps, built by mutating REAL ones from fixtures/config_dumps/.

No public real dump has this project's SNI egress route (PROVENANCE.md), so the
tests add it to a real dump here, in the shape Istio's pilot builds it
(core/tls.go: a filter chain with ``filter_chain_match.server_names`` and an
``envoy.filters.network.tcp_proxy`` with ``cluster`` or ``weighted_clusters``;
core/listener_builder.go: ``virtualOutbound`` with the
``virtualOutbound-blackhole`` and ``virtualOutbound-catchall-tcp`` chains;
core/listener.go: ``PassthroughFilterChain`` as the ``default_filter_chain``).
Every dump built here carries a top-level ``_synthetic`` note saying what was
changed; Envoy dumps have only ``configs``, so the parser ignores it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "config_dumps")
SIDECAR_ALLOW_ANY = "istio-1.1.1-productpage-sidecar-full-config_dump.json"
SIDECAR_REGISTRY_ONLY = "istio-1.0-dev-sidecar-full-config_dump.json"
INGRESS_ROUTER = "istio-1.3.0-ingressgateway-full-config_dump.json"

GW = "istio-egressgateway.istio-system.svc.cluster.local"
HOP1 = "outbound|443|httpbin|%s" % GW
HOP2 = "outbound|443||httpbin.org"

TCP_PROXY_TYPE = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener"
CLUSTER_TYPE = "type.googleapis.com/envoy.config.cluster.v3.Cluster"

_CACHE = {}


def load_real(name):
    """A fresh (deep-copied) decoded real fixture."""
    if name not in _CACHE:
        with open(os.path.join(FIXTURES, name), "rb") as f:
            _CACHE[name] = json.loads(f.read())
    return copy.deepcopy(_CACHE[name])


def note(dump, text):
    dump.setdefault("_synthetic", []).append(text)
    return dump


def _section(dump, kind):
    for entry in dump["configs"]:
        if entry.get("@type", "").endswith("." + kind):
            return entry
    raise KeyError(kind)


def tcp_proxy(cluster=None, weighted=None):
    cfg = {"@type": TCP_PROXY_TYPE, "stat_prefix": cluster or "weighted"}
    if weighted:
        cfg["weighted_clusters"] = {"clusters": [{"name": n, "weight": w} for n, w in weighted]}
    else:
        cfg["cluster"] = cluster
    return {"name": "envoy.filters.network.tcp_proxy", "typed_config": cfg}


def add_listener(dump, address, port, chains, default_chain=None, name=None):
    """Add (or extend) a dynamic v3 listener ``<address>_<port>``."""
    name = name or "%s_%s" % (address, port)
    listeners = _section(dump, "ListenersConfigDump").setdefault("dynamic_listeners", [])
    for item in listeners:
        lst = item.get("active_state", {}).get("listener", {})
        if lst.get("name") == name:
            lst.setdefault("filter_chains", []).extend(chains)
            if default_chain is not None:
                lst["default_filter_chain"] = default_chain
            return lst
    lst = {
        "@type": LISTENER_TYPE,
        "name": name,
        "address": {"socket_address": {"address": address, "port_value": port}},
        "filter_chains": list(chains),
        "listener_filters": [{"name": "envoy.filters.listener.tls_inspector"}],
        "traffic_direction": "OUTBOUND",
        "bind_to_port": False,
    }
    if default_chain is not None:
        lst["default_filter_chain"] = default_chain
    listeners.append({"name": name, "active_state": {"version_info": "synthetic", "listener": lst}})
    return lst


def sni_chain(server_names, cluster=None, weighted=None):
    return {"filter_chain_match": {"server_names": list(server_names)},
            "filters": [tcp_proxy(cluster, weighted)]}


def add_cluster(dump, name, ctype="EDS"):
    clusters = _section(dump, "ClustersConfigDump").setdefault("dynamic_active_clusters", [])
    clusters.append({"version_info": "synthetic",
                     "cluster": {"@type": CLUSTER_TYPE, "name": name, "type": ctype}})


def passthrough_default_chain(cluster):
    return {"name": "PassthroughFilterChain", "filter_chain_match": {}, "filters": [tcp_proxy(cluster)]}


def modern_virtual_outbound(dump, catch_all):
    """Replace the 1.x ``virtual`` listener by the Istio >= 1.4 ``virtualOutbound`` shape."""
    listeners = _section(dump, "ListenersConfigDump")["dynamic_listeners"]
    listeners[:] = [i for i in listeners if i.get("active_state", {}).get("listener", {}).get("name") != "virtual"]
    add_listener(dump, "0.0.0.0", 15001, [
        {"name": "virtualOutbound-blackhole", "filter_chain_match": {"destination_port": 15001},
         "filters": [tcp_proxy("BlackHoleCluster")]},
        {"name": "virtualOutbound-catchall-tcp", "filters": [tcp_proxy(catch_all)]},
    ], name="virtualOutbound")["use_original_dst"] = True
    return note(dump, "virtual listener replaced by virtualOutbound (catch-all %s)" % catch_all)


def sidecar_via_gateway(cluster=HOP1, base=SIDECAR_ALLOW_ANY, address="0.0.0.0", server_names=("httpbin.org",),
                        weighted=None, define_clusters=True):
    """A real sidecar dump plus the SNI chain of a VirtualService tls.match for httpbin.org."""
    dump = load_real(base)
    add_listener(dump, address, 443, [sni_chain(server_names, cluster, weighted)])
    names = [n for n, _w in weighted] if weighted else [cluster]
    if define_clusters:
        for n in names:
            add_cluster(dump, n, "STRICT_DNS" if n.endswith("|httpbin.org") else "EDS")
    return note(dump, "SYNTHETIC from %s: listener %s_443 chain SNI %s -> %s"
                % (base, address, ",".join(server_names), ", ".join(names)))


def router_hop2(port=8443):
    """The real 1.3.0 ingress gateway dump plus an egress gateway's TLS passthrough chain."""
    dump = load_real(INGRESS_ROUTER)
    add_listener(dump, "0.0.0.0", port, [sni_chain(["httpbin.org"], HOP2)])
    add_cluster(dump, HOP2, "STRICT_DNS")
    return note(dump, "SYNTHETIC from %s: listener 0.0.0.0_%s chain SNI httpbin.org -> %s"
                % (INGRESS_ROUTER, port, HOP2))


def camel_case(obj):
    """Re-encode keys as protojson lowerCamelCase (what some tools print)."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if key.startswith("@") or "_" not in key:
                out[key] = camel_case(value)
            else:
                head, *rest = key.split("_")
                out[head + "".join(p[:1].upper() + p[1:] for p in rest)] = camel_case(value)
        return out
    if isinstance(obj, list):
        return [camel_case(v) for v in obj]
    return obj


def envoy17_map_shape(dump):
    """Envoy 1.7 printed ``configs`` as a map keyed by section name."""
    names = {"BootstrapConfigDump": "bootstrap", "ClustersConfigDump": "clusters",
             "ListenersConfigDump": "listeners", "RoutesConfigDump": "routes"}
    out = {}
    for entry in dump["configs"]:
        kind = entry["@type"].rsplit(".", 1)[-1]
        entry["@type"] = "type.googleapis.com/envoy.admin.v2alpha." + kind
        out[names.get(kind, kind)] = entry
    dump["configs"] = out
    return note(dump, "configs re-keyed as the Envoy 1.7 map, v2alpha type URLs")


def v2alpha_active_listeners(dump):
    """v2alpha ``dynamic_active_listeners[].listener`` instead of ``dynamic_listeners[].active_state``."""
    section = _section(dump, "ListenersConfigDump")
    section["dynamic_active_listeners"] = [i["active_state"] for i in section.pop("dynamic_listeners")]
    section["@type"] = "type.googleapis.com/envoy.admin.v2alpha.ListenersConfigDump"
    return note(dump, "listeners moved to v2alpha dynamic_active_listeners")


def write(dump, path):
    with open(path, "w") as f:
        json.dump(dump, f)
    return path


def scaled_dump(target_bytes, base=None):
    """SYNTHETIC: a dump of about ``target_bytes`` (indented JSON) for benchmarks.

    Replicates the listeners, clusters and route tables of ``base`` (default:
    sidecar_via_gateway()) under suffixed names, so the parser meets the
    shapes of a big mesh (thousands of listeners, tens of thousands of clusters).
    """
    dump = base if base is not None else sidecar_via_gateway()
    listeners = _section(dump, "ListenersConfigDump")["dynamic_listeners"]
    clusters = _section(dump, "ClustersConfigDump")["dynamic_active_clusters"]
    routes = _section(dump, "RoutesConfigDump")["dynamic_route_configs"]
    originals = (list(listeners), list(clusters), list(routes))
    one_copy = len(json.dumps(dump, indent=1))
    copies = max(0, int(target_bytes // max(one_copy, 1)))
    for n in range(1, copies):
        for item in originals[0]:
            item = copy.deepcopy(item)
            item["active_state"]["listener"]["name"] += "-%d" % n
            listeners.append(item)
        for item in originals[1]:
            item = copy.deepcopy(item)
            item["cluster"]["name"] += "-%d" % n
            clusters.append(item)
        for item in originals[2]:
            item = copy.deepcopy(item)
            item["route_config"]["name"] = "%s-%d" % (item["route_config"].get("name"), n)
            routes.append(item)
    return note(dump, "scaled to %d copies of its listeners, clusters and routes" % copies)


# ---------------------------------------------------------------------------
# Variants of the istiod 1.30 dumps in fixtures/generated/ (REAL output of the
# real istiod for the collection's objects, see PROVENANCE.md there). Every
# helper below edits a copy and notes the edit in ``_synthetic``.

GENERATED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "generated")
GEN_SIDECAR = "istiod-1.30-sidecar-sleep-via-egress-config_dump.json"
GEN_SIDECAR_NO_HOP1 = "istiod-1.30-sidecar-sleep-no-hop1-config_dump.json"
GEN_GATEWAY = "istiod-1.30-egressgateway-config_dump.json"


def load_generated(name=GEN_SIDECAR):
    """A fresh (deep-copied) decoded istiod-generated dump."""
    key = "generated/" + name
    if key not in _CACHE:
        with open(os.path.join(GENERATED, name), "rb") as f:
            _CACHE[key] = json.loads(f.read())
    return copy.deepcopy(_CACHE[key])


def listener(dump, name):
    """The (mutable) listener object called ``name``."""
    for item in _section(dump, "ListenersConfigDump").get("dynamic_listeners", []):
        lst = item.get("active_state", {}).get("listener", {})
        if lst.get("name") == name:
            return lst
    raise KeyError(name)


def sni_chain_of(dump, host="httpbin.org", name="0.0.0.0_443"):
    """The real SNI filter chain for ``host`` on listener ``name``."""
    for ch in listener(dump, name)["filter_chains"]:
        if host in ch.get("filter_chain_match", {}).get("server_names", []):
            return ch
    raise KeyError(host)


def restrict_sni_chain(dump, text, **match):
    """Add FilterChainMatch criteria to the real httpbin.org chain on 0.0.0.0_443."""
    sni_chain_of(dump).setdefault("filter_chain_match", {}).update(match)
    return note(dump, "SYNTHETIC from %s: httpbin.org chain on 0.0.0.0_443 %s (%s)"
                % (GEN_SIDECAR, text, json.dumps(match, sort_keys=True)))


def set_catch_all(dump, virtual=None, passthrough_443=None):
    """Point the virtualOutbound catch-all and/or 0.0.0.0_443's PassthroughFilterChain at a cluster."""
    if virtual is not None:
        for ch in listener(dump, "virtualOutbound")["filter_chains"]:
            if ch.get("name") == "virtualOutbound-catchall-tcp":
                ch["filters"][-1]["typed_config"]["cluster"] = virtual
    if passthrough_443 is not None:
        listener(dump, "0.0.0.0_443")["default_filter_chain"]["filters"][-1]["typed_config"]["cluster"] = \
            passthrough_443
    return note(dump, "SYNTHETIC: catch-all of virtualOutbound -> %s, 0.0.0.0_443 default chain -> %s"
                % (virtual or "(unchanged)", passthrough_443 or "(unchanged)"))


def drop_section(dump, kind):
    dump["configs"] = [e for e in dump["configs"] if not e.get("@type", "").endswith("." + kind)]
    return note(dump, "SYNTHETIC: %s removed" % kind)
