# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A minimal Kubernetes REST reader for cluster_read (docs/cluster_read.md), stdlib only.

Importing the kubernetes client costs about half a second per process and every
kubernetes.core module pays it again; cluster_read's action plugin runs this engine in the
controller's worker instead. It reads (GET), and writes for cluster_apply (server-side apply
PATCHes, docs/cluster_apply.md), over ONE keep-alive connection per call:

* every request is bounded: the socket timeout covers connecting, the TLS handshake and each
  read; an answer larger than MAX_BYTES is refused with the cap named;
* a proxy is reached with a CONNECT tunnel, except for hosts in no_proxy;
* discovery is lazy: only the group/versions the queries name, or (discovery: true) the
  aggregated discovery of /api and /apis, with the per-group lists as the fallback;
* failures become ReadError: ``msg`` names the query and the cause, ``cause`` is the cause in
  api_errors.api_error_cause's words (what cluster_guard shows).

The decisions live in kube_conn.py (connection settings) and kube_read.py (queries, shapes,
waits); this file does the I/O only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import socket
import ssl
import tempfile
import time

try:
    import http.client as http_client
    from urllib.parse import quote, urlencode
except ImportError:  # pragma: no cover - Python 2 is not supported by the collection
    http_client = None

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube_conn
from ansible_collections.homelab.istio_egress.plugins.module_utils.api_errors import api_error_cause

MAX_BYTES = 64 * 1024 * 1024
PAGE_LIMIT = 500
MAX_PAGES = 1000
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
AGGREGATED = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
              "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")
USER_AGENT = "homelab.istio_egress.cluster_read"


class ReadError(Exception):
    """A read failed: ``msg`` is one sentence for the user, ``cause`` the api_errors wording."""

    def __init__(self, msg, cause=None):
        super(ReadError, self).__init__(msg)
        self.msg = msg
        self.cause = cause or msg


class _HTTPFailure(Exception):
    def __init__(self, status, reason, body):
        super(_HTTPFailure, self).__init__(status)
        self.status, self.reason, self.body = status, reason, body

    def text(self):
        """The answer as api_error_cause reads it: status code, reason and the Status message."""
        message = ""
        try:
            doc = json.loads(self.body.decode("utf-8", "replace"))
            message = doc.get("message") or ""
        except ValueError:
            message = self.body[:300].decode("utf-8", "replace")
        return "(%d)\nReason: %s\n%s" % (self.status, self.reason, message)


class _Transport(Exception):
    """No HTTP answer: the text carries the words api_error_cause classifies."""


# ----------------------------------------------------------------------------------------------
# connection settings (files are read here; kube_conn.py decides)


def _load_yaml(text, where):
    try:
        import yaml  # ansible-core and the kubernetes client both depend on PyYAML
    except ImportError:
        raise ReadError("reading %s needs PyYAML; pass the kubeconfig as a dict instead" % where)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ReadError("%s is not valid YAML: %s" % (where, " ".join(str(exc).split())[:200]))


def _read_file(path, what):
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except (IOError, OSError) as exc:
        raise ReadError("kubeconfig problem: cannot read %s %s: %s" % (what, path, exc.strerror or exc),
                        "kubeconfig problem: No such file or directory: %s" % path)
    return data.decode("utf-8", "replace")


def default_kubeconfig(environ):
    """$KUBECONFIG's first file (lists are not merged), else ~/.kube/config."""
    listed = [p for p in (environ.get("KUBECONFIG") or "").split(os.pathsep) if p]
    return os.path.expanduser(listed[0] if listed else "~/.kube/config")


def _relative(settings, base_dir):
    for key in ("ca_file", "cert_file", "key_file", "token_file"):
        if settings.get(key) and base_dir and not os.path.isabs(settings[key]):
            settings[key] = os.path.join(base_dir, os.path.expanduser(settings[key]))


def _from_client(auth):
    """exec / auth-provider users: the kubernetes client's loader runs the plugin (kube.py)."""
    from ansible_collections.homelab.istio_egress.plugins.module_utils import kube

    if not kube.HAS_KUBERNETES:
        raise ReadError("the kubeconfig user needs an exec or auth-provider plugin, which needs the Python "
                        "'kubernetes' client: pip install kubernetes")
    try:
        cfg = kube._configuration(dict(auth))
    except kube.KubeError as exc:
        raise ReadError(str(exc), api_error_cause(str(exc)))
    # The key is "authorization" in older clients and "BearerToken" in newer ones.
    token = ""
    for name in sorted(cfg.api_key or {}):
        token = token or cfg.get_api_key_with_prefix(name) or ""
    settings = {"server": cfg.host, "insecure": not cfg.verify_ssl, "needs_client": False,
                "context": auth.get("context") or "(current)"}
    if token:
        settings["token"] = token[len("Bearer "):] if token.startswith("Bearer ") else token
    for attr, key in (("ssl_ca_cert", "ca_file"), ("cert_file", "cert_file"), ("key_file", "key_file")):
        if getattr(cfg, attr, None):
            settings[key] = getattr(cfg, attr)
    return settings


