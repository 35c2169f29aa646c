# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWS calls behind autostack.wordpress.security_audit: the facts ``_security_audit``'s rules read.

Private to this collection (the leading underscore): no compatibility promise.

What belongs to the stack is decided as autostack.wordpress.stack_audit decides it (``_audit.belongs_to_stack``):
its ``autostack:stack`` tag, or no such tag and a name that follows the stack's naming, or (security groups) a
place in one of the stack's VPCs. Every call is read-only.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.autostack.wordpress.plugins.module_utils._audit import STACK_TAG
from ansible_collections.autostack.wordpress.plugins.module_utils._audit import belongs_to_stack
from ansible_collections.autostack.wordpress.plugins.module_utils._audit import name_matches
from ansible_collections.autostack.wordpress.plugins.module_utils._audit_listers import chunks
from ansible_collections.autostack.wordpress.plugins.module_utils._audit_listers import paginate

ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"


def _document(value):
    """A policy document as a dict, whether boto3 decoded it or left it URL-encoded JSON."""
    if isinstance(value, str):
        return json.loads(unquote(value))
    return value or {}


def _trusts_ecs_tasks(role):
    for statement in _document(role.get("AssumeRolePolicyDocument")).get("Statement") or []:
        principal = statement.get("Principal")
        services = principal.get("Service") if isinstance(principal, dict) else None
        if isinstance(services, str):
            services = [services]
        if statement.get("Effect") == "Allow" and ECS_TASKS_PRINCIPAL in (services or []):
            return True
    return False


