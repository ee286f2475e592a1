# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn an Envoy admin config dump (``/config_dump``) of an Istio proxy into facts.

Pure and stdlib only: no I/O, no AnsibleModule. The module feeds it the bytes
it read (pod exec, istioctl or a file) and hands the facts back to the user.

What a playbook needs to prove egress goes through the gateway lives in the
*listeners*, not the routes (NOTES.md, "Where the proof lives"): a
VirtualService ``tls.match`` becomes a filter chain on ``0.0.0.0_443`` (or on a
service VIP listener) with ``filter_chain_match.server_names`` and a
``tcp_proxy`` whose ``cluster`` / ``weighted_clusters`` is the destination
(istio/istio ``pilot/pkg/networking/core/tls.go``). Cluster names are
``direction|port|subset|host`` (``model.BuildSubsetKey``).

Shapes handled, all in one pass over the decoded JSON and without copying it:

* ``configs`` as a list of typed entries (Envoy >= 1.8) or as a map
  (Envoy 1.7); type URLs ``envoy.admin.v2alpha.*`` and ``envoy.admin.v3.*``
  (only the last dotted component is compared);
* listeners under ``static_listeners[].listener``,
  ``dynamic_listeners[].active_state.listener`` (v3 and late v2alpha),
  ``dynamic_active_listeners[].listener`` (v2alpha), or bare listener objects;
* clusters under ``static_clusters[].cluster``,
  ``dynamic_active_clusters[].cluster`` or bare cluster objects;
* routes under ``static_route_configs[].route_config`` and
  ``dynamic_route_configs[].route_config``, plus inline HCM route configs;
* network filters configured with ``typed_config`` (v3) or ``config`` (v2
  Struct), with the old ``envoy.tcp_proxy`` / ``envoy.http_connection_manager``
  names or the ``envoy.filters.network.*`` ones, tcp_proxy ``cluster``,
  ``weighted_clusters`` or ``deprecated_v1.routes``;
* ``filter_chains`` and the v3 ``default_filter_chain``;
* proto field names in snake_case (what the admin endpoint prints) and the
  lowerCamelCase of protojson (what some tools re-encode).

This file is the public API (parse_config_dump, analyse_config_dump,
ProxyConfig.find_destination and the names the module and tests import); the
work is done by one file per job (README.md, "Layout"): envoy_dump.py
(decoding and shape checks), envoy_read.py (the sections into facts),
envoy_match.py (Envoy's filter chain selection), envoy_policy.py (the
outbound traffic policy).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gc

