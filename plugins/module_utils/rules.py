# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation rules for values that reach Kubernetes names, label selectors and Calico selectors.

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


def _show(value):
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
                        "at most 63 characters)" % (variable, ", ".join(_show(v) for v in bad),
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
        return ["%s must be a map of label keys to string values, got %s" % (variable, _show(labels))]
    if not labels and not allow_empty:
        return ["%s must not be empty" % variable]
    problems = []
    for key, value in labels.items():
        if not is_label_key(key):
            problems.append("%s key %s is not a valid label key ([prefix/]name, letters, digits, '-', '_', '.')"
                            % (variable, _show(key)))
        if not isinstance(value, str):
            problems.append("%s value %s of %s must be a string (quote values YAML reads as numbers or booleans)"
                            % (variable, _show(value), key))
        elif not is_label_value(value):
            problems.append("%s value %s of %s is not a valid label value (at most 63 of letters, digits, '-', "
                            "'_', '.', starting and ending alphanumeric; no ',', '=', '!', spaces or quotes)"
                            % (variable, _show(value), key))
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
        return ["%s must be a Calico selector such as k8s-app == 'kube-dns', got %s" % (variable, _show(expression))]
    for term in expression.split("&&"):
        match = _CALICO_TERM.match(term)
        ok = bool(match)
        if ok and match.group("key") is not None:
            ok = is_label_key(match.group("key")) and is_label_value(match.group("value"))
        elif ok and match.group("has") is not None:
            ok = is_label_key(match.group("has"))
        if not ok:
            return ["%s %s is not a selector of the form key == 'value' [&& ...] (terms ==, !=, has(key), "
                    "all() joined by &&, valid label keys and values)" % (variable, _show(expression))]
    return []


def selector_from_labels(labels):
    """The equality label selector (``k=v,k2=v2``) of a validated label map, keys sorted."""
    return ",".join("%s=%s" % (key, labels[key]) for key in sorted(labels))
