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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gc
import json

DEFAULT_EGRESS_GATEWAY_SERVICE = "istio-egressgateway.istio-system.svc.cluster.local"

# pilot/pkg/networking/util: the catch-all clusters and virtual hosts.
PASSTHROUGH_CLUSTER = "PassthroughCluster"
BLACKHOLE_CLUSTER = "BlackHoleCluster"
ALLOW_ANY_VHOST = "allow_any"
BLOCK_ALL_VHOST = "block_all"
# pilot/pkg/model: names of the capture listener and its chains (Istio >= 1.4);
# Istio 1.0-1.3 named the capture listener "virtual".
VIRTUAL_OUTBOUND_NAMES = ("virtualOutbound", "virtual")
CATCHALL_CHAIN = "virtualOutbound-catchall-tcp"
BLACKHOLE_CHAIN = "virtualOutbound-blackhole"
PASSTHROUGH_CHAIN = "PassthroughFilterChain"
WILDCARD_ADDRESSES = ("0.0.0.0", "::")

_NODE_TYPES = ("sidecar", "router", "waypoint")


class ConfigDumpError(ValueError):
    """The input is not a usable Envoy config dump; str(exc) is one sentence."""


# --------------------------------------------------------------------------
# decoding


def _describe_json_error(exc, text):
    # A dump cut off by a broken exec stream or a full disk fails at its very
    # end; say "truncated" then, which is what the user has to fix. The json
    # scanner only reports "Unterminated string" when it reached the end.
    tail = text[exc.pos:].strip()
    if exc.msg.startswith("Unterminated string") or (exc.msg.startswith("Expecting") and not tail):
        reason = exc.msg[:-3] if exc.msg.endswith(" at") else exc.msg
        return ("the config dump is truncated: the JSON ends unexpectedly at line %d (%s)"
                % (text.count("\n", 0, len(text.rstrip())) + 1, reason))
    return ("the config dump is not valid JSON: %s at line %d column %d"
            % (exc.msg, exc.lineno, exc.colno))


def decode_config_dump(data):
    """Decode bytes or text into the dump's top-level dict (no validation of content).

    Raises ConfigDumpError with one sentence for empty, binary, non-UTF-8,
    truncated or non-JSON input.
    """
    if isinstance(data, dict):
        return data
    if data is None:
        raise ConfigDumpError("the config dump is empty (no data was read)")
    if isinstance(data, (bytes, bytearray)):
        head = bytes(data[:4096])
        if not head.strip():
            raise ConfigDumpError("the config dump is empty (%d bytes, no JSON)" % len(data))
        if head[:2] == b"\x1f\x8b":
            raise ConfigDumpError("the config dump is gzip-compressed data: decompress it first")
        if b"\x00" in head:
            raise ConfigDumpError("the config dump is binary data, not JSON text (it contains NUL bytes)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigDumpError("the config dump is not UTF-8 text: byte 0x%02x at offset %d cannot be decoded"
                                  % (bytearray(data[exc.start:exc.start + 1])[0], exc.start)) from None
    elif isinstance(data, str):
        text = data
        if not text[:4096].strip():
            raise ConfigDumpError("the config dump is empty (%d characters, no JSON)" % len(text))
        if "\x00" in text[:4096]:
            raise ConfigDumpError("the config dump is binary data, not JSON text (it contains NUL bytes)")
    else:
        raise ConfigDumpError("the config dump must be bytes, text or a dict, not %s" % type(data).__name__)
    if text[:1] == "\ufeff":
        text = text[1:]
    first = text.lstrip()[:1]
    if first not in ("{", "[", '"', "-") and not first.isdigit() and text.strip() not in ("null", "true", "false"):
        snippet = text.lstrip()[:40].splitlines()[0] if text.strip() else ""
        raise ConfigDumpError("the config dump is not JSON: it starts with %r, not '{' "
                              "(was a summary table or an error message captured instead?)" % snippet)
    try:
        dump = json.loads(text)
    except ValueError as exc:
        if hasattr(exc, "pos") and hasattr(exc, "msg"):
            raise ConfigDumpError(_describe_json_error(exc, text)) from None
        raise ConfigDumpError("the config dump is not valid JSON: %s" % exc) from None
    except RecursionError:
        raise ConfigDumpError("the config dump is not a config dump: its JSON nests too deeply to be "
                              "Envoy output") from None
    return dump


