"""autostack.wordpress.ecs_capacity_provider against a private local-cloud emulator.

The Auto Scaling group and the cluster are made with boto3; the module runs through ansible-playbook,
as the asg role runs it. Each step is checked twice: through the module's result and through boto3.
The cluster starts with another provider in its list and its default strategy, which every step
must leave alone.
"""

import json
import os
import subprocess
import sys
import uuid

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
STACK = "cpt%s" % uuid.uuid4().hex[:6]
PROVIDER = STACK + "-asg"
OTHER = STACK + "-other"
PLAYBOOK = """
- name: Manage a capacity provider
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the module
      autostack.wordpress.ecs_capacity_provider:
        name: "{{ cp_name }}"
        state: "{{ cp_state }}"
        auto_scaling_group_arn: "{{ cp_group_arn if cp_state == 'present' else omit }}"
        managed_scaling:
          status: enabled
          target_capacity: "{{ cp_target_capacity | int }}"
        managed_termination_protection: enabled
        cluster: "{{ cp_cluster }}"
        default_strategy: "{{ {'weight': 1, 'base': 0} if cp_state == 'present' else omit }}"
        tags:
          autostack:stack: "{{ cp_cluster }}"
        region: eu-west-1
      register: cp_result

    - name: Save the result
      ansible.builtin.copy:
        content: "{{ cp_result | to_json }}"
        dest: "{{ cp_results }}"
        mode: "0600"
      check_mode: false
"""


@pytest.fixture(scope="module")
def world(emulator, tmp_path_factory):
    """An Auto Scaling group, and a cluster that already uses another provider."""
    workdir = tmp_path_factory.mktemp("ecs_capacity_provider")
    ec2, autoscaling, ecs = emulator.client("ec2"), emulator.client("autoscaling"), emulator.client("ecs")
    vpc_id = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.77.1.0/24", AvailabilityZone="eu-west-1a")["Subnet"][
        "SubnetId"
    ]
    image_id = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.create_launch_template(
        LaunchTemplateName=STACK, LaunchTemplateData={"ImageId": image_id, "InstanceType": "t3.micro"}
    )
    arns = {}
    for name in (STACK, OTHER):
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateName": STACK, "Version": "$Latest"},
            MinSize=0,
            MaxSize=1,
            DesiredCapacity=0,
            VPCZoneIdentifier=subnet_id,
            NewInstancesProtectedFromScaleIn=True,
        )
        arns[name] = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0][
            "AutoScalingGroupARN"
        ]
    ecs.create_capacity_provider(name=OTHER, autoScalingGroupProvider={"autoScalingGroupArn": arns[OTHER]})
    ecs.create_cluster(
        clusterName=STACK,
        capacityProviders=[OTHER],
        defaultCapacityProviderStrategy=[{"capacityProvider": OTHER, "weight": 2, "base": 1}],
    )
    playbook = workdir / "playbook.yml"
    playbook.write_text(PLAYBOOK)
    return {"workdir": workdir, "playbook": str(playbook), "group_arn": arns[STACK], "ecs": ecs}


def run(emulator, world, *options, **variables):
    results = world["workdir"] / ("result-%s.json" % uuid.uuid4().hex[:8])
    extra = dict(
        cp_name=PROVIDER,
        cp_state="present",
        cp_group_arn=world["group_arn"],
        cp_target_capacity=100,
        cp_cluster=STACK,
        cp_results=str(results),
    )
    extra.update(variables)
    env = dict(emulator.env, ANSIBLE_CONFIG=os.path.join(TOP, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, world["playbook"], "-e", json.dumps(extra), *options],
        cwd=TOP,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-4000:]
    return json.loads(results.read_text())


def cluster_state(world):
    cluster = world["ecs"].describe_clusters(clusters=[STACK])["clusters"][0]
    return cluster["capacityProviders"], cluster["defaultCapacityProviderStrategy"]


def provider_state(world):
    return world["ecs"].describe_capacity_providers(capacityProviders=[PROVIDER], include=["TAGS"])["capacityProviders"]


OTHER_ENTRY = {"capacityProvider": OTHER, "weight": 2, "base": 1}
OWN_ENTRY = {"capacityProvider": PROVIDER, "weight": 1, "base": 0}


def test_check_mode_on_nothing_changes_nothing(emulator, world):
    result = run(emulator, world, "--check", "--diff")
    assert result["changed"] is True
    assert result["diff"]["after"]["cluster"]["capacity_providers"] == [OTHER, PROVIDER]
    assert provider_state(world) == []
    assert cluster_state(world) == ([OTHER], [OTHER_ENTRY])


def test_create_attaches_next_to_the_other_provider(emulator, world):
    result = run(emulator, world)
    assert result["changed"] is True
    provider = result["capacity_provider"]
    assert provider["name"] == PROVIDER
    assert provider["auto_scaling_group_provider"]["auto_scaling_group_arn"] == world["group_arn"]
    assert provider["auto_scaling_group_provider"]["managed_scaling"]["status"] == "ENABLED"
    assert provider["tags"] == {"autostack:stack": STACK}
    assert cluster_state(world) == ([OTHER, PROVIDER], [OTHER_ENTRY, OWN_ENTRY])


def test_second_run_and_check_mode_change_nothing(emulator, world):
    assert run(emulator, world)["changed"] is False
    assert run(emulator, world, "--check", "--diff")["changed"] is False


def test_check_mode_update_predicts_without_touching(emulator, world):
    result = run(emulator, world, "--check", "--diff", cp_target_capacity=80)
    assert result["changed"] is True
    after = result["diff"]["after"]["capacity_provider"]
    assert after["auto_scaling_group_provider"]["managed_scaling"]["target_capacity"] == 80
    live = provider_state(world)[0]["autoScalingGroupProvider"]["managedScaling"]
    assert live["targetCapacity"] == 100


def test_update_in_place(emulator, world):
    result = run(emulator, world, cp_target_capacity=80)
    assert result["changed"] is True
    live = provider_state(world)[0]
    assert live["autoScalingGroupProvider"]["managedScaling"]["targetCapacity"] == 80
    assert live["capacityProviderArn"] == result["capacity_provider"]["capacity_provider_arn"]
    assert run(emulator, world, cp_target_capacity=80)["changed"] is False


def test_absent_detaches_and_deletes_only_its_own(emulator, world):
    assert run(emulator, world, "--check", cp_state="absent")["changed"] is True
    assert cluster_state(world) == ([OTHER, PROVIDER], [OTHER_ENTRY, OWN_ENTRY])

    result = run(emulator, world, cp_state="absent")
    assert result["changed"] is True
    assert result["capacity_provider"] == {}
    assert cluster_state(world) == ([OTHER], [OTHER_ENTRY])
    assert [p for p in provider_state(world) if p.get("status") == "ACTIVE"] == []

    assert run(emulator, world, cp_state="absent")["changed"] is False
    assert run(emulator, world, "--check", cp_state="absent")["changed"] is False
