# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access-log hops: the names and port an entry shows, which proxy wrote it, and how it relates to host:port.

Pure and stdlib-only. Every entry is classified by the proxy that wrote it,
from the line alone (classify_hop), and an entry matches only when all its
names and its port agree with host:port (judge); docs/egress_log_assert.md,
"Which hop wrote the line".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.istio_egress.plugins.module_utils.access_log_formats import _DIGITS


def parse_cluster(name):
    """(direction, port, subset, host) of an Istio cluster name, or None.

    Handles the raw name ``outbound|443|subset|host`` (UPSTREAM_CLUSTER_RAW, and
    UPSTREAM_CLUSTER before 1.23) and the alt stat name
    ``outbound_.443_.subset_.host`` that UPSTREAM_CLUSTER can print.
    """
    if not name:
        return None
    if "|" in name:
        parts = name.split("|")
        if len(parts) != 4:
            return None
        direction, port, subset, host = parts
    elif "_." in name:
        parts = name.split("_.", 3)
        if len(parts) != 4:
            return None
        direction, port, subset, host = parts
        if subset == "_":
            subset = ""
    else:
        return None
    if direction not in ("outbound", "inbound"):
        return None
    return direction, (int(port) if port and set(port) <= _DIGITS else None), subset, host


def address_port(address):
    """Port of ``ip:port``, ``[v6]:port`` or ``envoy://name/ip:port``; None when unknown."""
    if not address or address == "-":
        return None
    if address.startswith("envoy://"):
        address = address[len("envoy://"):].rsplit("/", 1)[-1]
    if address.startswith("["):
        end = address.find("]:")
        port = address[end + 2:] if end > 0 else ""
    else:
        if address.count(":") != 1:
            return None
        port = address.rsplit(":", 1)[1]
    if port and set(port) <= _DIGITS:
        value = int(port)
        return value if 0 < value <= 65535 else None
    return None


def authority_host(authority):
    """Host part of an :authority value (port and IPv6 brackets removed)."""
    if not authority:
        return authority
    if authority.startswith("["):
        end = authority.find("]")
        return authority[1:end] if end > 0 else authority
    if authority.count(":") == 1:
        return authority.split(":", 1)[0]
    return authority


def entry_port(entry):
    """The port an entry went to: its cluster's, else its upstream host's, else the local one's."""
    cluster = parse_cluster(entry.get("upstream_cluster"))
    if cluster and cluster[1]:
        return cluster[1]
    port = address_port(entry.get("upstream_host"))
    if port:
        return port
    return address_port(entry.get("downstream_local_address"))


def entry_hosts(entry):
    """Names the entry shows, in label order: authority host, SNI, cluster host."""
    names = []
    authority = authority_host(entry.get("authority"))
    if authority:
        names.append(authority)
    sni = entry.get("requested_server_name")
    if sni:
        names.append(sni)
    cluster = parse_cluster(entry.get("upstream_cluster"))
    if cluster and cluster[3]:
        names.append(cluster[3])
    return names


# --------------------------------------------------------------------------- hops
#
# Which proxy wrote a line, told from the line alone (docs/egress_log_assert.md,
# "Which hop wrote the line"). A sidecar captures outbound traffic with iptables,
# so its DOWNSTREAM_LOCAL_ADDRESS is the ORIGINAL destination (the external IP,
# a service VIP or an auto-allocated 240.240.x.x), while its
# UPSTREAM_LOCAL_ADDRESS is the pod's own IP: the two IPs differ. A gateway is
# addressed directly: the connection arrives at the pod's own IP on the listener
# port (8443 for the istio/gateway chart's 443, 15443, or 443 for a Gateway-API
# deployment) and leaves from that same IP, so both IPs are equal and the local
# address is not the upstream host. The cluster name tells the rest
# (pilot BuildSubsetKey: outbound|PORT|SUBSET|HOST). When a field the rule needs
# is missing (an upstream connect failure logs no upstream local address) the hop
# is 'unknown', never 'gateway'.

HOPS = ("gateway", "client", "sidecar_direct", "passthrough", "blackhole", "inbound", "unknown")
HOP_CHOICES = ("gateway", "client", "any")


