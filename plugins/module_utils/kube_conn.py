# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which API server, credentials and TLS settings a connection uses (cluster_read's engine).

Pure functions only: stdlib, no I/O, no AnsibleModule. kube_rest.py reads the files (the
kubeconfig, a tokenFile, the service account) and hands their contents here. The rules follow
kube.py's ``_configuration`` (the kubernetes client's loader), so cluster_read connects where
the other modules do:

* ``api_host`` with ``api_key`` or ``client_cert`` + ``client_key``: no kubeconfig is read;
* a kubeconfig (path or dict) and ``context``: that context, else ``current-context``;
* nothing given: the pod's service account when running in a cluster, else ``$KUBECONFIG``
  (its FIRST file only: lists are not merged) or ``~/.kube/config``;
* then the explicit options override what the kubeconfig said.

A kubeconfig user with ``exec`` or ``auth-provider`` needs the client's plugins: ``settings``
returns ``needs_client`` and kube_rest.py takes the connection from the kubernetes client.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import ipaddress

# option -> settings key the explicit options override
OVERRIDES = (("api_host", "server"), ("api_key", "token"), ("ca_cert", "ca_file"), ("client_cert", "cert_file"),
             ("client_key", "key_file"), ("proxy", "proxy"), ("no_proxy", "no_proxy"))

# The kubeconfig's "inline data, else a file" pairs: (section, data field, file field, settings key
# of the data, settings key of the file, whether the data is base64). One of a pair is used: the
# data when set (as kubectl does), and an explicit option for either side replaces the other.
PAIRS = (
    ("cluster", "certificate-authority-data", "certificate-authority", "ca_data", "ca_file", True),
    ("user", "client-certificate-data", "client-certificate", "cert_data", "cert_file", True),
    ("user", "client-key-data", "client-key", "key_data", "key_file", True),
    ("user", "token", "tokenFile", "token", "token_file", False),
)


class ConnError(ValueError):
    """A kubeconfig or option the engine cannot use; str(exc) is one sentence."""


def explicit(auth):
    """True when the options alone name the server and credentials (no kubeconfig is read)."""
    return bool(auth.get("api_host") and (auth.get("api_key") or (auth.get("client_cert") and auth.get("client_key"))))


def _named(doc, section, name, where, context=None):
    entries = [e for e in doc.get(section) or [] if isinstance(e, dict)]
    for entry in entries:
        if entry.get("name") == name:
            return entry.get(section[:-1]) or {}
    if context is None:
        raise ConnError("context %r does not exist in %s (it has: %s)" % (
            name, where, ", ".join(str(e.get("name")) for e in entries) or "no contexts"))
    raise ConnError("%s %r of context %r does not exist in %s" % (section[:-1], name, context, where))


def _b64(value, field, where):
    try:
        return base64.b64decode(value, validate=False)
    except (ValueError, TypeError):
        raise ConnError("%s: %s is not valid base64" % (where, field))


def from_kubeconfig(doc, context=None, where="the kubeconfig"):
    """Settings of ``context`` (default: current-context) of a parsed kubeconfig.

    Returns a dict with server, ca_data (bytes) / ca_file, insecure, cert_data / cert_file,
    key_data / key_file, token / token_file, username / password, proxy, tls_server_name and
    needs_client (exec / auth-provider users).
    """
    if not isinstance(doc, dict):
        raise ConnError("%s is not a kubeconfig (a mapping with clusters, users and contexts)" % where)
    name = context or doc.get("current-context")
    if not name:
        raise ConnError("%s has no current-context and no context was given" % where)
    ctx = _named(doc, "contexts", name, where)
    cluster = _named(doc, "clusters", ctx.get("cluster"), where, name) if ctx.get("cluster") else {}
    user = _named(doc, "users", ctx.get("user"), where, name) if ctx.get("user") else {}
    if not cluster.get("server"):
        raise ConnError("%s: context %s names no cluster with a server" % (where, name))
    out = {"server": cluster["server"], "context": name, "namespace": ctx.get("namespace"),
           "insecure": bool(cluster.get("insecure-skip-tls-verify")), "needs_client": False}
    if cluster.get("tls-server-name"):
        out["tls_server_name"] = cluster["tls-server-name"]
    if cluster.get("proxy-url"):
        out["proxy"] = cluster["proxy-url"]
    sections = {"cluster": cluster, "user": user}
    for section, data_field, file_field, data_key, file_key, encoded in PAIRS:
        entry = sections[section]
        if entry.get(data_field):
            out[data_key] = _b64(entry[data_field], data_field, where) if encoded else entry[data_field]
        elif entry.get(file_field):
            out[file_key] = entry[file_field]
    if user.get("username") is not None and user.get("password") is not None:
        out["username"], out["password"] = str(user["username"]), str(user["password"])
    if user.get("exec") or user.get("auth-provider"):
        out["needs_client"] = True
    return out


