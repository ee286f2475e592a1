# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The retry loop of roles/egress_verify/tasks/call.yml, run for real (issue 16.3).

The exact shell command of the task (read from the YAML, its Jinja arguments
filled in) runs with the real curl against a local HTTP server on 127.0.0.1
that answers 503 then 200, always 503, or closes the connection without a
reply (curl exit 52, a failure curl's own --retry does not retry). Its output
goes through the one parser, verify_parse.parse_curl_output. Checked: transient
failures are retried within the bound and counted, a failure after the bound
stays a failure, a clean call is not retried.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shlex
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from ansible_collections.homelab.istio_egress.plugins.module_utils.verify_parse import parse_curl_output

HERE = os.path.dirname(os.path.abspath(__file__))
CALL_YML = os.path.join(HERE, "..", "..", "..", "roles", "egress_verify", "tasks", "call.yml")

if not shutil.which("curl"):
    if os.environ.get("CI") == "true":
        raise RuntimeError("curl is needed by test_call_retries.py and is not on PATH")
    pytest.skip("curl not on PATH", allow_module_level=True)


class _Handler(BaseHTTPRequestHandler):
    counts = {}
    lock = threading.Lock()

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        with self.lock:
            n = self.counts[self.path] = self.counts.get(self.path, 0) + 1
        if self.path.startswith("/flaky"):
            status = 503 if n <= 1 else 200  # one transient 503, then fine
        elif self.path.startswith("/down"):
            status = 503
        elif self.path.startswith("/reset"):
            if n <= 1:
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(2)  # no reply at all: curl exit 52
                return
            status = 200
        else:
            status = 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def _command():
    with open(CALL_YML) as f:
        tasks = yaml.safe_load(f)
    command = tasks[0]["kubernetes.core.k8s_exec"]["command"]
    script = command[:command.rindex("'") + 1]  # the sh -c '...' part; the rest is Jinja
    return shlex.split(script)


def run_calls(url, count, retries, timeout=5):
    argv = _command() + [str(count), str(timeout), str(retries), url]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    return {"stdout": proc.stdout, "stderr": proc.stderr, "rc": proc.returncode}


def test_transient_503_is_retried_and_counted(server):
    res = run_calls(server + "/flaky-a", count=2, retries=2)
    parsed = parse_curl_output(res)
    assert parsed["format"] == "attempts"
    assert parsed["codes"] == ["200", "200"]
    assert [c["retries"] for c in parsed["calls"]] == [1, 0]
    assert parsed["calls"][0]["attempts"] == ["503/exit 0", "200/exit 0"]
    assert parsed["retries"] == 1 and parsed["retried_calls"] == 1
    assert res["rc"] == 0


def test_no_reply_is_retried(server):
    """curl exit 52 (empty reply): not an HTTP error, retried all the same (--retry-all-errors semantics)."""
    res = run_calls(server + "/reset-a", count=1, retries=1)
    parsed = parse_curl_output(res)
    assert parsed["calls"][0]["attempts"][0] == "000/exit 52"
    assert parsed["codes"] == ["200"] and parsed["retries"] == 1


def test_failure_after_the_bound_stays_a_failure(server):
    res = run_calls(server + "/down-a", count=1, retries=2)
    parsed = parse_curl_output(res)
    assert parsed["codes"] == ["503"]
    assert parsed["calls"][0]["tries"] == 3  # 1 + the bound, never more
    assert parsed["retries"] == 2


def test_without_retries_one_try(server):
    res = run_calls(server + "/down-b", count=1, retries=0)
    parsed = parse_curl_output(res)
    assert parsed["codes"] == ["503"] and parsed["calls"][0]["tries"] == 1


def test_clean_calls_are_not_retried(server):
    res = run_calls(server + "/ok", count=3, retries=2)
    parsed = parse_curl_output(res)
    assert parsed["codes"] == ["200"] * 3 and parsed["retries"] == 0


def test_refused_connection_keeps_its_exit_status():
    """Nothing listens: curl exit 7, code 000, after the bound."""
    res = run_calls("http://127.0.0.1:9/", count=1, retries=1, timeout=2)
    parsed = parse_curl_output(res)
    assert parsed["calls"][0]["code"] == "000" and parsed["calls"][0]["exit"] == 7
    assert parsed["calls"][0]["tries"] == 2
    assert res["rc"] == 7
