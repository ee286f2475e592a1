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
import ipaddress
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
# shape checks at the boundary
#
# Envoy prints its config as protobuf JSON: every field has exactly one JSON
# type and no field is ever null. Anything else (a list where a string
# belongs, a number among server_names, an object as a name, a null section)
# was not printed by Envoy; it is refused here with one sentence, so that no
# malformed value travels on and breaks a sentence or a comparison later.

_MISSING = object()


def _show(value):
    if value is None:
        return "null"
    text = json.dumps(value, sort_keys=True, default=str)
    if len(text) > 40:
        text = text[:37] + "..."
    kind = _json_type(value)
    return "%s %s (%s)" % ("an" if kind == "object" else "a", kind, text)


def _shape_error(where, key, value, expected):
    return ConfigDumpError("the config dump has a shape Envoy never prints: %s '%s' is %s, expected %s"
                           % (where, key, _show(value), expected))


def _get(obj, snake, camel=None):
    """(value, key) with snake_case first (what Envoy's admin prints), then protojson lowerCamelCase."""
    if snake in obj:
        return obj[snake], snake
    if camel is not None and camel in obj:
        return obj[camel], camel
    return _MISSING, snake


def _opt_str(obj, where, snake, camel=None):
    value, key = _get(obj, snake, camel)
    if value is _MISSING:
        return None
    if not isinstance(value, str):
        raise _shape_error(where, key, value, "a string")
    return value


def _opt_dict(obj, where, snake, camel=None):
    value, key = _get(obj, snake, camel)
    if value is _MISSING:
        return {}
    if not isinstance(value, dict):
        raise _shape_error(where, key, value, "an object")
    return value


def _opt_list(obj, where, snake, camel=None):
    value, key = _get(obj, snake, camel)
    if value is _MISSING:
        return []
    if not isinstance(value, list):
        raise _shape_error(where, key, value, "a list")
    return value


