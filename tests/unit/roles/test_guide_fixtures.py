# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guide fixtures are the guide's own YAML: only indentation was restored."""

from __future__ import annotations

import os
import pathlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
# The seed guide lives next to the checkout (../shared/seed, see
# guide/PROVENANCE.md); HOMELAB_GUIDE overrides.
GUIDE = pathlib.Path(os.environ.get("HOMELAB_GUIDE")
                     or ROOT.parent / "shared" / "seed" / "istio-1.30-egress-gateway-guide.md")
# In CI the guide is a required input: missing it fails instead of skipping.
IN_CI = os.environ.get("CI", "").lower() == "true"
FIXTURES = sorted((HERE / "guide").glob("*.yaml"))


def _stripped(lines):
    return [line.strip() for line in lines if line.strip()]


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
def test_fixture_is_a_contiguous_block_of_the_guide(fixture):
    if not GUIDE.is_file():
        message = "the seed guide %s is missing (set HOMELAB_GUIDE)" % GUIDE
        if IN_CI:
            pytest.fail(message + ": CI=true needs it")
        pytest.skip(message)
    guide = _stripped(GUIDE.read_text(encoding="utf-8").splitlines())
    # The two header lines (yamllint switch, pointer to PROVENANCE.md) are ours.
    block = _stripped(fixture.read_text(encoding="utf-8").splitlines()[2:])
    starts = [i for i, line in enumerate(guide) if line == block[0]]
    assert any(guide[i:i + len(block)] == block for i in starts), (
        "%s is not a verbatim (indentation-stripped) block of %s" % (fixture.name, GUIDE))