def in_cluster(environ, token, ca_file):
    """Settings of the pod's service account (KUBERNETES_SERVICE_HOST/PORT and its mounted files)."""
    host = environ.get("KUBERNETES_SERVICE_HOST")
    port = environ.get("KUBERNETES_SERVICE_PORT")
    if ":" in host:
        host = "[%s]" % host
    return {"server": "https://%s:%s" % (host, port), "token": token.strip(), "ca_file": ca_file,
            "insecure": False, "needs_client": False, "context": "(in-cluster service account)"}


def override(settings, auth):
    """Apply the explicit connection options over the kubeconfig's settings."""
    out = dict(settings)
    for option, key in OVERRIDES:
        if auth.get(option):
            out[key] = auth[option].rstrip("/") if option == "api_host" else auth[option]
            for _section, _data_field, _file_field, data_key, file_key, _encoded in PAIRS:
                if key in (data_key, file_key):
                    out.pop(file_key if key == data_key else data_key, None)
    if auth.get("validate_certs") is not None:
        out["insecure"] = not auth["validate_certs"]
    if auth.get("proxy_headers"):
        out["proxy_headers"] = dict(auth["proxy_headers"])
    return out


def split_server(server):
    """(scheme, host, port, path prefix) of a server URL; raises ConnError for a bad one."""
    text = server or ""
    scheme, sep, rest = text.partition("://")
    if not sep or scheme not in ("http", "https"):
        raise ConnError("server %r is not an http(s) URL" % (server,))
    hostport, _slash, path = rest.partition("/")
    if hostport.startswith("["):
        host, _b, tail = hostport[1:].partition("]")
        port = tail[1:] if tail.startswith(":") else ""
    else:
        host, _c, port = hostport.partition(":")
    if not host:
        raise ConnError("server %r names no host" % (server,))
    try:
        port = int(port) if port else (443 if scheme == "https" else 80)
    except ValueError:
        raise ConnError("server %r has a bad port" % (server,))
    prefix = ("/" + path).rstrip("/") if path else ""
    return scheme, host, port, prefix


def bypasses_proxy(host, no_proxy):
    """True when ``host`` matches ``no_proxy`` (comma-separated hosts, .domains, IPs, CIDRs, or *)."""
    for entry in (no_proxy or "").split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        name = host.lower().strip("[]")
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            address = None
        if address is not None and "/" in entry:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        entry = entry.split(":")[0] if entry.count(":") == 1 else entry
        if name == entry.lstrip(".") or name.endswith("." + entry.lstrip(".")):
            return True
    return False


def proxy_header_values(proxy_headers):
    """(headers for the proxy CONNECT, headers for every request) from the proxy_headers option."""
    tunnel, request = {}, {}
    headers = proxy_headers or {}
    if headers.get("proxy_basic_auth"):
        tunnel["Proxy-Authorization"] = "Basic " + base64.b64encode(
            headers["proxy_basic_auth"].encode("utf-8")).decode("ascii")
    if headers.get("basic_auth"):
        request["Authorization"] = "Basic " + base64.b64encode(headers["basic_auth"].encode("utf-8")).decode("ascii")
    if headers.get("user_agent"):
        tunnel["User-Agent"] = request["User-Agent"] = headers["user_agent"]
    return tunnel, request


def authorization(settings):
    """The Authorization header of the settings (a bearer token wins over basic auth)."""
    if settings.get("token"):
        return "Bearer %s" % settings["token"]
    if settings.get("username") is not None:
        pair = "%s:%s" % (settings["username"], settings.get("password", ""))
        return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    return None
