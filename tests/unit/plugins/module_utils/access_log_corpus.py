# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bad-input corpus of egress_log_assert (tests/unit/bad_input/access_logs/).

Most files are committed. Three are made here, at test time, because the
collection's own sanity checks (line-endings, no-smart-quotes, shebang) would
reject them as files of the repository: a CRLF log, a non-UTF-8 log and a log
behind a UTF-8 byte order mark. Each is a REAL fixture line or file with one
stated change (provenance in the corpus README.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, "fixtures", "access_logs")
BAD = os.path.abspath(os.path.join(HERE, "..", "..", "bad_input", "access_logs"))
NOT_INPUT = ("README.md", "cases.json")


def _real(name):
    with open(os.path.join(LOGS, name), "rb") as handle:
        return handle.read()


def generated():
    """name -> bytes of the corpus files made at test time."""
    line_418 = _real("istioio-access-log-task-418.log").split(b"\n")[0]
    return {
        # REAL lines saved with CRLF line ends
        "crlf-real-tls-origination.txt": _real("istioio-egress-gateway-tls-origination.log").replace(b"\n", b"\r\n"),
        # a Latin-1 byte (0xE9) in the user agent of a REAL line
        "non-utf8-latin1.txt": line_418.replace(b"curl/7.73.0-DEV", b"caf\xe9-client/1.0") + b"\n",
        # a REAL line behind a UTF-8 byte order mark (a log saved by an editor)
        "utf8-bom-real.txt": b"\xef\xbb\xbf" + line_418 + b"\n",
    }


def committed():
    return sorted(name for name in os.listdir(BAD) if name not in NOT_INPUT)


def cases():
    with open(os.path.join(BAD, "cases.json"), encoding="utf-8") as handle:
        return json.load(handle)["cases"]


def materialize(directory):
    """Write the whole corpus into directory; return name -> path."""
    paths = {}
    for name in committed():
        paths[name] = os.path.join(str(directory), name)
        shutil.copyfile(os.path.join(BAD, name), paths[name])
    for name, data in generated().items():
        paths[name] = os.path.join(str(directory), name)
        with open(paths[name], "wb") as handle:
            handle.write(data)
    return paths
