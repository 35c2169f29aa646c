#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: stack_audit
version_added: 0.1.0
short_description: List what is left of an autostack stack in AWS
description:
  - Lists, read-only, the resources of stack O(stack) that still exist, across every service the collection uses,
    and fails when any is left (unless O(fail_on_leftovers=false)). Run it after a teardown to prove the teardown
    complete; moto never raises C(DependencyViolation), so a wrong teardown order would otherwise pass unnoticed
    on the local cloud.
  - Fills a gap; no maintained module audits resources across services by a stack's tag.
  - A resource is the stack's when its C(autostack:stack) tag is O(stack). A resource with no C(autostack:stack)
    tag at all is also the stack's when it lies inside one of the stack's VPCs or ECS clusters (an untagged
    network interface left by a load balancer, a service) or, for the types marked I(by name) below, when its name
    is O(stack) or continues it with C(-) or C(/). A tag naming another stack always wins, so that stack
    C(wordpress) never claims C(wordpress-dev-db).
  - "Types audited and how they are found: EC2 by tag and VPC membership: C(vpc), C(subnet), C(route_table)
    (not the main one), C(internet_gateway), C(nat_gateway) (not C(deleted)/C(failed)), C(elastic_ip) (tag only),
    C(security_group) (not C(default)), C(vpc_endpoint), C(instance) (not C(terminated)), C(network_interface),
    C(volume) (tag only). By tag or name: C(launch_template), C(autoscaling_group), C(load_balancer),
    C(target_group), C(ecs_cluster) (not C(INACTIVE)), C(ecs_capacity_provider), C(ecs_task_definition)
    (C(ACTIVE) revisions; the newest revision's tags speak for its family), C(db_instance), C(secret),
    C(efs_file_system), C(ecs_service) (also every service of a stack cluster). By name, then confirmed by tag
    (their list calls carry no tags): C(iam_role), C(iam_instance_profile), C(iam_policy) (customer managed),
    C(db_subnet_group), C(db_parameter_group), C(db_snapshot), C(ecr_repository), C(cloudwatch_alarm),
    C(log_group) (names under O(log_group_prefixes)), C(ssm_parameter) (tagged, or under
    O(ssm_parameter_prefixes))."
  - Some resources are kept on purpose and reported under RV(kept), not counted as leftovers, and never fail the
    module. Manual DB snapshots of the stack (the final snapshot a teardown keeps unless told otherwise), secrets
    scheduled for deletion (their names cannot be reused until the recovery window ends), ECR repositories that
    still hold images (a teardown keeps them unless told otherwise), and any resource of the stack tagged
    C(autostack:keep), whose value says why (for instance the master password secret of a final snapshot).
  - IAM is global. Everything else is audited in the module's region only.
author:
  - autostack contributors (@autostack)
options:
  stack:
    description:
      - The stack's name, the value of the C(autostack:stack) tag and the prefix of resource names.
    type: str
    required: true
  fail_on_leftovers:
    description:
      - Fail, with a message listing them, when any leftover is found.
      - With V(false) the module only reports; RV(leftovers) and RV(counts) tell what is left.
    type: bool
    default: true
  ignore_types:
    description:
      - Resource types not to audit, for instance types a shared account denies access to.
      - Ignoring V(vpc) or V(ecs_cluster) also stops finding untagged resources inside them.
    type: list
    elements: str
    default: []
    choices:
      - vpc
      - subnet
      - route_table
      - internet_gateway
      - nat_gateway
      - elastic_ip
      - security_group
      - vpc_endpoint
      - instance
      - network_interface
      - volume
      - launch_template
      - autoscaling_group
      - load_balancer
      - target_group
      - ecs_cluster
      - ecs_capacity_provider
      - ecs_service
      - ecs_task_definition
      - iam_role
      - iam_instance_profile
      - iam_policy
      - db_instance
      - db_subnet_group
      - db_parameter_group
      - db_snapshot
      - secret
      - ecr_repository
      - log_group
      - ssm_parameter
      - cloudwatch_alarm
      - efs_file_system
  log_group_prefixes:
    description:
      - CloudWatch log group names that belong to the stack start with one of these (followed by C(/), C(-) or
        nothing).
      - Defaults to C(/autostack/<stack>) and C(/ecs/<stack>).
    type: list
    elements: str
  ssm_parameter_prefixes:
    description:
      - Untagged SSM parameters whose names start with one of these (followed by C(/), C(-) or nothing) belong to
        the stack. Tagged parameters are found whatever their names.
      - Defaults to C(/autostack/<stack>) and C(<stack>).
    type: list
    elements: str
  match_untagged_by_name:
    description:
      - Whether an untagged resource whose name follows the stack's naming counts as the stack's.
      - Set to V(false) in an account where other tools use the same names; then only tags and VPC or cluster
        membership count, and IAM, RDS subnet and parameter groups, ECR, alarms and log groups must be tagged to
        be found.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The module never changes anything; check mode changes nothing about it.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Needs only read permissions (C(Describe*), C(List*), C(Get*)) on the services above.
  - In the module group C(autostack.wordpress.aws), so the play's M(ansible.builtin.module_defaults) for that group
    reach it.
"""

EXAMPLES = r"""
- name: Prove that the stack is gone (fails, listing them, when resources are left)
  autostack.wordpress.stack_audit:
    stack: "{{ autostack_stack_name }}"
  register: destroy__audit

- name: Show what was kept on purpose
  ansible.builtin.debug:
    msg: "{{ item.type }} {{ item.name }}: {{ item.reason }}"
  loop: "{{ destroy__audit.kept }}"
  loop_control:
    label: "{{ item.name }}"

- name: Report only, in an account that denies EFS and CloudWatch alarms to this role
  autostack.wordpress.stack_audit:
    stack: wordpress
    fail_on_leftovers: false
    ignore_types: [efs_file_system, cloudwatch_alarm]
  register: audit
"""

RETURN = r"""
leftovers:
  description: Resources of the stack that still exist, in audit order (network first), sorted by name within a type.
  returned: always
  type: list
  elements: dict
  contains:
    type:
      description: The resource type, one of RV(resource_types_audited).
      type: str
      sample: security_group
    id:
      description: The resource's identifier (EC2 id, else ARN, else name).
      type: str
      sample: sg-0123456789abcdef0
    name:
      description: The resource's name (its C(Name) tag for EC2), or its id when it has none.
      type: str
      sample: wordpress-alb
kept:
  description: Resources of the stack kept on purpose (manual DB snapshots, secrets pending deletion).
  returned: always
  type: list
  elements: dict
  contains:
    type:
      description: The resource type.
      type: str
      sample: db_snapshot
    id:
      description: The resource's identifier.
      type: str
      sample: arn:aws:rds:eu-west-1:123456789012:snapshot:wordpress-db-final
    name:
      description: The resource's name.
      type: str
      sample: wordpress-db-final
    reason:
      description: Why it is kept and what to do about it.
      type: str
      sample: manual DB snapshot of wordpress-db, kept on purpose (a final snapshot); delete it when no longer needed
counts:
  description: Leftovers per audited type, zeros included.
  returned: always
  type: dict
  sample: {"vpc": 0, "subnet": 2, "security_group": 1}
resource_types_audited:
  description: The resource types looked at (all, less O(ignore_types)), in audit order.
  returned: always
  type: list
  elements: str
  sample: [vpc, subnet, route_table]
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.autostack.wordpress.plugins.module_utils._audit import RESOURCE_TYPE_NAMES
from ansible_collections.autostack.wordpress.plugins.module_utils._audit import RESOURCE_TYPES
from ansible_collections.autostack.wordpress.plugins.module_utils._audit import classify
from ansible_collections.autostack.wordpress.plugins.module_utils._audit import count_by_type
from ansible_collections.autostack.wordpress.plugins.module_utils._audit import default_log_group_prefixes
from ansible_collections.autostack.wordpress.plugins.module_utils._audit import default_ssm_prefixes
from ansible_collections.autostack.wordpress.plugins.module_utils._audit import leftovers_message
from ansible_collections.autostack.wordpress.plugins.module_utils._audit import name_prefixes
from ansible_collections.autostack.wordpress.plugins.module_utils._audit_listers import LISTERS
from ansible_collections.autostack.wordpress.plugins.module_utils._audit_listers import AuditContext


class StackAudit:
    """Walks the resource types in order, listing each through its service's lister and classifying the items."""

    def __init__(self, module, context, types):
        self.module = module
        self.context = context
        self.types = types
        self._listers = {}
        self.leftovers = []
        self.kept = []

    def lister(self, service):
        if service not in self._listers:
            client = self.module.client(service, retry_decorator=AWSRetry.jittered_backoff())
            self._listers[service] = LISTERS[service](client, self.context)
        return self._listers[service]

    def audit_type(self, resource_type):
        items = getattr(self.lister(resource_type.service), resource_type.name)()
        prefixes = name_prefixes(
            resource_type,
            self.context.stack,
            log_group_prefixes=self.context.log_group_prefixes,
            ssm_prefixes=self.context.ssm_parameter_prefixes,
        )
        return classify(
            resource_type,
            self.context.stack,
            items,
            prefixes=prefixes,
            stack_parents=self.context.stack_parents,
            match_untagged_by_name=self.context.match_untagged_by_name,
        )

    def run(self):
        for resource_type in self.types:
            try:
                leftovers, kept = self.audit_type(resource_type)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.module.fail_json_aws(e, msg="Could not list %s resources" % resource_type.name)
            # Resources inside the stack's VPCs and clusters are the stack's even when untagged.
            if resource_type.name == "vpc":
                self.context.vpc_ids = [entry["id"] for entry in leftovers]
            elif resource_type.name == "ecs_cluster":
                self.context.ecs_cluster_arns = [entry["id"] for entry in leftovers]
            self.leftovers.extend(leftovers)
            self.kept.extend(kept)

    def results(self):
        names = [resource_type.name for resource_type in self.types]
        return dict(
            changed=False,
            leftovers=self.leftovers,
            kept=self.kept,
            counts=count_by_type(names, self.leftovers),
            resource_types_audited=names,
        )


def main():
    argument_spec = dict(
        stack=dict(type="str", required=True),
        fail_on_leftovers=dict(type="bool", default=True),
        ignore_types=dict(type="list", elements="str", default=[], choices=RESOURCE_TYPE_NAMES),
        log_group_prefixes=dict(type="list", elements="str"),
        ssm_parameter_prefixes=dict(type="list", elements="str"),
        match_untagged_by_name=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    stack = module.params["stack"]
    if not stack or stack != stack.strip():
        module.fail_json(msg="stack must be a non-empty name without surrounding spaces, got %r" % stack)
    log_group_prefixes = module.params["log_group_prefixes"]
    if log_group_prefixes is None:
        log_group_prefixes = default_log_group_prefixes(stack)
    ssm_parameter_prefixes = module.params["ssm_parameter_prefixes"]
    if ssm_parameter_prefixes is None:
        ssm_parameter_prefixes = default_ssm_prefixes(stack)

    context = AuditContext(
        stack,
        log_group_prefixes,
        ssm_parameter_prefixes,
        match_untagged_by_name=module.params["match_untagged_by_name"],
    )
    ignored = set(module.params["ignore_types"])
    audit = StackAudit(module, context, [rtype for rtype in RESOURCE_TYPES if rtype.name not in ignored])
    audit.run()
    results = audit.results()

    if results["leftovers"] and module.params["fail_on_leftovers"]:
        module.fail_json(msg=leftovers_message(stack, results["leftovers"]), **results)
    module.exit_json(**results)


if __name__ == "__main__":
    main()
