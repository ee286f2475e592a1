# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live reads from the Kubernetes API for the read-only modules.

This is the only module_utils file that does I/O. It wraps the official
Python client and turns every API failure into a KubeError carrying one clear
sentence (which server, what was read, and the cause: refused, timed out,
credentials rejected, forbidden), so the modules can hand it to fail_json
without a traceback.

Every call is bounded in time: the client built by api_client()/core_client()
gives each REST request a connect and a read timeout unless the caller sets its
own (``_request_timeout``), with no retries, and exec_in_pod() bounds the exec
stream (connect, every read, and the whole run) and the output it keeps.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import re
import socket
import threading
import time

from ansible_collections.homelab.istio_egress.plugins.module_utils import kube_auth

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.rest import ApiException
    from kubernetes.stream import stream as k8s_stream

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without the client
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = exc

    class ApiException(Exception):
        """Stand-in so `except ApiException` stays valid without the client."""

# The connection options live in kube_auth.py (no client import there, so cluster_read's action
# plugin can use them in the controller); the modules that import them from here still can.
AUTH_ARG_SPEC = kube_auth.AUTH_ARG_SPEC
AUTH_ENV = kube_auth.AUTH_ENV
PROXY_HEADERS_SPEC = kube_auth.PROXY_HEADERS_SPEC
auth_from_params = kube_auth.auth_from_params

# Seconds allowed to open a TCP (and TLS) connection to the API server, and to
# wait for any answer when the caller gives no timeout of its own.
CONNECT_TIMEOUT = 10
DEFAULT_READ_TIMEOUT = 60
# The most exec output kept in memory (a config dump of a big mesh is tens of MiB).
EXEC_MAX_BYTES = 256 * 1024 * 1024


class KubeError(Exception):
    """A Kubernetes API read failed; str(exc) is one sentence for the user."""


if HAS_KUBERNETES:
    class BoundedApiClient(k8s_client.ApiClient):
        """An ApiClient whose requests carry a (connect, read) timeout unless the call sets one."""

        default_request_timeout = (CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT)

        # call_api is the one entry every generated method goes through, with
        # _request_timeout as a keyword, in the old (<= 31) and the new (>= 32)
        # generated clients alike; ApiClient.request exists only in the old ones.
        def call_api(self, *args, **kwargs):
            if kwargs.get("_request_timeout") is None:
                kwargs["_request_timeout"] = self.default_request_timeout
            return super(BoundedApiClient, self).call_api(*args, **kwargs)


