# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only connection plugin: ansible.builtin.local under another name.

No SSH server runs here, so tests/unit/plugins/action/test_egress_verify_report_action.py and
tests/integration/test_cluster_read.py use this to give an action plugin a connection that is
not "local": it must then ship and run the module (AnsiballZ, _execute_module) as it would on a
remote host, and this plugin runs it. It lives with the unit tests because they are shipped with
the collection and the integration tests are not.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: local_relay
short_description: ansible.builtin.local under another name (tests only)
description:
  - Runs commands on the controller like ansible.builtin.local, but does not call itself local.
author: homelab platform engineers (!UNKNOWN)
"""

from ansible.plugins.connection.local import Connection as LocalConnection


class Connection(LocalConnection):
    transport = "local_relay"
