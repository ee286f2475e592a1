# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation rules for values that reach Kubernetes names, label selectors, Calico selectors and host lists.

Pure functions only: stdlib, no I/O, no AnsibleModule. The roles call them through the filters
of ``plugins/filter/guard.py``; modules may import them. Every ``*_problems`` function returns a
list of sentences (empty when the value is valid), each naming the variable, the value and what
was expected, so a role can join them into one failure message.

Why: a value is pasted into a selector string (``kubernetes.io/metadata.name in {'a', 'b'}``,
``istio=egressgateway``). A namespace such as ``istio-system' || kubernetes.io/metadata.name != '``
or a label value such as ``egressgateway,app!=x`` would otherwise change what the selector matches
(docs/roles.md, "Input validation").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

# Kubernetes apimachinery validation (IsDNS1123Label, IsQualifiedName, IsValidLabelValue).
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

# Namespaces the platform, the mesh or Calico run in: a policy or a Sidecar there cuts the
# cluster's own components off (NOTES "Calico": never select istio-system or kube-system).
SYSTEM_NAMESPACES = (
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "istio-system",
    "calico-system",
    "calico-apiserver",
    "tigera-operator",
)


class RulesError(ValueError):
    """A value the rules cannot read at all (not a list where one is needed); one sentence."""


def show_value(value):
    """A value as the user wrote it, quoted so an empty or odd string is visible."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def is_dns1123_label(value):
    return isinstance(value, str) and len(value) <= 63 and bool(_DNS1123_LABEL.match(value))


def is_label_key(value):
    """A Kubernetes label key: [prefix/]name, prefix a DNS subdomain (<= 253), name <= 63."""
    if not isinstance(value, str) or not value:
        return False
    prefix, slash, name = value.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and bool(_QUALIFIED_NAME.match(name))


def is_label_value(value):
    """A Kubernetes label value: empty, or <= 63 of [A-Za-z0-9-_.] starting and ending alphanumeric."""
    return isinstance(value, str) and len(value) <= 63 and bool(_LABEL_VALUE.match(value))


def namespace_problems(values, variable, forbid_system=False, extra_forbidden=()):
    """Sentences about namespaces that are not DNS-1123 labels (or are protected).

    ``values`` is one namespace or a list of them; ``variable`` names the input in the sentence.
    With ``forbid_system`` the namespaces of SYSTEM_NAMESPACES and ``extra_forbidden`` are refused.
    """
    items = values if isinstance(values, (list, tuple)) else [values]
    problems = []
    bad = [v for v in items if not is_dns1123_label(v)]
    if bad:
        problems.append("%s has %s, which %s not a DNS-1123 label (lowercase letters, digits and '-', "
                        "at most 63 characters)" % (variable, ", ".join(show_value(v) for v in bad),
                                                    "is" if len(bad) == 1 else "are"))
    if forbid_system:
        protected = list(SYSTEM_NAMESPACES) + [v for v in extra_forbidden if v not in SYSTEM_NAMESPACES]
        hit = [v for v in items if v in protected]
        if hit:
            problems.append("%s must not contain the system namespace(s) %s (protected: %s)"
                            % (variable, ", ".join(hit), ", ".join(protected)))
    return problems


def label_problems(labels, variable, allow_empty=False):
    """Sentences about a label map whose keys or values are not valid Kubernetes labels."""
    if not isinstance(labels, dict):
        return ["%s must be a map of label keys to string values, got %s" % (variable, show_value(labels))]
    if not labels and not allow_empty:
        return ["%s must not be empty" % variable]
    problems = []
    for key, value in labels.items():
        if not is_label_key(key):
            problems.append("%s key %s is not a valid label key ([prefix/]name, letters, digits, '-', '_', '.')"
                            % (variable, show_value(key)))
        if not isinstance(value, str):
            problems.append("%s value %s of %s must be a string (quote values YAML reads as numbers or booleans)"
                            % (variable, show_value(value), key))
        elif not is_label_value(value):
            problems.append("%s value %s of %s is not a valid label value (at most 63 of letters, digits, '-', "
                            "'_', '.', starting and ending alphanumeric; no ',', '=', '!', spaces or quotes)"
                            % (variable, show_value(value), key))
    return problems


_CALICO_TERM = re.compile(
    r"^\s*(?:"
    r"(?P<key>[A-Za-z0-9][-A-Za-z0-9_./]*)\s*(?P<op>==|!=)\s*'(?P<value>[^']*)'"
    r"|has\((?P<has>[A-Za-z0-9][-A-Za-z0-9_./]*)\)"
    r"|all\(\)"
    r")\s*$")


def calico_selector_problems(expression, variable):
    """Sentences about a Calico selector outside the small grammar the roles accept.

    Accepted: terms ``key == 'value'``, ``key != 'value'``, ``has(key)`` or ``all()`` joined by
    ``&&``, with valid label keys and values. Anything else (``||``, ``!``, parentheses, ``in``)
    is refused rather than interpreted: the roles never need it, and it is how a value widens
    a selector.
    """
    if not isinstance(expression, str) or not expression.strip():
        return ["%s must be a Calico selector such as k8s-app == 'kube-dns', got %s" % (variable, show_value(expression))]
    for term in expression.split("&&"):
        match = _CALICO_TERM.match(term)
        ok = bool(match)
        if ok and match.group("key") is not None:
            ok = is_label_key(match.group("key")) and is_label_value(match.group("value"))
        elif ok and match.group("has") is not None:
            ok = is_label_key(match.group("has"))
        if not ok:
            return ["%s %s is not a selector of the form key == 'value' [&& ...] (terms ==, !=, has(key), "
                    "all() joined by &&, valid label keys and values)" % (variable, show_value(expression))]
    return []


def selector_from_labels(labels):
    """The equality label selector (``k=v,k2=v2``) of a validated label map, keys sorted."""
    return ",".join("%s=%s" % (key, labels[key]) for key in sorted(labels))


def calico_selector_from_labels(labels):
    """The Calico selector (``k == 'v' && k2 == 'v2'``) of a validated label map, keys sorted as Jinja's dictsort."""
    return " && ".join("%s == '%s'" % (key, labels[key]) for key in sorted(labels, key=lambda k: k.lower()))


