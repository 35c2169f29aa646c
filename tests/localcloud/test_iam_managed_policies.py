"""AWS managed policies exist and attach (server.py sets MOTO_IAM_LOAD_MANAGED_POLICIES).

The IAM roles of the stack attach two AWS managed policies; without them loaded, moto
answers NoSuchEntity and the ECS instance role and the task execution role cannot be made.
"""

import json

import pytest

POLICIES = [
    ("arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role", "ec2.amazonaws.com"),
    ("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", "ecs-tasks.amazonaws.com"),
]


@pytest.mark.parametrize("policy_arn,principal", POLICIES, ids=["ecs-instance", "task-execution"])
def test_managed_policy_can_be_fetched_and_attached(aws, unique, policy_arn, principal):
    iam = aws("iam")

    policy = iam.get_policy(PolicyArn=policy_arn)["Policy"]
    assert policy["Arn"] == policy_arn
    assert policy["Path"] == "/service-role/"
    version = iam.get_policy_version(PolicyArn=policy_arn, VersionId=policy["DefaultVersionId"])
    assert version["PolicyVersion"]["Document"]["Statement"], "the managed policy has no statements"

    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName=unique, AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName=unique, PolicyArn=policy_arn)
    attached = iam.list_attached_role_policies(RoleName=unique)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [policy_arn]

    # A managed policy is listed among the account's policies when AWS ones are asked for.
    listed = iam.get_paginator("list_policies").paginate(Scope="AWS", PathPrefix="/service-role/")
    assert policy_arn in {p["Arn"] for page in listed for p in page["Policies"]}