# Re-exported: the module and the tests import these from envoy_config.
from ansible_collections.homelab.istio_egress.plugins.module_utils.envoy_dump import (
    ALLOW_ANY_VHOST,
    BLACKHOLE_CHAIN,
    BLACKHOLE_CLUSTER,
    BLOCK_ALL_VHOST,
    CATCHALL_CHAIN,
    DEFAULT_EGRESS_GATEWAY_SERVICE,
    PASSTHROUGH_CHAIN,
    PASSTHROUGH_CLUSTER,
    VIRTUAL_OUTBOUND_NAMES,
    WILDCARD_ADDRESSES,
    ConfigDumpError,
    _check_shape,
    _ip,
    _json_type,
    decode_config_dump,
    parse_cluster_name,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils.envoy_match import _call, _ChainMatch, _lname
from ansible_collections.homelab.istio_egress.plugins.module_utils.envoy_policy import UNREGISTERED_HOST, _mode_note, _TrafficPolicy
from ansible_collections.homelab.istio_egress.plugins.module_utils.envoy_read import _DumpReader

__all__ = (  # what the modules, tests and benchmarks import from here
    "ALLOW_ANY_VHOST",
    "BLACKHOLE_CHAIN",
    "BLACKHOLE_CLUSTER",
    "BLOCK_ALL_VHOST",
    "CATCHALL_CHAIN",
    "DEFAULT_EGRESS_GATEWAY_SERVICE",
    "PASSTHROUGH_CHAIN",
    "PASSTHROUGH_CLUSTER",
    "UNREGISTERED_HOST",
    "VIRTUAL_OUTBOUND_NAMES",
    "WILDCARD_ADDRESSES",
    "ConfigDumpError",
    "ProxyConfig",
    "analyse_config_dump",
    "decode_config_dump",
    "parse_cluster_name",
    "parse_config_dump",
)


class ProxyConfig(_DumpReader, _ChainMatch, _TrafficPolicy):
    """Facts from one config dump; build it with parse_config_dump().

    The state and the section handlers are _DumpReader's (envoy_read.py), the
    chain selection _ChainMatch's (envoy_match.py), the traffic policy
    _TrafficPolicy's (envoy_policy.py); the destination facts are here.
    """

    def find_destination(self, host, port=443, egress_gateway_service=DEFAULT_EGRESS_GATEWAY_SERVICE,
                         address=None, protocol="auto"):
        """Where this proxy sends a connection to host:port, with one sentence of evidence.

        ``protocol``: ``tls`` (a TLS ClientHello with SNI ``host``), ``http``
        (plain HTTP/1.1 with Host ``host``), or ``auto`` (tls on port 443, else
        http). ``address``: the IP the client connects to, when known; without
        it every listener the host can be reached on is followed (see
        _sidecar_paths) and the first one reported, the others as alternatives.
        """
        if not isinstance(host, str) or not host.strip().rstrip("."):
            raise ConfigDumpError("host must be a non-empty name")
        host = host.strip().lower().rstrip(".")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ConfigDumpError("port must be a number between 1 and 65535, not %r" % (port,))
        if protocol not in ("auto", "tls", "http"):
            raise ConfigDumpError("protocol must be auto, tls or http, not %r" % (protocol,))
        ip = None
        if address is not None and str(address).strip():
            ip = _ip(str(address).strip())
            if ip is None:
                raise ConfigDumpError("address must be an IP address, not %r" % (address,))
        tls = port == 443 if protocol == "auto" else protocol == "tls"
        gateway = (egress_gateway_service or DEFAULT_EGRESS_GATEWAY_SERVICE).strip().lower()
        router = self.proxy["type"] == "router"
        result = {
            "host": host, "port": port, "address": str(ip) if ip is not None else None,
            "call": "tls" if tls else "http",
            "matched": False, "protocol": None,
            "listener": None, "listener_port": None, "filter_chain": None, "server_names": None,
            "route": None, "virtual_host": None,
            "cluster": None, "weighted_clusters": None, "clusters": [], "cluster_found": None,
            "via_egress_gateway": False, "direct": False,
            "egress_gateway_service": gateway,
            "hop": 2 if router else (1 if self.proxy["type"] == "sidecar" else None),
            "evidence": None, "alternatives": [], "paths": [], "assumptions": [],
        }
        if not self._have_listeners:
            result["evidence"] = ("the dump has no ListenersConfigDump, so the route to %s:%s cannot be "
                                  "followed" % (host, port))
            return result
        call = _call(host, port, tls)
        paths = self._router_paths(call) if router else self._sidecar_paths(call, ip)
        if not paths:
            if router:
                result["evidence"] = ("no listener filter chain selects SNI %s and no virtual host has domain %s "
                                      "on this router: the gateway does not forward %s:%s" % (host, host, host, port))
            else:
                result["evidence"] = ("no listener on port %s and no outbound capture listener (virtualOutbound) in "
                                      "the dump: where a connection to %s:%s goes cannot be told" % (port, host, port))
            return result
        facts = [self._path_facts(p, call, gateway, router) for p in paths]
        best = facts[0]
        for key in ("listener", "listener_port", "filter_chain", "server_names", "route", "virtual_host",
                    "cluster", "weighted_clusters", "clusters", "cluster_found", "via_egress_gateway", "direct",
                    "evidence"):
            result[key] = best[key]
        result["matched"] = best["matched"]
        result["protocol"] = {"sni": "tls", "tcp": "tcp", "http": "http"}.get(paths[0]["kind"]) \
            if best["matched"] else None
        if best["when"]:
            result["evidence"] += " (%s)" % best["when"]
        result["assumptions"] = list(paths[0]["notes"])
        result["alternatives"] = [f["evidence"] + (" (%s)" % f["when"] if f["when"] else "") for f in facts[1:5]]
        result["paths"] = [{k: f[k] for k in _PATH_KEYS} for f in facts[:5]]
        return result

    def _path_facts(self, path, call, gateway, router):
        lst, ch = path["listener"], path["chain"]
        out = {"listener": _lname(lst), "listener_port": lst["port"], "address": None, "when": path["when"],
               "matched": path["specific"], "filter_chain": None, "server_names": None, "route": None,
               "virtual_host": None, "cluster": None, "weighted_clusters": None, "clusters": [],
               "cluster_found": None, "via_egress_gateway": False, "direct": False}
        if path["address"] is not None and lst["address"] not in WILDCARD_ADDRESSES:
            out["address"] = str(path["address"])
        if ch is not None:
            out["filter_chain"] = ch["name"]
            out["server_names"] = ch["server_names"] or None
        if path["route"] is not None:
            out["route"] = path["route"]["name"]
        if path["vhost"] is not None:
            out["virtual_host"] = path["vhost"]["name"]
        cluster, weighted, live = _path_targets(path)
        out["cluster"], out["weighted_clusters"] = cluster, weighted
        out["clusters"] = [cluster] if cluster else [w["name"] for w in weighted or ()]
        for w in weighted or ():
            w["host"] = parse_cluster_name(w["name"])[3]
            w["subset"] = parse_cluster_name(w["name"])[2]
        hosts = [parse_cluster_name(n)[3] for n in live]
        if self._have_clusters and live:
            out["cluster_found"] = all(n in self._cluster_names for n in live)
        out["via_egress_gateway"] = bool(hosts) and all(h == gateway for h in hosts)
        out["direct"] = bool(hosts) and all(h == call["host"] for h in hosts)
        evidence = _sentence(path, call)
        if out["via_egress_gateway"]:
            evidence += "; %s is sent to the egress gateway %s (hop 1)" % (call["host"], gateway)
        elif out["direct"] and router:
            evidence += "; the gateway forwards %s to the external host (hop 2)" % call["host"]
        elif out["direct"]:
            evidence += "; the sidecar sends %s directly, bypassing the egress gateway" % call["host"]
        elif any(h == gateway for h in hosts):
            evidence += "; only part of the traffic to %s goes to the egress gateway" % call["host"]
        if out["cluster_found"] is False:
            evidence += " (but that cluster is missing from the dump's clusters: Envoy has nowhere to send it)"
        elif live and not self._have_clusters:
            evidence += " (the dump has no clusters section: whether that cluster exists is unknown)"
        out["evidence"] = evidence
        return out


_PATH_KEYS = ("listener", "listener_port", "address", "when", "matched", "filter_chain", "server_names",
              "route", "virtual_host", "cluster", "clusters", "cluster_found", "via_egress_gateway", "direct",
              "evidence")


def _path_targets(path):
    """(cluster, weighted clusters, names that carry traffic) of a path."""
    ch = path["chain"]
    if ch is None or path["tls_into_http"]:
        return None, None, []
    if path["kind"] == "http":
        vh = path["vhost"]
        names = [c for c in vh["clusters"] if not c.startswith("header:")] if vh is not None else []
        if len(names) == 1:
            return names[0], None, names
        return None, [{"name": n, "weight": None} for n in names] or None, names
    if ch["weighted_clusters"]:
        weighted = [dict(w) for w in ch["weighted_clusters"]]
        return None, weighted, [w["name"] for w in weighted if w["weight"] is None or w["weight"] > 0]
    if ch["cluster"]:
        return ch["cluster"], None, [ch["cluster"]]
    return None, None, []


def _criteria(chain):
    """The non-SNI match criteria of a chain, for sentences."""
    parts = []
    if chain["destination_port"] is not None:
        parts.append("destination_port %s" % chain["destination_port"])
    if chain["prefix_ranges"]:
        parts.append("prefix_ranges %s" % ", ".join(chain["prefix_ranges"][:3]))
    if chain["transport_protocol"]:
        parts.append("transport_protocol %s" % chain["transport_protocol"])
    if chain["application_protocols"]:
        parts.append("application_protocols %s" % ", ".join(chain["application_protocols"][:3]))
    return ", ".join(parts)


def _target_text(chain):
    if chain["weighted_clusters"]:
        return "weighted " + ", ".join(
            "%s (%s)" % (w["name"], "weight %s" % w["weight"] if w["weight"] is not None else "?")
            for w in chain["weighted_clusters"])
    return chain["cluster"] or "no cluster"


def _sentence(path, call):
    """One sentence for a path: which listener, chain (or virtual host) and cluster decide."""
    lst, ch = path["listener"], path["chain"]
    lname = _lname(lst)
    host, port = call["host"], call["port"]
    if ch is None:
        return ("no filter chain of listener %s matches a %s connection to %s:%s and it has no default chain: "
                "Envoy closes the connection" % (lname, "TLS" if call["tls"] else "plain", host, port))
    if path["tls_into_http"]:
        return ("listener %s takes a TLS connection to %s:%s with filter chain %s, a plain-text "
                "http_connection_manager: the TLS handshake fails there" % (lname, host, port, ch["name"] or
                                                                            "(unnamed)"))
    criteria = _criteria(ch)
    if path["kind"] == "http":
        route, vh = path["route"], path["vhost"]
        if route is None:
            return ("listener %s sends %s to route %s, which is not in the dump" % (
                lname, host, ch["route_config_name"]))
        if vh is None:
            return ("listener %s \u2192 route %s has no virtual host for %s: Envoy answers 404 (NR)"
                    % (lname, route["name"], host))
        where = "listener %s \u2192 route %s virtual host %s (domains %s)" % (
            lname, route["name"], vh["name"], ", ".join(vh["domains"][:4]))
        targets = ", ".join(vh["clusters"]) or "no cluster (%s)" % (
            "direct response %s" % vh["direct_responses"][0] if vh["direct_responses"] else "none")
        if path["specific"]:
            return "%s \u2192 %s" % (where, targets)
        mode = ""
        if vh["name"] == ALLOW_ANY_VHOST:
            mode = " (ALLOW_ANY)"
        elif vh["name"] == BLOCK_ALL_VHOST:
            mode = " (REGISTRY_ONLY)"
        return "no route on port %s has domain %s; the request falls to %s \u2192 %s%s" % (
            port, host, where, targets, mode)
    if path["specific"] and path["kind"] == "sni":
        names = ch["server_names"]
        head = "listener %s filter chain SNI %s" % (lname, ", ".join(names[:3]) + (
            " (+%d more)" % (len(names) - 3) if len(names) > 3 else ""))
        if lst["port"] != path["call_port"]:
            head += " (port %s)" % lst["port"]
        if criteria:
            head += " [%s]" % criteria
        return "%s \u2192 %s %s" % (head, ch["filter"] or "filter", _target_text(ch))
    if path["specific"]:
        head = "listener %s (service VIP %s, no SNI match needed)" % (lname, lst["address"])
        return "%s \u2192 %s %s" % (head, ch["filter"] or "filter", _target_text(ch))
    if call["tls"]:
        head = "no filter chain on port %s selects SNI %s and no route has domain %s" % (port, host, host)
    else:
        head = "no filter chain or route on port %s is configured for %s" % (port, host)
    if path["how"] == "default":
        which = "default chain %s" % (ch["name"] or "(unnamed)")
    elif ch["name"]:
        which = "chain %s" % ch["name"]
    else:
        which = "catch-all chain"
    if criteria:
        which += " (%s)" % criteria
    target = _target_text(ch)
    return "%s; unmatched traffic falls through listener %s %s to %s%s" % (
        head, lname, which, target, _mode_note(ch["cluster"]) if ch["cluster"] else "")


_SECTION_HANDLERS = {
    "BootstrapConfigDump": "_add_bootstrap",
    "ClustersConfigDump": "_add_clusters",
    "ListenersConfigDump": "_add_listeners",
    "RoutesConfigDump": "_add_routes",
}


def parse_config_dump(data):
    """Parse a config dump (bytes, text or an already decoded dict) into a ProxyConfig.

    Raises ConfigDumpError (one sentence) when the input is not a usable dump.
    """
    # Decoding a big dump and walking it allocate millions of acyclic objects;
    # the cyclic GC would re-traverse the whole heap many times over for
    # nothing, so it is paused for the call (and restored as it was).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse(data)
    finally:
        if gc_was_enabled:
            gc.enable()


def _parse(data):
    dump = decode_config_dump(data)
    entries = _check_shape(dump)
    cfg = ProxyConfig(dump)
    known = 0
    for entry in entries:
        if not isinstance(entry, dict):
            raise ConfigDumpError("the config dump is JSON but not an Envoy config dump: an entry of 'configs' "
                                  "is a %s, not a typed object" % _json_type(entry))
        kind = str(entry.get("@type", "")).rsplit(".", 1)[-1]
        if kind and kind not in cfg.config_types:
            cfg.config_types.append(kind)
        handler = _SECTION_HANDLERS.get(kind)
        if handler is not None:
            known += 1
            getattr(cfg, handler)(entry)
    if not known and not any(k.endswith("ConfigDump") for k in cfg.config_types):
        raise ConfigDumpError("the config dump is JSON but not an Envoy config dump: no entry of 'configs' has "
                              "an Envoy admin '@type' such as ...ListenersConfigDump")
    cfg._finish()
    return cfg


def analyse_config_dump(data, host=None, port=443, egress_gateway_service=DEFAULT_EGRESS_GATEWAY_SERVICE,
                        address=None, protocol="auto"):
    """All facts of a dump as one dict; ``destination`` is added when host is given."""
    cfg = parse_config_dump(data)
    facts = cfg.facts()
    if host is not None:
        facts["destination"] = cfg.find_destination(host, port, egress_gateway_service, address, protocol)
    return facts
