#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: istio_proxy_config
short_description: Read an Istio proxy's Envoy configuration and say where traffic to a host goes
version_added: 0.1.0
description:
  - Reads the Envoy admin config dump (C(/config_dump)) of one Istio proxy, either live from a pod
    (through the Kubernetes API's exec, running C(pilot-agent request GET config_dump) in the proxy
    container; no istioctl needed) or from a file, and returns structured facts a playbook can assert on.
  - Returns the proxy's identity, its clusters, listeners (with the SNI of every filter chain and its
    destination cluster), HTTP route tables, the outbound traffic policy the proxy actually enforces, and,
    when O(host) is given, where a connection to O(host):O(port) goes.
  - On a sidecar the O(host) answer is hop 1 of the egress path. RV(destination.via_egress_gateway) is true
    when the filter chain that selects the host (SNI) sends it to a cluster of the egress gateway service
    (for example C(outbound|443|httpbin|istio-egressgateway.istio-system.svc.cluster.local)). A chain
    straight to C(outbound|443||httpbin.org) on a sidecar means the traffic bypasses the gateway.
  - On a gateway (router) the same call reports hop 2, the cluster the gateway forwards the host to
    (C(outbound|443||httpbin.org)) and the SNI filter chain that selects it.
  - TLS passthrough routing lives in the listeners, not in the routes, so this module reads filter chains;
    C(istioctl proxy-config routes) shows nothing for it.
  - The connection is followed as Envoy routes it. On a sidecar, the listener bound to the destination
    address and port comes first (a ServiceEntry or DNS-proxy VIP such as C(240.240.0.1_443)), then
    C(0.0.0.0_<port>), then the C(virtualOutbound) capture listener. On that listener the filter chain is
    chosen with the whole C(filter_chain_match), in Envoy's order (destination port, destination address,
    server name, transport protocol, application protocols, direct source address, source type, source
    address, source port), the most specific value winning at each step and an empty criterion matching
    anything; no matching chain means the C(default_filter_chain), else the connection is closed.
    Server names match exactly first, then by the longest C(*.) wildcard suffix.
  - A TLS call (O(protocol=tls), the default on port 443) has transport C(tls), SNI O(host) and the ALPN
    curl offers (C(h2), C(http/1.1)); a plain call (O(protocol=http)) has C(raw_buffer) and C(http/1.1), and
    the route table of the chosen HTTP chain then decides by domain. What cannot be known from the dump
    (the destination address without O(address), the client's source port) is taken as not matching a
    chain restricted to it, and RV(destination.assumptions) says so.
  - The module never changes anything.
author:
  - homelab platform engineers (!UNKNOWN)
options:
  pod:
    description:
      - Name of the pod whose proxy to read. Requires O(namespace).
      - Mutually exclusive with O(src); one of them is required.
    type: str
  namespace:
    description:
      - Namespace of O(pod).
    type: str
  container:
    description:
      - Container of O(pod) that runs the Istio proxy (C(pilot-agent) and Envoy).
      - Found among the containers and, for native sidecars (Kubernetes 1.33+), among the init containers.
      - Used by O(source=api); istioctl picks the proxy container itself.
    type: str
    default: istio-proxy
  source:
    description:
      - How a live dump is read.
      - V(api) execs C(pilot-agent request GET config_dump) in O(container) through the Kubernetes API
        (needs C(create) on C(pods/exec) and C(get) on C(pods)).
      - V(istioctl) runs C(istioctl proxy-config all <pod>.<namespace> -o json), which prints the same raw
        config dump; istioctl must be on E(PATH).
      - Ignored with O(src).
    type: str
    choices: [api, istioctl]
    default: api
  src:
    description:
      - Path to a config dump JSON file on the managed node, for example saved with
        C(kubectl exec POD -c istio-proxy -- pilot-agent request GET config_dump > dump.json).
      - Mutually exclusive with O(pod).
    type: path
  host:
    description:
      - External host name to follow through the configuration (the TLS SNI / HTTP authority), for
        example V(httpbin.org). When omitted, RV(destination) is not returned.
      - Must not be empty.
    type: str
  port:
    description:
      - Destination port of O(host), 1-65535.
    type: int
    default: 443
  address:
    description:
      - The IP address the client connects to for O(host), when known (for example what the client pod
        resolved). Then only the listener Envoy hands that address to is followed.
      - Without it, every listener the host can be reached on is followed; a VIP listener routing the
        host is reported first, the others in RV(destination.paths) and RV(destination.alternatives).
    type: str
  protocol:
    description:
      - The call to follow. V(tls) is a TLS connection with SNI O(host); V(http) is plain HTTP/1.1 with
        Host O(host); V(auto) is V(tls) on port 443 and V(http) on any other port.
    type: str
    choices: [auto, tls, http]
    default: auto
  egress_gateway_service:
    description:
      - Fully qualified name of the egress gateway's Kubernetes Service. A destination cluster whose host
        part is this name counts as "via the egress gateway".
    type: str
    default: istio-egressgateway.istio-system.svc.cluster.local
  include_raw:
    description:
      - Also return the whole decoded config dump as RV(raw). Dumps of big meshes are tens of megabytes.
    type: bool
    default: false
  timeout:
    description:
      - Seconds the whole live read may take, at least 1. With O(source=api) it bounds the pod read (connect
        and answer), the exec's websocket upgrade, every read of its output, and the run of C(pilot-agent);
        with O(source=istioctl) the istioctl process (through coreutils C(timeout) when installed).
      - An API server that refuses, does not answer or stops answering fails the task within it, with one
        sentence naming the server.
    type: int
    default: 60
extends_documentation_fragment:
  - homelab.istio_egress.kube_auth
attributes:
  check_mode:
    support: full
    description: The module only reads; it behaves the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  platform:
    support: full
    platforms: posix
    description: Live reads need network access to the Kubernetes API from the managed node.
notes:
  - C(changed) is always false.
  - The outbound traffic policy is read from where unmatched traffic goes, not from the presence of
    clusters. Istio builds both C(PassthroughCluster) and C(BlackHoleCluster) on every sidecar; the mode
    shows in the catch-all chain of the C(virtualOutbound) listener (C(PassthroughCluster) for ALLOW_ANY,
    C(BlackHoleCluster) for REGISTRY_ONLY), in the C(PassthroughFilterChain) default chains, and in the
    C(allow_any) / C(block_all) virtual hosts of HTTP route tables.
  - Handles Envoy v2 and v3 dumps (C(envoy.admin.v2alpha) and C(envoy.admin.v3) type URLs), static and
    dynamic resources, VIP listeners (for example C(240.240.0.1_443)) as well as C(0.0.0.0_443),
    C(tcp_proxy) with C(cluster) or C(weighted_clusters), C(default_filter_chain), and both the
    snake_case and lowerCamelCase JSON field names.
seealso:
  - name: Envoy admin config dump
    description: The admin endpoint this module reads.
    link: https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--config_dump
  - name: istioctl proxy-config
    description: The istioctl command that prints the same dump with C(-o json).
    link: https://istio.io/latest/docs/reference/commands/istioctl/#istioctl-proxy-config-all
"""

EXAMPLES = r"""
- name: Read the client sidecar and follow httpbin.org:443
  homelab.istio_egress.istio_proxy_config:
    pod: "{{ client_pod }}"
    namespace: demo
    host: httpbin.org
  register: client_proxy

- name: Prove the sidecar sends httpbin.org to the egress gateway
  ansible.builtin.assert:
    that:
      - client_proxy.destination.matched
      - client_proxy.destination.via_egress_gateway
      - client_proxy.outbound_traffic_policy.mode == 'REGISTRY_ONLY'
    fail_msg: "{{ client_proxy.destination.evidence }}"
    success_msg: "{{ client_proxy.destination.evidence }}"

- name: Read the egress gateway (hop 2) with istioctl
  homelab.istio_egress.istio_proxy_config:
    pod: "{{ egress_gateway_pod }}"
    namespace: istio-system
    source: istioctl
    host: httpbin.org
  register: gateway_proxy

- name: The gateway forwards httpbin.org to the external host
  ansible.builtin.assert:
    that:
      - gateway_proxy.proxy.type == 'router'
      - gateway_proxy.destination.cluster == 'outbound|443||httpbin.org'

- name: Connection options once per play (kubernetes.core's names; api_host for its host)
  module_defaults:
    group/homelab.istio_egress.istio_egress:
      api_host: https://10.0.0.10:6443
      api_key: "{{ lookup('ansible.builtin.env', 'VERIFY_TOKEN') }}"
      ca_cert: /etc/kubernetes/pki/ca.crt
  block:
    - name: Follow the address the client resolved, within 20 seconds
      homelab.istio_egress.istio_proxy_config:
        pod: "{{ client_pod }}"
        namespace: demo
        host: httpbin.org
        address: 240.240.0.1
        timeout: 20
      register: client_vip

- name: Analyse a dump saved earlier, with a gateway in its own namespace
  homelab.istio_egress.istio_proxy_config:
    src: /tmp/sleep-config_dump.json
    host: httpbin.org
    egress_gateway_service: egressgateway.istio-egress.svc.cluster.local
  register: offline
"""

RETURN = r"""
proxy:
  description: Identity of the proxy, from the bootstrap node.
  returned: always
  type: dict
  contains:
    type:
      description:
        - V(sidecar), V(router) (a gateway) or V(waypoint), from the node id prefix (C(sidecar~...)) only;
          V(unknown) when the dump has no bootstrap node id. It is never guessed from the listeners, so a
          dump offered as a gateway's is a gateway's only when this says V(router).
      type: str
      sample: sidecar
    istio_version:
      description: C(ISTIO_VERSION) from the node metadata.
      type: str
      sample: 1.30.0
    envoy_version:
      description: Envoy version from the node's build version, when present.
      type: str
      sample: 1.34.1
    node_id:
      description: The Envoy node id.
      type: str
      sample: sidecar~10.233.70.12~sleep-6f8d5d6b4c-x2x8q.demo~demo.svc.cluster.local
    pod:
      description: Pod name from the node metadata or node id.
      type: str
      sample: sleep-6f8d5d6b4c-x2x8q
    namespace:
      description: Pod namespace from the node metadata or node id.
      type: str
      sample: demo
config_types:
  description: The admin config dump types the dump contained, in order.
  returned: always
  type: list
  elements: str
  sample: [BootstrapConfigDump, ClustersConfigDump, ListenersConfigDump, RoutesConfigDump, SecretsConfigDump]
clusters:
  description:
    - Active static and dynamic clusters. Istio names are split as C(direction|port|subset|host);
      other names (C(BlackHoleCluster), C(PassthroughCluster), C(xds-grpc)) have null parts.
  returned: always
  type: list
  elements: dict
  sample:
    - name: outbound|443|httpbin|istio-egressgateway.istio-system.svc.cluster.local
      direction: outbound
      port: 443
      subset: httpbin
      host: istio-egressgateway.istio-system.svc.cluster.local
      type: EDS
    - name: PassthroughCluster
      direction: null
      port: null
      subset: null
      host: null
      type: ORIGINAL_DST
listeners:
  description:
    - Active static and dynamic listeners with their filter chains; C(default_filter_chain) is listed last
      with C(default=true).
    - Per chain, C(filter) is the terminal network filter (V(tcp_proxy), V(http_connection_manager), or the
      filter's own name), C(cluster) or C(weighted_clusters) its tcp_proxy destination, and
      C(route_config_name) the route table of an HTTP chain.
    - The chain's C(filter_chain_match) is given as C(server_names) (lower-cased), C(destination_port),
      C(prefix_ranges), C(transport_protocol), C(application_protocols), C(direct_source_prefix_ranges),
      C(source_type), C(source_prefix_ranges) and C(source_ports) (empty or null when not set), and
      C(terminates_tls) is true when the chain has a TLS transport socket.
  returned: always
  type: list
  elements: dict
  sample:
    - name: 0.0.0.0_443
      address: 0.0.0.0
      port: 443
      origin: dynamic
      direction: OUTBOUND
      use_original_dst: false
      filter_chains:
        - name: null
          default: false
          server_names: [httpbin.org]
          destination_port: null
          prefix_ranges: []
          transport_protocol: null
          application_protocols: []
          direct_source_prefix_ranges: []
          source_type: null
          source_prefix_ranges: []
          source_ports: []
          terminates_tls: false
          filter: tcp_proxy
          cluster: outbound|443|httpbin|istio-egressgateway.istio-system.svc.cluster.local
          weighted_clusters: null
          route_config_name: null
        - name: PassthroughFilterChain
          default: true
          server_names: []
          destination_port: null
          prefix_ranges: []
          transport_protocol: null
          application_protocols: []
          direct_source_prefix_ranges: []
          source_type: null
          source_prefix_ranges: []
          source_ports: []
          terminates_tls: false
          filter: tcp_proxy
          cluster: BlackHoleCluster
          weighted_clusters: null
          route_config_name: null
routes:
  description:
    - HTTP route tables (RDS and inline); per virtual host its domains, the clusters its routes send to
      and the status codes of direct responses.
  returned: always
  type: list
  elements: dict
  sample:
    - name: "80"
      inline: false
      virtual_hosts:
        - name: httpbin.org:80
          domains: [httpbin.org, httpbin.org:80]
          clusters: [outbound|80|httpbin|istio-egressgateway.istio-system.svc.cluster.local]
          direct_responses: []
        - name: block_all
          domains: ["*"]
          clusters: []
          direct_responses: [502]
outbound_traffic_policy:
  description: The outbound traffic policy this proxy enforces, read from its catch-all destinations.
  returned: always
  type: dict
  contains:
    mode:
      description:
        - Where unregistered traffic goes, followed as Envoy routes it in three places - a TCP connection
          to a port without a listener (the C(virtualOutbound) catch-all), TLS to an unregistered host on
          port 443 (C(0.0.0.0_443), else the capture listener), and the C(allow_any) / C(block_all) virtual
          hosts of the HTTP route tables.
        - V(REGISTRY_ONLY) when every one found ends in C(BlackHoleCluster) (or a 502 direct response),
          V(ALLOW_ANY) when every one reaches C(PassthroughCluster) or an egress proxy, V(mixed) when they
          disagree (never V(REGISTRY_ONLY) while an unregistered host would reach C(PassthroughCluster)),
          V(unknown) when none was found and always on a router.
      type: str
      sample: REGISTRY_ONLY
    evidence:
      description: >-
        Sentences naming the listener chains or virtual hosts the mode was read from; with V(mixed) the
        first says which paths disagree.
      type: list
      elements: str
      sample:
        - >-
          listener virtualOutbound catch-all filter chain virtualOutbound-catchall-tcp
          → tcp_proxy BlackHoleCluster (REGISTRY_ONLY)
    sources:
      description: >-
        The same evidence as records - C(mode), C(evidence), C(listener), C(filter_chain), C(cluster) (for a
        listener) or C(route) (for a virtual host).
      type: list
      elements: dict
      sample:
        - mode: REGISTRY_ONLY
          listener: virtualOutbound
          route: null
          filter_chain: virtualOutbound-catchall-tcp
          cluster: BlackHoleCluster
          evidence: >-
            listener virtualOutbound catch-all filter chain virtualOutbound-catchall-tcp
            → tcp_proxy BlackHoleCluster (REGISTRY_ONLY)
destination:
  description: Where this proxy sends a connection to O(host):O(port).
  returned: when O(host) is given
  type: dict
  contains:
    host:
      description: The host analysed, lower-cased.
      type: str
      sample: httpbin.org
    port:
      description: The port analysed.
      type: int
      sample: 443
    address:
      description: O(address), when given.
      type: str
      sample: null
    call:
      description: The call followed, V(tls) or V(http) (see O(protocol)).
      type: str
      sample: tls
    matched:
      description:
        - True when the chain Envoy picks for the call is configured for the host - its server name matched
          (exactly or by wildcard), it is a service VIP listener whose destination is the host (or O(address)),
          or an HTTP virtual host has the host's domain. False when the connection only reaches a catch-all,
          for example C(PassthroughFilterChain), C(BlackHoleCluster), or a chain matching only
          C(destination_port) (then RV(destination.cluster) is where that catch-all sends it).
      type: bool
      sample: true
    protocol:
      description: V(tls) (matched by SNI), V(http) (matched by a virtual host domain), V(tcp) (matched by a
        service VIP listener without SNI), or null.
      type: str
      sample: tls
    listener:
      description: Name of the listener that handles the connection.
      type: str
      sample: 0.0.0.0_443
    listener_port:
      description:
        - Port of that listener. On a gateway it is the port the connection must arrive on, so it must equal
          the gateway Service's targetPort for O(port) (8443 for 443 with the istio/gateway chart).
      type: int
      sample: 443
    filter_chain:
      description: Name of the selected filter chain, when it has one.
      type: str
      sample: null
    server_names:
      description: C(filter_chain_match.server_names) of the selected chain.
      type: list
      elements: str
      sample: [httpbin.org]
    route:
      description: Route table name, for an HTTP destination.
      type: str
      sample: null
    virtual_host:
      description: Virtual host name, for an HTTP destination.
      type: str
      sample: null
    cluster:
      description: The destination cluster; null when the destination is weighted.
      type: str
      sample: outbound|443|httpbin|istio-egressgateway.istio-system.svc.cluster.local
    weighted_clusters:
      description: The weighted destination clusters (C(name), C(weight), C(host), C(subset)), or null.
      type: list
      elements: dict
      sample: null
    clusters:
      description: All destination cluster names (the one RV(destination.cluster) or the weighted ones); empty
        when nothing matched and no catch-all was found.
      type: list
      elements: str
      sample: [outbound|443|httpbin|istio-egressgateway.istio-system.svc.cluster.local]
    cluster_found:
      description: >-
        Whether every destination cluster exists among RV(clusters). Null (unknown) when the dump has no
        clusters section, or when there is no destination cluster to look for. False typically means a
        DestinationRule subset is missing.
      type: bool
      sample: true
    via_egress_gateway:
      description: True when every destination cluster (with a weight above 0) is one of the egress gateway
        service O(egress_gateway_service), that is, this proxy sends the host to the gateway (hop 1).
      type: bool
      sample: true
    direct:
      description: True when every destination cluster's host is O(host) itself. On a sidecar this means the
        traffic bypasses the gateway; on a gateway it is the expected hop 2.
      type: bool
      sample: false
    egress_gateway_service:
      description: The egress gateway service compared against.
      type: str
      sample: istio-egressgateway.istio-system.svc.cluster.local
    hop:
      description: V(1) for a sidecar, V(2) for a router, null when the proxy type is unknown.
      type: int
      sample: 1
    evidence:
      description: One sentence saying which listener, chain and cluster decide, and what that means.
      type: str
      sample: >-
        listener 0.0.0.0_443 filter chain SNI httpbin.org → tcp_proxy
        outbound|443|httpbin|istio-egressgateway.istio-system.svc.cluster.local;
        httpbin.org is sent to the egress gateway istio-egressgateway.istio-system.svc.cluster.local (hop 1)
    alternatives:
      description: >-
        Where the other listeners the call can hit send it (for example C(0.0.0.0_443) when a VIP listener was
        reported), as sentences with the condition under which each applies.
      type: list
      elements: str
      sample: []
    paths:
      description:
        - Every listener the call can hit, the reported one first, as records with C(listener),
          C(listener_port), C(address), C(when) (the condition, null for the only path), C(matched),
          C(filter_chain), C(server_names), C(route), C(virtual_host), C(cluster), C(clusters),
          C(cluster_found), C(via_egress_gateway), C(direct) and C(evidence).
        - Traffic goes through the gateway whatever address the client resolves only when every path has
          C(via_egress_gateway=true).
      type: list
      elements: dict
      sample: []
    assumptions:
      description: >-
        What the answer takes for granted because the dump cannot tell (for example "the destination
        address is not known - taken to be outside 10.96.0.0/16, which 1 filter chain requires"). Empty when
        every criterion of the chains was decided.
      type: list
      elements: str
      sample: []
source:
  description: Where the dump came from, V(api), V(istioctl) or V(file).
  returned: always
  type: str
  sample: api
cmd:
  description: The command that produced the dump (run in the pod for V(api)).
  returned: when the dump was read live
  type: list
  elements: str
  sample: [pilot-agent, request, GET, config_dump]
raw:
  description: The whole decoded config dump.
  returned: when O(include_raw=true)
  type: dict
  sample: {configs: []}
"""

import ipaddress
import re
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube, pods
from ansible_collections.homelab.istio_egress.plugins.module_utils.envoy_config import (
    DEFAULT_EGRESS_GATEWAY_SERVICE,
    ConfigDumpError,
    parse_config_dump,
)

EXEC_COMMAND = ["pilot-agent", "request", "GET", "config_dump"]

# What container runtimes print when the binary is absent (runc/crun via the
# exec error channel, or a shell's own message).
_NO_BINARY = re.compile(r"executable file not found|no such file or directory|not found in \$PATH"
                        r"|pilot-agent: not found", re.IGNORECASE)
_FORBIDDEN = re.compile(r"\b403\b|forbidden", re.IGNORECASE)


class ReadError(Exception):
    """A live read failed; str(exc) is one sentence for fail_json."""

    def __init__(self, msg, **facts):
        super().__init__(msg)
        self.facts = facts


class Deadline:
    """The module's ``timeout``: what is left of it, for each call in turn."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self, doing):
        left = self.end - time.monotonic()
        if left <= 0:
            raise ReadError("the %s s timeout ran out before %s" % (self.seconds, doing))
        return left


def _first_line(text, limit=300):
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""


def find_proxy_container(pod, container):
    """Return the container's kind ('container' or 'native-sidecar', module_utils/pods.py) or raise ReadError."""
    kind = pods.proxy_kind(pod, container)
    if kind is None:
        meta = pod.get("metadata") or {}
        raise ReadError("pod %s/%s has no container %r (containers: %s): is the Istio sidecar injected, or is the "
                        "proxy container named differently?" % (meta.get("namespace"), meta.get("name"), container,
                                                                ", ".join(pods.container_names(pod)) or "none"))
    return kind


def read_dump_api(core, namespace, pod_name, container, timeout):
    """Read the config dump through the API exec within ``timeout`` seconds; raise ReadError with one sentence."""
    what = "pod %s/%s" % (namespace, pod_name)
    deadline = timeout if isinstance(timeout, Deadline) else Deadline(timeout)
    server = kube.server_of(core)
    try:
        left = deadline.remaining("reading %s" % what)
        pod = core.read_namespaced_pod(name=pod_name, namespace=namespace,
                                       _request_timeout=kube.request_timeout(left))
    except ReadError:
        raise
    except Exception as exc:
        raise ReadError(kube.describe_api_error(exc, what, server, deadline.seconds)) from None
    find_proxy_container(kube.plain(core, pod), container)
    try:
        left = deadline.remaining("the exec in %s" % what)
        rc, out, err = kube.exec_in_pod(core, namespace, pod_name, container, EXEC_COMMAND, timeout=left)
    except kube.KubeError as exc:
        text = to_native(exc)
        if _NO_BINARY.search(text):
            raise ReadError("container %s in %s has no pilot-agent, so it is not an Istio proxy container: %s"
                            % (container, what, text[:300])) from None
        if _FORBIDDEN.search(text) and "pods/exec" not in text:
            raise ReadError("forbidden: create pods/exec in namespace %s (HTTP 403): exec in container %s of %s "
                            "was denied: %s" % (namespace, container, what, text[:300])) from None
        raise ReadError(text) from None
    if rc not in (0, None) or (rc is None and not out.strip()):
        detail = _first_line(err) or _first_line(out) or "no output"
        if _NO_BINARY.search(err or "") or _NO_BINARY.search(out or ""):
            raise ReadError("container %s in %s has no pilot-agent, so it is not an Istio proxy container: %s"
                            % (container, what, detail), rc=rc, stderr=err)
        raise ReadError("'%s' failed in container %s of %s (rc=%s): %s"
                        % (" ".join(EXEC_COMMAND), container, what, rc, detail), rc=rc, stderr=err)
    return out


def read_dump_istioctl(module, namespace, pod_name, auth, timeout):
    istioctl = module.get_bin_path("istioctl")
    if not istioctl:
        raise ReadError("source=istioctl was requested but istioctl is not on PATH; use source=api, which "
                        "needs no istioctl")
    cmd = [istioctl, "proxy-config", "all", "%s.%s" % (pod_name, namespace), "-o", "json"]
    kubeconfig, context = auth.get("kubeconfig"), auth.get("context")
    if kubeconfig is not None and not isinstance(kubeconfig, str):
        raise ReadError("source=istioctl needs kubeconfig as a file path, not a %s" % type(kubeconfig).__name__)
    if kubeconfig:
        cmd += ["--kubeconfig", kube.kubeconfig_path(kubeconfig)]
    if context:
        cmd += ["--context", context]
    # istioctl has no overall timeout of its own: coreutils timeout bounds it
    # (TERM, then KILL 5 s later), so a silent API server cannot hang the task.
    bounded = cmd
    limiter = module.get_bin_path("timeout")
    if limiter:
        bounded = [limiter, "-k", "5", str(int(timeout)), *cmd]
    # Stable locale: the error text below is matched in English.
    rc, out, err = module.run_command(bounded, environ_update={"LC_ALL": "C", "LANG": "C"})
    if limiter and rc in (124, 137):
        raise ReadError("istioctl proxy-config all did not finish within the %s s timeout for pod %s/%s"
                        % (int(timeout), namespace, pod_name), rc=rc, stderr=err, cmd=cmd)
    if rc != 0:
        detail = _first_line(err) or _first_line(out) or "no output"
        if "not found" in detail.lower() and pod_name in detail:
            msg = "pod %s/%s was not found (istioctl): %s" % (namespace, pod_name, detail)
        elif _FORBIDDEN.search(detail):
            msg = "access was denied to istioctl reading pod %s/%s (check the RBAC of the kubeconfig's user): %s" \
                % (namespace, pod_name, detail)
        else:
            msg = "istioctl proxy-config all failed for pod %s/%s (rc=%s): %s" % (namespace, pod_name, rc, detail)
        raise ReadError(msg, rc=rc, stderr=err, cmd=cmd)
    return out, cmd


def main():
    argument_spec = {
        "pod": {"type": "str"},
        "namespace": {"type": "str"},
        "container": {"type": "str", "default": "istio-proxy"},
        "source": {"type": "str", "default": "api", "choices": ["api", "istioctl"]},
        "src": {"type": "path"},
        "host": {"type": "str"},
        "port": {"type": "int", "default": 443},
        "address": {"type": "str"},
        "protocol": {"type": "str", "default": "auto", "choices": ["auto", "tls", "http"]},
        "egress_gateway_service": {"type": "str", "default": DEFAULT_EGRESS_GATEWAY_SERVICE},
        "include_raw": {"type": "bool", "default": False},
        "timeout": {"type": "int", "default": 60},
    }
    argument_spec.update(kube.AUTH_ARG_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["src", "pod"]],
        required_one_of=[["src", "pod"]],
        required_by={"pod": "namespace"},
        supports_check_mode=True,
    )
    p = module.params
    if not 1 <= p["port"] <= 65535:
        module.fail_json(msg="port must be between 1 and 65535, got %d" % p["port"])
    if p["host"] is not None and not p["host"].strip():
        module.fail_json(msg="host must not be empty; omit it to skip the destination analysis")
    if p["address"] is not None and p["host"] is None:
        module.fail_json(msg="address needs host: it is the IP address the client connects to for host")
    if p["address"] is not None:
        try:
            ipaddress.ip_address(p["address"].strip())
        except ValueError:
            module.fail_json(msg="address must be an IP address (the one the client connects to), not %r"
                             % p["address"])
    if not (p["egress_gateway_service"] or "").strip():
        module.fail_json(msg="egress_gateway_service must not be empty")
    if p["timeout"] < 1:
        module.fail_json(msg="timeout must be at least 1 second, got %d" % p["timeout"])

    result = {"changed": False}
    if p["src"]:
        result["source"] = "file"
        where = "file %s" % p["src"]
        try:
            with open(p["src"], "rb") as f:
                data = f.read()
        except OSError as exc:
            module.fail_json(msg="cannot read src %s: %s" % (p["src"], exc.strerror or exc), **result)
    else:
        result["source"] = p["source"]
        where = "pod %s/%s" % (p["namespace"], p["pod"])
        auth = kube.auth_from_params(p)
        if p["source"] == "istioctl":
            unused = sorted(k for k in kube.AUTH_ARG_SPEC if k not in ("kubeconfig", "context") and p.get(k) is not None)
            if unused:
                module.fail_json(msg="source=istioctl takes only kubeconfig and context from the connection options; "
                                     "%s would be ignored: use source=api, or a kubeconfig" % ", ".join(unused),
                                 **result)
        try:
            if p["source"] == "istioctl":
                data, cmd = read_dump_istioctl(module, p["namespace"], p["pod"], auth, p["timeout"])
                result["cmd"] = cmd
            else:
                result["cmd"] = list(EXEC_COMMAND)
                core = kube.core_client(auth=auth, timeout=p["timeout"])
                # The deadline starts with the first network call: building the
                # client is local work (slow only on a starved CPU).
                data = read_dump_api(core, p["namespace"], p["pod"], p["container"], p["timeout"])
        except kube.KubeError as exc:
            module.fail_json(msg=to_native(exc), **result)
        except ReadError as exc:
            result.update(exc.facts)
            module.fail_json(msg=to_native(exc), **result)

    try:
        cfg = parse_config_dump(data)
        data = None  # let the text go before the facts are built
        result.update(cfg.facts())
        if p["host"] is not None:
            result["destination"] = cfg.find_destination(p["host"], p["port"], p["egress_gateway_service"],
                                                         address=p["address"], protocol=p["protocol"])
    except ConfigDumpError as exc:
        module.fail_json(msg="%s: %s" % (where, to_native(exc)), **result)
    if p["include_raw"]:
        result["raw"] = cfg.dump
    module.exit_json(**result)


if __name__ == "__main__":
    main()