def _as_int(value, where, key, wrapped=True):
    # UInt32Value prints as a bare number; some re-encoders keep {"value": n}.
    if wrapped and isinstance(value, dict) and set(value) == {"value"}:
        value = value["value"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _shape_error(where, key, value, "a number")
    return value


def _opt_int(obj, where, snake, camel=None):
    value, key = _get(obj, snake, camel)
    if value is _MISSING:
        return None
    return _as_int(value, where, key)


def _opt_bool(obj, where, snake, camel=None):
    value, key = _get(obj, snake, camel)
    if value is _MISSING:
        return False
    if isinstance(value, dict) and set(value) == {"value"}:  # BoolValue in some encodings
        value = value["value"]
    if not isinstance(value, bool):
        raise _shape_error(where, key, value, "true or false")
    return value


def _str_list(obj, where, snake, camel=None):
    items = _opt_list(obj, where, snake, camel)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise _shape_error(where, "%s[%d]" % (snake, i), item, "a string")
    return items


def _items(obj, where, snake, camel=None):
    """A list of objects (resources, chains, filters)."""
    items = _opt_list(obj, where, snake, camel)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise _shape_error(where, "%s[%d]" % (snake, i), item, "an object")
    return items


def _unwrap(item, key, where):
    """``{key: X, last_updated: ..}`` -> X; a bare resource is returned as is."""
    inner = item.get(key)
    if inner is None:
        return item
    if not isinstance(inner, dict):
        raise _shape_error(where, key, inner, "an object")
    return inner


def _filter_config(flt, where):
    cfg = _opt_dict(flt, where, "typed_config", "typedConfig")
    if not cfg:
        cfg = _opt_dict(flt, where, "config")
    # Udpa/xds TypedStruct wraps the real config in "value".
    if str(cfg.get("@type", "")).endswith("TypedStruct") and isinstance(cfg.get("value"), dict):
        return cfg["value"]
    return cfg


def _cidrs(obj, where, snake, camel):
    """CidrRange list -> ["10.0.0.0/8", ...] (Envoy refuses an invalid address, so do we)."""
    out = []
    for i, item in enumerate(_items(obj, where, snake, camel)):
        here = "%s %s[%d]" % (where, snake, i)
        addr = _opt_str(item, here, "address_prefix", "addressPrefix")
        plen = _opt_int(item, here, "prefix_len", "prefixLen") or 0
        try:
            net = ipaddress.ip_network("%s/%d" % (addr, plen), strict=False)
        except ValueError:
            raise ConfigDumpError("the config dump has a shape Envoy never prints: %s is %r/%s, not an IP "
                                  "address range" % (here, addr, plen)) from None
        out.append(str(net))
    return out


def _int_list(obj, where, snake, camel):
    return [_as_int(v, where, "%s[%d]" % (snake, i), wrapped=False)
            for i, v in enumerate(_opt_list(obj, where, snake, camel))]


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


def _weighted(spec, where):
    """``{clusters: [{name, weight}]}`` -> [{name, weight}] (None when absent)."""
    out = []
    for i, item in enumerate(_items(spec, where, "clusters")):
        here = "%s clusters[%d]" % (where, i)
        name = _opt_str(item, here, "name")
        if name:
            weight = _opt_int(item, here, "weight")
            out.append({"name": name, "weight": weight})
    return out or None


def _ip(text):
    try:
        return ipaddress.ip_address(text)
    except (TypeError, ValueError):
        return None


_EMPTY = {}


def _match_server_names(match, where, key):
    # Envoy compares SNI case-insensitively (DNS names); keep them lower-case.
    return [n.lower() for n in _str_list(match, where, key)]


def _match_port(match, where, key):
    # Envoy reads destination_port 0 as "any port" (unset UInt32Value).
    return _opt_int(match, where, key) or None


def _match_str(match, where, key):
    return _opt_str(match, where, key) or None


def _match_cidrs(match, where, key):
    return _cidrs(match, where, key, None)


def _match_ints(match, where, key):
    return _int_list(match, where, key, None)


def _match_source_type(match, where, key):
    value = match[key]
    names = {0: "ANY", 1: "SAME_IP_OR_LOOPBACK", 2: "EXTERNAL"}
    if isinstance(value, int) and not isinstance(value, bool):
        value = names.get(value, value)
    if value not in ("ANY", "SAME_IP_OR_LOOPBACK", "EXTERNAL"):
        raise _shape_error(where, key, value, "ANY, SAME_IP_OR_LOOPBACK or EXTERNAL")
    return None if value == "ANY" else value


_MATCH_PARSERS = {
    "server_names": _match_server_names,
    "destination_port": _match_port,
    "prefix_ranges": _match_cidrs,
    "transport_protocol": _match_str,
    "application_protocols": _str_list,
    "direct_source_prefix_ranges": _match_cidrs,
    "source_type": _match_source_type,
    "source_prefix_ranges": _match_cidrs,
    "source_ports": _match_ints,
}
# FilterChainMatch field -> chain key, in snake_case (Envoy's admin) and lowerCamelCase (protojson).
_MATCH_FIELDS = {}
for _field in _MATCH_PARSERS:
    _MATCH_FIELDS[_field] = _field
    _head, *_rest = _field.split("_")
    _MATCH_FIELDS[_head + "".join(p.title() for p in _rest)] = _field


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
        self.outbound_traffic_policy = {"mode": "unknown", "evidence": [], "sources": []}
        self._cluster_names = set()
        self._have_clusters = False
        self._have_listeners = False
        self._have_routes = False
        self._by_port = {}       # port -> [listener]
        self._route_by_name = {}
        self._virtual = None     # the capture listener, if any
        self._vhost_policy = []  # (mode, route name, vhost name) from allow_any / block_all
        self._source_ip = None   # the proxy's own address (node metadata INSTANCE_IPS)
        self._nets = {}          # "10.0.0.0/8" -> ip_network, parsed once

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
        where = "BootstrapConfigDump"
        bootstrap = _opt_dict(entry, where, "bootstrap") or entry
        node = _opt_dict(bootstrap, where, "node")
        if not node:
            return
        where = "the bootstrap node"
        node_id = _opt_str(node, where, "id")
        meta = _opt_dict(node, where, "metadata")
        proxy = self.proxy
        if node_id:
            proxy["node_id"] = node_id
            parts = node_id.split("~")
            # The node id's first field is the proxy type istiod configured it as
            # (pilot/pkg/model/context.go, NodeType): only that says router or sidecar.
            if parts[0] in _NODE_TYPES:
                proxy["type"] = parts[0]
            # type~ip~pod.namespace~namespace.svc.cluster.local
            if len(parts) == 4 and "." in parts[2]:
                proxy["pod"], proxy["namespace"] = parts[2].rsplit(".", 1)
            if len(parts) == 4 and _ip(parts[1]) is not None:
                self._source_ip = _ip(parts[1])
        for key in ("ISTIO_VERSION", "ISTIO_META_ISTIO_VERSION", "NAME", "POD_NAME", "NAMESPACE",
                    "CONFIG_NAMESPACE", "INSTANCE_IPS"):
            _opt_str(meta, "the bootstrap node metadata", key)
        proxy["istio_version"] = meta.get("ISTIO_VERSION") or meta.get("ISTIO_META_ISTIO_VERSION") \
            or proxy["istio_version"]
        proxy["pod"] = meta.get("NAME") or meta.get("POD_NAME") or proxy["pod"]
        proxy["namespace"] = meta.get("NAMESPACE") or meta.get("CONFIG_NAMESPACE") or proxy["namespace"]
        ips = meta.get("INSTANCE_IPS")
        if self._source_ip is None and ips:
            self._source_ip = _ip(ips.split(",")[0].strip())
        proxy["envoy_version"] = _envoy_version(node) or proxy["envoy_version"]

    def _add_clusters(self, entry):
        self._have_clusters = True
        clusters, names = self.clusters, self._cluster_names
        for key, camel in (("static_clusters", "staticClusters"),
                           ("dynamic_active_clusters", "dynamicActiveClusters")):
            # Checked inline, not through the _opt_* helpers: a big mesh has
            # tens of thousands of clusters and this loop is the hot one.
            for i, item in enumerate(_opt_list(entry, "ClustersConfigDump", key, camel)):
                if not isinstance(item, dict):
                    raise _shape_error("ClustersConfigDump", "%s[%d]" % (key, i), item, "an object")
                cluster = item.get("cluster")
                if cluster is None:
                    cluster = item
                elif not isinstance(cluster, dict):
                    raise _shape_error("cluster %s[%d]" % (key, i), "cluster", cluster, "an object")
                name = cluster.get("name")
                if not isinstance(name, str) or not name:
                    if name is None or name == "":
                        raise ConfigDumpError("the config dump has a shape Envoy never prints: cluster %s[%d] "
                                              "has no name" % (key, i))
                    raise _shape_error("cluster %s[%d]" % (key, i), "name", name, "a string")
                ctype = cluster.get("type")
                if ctype is None:
                    custom = _opt_dict(cluster, "cluster '%s'" % name, "cluster_type", "clusterType")
                    # Envoy omits enum defaults when it prints: no type is STATIC.
                    ctype = _opt_str(custom, "cluster '%s' cluster_type" % name, "name") or "STATIC"
                elif not isinstance(ctype, str):
                    raise _shape_error("cluster '%s'" % name, "type", ctype, "a string")
                direction, port, subset, host = parse_cluster_name(name)
                clusters.append({"name": name, "direction": direction, "port": port,
                                 "subset": subset, "host": host, "type": ctype})
                names.add(name)

    def _add_listeners(self, entry):
        self._have_listeners = True
        where = "ListenersConfigDump"
        for i, item in enumerate(_items(entry, where, "static_listeners", "staticListeners")):
            self._add_listener(_unwrap(item, "listener", "static_listeners[%d]" % i), "static",
                               "static_listeners[%d]" % i)
        for i, item in enumerate(_items(entry, where, "dynamic_listeners", "dynamicListeners")):
            here = "dynamic_listeners[%d]" % i
            state = _opt_dict(item, here, "active_state", "activeState")
            if state:
                self._add_listener(_unwrap(state, "listener", here), "dynamic", here)
        for i, item in enumerate(_items(entry, where, "dynamic_active_listeners", "dynamicActiveListeners")):
            here = "dynamic_active_listeners[%d]" % i
            self._add_listener(_unwrap(item, "listener", here), "dynamic", here)

    def _add_listener(self, lst, origin, where):
        name = _opt_str(lst, "listener %s" % where, "name") or None
        where = "listener '%s'" % name if name else "listener %s" % where
        address = _opt_dict(lst, where, "address")
        sock = _opt_dict(address, where + " address", "socket_address", "socketAddress")
        ip, port = None, None
        if sock:
            ip = _opt_str(sock, where + " socket_address", "address")
            port = _opt_int(sock, where + " socket_address", "port_value", "portValue")
        elif address.get("pipe") is not None:
            ip = "unix:%s" % _opt_str(_opt_dict(address, where, "pipe"), where + " pipe", "path")
        elif _get(address, "envoy_internal_address", "envoyInternalAddress")[0] is not _MISSING:
            internal = _opt_dict(address, where, "envoy_internal_address", "envoyInternalAddress")
            ip = "internal:%s" % _opt_str(internal, where, "server_listener_name", "serverListenerName")
        # Envoy's own static listeners (15090, 15021) are often unnamed: None.
        listener = {
            "name": name,
            "address": ip,
            "port": port,
            "origin": origin,
            "direction": _opt_str(lst, where, "traffic_direction", "trafficDirection"),
            "use_original_dst": _opt_bool(lst, where, "use_original_dst", "useOriginalDst"),
            "filter_chains": [],
        }
        chains = listener["filter_chains"]
        for i, fc in enumerate(_items(lst, where, "filter_chains", "filterChains")):
            chains.append(self._chain(fc, listener, False, "%s filter chain %d" % (where, i + 1)))
        default = _opt_dict(lst, where, "default_filter_chain", "defaultFilterChain")
        if default:
            chains.append(self._chain(default, listener, True, "%s default_filter_chain" % where))
        self.listeners.append(listener)
        if port is not None:
            self._by_port.setdefault(port, []).append(listener)
        if name in VIRTUAL_OUTBOUND_NAMES or (listener["use_original_dst"] and port == 15001):
            self._virtual = listener

    def _chain(self, fc, listener, default, where):
        match = fc.get("filter_chain_match")
        if match is None:
            match = fc.get("filterChainMatch", _EMPTY)
        if not isinstance(match, dict):
            raise _shape_error(where, "filter_chain_match", match, "an object")
        name = fc.get("name")
        if name is not None and not isinstance(name, str):
            raise _shape_error(where, "name", name, "a string")
        chain = {
            "name": name,
            "default": default,
            "server_names": [],
            "destination_port": None,
            "prefix_ranges": [],
            "transport_protocol": None,
            "application_protocols": [],
            "direct_source_prefix_ranges": [],
            "source_type": None,
            "source_prefix_ranges": [],
            "source_ports": [],
            "filter": None,
            "cluster": None,
            "weighted_clusters": None,
            "route_config_name": None,
            "terminates_tls": False,
        }
        if "transport_socket" in fc or "transportSocket" in fc or "tls_context" in fc or "tlsContext" in fc:
            chain["terminates_tls"] = bool(_opt_dict(fc, where, "transport_socket", "transportSocket")
                                           or _opt_dict(fc, where, "tls_context", "tlsContext"))
        if match:
            # One pass over the keys present (usually just server_names): a dump
            # of a big mesh has tens of thousands of chains.
            mwhere = where + " filter_chain_match"
            for key in match:
                field = _MATCH_FIELDS.get(key)
                if field is not None:
                    chain[field] = _MATCH_PARSERS[field](match, mwhere, key)
        last = None
        for i, flt in enumerate(_opt_list(fc, where, "filters")):
            fname = flt.get("name", "") if isinstance(flt, dict) else None
            if not isinstance(fname, str):
                here = "%s filter %d" % (where, i + 1)
                if not isinstance(flt, dict):
                    raise _shape_error(where, "filters[%d]" % i, flt, "an object")
                raise _shape_error(here, "name", fname, "a string")
            cfg = flt.get("typed_config")
            if not isinstance(cfg, dict) or str(cfg.get("@type", "")).endswith("TypedStruct"):
                cfg = _filter_config(flt, "%s filter %d" % (where, i + 1))
            ftype = cfg.get("@type", "")
            if "tcp_proxy" in fname or (isinstance(ftype, str) and ftype.endswith(".TcpProxy")):
                here = "%s filter %d" % (where, i + 1)
                last = "tcp_proxy"
                chain["cluster"] = _opt_str(cfg, here, "cluster") or None
                if "weighted_clusters" in cfg or "weightedClusters" in cfg:
                    chain["weighted_clusters"] = _weighted(
                        _opt_dict(cfg, here, "weighted_clusters", "weightedClusters"), here + " weighted_clusters")
                legacy = _opt_dict(cfg, here, "deprecated_v1", "deprecatedV1") if not chain["cluster"] else None
                if legacy:
                    for j, route in enumerate(_items(legacy, here + " deprecated_v1", "routes")):
                        target = _opt_str(route, here + " deprecated_v1 routes[%d]" % j, "cluster")
                        if target:
                            chain["cluster"] = target
                            break
            elif "http_connection_manager" in fname or (isinstance(ftype, str)
                                                        and ftype.endswith(".HttpConnectionManager")):
                here = "%s filter %d" % (where, i + 1)
                last = "http_connection_manager"
                rds = _opt_dict(cfg, here, "rds")
                chain["route_config_name"] = _opt_str(rds, here + " rds", "route_config_name", "routeConfigName")
                inline = _opt_dict(cfg, here, "route_config", "routeConfig")
                if inline and not chain["route_config_name"]:
                    route = self._add_route_config(inline, inline_of=listener)
                    chain["route_config_name"] = route["name"]
            else:
                last = fname or last
        chain["filter"] = last
        return chain

    def _add_routes(self, entry):
        self._have_routes = True
        for key, camel in (("static_route_configs", "staticRouteConfigs"),
                           ("dynamic_route_configs", "dynamicRouteConfigs")):
            for i, item in enumerate(_items(entry, "RoutesConfigDump", key, camel)):
                here = "%s[%d]" % (key, i)
                rc = _unwrap(item, "route_config", here)
                if rc is item and "routeConfig" in item:
                    rc = _unwrap(item, "routeConfig", here)
                self._add_route_config(rc)

    def _add_route_config(self, rc, inline_of=None):
        name = _opt_str(rc, "a route configuration", "name")
        if inline_of is not None and not name:
            owner = inline_of.get("name") or "%s_%s" % (inline_of.get("address"), inline_of.get("port"))
            name = "%s (inline)" % owner
        where = "route '%s'" % name
        vhosts = []
        for i, vh in enumerate(_items(rc, where, "virtual_hosts", "virtualHosts")):
            vname = _opt_str(vh, "%s virtual_hosts[%d]" % (where, i), "name")
            here = "%s virtual host '%s'" % (where, vname)
            clusters, direct = [], []
            for j, rt in enumerate(_items(vh, here, "routes")):
                rhere = "%s routes[%d]" % (here, j)
                action = _opt_dict(rt, rhere, "route")
                if action:
                    target = _opt_str(action, rhere, "cluster")
                    if target:
                        if target not in clusters:
                            clusters.append(target)
                    else:
                        spec = _opt_dict(action, rhere, "weighted_clusters", "weightedClusters")
                        for wc in _weighted(spec, rhere + " weighted_clusters") or ():
                            if wc["name"] not in clusters:
                                clusters.append(wc["name"])
                        header = _opt_str(action, rhere, "cluster_header", "clusterHeader")
                        if header:
                            clusters.append("header:%s" % header)
                resp = _opt_dict(rt, rhere, "direct_response", "directResponse")
                if resp:
                    status = _opt_int(resp, rhere + " direct_response", "status")
                    if status not in direct:
                        direct.append(status)
            domains = [d.lower() for d in _str_list(vh, here, "domains")]
            vhosts.append({"name": vname, "domains": domains, "clusters": clusters, "direct_responses": direct})
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
        # proxy.type comes from the node id alone (see _add_bootstrap): a dump
        # without one says "unknown", never a guess from its listeners, so a
        # sidecar's dump cannot be taken for the gateway's or the other way round.
        self.outbound_traffic_policy = self._traffic_policy()

    # -- Envoy's filter chain selection -------------------------------------

    def _net(self, cidr):
        net = self._nets.get(cidr)
        if net is None:
            net = self._nets[cidr] = ipaddress.ip_network(cidr)
        return net

    def _longest_prefix(self, chains, key, address, notes, what):
        """The chains whose ``key`` ranges hold ``address`` most specifically (no ranges = /0).

        With an unknown address, a chain restricted to ranges narrower than /0
        cannot be decided: it is taken as not matching, and ``notes`` says so.
        """
        best, best_len, unknown = [], -1, []
        for ch in chains:
            ranges = ch[key]
            if not ranges:
                length = 0
            else:
                nets = [self._net(r) for r in ranges]
                if address is None:
                    if not any(n.prefixlen == 0 for n in nets):
                        unknown.append(ch)
                        continue
                    length = 0
                else:
                    lengths = [n.prefixlen for n in nets if n.version == address.version and address in n]
                    if not lengths:
                        continue
                    length = max(lengths)
            if length > best_len:
                best, best_len = [ch], length
            elif length == best_len:
                best.append(ch)
        if unknown:
            ranges = sorted({r for ch in unknown for r in ch[key]})
            notes.append("the %s is not known: taken to be outside %s%s, which %d filter chain%s require%s" % (
                what, ", ".join(ranges[:3]), " (+%d more)" % (len(ranges) - 3) if len(ranges) > 3 else "",
                len(unknown), "" if len(unknown) == 1 else "s", "s" if len(unknown) == 1 else ""))
        return best

    def _select_chain(self, listener, call, address, source):
        """The filter chain Envoy picks on ``listener`` for one connection.

        Envoy's FilterChainMatch documentation: "In order for a filter chain to
        be selected, ALL of its criteria must be fulfilled", checked in this
        order: destination port, destination IP (prefix_ranges), server name,
        transport protocol, application protocols, directly connected source
        IP, source type, source IP, source port; "for criteria that allow
        ranges or wildcards, the most specific value in any of the configured
        filter chains that matches the incoming connection is going to be
        used", an empty criterion matching anything. Each step keeps only the
        chains with the most specific matching value; the chains without that
        criterion count only when no chain has a matching value. It never
        backtracks: when a chain names the port, chains without a port are out
        even if none of the named ones matches later. No chain left -> the
        ``default_filter_chain``, else Envoy closes the connection.

        Returns (chain or None, how: match|default|none, sni: exact|wildcard|None, notes).
        """
        notes = []
        chains = [ch for ch in listener["filter_chains"] if not ch["default"]]
        default = None
        for ch in listener["filter_chains"]:
            if ch["default"]:
                default = ch
        sni_kind = None
        # 1. destination port
        exact = [ch for ch in chains if ch["destination_port"] == call["port"]]
        chains = exact or [ch for ch in chains if ch["destination_port"] is None]
        # 2. destination IP
        if chains:
            chains = self._longest_prefix(chains, "prefix_ranges", address, notes, "destination address")
        # 3. server name: exact, then the longest wildcard suffix, then none
        if chains:
            sni = call["sni"]
            picked = []
            if sni:
                picked = [ch for ch in chains if sni in ch["server_names"]]
                sni_kind = "exact" if picked else None
                pos = sni.find(".", 1)
                while not picked and 0 < pos < len(sni) - 1:
                    wildcard = "*" + sni[pos:]
                    picked = [ch for ch in chains if wildcard in ch["server_names"]]
                    sni_kind = "wildcard" if picked else None
                    pos = sni.find(".", pos + 1)
            chains = picked or [ch for ch in chains if not ch["server_names"]]
        # 4. transport protocol (tls from the tls_inspector, else raw_buffer)
        if chains:
            exact = [ch for ch in chains if ch["transport_protocol"] == call["transport"]]
            chains = exact or [ch for ch in chains if not ch["transport_protocol"]]
        # 5. application protocols, in the client's order
        if chains:
            if any(ch["application_protocols"] for ch in chains):
                notes.append("the client was taken to offer ALPN %s (%s)" % (
                    ", ".join(call["alpn"]) or "none",
                    "what curl offers" if call["tls"] else "what the http_inspector finds for HTTP/1.1"))
            picked = []
            for proto in call["alpn"]:
                picked = [ch for ch in chains if proto in ch["application_protocols"]]
                if picked:
                    break
            chains = picked or [ch for ch in chains if not ch["application_protocols"]]
        # 6. directly connected source IP
        if chains:
            chains = self._longest_prefix(chains, "direct_source_prefix_ranges", source, notes, "source address")
        # 7. source type: a pod's connection to another address is EXTERNAL
        if chains:
            exact = [ch for ch in chains if ch["source_type"] == "EXTERNAL"]
            chains = exact or [ch for ch in chains if ch["source_type"] is None]
        # 8. source IP
        if chains:
            chains = self._longest_prefix(chains, "source_prefix_ranges", source, notes, "source address")
        # 9. source port: the client's ephemeral port is not known
        if chains:
            ports = sorted({p for ch in chains for p in ch["source_ports"]})
            if ports:
                notes.append("the client's source port is not known: taken to be none of %s"
                             % ", ".join(str(p) for p in ports[:5]))
            chains = [ch for ch in chains if not ch["source_ports"]]
        if len(chains) > 1:
            notes.append("%d filter chains of listener %s match this connection equally (Envoy refuses such a "
                         "listener); the first one is reported" % (len(chains), _lname(listener)))
        if chains:
            return chains[0], "match", sni_kind, notes
        if default is not None:
            return default, "default", None, notes
        return None, "none", None, notes

    def _path(self, listener, call, address, when, router=False, explicit=False):
        """Where a connection goes on ``listener``: the chain, then its cluster or route."""
        source = None if router else self._source_ip
        chain, how, sni_kind, notes = self._select_chain(listener, call, address, source)
        path = {"listener": listener, "chain": chain, "how": how, "sni": sni_kind, "kind": None,
                "route": None, "vhost": None, "rank": None, "notes": notes, "when": when,
                "address": address, "tls_into_http": False, "specific": False, "call_port": call["port"]}
        if chain is None:
            return path
        if chain["filter"] == "http_connection_manager":
            path["kind"] = "http"
            if call["tls"] and not chain["terminates_tls"]:
                path["tls_into_http"] = True
                return path
            route = self._route_by_name.get(chain["route_config_name"])
            path["route"] = route
            if route is not None:
                for vh in route["virtual_hosts"]:
                    rank = _domain_rank(vh["domains"], call["host"], call["port"])
                    if rank is not None and (path["rank"] is None or rank < path["rank"]):
                        path["rank"], path["vhost"] = rank, vh
        else:
            path["kind"] = "sni" if sni_kind else "tcp"
        path["specific"] = self._is_specific(path, call, router, explicit)
        return path

    def _is_specific(self, path, call, router, explicit):
        """True when the chosen chain/virtual host is configured for this host, not a catch-all."""
        lst, ch = path["listener"], path["chain"]
        if path["how"] != "match" or path["tls_into_http"]:
            return False
        if path["kind"] == "http":
            vh = path["vhost"]
            if vh is None or vh["name"] in (ALLOW_ANY_VHOST, BLOCK_ALL_VHOST):
                return False
            if path["rank"][0] < 3:
                return True
            # On a sidecar '*' is the allow_any/block_all fallthrough; on a
            # gateway it is a Gateway host '*' on that port.
            return router and not path["route"]["inline"] and lst["port"] == call["port"]
        if path["sni"]:
            return True
        if ch["name"] in (PASSTHROUGH_CHAIN, CATCHALL_CHAIN, BLACKHOLE_CHAIN):
            return False
        if lst is self._virtual or lst["address"] in WILDCARD_ADDRESSES or _ip(lst["address"]) is None:
            return False
        # A service VIP listener: the host's own when the caller named its
        # address, or when its destination is the host.
        return explicit or any(parse_cluster_name(n)[3] == call["host"] for n in _chain_targets(ch))

    def _sidecar_paths(self, call, address):
        """Every listener a sidecar's connection to host:port can land on, the one Envoy takes first.

        iptables sends the connection to the capture listener (virtualOutbound),
        whose original_dst hands it to the listener bound to exactly the
        original destination address:port, else to 0.0.0.0:port, else it
        stays on the capture listener (Envoy's use_original_dst hand-off).
        Without a known address, a service VIP listener that routes this host
        (a ServiceEntry address, or one Istio's DNS proxy allocated, such as
        240.240.0.1) comes first: a client resolving the host through the
        sidecar lands there. The 0.0.0.0 (or capture) listener is the path of
        every other address.
        """
        port = call["port"]
        on_port = [lst for lst in self._by_port.get(port, ()) if lst is not self._virtual and not _is_inbound(lst)]
        wildcard = [lst for lst in on_port if lst["address"] in WILDCARD_ADDRESSES]
        bound = [lst for lst in on_port if lst["address"] not in WILDCARD_ADDRESSES and _ip(lst["address"])]
        if address is not None:
            exact = [lst for lst in bound if _ip(lst["address"]) == address]
            family = [lst for lst in wildcard if (lst["address"] == "::") == (address.version == 6)]
            target = (exact or family or wildcard or [self._virtual])[0]
            if target is None:
                return []
            return [self._path(target, call, address, None, explicit=True)]
        paths = []
        for lst in bound:
            path = self._path(lst, call, _ip(lst["address"]),
                              "if the client connects to %s (the host's service address: a ServiceEntry address "
                              "or one Istio's DNS proxy allocated)" % lst["address"])
            if path["specific"]:
                paths.append(path)
        paths.sort(key=lambda p: p["sni"] != "exact")
        fallback = wildcard[0] if wildcard else self._virtual
        if fallback is not None:
            when = "if the client connects to any other address of %s" % call["host"] if paths else None
            paths.append(self._path(fallback, call, None, when))
        return paths

    def _router_paths(self, call):
        """A gateway's listeners that take the host: host-specific ones first, the call's port first.

        A gateway has no capture listener: a connection arrives on the listener
        of the Service's targetPort (443 -> 8443 with the istio/gateway chart),
        which the caller may not know; so every listener is tried with the
        connection arriving on its own port, and only a chain or virtual host
        configured for the host counts there. A catch-all on the call's own
        port is kept as the last path.
        """
        specific, on_port = [], []
        for lst in self.listeners:
            if lst["port"] is None or _is_inbound(lst) or lst is self._virtual:
                continue
            arriving = dict(call, port=lst["port"])
            path = self._path(lst, arriving, self._source_ip, None, router=True)
            path["call_port"] = call["port"]
            path["specific"] = self._is_specific(path, call, True, False)
            if path["specific"]:
                specific.append(path)
            elif lst["port"] == call["port"] and path["chain"] is not None:
                on_port.append(path)
        specific.sort(key=lambda p: (p["listener"]["port"] != call["port"], p["sni"] != "exact"))
        return specific + on_port

    # -- outbound traffic policy -------------------------------------------

    def _traffic_policy(self):
        """ALLOW_ANY / REGISTRY_ONLY from where unregistered outbound traffic goes.

        Istio always builds both PassthroughCluster and BlackHoleCluster on a
        sidecar (core/cluster.go BuildClusters), so their presence proves
        nothing; the mode shows in the catch-all destination
        (core/listener_builder.go buildOutboundCatchAllNetworkFiltersOnly):
        PassthroughCluster for ALLOW_ANY (or the egressProxy cluster),
        BlackHoleCluster for REGISTRY_ONLY. The same connections Envoy would
        route are followed here: a TCP connection to a port no listener
        serves (the capture listener's catch-all), TLS to an unregistered host
        on 443 (0.0.0.0_443, else the capture listener), and the HTTP route
        tables' ``allow_any`` / ``block_all`` virtual hosts. When they
        disagree the mode is ``mixed``: REGISTRY_ONLY is never reported while
        an unregistered host would reach PassthroughCluster.
        """
        if self.proxy["type"] == "router":
            return {"mode": "unknown", "sources": [], "evidence": [
                ("the proxy is a router (gateway): it has no outbound capture listener, and "
                 "outboundTrafficPolicy only applies to sidecars")]}
        sources = []
        seen = set()

        def add(path, label):
            ch = path["chain"]
            if ch is None or path["kind"] == "http" or id(ch) in seen:
                return
            cluster = ch["cluster"] or (ch["weighted_clusters"] or [{}])[0].get("name")
            if not cluster:
                return
            seen.add(id(ch))
            lst = path["listener"]
            if lst is self._virtual:
                where = "catch-all filter chain%s" % (" %s" % ch["name"] if ch["name"] else "")
            elif ch["default"]:
                where = "default filter chain %s" % (ch["name"] or "(unnamed)")
            else:
                where = "filter chain %s%s" % (ch["name"] or "(unnamed)", label)
            sources.append({"mode": _mode_for_cluster(cluster), "listener": _lname(lst), "route": None,
                            "filter_chain": ch["name"], "cluster": cluster,
                            "evidence": "listener %s %s \u2192 %s %s%s" % (
                                _lname(lst), where, ch["filter"], cluster, _mode_note(cluster))})

        if self._virtual is not None:
            free = 65535
            while free in self._by_port and free > 1:
                free -= 1
            add(self._path(self._virtual, _call(UNREGISTERED_HOST, free, tls=False, alpn=()), None, None), "")
        paths = self._sidecar_paths(_call(UNREGISTERED_HOST, 443, tls=True), None)
        if paths:
            add(paths[-1], ", which takes TLS to any unregistered host on port 443")
        for found, route, vhost in self._vhost_policy[:2]:
            sources.append({"mode": found, "listener": None, "route": route, "filter_chain": None,
                            "cluster": PASSTHROUGH_CLUSTER if found == "ALLOW_ANY" else None,
                            "evidence": "route %s has the %s virtual host (%s)" % (
                                route, vhost, "\u2192 PassthroughCluster" if found == "ALLOW_ANY"
                                else "direct response 502")})
        evidence = [s["evidence"] for s in sources]
        modes = sorted({s["mode"] for s in sources})
        if len(modes) == 1:
            return {"mode": modes[0], "evidence": evidence, "sources": sources}
        if modes:
            allow = [s for s in sources if s["mode"] == "ALLOW_ANY"]
            evidence.insert(0, "the catch-all destinations disagree: unregistered traffic is blocked on some "
                               "paths but reaches %s on others (%s)" % (
                                   allow[0]["cluster"], allow[0]["listener"] or allow[0]["route"]))
            return {"mode": "mixed", "evidence": evidence, "sources": sources}
        if not self._have_listeners and not self._have_routes:
            evidence.append("the dump has no ListenersConfigDump or RoutesConfigDump to look at")
        else:
            evidence.append("no outbound capture listener, passthrough filter chain or allow_any/block_all "
                            "virtual host was found (PassthroughCluster and BlackHoleCluster clusters "
                            "exist on every sidecar, so they prove nothing alone)")
        return {"mode": "unknown", "evidence": evidence, "sources": sources}

    # -- destination -----------------------------------------------------

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

# A name under the reserved .invalid TLD (RFC 2606): never registered anywhere.
UNREGISTERED_HOST = "unregistered-host.invalid"


def _call(host, port, tls, alpn=None):
    """The connection a client makes: TLS (SNI, curl's ALPN) or plain (HTTP/1.1 found by the http_inspector)."""
    if alpn is None:
        alpn = ("h2", "http/1.1") if tls else ("http/1.1",)
    return {"host": host, "port": port, "tls": tls, "sni": host if tls else "",
            # Envoy marks a connection no listener filter recognised as raw_buffer.
            "transport": "tls" if tls else "raw_buffer", "alpn": list(alpn)}


def _lname(listener):
    return listener["name"] or "%s_%s" % (listener["address"], listener["port"])


def _chain_targets(chain):
    if chain["cluster"]:
        return [chain["cluster"]]
    return [w["name"] for w in chain["weighted_clusters"] or ()]


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


def _is_inbound(listener):
    return (listener["direction"] == "INBOUND" or listener["name"] == "virtualInbound"
            or (listener["name"] or "").startswith("inbound"))


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
    """Envoy's virtual host choice: exact, longest ``*`` suffix, longest ``*`` prefix, then ``*``.

    Returns a sortable key ((0, 0) is an exact match) or None.
    """
    with_port = "%s:%s" % (host, port)
    best = None
    for d in domains:
        if d in (host, with_port):
            return (0, 0)
        if d == "*":
            rank = (3, 0)
        elif d.startswith("*") and (host.endswith(d[1:]) or with_port.endswith(d[1:])):
            rank = (1, -len(d))
        elif d.endswith("*") and (host.startswith(d[:-1]) or with_port.startswith(d[:-1])):
            rank = (2, -len(d))
        else:
            continue
        if best is None or rank < best:
            best = rank
    return best


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


def _envoy_version(node):
    ubv = _opt_dict(node, "the bootstrap node", "user_agent_build_version", "userAgentBuildVersion")
    version = _opt_dict(ubv, "the bootstrap node user_agent_build_version", "version")
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


def analyse_config_dump(data, host=None, port=443, egress_gateway_service=DEFAULT_EGRESS_GATEWAY_SERVICE,
                        address=None, protocol="auto"):
    """All facts of a dump as one dict; ``destination`` is added when host is given."""
    cfg = parse_config_dump(data)
    facts = cfg.facts()
    if host is not None:
        facts["destination"] = cfg.find_destination(host, port, egress_gateway_service, address, protocol)
    return facts
