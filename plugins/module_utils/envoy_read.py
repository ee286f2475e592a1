# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a decoded config dump's sections into the facts of ProxyConfig (bootstrap, clusters, listeners, routes).

Pure and stdlib only. _DumpReader is the part of envoy_config.ProxyConfig that
builds it, one handler per config section (envoy_config._SECTION_HANDLERS);
the cluster loop is the hot one of a big mesh's dump and is kept inline here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.istio_egress.plugins.module_utils.envoy_dump import (
    _EMPTY,
    _MATCH_FIELDS,
    _MATCH_PARSERS,
    _MISSING,
    _NODE_TYPES,
    ALLOW_ANY_VHOST,
    BLOCK_ALL_VHOST,
    VIRTUAL_OUTBOUND_NAMES,
    ConfigDumpError,
    _filter_config,
    _get,
    _ip,
    _items,
    _opt_bool,
    _opt_dict,
    _opt_int,
    _opt_list,
    _opt_str,
    _shape_error,
    _str_list,
    _unwrap,
    _weighted,
    parse_cluster_name,
)


class _DumpReader:
    """The state of a ProxyConfig and the section handlers that fill it."""

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
