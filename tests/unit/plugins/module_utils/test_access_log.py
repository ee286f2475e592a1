# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of module_utils/access_log.py (no Ansible needed).

REAL: the lines of fixtures/access_logs/*.log (PROVENANCE.md there); every
expected value below is read off those lines.
SYNTHETIC: lines of a format no real fixture has (Istio 1.1's mixer status,
Envoy's built-in default, the JSON encoding, ...) rendered by render_format()
from the format strings of fixtures/formats/ with the values of a REAL line,
and variations of a real line (trailing spaces, envoy:// upstream); their test
names say synthetic.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import datetime
import json
import os
import re
import sys
import tracemalloc

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils import (
    access_log as al,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import access_log_corpus as corpus  # test helper next to this file

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, "fixtures", "access_logs")
FORMATS = os.path.join(HERE, "fixtures", "formats")


def real_lines(name):
    with open(os.path.join(LOGS, name), encoding="utf-8") as handle:
        return handle.read().splitlines()


def real_line(name, index):
    return real_lines(name)[index]


def assess_file(name, host, **kwargs):
    kwargs.setdefault("kind", "offline")
    return al.assess([(name, al.file_blocks(os.path.join(LOGS, name)))], host, **kwargs)


def assess_text(text, host, **kwargs):
    kwargs.setdefault("kind", "offline")
    return al.assess([("content", al.text_blocks(text))], host, **kwargs)


# --------------------------------------------------------------------------- REAL lines, field by field

GW = "istioio-egress-gateway-snips-2024.log"
SIDECAR_2019 = "istioio-egress-control-sidecar-snips.log"
TLS_ORIG = "istioio-egress-gateway-tls-origination.log"
SNI_BLOG = "istioio-blog-egress-sni-sidecar.log"
T418 = "istioio-access-log-task-418.log"
UFURX = "gh-istio-56356-sidecar-uf-urx-inboundpassthrough.log"
NR = "gh-envoy-15698-istio-1.9.1-ingressgw-nr.log"
NO_TS = "gh-istio-45802-uc-503-no-timestamp.log"

# (file, line index, expected fields): each value is in the real line.
REAL_CASES = [
    (GW, 1, {  # egress gateway, TLS passthrough, 1.9+ format
        "start_time": "2024-01-11T21:09:42.835Z", "method": None, "path": None, "protocol": None, "response_code": 0,
        "response_flags": "-", "bytes_received": 839, "bytes_sent": 2504306, "duration_ms": 231, "authority": None,
        "upstream_host": "151.101.195.5:443", "upstream_cluster": "outbound|443||edition.cnn.com",
        "requested_server_name": "edition.cnn.com", "downstream_local_address": "172.30.239.8:443",
        "downstream_remote_address": "172.30.239.15:43956", "route_name": None}),
    (GW, 0, {  # egress gateway, HTTP via a Gateway-API route
        "start_time": "2024-01-09T15:35:47.283Z", "method": "GET", "path": "/politics", "protocol": "HTTP/1.1",
        "response_code": 301, "response_flags": "-", "bytes_received": 0, "bytes_sent": 0, "duration_ms": 2,
        "authority": "edition.cnn.com", "upstream_host": "151.101.195.5:80",
        "upstream_cluster": "outbound|80||edition.cnn.com", "requested_server_name": None,
        "downstream_local_address": "172.30.239.16:80", "downstream_remote_address": "172.30.239.55:59224",
        "route_name": "default.forward-cnn-from-egress-gateway.0"}),
    (SIDECAR_2019, 0, {  # pre-1.1 HTTP format, 2019: no route name field
        "start_time": "2019-01-24T12:17:11.640Z", "method": "GET", "path": "/headers", "protocol": "HTTP/1.1",
        "response_code": 200, "response_flags": "-", "bytes_received": 0, "bytes_sent": 599, "duration_ms": 214,
        "authority": "httpbin.org", "upstream_host": "35.173.6.94:80", "upstream_cluster": "outbound|80||httpbin.org",
        "requested_server_name": None, "downstream_local_address": "35.173.6.94:80",
        "downstream_remote_address": "172.30.109.82:55314", "route_name": None}),
    (SIDECAR_2019, 1, {
        "start_time": "2019-01-24T12:48:54.977Z", "response_code": 0, "bytes_received": 601, "bytes_sent": 17766,
        "duration_ms": 1289, "upstream_cluster": "outbound|443||www.google.com",
        "requested_server_name": "www.google.com", "downstream_local_address": "172.217.161.36:443",
        "route_name": None}),
    (TLS_ORIG, 0, {  # 1.3-1.7 format (mixer status and transport failure reason quoted)
        "start_time": "2020-06-30T16:17:56.763Z", "method": "GET", "path": "/politics", "protocol": "HTTP/2",
        "response_code": 200, "bytes_received": 0, "bytes_sent": 1295938, "duration_ms": 529,
        "authority": "edition.cnn.com", "upstream_host": "151.101.129.67:443",
        "upstream_cluster": "outbound|443||edition.cnn.com", "requested_server_name": None,
        "downstream_local_address": "10.244.0.170:8080", "route_name": None}),
    (TLS_ORIG, 2, {
        "authority": "my-nginx.mesh-external.svc.cluster.local",
        "upstream_cluster": "outbound|443||my-nginx.mesh-external.svc.cluster.local",
        "requested_server_name": "my-nginx.mesh-external.svc.cluster.local",
        "route_name": "default.forward-nginx-from-egress-gateway.0", "bytes_sent": 615}),
    (SNI_BLOG, 0, {  # sidecar -> egress gateway, hop 1, with a subset
        "upstream_cluster": "outbound|443|wildcard|egressgateway.istio-egress.svc.cluster.local",
        "requested_server_name": "en.wikipedia.org", "upstream_host": "172.17.5.170:8443",
        "bytes_received": 813, "bytes_sent": 111152}),
    (SNI_BLOG, 2, {"upstream_cluster": "PassthroughCluster", "requested_server_name": "cloud.ibm.com",
                   "upstream_host": "104.102.54.251:443"}),
    (T418, 1, {  # inbound: the mTLS SNI and an inbound cluster without host
        "response_code": 418, "upstream_cluster": "inbound|8000||", "authority": "httpbin:8000",
        "requested_server_name": "outbound_.8000_._.httpbin.foo.svc.cluster.local", "route_name": "default",
        "upstream_host": "127.0.0.1:80"}),
    (UFURX, 0, {"response_flags": "UF,URX", "duration_ms": 9995, "upstream_cluster": "InboundPassthroughCluster",
                "requested_server_name": "api.github.com", "downstream_local_address": "4.208.26.200:443"}),
    (NR, 0, {  # every field '-': no upstream at all
        "response_code": 0, "response_flags": "NR", "authority": None, "upstream_host": None, "upstream_cluster": None,
        "requested_server_name": None, "downstream_local_address": "100.97.92.14:8443", "route_name": None}),
    (NR, 1, {"method": "GET", "path": "/.env", "response_code": 404, "response_flags": "NR",
             "authority": "34.213.68.78", "downstream_remote_address": "100.117.94.128:49723"}),
    (NO_TS, 0, {  # pasted without its [START_TIME]
        "start_time": None, "method": "GET", "path": "/v1/status", "response_code": 503, "response_flags": "UC",
        "bytes_sent": 95, "authority": "health.abc.com", "upstream_host": "10.80.47.192:8181",
        "upstream_cluster": "outbound|80||health-api.production.svc.cluster.local"}),
]


@pytest.mark.parametrize("name,index,expected", REAL_CASES,
                         ids=["%s:%d" % (c[0][:28], c[1]) for c in REAL_CASES])
def test_real_line_fields(name, index, expected):
    entry = al.parse_line(real_line(name, index))
    assert entry is not None
    assert tuple(entry) == al.ENTRY_KEYS
    for key, value in expected.items():
        assert entry[key] == value, key


def test_every_real_access_line_parses_and_only_the_agent_line_does_not():
    unparsed = []
    for name in sorted(os.listdir(LOGS)):
        if name.endswith(".log"):
            unparsed += [line for line in real_lines(name) if al.parse_line(line) is None]
    assert unparsed == [real_line(NR, 3)]
    assert unparsed[0].startswith("2021-03-26T00:03:54.637718Z\twarning\tenvoy config")


def test_synthetic_trailing_spaces_and_crlf_keep_the_fields():
    line = real_line(GW, 1)
    want = al.parse_line(line)
    assert al.parse_line(line + "   ") == want
    assert al.parse_line(line + "\r\n") == want


def test_synthetic_envoy_internal_address():
    # The REAL TLS line with its upstream host replaced by an internal-listener
    # address, as ambient/waypoint proxies log them.
    line = real_line(GW, 1).replace('"151.101.195.5:443" outbound|443||edition.cnn.com',
                                    '"envoy://connect_originate/151.101.195.5:443" -')
    entry = al.parse_line(line)
    assert entry["upstream_host"] == "envoy://connect_originate/151.101.195.5:443"
    assert entry["upstream_cluster"] is None
    assert al.entry_port(entry) == 443
    facts = assess_text(line, "edition.cnn.com")
    assert facts["count"] == 1 and facts["passed"]


# --------------------------------------------------------------------------- every format Istio has used

def _formats():
    """(title, format string) for every format in the fixtures file."""
    found, title = [], None
    with open(os.path.join(FORMATS, "istio-default-text-access-log-formats.txt"), encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("## ") and not line.startswith("## ref=") and not line.startswith("## source"):
                title = line[3:].strip()
            elif line.startswith("'"):
                found.append((title, ast.literal_eval(line.strip()).rstrip("\n")))
    return found


FORMAT_STRINGS = _formats()

# Values of two REAL lines, per Envoy operator (read off the lines above).
TLS_VALUES = {  # GW line 1: egress gateway TLS passthrough
    "START_TIME": "2024-01-11T21:09:42.835Z", "REQ(:METHOD)": "-", "REQ(X-ENVOY-ORIGINAL-PATH?:PATH)": "-",
    "PROTOCOL": "-", "RESPONSE_CODE": "0", "RESPONSE_FLAGS": "-", "RESPONSE_CODE_DETAILS": "-",
    "CONNECTION_TERMINATION_DETAILS": "-", "UPSTREAM_TRANSPORT_FAILURE_REASON": "-",
    "DYNAMIC_METADATA(istio.mixer:status)": "-", "BYTES_RECEIVED": "839", "BYTES_SENT": "2504306",
    "DURATION": "231", "RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)": "-", "REQ(X-FORWARDED-FOR)": "-",
    "REQ(USER-AGENT)": "-", "REQ(X-REQUEST-ID)": "-", "REQ(:AUTHORITY)": "-",
    "UPSTREAM_HOST": "151.101.195.5:443", "UPSTREAM_CLUSTER": "outbound|443||edition.cnn.com",
    "UPSTREAM_CLUSTER_RAW": "outbound|443||edition.cnn.com", "UPSTREAM_LOCAL_ADDRESS": "172.30.239.8:34470",
    "DOWNSTREAM_LOCAL_ADDRESS": "172.30.239.8:443", "DOWNSTREAM_REMOTE_ADDRESS": "172.30.239.15:43956",
    "REQUESTED_SERVER_NAME": "edition.cnn.com", "ROUTE_NAME": "-",
}
HTTP_VALUES = {  # TLS_ORIG line 1: egress gateway, TLS origination, HTTP
    "START_TIME": "2024-03-14T18:37:01.451Z", "REQ(:METHOD)": "GET", "REQ(X-ENVOY-ORIGINAL-PATH?:PATH)": "/politics",
    "PROTOCOL": "HTTP/1.1", "RESPONSE_CODE": "200", "RESPONSE_FLAGS": "-", "RESPONSE_CODE_DETAILS": "via_upstream",
    "CONNECTION_TERMINATION_DETAILS": "-", "UPSTREAM_TRANSPORT_FAILURE_REASON": "-",
    "DYNAMIC_METADATA(istio.mixer:status)": "-", "BYTES_RECEIVED": "0", "BYTES_SENT": "2484998",
    "DURATION": "59", "RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)": "37", "REQ(X-FORWARDED-FOR)": "172.30.239.26",
    "REQ(USER-AGENT)": "curl/7.87.0-DEV", "REQ(X-REQUEST-ID)": "b80c8732-8b10-4916-9a73-c3e1c848ed1e",
    "REQ(:AUTHORITY)": "edition.cnn.com", "UPSTREAM_HOST": "151.101.131.5:443",
    "UPSTREAM_CLUSTER": "outbound|443||edition.cnn.com", "UPSTREAM_CLUSTER_RAW": "outbound|443||edition.cnn.com",
    "UPSTREAM_LOCAL_ADDRESS": "172.30.239.33:51270", "DOWNSTREAM_LOCAL_ADDRESS": "172.30.239.33:80",
    "DOWNSTREAM_REMOTE_ADDRESS": "172.30.239.26:35192", "REQUESTED_SERVER_NAME": "edition.cnn.com",
    "ROUTE_NAME": "default.forward-cnn-from-egress-gateway.0",
}
# entry key -> operator
ENTRY_OPERATOR = {
    "start_time": "START_TIME", "method": "REQ(:METHOD)", "path": "REQ(X-ENVOY-ORIGINAL-PATH?:PATH)",
    "protocol": "PROTOCOL", "response_code": "RESPONSE_CODE", "response_flags": "RESPONSE_FLAGS",
    "bytes_received": "BYTES_RECEIVED", "bytes_sent": "BYTES_SENT", "duration_ms": "DURATION",
    "authority": "REQ(:AUTHORITY)", "upstream_host": "UPSTREAM_HOST",
    "upstream_cluster": ("UPSTREAM_CLUSTER", "UPSTREAM_CLUSTER_RAW"),
    "requested_server_name": "REQUESTED_SERVER_NAME",
    "downstream_local_address": "DOWNSTREAM_LOCAL_ADDRESS",
    "downstream_remote_address": "DOWNSTREAM_REMOTE_ADDRESS", "route_name": "ROUTE_NAME",
}
_OPERATOR = re.compile(r"%([A-Z_]+(?:\([^)]*\))?)%")


def render_format(fmt, values):
    """SYNTHETIC: a line in format `fmt` carrying the values of a REAL line."""
    return _OPERATOR.sub(lambda m: values[m.group(1)], fmt)


def expected_entry(fmt, values):
    operators = set(_OPERATOR.findall(fmt))
    want = {}
    for key, ops in ENTRY_OPERATOR.items():
        ops = ops if isinstance(ops, tuple) else (ops,)
        present = [op for op in ops if op in operators]
        if not present:
            want[key] = "-" if key == "response_flags" else None
            continue
        raw = values[present[0]]
        if key in ("response_code", "bytes_received", "bytes_sent", "duration_ms"):
            want[key] = None if raw == "-" else int(raw)
        elif key == "response_flags":
            want[key] = raw
        else:
            want[key] = None if raw == "-" else raw
    return want


def test_formats_fixture_has_every_version():
    titles = " / ".join(title for title, _fmt in FORMAT_STRINGS)
    assert len(FORMAT_STRINGS) == 11
    for version in ("pre-1.1", "1.1.0", "1.2.0", "1.3-1.7", "1.8.0", "1.9.0", "1.22.0", "1.23.0", "1.30.0",
                    "Envoy built-in"):
        assert version in titles


@pytest.mark.parametrize("values", [TLS_VALUES, HTTP_VALUES], ids=["tls-passthrough", "http"])
@pytest.mark.parametrize("title,fmt", FORMAT_STRINGS, ids=[title.split(" (")[0] for title, _fmt in FORMAT_STRINGS])
def test_synthetic_line_in_every_default_format(title, fmt, values):
    line = render_format(fmt, values)
    want = expected_entry(fmt, values)
    for variant in (line, line[line.index("] ") + 2:] if line.startswith("[") else line):
        entry = al.parse_line(variant)
        assert entry is not None, variant
        if variant is not line:
            want = dict(want, start_time=None)  # the same line pasted without its timestamp
        assert {k: entry[k] for k in want} == want, title


def test_synthetic_pre11_http_format_without_space_before_protocol():
    fmt = next(f for t, f in FORMAT_STRINGS if t.startswith("pre-1.1") and "HTTP listeners" in t)
    line = render_format(fmt, HTTP_VALUES)
    assert '"GET /politicsHTTP/1.1"' in line  # the missing space of the 2018 source
    entry = al.parse_line(line)
    assert (entry["method"], entry["path"], entry["protocol"]) == ("GET", "/politics", "HTTP/1.1")


def test_synthetic_alt_stat_cluster_name_of_upstream_cluster():
    # %UPSTREAM_CLUSTER% can print the alt stat name (why 1.23 moved to _RAW); the REAL
    # inbound 418 line shows that spelling as its SNI.
    line = render_format(FORMAT_STRINGS[5][1], dict(TLS_VALUES, UPSTREAM_CLUSTER="outbound_.443_._.edition.cnn.com"))
    facts = assess_text(line, "edition.cnn.com")
    assert facts["count"] == 1
    assert al.parse_cluster("outbound_.443_._.edition.cnn.com") == ("outbound", 443, "", "edition.cnn.com")


# --------------------------------------------------------------------------- JSON encoding

def _json_keys():
    keys = []
    with open(os.path.join(FORMATS, "istio-1.30-json-access-log-keys.tsv"), encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                key, operator = line.rstrip("\n").split("\t")
                keys.append((key, operator.strip("%")))
    return keys


JSON_KEYS = _json_keys()


def render_json(values, typed=True):
    """SYNTHETIC: the JSON encoding of a REAL line (Envoy types numbers; '-' is null)."""
    doc = {}
    for key, operator in JSON_KEYS:
        raw = values[operator]
        if raw == "-":
            doc[key] = None
        elif typed and key in ("response_code", "bytes_received", "bytes_sent", "duration"):
            doc[key] = int(raw)
        else:
            doc[key] = raw
    return json.dumps(doc, sort_keys=True)


@pytest.mark.parametrize("typed", [True, False], ids=["typed", "strings"])
@pytest.mark.parametrize("values,real", [(TLS_VALUES, (GW, 1)), (HTTP_VALUES, (TLS_ORIG, 1))],
                         ids=["tls-passthrough", "http"])
def test_synthetic_json_line_equals_its_real_text_line(values, real, typed):
    assert len(JSON_KEYS) == 24
    entry = al.parse_line(render_json(values, typed))
    assert entry == al.parse_line(real_line(*real))


def test_synthetic_json_log_through_assess_in_every_format_mode():
    text = "\n".join([render_json(TLS_VALUES), real_line(GW, 1), "not json {"])
    auto = assess_text(text, "edition.cnn.com")
    assert (auto["count"], auto["lines_total"], auto["lines_unparsed"]) == (2, 3, 1)
    only_json = assess_text(text, "edition.cnn.com", fmt="json")
    assert (only_json["count"], only_json["lines_unparsed"]) == (1, 2)
    assert only_json["entries"][0]["requested_server_name"] == "edition.cnn.com"
    only_text = assess_text(text, "edition.cnn.com", fmt="text")
    assert (only_text["count"], only_text["lines_unparsed"]) == (1, 2)


# --------------------------------------------------------------------------- decisions on REAL logs

# (file, host, port, options, count, passed, msg fragment)
DECISION_CASES = [
    (GW, "edition.cnn.com", 443, {}, 1, True, "1 entry for edition.cnn.com:443 in"),
    (GW, "edition.cnn.com", 80, {}, 1, True, "(expected at least 1; flags: - \u00d71)"),
    # other hosts are listed by name; only the wanted host gets its other ports spelled out
    (GW, "httpbin.org", 443, {}, 0, False, "(expected at least 1); seen: edition.cnn.com \u00d72"),
    (GW, "httpbin.org", 443, {"expect": "absent"}, 0, True, "as expected (absent)"),
    (GW, "edition.cnn.com", 443, {"expect": "absent"}, 1, False, "(expected none; flags: - \u00d71)"),
    (GW, "edition.cnn.com", 443, {"min_count": 2}, 1, False, "(expected at least 2)"),
    (SIDECAR_2019, "httpbin.org", 80, {}, 1, True, ""),
    (SIDECAR_2019, "www.google.com", 443, {}, 1, True, ""),
    (TLS_ORIG, "edition.cnn.com", 443, {}, 2, True, "2 entries"),
    (TLS_ORIG, "edition.cnn.com", 443, {"since_time": "2024-01-01T00:00:00Z"}, 1, True,
     "since 2024-01-01T00:00:00Z"),
    # the same instant in another zone, exactly the START_TIME of the 2024-03-14 line
    (TLS_ORIG, "edition.cnn.com", 443, {"since_time": "2024-03-14T19:37:01.451+01:00"}, 1, True, ""),
    (TLS_ORIG, "edition.cnn.com", 443, {"since_time": "2024-03-14T18:37:01.452Z"}, 0, False, ""),
    (SNI_BLOG, "en.wikipedia.org", 443, {}, 1, True, ""),
    (SNI_BLOG, "egressgateway.istio-egress.svc.cluster.local", 443, {}, 2, True, ""),
    (SNI_BLOG, "cloud.ibm.com", 443, {}, 1, True, ""),  # PassthroughCluster: port of the upstream host
    (T418, "httpbin.foo.svc.cluster.local", 8000, {}, 1, True, ""),  # not the inbound line
    (UFURX, "api.github.com", 443, {}, 4, False, "but 4 with response flags outside [-]: UF,URX \u00d74"),
    (UFURX, "api.github.com", 443, {"allowed_response_flags": ["-", "UF", "URX"]}, 4, True, ""),
    (UFURX, "api.github.com", 443, {"allowed_response_flags": ["UF,URX"]}, 4, True, ""),
    (UFURX, "api.github.com", 443, {"allowed_response_flags": ["*"]}, 4, True, ""),
    (UFURX, "api.github.com", 443, {"allowed_response_flags": ["-", "UF"]}, 4, False, "UF,URX \u00d74"),
    (NR, "34.213.68.78", 8080, {"allowed_response_flags": ["NR"]}, 2, True, ""),  # port of the local address
    (NR, "34.213.68.78", 443, {}, 0, False, "seen: 34.213.68.78:8080 \u00d72"),
    (NO_TS, "health.abc.com", 80, {}, 1, False, "UC \u00d71"),
    (NO_TS, "health.abc.com", 80, {"since_time": "2000-01-01T00:00:00Z"}, 0, False, ""),  # no time: no count
    (NO_TS, "health-api.production.svc.cluster.local", 80, {"allowed_response_flags": ["UC"]}, 1, True, ""),
]


@pytest.mark.parametrize("name,host,port,options,count,passed,fragment", DECISION_CASES,
                         ids=["%s-%s-%s-%d" % (c[0][:12], c[1], c[2], i) for i, c in enumerate(DECISION_CASES)])
def test_decision_on_real_log(name, host, port, options, count, passed, fragment):
    facts = assess_file(name, host, port=port, **options)
    assert facts["count"] == count
    assert facts["passed"] is passed
    assert fragment in facts["msg"]
    assert set(facts) == {"passed", "count", "entries", "pods", "response_flags", "lines_total",
                          "lines_unparsed", "unparsed_sample", "other_hosts", "msg"}
    assert sum(facts["response_flags"].values()) == count
    assert facts["pods"] == {name: {"lines": len([x for x in real_lines(name) if x.strip()]), "matches": count}}
    for entry in facts["entries"]:
        assert entry["pod"] == name
        assert host in (entry["requested_server_name"], al.authority_host(entry["authority"] or ""),
                        (al.parse_cluster(entry["upstream_cluster"]) or (0, 0, 0, ""))[3])


def test_gateway_tls_passthrough_entry_is_returned_whole():
    facts = assess_file(GW, "edition.cnn.com")
    assert facts["entries"] == [dict(al.parse_line(real_line(GW, 1)), pod=GW)]
    assert facts["response_flags"] == {"-": 1}
    assert facts["other_hosts"] == [{"host": "edition.cnn.com:80", "count": 1}]


def test_interleaved_istio_agent_line_is_counted_not_an_error():
    facts = assess_file(NR, "34.213.68.78", port=8080, allowed_response_flags=["NR"])
    assert (facts["lines_total"], facts["lines_unparsed"]) == (4, 1)
    assert facts["unparsed_sample"] == [real_line(NR, 3)]
    assert [e["path"] for e in facts["entries"]] == ["/.env", "/"]


def test_two_pods_and_the_msg_of_a_failed_check():
    sources = [("istio-egressgateway-a", al.file_blocks(os.path.join(LOGS, GW))),
               ("istio-egressgateway-b", al.file_blocks(os.path.join(LOGS, SNI_BLOG)))]
    facts = al.assess(sources, "httpbin.org", since_time="2023-01-01T00:00:00Z")
    assert facts["msg"] == ("0 entries for httpbin.org:443 in 2 pods since 2023-01-01T00:00:00Z (expected at "
                            "least 1); seen: edition.cnn.com \u00d72, cloud.ibm.com \u00d71, "
                            "de.wikipedia.org \u00d71, en.wikipedia.org \u00d71")
    assert facts["pods"] == {"istio-egressgateway-a": {"lines": 2, "matches": 0},
                             "istio-egressgateway-b": {"lines": 3, "matches": 0}}
    ok = al.assess([("a", al.file_blocks(os.path.join(LOGS, GW))), ("b", al.file_blocks(os.path.join(LOGS, TLS_ORIG)))],
                   "edition.cnn.com")
    assert ok["pods"] == {"a": {"lines": 2, "matches": 1}, "b": {"lines": 3, "matches": 2}}
    assert ok["msg"].startswith("3 entries for edition.cnn.com:443 in 2 pods")


def test_max_entries_keeps_disallowed_flags_first():
    lines = real_lines(SNI_BLOG) + real_lines(UFURX)  # 1 clean + 4 UF,URX... for different hosts
    text = "\n".join(lines + [real_line(GW, 1)])
    facts = assess_text(text, "api.github.com", max_entries=2)
    assert facts["count"] == 4 and len(facts["entries"]) == 2
    assert [e["start_time"] for e in facts["entries"]] == ["2025-05-19T13:09:04.747Z", "2025-05-19T13:09:46.752Z"]
    assert assess_text(text, "api.github.com", max_entries=0)["entries"] == []


def test_all_real_logs_together_keep_their_counts():
    text = "\n".join("\n".join(real_lines(name)) for name in sorted(os.listdir(LOGS)) if name.endswith(".log"))
    facts = assess_text(text, "edition.cnn.com")
    assert facts["count"] == 3  # gateway TLS line + two TLS-origination lines
    assert facts["lines_total"] == 21 and facts["lines_unparsed"] == 1


@pytest.mark.parametrize("text", ["A\nB", "A\nB\n", "A\n\nB\n\n\n", "\nA\r\n  \nB\n"])
def test_blank_lines_and_final_newlines_are_not_lines(text):
    text = text.replace("A", real_line(GW, 0)).replace("B", real_line(NR, 3))
    for source in (al.text_blocks(text), al.list_blocks(text.split("\n")), al.list_blocks([text])):
        facts = al.assess([("x", source)], "edition.cnn.com", port=80)
        assert (facts["lines_total"], facts["lines_unparsed"], facts["count"]) == (2, 1, 1)


def test_logging_off_is_said_in_msg():
    facts = assess_text(real_line(NR, 3) + "\n" + real_line(NR, 3), "httpbin.org")
    assert not facts["passed"]
    assert "no access-log entry among 2 lines (access logging may be off" in facts["msg"]


# --------------------------------------------------------------------------- the fast path keeps semantics

def reference(lines, host, port, since=None):
    """A slow, obvious implementation of the matching rules: parse every line."""
    count, flags = 0, {}
    for line in lines:
        entry = al.parse_line(line)
        if entry is None:
            continue
        if since and (not entry["start_time"] or al.parse_rfc3339(entry["start_time"]) < al.parse_rfc3339(since)):
            continue
        names = [entry["requested_server_name"], al.authority_host(entry["authority"]),
                 (al.parse_cluster(entry["upstream_cluster"]) or (None, None, None, None))[3]]
        if host not in names:
            continue
        cluster = al.parse_cluster(entry["upstream_cluster"])
        got = (cluster[1] if cluster and cluster[1] else None) or al.address_port(entry["upstream_host"]) \
            or al.address_port(entry["downstream_local_address"])
        if got == port:
            count += 1
            flags[entry["response_flags"]] = flags.get(entry["response_flags"], 0) + 1
    return count, flags


def test_fast_path_counts_like_a_full_parse_of_every_line():
    lines = []
    for name in sorted(os.listdir(LOGS)):
        if name.endswith(".log"):
            lines += real_lines(name)
    lines += [render_format(fmt, values) for _t, fmt in FORMAT_STRINGS for values in (TLS_VALUES, HTTP_VALUES)]
    lines += [render_json(TLS_VALUES), render_json(HTTP_VALUES)]
    hosts = set()
    for line in lines:
        entry = al.parse_line(line)
        if entry:
            hosts.update(h for h in al.entry_hosts(entry) if h and re.match(r"^[a-z0-9.-]+$", h))
    text = "\n".join(lines)
    checked = 0
    for host in sorted(hosts):
        for port in (80, 443, 8000, 8080):
            for since in (None, "2021-01-01T00:00:00Z"):
                facts = assess_text(text, host, port=port, since_time=since, allowed_response_flags=["*"])
                assert (facts["count"], facts["response_flags"]) == reference(lines, host, port, since), \
                    (host, port, since)
                checked += 1
    assert checked > 100


# --------------------------------------------------------------------------- streaming and memory

def test_lines_across_read_blocks(tmp_path, monkeypatch):
    text = "\n".join(real_lines(TLS_ORIG) * 50 + real_lines(NR) * 50) + "\n"
    path = tmp_path / "across.log"
    path.write_text(text, encoding="utf-8")
    want = assess_text(text, "edition.cnn.com", max_entries=1000)
    monkeypatch.setattr(al, "READ_BLOCK", 97)  # every line crosses a read boundary
    got = al.assess([("content", al.file_blocks(str(path)))], "edition.cnn.com", max_entries=1000, kind="offline")
    assert got == want
    assert got["count"] == 100 and got["lines_unparsed"] == 50


def test_synthetic_utf8_across_read_blocks(tmp_path, monkeypatch):
    # A REAL line with a UTF-8 user agent (2-byte and 4-byte characters), cut by
    # every possible read boundary: no false "not UTF-8" error, same facts.
    line = real_line(TLS_ORIG, 1).replace("curl/7.87.0-DEV", "caf\u00e9-\U0001F600/1.0")
    text = "\n".join([line] * 7) + "\n"
    path = tmp_path / "utf8.log"
    path.write_text(text, encoding="utf-8")
    want = assess_text(text, "edition.cnn.com")
    assert want["count"] == 7
    for size in (1, 2, 3, 5, 64):
        monkeypatch.setattr(al, "READ_BLOCK", size)
        got = al.assess([("content", al.file_blocks(str(path)))], "edition.cnn.com", kind="offline")
        assert got == want, size


def test_synthetic_memory_stays_flat_from_20k_to_100k_lines(tmp_path):
    template = real_lines(TLS_ORIG) + real_lines(NR) + real_lines(SNI_BLOG)

    def peak(n_lines):
        path = tmp_path / ("%d.log" % n_lines)
        with open(str(path), "w", encoding="utf-8") as out:
            out.writelines(template[i % len(template)] + "\n" for i in range(n_lines))
        tracemalloc.start()
        facts = al.assess([("f", al.file_blocks(str(path)))], "edition.cnn.com", kind="offline")
        _cur, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert facts["lines_total"] == n_lines
        return top

    small, large = peak(20000), peak(100000)
    assert large < small * 1.3 + 512 * 1024, (small, large)


# --------------------------------------------------------------------------- inputs and errors

@pytest.mark.parametrize("value,want", [
    ("2026-01-31T12:00:00Z", datetime.datetime(2026, 1, 31, 12, 0, tzinfo=datetime.timezone.utc)),
    ("2026-01-31T13:00:00.5+01:00", datetime.datetime(2026, 1, 31, 12, 0, 0, 500000, tzinfo=datetime.timezone.utc)),
    ("2026-01-31t12:00:00.123456789z", datetime.datetime(2026, 1, 31, 12, 0, 0, 123456,
                                                         tzinfo=datetime.timezone.utc)),
])
def test_rfc3339(value, want):
    assert al.parse_rfc3339(value) == want


@pytest.mark.parametrize("value", ["", "yesterday", "2026-01-31", "2026-01-31T12:00:00", "2026-02-30T00:00:00Z",
                                   "1700000000", None])
def test_rfc3339_rejects(value):
    with pytest.raises(al.AccessLogError, match=r"RFC 3339|valid date"):
        al.parse_rfc3339(value)


@pytest.mark.parametrize("host,want", [("httpbin.org", "httpbin.org"), ("HTTPBIN.org.", "httpbin.org"),
                                       ("10.0.0.1", "10.0.0.1"), ("a-b.c", "a-b.c")])
def test_host_normalised(host, want):
    assert al.normalize_host(host) == want


@pytest.mark.parametrize("host,fragment", [
    ("", "non-empty"), ("   ", "non-empty"), (None, "non-empty"), ("httpbin.org:443", "port"),
    ("https://httpbin.org", "bare host name"), ("httpbin..org", "not a valid host name"),
    ("-x.org", "not a valid host name"), ("a_b.org", "not a valid host name"), ("x" * 64 + ".org", "not a valid"),
])
def test_host_rejected(host, fragment):
    with pytest.raises(al.AccessLogError, match=re.escape(fragment)):
        al.normalize_host(host)


@pytest.mark.parametrize("kwargs,fragment", [
    ({"port": 0}, "outside 1-65535"), ({"port": 65536}, "outside 1-65535"), ({"port": "x"}, "not a number"),
    ({"expect": "maybe"}, "expect must be one of"), ({"fmt": "yaml"}, "format must be one of"),
    ({"min_count": 0}, "at least 1"), ({"max_entries": -1}, "must not be negative"),
    ({"allowed_response_flags": []}, "at least one flag"), ({"since_time": "now"}, "RFC 3339"),
])
def test_assess_rejects_bad_options(kwargs, fragment):
    with pytest.raises(al.AccessLogError, match=re.escape(fragment)):
        assess_text(real_line(GW, 1), "edition.cnn.com", **kwargs)


@pytest.mark.parametrize("address,port", [
    ("151.101.195.5:443", 443), ("[2001:db8::1]:8443", 8443), ("envoy://connect_originate/10.0.0.1:80", 80),
    ("envoy://internal_client_address/", None), ("-", None), (None, None), ("2001:db8::1", None),
    ("10.0.0.1", None), ("10.0.0.1:0", None), ("10.0.0.1:99999", None),
])
def test_address_port(address, port):
    assert al.address_port(address) == port


@pytest.mark.parametrize("name,want", [
    ("outbound|443||httpbin.org", ("outbound", 443, "", "httpbin.org")),
    ("outbound|443|wildcard|egressgateway.istio-egress.svc.cluster.local",
     ("outbound", 443, "wildcard", "egressgateway.istio-egress.svc.cluster.local")),
    ("inbound|8000||", ("inbound", 8000, "", "")),
    ("outbound_.8000_._.httpbin.foo.svc.cluster.local", ("outbound", 8000, "", "httpbin.foo.svc.cluster.local")),
    ("PassthroughCluster", None), ("BlackHoleCluster", None), (None, None), ("a|b", None),
])
def test_parse_cluster(name, want):
    assert al.parse_cluster(name) == want


@pytest.mark.parametrize("request_text,want", [
    ("GET /status/418 HTTP/1.1", ("GET", "/status/418", "HTTP/1.1")),
    ("- - -", (None, None, None)),
    ("GET /headersHTTP/1.1", ("GET", "/headers", "HTTP/1.1")),
    ("- --", (None, None, None)),
    ("GET /a b HTTP/2", ("GET", "/a b", "HTTP/2")),
])
def test_split_request(request_text, want):
    assert al.split_request(request_text) == want


# --------------------------------------------------------------------------- bad-input corpus

BAD_CASES = corpus.cases()


def test_corpus_lists_every_file():
    files = corpus.committed() + sorted(corpus.generated())
    assert sorted(files) == sorted(BAD_CASES)
    assert not [n for n in files if n.endswith(".log")]  # benchmarks/gen_access_log.py globs *.log


@pytest.fixture(scope="module")
def corpus_paths(tmp_path_factory):
    return corpus.materialize(tmp_path_factory.mktemp("access_log_corpus"))


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_input_corpus(name, corpus_paths):
    case = BAD_CASES[name]
    path = corpus_paths[name]

    def run():
        return al.assess([(name, al.file_blocks(path))], case.get("host", "edition.cnn.com"),
                         port=case.get("port", 443), kind="offline")

    if "error" in case:
        with pytest.raises(al.AccessLogError) as info:
            run()
        assert case["error"] in str(info.value)
        assert "\n" not in str(info.value)
    else:
        facts = run()
        for key, value in case["result"].items():
            if key == "msg":
                assert value in facts["msg"]
            else:
                assert facts[key] == value, key


def test_generated_huge_line_is_refused(tmp_path):
    huge = tmp_path / "huge-line.txt"
    with open(str(huge), "wb") as out:
        out.write(real_line(GW, 1).encode("ascii") + b"\n")
        out.write(b"[" + b"x" * (3 * 1024 * 1024) + b"]\n")
    with pytest.raises(al.AccessLogError, match="longer than 1048576 bytes"):
        al.assess([("f", al.file_blocks(str(huge)))], "edition.cnn.com")
    no_newline = tmp_path / "no-newline.txt"
    no_newline.write_bytes(b"y" * (2 * 1024 * 1024))
    with pytest.raises(al.AccessLogError, match="longer than 1048576 bytes"):
        al.assess([("f", al.file_blocks(str(no_newline)))], "edition.cnn.com")
    with pytest.raises(al.AccessLogError, match="longer than 1048576"):
        assess_text("z" * (2 * 1024 * 1024), "edition.cnn.com")
    with pytest.raises(al.AccessLogError, match=r"lines\[1\] is longer than"):
        al.assess([("lines", al.list_blocks([real_line(GW, 1), "z" * (2 * 1024 * 1024)]))], "edition.cnn.com")


@pytest.mark.parametrize("name,fragment", [
    ("missing.log", "cannot read src"),
    ("", "cannot read src"),  # the directory itself
])
def test_unreadable_src(tmp_path, name, fragment):
    with pytest.raises(al.AccessLogError, match=fragment):
        al.assess([("f", al.file_blocks(str(tmp_path / name) if name else str(tmp_path)))], "edition.cnn.com")


@pytest.mark.parametrize("source,fragment", [
    (lambda: al.text_blocks(""), "the log is empty"),
    (lambda: al.text_blocks("\n \n"), "the log is empty"),
    (lambda: al.text_blocks("a\x00b"), "binary data"),
    (lambda: al.text_blocks(b"bytes"), "must be a string"),
    (lambda: al.list_blocks([]), "the log is empty"),
    (lambda: al.list_blocks("one string"), "list of strings"),
    (lambda: al.list_blocks(["ok", 3]), "lines[1] is a int"),
    (lambda: al.list_blocks(["a\x00"]), "binary data"),
])
def test_bad_in_memory_input(source, fragment):
    with pytest.raises(al.AccessLogError) as info:
        al.assess([("x", source())], "edition.cnn.com")
    assert fragment in str(info.value)


def test_empty_live_logs_are_a_result_when_allowed():
    facts = al.assess([("pod-a", al.text_blocks("")), ("pod-b", al.text_blocks(""))], "httpbin.org",
                      since_time="2026-01-01T00:00:00Z", allow_empty=True, expect="absent")
    assert facts["passed"] and facts["lines_total"] == 0
    assert facts["msg"].startswith("0 entries for httpbin.org:443 in 2 pods since 2026-01-01T00:00:00Z, as expected")
