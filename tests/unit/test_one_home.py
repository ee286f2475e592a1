# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each pod and host rule has one home (issue 13 point 1); a new copy fails here.

Ready pods and the proxy's kind live in plugins/module_utils/pods.py, the host list in
plugins/module_utils/rules.py; roles reach them through filters (plugins/filter/pods.py,
guard.py). Before issue 13 the Ready test was Jinja in cluster_guard and twice in egress_verify,
the sidecar test Jinja in test_client and Python in three modules, and the host list was
normalised and validated in Jinja in egress_routes and egress_verify: each of those lines held
one of the markers below.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
HOMES = {os.path.join("plugins", "module_utils", "pods.py"), os.path.join("plugins", "module_utils", "rules.py")}
# Quoted condition/policy values and the init-container keys: code that decides Ready or a sidecar.
POD_MARKERS = re.compile(r"""['"](Ready|Always)['"]|initContainers\b|init_containers\b|restart_policy\b""")
# The host-list Jinja of the preflights: regexes for host names and ports, the default URL.
HOST_MARKERS = re.compile(r"""\[0-9\]\{1,5\}|'https://' ~ (item|h)|\.split\('\.'\)\[:-1\]""")


def _files():
    for top in ("plugins", "roles", "playbooks"):
        for base, _dirs, names in os.walk(os.path.join(ROOT, top)):
            for name in names:
                if name.endswith((".py", ".yml", ".yaml", ".j2")):
                    path = os.path.join(base, name)
                    yield os.path.relpath(path, ROOT)


def _code_lines(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip().startswith("#"):
                yield number, line


@pytest.mark.parametrize("path", sorted(p for p in _files() if p not in HOMES))
def test_no_copy_of_the_pod_and_host_rules(path):
    hits = ["%s:%d: %s" % (path, n, line.strip()) for n, line in _code_lines(path)
            if POD_MARKERS.search(line) or HOST_MARKERS.search(line)]
    # The L3 probe pod's own spec (restartPolicy: Never) and kube.py's model conversion are not rules.
    hits = [h for h in hits if "restartPolicy: Never" not in h]
    assert not hits, "a pod or host rule outside pods.py/rules.py (use the filter or import it): %s" % hits
