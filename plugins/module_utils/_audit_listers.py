# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWS calls behind autostack.wordpress.stack_audit: one lister class per service.

Private to this collection (the leading underscore): no compatibility promise.

Each lister method is named after a resource type of ``_audit.RESOURCE_TYPES`` and returns raw
describe/list items, with the resource's tags attached under ``Tags`` where the list call does not
return them. Listers narrow by tag or name server-side where the API can; deciding what belongs to
the stack is left to ``_audit.classify``, so the rule lives in one place and is unit tested.
Every call is read-only.
"""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.autostack.wordpress.plugins.module_utils._audit import STACK_TAG
from ansible_collections.autostack.wordpress.plugins.module_utils._audit import name_matches


@AWSRetry.jittered_backoff()
def paginate(client, operation, **params):
    return client.get_paginator(operation).paginate(**params).build_full_result()


def chunks(values, size):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _union(*lists, key):
    merged, seen = [], set()
    for items in lists:
        for item in items:
            if key(item) not in seen:
                seen.add(key(item))
                merged.append(item)
    return merged


class AuditContext:
    """What the listers share: the stack, its naming, and the parents found so far."""

    def __init__(self, stack, log_group_prefixes, ssm_parameter_prefixes, match_untagged_by_name=True):
        self.stack = stack
        self.log_group_prefixes = list(log_group_prefixes)
        self.ssm_parameter_prefixes = list(ssm_parameter_prefixes)
        self.match_untagged_by_name = match_untagged_by_name
        self.vpc_ids = []
        self.ecs_cluster_arns = []

    @property
    def stack_parents(self):
        return self.vpc_ids + self.ecs_cluster_arns

    def could_be_ours(self, name, prefixes=None, case_insensitive=False):
        """Cheap pre-filter before a per-resource tag call: only names that follow the stack's naming."""
        return name_matches(name, prefixes or [self.stack], case_insensitive)


class Lister:
    service = None

    def __init__(self, client, context):
        self.client = client
        self.context = context

    @property
    def stack(self):
        return self.context.stack


class Ec2Lister(Lister):
    """EC2 filters by tag server-side; resources inside the stack's VPCs are listed too, tagged or not."""

    service = "ec2"

    def _tag_filter(self):
        return [{"Name": "tag:" + STACK_TAG, "Values": [self.stack]}]

    def _describe(self, operation, result_key, vpc_filter="vpc-id", filter_param="Filters"):
        items = paginate(self.client, operation, **{filter_param: self._tag_filter()})[result_key]
        if vpc_filter and self.context.vpc_ids:
            in_vpcs = paginate(
                self.client, operation, **{filter_param: [{"Name": vpc_filter, "Values": self.context.vpc_ids}]}
            )[result_key]
            items = items + in_vpcs
        return items

    def vpc(self):
        return self._describe("describe_vpcs", "Vpcs", vpc_filter=None)

    def subnet(self):
        return self._describe("describe_subnets", "Subnets")

    def route_table(self):
        return self._describe("describe_route_tables", "RouteTables")

    def internet_gateway(self):
        return self._describe("describe_internet_gateways", "InternetGateways", vpc_filter="attachment.vpc-id")

    def nat_gateway(self):
        # The one EC2 call whose parameter is "Filter", not "Filters".
        return self._describe("describe_nat_gateways", "NatGateways", filter_param="Filter")

    def elastic_ip(self):
        return self.client.describe_addresses(aws_retry=True, Filters=self._tag_filter())["Addresses"]

    def security_group(self):
        return self._describe("describe_security_groups", "SecurityGroups")

    def vpc_endpoint(self):
        return self._describe("describe_vpc_endpoints", "VpcEndpoints")

    def instance(self):
        reservations = self._describe("describe_instances", "Reservations")
        return [instance for reservation in reservations for instance in reservation.get("Instances", [])]

    def network_interface(self):
        return self._describe("describe_network_interfaces", "NetworkInterfaces")

    def volume(self):
        return self._describe("describe_volumes", "Volumes", vpc_filter=None)

    def launch_template(self):
        # Templates are often named after the stack but tagged only through their instances' specs:
        # list them all (there are few) and let the classifier decide.
        return paginate(self.client, "describe_launch_templates")["LaunchTemplates"]


class AutoScalingLister(Lister):
    service = "autoscaling"

    def autoscaling_group(self):
        return paginate(self.client, "describe_auto_scaling_groups")["AutoScalingGroups"]


