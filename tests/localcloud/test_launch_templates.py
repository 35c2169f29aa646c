"""Launch templates and forced Auto Scaling group deletion, as AWS does them."""

import base64

USER_DATA = base64.b64encode(b"#!/bin/bash\necho hello\n").decode()


def _template(aws, name, **data):
    data = dict({"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "UserData": USER_DATA}, **data)
    return aws("ec2").create_launch_template(
        LaunchTemplateName=name,
        LaunchTemplateData=data,
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "Name", "Value": name}]}],
    )["LaunchTemplate"]


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
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=unique,
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"], "Version": "2"},
        MinSize=1,
        MaxSize=1,
        DesiredCapacity=1,
        VPCZoneIdentifier=network["subnet_ids"][0],
    )
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[unique])["AutoScalingGroups"][0]
    assert len(group["Instances"]) == 1
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
