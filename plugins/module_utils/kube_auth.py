# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes connection options every live-reading module takes (doc fragment kube_auth),
and the argument spec of the REST modules (with their timeout, doc fragment kube_request).

Pure: stdlib only, no client import (cluster_read's action plugin uses them in the controller
without paying for the kubernetes client); kube.py re-exports them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

# --------------------------------------------------------------------------
# connection options: the names and environment variables of kubernetes.core
# (plugins/module_utils/args_common.py AUTH_ARG_SPEC, documented by its
# k8s_auth_options fragment), so module_defaults can carry the same values.
# ``host`` is ``api_host`` here: our modules' ``host`` is the external host.

PROXY_HEADERS_SPEC = {
    "proxy_basic_auth": {"type": "str", "no_log": True},
    "basic_auth": {"type": "str", "no_log": True},
    "user_agent": {"type": "str"},
}

AUTH_ARG_SPEC = {
    "kubeconfig": {"type": "raw"},
    "context": {"type": "str"},
    "api_host": {"type": "str"},
    "api_key": {"type": "str", "no_log": True},
    "validate_certs": {"type": "bool", "aliases": ["verify_ssl"]},
    "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"]},
    "client_cert": {"type": "path", "aliases": ["cert_file"]},
    "client_key": {"type": "path", "aliases": ["key_file"]},
    "proxy": {"type": "str"},
    "no_proxy": {"type": "str"},
    "proxy_headers": {"type": "dict", "options": PROXY_HEADERS_SPEC},
}

# The per-request timeout of the standard-library REST modules, cluster_read and cluster_apply
# (doc fragment kube_request; kube_read.validate_timeout checks the value).
REQUEST_ARG_SPEC = {
    "timeout": {"type": "float", "default": 30},
}


def rest_argument_spec(options):
    """A REST module's argument spec: ``timeout``, the module's own ``options`` and the connection options."""
    spec = dict(REQUEST_ARG_SPEC)
    spec.update(options)
    spec.update(AUTH_ARG_SPEC)
    return spec


# option -> environment variables read when the option is not set (kubernetes.core's names)
AUTH_ENV = {
    "kubeconfig": ("K8S_AUTH_KUBECONFIG",),
    "context": ("K8S_AUTH_CONTEXT",),
    "api_host": ("K8S_AUTH_HOST",),
    "api_key": ("K8S_AUTH_API_KEY",),
    "validate_certs": ("K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"),
    "ca_cert": ("K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT"),
    "client_cert": ("K8S_AUTH_CLIENT_CERT", "K8S_AUTH_CERT_FILE"),
    "client_key": ("K8S_AUTH_CLIENT_KEY", "K8S_AUTH_KEY_FILE"),
    "proxy": ("K8S_AUTH_PROXY",),
    "no_proxy": ("K8S_AUTH_NO_PROXY",),
}


def auth_from_params(params, environ=None):
    """The connection options from module params, with kubernetes.core's K8S_AUTH_* fallbacks."""
    environ = os.environ if environ is None else environ
    auth = {}
    for name in AUTH_ARG_SPEC:
        value = params.get(name)
        if value is None and name in AUTH_ENV:
            for var in AUTH_ENV[name]:
                if environ.get(var):
                    value = environ[var]
                    if AUTH_ARG_SPEC[name]["type"] == "bool":
                        value = value.lower() not in ("0", "false", "no")
                    break
        if value is not None:
            auth[name] = value
    headers = dict(params.get("proxy_headers") or {})
    for key in PROXY_HEADERS_SPEC:
        var = "K8S_AUTH_PROXY_HEADERS_%s" % key.upper()
        if headers.get(key) is None and environ.get(var):
            headers[key] = environ[var]
    headers = {k: v for k, v in headers.items() if v is not None}
    if headers:
        auth["proxy_headers"] = headers
    return auth