def _check_shape(dump):
    if not isinstance(dump, dict):
        raise ConfigDumpError("the config dump is JSON but not an Envoy config dump: the top level is a %s, "
                              "not an object with 'configs'" % _json_type(dump))
    configs = dump.get("configs")
    if configs is None:
        if "cluster_statuses" in dump:
            raise ConfigDumpError("the input is Envoy's /clusters?format=json output, not /config_dump "
                                  "(it has 'cluster_statuses' and no 'configs')")
        keys = ", ".join(sorted(str(k) for k in list(dump)[:5])) or "none"
        raise ConfigDumpError("the config dump is JSON but not an Envoy config dump: it has no 'configs' "
                              "(top-level keys: %s)" % keys)
    if isinstance(configs, dict):
        entries = list(configs.values())
    elif isinstance(configs, list):
        entries = configs
    else:
        raise ConfigDumpError("the config dump is JSON but not an Envoy config dump: 'configs' is a %s, "
                              "not a list" % _json_type(configs))
    if not entries:
        raise ConfigDumpError("the config dump has an empty 'configs' list: Envoy reported no configuration")
    return entries


def _json_type(value):
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


# --------------------------------------------------------------------------
# small accessors (snake_case first: that is what Envoy's admin prints)


def _g(obj, snake, camel=None):
    value = obj.get(snake)
    if value is None and camel is not None:
        value = obj.get(camel)
    return value


def _list(obj, snake, camel=None):
    value = _g(obj, snake, camel)
    return value if isinstance(value, list) else []


def _dict(obj, snake, camel=None):
    value = _g(obj, snake, camel)
    return value if isinstance(value, dict) else {}


def _unwrap(item, key):
    """``{key: X, last_updated: ..}`` -> X; a bare resource is returned as is."""
    if not isinstance(item, dict):
        return None
    inner = item.get(key)
    if isinstance(inner, dict):
        return inner
    return item


def _filter_config(flt):
    cfg = _g(flt, "typed_config", "typedConfig")
    if not isinstance(cfg, dict):
        cfg = flt.get("config")
    if not isinstance(cfg, dict):
        return {}
    # Udpa/xds TypedStruct wraps the real config in "value".
    if str(cfg.get("@type", "")).endswith("TypedStruct") and isinstance(cfg.get("value"), dict):
        return cfg["value"]
    return cfg


def parse_cluster_name(name):
    """Split ``direction|port|subset|host`` (model.BuildSubsetKey).

    Gateways in ``sni-dnat`` router mode also carry
    ``direction_.port_.subset_.host`` (model.BuildDNSSrvSubsetKey). Other names
    (BlackHoleCluster, PassthroughCluster, xds-grpc, ...) give Nones.
    Returns (direction, port, subset, host); an empty subset or host is None.
    """
    if not isinstance(name, str):
        return None, None, None, None
    if name.count("|") == 3:
        parts = name.split("|")
    elif name.startswith(("outbound_.", "inbound_.")) and name.count("_.") >= 3:
        parts = name.split("_.", 3)
    else:
        return None, None, None, None
    direction, port, subset, host = parts
    try:
        port = int(port)
    except ValueError:
        return None, None, None, None
    return direction or None, port, subset or None, host or None


def _weighted(spec):
    """``{clusters: [{name, weight}]}`` -> [{name, weight}] (None when absent)."""
    if not isinstance(spec, dict):
        return None
    out = []
    for item in _list(spec, "clusters"):
        if isinstance(item, dict) and item.get("name"):
            weight = item.get("weight")
            if isinstance(weight, dict):  # UInt32Value in some encodings
                weight = weight.get("value")
            try:
                weight = int(weight) if weight is not None else None
            except (TypeError, ValueError):
                weight = None
            out.append({"name": item["name"], "weight": weight})
    return out or None


# --------------------------------------------------------------------------
# the parser