def calico_namespace_selector(namespaces):
    """The Calico namespaceSelector of validated namespaces: ``kubernetes.io/metadata.name in { 'a', 'b' }``."""
    return "kubernetes.io/metadata.name in { %s }" % ", ".join("'%s'" % n for n in namespaces)


def parse_label_selector(text):
    """'istio=egressgateway,app=x' -> dict; only equality terms (the selectors selector_from_labels writes).

    Raises RulesError on any other term (``!=``, ``in``, ``!key``).
    """
    result = {}
    for part in ("" if text is None else str(text)).split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part or "!=" in part:
            raise RulesError("label selector %r: only key=value terms are supported" % text)
        key, value = part.split("=", 1)
        result[key.strip().rstrip("=")] = value.strip().lstrip("=")
    return result


def selector_matches(selector, labels):
    """True when every key/value of a selector map is among the labels.

    An empty selector does not count as a match: for an egress Gateway it would select every
    gateway proxy (istiod applies it to all), which is never what the roles mean.
    """
    if not isinstance(selector, dict) or not selector:
        return False
    labels = labels if isinstance(labels, dict) else {}
    return all(labels.get(k) == v for k, v in selector.items())


# --------------------------------------------------------------------------
# host lists (egress_routes_hosts, egress_verify_hosts, the report's settings.hosts)

# A ServiceEntry with resolution DNS needs a real name: lowercase, at least two labels, the
# last one starting with a letter (no IP, no wildcard, no scheme, no port).
_HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
# Objects are named after it; the longest derived name is direct-<name>-through-egress (63 max).
_SHORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$")
_PORT_TEXT = re.compile(r"^[0-9]{1,5}$")
_URL = re.compile(r"^https?://")
_IP_TEXT = re.compile(r"^[0-9A-Fa-f:.]+$")
DEFAULT_PORT = 443


def port_number(value):
    """The port as an int when it is written as an integer (443 or '443'), else None. Not range-checked."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _PORT_TEXT.match(value.strip()):
        return int(value.strip())
    return None


def default_url(host, port):
    """https://<host>/ (port 443) or https://<host>:<port>/."""
    return "https://%s/" % host if port == DEFAULT_PORT else "https://%s:%s/" % (host, port)


