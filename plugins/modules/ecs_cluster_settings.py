#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_cluster_settings
version_added: 0.1.0
short_description: Set the settings of an existing Amazon ECS cluster (Container Insights)
description:
  - Sets cluster settings, such as C(containerInsights), on an ECS cluster that already exists.
  - Fills a gap of M(community.aws.ecs_cluster), which creates and deletes clusters but cannot set their
    settings (community.aws 11.2); use both, this one after the cluster exists.
  - Only the settings named in O(settings) are compared and set; others keep the value AWS holds.
author:
  - autostack contributors (@autostack)
options:
  cluster:
    description:
      - Name or ARN of the cluster.
    type: str
    required: true
  settings:
    description:
      - "Settings to set, as a mapping of setting name to value, for example C({containerInsights: enabled})."
      - Values are strings as the ECS API takes them (C(enabled), C(disabled), C(enhanced)).
    type: dict
    required: true
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
- name: Turn Container Insights on
  autostack.wordpress.ecs_cluster_settings:
    cluster: wordpress
    settings:
      containerInsights: enabled
"""

RETURN = r"""
cluster:
  description: The cluster after the change (what it would be, in check mode).
  returned: success
  type: dict
  contains:
    cluster_arn:
      description: The cluster's ARN.
      type: str
      sample: arn:aws:ecs:eu-west-1:123456789012:cluster/wordpress
    cluster_name:
      description: The cluster's name.
      type: str
      sample: wordpress
    settings:
      description: The cluster's settings, as a mapping of name to value.
      type: dict
      sample: {containerInsights: enabled}
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def settings_to_dict(settings):
    """ECS answers settings as a list of {name, value}; compare them as a mapping."""
    return {item["name"]: item["value"] for item in settings or []}


def settings_to_change(current, wanted):
    """The settings of ``wanted`` whose value differs from ``current``, as the API's list."""
    return [{"name": name, "value": value} for name, value in sorted(wanted.items()) if current.get(name) != value]


class EcsClusterSettings:
    """Brings the named settings of one cluster to the wanted values."""

    def __init__(self, module, client):
        self.module = module
        self.client = client

    def describe(self, cluster):
        response = self.client.describe_clusters(clusters=[cluster], include=["SETTINGS"], aws_retry=True)
        active = [c for c in response.get("clusters", []) if c.get("status") != "INACTIVE"]
        if not active:
            self.module.fail_json(msg=f"ECS cluster {cluster} does not exist (or is INACTIVE): create it first")
        return active[0]

    def ensure(self, cluster, wanted):
        described = self.describe(cluster)
        before = settings_to_dict(described.get("settings"))
        changes = settings_to_change(before, wanted)
        after = {**before, **wanted}
        if changes and not self.module.check_mode:
            self.client.update_cluster(cluster=described["clusterArn"], settings=changes, aws_retry=True)
        result = {
            "changed": bool(changes),
            "cluster": {
                "cluster_arn": described["clusterArn"],
                "cluster_name": described["clusterName"],
                "settings": after,
            },
        }
        if changes:
            result["diff"] = {"before": {"settings": before}, "after": {"settings": after}}
        return result


def main():
    argument_spec = dict(
        cluster=dict(type="str", required=True),
        settings=dict(type="dict", required=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    wanted = {str(name): str(value) for name, value in module.params["settings"].items()}
    try:
        client = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff())
        result = EcsClusterSettings(module, client).ensure(module.params["cluster"], wanted)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to set the settings of ECS cluster {module.params['cluster']}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
