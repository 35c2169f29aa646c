"""autostack.wordpress.stack_audit against a private local-cloud emulator.

Resources are made with boto3 the way the roles make them (tagged, named after the stack), plus
decoys of a stack whose name extends ours; the module runs through ansible-playbook, as in
playbooks/destroy.yml. After a teardown with boto3 the same audit must come out clean.
"""

import json
import os
import subprocess
import sys
import time
import uuid

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
STACK = "aud%s" % uuid.uuid4().hex[:6]
DECOY = STACK + "-dev"
ASSUME_EC2 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
PLAYBOOK = """
- name: Audit a stack
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Report what is left
      autostack.wordpress.stack_audit:
        stack: "{{ audit_stack }}"
        region: eu-west-1
        fail_on_leftovers: false
        ignore_types: "{{ audit_ignore_types }}"
      register: audit_report

    - name: Fail on what is left
      autostack.wordpress.stack_audit:
        stack: "{{ audit_stack }}"
        region: eu-west-1
        ignore_types: "{{ audit_ignore_types }}"
      register: audit_strict
      ignore_errors: true

    - name: Save both results
      ansible.builtin.copy:
        content: "{{ {'report': audit_report, 'strict': audit_strict} | to_json }}"
        dest: "{{ audit_results }}"
        mode: "0600"
      check_mode: false
"""


def tags(stack=STACK, name=None):
    result = [{"Key": "autostack:stack", "Value": stack}]
    if name:
        result.append({"Key": "Name", "Value": name})
    return result


def spec(resource_type, stack=STACK, name=None):
    return [{"ResourceType": resource_type, "Tags": tags(stack, name)}]


def capacity_providers_listable(emulator):
    """moto 5.2 answers DescribeCapacityProviders without names with a 500 unless the launcher patches it."""
    try:
        emulator.client("ecs").describe_capacity_providers()
        return True
    except Exception:  # noqa: BLE001  (botocore raises a parser error on the HTML 500 page)
        return False