def settings_for(auth, environ=None):
    """Connection settings for the auth options (kube.auth_from_params' output)."""
    environ = os.environ if environ is None else environ
    kubeconfig = auth.get("kubeconfig")
    try:
        if kube_conn.explicit(auth):
            settings = {"server": auth["api_host"], "insecure": False, "needs_client": False, "context": "(options)"}
        elif isinstance(kubeconfig, dict):
            settings = kube_conn.from_kubeconfig(kubeconfig, auth.get("context"), "the kubeconfig given as a dict")
        elif kubeconfig is not None and not isinstance(kubeconfig, str):
            raise ReadError("kubeconfig must be a path or a kubeconfig as a dict, not a %s" % type(kubeconfig).__name__)
        elif not kubeconfig and not auth.get("context") and environ.get("KUBERNETES_SERVICE_HOST") \
                and os.path.exists(os.path.join(SA_DIR, "token")):
            token = _read_file(os.path.join(SA_DIR, "token"), "the service account token")
            settings = kube_conn.in_cluster(environ, token, os.path.join(SA_DIR, "ca.crt"))
        else:
            path = os.path.expanduser(kubeconfig) if kubeconfig else default_kubeconfig(environ)
            where = "kubeconfig %s" % path
            settings = kube_conn.from_kubeconfig(_load_yaml(_read_file(path, "kubeconfig"), where),
                                                 auth.get("context"), where)
            _relative(settings, os.path.dirname(os.path.abspath(path)))
        if settings.get("needs_client"):
            settings = _from_client(auth)
        if settings.get("token_file"):
            settings["token"] = _read_file(settings.pop("token_file"), "tokenFile").strip()
        return kube_conn.override(settings, auth)
    except kube_conn.ConnError as exc:
        raise ReadError(str(exc), api_error_cause(str(exc)))


# ----------------------------------------------------------------------------------------------
# one keep-alive connection


def _ssl_context(settings):
    cadata = settings.get("ca_data")
    try:
        ctx = ssl.create_default_context(cafile=settings.get("ca_file"),
                                         cadata=cadata.decode("ascii", "replace") if cadata else None)
    except (IOError, OSError, ssl.SSLError, ValueError) as exc:
        raise ReadError("the certificate authority of the connection cannot be loaded: %s" % exc,
                        "TLS certificate of the API server not trusted (certificate-authority of the kubeconfig)")
    if settings.get("insecure"):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    cert, key = settings.get("cert_file"), settings.get("key_file")
    written = []
    try:
        # ssl loads client certificates from files only: inline data goes to private temporary files.
        for field in ("cert_data", "key_data"):
            if settings.get(field):
                handle, path = tempfile.mkstemp(prefix="cluster-read-")
                written.append(path)
                with os.fdopen(handle, "wb") as out:
                    out.write(settings[field])
                if field == "cert_data":
                    cert = path
                else:
                    key = path
        if cert:
            ctx.load_cert_chain(cert, key)
    except (IOError, OSError, ssl.SSLError) as exc:
        raise ReadError("the client certificate of the connection cannot be loaded: %s" % exc)
    finally:
        for path in written:
            os.unlink(path)
    return ctx


