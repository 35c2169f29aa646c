#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_capacity_provider
version_added: 0.1.0
short_description: Manage an Amazon ECS capacity provider backed by an EC2 Auto Scaling group
description:
  - Creates, updates and deletes an Amazon ECS capacity provider of the Auto Scaling group kind, and
    optionally associates it with a cluster (the cluster's other capacity providers are kept).
  - Fills a gap; neither the amazon.aws nor the community.aws collection manages capacity providers.
    M(community.aws.ecs_cluster) can set a cluster's provider list, but only as a whole (it replaces the list and
    the default strategy with what it is given, and clears both when given nothing), so two roles that each own
    one provider cannot share a cluster through it. This module changes only its own provider's entry.
  - An existing provider is updated in place (managed scaling, managed termination protection, managed draining,
    tags). Its Auto Scaling group cannot change; the module fails rather than replace the provider.
  - Only the settings given are compared; a setting left out keeps the value AWS holds.
author:
  - autostack contributors (@autostack)
options:
  name:
    description:
      - The capacity provider's name. Letters, digits, C(_) and C(-), up to 255 characters, not beginning
        with C(aws), C(ecs) or C(fargate).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the provider; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  auto_scaling_group_arn:
    description:
      - ARN (or name) of the Auto Scaling group that provides the capacity.
      - Required when O(state=present).
      - With O(managed_termination_protection=enabled), the group must protect new instances from scale in.
    type: str
  managed_scaling:
    description:
      - Managed scaling settings. Suboptions left out keep their current value (AWS defaults on creation).
    type: dict
    suboptions:
      status:
        description: Whether ECS scales the group to the needs of the tasks.
        type: str
        choices: [enabled, disabled]
      target_capacity:
        description: Target utilisation of the group, in percent (1 to 100). V(100) leaves no spare instance.
        type: int
      minimum_scaling_step_size:
        description: The fewest instances ECS adds at a time (1 to 10000).
        type: int
      maximum_scaling_step_size:
        description: The most instances ECS adds at a time (1 to 10000).
        type: int
      instance_warmup_period:
        description: Seconds after launch before a new instance counts in the group's metrics (0 to 10000).
        type: int
  managed_termination_protection:
    description:
      - Whether ECS keeps instances that run tasks from being terminated on scale in.
      - Needs managed scaling enabled and a group that protects new instances from scale in.
    type: str
    choices: [enabled, disabled]
  managed_draining:
    description:
      - Whether ECS drains instances gracefully before the group terminates them.
    type: str
    choices: [enabled, disabled]
  cluster:
    description:
      - Name or ARN of an ECS cluster to associate the provider with.
      - The cluster's other capacity providers, and the other entries of its default strategy, are kept.
      - With O(state=absent) the provider is first removed from this cluster (from its providers and its
        default strategy), since AWS refuses to delete a provider that a cluster still uses.
      - When the cluster does not exist, O(state=present) fails, except in check mode, where it warns (an
        earlier task that would create the cluster did not run); O(state=absent) has nothing to detach.
    type: str
  default_strategy:
    description:
      - The provider's entry in the default capacity provider strategy of O(cluster).
      - Left out, the cluster's default strategy is not changed (with O(state=present)).
    type: dict
    suboptions:
      weight:
        description: Relative share of the tasks placed with this provider (0 to 1000).
        type: int
        default: 1
      base:
        description: Tasks placed with this provider before weights apply (0 to 100000).
        type: int
        default: 0
  wait:
    description:
      - Wait for an update or a deletion to complete (C(updateStatus) C(UPDATE_COMPLETE), status C(INACTIVE)).
    type: bool
    default: true
  wait_timeout:
    description:
      - How long to wait, in seconds, when O(wait=true).
    type: int
    default: 300
  tags:
    description:
      - Tags of the provider, as a dict. Left out, the tags are not changed.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description:
      - Remove tags not listed in O(tags). Has no effect when O(tags) is left out.
    type: bool
    default: true
