# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The outbound traffic policy a sidecar applies (ALLOW_ANY / REGISTRY_ONLY), from where unregistered traffic goes.

Pure and stdlib only. _TrafficPolicy is the part of envoy_config.ProxyConfig
that follows the catch-all connections with the chain selection of
envoy_match.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.istio_egress.plugins.module_utils.envoy_dump import BLACKHOLE_CLUSTER, PASSTHROUGH_CLUSTER
from ansible_collections.homelab.istio_egress.plugins.module_utils.envoy_match import _call, _lname

# A name under the reserved .invalid TLD (RFC 2606): never registered anywhere.
UNREGISTERED_HOST = "unregistered-host.invalid"


class _TrafficPolicy:
    """The outbound traffic policy of a ProxyConfig."""

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
