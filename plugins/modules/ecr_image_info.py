#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecr_image_info
version_added: 0.1.0
short_description: List the images of an Amazon ECR repository
description:
  - Describes the images of one ECR repository (C(DescribeImages)) by digest, tags, push time, size and manifest
    media type; all of them, the ones with given tags, or the ones with a tag ending in a given suffix.
  - A tag that does not exist gives no image, not an error; a repository that does not exist is an error.
  - Read-only.
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
  image_tags:
    description:
      - Only the images carrying one of these tags. Tags that do not exist are skipped.
      - Left out, every image of the repository is listed.
    type: list
    elements: str
  tag_suffix:
    description:
      - Only the images with a tag that ends with this string, for example V(-0123456789ab). Untagged images
        never match.
      - Combines with O(image_tags) (both must hold).
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
- name: Look for an image built from these inputs
  autostack.wordpress.ecr_image_info:
    repository_name: wordpress/wordpress
    tag_suffix: -0123456789ab
  register: found

- name: Read the digest of a pushed tag
  autostack.wordpress.ecr_image_info:
    repository_name: wordpress/wordpress
    image_tags: [6.8.1-0123456789ab]
  register: pushed

- name: Show it
  ansible.builtin.debug:
    msg: "{{ pushed.images[0].digest if pushed.images else 'not pushed' }}"
"""

RETURN = r"""
images:
  description: The images found, newest push first (then by digest).
  returned: success
  type: list
  elements: dict
  contains:
    digest:
      description: The image manifest's digest.
      type: str
      sample: sha256:4d3b2a6f7d4e0f2b8b44a8e6bbf4c1d1e1b7a6f0d6f7f3c1b0a9e8d7c6b5a4f3
    tags:
      description: The image's tags, sorted; empty for an untagged image.
      type: list
      elements: str
      sample: ["6.8.1-0123456789ab"]
    pushed_at:
      description: When the image was pushed, ISO 8601 in UTC.
      type: str
      sample: "2025-01-01T12:00:00+00:00"
    size_bytes:
      description: The image's size in the registry (compressed layers), in bytes.
      type: int
      sample: 123456789
    manifest_media_type:
      description: The media type of the image's manifest.
      type: str
      sample: application/vnd.docker.distribution.manifest.v2+json
"""

import datetime

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def iso8601(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.astimezone(datetime.timezone.utc).isoformat()
    return str(value) if value is not None else None


def image_summary(detail):
    return dict(
        digest=detail.get("imageDigest"),
        tags=sorted(detail.get("imageTags") or []),
        pushed_at=iso8601(detail.get("imagePushedAt")),
        size_bytes=detail.get("imageSizeInBytes"),
        manifest_media_type=detail.get("imageManifestMediaType"),
    )


def select_images(details, image_tags=None, tag_suffix=None):
    """The module's ``images`` from ``imageDetails`` entries: filtered, one per digest, newest first."""
    by_digest = {}
    for detail in details:
        image = image_summary(detail)
        if image_tags is not None and not set(image["tags"]) & set(image_tags):
            continue
        if tag_suffix and not any(tag.endswith(tag_suffix) for tag in image["tags"]):
            continue
        by_digest[image["digest"]] = image
    images = sorted(by_digest.values(), key=lambda i: i["digest"] or "")
    return sorted(images, key=lambda i: i["pushed_at"] or "", reverse=True)


class EcrImages:
    def __init__(self, module, client):
        self.module = module
        self.client = client

    def describe(self, repository_name, registry_id, image_tags):
        """Every ``imageDetails`` entry of the repository, or of the given tags (missing tags skipped)."""
        kwargs = dict(repositoryName=repository_name)
        if registry_id:
            kwargs["registryId"] = registry_id
        if image_tags is None:
            paginator = self.client.get_paginator("describe_images")
            return paginator.paginate(**kwargs).build_full_result().get("imageDetails", [])
        details = []
        # One call per tag: ECR fails a whole call with ImageNotFoundException when any tag in it is missing.
        for tag in image_tags:
            try:
                response = self.client.describe_images(imageIds=[{"imageTag": tag}], aws_retry=True, **kwargs)
            except is_boto3_error_code("ImageNotFoundException"):
                continue
            details.extend(response.get("imageDetails", []))
        return details

    def images(self, repository_name, registry_id, image_tags, tag_suffix):
        try:
            details = self.describe(repository_name, registry_id, image_tags)
        except is_boto3_error_code("RepositoryNotFoundException"):
            where = " in registry %s" % registry_id if registry_id else ""
            self.module.fail_json(msg="ECR repository %s does not exist%s" % (repository_name, where))
        return select_images(details, image_tags, tag_suffix)


def main():
    argument_spec = dict(
        repository_name=dict(type="str", required=True),
        registry_id=dict(type="str"),
        image_tags=dict(type="list", elements="str"),
        tag_suffix=dict(type="str"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        client = module.client("ecr", retry_decorator=AWSRetry.jittered_backoff())
        images = EcrImages(module, client).images(
            params["repository_name"], params["registry_id"], params["image_tags"], params["tag_suffix"]
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to describe the images of ECR repository %s" % params["repository_name"])
    module.exit_json(changed=False, images=images)


if __name__ == "__main__":
    main()