def seed(emulator):
    """A stack as the phase-1 roles leave it, plus what phase 3 adds, plus decoys. Returns ids to tear down."""
    made = {}
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16", TagSpecifications=spec("vpc", name=STACK + "-vpc"))["Vpc"]["VpcId"]
    public = ec2.create_subnet(
        VpcId=vpc, CidrBlock="10.77.1.0/24", AvailabilityZone="eu-west-1a", TagSpecifications=spec("subnet")
    )["Subnet"]["SubnetId"]
    # Untagged, but inside the stack's VPC: found through the VPC.
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.77.2.0/24", AvailabilityZone="eu-west-1b")["Subnet"][
        "SubnetId"
    ]
    route_table = ec2.create_route_table(VpcId=vpc, TagSpecifications=spec("route-table"))["RouteTable"]["RouteTableId"]
    igw = ec2.create_internet_gateway(TagSpecifications=spec("internet-gateway"))["InternetGateway"][
        "InternetGatewayId"
    ]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    eip = ec2.allocate_address(Domain="vpc", TagSpecifications=spec("elastic-ip", name=STACK + "-nat-a"))[
        "AllocationId"
    ]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=eip, TagSpecifications=spec("natgateway"))["NatGateway"][
        "NatGatewayId"
    ]
    group = ec2.create_security_group(
        VpcId=vpc, GroupName=STACK + "-alb", Description="alb", TagSpecifications=spec("security-group")
    )["GroupId"]
    eni = ec2.create_network_interface(SubnetId=private, Description="left by a load balancer")["NetworkInterface"][
        "NetworkInterfaceId"
    ]
    volume = ec2.create_volume(AvailabilityZone="eu-west-1a", Size=1, TagSpecifications=spec("volume"))["VolumeId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        SubnetId=private,
        TagSpecifications=spec("instance", name=STACK + "-host"),
    )["Instances"][0]["InstanceId"]
    template = ec2.create_launch_template(LaunchTemplateName=STACK + "-hosts", LaunchTemplateData={"ImageId": image})[
        "LaunchTemplate"
    ]["LaunchTemplateId"]
    decoy_vpc = ec2.create_vpc(CidrBlock="10.78.0.0/16", TagSpecifications=spec("vpc", stack=DECOY))["Vpc"]["VpcId"]
    made["ec2"] = dict(
        vpc=vpc,
        subnets=[public, private],
        route_table=route_table,
        igw=igw,
        eip=eip,
        nat=nat,
        group=group,
        eni=eni,
        volume=volume,
        instance=instance,
        template=template,
        decoy_vpc=decoy_vpc,
    )

    autoscaling = emulator.client("autoscaling")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=STACK + "-hosts",
        LaunchTemplate={"LaunchTemplateId": template},
        MinSize=0,
        MaxSize=1,
        VPCZoneIdentifier=private,
        Tags=[{"Key": "autostack:stack", "Value": STACK, "PropagateAtLaunch": True}],
    )
    asg_arn = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[STACK + "-hosts"])["AutoScalingGroups"][
        0
    ]["AutoScalingGroupARN"]

    elbv2 = emulator.client("elbv2")
    made["lb"] = elbv2.create_load_balancer(Name=STACK + "-alb", Subnets=[public, private], SecurityGroups=[group])[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    made["tg"] = elbv2.create_target_group(Name=STACK + "-web", Protocol="HTTP", Port=80, VpcId=vpc, Tags=tags())[
        "TargetGroups"
    ][0]["TargetGroupArn"]

    ecs = emulator.client("ecs")
    ecs_tags = [{"key": "autostack:stack", "value": STACK}]
    ecs.create_cluster(clusterName=STACK, tags=ecs_tags)
    ecs.create_cluster(clusterName=DECOY, tags=[{"key": "autostack:stack", "value": DECOY}])
    for _revision in range(2):
        ecs.register_task_definition(
            family=STACK + "-wordpress",
            containerDefinitions=[{"name": "wordpress", "image": "wordpress", "memory": 128}],
            tags=ecs_tags,
        )
    ecs.create_service(cluster=STACK, serviceName="web", taskDefinition=STACK + "-wordpress", desiredCount=0)
    ecs.create_capacity_provider(
        name=STACK + "-hosts", autoScalingGroupProvider={"autoScalingGroupArn": asg_arn}, tags=ecs_tags
    )

    iam = emulator.client("iam")
    iam.create_role(RoleName=STACK + "-ecs-instance", AssumeRolePolicyDocument=ASSUME_EC2, Tags=tags())
    iam.create_role(RoleName=DECOY + "-ecs-instance", AssumeRolePolicyDocument=ASSUME_EC2, Tags=tags(DECOY))
    # No separator after the stack name: not ours.
    iam.create_role(RoleName=STACK + "x-role", AssumeRolePolicyDocument=ASSUME_EC2)
    iam.create_instance_profile(InstanceProfileName=STACK + "-ecs-instance")

    rds = emulator.client("rds")
    rds.create_db_subnet_group(
        DBSubnetGroupName=STACK + "-db", DBSubnetGroupDescription="db", SubnetIds=[public, private], Tags=tags()
    )
    rds.create_db_instance(
        DBInstanceIdentifier=STACK + "-db",
        DBInstanceClass="db.t4g.micro",
        Engine="mariadb",
        EngineVersion="10.11.9",
        AllocatedStorage=20,
        MasterUsername="wordpress",
        MasterUserPassword="not-a-secret-1",
        DBSubnetGroupName=STACK + "-db",
        Tags=tags(),
    )

    secrets = emulator.client("secretsmanager")
    secrets.create_secret(Name=STACK + "/db", SecretString="x", Tags=tags())
    secrets.create_secret(Name=DECOY + "/db", SecretString="x", Tags=tags(DECOY))

    ecr = emulator.client("ecr")
    ecr.create_repository(repositoryName=STACK + "/wordpress")
    ecr.create_repository(repositoryName=DECOY + "/wordpress", tags=tags(DECOY))

    logs = emulator.client("logs")
    logs.create_log_group(logGroupName="/ecs/" + STACK)
    logs.create_log_group(logGroupName="/ecs/" + DECOY, tags={"autostack:stack": DECOY})

    ssm = emulator.client("ssm")
    ssm.put_parameter(Name="/autostack/%s/salts" % STACK, Value="x", Type="String")
    ssm.put_parameter(Name="/elsewhere/%s-db-host" % STACK, Value="x", Type="String", Tags=tags())
    return made


EXPECTED = {
    ("vpc", STACK + "-vpc"),
    ("route_table", None),
    ("internet_gateway", None),
    ("nat_gateway", None),
    ("elastic_ip", STACK + "-nat-a"),
    ("security_group", STACK + "-alb"),
    ("instance", STACK + "-host"),
    ("network_interface", "left by a load balancer"),
    ("volume", None),
    ("launch_template", STACK + "-hosts"),
    ("autoscaling_group", STACK + "-hosts"),
    ("load_balancer", STACK + "-alb"),
    ("target_group", STACK + "-web"),
    ("ecs_cluster", STACK),
    ("ecs_service", "web"),
    ("ecs_task_definition", STACK + "-wordpress"),
    ("iam_role", STACK + "-ecs-instance"),
    ("iam_instance_profile", STACK + "-ecs-instance"),
    ("db_instance", STACK + "-db"),
    ("db_subnet_group", STACK + "-db"),
    ("secret", STACK + "/db"),
    ("ecr_repository", STACK + "/wordpress"),
    ("log_group", "/ecs/" + STACK),
    ("ssm_parameter", "/autostack/%s/salts" % STACK),
    ("ssm_parameter", "/elsewhere/%s-db-host" % STACK),
}


def run_audit(emulator, tmp_path, check=False, ignore_types=()):
    playbook = tmp_path / "audit.yml"
    playbook.write_text(PLAYBOOK)
    results = tmp_path / "results.json"
    if results.exists():
        results.unlink()
    env = dict(emulator.env, ANSIBLE_CONFIG=os.path.join(TOP, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    command = [
        ANSIBLE_PLAYBOOK,
        str(playbook),
        "-e",
        json.dumps({"audit_stack": STACK, "audit_results": str(results), "audit_ignore_types": list(ignore_types)}),
    ]
    if check:
        command.append("--check")
    proc = subprocess.run(command, cwd=TOP, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-10000:]
    return json.loads(results.read_text())


@pytest.fixture(scope="module")
def stack(emulator):
    made = seed(emulator)
    ignore = () if capacity_providers_listable(emulator) else ("ecs_capacity_provider",)
    return made, ignore


@pytest.fixture(scope="module")
def audit(emulator, stack, tmp_path_factory):
    _made, ignore = stack
    return run_audit(emulator, tmp_path_factory.mktemp("audit"), ignore_types=ignore)


def test_finds_the_stack_and_nothing_else(audit, stack):
    made, _ignore = stack
    report = audit["report"]
    assert report["changed"] is False and not report.get("failed")
    found = {(entry["type"], entry["name"]) for entry in report["leftovers"]}
    for resource_type, name in EXPECTED:
        if name is None:
            assert any(found_type == resource_type for found_type, _name in found), resource_type
        else:
            assert (resource_type, name) in found, (resource_type, name)
    found_ids = {entry["id"] for entry in report["leftovers"]}
    # Untagged, found through the VPC.
    assert made["ec2"]["subnets"][1] in found_ids and made["ec2"]["eni"] in found_ids
    assert made["ec2"]["decoy_vpc"] not in found_ids
    assert not [entry for entry in report["leftovers"] if DECOY in entry["name"] or STACK + "x" in entry["name"]]
    # Both revisions of the task definition family.
    assert sum(1 for entry in report["leftovers"] if entry["type"] == "ecs_task_definition") == 2
    assert report["counts"]["db_instance"] == 1 and report["counts"]["db_snapshot"] == 0
    assert sum(report["counts"].values()) == len(report["leftovers"])
    assert report["resource_types_audited"][0] == "vpc"


def test_fails_listing_the_leftovers(audit):
    strict = audit["strict"]
    assert strict["failed"] is True
    assert strict["msg"].startswith(
        "Stack %r still has %d resource(s): vpc %s-vpc" % (STACK, len(strict["leftovers"]), STACK)
    )
    assert strict["leftovers"] == audit["report"]["leftovers"]


def test_check_mode_reports_the_same(emulator, stack, audit, tmp_path):
    _made, ignore = stack
    checked = run_audit(emulator, tmp_path, check=True, ignore_types=ignore)
    assert checked["report"]["leftovers"] == audit["report"]["leftovers"]
    assert checked["report"]["changed"] is False


def test_finds_capacity_providers(emulator, stack, audit):
    _made, ignore = stack
    if ignore:
        pytest.xfail(
            "the emulator answers DescribeCapacityProviders without names with a 500; "
            "tools/localcloud/patches.py needs patch_ecs_describe_all_capacity_providers"
        )
    found = {(entry["type"], entry["name"]) for entry in audit["report"]["leftovers"]}
    assert ("ecs_capacity_provider", STACK + "-hosts") in found


def test_clean_after_teardown_reports_what_is_kept(emulator, stack, tmp_path):
    """Tear the stack down in dependency order, keeping what a default teardown keeps: nothing is left."""
    made, ignore = stack
    ecs = emulator.client("ecs")
    ecs.update_service(cluster=STACK, service="web", desiredCount=0)
    ecs.delete_service(cluster=STACK, service="web", force=True)
    for arn in ecs.list_task_definitions(familyPrefix=STACK + "-wordpress")["taskDefinitionArns"]:
        ecs.deregister_task_definition(taskDefinition=arn)
    ecs.delete_capacity_provider(capacityProvider=STACK + "-hosts")
    ecs.delete_cluster(cluster=STACK)

    elbv2 = emulator.client("elbv2")
    elbv2.delete_load_balancer(LoadBalancerArn=made["lb"])
    elbv2.delete_target_group(TargetGroupArn=made["tg"])
    emulator.client("autoscaling").delete_auto_scaling_group(AutoScalingGroupName=STACK + "-hosts", ForceDelete=True)

    rds = emulator.client("rds")
    rds.delete_db_instance(DBInstanceIdentifier=STACK + "-db", FinalDBSnapshotIdentifier=STACK + "-db-final")
    rds.delete_db_subnet_group(DBSubnetGroupName=STACK + "-db")
    secrets = emulator.client("secretsmanager")
    secrets.delete_secret(SecretId=STACK + "/db", RecoveryWindowInDays=7)
    # Kept on purpose: a repository with images (the ecr role without ecr_force_delete), and the
    # master password of the final snapshot, tagged by the rds role.
    emulator.client("ecr").put_image(
        repositoryName=STACK + "/wordpress",
        imageTag="1",
        imageManifest=json.dumps(
            {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}
        ),
    )
    secrets.create_secret(
        Name=STACK + "/rds/master",
        SecretString="x",
        Tags=tags() + [{"Key": "autostack:keep", "Value": "master password of snapshot %s-db-final" % STACK}],
    )
    emulator.client("logs").delete_log_group(logGroupName="/ecs/" + STACK)
    emulator.client("ssm").delete_parameters(Names=["/autostack/%s/salts" % STACK, "/elsewhere/%s-db-host" % STACK])

    iam = emulator.client("iam")
    iam.delete_instance_profile(InstanceProfileName=STACK + "-ecs-instance")
    iam.delete_role(RoleName=STACK + "-ecs-instance")

    ec2 = emulator.client("ec2")
    ids = made["ec2"]
    ec2.terminate_instances(InstanceIds=[ids["instance"]])
    ec2.delete_launch_template(LaunchTemplateId=ids["template"])
    ec2.delete_volume(VolumeId=ids["volume"])
    ec2.delete_network_interface(NetworkInterfaceId=ids["eni"])
    ec2.delete_nat_gateway(NatGatewayId=ids["nat"])
    # As on AWS, the gateway keeps its address and its subnet until it is "deleted".
    deadline = time.monotonic() + 60
    while ec2.describe_nat_gateways(NatGatewayIds=[ids["nat"]])["NatGateways"][0]["State"] != "deleted":
        assert time.monotonic() < deadline, "NAT gateway %s not deleted within 60 s" % ids["nat"]
        time.sleep(0.5)
    ec2.release_address(AllocationId=ids["eip"])
    ec2.delete_security_group(GroupId=ids["group"])
    ec2.delete_route_table(RouteTableId=ids["route_table"])
    ec2.detach_internet_gateway(InternetGatewayId=ids["igw"], VpcId=ids["vpc"])
    ec2.delete_internet_gateway(InternetGatewayId=ids["igw"])
    for subnet in ids["subnets"]:
        ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=ids["vpc"])

    result = run_audit(emulator, tmp_path, ignore_types=ignore)
    report, strict = result["report"], result["strict"]
    assert report["leftovers"] == [], report["leftovers"]
    assert not strict.get("failed"), strict.get("msg")
    kept = {(entry["type"], entry["name"]) for entry in report["kept"]}
    assert kept == {
        ("db_snapshot", STACK + "-db-final"),
        ("secret", STACK + "/db"),
        ("secret", STACK + "/rds/master"),
        ("ecr_repository", STACK + "/wordpress"),
    }
    reasons = {entry["name"]: entry["reason"] for entry in report["kept"]}
    assert "scheduled for deletion" in reasons[STACK + "/db"]
    assert reasons[STACK + "/rds/master"] == "tagged autostack:keep: master password of snapshot %s-db-final" % STACK
    assert "ecr_force_delete" in reasons[STACK + "/wordpress"]
    assert "final snapshot" in reasons[STACK + "-db-final"]
