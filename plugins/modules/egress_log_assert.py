#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: egress_log_assert
short_description: Assert that Envoy access logs show (or do not show) traffic to an external host
version_added: 0.1.0
description:
  - Reads Envoy/Istio access logs and checks that they hold entries for O(host) and O(port) (or none,
    with O(expect=absent)), then returns the entries and the facts around them for a playbook to
    check with M(ansible.builtin.assert).
  - The typical use is the proof that external HTTPS traffic leaves through the egress gateway. In
    TLS passthrough the gateway log shows a line with the requested server name (SNI) O(host) and
    the upstream cluster C(outbound|443||HOST).
  - Reads the logs of B(every) pod that matches O(selector) (an egress gateway usually has
    several replicas and a request lands on one of them), or of one O(pod). Or reads offline input,
    exactly one of O(src), O(content) or O(lines).
  - 'Which proxy wrote a line is told from the line itself and returned as RV(entries[].hop):
    C(gateway) (hop 2 at a gateway: the connection arrived at the proxy''s own IP, on its listener
    port such as 8443, 15443 or 443, and left from that same IP: downstream local IP = upstream local
    IP, and the local address is not the upstream host), C(client) (hop 1: a sidecar sending to the
    egress gateway Service, cluster C(outbound|443|SUBSET|istio-egressgateway...), its downstream local
    address the original destination), C(sidecar_direct) (a sidecar sending to the destination itself:
    its downstream local address is the original destination, not its own IP), C(passthrough)
    (C(PassthroughCluster)), C(blackhole) (C(BlackHoleCluster)), C(inbound) (C(inbound|...),
    C(InboundPassthroughCluster)) and C(unknown) when a field the rule needs is missing (for example
    no upstream local address after a connect failure, or no cluster). An ambiguous line is never
    C(gateway). The line cannot tell an egress from an ingress gateway: O(selector) chooses the pods.'
  - 'O(hop) says which entries count (default V(gateway)). An entry matches when every name it
    shows agrees with O(host) (its SNI, its authority without port and, except at hop 1, the host of
    its cluster C(outbound|PORT|SUBSET|HOST)) and its port is O(port). The port is the cluster''s;
    at hop 1 and for the pass-through clusters it is the original destination''s (downstream local
    address). A line whose SNI is O(host) but whose cluster is another host, or whose cluster is on
    another port, does not match.'
  - 'O(expect=absent) passes only when no entry matches B(and) every log was read completely B(and)
    nothing read leaves a doubt. It does not pass (RV(reason) says why) when a line holds O(host) but
    cannot be parsed (a line cut or wrapped by a terminal), an entry names O(host) but another of its
    names disagrees, an entry for O(host) cannot be placed in time (no start time with O(since_time)),
    an entry''s hop cannot be told, a replica could not be read (not Ready, evicted) or its read was
    cut by O(max_bytes) or broke off. What absence proves: over the window read, the pods read did not
    log a connection to O(host):O(port) at the chosen hop. It cannot prove that traffic did not leave
    another way (another gateway, a pod without a proxy, a host reached by IP), nor anything about
    lines older than the log retention of the pods or written after the read.'
  - Parses every default TEXT format Istio has used (pre-1.1 through 1.30, and Envoy's built-in
    default) and the JSON encoding, lines without the timestamp prefix, trailing spaces, C(envoy://)
    addresses and C(-) fields. Lines that are not access-log entries (istio-agent and Envoy messages)
    are counted in RV(lines_unparsed), they are not errors.
  - 'Also reads: C(kubectl logs --prefix) and C(--timestamps) output (the prefixes are stripped; the
    kubelet''s time stands in for a missing start time), pretty-printed JSON objects, C(\u) escapes in
    JSON strings, CR LF and CR-only line ends, a C(") inside a User-Agent (Envoy does not escape it).
    A byte that is not UTF-8 is replaced (U+FFFD) in its own line. JSON entries read with
    O(format=text) are refused with one sentence.'

  - Host names in the log are compared as logged. Istio host names are lower case; O(host) is
    lower-cased for you.
  - Never changes anything. When the expectation fails the task fails (unless
    O(fail_on_mismatch=false)), with one sentence in RV(msg) and all the facts below still returned.
  - Live reads are streamed (memory stays at one read block per pod), bounded by O(max_bytes) and
    O(timeout). A replica that is not Ready (Pending, or evicted, whose log read the API answers with
    400) is reported in RV(pods) with its error; a B(Ready) replica whose log cannot be read fails the
    task.
author:
  - homelab platform engineers (!UNKNOWN)
options:
  host:
    description:
      - The external host name to look for, for example V(httpbin.org). No scheme, no port.
    type: str
    required: true
  port:
    description:
      - The port the traffic went to (1-65535).
    type: int
    default: 443
  expect:
    description:
      - V(present) passes when at least O(min_count) entries match and all of them have allowed
        response flags.
      - V(absent) passes when no entry matches (O(min_count) and O(allowed_response_flags) do not
        apply).
    type: str
    choices: [present, absent]
    default: present
  min_count:
    description:
      - The number of matching entries V(present) needs (at least 1).
    type: int
    default: 1
  since_time:
    description:
      - An RFC 3339 timestamp, for example V(2026-01-31T12:00:00Z) or the
        C(ansible_date_time.iso8601) of a task run before the traffic.
      - Entries with an earlier C(start_time), and entries without one (a line pasted without its
        timestamp), do not count.
      - Live reads also pass it to the Kubernetes API as C(sinceSeconds), with 60 seconds of margin
        for clock skew between the control node and the node.
    type: str
  allowed_response_flags:
    description:
      - Envoy response flags a matching entry may have. V(-) means none; V(*) allows any.
      - An entry with other flags (for example C(UF,URX), C(UH), C(NR)) is still counted and returned,
        and fails the check with O(expect=present).
      - Combined flags such as C(UF,URX) are allowed when each flag is allowed, or when the
        combination is listed as is.
    type: list
    elements: str
    default: ['-']
  format:
    description:
      - The access-log encoding. V(auto) reads lines that start with C({) as JSON and the others as
        TEXT.
    type: str
    choices: [auto, text, json]
    default: auto
  hop:
    description:
      - Which entries count. V(gateway) (hop 2 at a gateway; what the gateway pods log), V(client)
        (hop 1 at a client sidecar, to the egress gateway Service), V(any) (every entry, whatever its
        hop, V(unknown) included).
      - Entries for O(host):O(port) from other hops are counted in RV(other_hops), not in RV(count).
    type: str
    choices: [gateway, client, any]
    default: gateway
  client_ip:
    description:
      - Only V(gateway) entries whose downstream remote address has this IP count (the client pod's IP;
        at the gateway the downstream remote address is the client sidecar). Entries of other clients
        are counted in RV(other_clients); a gateway entry without a downstream remote address leaves
        O(expect=absent) unproved.
      - Entries of other hops are not filtered by it.
    type: str
  gateway_service:
    description:
      - The egress gateway Service's name (FQDN, C(NAME.NAMESPACE) or C(NAME)), so that hop 1 entries to
        a gateway with another name than Istio's C(istio-egressgateway)/C(egressgateway) are told apart.
    type: str
  fail_on_mismatch:
    description:
      - When V(false), a failed expectation returns the facts and RV(passed=false) without failing the
        task (read and input errors still fail it), so a role needs no C(failed_when).
    type: bool
    default: true
  timeout:
    description:
      - Seconds for each API request of a live read to connect and for each read to return data, so a
        silent API server cannot hang the module. The client may retry a timed-out read a few times.
    type: int
    default: 30
  max_bytes:
    description:
      - The most bytes read from one pod's log (the kubelet is asked for no more). When the log of the
        window is longer, that pod's RV(pods) entry has C(complete=false) and O(expect=absent) cannot
        pass.
    type: int
    default: 268435456
  max_entries:
    description:
      - How many matching entries to return in RV(entries) at most. Entries with disallowed flags are
        kept first. V(0) returns none (the counts are still complete).
    type: int
    default: 20
  namespace:
    description:
      - Namespace of the pods to read (live input).
    type: str
    default: istio-system
  selector:
    description:
      - Label selector of the pods to read (live input). Every matching pod is read.
      - Ignored when O(pod) is given.
    type: str
    default: istio=egressgateway
  pod:
    description:
      - Name of one pod to read instead of the pods matching O(selector).
    type: str
  container:
    description:
      - The container whose log is read (live input). In pods with Istio's native sidecars (Kubernetes
        1.33 and later) C(istio-proxy) is an init container with C(restartPolicy) V(Always); it is found
        there too (an init container without it exits before the app starts and is not read).
    type: str
    default: istio-proxy
  src:
    description:
      - Path of an access-log file on the managed node to read instead of pods. Must be UTF-8 text.
    type: path
  content:
    description:
      - The access log as a string, instead of pods.
    type: str
  lines:
    description:
      - The access log as a list of lines, instead of pods, for example the C(log_lines) of
        M(kubernetes.core.k8s_log).
    type: list
    elements: str
extends_documentation_fragment:
  - homelab.istio_egress.kube_auth
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
notes:
  - Access logs are off by default in Istio (only the demo profile enables them). Enable them for
    the gateway with a C(telemetry.istio.io/v1) Telemetry resource using the built-in C(envoy)
    provider, or mesh-wide with C(meshConfig.accessLogFile=/dev/stdout). When no line is an
    access-log entry, RV(msg) says that logging may be off.
  - O(src), O(content), O(lines) and O(pod) are mutually exclusive. Without O(src), O(content) or
    O(lines) the module reads pods.
  - RV(other_hosts) is built from the last 5000 lines of each pod or input, which keeps the scan of
    a million-line log within a few times the time of C(grep -c).
  - An empty input (a file, string or list with no line) fails. Empty pod logs fail too, unless
    O(since_time) is given (no traffic since then can be the expected state).
seealso:
  - module: kubernetes.core.k8s_log
  - name: Istio egress gateways
    description: Routing external traffic through an egress gateway.
    link: https://istio.io/latest/docs/tasks/traffic-management/egress/egress-gateway/
"""

EXAMPLES = r"""
- name: Note the time before the test call
  ansible.builtin.set_fact:
    egress_check_start: "{{ now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ') }}"

- name: Call httpbin.org from a meshed pod
  kubernetes.core.k8s_exec:
    namespace: demo
    pod: curl
    container: curl
    command: curl -sS -o /dev/null -w '%{http_code}' https://httpbin.org/get

- name: The call left through the egress gateway (every replica is read)
  homelab.istio_egress.egress_log_assert:
    host: httpbin.org
    since_time: "{{ egress_check_start }}"
  register: gateway_log

- name: Assert on the facts
  ansible.builtin.assert:
    that:
      - gateway_log.passed
      - gateway_log.count >= 1
      - gateway_log.entries[0].upstream_cluster == 'outbound|443||httpbin.org'
      - gateway_log.entries[0].requested_server_name == 'httpbin.org'
      - gateway_log.response_flags.keys() | list == ['-']
    fail_msg: "{{ gateway_log.msg }}"

- name: A blocked host never reached the gateway (the facts, without failing the task)
  homelab.istio_egress.egress_log_assert:
    host: example.com
    expect: absent
    since_time: "{{ egress_check_start }}"
    fail_on_mismatch: false
  register: blocked

- name: Absence is proved only over logs read completely, with no doubtful line
  ansible.builtin.assert:
    that:
      - blocked.passed
      - blocked.complete
    fail_msg: "{{ blocked.msg }} / reason: {{ blocked.reason }} / other hosts: {{ blocked.other_hosts }}"

- name: Hop 1 in the client's own sidecar log, from that client only at the gateway
  homelab.istio_egress.egress_log_assert:
    namespace: demo
    pod: curl
    host: httpbin.org
    hop: client
    gateway_service: istio-egressgateway.istio-system.svc.cluster.local

- name: The gateway logged the call of this client pod (downstream remote address)
  homelab.istio_egress.egress_log_assert:
    host: httpbin.org
    client_ip: "{{ client_pod_ip }}"
    since_time: "{{ egress_check_start }}"

- name: Check a saved log file (offline), allowing one kind of upstream failure
  homelab.istio_egress.egress_log_assert:
    src: /tmp/egressgateway.log
    host: edition.cnn.com
    min_count: 2
    allowed_response_flags: ['-', 'UF,URX']

- name: Check lines fetched by kubernetes.core.k8s_log
  block:
    - name: Read one gateway pod
      kubernetes.core.k8s_log:
        namespace: istio-egress
        label_selectors: ['app=istio-egressgateway']
        container: istio-proxy
      register: gw_log

    - name: Assert on them
      homelab.istio_egress.egress_log_assert:
        lines: "{{ gw_log.log_lines }}"
        host: httpbin.org
"""

RETURN = r"""
passed:
  description:
    - Whether the expectation holds. The task fails when it does not, unless O(fail_on_mismatch=false).
    - With O(expect=absent) it is true only over input read completely with no doubt left (see RV(reason)).
  returned: always
  type: bool
  sample: true
complete:
  description: Whether every input was read completely (every pod's log of the window, within O(max_bytes)).
  returned: always
  type: bool
  sample: true
reason:
  description: With O(expect=absent) and no matching entry, why absence is not proved; null otherwise.
  returned: always
  type: str
  sample: "1 line holds example.com but is not an access-log entry"
hop:
  description: The O(hop) that counted.
  returned: always
  type: str
  sample: gateway
count:
  description: Number of entries at O(hop) that match O(host) and O(port) (since O(since_time)), whatever their flags.
  returned: always
  type: int
  sample: 2
entries:
  description:
    - Up to O(max_entries) matching entries, in log order; entries with disallowed flags are kept first.
    - Fields the log shows as C(-) are null, except RV(entries[].response_flags), which is C(-) when there are none.
  returned: always
  type: list
  elements: dict
  contains:
    start_time:
      description: START_TIME as logged (UTC), null for a line without it.
      type: str
      sample: "2024-01-11T21:09:42.835Z"
    pod:
      description: The pod the line came from, or the offline input (O(src) path, C(content), C(lines)).
      type: str
      sample: istio-egressgateway-7d4f8b9c6-x2x9k
    method:
      description: HTTP method, null for TCP/TLS passthrough.
      type: str
      sample: GET
    path:
      description: Request path (X-ENVOY-ORIGINAL-PATH or PATH).
      type: str
      sample: /politics
    protocol:
      description: HTTP protocol, null for TCP.
      type: str
      sample: HTTP/1.1
    response_code:
      description: HTTP status, C(0) for TCP.
      type: int
      sample: 0
    response_flags:
      description: Envoy response flags, C(-) for none.
      type: str
      sample: "-"
    bytes_received:
      description: Bytes received from the downstream.
      type: int
      sample: 839
    bytes_sent:
      description: Bytes sent to the downstream.
      type: int
      sample: 2504306
    duration_ms:
      description: Duration in milliseconds.
      type: int
      sample: 231
    authority:
      description: The :authority (Host) header, null for TLS passthrough.
      type: str
      sample: edition.cnn.com
    upstream_host:
      description: The upstream address.
      type: str
      sample: "151.101.195.5:443"
    upstream_cluster:
      description: The upstream cluster, C(outbound|PORT|SUBSET|HOST) for Istio services.
      type: str
      sample: "outbound|443||edition.cnn.com"
    requested_server_name:
      description: The TLS SNI the client sent.
      type: str
      sample: edition.cnn.com
    upstream_local_address:
      description: The local address of the upstream connection (the proxy's own IP and a port).
      type: str
      sample: "172.30.239.8:34470"
    downstream_local_address:
      description: The local address the connection arrived at.
      type: str
      sample: "172.30.239.8:443"
    downstream_remote_address:
      description: The address of the client (at a gateway, the sidecar or pod that sent it).
      type: str
      sample: "172.30.239.15:43956"
    route_name:
      description: The route name (formats of Istio 1.3 and later), null for none.
      type: str
      sample: default.forward-cnn-from-egress-gateway.0
    hop:
      description: Which proxy wrote the line, told from the line (see the description).
      type: str
      choices: [gateway, client, sidecar_direct, passthrough, blackhole, inbound, unknown]
      sample: gateway
pods:
  description:
    - Per pod (or offline input) C(lines) read, C(matches), C(read) (whether the log could be read at
      all), C(error) (one sentence or null; the API's answer, a read that broke off or timed out, a
      window cut by O(max_bytes)), C(complete) (the whole window was read).
    - C(ready) (the pod takes traffic, that is phase Running, condition Ready true, not being deleted) and C(phase) of
      live pods; null for offline input.
  returned: always
  type: dict
  sample:
    istio-egressgateway-7d4f8b9c6-x2x9k: {lines: 1520, matches: 2, read: true, error: null, complete: true,
                                          ready: true, phase: Running}
    istio-egressgateway-7d4f8b9c6-q8wzn: {lines: 0, matches: 0, read: false, complete: false, ready: false,
                                          phase: Failed, error: "reading the log of container istio-proxy in pod
                                          istio-system/istio-egressgateway-7d4f8b9c6-q8wzn failed (HTTP 400): ..."}
response_flags:
  description: Histogram of the response flags of the matching entries.
  returned: always
  type: dict
  sample: {"-": 1, "UF,URX": 1}
lines_total:
  description: Lines read (blank lines not counted).
  returned: always
  type: int
  sample: 3008
lines_unparsed:
  description:
    - Lines that are not access-log entries, such as istio-agent and Envoy messages, and lines with
      O(host) that start like an entry but do not parse.
  returned: always
  type: int
  sample: 41
lines_unparsed_with_host:
  description: Lines that hold O(host) but are not access-log entries (each leaves O(expect=absent) unproved).
  returned: always
  type: int
  sample: 0
uncertain:
  description: Lines that name O(host) but do not settle it (see RV(reason)); with O(expect=absent) any makes it fail.
  returned: always
  type: int
  sample: 0
uncertain_sample:
  description: The first few of them (at most 5), each with its C(reason) and C(line) (cut at 200 characters).
  returned: always
  type: list
  elements: dict
  sample: [{"reason": "its hop cannot be told from the line", "line": "[2024-01-11T21:09:42.835Z] ..."}]
other_hops:
  description: Entries that match O(host):O(port) but were written at another hop than O(hop), by hop.
  returned: always
  type: dict
  sample: {"sidecar_direct": 3}
other_clients:
  description: Gateway entries for O(host):O(port) from another client than O(client_ip).
  returned: always
  type: int
  sample: 0
unparsed_sample:
  description: The first few unparsed lines (at most 5, each cut at 200 characters).
  returned: always
  type: list
  elements: str
  sample:
    - "2021-03-26T00:03:54.637718Z\twarning\tenvoy config\tIgnoring unwatched type URL type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
other_hosts:
  description:
    - The hosts the most recent entries (last 5000 lines of each input, since O(since_time)) show
      instead, most frequent first, at most 10, for diagnosis. Empty when the check passed with
      O(expect=present) (the diagnosis is skipped to keep the scan near C(grep) speed).
    - O(host) at another hop is listed as C(HOST (HOP)).
    - An entry is listed under its authority, else its SNI, else its cluster's host, else its cluster
      name (C(PassthroughCluster)). O(host) on another port is listed as C(HOST:PORT).
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: The host name (or C(HOST:PORT), or a cluster name).
      type: str
      sample: example.com
    count:
      description: Entries seen for it.
      type: int
      sample: 3
  sample: [{"host": "example.com", "count": 3}, {"host": "httpbin.org:80", "count": 1}]
msg:
  description: One sentence, what was expected and what was seen.
  returned: always
  type: str
  sample: "0 entries for httpbin.org:443 in 2 pods since 2026-01-31T12:00:00Z (expected at least 1); seen: example.com \u00d73"
"""

import datetime
import math

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.homelab.istio_egress.plugins.module_utils import (
    access_log,
    kube,
)
from ansible_collections.homelab.istio_egress.plugins.module_utils import pods as pods_rules

# Clock skew between the control node and the kubelet must not cut off lines the
# start_time filter would keep: ask the API for a little more.
SINCE_MARGIN_SECONDS = 60
# A live read stops here (and asks the kubelet for no more): the module streams,
# so this bounds transfer and time, not memory. A cut window is not complete.
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


def _since_seconds(since):
    now = datetime.datetime.now(datetime.timezone.utc)
    return max(1, math.ceil((now - since).total_seconds()) + SINCE_MARGIN_SECONDS)


def _live_pods(core, namespace, selector, pod_name, timeout):
    """Return the pod objects to read (one named pod, or every pod matching the selector)."""
    request_timeout = kube.log_request_timeout(timeout)
    if pod_name:
        what = "pod %s/%s" % (namespace, pod_name)
        try:
            return [core.read_namespaced_pod(pod_name, namespace, _request_timeout=request_timeout)]
        except Exception as exc:
            raise kube.KubeError(kube.describe_api_error(exc, what))
    what = "pods with selector %r in namespace %s" % (selector, namespace)
    try:
        pods = core.list_namespaced_pod(namespace, label_selector=selector,
                                        _request_timeout=request_timeout).items
    except Exception as exc:
        # describe_api_error: HTTP status -> sentence; no status -> "could not reach the API"
        raise kube.KubeError(kube.describe_api_error(exc, what))
    if not pods:
        raise kube.KubeError("no pod matches selector %r in namespace %s: is the egress gateway "
                             "installed there, with that label?" % (selector, namespace))
    return sorted(pods, key=lambda p: p.metadata.name)


def _pod_blocks(core, namespace, name, container, since_seconds, params, info):
    """The blocks of one pod's log, read lazily as a bounded stream; a failed
    read is recorded in info (read/error/complete), not raised."""
    what = "the log of container %s in pod %s/%s" % (container, namespace, name)
    max_bytes = params["max_bytes"]
    try:
        resp = kube.open_pod_log(core, namespace, name, container, since_seconds=since_seconds,
                                 limit_bytes=max_bytes + 1, timeout=params["timeout"])
    except kube.KubeError as exc:
        info.update(read=False, complete=False, error=str(exc))
        return
    chunks = kube.log_chunks(resp, what)
    yield from access_log.stream_blocks(chunks, "the log of pod %s" % name, info, max_bytes)


def _live_sources(module, since):
    """[(pod name, blocks, info)] for every pod to read (info: ready, phase, read, error)."""
    params = module.params
    namespace, container = params["namespace"], params["container"]
    core = kube.core_client(auth=kube.auth_from_params(params))
    pods = _live_pods(core, namespace, params["selector"], params["pod"], params["timeout"])
    since_seconds = _since_seconds(since) if since else None
    sources = []
    for pod in pods:
        # The API's JSON shape, so Ready and the proxy's kind are module_utils/pods.py's rules.
        pod = kube.plain(core, pod)
        name = pod["metadata"]["name"]
        if pods_rules.proxy_kind(pod, container) is None:
            raise kube.KubeError(
                "pod %s/%s has no container %r (it has: %s): is the Istio proxy injected, or is "
                "this the gateway pod?" % (namespace, name, container,
                                           ", ".join(pods_rules.container_names(pod)) or "none"))
        phase = (pod.get("status") or {}).get("phase")
        info = {"ready": pods_rules.is_ready(pod), "phase": phase}
        if phase == "Pending":
            info.update(read=False, complete=False,
                        error="pod %s/%s is Pending: it has no log yet" % (namespace, name))
            sources.append((name, iter(()), info))
            continue
        sources.append((name, _pod_blocks(core, namespace, name, container, since_seconds, params, info),
                        info))
    return sources


def _offline_sources(params):
    """One source, named after the input: the src path, 'content' or 'lines'."""
    if params["src"] is not None:
        return [(params["src"], access_log.file_blocks(params["src"]))]
    if params["content"] is not None:
        return [("content", access_log.text_blocks(params["content"], "content"))]
    return [("lines", access_log.list_blocks(params["lines"], "lines"))]


def main():
    argument_spec = {
        "host": {"type": "str", "required": True},
        "port": {"type": "int", "default": 443},
        "expect": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "min_count": {"type": "int", "default": 1},
        "since_time": {"type": "str"},
        "allowed_response_flags": {"type": "list", "elements": "str", "default": ["-"]},
        "format": {"type": "str", "default": "auto", "choices": ["auto", "text", "json"]},
        "max_entries": {"type": "int", "default": 20},
        "hop": {"type": "str", "default": "gateway", "choices": ["gateway", "client", "any"]},
        "client_ip": {"type": "str"},
        "gateway_service": {"type": "str"},
        "fail_on_mismatch": {"type": "bool", "default": True},
        "timeout": {"type": "int", "default": 30},
        "max_bytes": {"type": "int", "default": DEFAULT_MAX_BYTES},
        "namespace": {"type": "str", "default": "istio-system"},
        "selector": {"type": "str", "default": "istio=egressgateway"},
        "pod": {"type": "str"},
        "container": {"type": "str", "default": "istio-proxy"},
        "src": {"type": "path"},
        "content": {"type": "str"},
        "lines": {"type": "list", "elements": "str"},
    }
    argument_spec.update(kube.AUTH_ARG_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("src", "content", "lines", "pod")],
        supports_check_mode=True,
    )
    params = module.params

    # Argument checks that the spec cannot express, before any read.
    try:
        access_log.normalize_host(params["host"])
        access_log.check_port(params["port"])
        since = access_log.parse_rfc3339(params["since_time"]) if params["since_time"] else None
        if params["client_ip"]:
            access_log.check_ip(params["client_ip"])
    except access_log.AccessLogError as exc:
        module.fail_json(msg=str(exc), changed=False)
    if params["min_count"] < 1:
        module.fail_json(msg="min_count must be at least 1, not %d" % params["min_count"], changed=False)
    if params["max_entries"] < 0:
        module.fail_json(msg="max_entries must not be negative", changed=False)
    if params["timeout"] < 1:
        module.fail_json(msg="timeout must be at least 1 second, not %d" % params["timeout"], changed=False)
    if params["max_bytes"] < 1:
        module.fail_json(msg="max_bytes must be at least 1, not %d" % params["max_bytes"], changed=False)

    live = params["src"] is None and params["content"] is None and params["lines"] is None
    gateway_hosts = [params["gateway_service"]] if params["gateway_service"] else []
    try:
        if live:
            sources = _live_sources(module, since)
        else:
            sources = _offline_sources(params)
        facts = access_log.assess(
            sources,
            host=params["host"],
            port=params["port"],
            expect=params["expect"],
            min_count=params["min_count"],
            since_time=params["since_time"],
            allowed_response_flags=params["allowed_response_flags"],
            fmt=params["format"],
            max_entries=params["max_entries"],
            kind="pod" if live else "offline",
            allow_empty=live and since is not None,
            hop=params["hop"],
            client_ip=params["client_ip"],
            gateway_hosts=gateway_hosts,
        )
    except (access_log.AccessLogError, kube.KubeError) as exc:
        module.fail_json(msg=str(exc), changed=False)

    if facts["lines_total"] and facts["lines_total"] == facts["lines_unparsed"]:
        module.warn("none of the %d lines read is an access-log entry: access logging may be off "
                    "(meshConfig.accessLogFile or a Telemetry resource with the envoy provider)"
                    % facts["lines_total"])
    msg = facts.pop("msg")
    # A replica that is not Ready (Pending, evicted: the API answers 400) is a
    # fact for the caller; a Ready replica whose log cannot be read is an error.
    broken = [(name, stats) for name, stats in sorted(facts["pods"].items()) if stats.get("error")]
    for name, stats in broken:
        if not stats.get("ready"):
            module.warn("pod %s (not Ready, phase %s): %s" % (name, stats.get("phase"), stats["error"]))
    cut = {s[0] for s in sources if len(s) > 2 and s[2].get("truncated")} if live else set()
    ready_broken = [(name, stats) for name, stats in broken if stats.get("ready") and name not in cut]
    if ready_broken:
        name, stats = ready_broken[0]
        module.fail_json(msg="the log of Ready pod %s could not be read completely: %s" % (name, stats["error"]),
                         changed=False, **facts)
    if not facts["passed"] and params["fail_on_mismatch"]:
        module.fail_json(msg=msg, changed=False, **facts)
    module.exit_json(msg=msg, changed=False, **facts)


if __name__ == "__main__":
    main()
