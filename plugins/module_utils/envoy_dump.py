# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Envoy config dump input: decoding, the shape checks at the boundary, Istio's cluster names.

Pure and stdlib only (part of envoy_config.py's analysis, see its docstring).
Every value read from a dump goes through the _opt_* helpers here, so a
value Envoy never prints is refused with one sentence (ConfigDumpError).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
