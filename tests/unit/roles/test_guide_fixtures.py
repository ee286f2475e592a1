# -*- coding: utf-8 -*-
"""The guide fixtures are the guide's own YAML: only indentation was restored."""

from __future__ import annotations

import os
import pathlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent
GUIDE = pathlib.Path(os.environ.get(
    "HOMELAB_GUIDE", "/work/shared/seed/istio-1.30-egress-gateway-guide.md"))
FIXTURES = sorted((HERE / "guide").glob("*.yaml"))


def _stripped(lines):
    return [line.strip() for line in lines if line.strip()]


@pytest.mark.skipif(not GUIDE.is_file(), reason="the seed guide is not on this machine")
@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
def test_fixture_is_a_contiguous_block_of_the_guide(fixture):
    guide = _stripped(GUIDE.read_text(encoding="utf-8").splitlines())
    # The two header lines (yamllint switch, pointer to PROVENANCE.md) are ours.
    block = _stripped(fixture.read_text(encoding="utf-8").splitlines()[2:])
    starts = [i for i, line in enumerate(guide) if line == block[0]]
    assert any(guide[i:i + len(block)] == block for i in starts), (
        "%s is not a verbatim (indentation-stripped) block of %s" % (fixture.name, GUIDE))
