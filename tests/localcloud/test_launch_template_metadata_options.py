"""Instances take their launch template's MetadataOptions (IMDSv2), as on AWS."""

import base64

USER_DATA = base64.b64encode(b"#!/bin/bash\necho hello\n").decode()
IMDSV2 = {"HttpTokens": "required", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"}


def _template(ec2, name, **data):
    data = dict({"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "UserData": USER_DATA}, **data)
    return ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData=data)["LaunchTemplate"]


def _options(ec2, instance_id):
    (reservation,) = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    return reservation["Instances"][0]["MetadataOptions"]


def test_group_instances_require_imdsv2_like_their_template(aws, unique, network):
    """patch_ec2_launch_template_metadata_options: an Auto Scaling group's instance reports HttpTokens required."""
    ec2, autoscaling = aws("ec2"), aws("autoscaling")
    template = _template(ec2, unique, MetadataOptions=IMDSV2)
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=unique,
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"], "Version": "$Latest"},
        MinSize=1,
        MaxSize=1,
        DesiredCapacity=1,
        VPCZoneIdentifier=network["subnet_ids"][0],
    )
    try:
        (instance,) = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[unique])["AutoScalingGroups"][0][
            "Instances"
        ]
        options = _options(ec2, instance["InstanceId"])
        assert options["HttpTokens"] == "required"
        assert options["HttpPutResponseHopLimit"] == 2
        assert options["HttpEndpoint"] == "enabled"
    finally:
        autoscaling.delete_auto_scaling_group(AutoScalingGroupName=unique, ForceDelete=True)
        ec2.delete_launch_template(LaunchTemplateId=template["LaunchTemplateId"])


def test_run_instances_options_override_the_template_one_by_one(aws, unique, network):
    """RunInstances' own MetadataOptions win per field; the others come from the template."""
    ec2 = aws("ec2")
    template = _template(ec2, unique, MetadataOptions=IMDSV2)
    (instance,) = ec2.run_instances(
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"]},
        MinCount=1,
        MaxCount=1,
        SubnetId=network["subnet_ids"][0],
        MetadataOptions={"HttpPutResponseHopLimit": 3},
    )["Instances"]
    try:
        options = _options(ec2, instance["InstanceId"])
        assert (options["HttpTokens"], options["HttpPutResponseHopLimit"]) == ("required", 3)
    finally:
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
        ec2.delete_launch_template(LaunchTemplateId=template["LaunchTemplateId"])


def test_template_without_options_keeps_the_defaults(aws, unique, network):
    ec2 = aws("ec2")
    template = _template(ec2, unique)
    (instance,) = ec2.run_instances(
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"]},
        MinCount=1,
        MaxCount=1,
        SubnetId=network["subnet_ids"][0],
    )["Instances"]
    try:
        assert _options(ec2, instance["InstanceId"])["HttpTokens"] == "optional"
    finally:
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
        ec2.delete_launch_template(LaunchTemplateId=template["LaunchTemplateId"])
