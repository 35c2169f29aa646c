"""Launch templates and forced Auto Scaling group deletion, as AWS does them; instances take their
launch template's MetadataOptions (IMDSv2)."""

import base64

USER_DATA = base64.b64encode(b"#!/bin/bash\necho hello\n").decode()
IMDSV2 = {"HttpTokens": "required", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"}


def _template(aws, name, **data):
    data = dict({"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "UserData": USER_DATA}, **data)
    return aws("ec2").create_launch_template(
        LaunchTemplateName=name,
        LaunchTemplateData=data,
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "Name", "Value": name}]}],
    )["LaunchTemplate"]


def _one_instance_group(autoscaling, name, template_id, version, subnet_id):
    """An Auto Scaling group of one instance from the template; returns that instance's id."""
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateId": template_id, "Version": version},
        MinSize=1,
        MaxSize=1,
        DesiredCapacity=1,
        VPCZoneIdentifier=subnet_id,
    )
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    assert len(group["Instances"]) == 1
    return group["Instances"][0]["InstanceId"]


def _options(ec2, instance_id):
    (reservation,) = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    return reservation["Instances"][0]["MetadataOptions"]


def test_template_tags_stay_out_of_the_version_data(aws, unique):
    """patch_ec2_launch_template_own_tags: the template's tags are not part of version 1's data."""
    ec2 = aws("ec2")
    template = _template(aws, unique)
    version = ec2.describe_launch_template_versions(LaunchTemplateId=template["LaunchTemplateId"])[
        "LaunchTemplateVersions"
    ][0]
    assert "TagSpecifications" not in version["LaunchTemplateData"]
    assert {"Key": "Name", "Value": unique} in template["Tags"]


def test_a_group_launches_from_a_second_version(aws, unique, network):
    """patch_ec2_launch_template_version_user_data: version 2 with user data can launch instances."""
    ec2, autoscaling = aws("ec2"), aws("autoscaling")
    template = _template(aws, unique)
    ec2.create_launch_template_version(
        LaunchTemplateId=template["LaunchTemplateId"],
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.small", "UserData": USER_DATA},
    )
    _one_instance_group(autoscaling, unique, template["LaunchTemplateId"], "2", network["subnet_ids"][0])
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName=unique, ForceDelete=True)


def test_delete_launch_template_versions(aws, unique, error_of):
    """patch_ec2_delete_launch_template_versions: non-default versions go, the default one stays."""
    ec2 = aws("ec2")
    template_id = _template(aws, unique)["LaunchTemplateId"]
    ec2.create_launch_template_version(LaunchTemplateId=template_id, LaunchTemplateData={"InstanceType": "t3.small"})
    answer = ec2.delete_launch_template_versions(LaunchTemplateId=template_id, Versions=["1", "2"])
    assert [v["VersionNumber"] for v in answer["SuccessfullyDeletedLaunchTemplateVersions"]] == [2]
    assert [v["VersionNumber"] for v in answer["UnsuccessfullyDeletedLaunchTemplateVersions"]] == [1]
    left = ec2.describe_launch_template_versions(LaunchTemplateId=template_id)["LaunchTemplateVersions"]
    assert [v["VersionNumber"] for v in left] == [1]
    ec2.delete_launch_template(LaunchTemplateId=template_id)


def test_force_delete_terminates_protected_instances(aws, unique, network):
    """patch_autoscaling_force_delete: ForceDelete terminates instances protected from scale in."""
    ec2, autoscaling = aws("ec2"), aws("autoscaling")
    _template(aws, unique)
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=unique,
        LaunchTemplate={"LaunchTemplateName": unique, "Version": "$Latest"},
        MinSize=1,
        MaxSize=1,
        DesiredCapacity=1,
        VPCZoneIdentifier=network["subnet_ids"][0],
        NewInstancesProtectedFromScaleIn=True,
    )
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[unique])["AutoScalingGroups"][0]
    instance_id = group["Instances"][0]["InstanceId"]
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName=unique, ForceDelete=True)
    state = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state in ("shutting-down", "terminated")


def test_group_instances_require_imdsv2_like_their_template(aws, unique, network):
    """patch_ec2_launch_template_metadata_options: an Auto Scaling group's instance reports HttpTokens required."""
    ec2, autoscaling = aws("ec2"), aws("autoscaling")
    template = _template(aws, unique, MetadataOptions=IMDSV2)
    try:
        instance_id = _one_instance_group(autoscaling, unique, template["LaunchTemplateId"], "$Latest", network["subnet_ids"][0])
        options = _options(ec2, instance_id)
        assert options["HttpTokens"] == "required"
        assert options["HttpPutResponseHopLimit"] == 2
        assert options["HttpEndpoint"] == "enabled"
    finally:
        autoscaling.delete_auto_scaling_group(AutoScalingGroupName=unique, ForceDelete=True)
        ec2.delete_launch_template(LaunchTemplateId=template["LaunchTemplateId"])


def test_run_instances_options_override_the_template_one_by_one(aws, unique, network):
    """RunInstances' own MetadataOptions win per field; the others come from the template."""
    ec2 = aws("ec2")
    template = _template(aws, unique, MetadataOptions=IMDSV2)
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
    template = _template(aws, unique)
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
