# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What counts as part of a stack: pure functions over describe/list outputs (no AWS calls).

Private to this collection (the leading underscore): no compatibility promise.

A resource belongs to stack ``S`` when

* its ``autostack:stack`` tag is ``S``; or
* it has no ``autostack:stack`` tag at all and either its name follows the stack's naming
  (``S``, ``S-...``, ``S/...``, or another prefix the resource type declares) or it lives inside
  a resource that belongs to ``S`` (a VPC, an ECS cluster).

A tag naming another stack always wins, so that stack ``wordpress`` never claims ``wordpress-dev-db``.

A resource of the stack is *kept* rather than left over when a teardown keeps it on purpose: a rule
of its type says so (a manual DB snapshot, a secret pending deletion, a repository that still holds
images), or it carries the ``autostack:keep`` tag, whose value says why.
"""

from __future__ import annotations

import datetime

STACK_TAG = "autostack:stack"
KEEP_TAG = "autostack:keep"
NAME_SEPARATORS = ("-", "/")


def tags_to_dict(tags):
    """Tags as a dict, whatever shape the API used (``Key``/``Value``, ``key``/``value`` or a dict)."""
    if not tags:
        return {}
    if isinstance(tags, dict):
        return dict(tags)
    result = {}
    for tag in tags:
        key = tag.get("Key", tag.get("key"))
        if key is not None:
            result[key] = tag.get("Value", tag.get("value", ""))
    return result


def name_matches(name, prefixes, case_insensitive=False):
    """True when ``name`` is one of ``prefixes`` or continues one with ``-`` or ``/``."""
    if not name:
        return False
    if case_insensitive:
        name = name.lower()
    for prefix in prefixes:
        if case_insensitive:
            prefix = prefix.lower()
        if name == prefix or any(name.startswith(prefix + sep) for sep in NAME_SEPARATORS):
            return True
    return False


def _tag_name(item):
    return tags_to_dict(_default_tags(item)).get("Name")


def _default_tags(item):
    for key in ("Tags", "TagList", "tags"):
        if key in item:
            return item[key]
    return None


def _key(*keys):
    """An extractor returning the first present key (fallbacks for ids some APIs or emulators omit)."""

    def extract(item):
        for key in keys:
            value = item.get(key)
            if value:
                return value
        return None

    return extract


def _tag_name_or(*keys):
    fallback = _key(*keys)

    def extract(item):
        return _tag_name(item) or fallback(item)

    return extract


def _state_in(key, states, subkey=None):
    states = {state.lower() for state in states}

    def gone(item):
        value = item.get(key)
        if subkey and isinstance(value, dict):
            value = value.get(subkey)
        return isinstance(value, str) and value.lower() in states

    return gone


def _never(item):
    return False


def _no_parents(item):
    return []


class ResourceType:
    """How to read one resource type's describe/list items.

    ``id_of``/``name_of`` give the identifiers reported; ``match_names`` the names compared with the
    stack's prefixes (only when ``by_name``); ``parents_of`` the ids of enclosing resources (VPC,
    cluster); ``gone`` says an item is already deleted (terminated instance, INACTIVE cluster);
    ``skip`` drops items that belong to their parent and go with it (a VPC's default security
    group); ``kept_reason`` returns why an item of the stack is deliberately kept, or None.
    """

    def __init__(
        self,
        name,
        service,
        id_of,
        name_of,
        by_name=False,
        match_names=None,
        parents_of=_no_parents,
        gone=_never,
        skip=_never,
        kept_reason=None,
        case_insensitive=False,
        tags_of=_default_tags,
    ):
        self.name = name
        self.service = service
        self.id_of = id_of
        self.name_of = name_of
        self.by_name = by_name
        self.match_names = match_names or (lambda item: [name_of(item)])
        self.parents_of = parents_of
        self.gone = gone
        self.skip = skip
        self.kept_reason = kept_reason
        self.case_insensitive = case_insensitive
        self.tags_of = tags_of

    def __repr__(self):
        return "ResourceType(%s)" % self.name


def _vpc_id(item):
    return [item["VpcId"]] if item.get("VpcId") else []


def _igw_vpcs(item):
    return [attachment["VpcId"] for attachment in item.get("Attachments") or [] if attachment.get("VpcId")]


def _is_default_group(item):
    return item.get("GroupName") == "default"


def _is_main_route_table(item):
    return any(assoc.get("Main") for assoc in item.get("Associations") or [])


def _cluster_of(item):
    return [item["clusterArn"]] if item.get("clusterArn") else []


def _snapshot_names(item):
    return [item.get("DBSnapshotIdentifier"), item.get("DBInstanceIdentifier")]


def _when(value):
    """A timestamp as boto3 returns it (datetime) or as a string, for a message."""
    if isinstance(value, datetime.datetime):
        if value.utcoffset() is None:
            return value.strftime("%Y-%m-%dT%H:%M:%S")
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _snapshot_kept(item):
    created = _when(item["SnapshotCreateTime"]) if item.get("SnapshotCreateTime") else None
    return "manual DB snapshot of %s%s, kept on purpose (a final snapshot); delete it when no longer needed" % (
        item.get("DBInstanceIdentifier") or "a deleted instance",
        " taken %s" % created if created else "",
    )


def _secret_kept(item):
    if not item.get("DeletedDate"):
        return None
    return (
        "scheduled for deletion on %s; its name cannot be reused until then "
        "(restore-secret, or delete it with force_delete_without_recovery)" % _when(item["DeletedDate"])
    )


def _repository_kept(item):
    if not item.get("HasImages"):
        return None
    return "still holds images, kept on purpose; delete it with its images with -e ecr_force_delete=true"


def _efs_name(item):
    return item.get("Name") or _tag_name(item) or item.get("FileSystemId")


# Audit order matters: VPCs and ECS clusters come before the resources found inside them.
RESOURCE_TYPES = [
    # EC2 and VPC: tagged resources, plus anything inside one of the stack's VPCs.
    ResourceType("vpc", "ec2", _key("VpcId"), _tag_name_or("VpcId")),
    ResourceType("subnet", "ec2", _key("SubnetId"), _tag_name_or("SubnetId"), parents_of=_vpc_id),
    ResourceType(
        "route_table",
        "ec2",
        _key("RouteTableId"),
        _tag_name_or("RouteTableId"),
        parents_of=_vpc_id,
        skip=_is_main_route_table,
    ),
    ResourceType(
        "internet_gateway", "ec2", _key("InternetGatewayId"), _tag_name_or("InternetGatewayId"), parents_of=_igw_vpcs
    ),
    ResourceType(
        "nat_gateway",
        "ec2",
        _key("NatGatewayId"),
        _tag_name_or("NatGatewayId"),
        parents_of=_vpc_id,
        gone=_state_in("State", ["deleted", "failed"]),
    ),
    ResourceType("elastic_ip", "ec2", _key("AllocationId", "PublicIp"), _tag_name_or("PublicIp", "AllocationId")),
    ResourceType(
        "security_group",
        "ec2",
        _key("GroupId"),
        _key("GroupName", "GroupId"),
        parents_of=_vpc_id,
        skip=_is_default_group,
    ),
    ResourceType(
        "vpc_endpoint",
        "ec2",
        _key("VpcEndpointId"),
        _tag_name_or("ServiceName", "VpcEndpointId"),
        parents_of=_vpc_id,
        gone=_state_in("State", ["deleted", "rejected", "failed", "expired"]),
    ),
    ResourceType(
        "instance",
        "ec2",
        _key("InstanceId"),
        _tag_name_or("InstanceId"),
        parents_of=_vpc_id,
        gone=_state_in("State", ["terminated"], subkey="Name"),
    ),
    ResourceType(
        "network_interface",
        "ec2",
        _key("NetworkInterfaceId"),
        _tag_name_or("Description", "NetworkInterfaceId"),
        parents_of=_vpc_id,
    ),
    ResourceType("volume", "ec2", _key("VolumeId"), _tag_name_or("VolumeId"), gone=_state_in("State", ["deleted"])),
    ResourceType(
        "launch_template", "ec2", _key("LaunchTemplateId"), _key("LaunchTemplateName", "LaunchTemplateId"), by_name=True
    ),
    # Auto Scaling, load balancing
    ResourceType(
        "autoscaling_group",
        "autoscaling",
        _key("AutoScalingGroupARN", "AutoScalingGroupName"),
        _key("AutoScalingGroupName"),
        by_name=True,
    ),
    ResourceType(
        "load_balancer", "elbv2", _key("LoadBalancerArn"), _key("LoadBalancerName"), by_name=True, parents_of=_vpc_id
    ),
    ResourceType(
        "target_group", "elbv2", _key("TargetGroupArn"), _key("TargetGroupName"), by_name=True, parents_of=_vpc_id
    ),
    # ECS
    ResourceType(
        "ecs_cluster",
        "ecs",
        _key("clusterArn"),
        _key("clusterName"),
        by_name=True,
        gone=_state_in("status", ["INACTIVE"]),
    ),
    ResourceType(
        "ecs_capacity_provider",
        "ecs",
        _key("capacityProviderArn", "name"),
        _key("name"),
        by_name=True,
        gone=_state_in("status", ["INACTIVE"]),
    ),
    ResourceType(
        "ecs_service",
        "ecs",
        _key("serviceArn"),
        _key("serviceName"),
        by_name=True,
        parents_of=_cluster_of,
        gone=_state_in("status", ["INACTIVE"]),
    ),
    ResourceType("ecs_task_definition", "ecs", _key("taskDefinitionArn"), _key("family"), by_name=True),
    # IAM (global, untaggable in list calls: names first, tags confirmed per candidate)
    ResourceType("iam_role", "iam", _key("Arn", "RoleName"), _key("RoleName"), by_name=True),
    ResourceType(
        "iam_instance_profile", "iam", _key("Arn", "InstanceProfileName"), _key("InstanceProfileName"), by_name=True
    ),
    ResourceType("iam_policy", "iam", _key("Arn", "PolicyName"), _key("PolicyName"), by_name=True),
    # RDS: identifiers are lower case whatever the stack name's case.
    ResourceType(
        "db_instance",
        "rds",
        _key("DBInstanceArn", "DBInstanceIdentifier"),
        _key("DBInstanceIdentifier"),
        by_name=True,
        case_insensitive=True,
    ),
    ResourceType(
        "db_subnet_group",
        "rds",
        _key("DBSubnetGroupArn", "DBSubnetGroupName"),
        _key("DBSubnetGroupName"),
        by_name=True,
        case_insensitive=True,
    ),
    ResourceType(
        "db_parameter_group",
        "rds",
        _key("DBParameterGroupArn", "DBParameterGroupName"),
        _key("DBParameterGroupName"),
        by_name=True,
        case_insensitive=True,
    ),
    ResourceType(
        "db_snapshot",
        "rds",
        _key("DBSnapshotArn", "DBSnapshotIdentifier"),
        _key("DBSnapshotIdentifier"),
        by_name=True,
        match_names=_snapshot_names,
        case_insensitive=True,
        kept_reason=_snapshot_kept,
    ),
    # Secrets, images, logs, parameters, alarms, file systems
    ResourceType("secret", "secretsmanager", _key("ARN", "Name"), _key("Name"), by_name=True, kept_reason=_secret_kept),
    ResourceType(
        "ecr_repository",
        "ecr",
        _key("repositoryArn", "repositoryName"),
        _key("repositoryName"),
        by_name=True,
        kept_reason=_repository_kept,
    ),
    ResourceType("log_group", "logs", _key("logGroupArn", "arn", "logGroupName"), _key("logGroupName"), by_name=True),
    ResourceType("ssm_parameter", "ssm", _key("ARN", "Name"), _key("Name"), by_name=True),
    ResourceType("cloudwatch_alarm", "cloudwatch", _key("AlarmArn", "AlarmName"), _key("AlarmName"), by_name=True),
    ResourceType(
        "efs_file_system",
        "efs",
        _key("FileSystemArn", "FileSystemId"),
        _efs_name,
        gone=_state_in("LifeCycleState", ["deleted"]),
    ),
]

RESOURCE_TYPE_NAMES = [resource_type.name for resource_type in RESOURCE_TYPES]
RESOURCE_TYPES_BY_NAME = {resource_type.name: resource_type for resource_type in RESOURCE_TYPES}


def name_prefixes(resource_type, stack, log_group_prefixes=None, ssm_prefixes=None):
    """The names a resource type's members start with when they follow the stack's naming."""
    if resource_type.name == "log_group":
        return list(log_group_prefixes if log_group_prefixes is not None else default_log_group_prefixes(stack))
    if resource_type.name == "ssm_parameter":
        return list(ssm_prefixes if ssm_prefixes is not None else default_ssm_prefixes(stack))
    return [stack]


def default_log_group_prefixes(stack):
    return ["/autostack/%s" % stack, "/ecs/%s" % stack]


def default_ssm_prefixes(stack):
    return ["/autostack/%s" % stack, stack]


def belongs_to_stack(stack, tags, names, prefixes, parents=(), stack_parents=(), by_name=True, case_insensitive=False):
    """Whether a resource is the stack's (see the module docstring for the rule)."""
    owner = tags_to_dict(tags).get(STACK_TAG)
    if owner is not None:
        return owner == stack
    if stack_parents and set(parents) & set(stack_parents):
        return True
    if by_name:
        return any(name_matches(name, prefixes, case_insensitive) for name in names if name)
    return False


