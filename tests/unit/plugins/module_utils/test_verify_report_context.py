# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settle wait and the evidence source in the report (issue 16.2 "say how long it took"; issue 10).

The facts are the passing scenario of test_verify_report.py (its provenance is described there). The
egress_verify_settle facts are SYNTHETIC, in the shape roles/egress_verify/tasks/settle.yml sets; the
`source` of the proxy-config results is what istio_proxy_config adds (api / istioctl / file).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import xml.etree.ElementTree as ET

import pytest
import test_verify_report as base

from ansible_collections.homelab.istio_egress.plugins.module_utils import verify_report as vr

SYNCED = {"waited_s": 3.4, "synced": True, "method": "config_dump", "timeout_s": 60, "reason": ""}
NOT_SYNCED = {"waited_s": 60.2, "synced": False, "method": "config_dump", "timeout_s": 60,
              "reason": "not settled after 60s: the client sidecar does not route edition.cnn.com:443 to "
                        "istio-egressgateway.istio-system.svc.cluster.local (hop 1)"}


def report_with(settle=None, client_source=None, gateway_source=None, origin=None):
    facts = base.passing_facts()
    if settle is not None:
        facts["settle"] = settle
    for side, src in (("client", client_source), ("gateway", gateway_source)):
        if src:
            for res in facts["routing"][side]["results"]:
                res["source"] = src
    if client_source:
        facts["blocking"]["client_config"]["source"] = client_source
    if origin:
        facts["settings"]["config_dump_origin"] = origin
    return vr.build_report(facts)


def test_synced_settle_says_how_long_it_took():
    report = report_with(SYNCED)
    assert report["verdict"] == "proved"
    assert report["settle"]["synced"] is True and report["settle"]["waited_s"] == 3.4
    md = vr.render_markdown(report)
    assert "- settle: proof only after the config arrived" in md and "it took 3.4 s (config_dump" in md
    assert "\u26a0" not in md
    data = json.loads(vr.render_json(report))
    assert data["settle"]["method"] == "config_dump" and data["settle"]["timeout_s"] == 60
    props = {p.get("name"): p.get("value") for p in ET.fromstring(vr.render_junit(report)).iter("property")}
    assert props["settle_synced"] == "true" and props["settle_waited_s"] == "3.4"


def test_not_synced_is_said_next_to_checks_5_to_7():
    report = report_with(NOT_SYNCED)
    assert report["settle"]["synced"] is False
    notes = {r["id"]: r["settle_note"] for r in report["checks"]}
    for check in ("gateway_log", "routing", "blocking"):
        assert notes[check] == "the config had not arrived after 60.2 s of settle wait"
    for check in ("preconditions", "call", "l3_lock"):
        assert notes[check] == ""
    md = vr.render_markdown(report)
    assert "the config had NOT arrived when the proof ran (waited 60.2 s): not settled after 60s" in md
    row = next(line for line in md.splitlines() if line.startswith("| 6. Routing"))
    assert "\u26a0 the config had not arrived" in row
    props = {p.get("name"): p.get("value") for p in ET.fromstring(vr.render_junit(report)).iter("property")}
    assert props["settle_synced"] == "false"


@pytest.mark.parametrize("synced", ["True", "true", 1, None])
def test_only_a_real_true_is_synced(synced):
    """SYNTHETIC odd values: a string or a number is not evidence that the config arrived."""
    report = report_with(dict(SYNCED, synced=synced))
    assert report["settle"]["synced"] is False
    assert next(r for r in report["checks"] if r["id"] == "routing")["settle_note"]


def test_no_settle_fact_is_said():
    report = report_with()
    assert report["settle"] is None
    assert "the settle wait did not run" in vr.render_markdown(report)


def test_nothing_read_while_settling():
    report = report_with({"waited_s": 0.0, "synced": False, "method": "none", "timeout_s": 60,
                          "reason": "nothing to wait for: no data plane"})
    assert report["settle"]["text"] == "no wait for the config: nothing to wait for: no data plane"


def test_evidence_source_live_proxy_vs_saved_dump():
    report = report_with(client_source="file", gateway_source="api", origin="istiod-xds")
    src = {r["id"]: r["source"] for r in report["checks"]}
    assert src["routing"] == "client: saved dump (istiod-xds); gateway: live proxy (exec into the pod)"
    assert "client config: saved dump (istiod-xds)" in src["blocking"]
    assert src["gateway_log"].startswith("live proxy")
    md = vr.render_markdown(report)
    assert "- evidence from: client: saved dump (istiod-xds); gateway: live proxy (exec into the pod)" in md
    data = json.loads(vr.render_json(report))
    assert next(r for r in data["checks"] if r["id"] == "routing")["source"].startswith("client: saved dump")


def test_saved_dump_origin_defaults_to_unknown_and_is_validated():
    report = report_with(client_source="file", gateway_source="file")
    assert next(r for r in report["checks"] if r["id"] == "routing")["source"] == \
        "client: saved dump (unknown); gateway: saved dump (unknown)"
    facts = base.passing_facts()
    facts["settings"]["config_dump_origin"] = "made-up"
    with pytest.raises(vr.VerifyReportError, match="config_dump_origin must be one of istiod-xds"):
        vr.build_report(facts)


def test_a_check_that_read_nothing_has_no_source():
    facts = base.passing_facts()
    facts["settings"]["data_plane"] = False
    for key in ("calls", "gateway_log", "routing", "blocking", "l3"):
        facts.pop(key)
    report = vr.build_report(facts)
    src = {r["id"]: r["source"] for r in report["checks"]}
    for check in ("call", "gateway_log", "routing", "blocking", "l3_lock"):
        assert src[check] == "", check
