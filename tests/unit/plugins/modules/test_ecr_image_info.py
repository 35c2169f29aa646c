# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Unit tests of autostack.wordpress.ecr_image_info: selection and ordering, then the calls to ECR with botocore's
Stubber (missing tags skipped, a missing repository failing clearly).
"""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.autostack.wordpress.plugins.modules.ecr_image_info import EcrImages
from ansible_collections.autostack.wordpress.plugins.modules.ecr_image_info import select_images

UTC = datetime.timezone.utc
MEDIA = "application/vnd.docker.distribution.manifest.v2+json"


def detail(digest, tags, pushed, size=100):
    entry = {
        "registryId": "123456789012",
        "repositoryName": "wp/wordpress",
        "imageDigest": digest,
        "imagePushedAt": pushed,
        "imageSizeInBytes": size,
        "imageManifestMediaType": MEDIA,
    }
    if tags:
        entry["imageTags"] = tags
    return entry


OLD = detail("sha256:" + "a" * 64, ["6.7-aaaaaaaaaaaa", "stable"], datetime.datetime(2025, 1, 1, tzinfo=UTC))
NEW = detail("sha256:" + "b" * 64, ["6.8-bbbbbbbbbbbb"], datetime.datetime(2025, 6, 1, 12, tzinfo=UTC), 200)
UNTAGGED = detail("sha256:" + "c" * 64, None, datetime.datetime(2025, 3, 1, tzinfo=UTC))


def test_all_images_newest_first_with_the_module_field_names():
    images = select_images([OLD, UNTAGGED, NEW])
    assert [i["digest"] for i in images] == [NEW["imageDigest"], UNTAGGED["imageDigest"], OLD["imageDigest"]]
    assert images[0] == {
        "digest": "sha256:" + "b" * 64,
        "tags": ["6.8-bbbbbbbbbbbb"],
        "pushed_at": "2025-06-01T12:00:00+00:00",
        "size_bytes": 200,
        "manifest_media_type": MEDIA,
    }
    assert images[1]["tags"] == []


@pytest.mark.parametrize(
    "image_tags, suffix, expected",
    [
        (None, "-bbbbbbbbbbbb", [NEW]),
        (None, "bbbb", [NEW]),
        (None, "-cccccccccccc", []),
        (["stable"], None, [OLD]),
        (["stable", "6.8-bbbbbbbbbbbb"], None, [NEW, OLD]),
        (["stable"], "-bbbbbbbbbbbb", []),
        ([], None, []),
    ],
)
def test_selection(image_tags, suffix, expected):
    found = select_images([OLD, UNTAGGED, NEW], image_tags, suffix)
    assert [i["digest"] for i in found] == [e["imageDigest"] for e in expected]


def test_one_entry_per_digest():
    assert len(select_images([OLD, NEW, OLD])) == 2


class Failed(Exception):
    pass


class FakeModule:
    check_mode = False

    def fail_json(self, **kwargs):
        raise Failed(kwargs["msg"])


class RetryingClient:
    """A stubbed boto3 client that takes the ``aws_retry`` argument of AnsibleAWSModule's clients."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        method = getattr(self._client, name)
        if name in ("get_paginator", "exceptions"):
            return method

        def call(*args, aws_retry=False, **kwargs):
            return method(*args, **kwargs)

        return call


@pytest.fixture
def ecr():
    client = boto3.client("ecr", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield stub, RetryingClient(client)
        stub.assert_no_pending_responses()


def test_missing_tags_are_skipped(ecr):
    stub, client = ecr
    stub.add_response(
        "describe_images",
        {"imageDetails": [NEW]},
        {"repositoryName": "wp/wordpress", "imageIds": [{"imageTag": "6.8-bbbbbbbbbbbb"}]},
    )
    stub.add_client_error(
        "describe_images",
        service_error_code="ImageNotFoundException",
        expected_params={"repositoryName": "wp/wordpress", "imageIds": [{"imageTag": "nope"}]},
    )
    images = EcrImages(FakeModule(), client).images("wp/wordpress", None, ["6.8-bbbbbbbbbbbb", "nope"], None)
    assert [i["tags"] for i in images] == [["6.8-bbbbbbbbbbbb"]]


def test_every_page_is_read(ecr):
    stub, client = ecr
    stub.add_response(
        "describe_images",
        {"imageDetails": [OLD], "nextToken": "t1"},
        {"repositoryName": "wp/wordpress", "registryId": "123456789012"},
    )
    stub.add_response(
        "describe_images",
        {"imageDetails": [NEW]},
        {"repositoryName": "wp/wordpress", "registryId": "123456789012", "nextToken": "t1"},
    )
    images = EcrImages(FakeModule(), client).images("wp/wordpress", "123456789012", None, "-bbbbbbbbbbbb")
    assert [i["digest"] for i in images] == [NEW["imageDigest"]]


def test_missing_repository_fails_clearly(ecr):
    stub, client = ecr
    stub.add_client_error("describe_images", service_error_code="RepositoryNotFoundException")
    with pytest.raises(Failed, match="ECR repository wp/nothing does not exist in registry 123456789012"):
        EcrImages(FakeModule(), client).images("wp/nothing", "123456789012", None, None)