def short_name(host):
    """The name objects are named after: the host without its last label, dots as dashes (httpbin.org -> httpbin)."""
    return "-".join(host.split(".")[:-1])


def normalise_hosts(hosts):
    """One mapping per host: ``host``, ``port``, ``name``, ``url`` (and ``address`` when given).

    Items are a host name or a mapping with ``host`` and optional ``port`` (443), ``name``
    (short_name), ``url`` (default_url) and ``address``. A missing, null or empty port is 443; an
    explicit 0 stays 0 for host_list_problems to refuse (the roles used to disagree: one read 0
    as 443, the other refused it). A port written as an integer becomes an int; anything else is
    kept as given, so the problem sentence can show it.
    """
    if not isinstance(hosts, (list, tuple)):
        raise RulesError("the host list must be a list of host names or {host, port} items, got %s" % show_value(hosts))
    out = []
    for entry in hosts:
        item = entry if isinstance(entry, dict) else {"host": entry}
        host = item.get("host")
        host = "" if host is None else str(host)
        port = item.get("port")
        if port is None or port == "":
            port = DEFAULT_PORT
        elif port_number(port) is not None:
            port = port_number(port)
        norm = {"host": host, "port": port,
                "name": str(item.get("name") or short_name(host)),
                "url": item.get("url") or default_url(host, port)}
        if item.get("address") not in (None, ""):
            norm["address"] = item["address"]
        out.append(norm)
    return out


def host_list_problems(items, dns_names=True, short_names=True):
    """Sentences about a normalised host list (normalise_hosts), empty when it is valid.

    Always: the list is not empty, every port is an integer in 1-65535, every url is http(s),
    every address is an IP address. ``dns_names``: hosts are lowercase DNS names with at least two
    labels (egress_routes: resolution DNS), else only present. ``short_names``: the names objects
    are named after are short DNS labels, and hosts and names are unique (egress_routes).
    """
    if not isinstance(items, (list, tuple)):
        raise RulesError("the host list must be normalised first (normalise_hosts), got %s" % show_value(items))
    if not items:
        return ["the list is empty"]
    problems = []
    hosts = [i.get("host") for i in items]
    if dns_names:
        bad = [h for h in hosts if not isinstance(h, str) or not _HOST_NAME.match(h)]
        if bad:
            problems.append("host(s) %s are not lowercase DNS names with at least two labels (no wildcards, no "
                            "scheme, no port: resolution DNS needs a real name)" % ", ".join(str(h) for h in bad))
    else:
        missing = [str(n + 1) for n, h in enumerate(hosts) if not h]
        if missing:
            problems.append("item(s) %s have no host" % ", ".join(missing))
    ports = [i.get("port") for i in items]
    bad = [p for p in ports if port_number(p) is None or not 1 <= port_number(p) <= 65535]
    if bad:
        problems.append("port(s) %s are not integers between 1 and 65535" % ", ".join(str(p) for p in bad))
    bad = [i.get("url") for i in items if not isinstance(i.get("url"), str) or not _URL.match(i["url"])]
    if bad:
        problems.append("url(s) %s are not http(s) URLs" % ", ".join(show_value(u) for u in bad))
    bad = ["%s of %s" % (show_value(i["address"]), i.get("host")) for i in items
           if "address" in i and not (isinstance(i["address"], str) and _IP_TEXT.match(i["address"]))]
    if bad:
        problems.append("address(es) %s are not IP addresses" % ", ".join(bad))
    if short_names:
        names = [i.get("name") for i in items]
        bad = [n for n in names if not isinstance(n, str) or not _SHORT_NAME.match(n)]
        if bad:
            problems.append("name(s) %s are not DNS labels of at most 40 characters (set a short `name` for the host)"
                            % ", ".join(str(n) for n in bad))
        if len(set(hosts)) != len(hosts) or len(set(names)) != len(names):
            problems.append("a host is listed twice or two hosts share the short name objects are named after (%s): "
                            "give one of them its own `name`, e.g. {host: example.org, name: example-org}"
                            % ", ".join(str(n) for n in names))
    return problems
