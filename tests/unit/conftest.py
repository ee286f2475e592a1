# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`pytest tests/unit` with nothing but a venv from requirements.txt and pytest:
the tests import the collection as ``ansible_collections.homelab.istio_egress``,
so this tree goes on sys.path under that name (tests/unit/ansible_env.py: the
tree itself when it sits in an ansible_collections/ directory, else a private
link) unless hack/env.sh or ansible-test already arranged it."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ansible_env import collections_path


def _importable():
    try:
        import ansible_collections.homelab.istio_egress.plugins.module_utils  # noqa: F401
    except ImportError:
        return False
    return True


if not _importable():
    sys.path.insert(0, collections_path())