notes:
  - AWS refuses to delete a capacity provider that a cluster or a service's strategy still uses. The module
    detaches it from O(cluster) first; detach it from other clusters and services before O(state=absent).
    A deletion that AWS refuses ends in C(DELETE_FAILED); the module fails with the reason AWS gives.
  - AWS keeps a deleted provider's name reserved for a while (C(The specified capacity provider already exists)).
  - When managed scaling is enabled, ECS adds the tag C(AmazonECSManaged) to the Auto Scaling group and sets the
    group's desired capacity itself; the role that manages the group should not reset either.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Makes no change to AWS; the result and the diff show the provider as it would be.
  diff_mode:
    support: full
    details:
      - The diff shows the provider and, with O(cluster), the cluster's providers and default strategy.
  idempotent:
    description: A second run with the same parameters reports no change.
    support: full
  platform:
    platforms: aws
"""

EXAMPLES = r"""
- name: Create a capacity provider for an Auto Scaling group and attach it to a cluster
  autostack.wordpress.ecs_capacity_provider:
    name: wordpress-asg
    auto_scaling_group_arn: "{{ asg.auto_scaling_group_arn }}"
    managed_scaling:
      status: enabled
      target_capacity: 100
    managed_termination_protection: enabled
    cluster: wordpress
    default_strategy:
      weight: 1
      base: 0
    tags:
      autostack:stack: wordpress

- name: Leave ECS some headroom
  autostack.wordpress.ecs_capacity_provider:
    name: wordpress-asg
    auto_scaling_group_arn: "{{ asg.auto_scaling_group_arn }}"
    managed_scaling:
      target_capacity: 80

- name: Detach the provider from its cluster and delete it
  autostack.wordpress.ecs_capacity_provider:
    name: wordpress-asg
    cluster: wordpress
    state: absent
"""

RETURN = r"""
capacity_provider:
  description: The capacity provider; empty after O(state=absent).
  returned: always
  type: dict
  contains:
    capacity_provider_arn:
      description: The provider's ARN.
      type: str
      sample: arn:aws:ecs:eu-west-1:123456789012:capacity-provider/wordpress-asg
    name:
      description: The provider's name.
      type: str
      sample: wordpress-asg
    status:
      description: C(ACTIVE) or C(INACTIVE).
      type: str
      sample: ACTIVE
    update_status:
      description: State of the last update or deletion, when there was one.
      type: str
      sample: UPDATE_COMPLETE
    auto_scaling_group_provider:
      description: The Auto Scaling group and how ECS manages it.
      type: dict
      contains:
        auto_scaling_group_arn:
          description: The group's ARN.
          type: str
        managed_scaling:
          description: Managed scaling settings (status, target_capacity, minimum_scaling_step_size,
            maximum_scaling_step_size, instance_warmup_period).
          type: dict
        managed_termination_protection:
          description: C(ENABLED) or C(DISABLED).
          type: str
        managed_draining:
          description: C(ENABLED) or C(DISABLED).
          type: str
    tags:
      description: The provider's tags.
      type: dict
      sample: {"autostack:stack": "wordpress"}
cluster:
  description: The capacity providers and default strategy of O(cluster) after the run.
  returned: when O(cluster) is set and the cluster exists
  type: dict
  contains:
    cluster_name:
      description: The cluster, as given in O(cluster).
      type: str
      sample: wordpress
    capacity_providers:
      description: The cluster's capacity providers.
      type: list
      elements: str
      sample: [wordpress-asg]
    default_capacity_provider_strategy:
      description: The cluster's default strategy.
      type: list
      elements: dict
      sample: [{"capacity_provider": "wordpress-asg", "weight": 1, "base": 0}]