class Client(object):
    """GETs against one API server over one reused connection, each bounded in time and size."""

    def __init__(self, settings, timeout=30, max_bytes=MAX_BYTES):
        self.settings = settings
        self.timeout = float(timeout)
        self.max_bytes = max_bytes
        try:
            self.scheme, self.host, self.port, self.prefix = kube_conn.split_server(settings.get("server"))
        except kube_conn.ConnError as exc:
            raise ReadError(str(exc))
        self.server = "%s://%s:%s" % (self.scheme, self.host, self.port)
        self.ctx = _ssl_context(settings) if self.scheme == "https" else None
        tunnel, self.headers = kube_conn.proxy_header_values(settings.get("proxy_headers"))
        self.headers.setdefault("User-Agent", USER_AGENT)
        auth = kube_conn.authorization(settings)
        if auth:
            self.headers["Authorization"] = auth
        self.proxy = None
        if settings.get("proxy") and not kube_conn.bypasses_proxy(self.host, settings.get("no_proxy")):
            try:
                _s, phost, pport, _p = kube_conn.split_server(settings["proxy"])
            except kube_conn.ConnError as exc:
                raise ReadError("proxy: %s" % exc)
            self.proxy = (phost, pport, tunnel)
        self.conn = None
        self.requests = 0

    def sibling(self):
        """A client with the same settings, TLS context and headers on a connection of its own
        (cluster_apply's write pool: one connection per thread)."""
        other = copy.copy(self)
        other.headers = dict(self.headers)
        other.conn = None
        other.requests = 0
        return other

    def _connect(self, timeout):
        host, port = (self.proxy[0], self.proxy[1]) if self.proxy else (self.host, self.port)
        if self.scheme == "https":
            conn = http_client.HTTPSConnection(host, port, timeout=timeout, context=self.ctx)
        else:
            conn = http_client.HTTPConnection(host, port, timeout=timeout)
        if self.proxy:
            conn.set_tunnel(self.host, self.port, headers=self.proxy[2])
        return conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _read(self, resp):
        chunks, size = [], 0
        while True:
            chunk = resp.read(min(1024 * 1024, self.max_bytes + 1 - size))
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            chunks.append(chunk)
            if size > self.max_bytes:
                self.close()
                raise ReadError("the answer of %s is larger than the %d MiB cap of cluster_read" % (
                    self.server, self.max_bytes // (1024 * 1024)))

    def get(self, path, params=None, accept="application/json", deadline=None):
        """(status, reason, body bytes) of GET path; raises _Transport when no answer came."""
        return self.request("GET", path, None, None, params, accept, deadline)

    def request(self, method, path, body=None, content_type=None, params=None, accept="application/json",
                deadline=None):
        """(status, reason, body bytes) of one request; raises _Transport when no answer came.

        ``body`` is bytes or a JSON-able value (sent as JSON); cluster_apply's writes are
        server-side apply PATCHes (content type application/apply-patch+yaml: JSON is YAML).
        A write is retried only on a kept-alive connection the server had closed before the
        request was read; an apply is idempotent, so the retry cannot apply twice differently.
        """
        url = self.prefix + quote(path) + ("?" + urlencode(params) if params else "")
        headers = dict(self.headers, Accept=accept)
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body, separators=(",", ":")).encode("utf-8")
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        timeout = self.timeout
        if deadline is not None:
            timeout = max(0.1, min(timeout, deadline - time.monotonic()))
        for attempt in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = self._connect(timeout)
            elif self.conn.sock is not None:
                self.conn.sock.settimeout(timeout)
            try:
                self.conn.request(method, url, body=body, headers=headers)
                resp = self.conn.getresponse()
                body = self._read(resp)
                self.requests += 1
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return resp.status, resp.reason, body
            except (http_client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                # A kept-alive connection the server closed meanwhile: once more on a fresh one.
                if reused and attempt == 1:
                    continue
                raise _Transport("the connection was closed by %s: %s" % (self.server, exc))
            except socket.timeout:
                self.close()
                raise _Transport("Timed out after %d seconds" % max(1, round(timeout)))
            except ssl.SSLCertVerificationError as exc:
                self.close()
                raise _Transport("certificate verify failed: %s" % exc.verify_message)
            except ConnectionRefusedError:
                self.close()
                raise _Transport("Connection refused")
            except socket.gaierror as exc:
                self.close()
                raise _Transport("%s: Name or service not known (%s)" % (self.host, exc))
            except (OSError, http_client.HTTPException) as exc:
                self.close()
                if "timed out" in str(exc):
                    raise _Transport("Timed out after %d seconds" % max(1, round(timeout)))
                raise _Transport("%s: %s" % (type(exc).__name__, exc))
        raise _Transport("no answer from %s" % self.server)  # pragma: no cover - the loop returns or raises

    def get_json(self, path, params=None, accept="application/json", deadline=None, missing_ok=False):
        """The decoded JSON answer; None for a 404 when ``missing_ok``; raises _HTTPFailure otherwise."""
        return self.request_json("GET", path, params=params, accept=accept, deadline=deadline, missing_ok=missing_ok)

    def request_json(self, method, path, body=None, content_type=None, params=None, accept="application/json",
                     deadline=None, missing_ok=False):
        """``request``'s decoded JSON answer (2xx); None for a 404 when ``missing_ok``; else _HTTPFailure."""
        status, reason, body = self.request(method, path, body, content_type, params, accept, deadline)
        if status == 404 and missing_ok:
            return None
        if not 200 <= status < 300:
            raise _HTTPFailure(status, reason, body)
        try:
            return json.loads(body.decode("utf-8"))
        except ValueError:
            raise _HTTPFailure(status, "not JSON", body[:300])


def failure(key, what, server, exc):
    """ReadError naming the query ``key`` and the cause of ``exc`` in api_errors' words."""
    if isinstance(exc, ReadError):
        return ReadError("%s: %s" % (key, exc.msg), exc.cause)
    text = exc.text() if isinstance(exc, _HTTPFailure) else str(exc)
    cause = api_error_cause(text)
    return ReadError("%s: reading %s from %s failed: %s" % (key, what, server, cause), cause)
