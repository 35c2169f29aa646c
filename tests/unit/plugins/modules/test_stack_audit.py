# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The audit's rules, on describe/list outputs shaped as AWS returns them (no network)."""

from __future__ import annotations

import datetime

import pytest
import yaml

from ansible_collections.autostack.wordpress.plugins.module_utils import _audit
from ansible_collections.autostack.wordpress.plugins.module_utils import _audit_listers
from ansible_collections.autostack.wordpress.plugins.module_utils._audit import RESOURCE_TYPES_BY_NAME as TYPES
from ansible_collections.autostack.wordpress.plugins.modules import stack_audit

STACK = "wordpress"


def ec2_tags(stack=None, name=None, **extra):
    tags = [{"Key": key, "Value": value} for key, value in extra.items()]
    if stack is not None:
        tags.append({"Key": "autostack:stack", "Value": stack})
    if name is not None:
        tags.append({"Key": "Name", "Value": name})
    return tags


def ids(entries):
    return [entry["id"] for entry in entries]


# Helpers


@pytest.mark.parametrize(
    "tags, expected",
    [
        (None, {}),
        ([], {}),
        ([{"Key": "a", "Value": "1"}], {"a": "1"}),
        ([{"key": "a", "value": "1"}], {"a": "1"}),
        ({"a": "1"}, {"a": "1"}),
        ([{"Key": "a"}], {"a": ""}),
    ],
)
def test_tags_to_dict(tags, expected):
    assert _audit.tags_to_dict(tags) == expected


@pytest.mark.parametrize(
    "name, prefixes, case_insensitive, expected",
    [
        ("wordpress", ["wordpress"], False, True),
        ("wordpress-db", ["wordpress"], False, True),
        ("wordpress/app", ["wordpress"], False, True),
        ("wordpressdb", ["wordpress"], False, False),
        ("my-wordpress-db", ["wordpress"], False, False),
        ("WordPress-db", ["wordpress"], False, False),
        ("wordpress-db", ["WordPress"], True, True),
        ("/ecs/wordpress", ["/autostack/wordpress", "/ecs/wordpress"], False, True),
        ("/ecs/wordpress/app", ["/autostack/wordpress", "/ecs/wordpress"], False, True),
        ("/ecs/wordpressx", ["/autostack/wordpress", "/ecs/wordpress"], False, False),
        ("", ["wordpress"], False, False),
        (None, ["wordpress"], False, False),
    ],
)
def test_name_matches(name, prefixes, case_insensitive, expected):
    assert _audit.name_matches(name, prefixes, case_insensitive) is expected


@pytest.mark.parametrize(
    "tags, names, parents, by_name, expected",
    [
        pytest.param({"autostack:stack": STACK}, ["anything"], [], False, True, id="tagged"),
        pytest.param(
            {"autostack:stack": "wordpress-dev"}, ["wordpress-dev-db"], [], True, False, id="other stack by tag"
        ),
        pytest.param(
            {"autostack:stack": "other"}, ["wordpress-db"], ["vpc-1"], True, False, id="tag beats name and vpc"
        ),
        pytest.param({}, ["wordpress-db"], [], True, True, id="untagged, named"),
        pytest.param({}, ["wordpress-db"], [], False, False, id="untagged, named, names not trusted"),
        pytest.param({}, ["eni-1"], ["vpc-1"], False, True, id="untagged, in a stack vpc"),
        pytest.param({}, ["eni-1"], ["vpc-2"], True, False, id="untagged, elsewhere"),
        pytest.param({"Name": "wordpress-x"}, ["x"], [], True, False, id="Name tag is not the stack tag"),
    ],
)
def test_belongs_to_stack(tags, names, parents, by_name, expected):
    result = _audit.belongs_to_stack(
        STACK, tags, names, [STACK], parents=parents, stack_parents=["vpc-1"], by_name=by_name
    )
    assert result is expected


# Classification, type by type, on fixtures shaped as the APIs answer


