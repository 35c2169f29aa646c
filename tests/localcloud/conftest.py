"""Helpers for the fidelity-patch tests: clients without retries, unique names, a network."""

import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "eu-west-1"


@pytest.fixture
def aws(emulator):
    """``aws('ec2')``: a boto3 client on the private emulator that does not retry.

    Without retries a missing patch shows as one HTTP 500 instead of three.
    """

    def make(service):
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=emulator.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    return make


@pytest.fixture
def unique():
    """A name prefix no other test uses, so tests share the emulator without a reset."""
    return "lc-%s" % uuid.uuid4().hex[:10]


@pytest.fixture
def network(aws, unique):
    """A VPC with two subnets in two zones; ``cidr`` is a /16 no other test uses."""
    ec2 = aws("ec2")
    octet = int(uuid.uuid4().hex[:2], 16) % 200 + 20
    cidr = "10.%d.0.0/16" % octet
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.%d.%d.0/24" % (octet, i), AvailabilityZone=REGION + zone)[
            "Subnet"
        ]["SubnetId"]
        for i, zone in enumerate("ab", start=1)
    ]
    return {"vpc_id": vpc_id, "subnet_ids": subnets, "octet": octet, "name": unique}


def _error_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    response = raised.value.response
    return (
        response["Error"]["Code"],
        response["Error"].get("Message", ""),
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


@pytest.fixture
def error_of():
    """``error_of(call, **kwargs)``: the AWS error (code, message, HTTP status) the call answers.

    Fails the test when the call succeeds.
    """
    return _error_of


@pytest.fixture
def auto_scaling_group(aws):
    """``auto_scaling_group(name, subnet_ids, desired=0)``: a launch template and a group using it.

    Returns the group as DescribeAutoScalingGroups describes it.
    """

    def make(name, subnet_ids, desired=0):
        aws("ec2").create_launch_template(
            LaunchTemplateName=name, LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"}
        )
        autoscaling = aws("autoscaling")
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateName": name, "Version": "$Latest"},
            MinSize=0,
            MaxSize=max(desired, 1),
            DesiredCapacity=desired,
            VPCZoneIdentifier=",".join(subnet_ids),
        )
        return autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]

    return make
