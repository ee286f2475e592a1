# -*- coding: utf-8 -*-
# Copyright: (c) 2026, homelab platform engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared documentation for the Kubernetes connection options (kubernetes.core's names and variables)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The options and their K8S_AUTH_* variables follow kubernetes.core's
    # k8s_auth_options fragment, so one module_defaults block can serve both;
    # its "host" is "api_host" here because our modules' "host" is the
    # external host they follow. The spec is kube.AUTH_ARG_SPEC.
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or a kubeconfig as a dictionary, used for live reads.
      - Falls back to E(K8S_AUTH_KUBECONFIG). With none of O(kubeconfig), O(context), O(api_host) and
        credentials set, the pod's service account is used when running in a cluster, else the client
        library's default kubeconfig (E(KUBECONFIG) or C(~/.kube/config)), as M(kubernetes.core.k8s_info) does.
    type: raw
  context:
    description:
      - Name of the kubeconfig context to use. Falls back to E(K8S_AUTH_CONTEXT), then to the current context.
    type: str
  api_host:
    description:
      - URL of the Kubernetes API server (kubernetes.core's C(host)). Falls back to E(K8S_AUTH_HOST).
      - With O(api_key), or O(client_cert) and O(client_key), no kubeconfig is read.
    type: str
  api_key:
    description:
      - Bearer token for the API server. Falls back to E(K8S_AUTH_API_KEY).
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate. Falls back to E(K8S_AUTH_VALIDATE_CERTS) or
        E(K8S_AUTH_VERIFY_SSL); by default the kubeconfig's setting (verify).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path to a CA certificate for the API server. Falls back to E(K8S_AUTH_CA_CERT) or E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path to a client certificate. Falls back to E(K8S_AUTH_CLIENT_CERT) or E(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the key of O(client_cert). Falls back to E(K8S_AUTH_CLIENT_KEY) or E(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  proxy:
    description:
      - HTTP proxy URL for the API server connection. Falls back to E(K8S_AUTH_PROXY).
    type: str
  no_proxy:
    description:
      - Comma-separated hosts, domains, IPs or CIDRs to reach without O(proxy). Falls back to E(K8S_AUTH_NO_PROXY).
    type: str
  proxy_headers:
    description:
      - Headers sent to O(proxy).
    type: dict
    suboptions:
      proxy_basic_auth:
        description:
          - C(user:password) for the proxy. Falls back to E(K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH).
        type: str
      basic_auth:
        description:
          - C(user:password) basic authentication. Falls back to E(K8S_AUTH_PROXY_HEADERS_BASIC_AUTH).
        type: str
      user_agent:
        description:
          - User agent. Falls back to E(K8S_AUTH_PROXY_HEADERS_USER_AGENT).
        type: str
requirements:
  - kubernetes >= 24.2.0 (Python client), only for live reads
notes:
  - Every API request has a connect timeout (10 s at most) and a read timeout, and is not retried; an
    unreachable, refusing or silent API server fails the task with one sentence naming the server.
"""
