# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Unit tests of autostack.wordpress.ecr_repository_tags: the tag plan, then the manager with a fake client.

No network: the fake client answers like ECR does (Key/Value tag lists) and records every call.
"""

from __future__ import annotations

import copy

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.autostack.wordpress.plugins.modules.ecr_repository_tags import EcrRepositoryTags
from ansible_collections.autostack.wordpress.plugins.modules.ecr_repository_tags import plan_tags

ARN = "arn:aws:ecr:eu-west-1:123456789012:repository/wp/wordpress"


@pytest.mark.parametrize(
    "current, wanted, purge, to_set, to_remove, after",
    [
        ({}, {"a": "1"}, True, {"a": "1"}, [], {"a": "1"}),
        ({"a": "1"}, {"a": "1"}, True, {}, [], {"a": "1"}),
        ({"a": "1"}, {"a": "2"}, True, {"a": "2"}, [], {"a": "2"}),
        ({"a": "1", "b": "2"}, {"a": "1"}, True, {}, ["b"], {"a": "1"}),
        ({"a": "1", "b": "2"}, {"a": "1"}, False, {}, [], {"a": "1", "b": "2"}),
        ({"b": "2", "c": "3"}, {"a": "1"}, True, {"a": "1"}, ["b", "c"], {"a": "1"}),
    ],
)
def test_plan_tags(current, wanted, purge, to_set, to_remove, after):
    assert plan_tags(current, wanted, purge) == (to_set, to_remove, after)


class FakeECR:
    def __init__(self, tags=None, exists=True):
        self.tags = dict(tags or {})
        self.exists = exists
        self.calls = []
        # A real client's exceptions, so that is_boto3_error_code matches as it does against AWS.
        self._real = boto3.client("ecr", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
        self.exceptions = self._real.exceptions

    def describe_repositories(self, repositoryNames, aws_retry=False, **kwargs):
        if not self.exists:
            stub = Stubber(self._real)
            stub.add_client_error("describe_repositories", service_error_code="RepositoryNotFoundException")
            with stub:
                self._real.describe_repositories(repositoryNames=repositoryNames)
        return {"repositories": [{"repositoryArn": ARN, "repositoryName": repositoryNames[0]}]}

    def list_tags_for_resource(self, resourceArn, aws_retry=False):
        return {"tags": [{"Key": k, "Value": v} for k, v in self.tags.items()]}

    def tag_resource(self, resourceArn, tags, aws_retry=False):
        self.calls.append(("tag_resource", copy.deepcopy(tags)))
        self.tags.update({t["Key"]: t["Value"] for t in tags})

    def untag_resource(self, resourceArn, tagKeys, aws_retry=False):
        self.calls.append(("untag_resource", list(tagKeys)))
        for key in tagKeys:
            self.tags.pop(key, None)


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, check_mode=False):
        self.check_mode = check_mode

    def fail_json(self, **kwargs):
        raise Failed(kwargs["msg"])


def test_tags_then_nothing_to_do():
    client = FakeECR(tags={"old": "x", "autostack:stack": "other"})
    wanted = {"autostack:stack": "wp", "Name": "wp/wordpress"}
    result = EcrRepositoryTags(FakeModule(), client).ensure("wp/wordpress", None, wanted, True)
    assert result["changed"] is True
    assert result["repository_arn"] == ARN
    assert result["tags"] == wanted
    assert result["removed_tags"] == ["old"]
    assert client.tags == wanted
    assert result["diff"]["before"]["tags"] == {"old": "x", "autostack:stack": "other"}

    again = EcrRepositoryTags(FakeModule(), client).ensure("wp/wordpress", None, wanted, True)
    assert again["changed"] is False
    assert len(client.calls) == 2


def test_check_mode_reports_without_calling():
    client = FakeECR(tags={"old": "x"})
    result = EcrRepositoryTags(FakeModule(check_mode=True), client).ensure("wp/wordpress", None, {"a": "1"}, True)
    assert result["changed"] is True
    assert result["tags"] == {"a": "1"}
    assert client.calls == []
    assert client.tags == {"old": "x"}


def test_missing_repository_fails_clearly():
    with pytest.raises(Failed, match="does not exist"):
        EcrRepositoryTags(FakeModule(), FakeECR(exists=False)).ensure("wp/wordpress", None, {"a": "1"}, True)