def _entry_order(entry):
    return (entry["name"] or "", entry["id"] or "")


def classify(resource_type, stack, items, prefixes=None, stack_parents=(), match_untagged_by_name=True):
    """Split raw items of one type into ``(leftovers, kept)`` entries of the stack, sorted, without duplicates."""
    prefixes = prefixes if prefixes is not None else [stack]
    leftovers, kept, seen = [], [], set()
    for item in items:
        if resource_type.gone(item) or resource_type.skip(item):
            continue
        resource_id = resource_type.id_of(item)
        if resource_id in seen:
            continue
        if not belongs_to_stack(
            stack,
            resource_type.tags_of(item),
            resource_type.match_names(item),
            prefixes,
            parents=resource_type.parents_of(item),
            stack_parents=stack_parents,
            by_name=resource_type.by_name and match_untagged_by_name,
            case_insensitive=resource_type.case_insensitive,
        ):
            continue
        seen.add(resource_id)
        entry = {"type": resource_type.name, "id": resource_id, "name": resource_type.name_of(item) or resource_id}
        reason = resource_type.kept_reason(item) if resource_type.kept_reason else None
        keep = tags_to_dict(resource_type.tags_of(item)).get(KEEP_TAG)
        if not reason and keep is not None:
            reason = "tagged %s: %s" % (KEEP_TAG, keep or "(no reason given)")
        if reason:
            entry["reason"] = reason
            kept.append(entry)
        else:
            leftovers.append(entry)
    return sorted(leftovers, key=_entry_order), sorted(kept, key=_entry_order)


def count_by_type(types_audited, entries):
    """Entries per audited type, zeros included, so that a reader sees what was looked at."""
    counts = {name: 0 for name in types_audited}
    for entry in entries:
        counts[entry["type"]] = counts.get(entry["type"], 0) + 1
    return counts


def leftovers_message(stack, leftovers, limit=50):
    """A failure message a person can act on: every leftover (up to ``limit``), grouped by type."""
    if not leftovers:
        return "Stack %r has no leftovers" % stack
    described = []
    for entry in leftovers[:limit]:
        label = entry["id"] if entry["name"] == entry["id"] else "%s (%s)" % (entry["name"], entry["id"])
        described.append("%s %s" % (entry["type"], label))
    if len(leftovers) > limit:
        described.append("... and %d more (see leftovers)" % (len(leftovers) - limit))
    return "Stack %r still has %d resource(s): %s" % (stack, len(leftovers), "; ".join(described))
