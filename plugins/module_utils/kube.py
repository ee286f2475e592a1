# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live reads from the Kubernetes API for the read-only modules.

This is the only module_utils file that does I/O. It wraps the official
Python client and turns every API failure into a KubeError carrying one clear
sentence, so the modules can hand it to fail_json without a traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

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


class KubeError(Exception):
    """A Kubernetes API read failed; str(exc) is one sentence for the user."""


def _api_reason(exc):
    """Return the API server's own message for an ApiException, if any."""
    body = getattr(exc, "body", None)
    if body:
        try:
            return json.loads(body).get("message") or str(body)
        except (ValueError, AttributeError, TypeError):
            return str(body)[:300]
    return getattr(exc, "reason", None) or str(exc)


def describe_api_error(exc, what):
    """Turn an ApiException into one sentence naming what was being read."""
    status = getattr(exc, "status", None)
    reason = _api_reason(exc)
    if status == 404:
        return "%s was not found (HTTP 404): %s" % (what, reason)
    if status in (401, 403):
        return ("access to %s was denied (HTTP %s, check the RBAC of the kubeconfig's user): %s"
                % (what, status, reason))
    if status is None or status == 0:
        return "could not reach the Kubernetes API while reading %s: %s" % (what, reason)
    return "reading %s failed (HTTP %s): %s" % (what, status, reason)


def core_client(kubeconfig=None, context=None):
    """Return a CoreV1Api for the given kubeconfig/context (env fallbacks as kubernetes.core)."""
    if not HAS_KUBERNETES:
        raise KubeError("the Python 'kubernetes' client is required for live reads: "
                        "pip install kubernetes (%s)" % KUBERNETES_IMPORT_ERROR)
    kubeconfig = kubeconfig or os.environ.get("K8S_AUTH_KUBECONFIG")
    context = context or os.environ.get("K8S_AUTH_CONTEXT")
    try:
        api_client = k8s_config.new_client_from_config(config_file=kubeconfig, context=context)
    except Exception as exc:  # config errors come in many exception types
        raise KubeError("could not load kubeconfig %s (context %s): %s"
                        % (kubeconfig or "(default)", context or "(current)", exc))
    return k8s_client.CoreV1Api(api_client)


def list_pod_names(core, namespace, selector):
    """Names of the pods matching a label selector, sorted."""
    what = "pods with selector %r in namespace %s" % (selector, namespace)
    try:
        pods = core.list_namespaced_pod(namespace, label_selector=selector)
    except ApiException as exc:
        raise KubeError(describe_api_error(exc, what))
    except Exception as exc:
        raise KubeError("could not reach the Kubernetes API while listing %s: %s" % (what, exc))
    return sorted(p.metadata.name for p in pods.items)


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


def exec_in_pod(core, namespace, pod, container, command, timeout=60):
    """Run a command in a container; return (rc, stdout, stderr) as text.

    rc is None when the API did not report an exit status.
    """
    what = "container %s in pod %s/%s" % (container, namespace, pod)
    try:
        resp = k8s_stream(core.connect_get_namespaced_pod_exec, pod, namespace,
                          container=container, command=list(command),
                          stderr=True, stdin=False, stdout=True, tty=False,
                          _preload_content=False)
    except ApiException as exc:
        raise KubeError(describe_api_error(exc, what))
    except Exception as exc:
        raise KubeError("could not exec in %s: %s" % (what, exc))
    try:
        resp.run_forever(timeout=timeout)
        out = resp.read_stdout() or ""
        err = resp.read_stderr() or ""
        status = resp.read_channel(ERROR_CHANNEL)
    except Exception as exc:
        raise KubeError("exec in %s broke off: %s" % (what, exc))
    finally:
        try:
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
