# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Envoy's filter chain selection: which listener, chain and route a connection to host:port takes.

Pure and stdlib only. _ChainMatch is the part of envoy_config.ProxyConfig that
follows a connection through the listeners read by envoy_read.py, in the
order Envoy's FilterChainMatch documents (_select_chain).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.homelab.istio_egress.plugins.module_utils.envoy_dump import (
    ALLOW_ANY_VHOST,
    BLACKHOLE_CHAIN,
    BLOCK_ALL_VHOST,
    CATCHALL_CHAIN,
    PASSTHROUGH_CHAIN,
    WILDCARD_ADDRESSES,
    _ip,
    parse_cluster_name,
)


class _ChainMatch:
    """Filter chain and route selection over the listeners of a ProxyConfig."""

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


def _is_inbound(listener):
    return (listener["direction"] == "INBOUND" or listener["name"] == "virtualInbound"
            or (listener["name"] or "").startswith("inbound"))


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
