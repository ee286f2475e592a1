# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host lists: normalise_hosts and host_list_problems of module_utils/rules.py (issue 13).

SYNTHETIC inputs (host lists as users write them in the inventory). The sentences are the ones
the egress_routes preflight printed before the rule moved to Python (tests/unit/roles/
test_bad_input.py checks them through the role). Before issue 13 the list was normalised three
times and validated four times; the copies disagreed on port 0 (egress_routes and the report
module read it as 443, egress_verify refused it) and on url/address (the report module took any
text, the role wanted http(s) and an IP).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest

from ansible_collections.homelab.istio_egress.plugins.module_utils import rules, verify_inputs
from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_common import VerifyReportError


def test_normalise_names_strings_and_defaults():
    items = rules.normalise_hosts(["httpbin.org", {"host": "api.example.com", "port": "8443"},
                                   {"host": "x.test", "name": "xt", "url": "https://x.test/get", "address": "10.0.0.9"}])
    assert items == [
        {"host": "httpbin.org", "port": 443, "name": "httpbin", "url": "https://httpbin.org/"},
        {"host": "api.example.com", "port": 8443, "name": "api-example", "url": "https://api.example.com:8443/"},
        {"host": "x.test", "port": 443, "name": "xt", "url": "https://x.test/get", "address": "10.0.0.9"},
    ]


@pytest.mark.parametrize("port", [None, ""])
def test_a_missing_port_is_443(port):
    assert rules.normalise_hosts([{"host": "a.example", "port": port}])[0]["port"] == 443


def test_port_0_is_refused_everywhere_the_copies_disagreed():
    """egress_routes (default(443, true)) and the report module (`or 443`) turned 0 into 443;
    egress_verify refused it. An explicit 0 is a mistake: every copy now refuses it."""
    items = rules.normalise_hosts([{"host": "a.example", "port": 0}])
    assert items[0]["port"] == 0
    assert rules.host_list_problems(items) == ["port(s) 0 are not integers between 1 and 65535"]
    with pytest.raises(VerifyReportError, match=re.escape("port 0 of a.example is outside 1-65535")):
        verify_inputs.normalise_settings({"hosts": [{"host": "a.example", "port": 0}]})


def test_the_report_module_wants_an_http_url_and_an_ip_address_as_the_role_does_the_copies_disagreed():
    with pytest.raises(VerifyReportError, match=re.escape('url(s) "ftp://a.example/" are not http(s) URLs')):
        verify_inputs.normalise_settings({"hosts": [{"host": "a.example", "url": "ftp://a.example/"}]})
    with pytest.raises(VerifyReportError, match=re.escape('address(es) "gateway" of a.example are not IP addresses')):
        verify_inputs.normalise_settings({"hosts": [{"host": "a.example", "address": "gateway"}]})
    ok = verify_inputs.normalise_settings({"hosts": ["a.example", {"host": "b.example", "port": "8443",
                                                                   "address": "fd00::9"}]})
    assert ok["hosts"] == [{"host": "a.example", "port": 443, "url": "https://a.example/"},
                           {"host": "b.example", "port": 8443, "url": "https://b.example:8443/", "address": "fd00::9"}]


def test_valid_routes_list_has_no_problem():
    assert rules.host_list_problems(rules.normalise_hosts([{"host": "httpbin.org"}, {"host": "api.github.com"}])) == []


@pytest.mark.parametrize("hosts,sentence", [
    ([], "the list is empty"),
    ([{"host": "https://httpbin.org"}], ("host(s) https://httpbin.org are not lowercase DNS names with at least two "
                                         "labels (no wildcards, no scheme, no port: resolution DNS needs a real name)")),
    ([{"host": "*.example.com"}], "host(s) *.example.com are not lowercase DNS names"),
    ([{"host": "HTTPBIN.org"}], "host(s) HTTPBIN.org are not lowercase DNS names"),
    ([{"host": "httpbin.org", "port": "https"}], "port(s) https are not integers between 1 and 65535"),
    ([{"host": "httpbin.org", "port": 70000}], "port(s) 70000 are not integers between 1 and 65535"),
    ([{"host": "httpbin.org", "port": True}], "port(s) True are not integers between 1 and 65535"),
    ([{"host": "httpbin.org", "name": "a" * 41}], "name(s) %s are not DNS labels of at most 40 characters" % ("a" * 41)),
    ([{"host": "example.com"}, {"host": "example.org"}],
     "two hosts share the short name objects are named after (example, example)"),
    ([{"host": "example.com"}, {"host": "example.com", "name": "other"}], "a host is listed twice"),
])
def test_routes_problems(hosts, sentence):
    problems = rules.host_list_problems(rules.normalise_hosts(hosts))
    assert any(sentence in p for p in problems), problems


def test_verify_mode_checks_presence_urls_and_addresses_not_names():
    items = rules.normalise_hosts([{"host": ""}, {"host": "Svc", "name": "x" * 50}, {"host": "a.example", "url": "x"},
                                   {"host": "b.example", "address": 5}])
    problems = rules.host_list_problems(items, dns_names=False, short_names=False)
    assert problems == ["item(s) 1 have no host", 'url(s) "x" are not http(s) URLs',
                        "address(es) 5 of b.example are not IP addresses"]


def test_a_list_is_required():
    with pytest.raises(rules.RulesError, match="must be a list"):
        rules.normalise_hosts("httpbin.org")
    with pytest.raises(rules.RulesError, match="normalised first"):
        rules.host_list_problems({"host": "a"})


@pytest.mark.parametrize("value,number", [(443, 443), ("443", 443), (" 80 ", 80), ("https", None), (True, None),
                                          (443.0, None), ("123456", None)])
def test_port_number(value, number):
    assert rules.port_number(value) == number