CLASSIFY_CASES = [
    pytest.param(
        "vpc",
        [
            {"VpcId": "vpc-1", "Tags": ec2_tags(STACK, "wordpress-vpc")},
            {"VpcId": "vpc-2", "Tags": ec2_tags("wordpress-dev", "wordpress-dev-vpc")},
            {"VpcId": "vpc-3"},
        ],
        [("vpc-1", "wordpress-vpc")],
        id="vpc by tag only",
    ),
    pytest.param(
        "subnet",
        [
            {"SubnetId": "subnet-1", "VpcId": "vpc-1", "Tags": ec2_tags(STACK, "wordpress-public-a")},
            {"SubnetId": "subnet-2", "VpcId": "vpc-1"},
            {"SubnetId": "subnet-3", "VpcId": "vpc-9"},
            {"SubnetId": "subnet-1", "VpcId": "vpc-1", "Tags": ec2_tags(STACK, "wordpress-public-a")},
        ],
        [("subnet-2", "subnet-2"), ("subnet-1", "wordpress-public-a")],
        id="subnet by tag and vpc, duplicates once",
    ),
    pytest.param(
        "route_table",
        [
            {"RouteTableId": "rtb-main", "VpcId": "vpc-1", "Associations": [{"Main": True}]},
            {"RouteTableId": "rtb-1", "VpcId": "vpc-1", "Associations": [{"Main": False, "SubnetId": "s"}]},
        ],
        [("rtb-1", "rtb-1")],
        id="main route table goes with its vpc",
    ),
    pytest.param(
        "internet_gateway",
        [
            {"InternetGatewayId": "igw-1", "Attachments": [{"VpcId": "vpc-1", "State": "available"}]},
            {"InternetGatewayId": "igw-2", "Attachments": []},
        ],
        [("igw-1", "igw-1")],
        id="internet gateway attached to a stack vpc",
    ),
    pytest.param(
        "nat_gateway",
        [
            {"NatGatewayId": "nat-1", "VpcId": "vpc-1", "State": "available", "Tags": ec2_tags(STACK)},
            {"NatGatewayId": "nat-2", "VpcId": "vpc-1", "State": "deleting", "Tags": ec2_tags(STACK)},
            {"NatGatewayId": "nat-3", "VpcId": "vpc-1", "State": "deleted", "Tags": ec2_tags(STACK)},
            {"NatGatewayId": "nat-4", "VpcId": "vpc-1", "State": "failed", "Tags": ec2_tags(STACK)},
        ],
        [("nat-1", "nat-1"), ("nat-2", "nat-2")],
        id="nat gateway until deleted",
    ),
    pytest.param(
        "elastic_ip",
        [
            {"AllocationId": "eipalloc-1", "PublicIp": "198.51.100.1", "Tags": ec2_tags(STACK)},
            {"AllocationId": "eipalloc-2", "PublicIp": "198.51.100.2", "Tags": ec2_tags(STACK, "wordpress-nat-a")},
            {"AllocationId": "eipalloc-3", "PublicIp": "198.51.100.3"},
        ],
        [("eipalloc-1", "198.51.100.1"), ("eipalloc-2", "wordpress-nat-a")],
        id="elastic ip by tag",
    ),
    pytest.param(
        "security_group",
        [
            {"GroupId": "sg-default", "GroupName": "default", "VpcId": "vpc-1"},
            {"GroupId": "sg-1", "GroupName": "wordpress-alb", "VpcId": "vpc-1", "Tags": ec2_tags(STACK)},
            {"GroupId": "sg-2", "GroupName": "wordpress-db", "VpcId": "vpc-9"},
        ],
        [("sg-1", "wordpress-alb")],
        id="default group goes with its vpc; security groups are not matched by name",
    ),
    pytest.param(
        "instance",
        [
            {"InstanceId": "i-1", "VpcId": "vpc-1", "State": {"Name": "running"}},
            {"InstanceId": "i-2", "VpcId": "vpc-1", "State": {"Name": "shutting-down"}},
            {"InstanceId": "i-3", "VpcId": "vpc-1", "State": {"Name": "terminated"}, "Tags": ec2_tags(STACK)},
        ],
        [("i-1", "i-1"), ("i-2", "i-2")],
        id="instances until terminated",
    ),
    pytest.param(
        "network_interface",
        [
            {"NetworkInterfaceId": "eni-1", "VpcId": "vpc-1", "Description": "ELB app/wordpress-alb/1"},
            {"NetworkInterfaceId": "eni-2", "VpcId": "vpc-1", "Description": ""},
        ],
        [("eni-1", "ELB app/wordpress-alb/1"), ("eni-2", "eni-2")],
        id="untagged interfaces in a stack vpc",
    ),
    pytest.param(
        "vpc_endpoint",
        [
            {"VpcEndpointId": "vpce-1", "VpcId": "vpc-1", "State": "available", "ServiceName": "com.amazonaws.s3"},
            {"VpcEndpointId": "vpce-2", "VpcId": "vpc-1", "State": "Deleted", "ServiceName": "com.amazonaws.s3"},
        ],
        [("vpce-1", "com.amazonaws.s3")],
        id="vpc endpoints, state case-insensitive",
    ),
    pytest.param(
        "launch_template",
        [
            {"LaunchTemplateId": "lt-1", "LaunchTemplateName": "wordpress-hosts"},
            {
                "LaunchTemplateId": "lt-2",
                "LaunchTemplateName": "wordpress-dev-hosts",
                "Tags": ec2_tags("wordpress-dev"),
            },
            {"LaunchTemplateId": "lt-3", "LaunchTemplateName": "other", "Tags": ec2_tags(STACK)},
        ],
        [("lt-3", "other"), ("lt-1", "wordpress-hosts")],
        id="launch templates by tag or name",
    ),
    pytest.param(
        "autoscaling_group",
        [
            {
                "AutoScalingGroupName": "wordpress-hosts",
                "AutoScalingGroupARN": "arn:asg/wordpress-hosts",
                "Status": "Delete in progress",
                "Tags": [{"Key": "autostack:stack", "Value": STACK, "ResourceId": "wordpress-hosts"}],
            },
            {"AutoScalingGroupName": "other", "AutoScalingGroupARN": "arn:asg/other", "Tags": []},
        ],
        [("arn:asg/wordpress-hosts", "wordpress-hosts")],
        id="auto scaling group, even while deleting",
    ),
    pytest.param(
        "load_balancer",
        [
            {"LoadBalancerArn": "arn:lb/1", "LoadBalancerName": "wordpress-alb", "VpcId": "vpc-1", "Tags": []},
            {"LoadBalancerArn": "arn:lb/2", "LoadBalancerName": "lonely", "VpcId": "vpc-1", "Tags": []},
            {"LoadBalancerArn": "arn:lb/3", "LoadBalancerName": "other", "VpcId": "vpc-9", "Tags": []},
        ],
        [("arn:lb/2", "lonely"), ("arn:lb/1", "wordpress-alb")],
        id="load balancers by name or vpc",
    ),
    pytest.param(
        "ecs_cluster",
        [
            {"clusterArn": "arn:cluster/wordpress", "clusterName": "wordpress", "status": "ACTIVE", "tags": []},
            {"clusterArn": "arn:cluster/old", "clusterName": "wordpress-old", "status": "INACTIVE", "tags": []},
            {
                "clusterArn": "arn:cluster/dev",
                "clusterName": "wordpress-dev",
                "status": "ACTIVE",
                "tags": [{"key": "autostack:stack", "value": "wordpress-dev"}],
            },
        ],
        [("arn:cluster/wordpress", "wordpress")],
        id="ecs clusters, lower-case tags, INACTIVE is gone",
    ),
    pytest.param(
        "ecs_capacity_provider",
        [
            {"name": "wordpress-hosts", "capacityProviderArn": "arn:cp/1", "status": "ACTIVE"},
            {"name": "wordpress-old", "capacityProviderArn": "arn:cp/2", "status": "INACTIVE"},
        ],
        [("arn:cp/1", "wordpress-hosts")],
        id="capacity providers",
    ),
    pytest.param(
        "ecs_service",
        [
            {
                "serviceArn": "arn:svc/web",
                "serviceName": "web",
                "clusterArn": "arn:cluster/wordpress",
                "status": "ACTIVE",
            },
            {
                "serviceArn": "arn:svc/gone",
                "serviceName": "gone",
                "clusterArn": "arn:cluster/wordpress",
                "status": "INACTIVE",
            },
        ],
        [("arn:svc/web", "web")],
        id="services of a stack cluster",
    ),
    pytest.param(
        "iam_role",
        [
            {"RoleName": "wordpress-ecs-instance", "Arn": "arn:role/1", "Tags": []},
            {"RoleName": "wordpress-dev-ecs-instance", "Arn": "arn:role/2", "Tags": ec2_tags("wordpress-dev")},
        ],
        [("arn:role/1", "wordpress-ecs-instance")],
        id="iam roles by name, other stack excluded by tag",
    ),
    pytest.param(
        "db_instance",
        [
            {
                "DBInstanceIdentifier": "wordpress-db",
                "DBInstanceArn": "arn:db/1",
                "TagList": [],
                "DBInstanceStatus": "deleting",
            },
            {"DBInstanceIdentifier": "legacy", "DBInstanceArn": "arn:db/2", "TagList": ec2_tags(STACK)},
        ],
        [("arn:db/2", "legacy"), ("arn:db/1", "wordpress-db")],
        id="db instances, even while deleting",
    ),
    pytest.param(
        "db_subnet_group",
        [{"DBSubnetGroupName": "wordpress-db", "TagList": []}],
        [("wordpress-db", "wordpress-db")],
        id="id falls back to the name when the ARN is missing",
    ),
    pytest.param(
        "ecr_repository",
        [
            {"repositoryName": "wordpress/app", "repositoryArn": "arn:repo/1", "Tags": []},
            {"repositoryName": "wordpress-dev/app", "repositoryArn": "arn:repo/2", "Tags": ec2_tags("wordpress-dev")},
        ],
        [("arn:repo/1", "wordpress/app")],
        id="ecr repositories",
    ),
    pytest.param(
        "efs_file_system",
        [
            {
                "FileSystemId": "fs-1",
                "FileSystemArn": "arn:fs/1",
                "Name": "content",
                "LifeCycleState": "available",
                "Tags": ec2_tags(STACK),
            },
            {"FileSystemId": "fs-2", "FileSystemArn": "arn:fs/2", "LifeCycleState": "deleted", "Tags": ec2_tags(STACK)},
        ],
        [("arn:fs/1", "content")],
        id="file systems until deleted",
    ),
]