"""

from typing import Any
from typing import Dict
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.autostack.wordpress.plugins.module_utils._ecs_capacity_provider import (
    ECSCapacityProviderError,
    apply_update,
    build_create_params,
    build_update_params,
    cluster_attachment,
    create_capacity_provider,
    delete_capacity_provider,
    describe_capacity_providers,
    describe_cluster,
    format_capacity_provider,
    format_cluster_attachment,
    is_gone,
    pick_provider,
    plan_attach,
    plan_detach,
    predict_created,
    put_cluster_capacity_providers,
    same_auto_scaling_group,
    tag_capacity_provider,
    untag_capacity_provider,
    update_capacity_provider,
    validate_params,
    wait_for_capacity_provider,
)


class CapacityProviderManager:
    """Brings one capacity provider (and its place in one cluster) to the state the module's parameters ask for."""

    def __init__(self, module: AnsibleAWSModule, client) -> None:
        self._module = module
        self._client = client
        self._params = module.params
        self._check_mode = module.check_mode
        self.changed = False
        self.before: Dict[str, Any] = {}
        self.after: Dict[str, Any] = {}
        self.result: Dict[str, Any] = {}

    # -- reading ---------------------------------------------------------------------------------

    def get_provider(self) -> Optional[Dict[str, Any]]:
        return pick_provider(describe_capacity_providers(self._client, self._params["name"]))

    def get_cluster(self) -> Optional[Dict[str, Any]]:
        name = self._params.get("cluster")
        if not name:
            return None
        cluster = describe_cluster(self._client, name)
        if cluster is None:
            if self._params["state"] == "absent":
                # Deleting a cluster disassociates its providers: nothing is left to detach.
                return None
            if not self._check_mode:
                raise ECSCapacityProviderError(
                    message=f"ECS cluster {name} not found: create it before attaching capacity provider"
                    f" {self._params['name']}"
                )
            self._module.warn(f"ECS cluster {name} does not exist (yet); assuming it would be created")
            return {}
        return cluster

    # -- present ---------------------------------------------------------------------------------

    def ensure_present(self) -> None:
        cluster = self.get_cluster()
        current = self.get_provider()
        if is_gone(current):
            provider = self._create()
        else:
            provider = self._update(current)
        self._record_provider(None if is_gone(current) else current, provider)
        if cluster is not None:
            self._attach(cluster)

    def _create(self) -> Dict[str, Any]:
        self.changed = True
        if self._check_mode:
            return predict_created(self._params)
        created = create_capacity_provider(self._client, **build_create_params(self._params))
        # The answer to a create does not always carry the tags; a describe does.
        return self.get_provider() or created

    def _update(self, current: Dict[str, Any]) -> Dict[str, Any]:
        wanted_group = self._params["auto_scaling_group_arn"]
        current_group = (current.get("autoScalingGroupProvider") or {}).get("autoScalingGroupArn", "")
        if not same_auto_scaling_group(wanted_group, current_group):
            raise ECSCapacityProviderError(
                message=f"capacity provider {current['name']} uses Auto Scaling group {current_group}, not"
                f" {wanted_group}; AWS cannot change it: delete the provider (state=absent) or choose another name"
            )

        update = build_update_params(self._params, current)
        provider = apply_update(current, update)
        if update:
            self.changed = True
            if not self._check_mode:
                update_capacity_provider(self._client, **update)
                if self._params["wait"]:
                    wait_for_capacity_provider(
                        self._client, current["name"], "capacity_provider_updated", self._params["wait_timeout"]
                    )

        if self._update_tags(current):
            provider = dict(provider, tags=self._predicted_tags(current))
        if self.changed and not self._check_mode:
            provider = self.get_provider() or provider
        return provider

    def _predicted_tags(self, current: Dict[str, Any]):
        current_tags = boto3_tag_list_to_ansible_dict(current.get("tags") or [], "key", "value")
        if self._params["purge_tags"]:
            merged = dict(self._params["tags"])
        else:
            merged = dict(current_tags, **self._params["tags"])
        return [{"key": key, "value": value} for key, value in merged.items()]

    def _update_tags(self, current: Dict[str, Any]) -> bool:
        if self._params.get("tags") is None:
            return False
        current_tags = boto3_tag_list_to_ansible_dict(current.get("tags") or [], "key", "value")
        to_set, to_remove = compare_aws_tags(current_tags, self._params["tags"], self._params["purge_tags"])
        if not (to_set or to_remove):
            return False
        self.changed = True
        if not self._check_mode:
            if to_remove:
                untag_capacity_provider(self._client, current["capacityProviderArn"], to_remove)
            if to_set:
                tag_capacity_provider(self._client, current["capacityProviderArn"], to_set)
        return True

    def _attach(self, cluster: Dict[str, Any]) -> None:
        self._apply_cluster_plan(
            cluster, plan_attach(cluster, self._params["name"], self._params.get("default_strategy"))
        )

    def _apply_cluster_plan(self, cluster: Dict[str, Any], plan: Optional[Dict[str, Any]]) -> None:
        """Put the cluster's providers and default strategy as planned (None: nothing to change)."""
        cluster_name = self._params["cluster"]
        before = cluster_attachment(cluster)
        after = plan or before
        if plan is not None:
            self.changed = True
            if not self._check_mode:
                after = cluster_attachment(put_cluster_capacity_providers(self._client, cluster_name, plan))
        self.before["cluster"] = format_cluster_attachment(cluster_name, before)
        self.after["cluster"] = format_cluster_attachment(cluster_name, after)
        self.result["cluster"] = self.after["cluster"]

    # -- absent ----------------------------------------------------------------------------------

    def ensure_absent(self) -> None:
        cluster = self.get_cluster()
        if cluster is not None:
            self._detach(cluster)

        current = self.get_provider()
        self._record_provider(None if is_gone(current) else current, None)
        if is_gone(current):
            if current and self._params["wait"] and not self._check_mode:
                # Deleted by an earlier run that did not wait: report nothing new, but do not return early.
                wait_for_capacity_provider(
                    self._client, self._params["name"], "capacity_provider_deleted", self._params["wait_timeout"]
                )
            return

        self.changed = True
        if self._check_mode:
            return
        deleted = delete_capacity_provider(self._client, current["name"])
        self._raise_if_delete_failed(deleted)
        if self._params["wait"]:
            try:
                wait_for_capacity_provider(
                    self._client, current["name"], "capacity_provider_deleted", self._params["wait_timeout"]
                )
            except ECSCapacityProviderError:
                self._raise_if_delete_failed(self.get_provider())
                raise

    def _raise_if_delete_failed(self, provider: Optional[Dict[str, Any]]) -> None:
        if provider and provider.get("updateStatus") == "DELETE_FAILED":
            raise ECSCapacityProviderError(
                message=f"AWS refused to delete capacity provider {provider.get('name')}:"
                f" {provider.get('updateStatusReason', 'no reason given')}. Detach it from every cluster and"
                " service strategy first (the option cluster detaches it from one cluster)"
            )

    def _detach(self, cluster: Dict[str, Any]) -> None:
        self._apply_cluster_plan(cluster, plan_detach(cluster, self._params["name"]))

    # -- results ---------------------------------------------------------------------------------

    def _record_provider(self, before: Optional[Dict[str, Any]], after: Optional[Dict[str, Any]]) -> None:
        self.before["capacity_provider"] = format_capacity_provider(before)
        self.after["capacity_provider"] = format_capacity_provider(after)
        self.result["capacity_provider"] = self.after["capacity_provider"]

    def results(self) -> Dict[str, Any]:
        results = dict(self.result, changed=self.changed)
        if self._module._diff:
            results["diff"] = {"before": self.before, "after": self.after}
        return results


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        auto_scaling_group_arn=dict(type="str"),
        managed_scaling=dict(
            type="dict",
            options=dict(
                status=dict(type="str", choices=["enabled", "disabled"]),
                target_capacity=dict(type="int"),
                minimum_scaling_step_size=dict(type="int"),
                maximum_scaling_step_size=dict(type="int"),
                instance_warmup_period=dict(type="int"),
            ),
        ),
        managed_termination_protection=dict(type="str", choices=["enabled", "disabled"]),
        managed_draining=dict(type="str", choices=["enabled", "disabled"]),
        cluster=dict(type="str"),
        default_strategy=dict(
            type="dict",
            options=dict(
                weight=dict(type="int", default=1),
                base=dict(type="int", default=0),
            ),
        ),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )

    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ("auto_scaling_group_arn",))],
        required_by={"default_strategy": ("cluster",)},
    )

    errors = validate_params(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))

    manager = CapacityProviderManager(module, module.client("ecs"))
    try:
        if module.params["state"] == "present":
            manager.ensure_present()
        else:
            manager.ensure_absent()
    except ECSCapacityProviderError as e:
        module.fail_json_aws_error(e)

    module.exit_json(**manager.results())


if __name__ == "__main__":
    main()