class ProxyConfig:
    """Facts from one config dump; build it with parse_config_dump()."""

    def __init__(self, dump=None):
        self.dump = dump  # the decoded dump itself (not a copy), for include_raw
        self.proxy = {"type": "unknown", "istio_version": None, "envoy_version": None,
                      "node_id": None, "pod": None, "namespace": None}
        self.config_types = []
        self.clusters = []
        self.listeners = []
        self.routes = []
        self.outbound_traffic_policy = {"mode": "unknown", "evidence": []}
        self._cluster_names = set()
        self._have_clusters = False
        self._have_listeners = False
        self._have_routes = False
        self._sni = {}           # lower-case server name -> [(listener, chain)]
        self._by_port = {}       # port -> [listener]
        self._route_by_name = {}
        self._virtual = None     # the capture listener, if any
        self._vhost_policy = []  # (mode, route name) from allow_any / block_all

    # -- public -------------------------------------------------------------

    def facts(self):
        return {
            "proxy": self.proxy,
            "config_types": self.config_types,
            "clusters": self.clusters,
            "listeners": self.listeners,
            "routes": self.routes,
            "outbound_traffic_policy": self.outbound_traffic_policy,
        }

    # -- building -------------------------------------------------------------

    def _add_bootstrap(self, entry):
        bootstrap = entry.get("bootstrap")
        if not isinstance(bootstrap, dict):
            bootstrap = entry
        node = _dict(bootstrap, "node")
        if not node:
            return
        node_id = node.get("id")
        meta = _dict(node, "metadata")
        proxy = self.proxy
        if isinstance(node_id, str) and node_id:
            proxy["node_id"] = node_id
            parts = node_id.split("~")
            if parts[0] in _NODE_TYPES:
                proxy["type"] = parts[0]
            # type~ip~pod.namespace~namespace.svc.cluster.local
            if len(parts) == 4 and "." in parts[2]:
                proxy["pod"], proxy["namespace"] = parts[2].rsplit(".", 1)
        if proxy["type"] == "unknown" and (meta.get("ROUTER_MODE") or meta.get("ISTIO_META_ROUTER_MODE")):
            proxy["type"] = "router"
        proxy["istio_version"] = (meta.get("ISTIO_VERSION") or meta.get("ISTIO_META_ISTIO_VERSION")
                                  or proxy["istio_version"])
        proxy["pod"] = meta.get("NAME") or meta.get("POD_NAME") or proxy["pod"]
        proxy["namespace"] = meta.get("NAMESPACE") or meta.get("CONFIG_NAMESPACE") or proxy["namespace"]
        proxy["envoy_version"] = _envoy_version(node) or proxy["envoy_version"]

    def _add_clusters(self, entry):
        self._have_clusters = True
        for key, camel in (("static_clusters", "staticClusters"),
                           ("dynamic_active_clusters", "dynamicActiveClusters")):
            for item in _list(entry, key, camel):
                cluster = _unwrap(item, "cluster")
                if cluster is None:
                    continue
                name = cluster.get("name")
                if not isinstance(name, str):
                    continue
                ctype = cluster.get("type")
                if ctype is None:
                    custom = _dict(cluster, "cluster_type", "clusterType")
                    # Envoy omits enum defaults when it prints: no type is STATIC.
                    ctype = custom.get("name") or "STATIC"
                direction, port, subset, host = parse_cluster_name(name)
                self.clusters.append({"name": name, "direction": direction, "port": port,
                                      "subset": subset, "host": host, "type": ctype})
                self._cluster_names.add(name)

    def _add_listeners(self, entry):
        self._have_listeners = True
        for item in _list(entry, "static_listeners", "staticListeners"):
            self._add_listener(_unwrap(item, "listener"), "static")
        for item in _list(entry, "dynamic_listeners", "dynamicListeners"):
            if not isinstance(item, dict):
                continue
            state = _g(item, "active_state", "activeState")
            if isinstance(state, dict):
                self._add_listener(_unwrap(state, "listener"), "dynamic")
        for item in _list(entry, "dynamic_active_listeners", "dynamicActiveListeners"):
            self._add_listener(_unwrap(item, "listener"), "dynamic")

    def _add_listener(self, lst, origin):
        if not isinstance(lst, dict):
            return
        address = _dict(lst, "address")
        sock = _dict(address, "socket_address", "socketAddress")
        ip, port = None, None
        if sock:
            ip = sock.get("address")
            port = _g(sock, "port_value", "portValue")
            try:
                port = int(port) if port is not None else None
            except (TypeError, ValueError):
                port = None
        elif address.get("pipe"):
            ip = "unix:%s" % _dict(address, "pipe").get("path")
        elif _g(address, "envoy_internal_address", "envoyInternalAddress"):
            internal = _dict(address, "envoy_internal_address", "envoyInternalAddress")
            ip = "internal:%s" % _g(internal, "server_listener_name", "serverListenerName")
        # Envoy's own static listeners (15090, 15021) are often unnamed: None.
        name = lst.get("name") or None
        listener = {
            "name": name,
            "address": ip,
            "port": port,
            "origin": origin,
            "direction": _g(lst, "traffic_direction", "trafficDirection"),
            "use_original_dst": bool(_g(lst, "use_original_dst", "useOriginalDst")),
            "filter_chains": [],
        }
        chains = listener["filter_chains"]
        for fc in _list(lst, "filter_chains", "filterChains"):
            if isinstance(fc, dict):
                chains.append(self._chain(fc, listener, False))
        default = _g(lst, "default_filter_chain", "defaultFilterChain")
        if isinstance(default, dict):
            chains.append(self._chain(default, listener, True))
        self.listeners.append(listener)
        if port is not None:
            self._by_port.setdefault(port, []).append(listener)
        if name in VIRTUAL_OUTBOUND_NAMES or (listener["use_original_dst"] and port == 15001):
            self._virtual = listener

    def _chain(self, fc, listener, default):
        match = _dict(fc, "filter_chain_match", "filterChainMatch")
        server_names = _list(match, "server_names", "serverNames")
        dport = _g(match, "destination_port", "destinationPort")
        if isinstance(dport, dict):
            dport = dport.get("value")
        chain = {
            "name": fc.get("name"),
            "default": default,
            "server_names": list(server_names),
            "destination_port": dport,
            "filter": None,
            "cluster": None,
            "weighted_clusters": None,
            "route_config_name": None,
        }
        last = None
        for flt in _list(fc, "filters"):
            if not isinstance(flt, dict):
                continue
            fname = str(flt.get("name") or "")
            cfg = _filter_config(flt)
            ftype = str(cfg.get("@type", ""))
            if "tcp_proxy" in fname or ftype.endswith(".TcpProxy"):
                last = "tcp_proxy"
                chain["cluster"] = cfg.get("cluster")
                chain["weighted_clusters"] = _weighted(_g(cfg, "weighted_clusters", "weightedClusters"))
                legacy = _dict(cfg, "deprecated_v1", "deprecatedV1")
                if not chain["cluster"] and legacy:
                    routes = [r for r in _list(legacy, "routes") if isinstance(r, dict) and r.get("cluster")]
                    if routes:
                        chain["cluster"] = routes[0]["cluster"]
            elif "http_connection_manager" in fname or ftype.endswith(".HttpConnectionManager"):
                last = "http_connection_manager"
                rds = _dict(cfg, "rds")
                chain["route_config_name"] = _g(rds, "route_config_name", "routeConfigName")
                inline = _g(cfg, "route_config", "routeConfig")
                if isinstance(inline, dict) and not chain["route_config_name"]:
                    route = self._add_route_config(inline, inline_of=listener)
                    chain["route_config_name"] = route["name"]
            else:
                last = fname or last
        chain["filter"] = last
        for server_name in server_names:
            if isinstance(server_name, str):
                self._sni.setdefault(server_name.lower(), []).append((listener, chain))
        return chain

    def _add_routes(self, entry):
        self._have_routes = True
        for key, camel in (("static_route_configs", "staticRouteConfigs"),
                           ("dynamic_route_configs", "dynamicRouteConfigs")):
            for item in _list(entry, key, camel):
                rc = _unwrap(item, "route_config")
                if rc is None and isinstance(item, dict):
                    rc = _unwrap(item, "routeConfig")
                if isinstance(rc, dict):
                    self._add_route_config(rc)

    def _add_route_config(self, rc, inline_of=None):
        name = rc.get("name")
        if inline_of is not None and not name:
            owner = inline_of.get("name") or "%s_%s" % (inline_of.get("address"), inline_of.get("port"))
            name = "%s (inline)" % owner
        vhosts = []
        for vh in _list(rc, "virtual_hosts", "virtualHosts"):
            if not isinstance(vh, dict):
                continue
            clusters, direct = [], []
            for rt in _list(vh, "routes"):
                if not isinstance(rt, dict):
                    continue
                action = rt.get("route")
                if isinstance(action, dict):
                    target = action.get("cluster")
                    if target:
                        if target not in clusters:
                            clusters.append(target)
                    else:
                        for wc in _weighted(_g(action, "weighted_clusters", "weightedClusters")) or ():
                            if wc["name"] not in clusters:
                                clusters.append(wc["name"])
                        header = _g(action, "cluster_header", "clusterHeader")
                        if header:
                            clusters.append("header:%s" % header)
                resp = _g(rt, "direct_response", "directResponse")
                if isinstance(resp, dict) and resp.get("status") not in direct:
                    direct.append(resp.get("status"))
            vname = vh.get("name")
            vhosts.append({"name": vname, "domains": list(_list(vh, "domains")),
                           "clusters": clusters, "direct_responses": direct})
            if vname == ALLOW_ANY_VHOST:
                self._vhost_policy.append(("ALLOW_ANY", name, vname))
            elif vname == BLOCK_ALL_VHOST:
                self._vhost_policy.append(("REGISTRY_ONLY", name, vname))
        route = {"name": name, "inline": inline_of is not None, "virtual_hosts": vhosts}
        self.routes.append(route)
        if name is not None:
            self._route_by_name.setdefault(name, route)
        return route

    def _finish(self):
        if self.proxy["type"] == "unknown" and self._virtual is not None:
            # Only sidecars get the iptables capture listener.
            self.proxy["type"] = "sidecar"
        self.outbound_traffic_policy = self._traffic_policy()

    # -- outbound traffic policy -------------------------------------------

    def _traffic_policy(self):
        """ALLOW_ANY / REGISTRY_ONLY from where unmatched outbound traffic goes.

        Istio always builds both PassthroughCluster and BlackHoleCluster on a
        sidecar (core/cluster.go BuildClusters), so their presence proves
        nothing; the mode shows in the catch-all destination
        (core/listener_builder.go buildOutboundCatchAllNetworkFiltersOnly):
        PassthroughCluster for ALLOW_ANY (or the egressProxy cluster),
        BlackHoleCluster for REGISTRY_ONLY. HTTP route tables repeat it as
        the ``allow_any`` / ``block_all`` virtual host.
        """
        evidence = []
        mode = None
        if self.proxy["type"] == "router":
            return {"mode": "unknown", "evidence": [
                ("the proxy is a router (gateway): it has no outbound capture listener, and "
                 "outboundTrafficPolicy only applies to sidecars")]}
        if self._virtual is not None:
            chain = _catch_all_chain(self._virtual)
            if chain is not None and chain["cluster"]:
                mode = _mode_for_cluster(chain["cluster"])
                evidence.append("listener %s catch-all filter chain%s \u2192 %s %s%s" % (
                    self._virtual["name"], " %s" % chain["name"] if chain["name"] else "",
                    chain["filter"], chain["cluster"], _mode_note(chain["cluster"])))
        for listener in self.listeners:
            if listener is self._virtual or listener["address"] not in WILDCARD_ADDRESSES:
                continue
            for chain in listener["filter_chains"]:
                if chain["default"] and chain["name"] == PASSTHROUGH_CHAIN and chain["cluster"]:
                    found = _mode_for_cluster(chain["cluster"])
                    mode = mode or found
                    evidence.append("listener %s default filter chain %s \u2192 %s %s%s" % (
                        listener["name"], PASSTHROUGH_CHAIN, chain["filter"], chain["cluster"],
                        _mode_note(chain["cluster"])))
                    break
            if len(evidence) >= 3:
                break
        for found, route, vhost in self._vhost_policy[:2]:
            mode = mode or found
            evidence.append("route %s has the %s virtual host (%s)" % (
                route, vhost, "\u2192 PassthroughCluster" if found == "ALLOW_ANY" else "direct response 502"))
        if mode is None:
            if not self._have_listeners and not self._have_routes:
                evidence.append("the dump has no ListenersConfigDump or RoutesConfigDump to look at")
            else:
                evidence.append("no outbound capture listener, passthrough filter chain or allow_any/block_all "
                                "virtual host was found (PassthroughCluster and BlackHoleCluster clusters "
                                "exist on every sidecar, so they prove nothing alone)")
            mode = "unknown"
        return {"mode": mode, "evidence": evidence}

    # -- destination -----------------------------------------------------

    def find_destination(self, host, port=443, egress_gateway_service=DEFAULT_EGRESS_GATEWAY_SERVICE):
        """Where this proxy sends a connection to host:port, with one sentence of evidence."""
        host = (host or "").strip().lower().rstrip(".")
        if not host:
            raise ConfigDumpError("host must be a non-empty name")
        gateway = (egress_gateway_service or DEFAULT_EGRESS_GATEWAY_SERVICE).strip().lower()
        router = self.proxy["type"] == "router"
        result = {
            "host": host, "port": port, "matched": False, "protocol": None,
            "listener": None, "filter_chain": None, "server_names": None,
            "route": None, "virtual_host": None,
            "cluster": None, "weighted_clusters": None, "clusters": [], "cluster_found": None,
            "via_egress_gateway": False, "direct": False,
            "egress_gateway_service": gateway,
            "hop": 2 if router else (1 if self.proxy["type"] == "sidecar" else None),
            "evidence": None, "alternatives": [],
        }
        if not self._have_listeners:
            result["evidence"] = ("the dump has no ListenersConfigDump, so the route to %s:%s cannot be "
                                  "followed" % (host, port))
            return result

        found = self._match_sni(host, port, router)
        if found is None:
            found = self._match_vip(host, port, router)
        if found is None:
            found = self._match_http(host, port, router)
        if found is None:
            self._fallthrough(result, host, port, router)
            return result

        matches, protocol = found
        best = matches[0]
        result["alternatives"] = [_describe(m, None) for m in matches[1:5]]
        result["matched"] = True
        result["protocol"] = protocol
        self._fill_target(result, best, host, gateway, router)
        return result

    def _match_sni(self, host, port, router):
        hits = list(self._sni.get(host, ()))
        wildcard = False
        if not hits:
            labels = host.split(".")
            for i in range(1, len(labels)):
                hits = list(self._sni.get("*." + ".".join(labels[i:]), ()))
                if hits:
                    wildcard = True
                    break
        hits = [(lst, ch) for lst, ch in hits if not _is_inbound(lst)]
        if not hits:
            return None
        on_port = [h for h in hits if h[0]["port"] == port]
        if not on_port and not router:
            return None
        # A VIP listener wins over 0.0.0.0: a client that resolves the host to an
        # allocated VIP (DNS proxy auto-allocation) lands there.
        chosen = on_port or hits
        chosen.sort(key=lambda h: (h[0]["port"] != port, h[0]["address"] in WILDCARD_ADDRESSES))
        matches = [{"kind": "sni", "listener": lst, "chain": ch, "wildcard": wildcard,
                    "port_mismatch": lst["port"] != port} for lst, ch in chosen]
        return matches, "tls"

    def _match_vip(self, host, port, router):
        matches = []
        for lst in self._by_port.get(port, ()):
            if lst["address"] in WILDCARD_ADDRESSES or _is_inbound(lst):
                continue
            for ch in lst["filter_chains"]:
                if ch["server_names"] or ch["filter"] != "tcp_proxy":
                    continue
                names = [ch["cluster"]] if ch["cluster"] else [w["name"] for w in ch["weighted_clusters"] or ()]
                if any(parse_cluster_name(n)[3] == host for n in names):
                    matches.append({"kind": "vip", "listener": lst, "chain": ch})
                    break
        return (matches, "tcp") if matches else None

    def _match_http(self, host, port, router):
        listeners = self._by_port.get(port, ())
        route_names = []
        seen = set()
        for lst in listeners:
            if _is_inbound(lst):
                continue
            for ch in lst["filter_chains"]:
                name = ch["route_config_name"]
                if ch["filter"] == "http_connection_manager" and name and name not in seen:
                    seen.add(name)
                    route_names.append((name, lst, ch))
        on_port = len(route_names)
        if router:
            # A gateway listens on the Service's target port (443 -> 8443 with the
            # istio/gateway chart), so also look at its other RDS route tables,
            # but only for a named (not catch-all) domain there.
            for route in self.routes:
                name = route["name"]
                if not route["inline"] and name and name not in seen:
                    seen.add(name)
                    route_names.append((name, None, None))
        # Istio names the route of a sniffed service with its own listener "host:port".
        special = "%s:%s" % (host, port)
        if special in self._route_by_name and special not in seen:
            route_names.insert(0, (special, None, None))
        best = None
        for i, (name, lst, ch) in enumerate(route_names):
            route = self._route_by_name.get(name)
            if route is None:
                continue
            for vh in route["virtual_hosts"]:
                rank = _domain_rank(vh["domains"], host, port)
                if rank is None:
                    continue
                catch_all = rank >= 3 or vh["name"] in (ALLOW_ANY_VHOST, BLOCK_ALL_VHOST)
                # On a sidecar the '*' host is the allow_any/block_all fallthrough,
                # not a route for this host; on a gateway it is a Gateway host '*'.
                if catch_all and (not router or i >= on_port or route["inline"]):
                    continue
                if best is None or rank < best[0]:
                    best = (rank, {"kind": "http", "listener": lst, "chain": ch, "route": route, "vhost": vh})
        if best is None:
            return None
        return [best[1]], "http"

    def _fallthrough(self, result, host, port, router):
        if router:
            result["evidence"] = ("no listener filter chain selects SNI %s and no virtual host has domain %s "
                                  "on this router: the gateway does not forward %s:%s" % (host, host, host, port))
            return
        target = None
        for lst in self._by_port.get(port, ()):
            if lst["address"] in WILDCARD_ADDRESSES and not _is_inbound(lst):
                chain = _catch_all_chain(lst)
                if chain is not None and chain["cluster"]:
                    target = (lst, chain)
                    break
        if target is None and self._virtual is not None:
            chain = _catch_all_chain(self._virtual)
            if chain is not None and chain["cluster"]:
                target = (self._virtual, chain)
        head = ("no filter chain on port %s selects SNI %s and no route has domain %s"
                % (port, host, host))
        if target is None:
            result["evidence"] = head + "; no catch-all chain was found either"
            return
        lst, chain = target
        result["listener"] = lst["name"]
        result["filter_chain"] = chain["name"]
        result["cluster"] = chain["cluster"]
        result["clusters"] = [chain["cluster"]]
        result["cluster_found"] = (chain["cluster"] in self._cluster_names) if self._have_clusters else None
        result["evidence"] = "%s; unmatched traffic falls through listener %s %s to %s%s" % (
            head, lst["name"], "catch-all chain" if not chain["name"] else "chain %s" % chain["name"],
            chain["cluster"], _mode_note(chain["cluster"]))

    def _fill_target(self, result, match, host, gateway, router):
        lst, ch = match["listener"], match["chain"]
        result["listener"] = lst["name"] if lst is not None else None
        if ch is not None:
            result["filter_chain"] = ch["name"]
            result["server_names"] = ch["server_names"] or None
        if match["kind"] == "http":
            route, vh = match["route"], match["vhost"]
            result["route"] = route["name"]
            result["virtual_host"] = vh["name"]
            names = [c for c in vh["clusters"] if not c.startswith("header:")]
            if len(names) == 1:
                result["cluster"] = names[0]
            elif names:
                result["weighted_clusters"] = [{"name": n, "weight": None} for n in names]
        else:
            result["cluster"] = ch["cluster"]
            if ch["weighted_clusters"]:
                result["weighted_clusters"] = [dict(w) for w in ch["weighted_clusters"]]
                result["cluster"] = None

        targets = [result["cluster"]] if result["cluster"] else [
            w["name"] for w in result["weighted_clusters"] or () if w["weight"] is None or w["weight"] > 0]
        result["clusters"] = [result["cluster"]] if result["cluster"] else [
            w["name"] for w in result["weighted_clusters"] or ()]
        hosts = [parse_cluster_name(n)[3] for n in targets]
        if self._have_clusters:
            result["cluster_found"] = all(n in self._cluster_names for n in targets) if targets else False
        for w in result["weighted_clusters"] or ():
            w["host"] = parse_cluster_name(w["name"])[3]
            w["subset"] = parse_cluster_name(w["name"])[2]
        result["via_egress_gateway"] = bool(hosts) and all(h == gateway for h in hosts)
        result["direct"] = bool(hosts) and all(h == host for h in hosts)
        evidence = _describe(match, result)
        if result["via_egress_gateway"]:
            evidence += "; %s is sent to the egress gateway %s (hop 1)" % (host, gateway)
        elif result["direct"] and router:
            evidence += "; the gateway forwards %s to the external host (hop 2)" % host
        elif result["direct"]:
            evidence += "; the sidecar sends %s directly, bypassing the egress gateway" % host
        elif any(h == gateway for h in hosts):
            evidence += "; only part of the traffic to %s goes to the egress gateway" % host
        if result["cluster_found"] is False:
            evidence += " (but that cluster is missing from the dump's clusters: Envoy has nowhere to send it)"
        result["evidence"] = evidence