@pytest.mark.parametrize("type_name, items, expected", CLASSIFY_CASES)
def test_classify(type_name, items, expected):
    leftovers, kept = _audit.classify(TYPES[type_name], STACK, items, stack_parents=["vpc-1", "arn:cluster/wordpress"])
    assert [(entry["id"], entry["name"]) for entry in leftovers] == expected
    assert all(entry["type"] == type_name for entry in leftovers)
    assert kept == []


def test_classify_log_groups_uses_the_log_prefixes():
    prefixes = _audit.name_prefixes(TYPES["log_group"], STACK)
    assert prefixes == ["/autostack/wordpress", "/ecs/wordpress"]
    items = [
        {"logGroupName": "/ecs/wordpress", "logGroupArn": "arn:lg/1", "Tags": {}},
        {"logGroupName": "/autostack/wordpress/app", "logGroupArn": "arn:lg/2", "Tags": {}},
        {"logGroupName": "/ecs/wordpress-dev", "logGroupArn": "arn:lg/3", "Tags": {"autostack:stack": "wordpress-dev"}},
        {"logGroupName": "wordpress-app", "logGroupArn": "arn:lg/4", "Tags": {}},
    ]
    leftovers, _kept = _audit.classify(TYPES["log_group"], STACK, items, prefixes=prefixes)
    assert ids(leftovers) == ["arn:lg/2", "arn:lg/1"]