class Elbv2Lister(Lister):
    """Load balancers and target groups carry their tags only through describe_tags (20 ARNs a call)."""

    service = "elbv2"

    def _with_tags(self, items, arn_key):
        tags = {}
        for batch in chunks([item[arn_key] for item in items], 20):
            response = self.client.describe_tags(aws_retry=True, ResourceArns=batch)
            for description in response.get("TagDescriptions", []):
                tags[description["ResourceArn"]] = description.get("Tags", [])
        return [dict(item, Tags=tags.get(item[arn_key], [])) for item in items]

    def load_balancer(self):
        items = paginate(self.client, "describe_load_balancers")["LoadBalancers"]
        return self._with_tags(items, "LoadBalancerArn")

    def target_group(self):
        items = paginate(self.client, "describe_target_groups")["TargetGroups"]
        return self._with_tags(items, "TargetGroupArn")


class EcsLister(Lister):
    service = "ecs"

    def ecs_cluster(self):
        arns = paginate(self.client, "list_clusters")["clusterArns"]
        clusters = []
        for batch in chunks(arns, 100):
            response = self.client.describe_clusters(aws_retry=True, clusters=batch, include=["TAGS"])
            clusters.extend(response.get("clusters", []))
        return clusters

    def ecs_capacity_provider(self):
        # Without names, DescribeCapacityProviders lists every provider (FARGATE ones included).
        providers, token = [], None
        for _page in range(1000):
            params = dict(include=["TAGS"])
            if token:
                params["nextToken"] = token
            response = self.client.describe_capacity_providers(aws_retry=True, **params)
            providers.extend(response.get("capacityProviders", []))
            token = response.get("nextToken")
            if not token:
                break
        return [provider for provider in providers if provider.get("name") not in ("FARGATE", "FARGATE_SPOT")]

    def ecs_service(self):
        services = []
        for cluster_arn in self.context.ecs_cluster_arns:
            arns = paginate(self.client, "list_services", cluster=cluster_arn)["serviceArns"]
            for batch in chunks(arns, 10):
                response = self.client.describe_services(
                    aws_retry=True, cluster=cluster_arn, services=batch, include=["TAGS"]
                )
                services.extend(response.get("services", []))
        return services

    def ecs_task_definition(self):
        # Families are listed by the stack's prefix; the newest ACTIVE revision's tags speak for its family.
        families = paginate(self.client, "list_task_definition_families", familyPrefix=self.stack, status="ACTIVE")[
            "families"
        ]
        items = []
        for family in families:
            if not self.context.could_be_ours(family):
                continue
            arns = paginate(self.client, "list_task_definitions", familyPrefix=family, status="ACTIVE", sort="DESC")[
                "taskDefinitionArns"
            ]
            # familyPrefix is a prefix: keep this family's own revisions only.
            arns = [arn for arn in arns if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family]
            if not arns:
                continue
            latest = self.client.describe_task_definition(aws_retry=True, taskDefinition=arns[0], include=["TAGS"])
            tags = latest.get("tags", [])
            items.extend({"taskDefinitionArn": arn, "family": family, "tags": tags} for arn in arns)
        return items


class IamLister(Lister):
    """IAM lists carry no tags: candidates are chosen by name, then their tags are read one by one."""

    service = "iam"

    def iam_role(self):
        roles = paginate(self.client, "list_roles")["Roles"]
        candidates = [role for role in roles if self.context.could_be_ours(role["RoleName"])]
        for role in candidates:
            role["Tags"] = paginate(self.client, "list_role_tags", RoleName=role["RoleName"])["Tags"]
        return candidates

    def iam_instance_profile(self):
        profiles = paginate(self.client, "list_instance_profiles")["InstanceProfiles"]
        candidates = [profile for profile in profiles if self.context.could_be_ours(profile["InstanceProfileName"])]
        for profile in candidates:
            if "Tags" not in profile:
                response = self.client.get_instance_profile(
                    aws_retry=True, InstanceProfileName=profile["InstanceProfileName"]
                )
                profile["Tags"] = response["InstanceProfile"].get("Tags", [])
        return candidates

    def iam_policy(self):
        policies = paginate(self.client, "list_policies", Scope="Local")["Policies"]
        candidates = [policy for policy in policies if self.context.could_be_ours(policy["PolicyName"])]
        for policy in candidates:
            policy["Tags"] = paginate(self.client, "list_policy_tags", PolicyArn=policy["Arn"])["Tags"]
        return candidates


class RdsLister(Lister):
    service = "rds"

    def _tags(self, arn):
        return self.client.list_tags_for_resource(aws_retry=True, ResourceName=arn).get("TagList", [])

    def _named_with_tags(self, items, name_key, arn_key):
        candidates = [item for item in items if self.context.could_be_ours(item[name_key], case_insensitive=True)]
        for item in candidates:
            if "TagList" not in item and item.get(arn_key):
                item["TagList"] = self._tags(item[arn_key])
        return candidates

    def db_instance(self):
        return paginate(self.client, "describe_db_instances")["DBInstances"]

    def db_subnet_group(self):
        groups = paginate(self.client, "describe_db_subnet_groups")["DBSubnetGroups"]
        return self._named_with_tags(groups, "DBSubnetGroupName", "DBSubnetGroupArn")

    def db_parameter_group(self):
        groups = paginate(self.client, "describe_db_parameter_groups")["DBParameterGroups"]
        groups = [group for group in groups if not group["DBParameterGroupName"].startswith("default.")]
        return self._named_with_tags(groups, "DBParameterGroupName", "DBParameterGroupArn")

    def db_snapshot(self):
        return paginate(self.client, "describe_db_snapshots", SnapshotType="manual")["DBSnapshots"]