def _configuration(auth):
    """A fresh client Configuration (the process-wide default is never touched)."""
    cfg = k8s_client.Configuration()
    host = (auth.get("api_host") or "").rstrip("/")
    explicit = host and (auth.get("api_key") or (auth.get("client_cert") and auth.get("client_key")))
    kubeconfig = auth.get("kubeconfig")
    context = auth.get("context")
    if isinstance(kubeconfig, str):
        kubeconfig = os.path.expanduser(kubeconfig)
    try:
        if explicit:
            pass
        elif isinstance(kubeconfig, dict):
            k8s_config.load_kube_config_from_dict(config_dict=kubeconfig, context=context, client_configuration=cfg)
        elif kubeconfig or context:
            k8s_config.load_kube_config(config_file=kubeconfig or None, context=context, client_configuration=cfg)
        else:
            # As kubernetes.core: in-cluster first (a pod's service account), then the default kubeconfig.
            try:
                k8s_config.load_incluster_config(client_configuration=cfg)
            except k8s_config.ConfigException:
                k8s_config.load_kube_config(client_configuration=cfg)
    except Exception as exc:  # config errors come in many exception types
        if kubeconfig is not None and not isinstance(kubeconfig, (str, dict)):
            raise KubeError("kubeconfig must be a path or a kubeconfig as a dict, not a %s" % type(kubeconfig).__name__)
        where = "the kubeconfig given as a dict" if isinstance(kubeconfig, dict) else "kubeconfig %s" % (
            kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config")
        raise KubeError("could not load %s (context %s): %s" % (where, context or "(current)", _one_line(exc)))
    if host:
        cfg.host = host
    if auth.get("api_key"):
        cfg.api_key = {"authorization": "Bearer %s" % auth["api_key"]}
        cfg.api_key_prefix = {}
    if auth.get("validate_certs") is not None:
        cfg.verify_ssl = bool(auth["validate_certs"])
    for option, attr in (("ca_cert", "ssl_ca_cert"), ("client_cert", "cert_file"), ("client_key", "key_file"),
                         ("proxy", "proxy"), ("no_proxy", "no_proxy")):
        if auth.get(option):
            setattr(cfg, attr, auth[option])
    if auth.get("proxy_headers"):
        import urllib3

        cfg.proxy_headers = urllib3.util.make_headers(**auth["proxy_headers"])
    # One attempt per call: urllib3's default of 3 retries would multiply every timeout by 4.
    cfg.retries = False
    return cfg


def api_client(auth=None, timeout=None):
    """A BoundedApiClient for the connection options ``auth`` (see auth_from_params).

    ``timeout``: seconds for each request's answer (default 60); connecting is
    bounded by min(10, timeout).
    """
    if not HAS_KUBERNETES:
        raise KubeError("the Python 'kubernetes' client is required for live reads: "
                        "pip install kubernetes (%s)" % KUBERNETES_IMPORT_ERROR)
    client = BoundedApiClient(_configuration(dict(auth or {})))
    if timeout is not None:
        client.default_request_timeout = request_timeout(timeout)
    return client


def request_timeout(seconds):
    """``_request_timeout`` for a call that must end within ``seconds``."""
    seconds = max(0.1, float(seconds))
    return (min(CONNECT_TIMEOUT, seconds), seconds)


def core_client(kubeconfig=None, context=None, auth=None, timeout=None):
    """A CoreV1Api for kubeconfig/context (env fallbacks as kubernetes.core) or full connection options."""
    auth = dict(auth if auth is not None else auth_from_params({"kubeconfig": kubeconfig, "context": context}))
    return k8s_client.CoreV1Api(api_client(auth, timeout)) if HAS_KUBERNETES else api_client(auth, timeout)


def kubeconfig_path(value):
    """A kubeconfig option given as a path, with ~ expanded (the option is raw: a path or a dict)."""
    return os.path.expanduser(value)


def server_of(core):
    """The API server URL a client talks to (for messages)."""
    try:
        return core.api_client.configuration.host
    except AttributeError:
        return None


def plain(core, obj):
    """A client model object (V1Pod, ...) in the API's JSON shape (camelCase dicts), as k8s_info returns it.

    The pure rules (module_utils/pods.py) read that shape, so a module and a role decide alike.
    """
    if isinstance(obj, dict):
        return obj
    return core.api_client.sanitize_for_serialization(obj)


# --------------------------------------------------------------------------
# errors -> one sentence


def _one_line(value, limit=300):
    text = " ".join(str(value).split())
    return text[:limit]


def _api_reason(exc):
    """Return the API server's own message for an ApiException, if any."""
    body = getattr(exc, "body", None)
    if body:
        try:
            return _one_line(json.loads(body).get("message") or body)
        except (ValueError, AttributeError, TypeError):
            return _one_line(body)
    return _one_line(getattr(exc, "reason", None) or exc)


_FORBIDDEN_WHAT = re.compile(r'cannot (\w+) resource "([^"]+)"(?: in API group "([^"]*)")?'
                             r'(?: in the namespace "([^"]+)")?')
_HANDSHAKE = re.compile(r"Handshake status (\d{3})")


def _server_from_exc(exc):
    for obj in (exc, getattr(exc, "reason", None)):
        pool = getattr(obj, "pool", None) or getattr(obj, "conn", None)
        host = getattr(pool, "host", None)
        if host:
            scheme = getattr(pool, "scheme", None) or "https"
            return "%s://%s:%s" % (scheme, host, getattr(pool, "port", None) or 443)
    return None


def describe_connection_error(exc, what, server=None, timeout=None):
    """A transport failure (refused, timed out, TLS, DNS) as one sentence naming the server."""
    server = server or _server_from_exc(exc) or "the Kubernetes API server"
    cause = exc
    seen = 0
    while seen < 5 and getattr(cause, "reason", None) is not None and not isinstance(cause.reason, str):
        cause, seen = cause.reason, seen + 1
    name = type(cause).__name__
    text = _one_line(cause)
    after = " after %g s" % timeout if timeout else ""
    lowered = text.lower()
    if name == "ConnectTimeoutError" or "connect timeout" in lowered or (
            "connection to" in lowered and "timed out" in lowered):
        return "connecting to %s timed out%s while reading %s" % (server, after, what)
    if name in ("ReadTimeoutError", "timeout", "TimeoutError", "WebSocketTimeoutException") \
            or isinstance(cause, socket.timeout) or "timed out" in lowered:
        return "%s did not answer within the timeout%s while reading %s" % (server, after, what)
    refused = getattr(cause, "errno", None) == errno.ECONNREFUSED or "connection refused" in lowered \
        or "errno 111" in lowered
    if refused:
        return "connection refused by %s while reading %s" % (server, what)
    if name == "SSLError" or "certificate" in lowered or "ssl" in lowered:
        return "TLS with %s failed while reading %s: %s" % (server, what, text)
    return "could not reach %s while reading %s: %s" % (server, what, text)


def describe_api_error(exc, what, server=None, timeout=None):
    """Any failure of an API call as one sentence naming what was read and the cause.

    401 -> credentials rejected; 403 -> forbidden: <verb> <resource>; no HTTP
    status -> the transport failure (refused, timed out, ...) naming the server.
    """
    status = getattr(exc, "status", None)
    if not isinstance(exc, ApiException) and status is None:
        return describe_connection_error(exc, what, server, timeout)
    reason = _api_reason(exc)
    if status == 0 or status is None:
        handshake = _HANDSHAKE.search(reason)
        if handshake:
            status = int(handshake.group(1))
            body = reason.rsplit("-+-+-", maxsplit=1)[-1]
            match = re.search(r'"message":\s*"((?:[^"\\]|\\.)*)"', body)
            reason = match.group(1).replace('\\"', '"') if match else reason
        else:
            return describe_connection_error(ApiException(reason=reason), what, server, timeout)
    server = server or "the API server"
    if status == 401:
        return ("credentials rejected by %s (HTTP 401) while reading %s: the token or client certificate of "
                "the connection options is not accepted (%s)" % (server, what, reason))
    if status == 403:
        found = _FORBIDDEN_WHAT.search(reason)
        if found:
            verb, resource, group, namespace = found.groups()
            target = resource + ("." + group if group else "") + (" in namespace %s" % namespace if namespace else "")
            return "forbidden: %s %s (HTTP 403) while reading %s: %s" % (verb, target, what, reason)
        return "forbidden (HTTP 403) while reading %s: %s" % (what, reason)
    if status == 404:
        return "%s was not found (HTTP 404): %s" % (what, reason)
    return "reading %s failed (HTTP %s): %s" % (what, status, reason)


def log_request_timeout(timeout):
    """The client's _request_timeout for a log read: (connect, read) seconds."""
    if timeout is None:
        return None
    return (float(timeout), float(timeout))


def open_pod_log(core, namespace, pod, container, since_seconds=None, limit_bytes=None, timeout=None):
    """Open the log of one container as a stream (nothing is read yet).

    limit_bytes asks the kubelet to stop there; timeout (seconds) bounds the
    connect and every read, so a silent API server cannot hang the module.
    Returns the urllib3 response; read it with log_chunks().
    """
    what = "the log of container %s in pod %s/%s" % (container, namespace, pod)
    kwargs = {"container": container, "_preload_content": False}
    if since_seconds is not None:
        kwargs["since_seconds"] = max(1, int(since_seconds))
    if limit_bytes is not None:
        kwargs["limit_bytes"] = max(1, int(limit_bytes))
    if timeout is not None:
        kwargs["_request_timeout"] = log_request_timeout(timeout)
    try:
        return core.read_namespaced_pod_log(pod, namespace, **kwargs)
    except ApiException as exc:
        raise KubeError(describe_api_error(exc, what))
    except Exception as exc:
        raise KubeError("could not reach the Kubernetes API while reading %s: %s" % (what, exc))


def log_chunks(resp, what, chunk_size=256 * 1024):
    """Yield the bytes of an open log stream in chunks; memory stays at one chunk.

    A read that times out or breaks off raises KubeError (one sentence).
    """
    try:
        while True:
            try:
                chunk = resp.read(chunk_size)
            except Exception as exc:
                raise KubeError("reading %s broke off: %s" % (what, exc))
            if not chunk:
                return
            yield chunk
    finally:
        try:
            resp.release_conn()
        except Exception:
            pass


def exec_in_pod(core, namespace, pod, container, command, timeout=60, max_bytes=EXEC_MAX_BYTES):
    """Run a command in a container; return (rc, stdout, stderr) as text.

    rc is None when the API did not report an exit status. The whole call
    (connecting, the websocket upgrade, every read, and the run) ends within
    ``timeout`` seconds, and at most ``max_bytes`` of stdout are kept: past
    either, KubeError says so and the stream is closed.
    """
    what = "container %s in pod %s/%s" % (container, namespace, pod)
    server = server_of(core)
    deadline = time.monotonic() + timeout
    # The websocket client opens its socket with no timeout at all (the
    # kubernetes client passes none), so a server that accepts the upgrade
    # request and never answers would block forever: the stream is opened in
    # a helper thread and abandoned (the process ends soon after) past the timeout.
    opened = {}

    def _open():
        try:
            opened["resp"] = k8s_stream(core.connect_get_namespaced_pod_exec, pod, namespace,
                                        container=container, command=list(command),
                                        stderr=True, stdin=False, stdout=True, tty=False,
                                        _preload_content=False, _request_timeout=request_timeout(timeout))
        except BaseException as exc:  # handed to the caller's thread below
            opened["error"] = exc

    opener = threading.Thread(target=_open, name="exec-open", daemon=True)
    opener.start()
    opener.join(timeout)
    if opener.is_alive():
        raise KubeError("%s did not answer the exec request within the %s s timeout while reading %s"
                        % (server or "the API server", timeout, what))
    if "error" in opened:
        raise KubeError(describe_api_error(opened["error"], what, server, timeout))
    resp = opened["resp"]
    try:
        while resp.is_open():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KubeError("exec in %s did not finish within the %s s timeout (%s answered but the command "
                                "did not end)" % (what, timeout, server or "the API server"))
            sock = getattr(resp, "sock", None)
            if sock is not None and hasattr(sock, "settimeout"):
                sock.settimeout(max(0.05, remaining))
            resp.update(timeout=min(remaining, 1.0))
            if len(resp.peek_stdout(timeout=0) or "") > max_bytes:
                raise KubeError("exec in %s printed more than %d MiB: stopped reading (the limit keeps the "
                                "module's memory bounded)" % (what, max_bytes // (1024 * 1024)))
        out = resp.read_stdout() or ""
        err = resp.read_stderr() or ""
        status = resp.read_channel(ERROR_CHANNEL)
    except KubeError:
        raise
    except Exception as exc:
        raise KubeError("exec in %s broke off: %s" % (what, describe_api_error(exc, what, server, timeout)))
    finally:
        # websocket-client waits 3 s for the server's close frame by default;
        # a server that stopped answering would not send one.
        try:
            resp.close(timeout=1)
        except TypeError:
            resp.close()
        except Exception:
            pass
    return exec_exit_code(status, what), out, err


ERROR_CHANNEL = 3  # the exec protocol's status channel (kubernetes.stream.ws_client)


def exec_exit_code(status_text, what="the container"):
    """Exit code from the exec status channel's v1 Status.

    Success -> 0; NonZeroExitCode -> its code; no status (the stream closed
    early) -> None; any other failure (e.g. the runtime could not start the
    command) -> KubeError with the runtime's own message.
    """
    if not status_text or not status_text.strip():
        return None
    try:
        status = json.loads(status_text)
    except ValueError:
        raise KubeError("exec in %s returned an unreadable status: %s" % (what, status_text[:300]))
    if status.get("status") == "Success":
        return 0
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                try:
                    return int(cause.get("message"))
                except (TypeError, ValueError):
                    break
    raise KubeError("exec in %s failed: %s" % (what, status.get("message") or status_text[:300]))