class FactCollector:
    """Gathers the facts of stack ``stack``; ``client(service)`` returns a boto3 client with retries."""

    def __init__(self, client, stack, certificate_arn=""):
        self.client = client
        self.stack = stack
        self.certificate_arn = certificate_arn or ""

    def ours(self, tags, names, case_insensitive=False):
        return belongs_to_stack(self.stack, tags, names, [self.stack], case_insensitive=case_insensitive)

    def collect(self):
        facts = {"stack": self.stack, "certificate_arn": self.certificate_arn}
        facts["load_balancers"] = self.load_balancers()
        facts["security_groups"] = self.security_groups()
        facts["db_instances"] = self.db_instances()
        facts["launch_templates"], facts["instances"] = self.launch_templates_and_instances()
        facts["task_definitions"] = self.task_definitions()
        facts["ecr_repositories"] = self.ecr_repositories()
        facts["roles"] = self.roles(facts["task_definitions"])
        return facts

    # EC2 and load balancing

    def security_groups(self):
        ec2 = self.client("ec2")
        tag_filter = [{"Name": "tag:" + STACK_TAG, "Values": [self.stack]}]
        vpc_ids = [vpc["VpcId"] for vpc in paginate(ec2, "describe_vpcs", Filters=tag_filter)["Vpcs"]]
        groups = paginate(ec2, "describe_security_groups", Filters=tag_filter)["SecurityGroups"]
        if vpc_ids:
            groups += paginate(ec2, "describe_security_groups", Filters=[{"Name": "vpc-id", "Values": vpc_ids}])[
                "SecurityGroups"
            ]
        seen, result = set(), []
        for group in groups:
            if group["GroupId"] in seen:
                continue
            seen.add(group["GroupId"])
            owner = {tag["Key"]: tag["Value"] for tag in group.get("Tags") or []}.get(STACK_TAG)
            if owner is None or owner == self.stack:
                result.append(group)
        return sorted(result, key=lambda group: group.get("GroupName") or "")

    def load_balancers(self):
        elbv2 = self.client("elbv2")
        balancers = paginate(elbv2, "describe_load_balancers")["LoadBalancers"]
        # Tagged ones may have any name: read the tags of all (20 ARNs a call).
        tags = {}
        for batch in chunks([item["LoadBalancerArn"] for item in balancers], 20):
            for description in elbv2.describe_tags(aws_retry=True, ResourceArns=batch).get("TagDescriptions", []):
                tags[description["ResourceArn"]] = description.get("Tags", [])
        result = []
        for balancer in balancers:
            balancer_tags = tags.get(balancer["LoadBalancerArn"], [])
            if not self.ours(balancer_tags, [balancer["LoadBalancerName"]]):
                continue
            listeners = paginate(elbv2, "describe_listeners", LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
            result.append(dict(balancer, Tags=balancer_tags, Listeners=listeners))
        return result

    def launch_templates_and_instances(self):
        autoscaling = self.client("autoscaling")
        ec2 = self.client("ec2")
        groups = [
            group
            for group in paginate(autoscaling, "describe_auto_scaling_groups")["AutoScalingGroups"]
            if self.ours(group.get("Tags"), [group["AutoScalingGroupName"]])
        ]
        versions, instance_ids = [], []
        for group in groups:
            spec = group.get("LaunchTemplate") or (
                (group.get("MixedInstancesPolicy") or {}).get("LaunchTemplate", {}).get("LaunchTemplateSpecification")
            )
            if spec:
                params = {"Versions": [str(spec.get("Version") or "$Default")]}
                if spec.get("LaunchTemplateId"):
                    params["LaunchTemplateId"] = spec["LaunchTemplateId"]
                else:
                    params["LaunchTemplateName"] = spec["LaunchTemplateName"]
                described = ec2.describe_launch_template_versions(aws_retry=True, **params)["LaunchTemplateVersions"]
                versions.extend(dict(version, AutoScalingGroupName=group["AutoScalingGroupName"]) for version in described)
            instance_ids.extend(instance["InstanceId"] for instance in group.get("Instances") or [])
        instances = []
        for batch in chunks(sorted(set(instance_ids)), 100):
            reservations = paginate(ec2, "describe_instances", InstanceIds=batch)["Reservations"]
            instances.extend(
                instance
                for reservation in reservations
                for instance in reservation.get("Instances", [])
                if (instance.get("State") or {}).get("Name") not in ("terminated", "shutting-down")
            )
        return versions, instances

    # RDS

    def db_instances(self):
        rds = self.client("rds")
        result = []
        for instance in paginate(rds, "describe_db_instances")["DBInstances"]:
            tags = instance.get("TagList")
            if tags is None and name_matches(instance["DBInstanceIdentifier"], [self.stack], case_insensitive=True):
                tags = rds.list_tags_for_resource(aws_retry=True, ResourceName=instance["DBInstanceArn"]).get("TagList", [])
            if self.ours(tags, [instance["DBInstanceIdentifier"]], case_insensitive=True):
                result.append(instance)
        return result

    # ECS and ECR

    def task_definitions(self):
        ecs = self.client("ecs")
        families = paginate(ecs, "list_task_definition_families", familyPrefix=self.stack, status="ACTIVE")["families"]
        result = []
        for family in families:
            # familyPrefix is a prefix: keep the families that follow the stack's naming.
            if not name_matches(family, [self.stack]):
                continue
            # A family name alone describes its latest ACTIVE revision, the one a new deployment uses.
            described = ecs.describe_task_definition(aws_retry=True, taskDefinition=family, include=["TAGS"])
            if self.ours(described.get("tags"), [family]):
                result.append(described["taskDefinition"])
        return result

    def ecr_repositories(self):
        ecr = self.client("ecr")
        result = []
        for repository in paginate(ecr, "describe_repositories")["repositories"]:
            tags = ecr.list_tags_for_resource(aws_retry=True, resourceArn=repository["repositoryArn"]).get("tags", [])
            if self.ours(tags, [repository["repositoryName"]]):
                result.append(repository)
        return result

    # IAM

    def roles(self, task_definitions):
        """The roles of the stack's task definitions, and the stack's roles that ECS tasks may assume."""
        iam = self.client("iam")
        used = {}
        for definition in task_definitions:
            label = "%s:%s" % (definition.get("family"), definition.get("revision"))
            for key, what in (("taskRoleArn", "task role"), ("executionRoleArn", "execution role")):
                if definition.get(key):
                    name = definition[key].rsplit("/", 1)[-1]
                    used.setdefault(name, []).append("%s of %s" % (what, label))
        for role in paginate(iam, "list_roles")["Roles"]:
            if role["RoleName"] in used or not name_matches(role["RoleName"], [self.stack]):
                continue
            if not _trusts_ecs_tasks(role):
                continue
            tags = paginate(iam, "list_role_tags", RoleName=role["RoleName"])["Tags"]
            if self.ours(tags, [role["RoleName"]]):
                used[role["RoleName"]] = ["assumable by ECS tasks"]
        return [self.role(iam, name, used[name]) for name in sorted(used)]

    def role(self, iam, name, used_by):
        role = iam.get_role(aws_retry=True, RoleName=name)["Role"]
        inline = {}
        for policy_name in paginate(iam, "list_role_policies", RoleName=name)["PolicyNames"]:
            document = iam.get_role_policy(aws_retry=True, RoleName=name, PolicyName=policy_name)["PolicyDocument"]
            inline[policy_name] = _document(document)
        attached = []
        for policy in paginate(iam, "list_attached_role_policies", RoleName=name)["AttachedPolicies"]:
            entry = dict(policy)
            if not policy["PolicyArn"].split(":")[4:5] == ["aws"]:
                # Customer managed: read the default version's document.
                version = iam.get_policy(aws_retry=True, PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
                document = iam.get_policy_version(aws_retry=True, PolicyArn=policy["PolicyArn"], VersionId=version)
                entry["Document"] = _document(document["PolicyVersion"]["Document"])
            attached.append(entry)
        return {
            "RoleName": name,
            "Arn": role["Arn"],
            "UsedBy": used_by,
            "InlinePolicies": inline,
            "AttachedPolicies": attached,
        }


def collect(module, stack, certificate_arn=""):
    """The facts of ``stack``, through the module's boto3 clients (with retries)."""
    clients = {}

    def client(service):
        if service not in clients:
            clients[service] = module.client(service, retry_decorator=AWSRetry.jittered_backoff())
        return clients[service]

    return FactCollector(client, stack, certificate_arn).collect()