class SecretsManagerLister(Lister):
    service = "secretsmanager"

    def secret(self):
        # Both filters match by prefix; secrets pending deletion are listed so they can be reported as kept.
        by_tag = paginate(
            self.client,
            "list_secrets",
            IncludePlannedDeletion=True,
            Filters=[{"Key": "tag-key", "Values": [STACK_TAG]}, {"Key": "tag-value", "Values": [self.stack]}],
        )["SecretList"]
        by_name = paginate(
            self.client, "list_secrets", IncludePlannedDeletion=True, Filters=[{"Key": "name", "Values": [self.stack]}]
        )["SecretList"]
        return _union(by_tag, by_name, key=lambda secret: secret["ARN"])


class EcrLister(Lister):
    service = "ecr"

    def ecr_repository(self):
        repositories = paginate(self.client, "describe_repositories")["repositories"]
        candidates = [repo for repo in repositories if self.context.could_be_ours(repo["repositoryName"])]
        for repo in candidates:
            repo["Tags"] = self.client.list_tags_for_resource(aws_retry=True, resourceArn=repo["repositoryArn"]).get(
                "tags", []
            )
            # A repository kept for its images is reported as kept; one image is enough to know.
            images = self.client.list_images(aws_retry=True, repositoryName=repo["repositoryName"], maxResults=1)
            repo["HasImages"] = bool(images.get("imageIds"))
        return candidates


class LogsLister(Lister):
    service = "logs"

    def log_group(self):
        groups = []
        for prefix in self.context.log_group_prefixes:
            groups.extend(paginate(self.client, "describe_log_groups", logGroupNamePrefix=prefix)["logGroups"])
        groups = _union(groups, key=lambda group: group["logGroupName"])
        candidates = [
            group
            for group in groups
            if self.context.could_be_ours(group["logGroupName"], prefixes=self.context.log_group_prefixes)
        ]
        for group in candidates:
            arn = group.get("logGroupArn") or group.get("arn", "")
            arn = arn[:-2] if arn.endswith(":*") else arn
            group["Tags"] = self.client.list_tags_for_resource(aws_retry=True, resourceArn=arn).get("tags", {})
        return candidates


class SsmLister(Lister):
    service = "ssm"

    def ssm_parameter(self):
        by_tag = paginate(
            self.client, "describe_parameters", ParameterFilters=[{"Key": "tag:" + STACK_TAG, "Values": [self.stack]}]
        )["Parameters"]
        by_name = []
        if self.context.ssm_parameter_prefixes:
            by_name = paginate(
                self.client,
                "describe_parameters",
                ParameterFilters=[
                    {"Key": "Name", "Option": "BeginsWith", "Values": self.context.ssm_parameter_prefixes}
                ],
            )["Parameters"]
        parameters = _union(by_tag, by_name, key=lambda parameter: parameter["Name"])
        for parameter in parameters:
            parameter["Tags"] = self.client.list_tags_for_resource(
                aws_retry=True, ResourceType="Parameter", ResourceId=parameter["Name"]
            ).get("TagList", [])
        return parameters


class CloudWatchLister(Lister):
    service = "cloudwatch"

    def cloudwatch_alarm(self):
        result = paginate(self.client, "describe_alarms", AlarmNamePrefix=self.stack)
        alarms = result.get("MetricAlarms", []) + result.get("CompositeAlarms", [])
        candidates = [alarm for alarm in alarms if self.context.could_be_ours(alarm["AlarmName"])]
        for alarm in candidates:
            alarm["Tags"] = self.client.list_tags_for_resource(aws_retry=True, ResourceARN=alarm["AlarmArn"]).get(
                "Tags", []
            )
        return candidates


class EfsLister(Lister):
    service = "efs"

    def efs_file_system(self):
        return paginate(self.client, "describe_file_systems")["FileSystems"]


LISTERS = {
    lister.service: lister
    for lister in (
        Ec2Lister,
        AutoScalingLister,
        Elbv2Lister,
        EcsLister,
        IamLister,
        RdsLister,
        SecretsManagerLister,
        EcrLister,
        LogsLister,
        SsmLister,
        CloudWatchLister,
        EfsLister,
    )
}
