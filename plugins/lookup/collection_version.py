# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: collection_version
author:
  - homelab platform engineers (!UNKNOWN)
version_added: "0.1.0"
short_description: Version of an installed collection, as this controller loads it
description:
  - Returns the version of the collection Ansible would load under that name (the first one on
    the collections path, else the one bundled with the ansible package), read from its
    C(MANIFEST.json) or C(galaxy.yml).
  - Returns an empty string when the collection is not installed or carries no version.
options:
  _terms:
    description: Collection names, C(namespace.name).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Which kubernetes.core runs the Helm modules
  ansible.builtin.debug:
    msg: "{{ lookup('homelab.istio_egress.collection_version', 'kubernetes.core') }}"
"""

RETURN = r"""
_raw:
  description: One version string per name (empty when unknown).
  type: list
  elements: str
"""

import importlib.util
import json
import os
import re

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase


def _version_in(path):
    manifest = os.path.join(path, "MANIFEST.json")
    if os.path.isfile(manifest):
        with open(manifest) as handle:
            return str(json.load(handle).get("collection_info", {}).get("version") or "")
    galaxy = os.path.join(path, "galaxy.yml")
    if os.path.isfile(galaxy):
        with open(galaxy) as handle:
            for line in handle:
                match = re.match(r"^version:\s*['\"]?([^'\"\s#]+)", line)
                if match:
                    return match.group(1)
    return ""


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        out = []
        for term in terms:
            if not re.match(r"^[a-z0-9_]+\.[a-z0-9_]+$", str(term)):
                raise AnsibleLookupError("collection_version: %r is not a collection name such as kubernetes.core" % term)
            try:
                spec = importlib.util.find_spec("ansible_collections.%s" % term)
            except ImportError:
                spec = None
            paths = list(spec.submodule_search_locations or []) if spec else []
            try:
                out.append(_version_in(paths[0]) if paths else "")
            except (OSError, ValueError) as exc:
                raise AnsibleLookupError("collection_version: cannot read the version of %s: %s" % (term, exc))
        return out