def address_ip(address):
    """IP of ``ip:port``, ``[v6]:port`` or ``envoy://name/ip:port``; None when unknown."""
    if not address or address == "-":
        return None
    if address.count(":") == 1 and address[0] != "e":  # the common IPv4 case first
        return address.split(":", 1)[0] or None
    if address.startswith("envoy://"):
        address = address[len("envoy://"):].rsplit("/", 1)[-1]
    if address.startswith("["):
        end = address.find("]")
        return address[1:end] or None if end > 0 else None
    if address.count(":") == 1:
        return address.split(":", 1)[0] or None
    return None


def is_gateway_service(host, gateway_hosts=()):
    """True when a cluster's host is an egress gateway Service (hop 1 goes there).

    gateway_hosts: the gateway Service's names (FQDN, or NAME.NAMESPACE, or NAME)
    when known; otherwise the name of Istio's charts and docs is recognised
    (istio-egressgateway, egressgateway, *-egress-gateway).
    """
    if not host:
        return False
    for name in gateway_hosts or ():
        if name and (host == name or host.startswith(name + ".")):
            return True
    first = host.split(".", 1)[0]
    return "egressgateway" in first or "egress-gateway" in first


def classify_hop(cluster, upstream_host, upstream_local, downstream_local, gateway_hosts=(), parsed=False):
    """The hop that wrote an entry, one of HOPS (see the comment above).

    parsed: parse_cluster(cluster) when the caller has it already.
    """
    if not cluster:
        return "unknown"
    if cluster == "PassthroughCluster":
        return "passthrough"
    if cluster == "BlackHoleCluster":
        return "blackhole"
    if cluster.startswith("InboundPassthroughCluster"):
        return "inbound"
    if parsed is False:
        parsed = parse_cluster(cluster)
    if parsed is None:
        return "unknown"
    if parsed[0] == "inbound":
        return "inbound"
    if not parsed[3]:
        return "unknown"
    here, out = address_ip(downstream_local), address_ip(upstream_local)
    if not here or not out:
        return "unknown"
    if is_gateway_service(parsed[3], gateway_hosts):
        # a sidecar sending to the gateway: original destination != own IP
        return "client" if here != out else "unknown"
    if here == out:
        return "gateway" if downstream_local != upstream_host else "unknown"
    return "sidecar_direct"


def entry_hop(entry, gateway_hosts=()):
    """classify_hop for an entry dict."""
    return classify_hop(entry.get("upstream_cluster"), entry.get("upstream_host"),
                        entry.get("upstream_local_address"), entry.get("downstream_local_address"),
                        gateway_hosts)


def _name_is(name, host):
    """An SNI/authority name names host: equal, or the short form of a
    Kubernetes service name (authority 'httpbin' for httpbin.foo.svc.cluster.local)."""
    if name == host:
        return True
    return ("." not in name or name.count(".") == 1) and host.endswith(".svc.cluster.local") \
        and host.startswith(name + ".")


def judge(host, port, hop, authority, sni, cluster, upstream_host, downstream_local, parsed=False):
    """How one entry relates to host:port, from its own fields only.

    Returns (verdict, port seen): 'match' (every name the entry shows is host
    and its port is port), 'other_port' (names agree, another port), 'conflict'
    (host is named but another name disagrees: SNI host, cluster another host)
    or None (host not named).

    Names: SNI, authority host and, except for hop 1 (whose cluster is the
    gateway Service), the cluster's host. Port: the cluster's, except hop 1
    and the pass-through clusters, which log the original destination port in
    the downstream local address. parsed: parse_cluster(cluster) when known.
    """
    if parsed is False:
        parsed = parse_cluster(cluster)
    named = other = False
    if sni:
        if sni == host or _name_is(sni, host):
            named = True
        else:
            other = True
    if authority:
        name = authority_host(authority)
        if name == host or _name_is(name, host):
            named = True
        else:
            other = True
    if parsed and parsed[0] == "outbound" and parsed[3] and hop != "client":
        if parsed[3] == host:
            named = True
        else:
            other = True
    if not named:
        return None, None
    if hop in ("client", "passthrough", "blackhole"):
        seen = address_port(downstream_local) or (parsed[1] if parsed else None)
    else:
        seen = parsed[1] if parsed and parsed[1] else None
        if not seen:
            seen = address_port(upstream_host) or address_port(downstream_local)
    if other:
        return "conflict", seen
    if seen != port:
        return "other_port", seen
    return "match", seen