def test_untrusted_names_find_only_tags_and_parents():
    items = [
        {"RoleName": "wordpress-ecs-instance", "Arn": "arn:role/1", "Tags": []},
        {"RoleName": "anything", "Arn": "arn:role/2", "Tags": ec2_tags(STACK)},
    ]
    leftovers, _kept = _audit.classify(TYPES["iam_role"], STACK, items, match_untagged_by_name=False)
    assert ids(leftovers) == ["arn:role/2"]


def test_rds_names_are_compared_case_insensitively():
    items = [{"DBInstanceIdentifier": "wordpress-db", "DBInstanceArn": "arn:db/1", "TagList": []}]
    leftovers, _kept = _audit.classify(TYPES["db_instance"], "WordPress", items, prefixes=["WordPress"])
    assert ids(leftovers) == ["arn:db/1"]


def test_db_snapshots_are_kept_not_left_over():
    created = datetime.datetime(2026, 11, 25, 18, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    items = [
        {
            "DBSnapshotIdentifier": "wordpress-db-final-20261125",
            "DBSnapshotArn": "arn:snap/1",
            "DBInstanceIdentifier": "wordpress-db",
            "SnapshotCreateTime": created,
            "TagList": [],
        },
        # Named after the instance only: still the stack's.
        {
            "DBSnapshotIdentifier": "final",
            "DBSnapshotArn": "arn:snap/2",
            "DBInstanceIdentifier": "wordpress-db",
            "TagList": [],
        },
        {
            "DBSnapshotIdentifier": "other-final",
            "DBSnapshotArn": "arn:snap/3",
            "DBInstanceIdentifier": "other",
            "TagList": [],
        },
    ]
    leftovers, kept = _audit.classify(TYPES["db_snapshot"], STACK, items)
    assert leftovers == []
    assert ids(kept) == ["arn:snap/2", "arn:snap/1"]
    assert "wordpress-db taken 2026-11-25T17:00:00Z" in kept[1]["reason"]
    assert "final snapshot" in kept[1]["reason"]


def test_secrets_pending_deletion_are_kept():
    items = [
        {"Name": "wordpress/db", "ARN": "arn:secret/1", "Tags": ec2_tags(STACK)},
        {
            "Name": "wordpress/old",
            "ARN": "arn:secret/2",
            "Tags": ec2_tags(STACK),
            "DeletedDate": datetime.datetime(2026, 12, 2, tzinfo=datetime.timezone.utc),
        },
        {"Name": "wordpress-dev/db", "ARN": "arn:secret/3", "Tags": ec2_tags("wordpress-dev")},
    ]
    leftovers, kept = _audit.classify(TYPES["secret"], STACK, items)
    assert ids(leftovers) == ["arn:secret/1"]
    assert ids(kept) == ["arn:secret/2"]
    assert "2026-12-02T00:00:00Z" in kept[0]["reason"]


def test_repositories_with_images_are_kept():
    items = [
        {"repositoryName": "wordpress/app", "repositoryArn": "arn:repo/1", "Tags": [], "HasImages": True},
        {"repositoryName": "wordpress/empty", "repositoryArn": "arn:repo/2", "Tags": [], "HasImages": False},
    ]
    leftovers, kept = _audit.classify(TYPES["ecr_repository"], STACK, items)
    assert ids(leftovers) == ["arn:repo/2"]
    assert ids(kept) == ["arn:repo/1"]
    assert "ecr_force_delete=true" in kept[0]["reason"]


@pytest.mark.parametrize(
    "keep, reason",
    [
        (
            "master password of snapshot wordpress-final-1",
            "tagged autostack:keep: master password of snapshot wordpress-final-1",
        ),
        ("", "tagged autostack:keep: (no reason given)"),
    ],
)
def test_keep_tag_marks_any_resource_as_kept(keep, reason):
    items = [
        {"Name": "wordpress/rds/master", "ARN": "arn:secret/1", "Tags": ec2_tags(STACK, **{"autostack:keep": keep})}
    ]
    leftovers, kept = _audit.classify(TYPES["secret"], STACK, items)
    assert leftovers == []
    assert kept == [{"type": "secret", "id": "arn:secret/1", "name": "wordpress/rds/master", "reason": reason}]


def test_keep_tag_does_not_claim_another_stacks_resource():
    items = [{"Name": "wordpress/x", "ARN": "arn:secret/1", "Tags": ec2_tags("other", **{"autostack:keep": "why"})}]
    assert _audit.classify(TYPES["secret"], STACK, items) == ([], [])


def test_count_by_type_lists_every_audited_type():
    counts = _audit.count_by_type(["vpc", "subnet"], [{"type": "subnet"}, {"type": "subnet"}])
    assert counts == {"vpc": 0, "subnet": 2}


def test_leftovers_message_names_each_leftover():
    message = _audit.leftovers_message(
        STACK,
        [
            {"type": "vpc", "id": "vpc-1", "name": "wordpress-vpc"},
            {"type": "network_interface", "id": "eni-1", "name": "eni-1"},
        ],
    )
    assert message == "Stack 'wordpress' still has 2 resource(s): vpc wordpress-vpc (vpc-1); network_interface eni-1"


def test_leftovers_message_is_bounded():
    leftovers = [{"type": "subnet", "id": "subnet-%d" % n, "name": "subnet-%d" % n} for n in range(60)]
    message = _audit.leftovers_message(STACK, leftovers, limit=5)
    assert message.count("subnet ") == 5
    assert message.endswith("... and 55 more (see leftovers)")


# The table and the module's interface agree


def test_every_type_has_a_lister_method():
    for resource_type in _audit.RESOURCE_TYPES:
        lister = _audit_listers.LISTERS[resource_type.service]
        assert callable(getattr(lister, resource_type.name, None)), resource_type.name


def test_parents_are_audited_before_their_children():
    order = _audit.RESOURCE_TYPE_NAMES
    assert order.index("vpc") < min(order.index(name) for name in ("subnet", "network_interface", "load_balancer"))
    assert order.index("ecs_cluster") < order.index("ecs_service")


def test_documented_choices_match_the_table():
    doc = yaml.safe_load(stack_audit.DOCUMENTATION)
    assert doc["options"]["ignore_types"]["choices"] == _audit.RESOURCE_TYPE_NAMES
    for name in _audit.RESOURCE_TYPE_NAMES:
        assert "C(%s)" % name in " ".join(doc["description"]), name


def test_docs_are_valid_yaml():
    for block in (stack_audit.DOCUMENTATION, stack_audit.EXAMPLES, stack_audit.RETURN):
        assert yaml.safe_load(block)


@pytest.mark.parametrize(
    "values, size, expected",
    [([], 20, []), ([1, 2, 3], 2, [[1, 2], [3]]), (range(4), 2, [[0, 1], [2, 3]])],
)
def test_chunks(values, size, expected):
    assert list(_audit_listers.chunks(values, size)) == expected
