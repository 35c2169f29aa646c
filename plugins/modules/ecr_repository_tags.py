#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecr_repository_tags
version_added: 0.1.0
short_description: Manage the tags of an existing Amazon ECR repository
description:
  - Adds, updates and (with O(purge_tags)) removes the tags of an ECR repository that already exists.
  - Fills a gap of M(community.aws.ecs_ecr), which creates and configures repositories but cannot tag them
    (community.aws 11.2); use both, this one after the repository exists.
  - These are the repository's AWS resource tags, not image tags.
author:
  - autostack contributors (@autostack)
options:
  repository_name:
    description:
      - The repository's name, for example C(wordpress/wordpress).
    type: str
    required: true
  registry_id:
    description:
      - The AWS account id of the registry. Default, the caller's own registry.
    type: str
  tags:
    description:
      - Tags the repository must carry, as a mapping of key to value.
    type: dict
    required: true
    aliases: [resource_tags]
  purge_tags:
    description:
      - Whether tags not named in O(tags) are removed.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    description: Whether a second run with the same parameters reports no change.
    support: full
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Tag the stack's repository
  autostack.wordpress.ecr_repository_tags:
    repository_name: wordpress/wordpress
    tags:
      autostack:stack: wordpress
      autostack:component: ecr
"""

RETURN = r"""
repository_arn:
  description: The repository's ARN.
  returned: success
  type: str
  sample: arn:aws:ecr:eu-west-1:123456789012:repository/wordpress/wordpress
tags:
  description: The repository's tags after the change (what they would be, in check mode).
  returned: success
  type: dict
  sample: {"autostack:stack": "wordpress", "autostack:component": "ecr"}
added_tags:
  description: Tags added or whose value changed.
  returned: success
  type: dict
  sample: {"autostack:component": "ecr"}
removed_tags:
  description: Keys of the tags removed.
  returned: success
  type: list
  elements: str
  sample: ["owner"]
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags


def plan_tags(current, wanted, purge):
    """``(to_set, to_remove, after)``: the tags to add or change, the keys to remove, the resulting tags."""
    to_set, to_remove = compare_aws_tags(current, wanted, purge_tags=purge)
    after = {key: value for key, value in current.items() if key not in to_remove}
    after.update(to_set)
    return to_set, sorted(to_remove), after


class EcrRepositoryTags:
    """Brings the tags of one repository to the wanted set."""

    def __init__(self, module, client):
        self.module = module
        self.client = client

    def repository_arn(self, name, registry_id):
        kwargs = {"registryId": registry_id} if registry_id else {}
        try:
            response = self.client.describe_repositories(repositoryNames=[name], aws_retry=True, **kwargs)
        except is_boto3_error_code("RepositoryNotFoundException"):
            self.module.fail_json(msg=f"ECR repository {name} does not exist: create it first")
        return response["repositories"][0]["repositoryArn"]

    def ensure(self, name, registry_id, wanted, purge):
        arn = self.repository_arn(name, registry_id)
        current = boto3_tag_list_to_ansible_dict(
            self.client.list_tags_for_resource(resourceArn=arn, aws_retry=True).get("tags", [])
        )
        to_set, to_remove, after = plan_tags(current, wanted, purge)
        changed = bool(to_set or to_remove)
        if changed and not self.module.check_mode:
            if to_remove:
                self.client.untag_resource(resourceArn=arn, tagKeys=to_remove, aws_retry=True)
            if to_set:
                self.client.tag_resource(resourceArn=arn, tags=ansible_dict_to_boto3_tag_list(to_set), aws_retry=True)
        result = dict(changed=changed, repository_arn=arn, tags=after, added_tags=to_set, removed_tags=to_remove)
        if changed:
            result["diff"] = {"before": {"tags": current}, "after": {"tags": after}}
        return result


def main():
    argument_spec = dict(
        repository_name=dict(type="str", required=True),
        registry_id=dict(type="str"),
        tags=dict(type="dict", required=True, aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    wanted = {str(key): str(value) for key, value in params["tags"].items()}
    try:
        client = module.client("ecr", retry_decorator=AWSRetry.jittered_backoff())
        result = EcrRepositoryTags(module, client).ensure(
            params["repository_name"], params["registry_id"], wanted, params["purge_tags"]
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to tag ECR repository {params['repository_name']}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