def _is_inbound(listener):
    return (listener["direction"] == "INBOUND" or listener["name"] == "virtualInbound"
            or (listener["name"] or "").startswith("inbound"))


def _catch_all_chain(listener):
    """The chain that takes what nothing else matched on a listener."""
    chains = listener["filter_chains"]
    for ch in chains:
        if ch["name"] == CATCHALL_CHAIN:
            return ch
    for ch in chains:
        if ch["default"]:
            return ch
    for ch in chains:
        if ch["name"] != BLACKHOLE_CHAIN and not ch["server_names"] and ch["destination_port"] is None \
                and ch["filter"] == "tcp_proxy":
            return ch
    return None


def _mode_for_cluster(cluster):
    if cluster == BLACKHOLE_CLUSTER:
        return "REGISTRY_ONLY"
    # PassthroughCluster, or the egressProxy cluster of a Sidecar's ALLOW_ANY.
    return "ALLOW_ANY"


def _mode_note(cluster):
    if cluster == PASSTHROUGH_CLUSTER:
        return " (ALLOW_ANY)"
    if cluster == BLACKHOLE_CLUSTER:
        return " (REGISTRY_ONLY)"
    return " (ALLOW_ANY with an egress proxy)"


def _domain_rank(domains, host, port):
    """Envoy virtual host domain match: 0 exact, 1 suffix, 2 prefix wildcard, 3 '*'; None if no match."""
    with_port = "%s:%s" % (host, port)
    best = None
    for domain in domains:
        if not isinstance(domain, str):
            continue
        d = domain.lower()
        if d in (host, with_port):
            return 0
        if d == "*":
            rank = 3
        elif d.startswith("*") and (host.endswith(d[1:]) or with_port.endswith(d[1:])):
            rank = 1
        elif d.endswith("*") and (host.startswith(d[:-1]) or with_port.startswith(d[:-1])):
            rank = 2
        else:
            continue
        if best is None or rank < best:
            best = rank
    return best


