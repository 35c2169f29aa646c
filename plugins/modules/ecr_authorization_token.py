#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecr_authorization_token
version_added: 0.1.0
short_description: Get Docker registry credentials for Amazon ECR
description:
  - Calls ECR's C(GetAuthorizationToken) and returns the registry's address, user name and password, ready for
    M(community.docker.docker_login) (C(registry_url), C(username), C(password)).
  - The credentials are valid for 12 hours (RV(expires_at)).
  - Read-only; runs in check mode too, so that a check run can log in and look at the registry.
  - "B(Set no_log on the task) (C(no_log: true)), and on every task that uses the password. The result holds the
    registry password in clear (it must, for M(community.docker.docker_login)); without C(no_log) it reaches the
    output with C(-v), callbacks and logs."
author:
  - autostack contributors (@autostack)
options:
  registry_id:
    description:
      - AWS account id of the registry. Default, the caller's own registry.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details:
      - Read-only; the result is the same in check mode.
  diff_mode:
    support: none
  idempotent:
    description: Whether a second run with the same parameters reports no change.
    support: full
  platform:
    platforms: aws
"""

EXAMPLES = r"""
- name: Ask ECR for registry credentials
  autostack.wordpress.ecr_authorization_token:
  register: ecr_token
  no_log: true

- name: Log in to the registry
  community.docker.docker_login:
    registry_url: "{{ ecr_token.registry }}"
    username: "{{ ecr_token.username }}"
    password: "{{ ecr_token.password }}"
    reauthorize: true
  no_log: true
"""

RETURN = r"""
registry:
  description: The registry's address, C(host[:port]) without scheme, as C(registry_url) of M(community.docker.docker_login)
    and as the prefix of image names (C(<registry>/<repository>:<tag>)).
  returned: success
  type: str
  sample: 123456789012.dkr.ecr.eu-west-1.amazonaws.com
proxy_endpoint:
  description: The registry's URL as ECR gives it.
  returned: success
  type: str
  sample: https://123456789012.dkr.ecr.eu-west-1.amazonaws.com
username:
  description: The user name for the registry (C(AWS) on AWS).
  returned: success
  type: str
  sample: AWS
password:
  description: The password for the registry. Secret.
  returned: success
  type: str
expires_at:
  description: When the credentials expire, ISO 8601 in UTC.
  returned: success
  type: str
  sample: "2025-01-01T12:00:00+00:00"
"""

import base64
import binascii
import datetime
from urllib.parse import urlsplit

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


class TokenError(ValueError):
    pass


def decode_token(token):
    """``(username, password)`` from an ECR authorization token (base64 of ``user:password``)."""
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, TypeError):
        raise TokenError("ECR returned an authorization token that is not base64 of user:password")
    username, sep, password = decoded.partition(":")
    if not sep or not username or not password:
        raise TokenError("ECR returned an authorization token that is not of the form user:password")
    return username, password


def registry_of(proxy_endpoint):
    """``host[:port]`` of a proxy endpoint (``https://host[:port]`` or a bare ``host[:port]``)."""
    text = (proxy_endpoint or "").strip()
    parts = urlsplit(text if "://" in text else "//" + text)
    if not parts.netloc or parts.path.strip("/") or parts.query:
        raise TokenError("ECR returned a proxy endpoint that is not a registry address: %r" % proxy_endpoint)
    return parts.netloc


def iso8601(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.astimezone(datetime.timezone.utc).isoformat()
    return str(value) if value is not None else None


def credentials(response):
    """The module's result from a ``GetAuthorizationToken`` response."""
    data = response.get("authorizationData") or []
    if not data:
        raise TokenError("ECR returned no authorization data")
    entry = data[0]
    username, password = decode_token(entry.get("authorizationToken") or "")
    return dict(
        registry=registry_of(entry.get("proxyEndpoint")),
        proxy_endpoint=entry.get("proxyEndpoint"),
        username=username,
        password=password,
        expires_at=iso8601(entry.get("expiresAt")),
    )


def main():
    argument_spec = dict(registry_id=dict(type="str"))
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    registry_id = module.params["registry_id"]
    kwargs = {"registryIds": [registry_id]} if registry_id else {}
    try:
        client = module.client("ecr", retry_decorator=AWSRetry.jittered_backoff())
        response = client.get_authorization_token(aws_retry=True, **kwargs)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to get an ECR authorization token")
    try:
        result = credentials(response)
    except TokenError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
