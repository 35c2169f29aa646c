# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Unit tests of autostack.wordpress.ecr_authorization_token: token decoding, registry address, the result."""

from __future__ import annotations

import base64
import datetime

import pytest

from ansible_collections.autostack.wordpress.plugins.modules.ecr_authorization_token import TokenError
from ansible_collections.autostack.wordpress.plugins.modules.ecr_authorization_token import credentials
from ansible_collections.autostack.wordpress.plugins.modules.ecr_authorization_token import decode_token
from ansible_collections.autostack.wordpress.plugins.modules.ecr_authorization_token import registry_of


def token(text):
    return base64.b64encode(text.encode()).decode()


def test_decode_token():
    assert decode_token(token("AWS:eyJwYXlsb2FkIjoi")) == ("AWS", "eyJwYXlsb2FkIjoi")
    # Only the first colon separates: a password may hold more.
    assert decode_token(token("AWS:a:b:c")) == ("AWS", "a:b:c")


@pytest.mark.parametrize(
    "value, message",
    [
        ("not base64!", "not base64"),
        (token("AWS"), "not of the form user:password"),
        (token(":password"), "not of the form"),
        (token("AWS:"), "not of the form"),
        ("", "not of the form"),
        (base64.b64encode(b"\xff\xfe:x").decode(), "not base64"),
    ],
)
def test_decode_token_refuses_garbage(value, message):
    with pytest.raises(TokenError, match=message):
        decode_token(value)


@pytest.mark.parametrize(
    "endpoint, registry",
    [
        ("https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
        ("https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
        ("http://127.0.0.1:4576", "127.0.0.1:4576"),
        ("127.0.0.1:4576", "127.0.0.1:4576"),
        ("localhost", "localhost"),
    ],
)
def test_registry_of(endpoint, registry):
    assert registry_of(endpoint) == registry


@pytest.mark.parametrize("endpoint", ["", None, "https://", "https://host/v2/", "https://host?x=1"])
def test_registry_of_refuses_what_is_not_a_registry(endpoint):
    with pytest.raises(TokenError, match="proxy endpoint"):
        registry_of(endpoint)


def test_credentials():
    response = {
        "authorizationData": [
            {
                "authorizationToken": token("AWS:secret-password"),
                "proxyEndpoint": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
                "expiresAt": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
            }
        ]
    }
    assert credentials(response) == {
        "registry": "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        "proxy_endpoint": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        "username": "AWS",
        "password": "secret-password",
        "expires_at": "2026-01-02T01:04:05+00:00",
    }


def test_credentials_without_data_fail():
    with pytest.raises(TokenError, match="no authorization data"):
        credentials({"authorizationData": []})