def _describe(match, result):
    lst, ch = match["listener"], match["chain"]
    lname = (lst["name"] or "%s_%s" % (lst["address"], lst["port"])) if lst is not None else "?"
    if match["kind"] == "http":
        route, vh = match["route"], match["vhost"]
        where = "route %s virtual host %s (domains %s)" % (route["name"], vh["name"], ", ".join(vh["domains"][:4]))
        if lst is not None:
            where = "listener %s \u2192 %s" % (lname, where)
        targets = ", ".join(vh["clusters"]) or "no cluster (%s)" % (
            "direct response %s" % vh["direct_responses"][0] if vh["direct_responses"] else "none")
        return "%s \u2192 %s" % (where, targets)
    if match["kind"] == "sni":
        names = ch["server_names"]
        sni = "SNI %s" % (", ".join(names[:3]) + (" (+%d more)" % (len(names) - 3) if len(names) > 3 else ""))
        head = "listener %s filter chain %s" % (lname, sni)
        if match.get("port_mismatch"):
            head += " (port %s)" % lst["port"]
    else:
        head = "listener %s (service VIP %s, no SNI match needed)" % (lname, lst["address"])
    if ch["weighted_clusters"]:
        target = "weighted " + ", ".join(
            "%s (%s)" % (w["name"], "weight %s" % w["weight"] if w["weight"] is not None else "?")
            for w in ch["weighted_clusters"])
    else:
        target = ch["cluster"] or "no cluster"
    return "%s \u2192 %s %s" % (head, ch["filter"] or "filter", target)


def _envoy_version(node):
    ubv = _dict(node, "user_agent_build_version", "userAgentBuildVersion")
    version = _dict(ubv, "version")
    if version:
        return "%s.%s.%s" % (version.get("major_number", version.get("majorNumber", 0)),
                             version.get("minor_number", version.get("minorNumber", 0)),
                             version.get("patch", 0))
    build = node.get("build_version") or node.get("hidden_envoy_deprecated_build_version")
    # "<sha>/<version>/<status>/<type>/<ssl>"
    if isinstance(build, str) and build.count("/") >= 2:
        return build.split("/")[1]
    return None


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


def analyse_config_dump(data, host=None, port=443, egress_gateway_service=DEFAULT_EGRESS_GATEWAY_SERVICE):
    """All facts of a dump as one dict; ``destination`` is added when host is given."""
    cfg = parse_config_dump(data)
    facts = cfg.facts()
    if host is not None:
        facts["destination"] = cfg.find_destination(host, port, egress_gateway_service)
    return facts
