# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host-list filters of plugins/filter/guard.py: normalise_hosts and host_list_problems.

SYNTHETIC host lists. Port 0 is the case where the copies disagreed (egress_routes read it as
443, egress_verify refused it): both roles now go through these filters and refuse it. A value
the rule cannot read is one AnsibleFilterError sentence, not a traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.istio_egress.plugins.filter.guard import FilterModule

FILTERS = FilterModule().filters()


def test_normalise_hosts_filter():
    assert FILTERS["normalise_hosts"](["httpbin.org", {"host": "a.example", "port": 8443, "name": "a"}]) == [
        {"host": "httpbin.org", "port": 443, "name": "httpbin", "url": "https://httpbin.org/"},
        {"host": "a.example", "port": 8443, "name": "a", "url": "https://a.example:8443/"}]


def test_host_list_problems_filter_port_0_the_copies_disagreed():
    items = FILTERS["normalise_hosts"]([{"host": "httpbin.org", "port": 0}])
    assert FILTERS["host_list_problems"](items) == ["port(s) 0 are not integers between 1 and 65535"]
    assert FILTERS["host_list_problems"](items, dns_names=False, short_names=False) == [
        "port(s) 0 are not integers between 1 and 65535"]


def test_a_string_instead_of_a_list_is_one_sentence():
    with pytest.raises(AnsibleFilterError, match="must be a list of host names"):
        FILTERS["normalise_hosts"]("httpbin.org")
