"""Teardown order: AWS refuses to delete what is still in use, and so does the emulator.

Each test builds a small network of its own, shows the refusal AWS gives (code, HTTP
status, message) and then that the deletion passes once the dependent object is gone.
"""

import time

PASSWORD = "not-a-secret-1"  # only ever sent to the private emulator


def _subnet_refused(error_of, ec2, subnet_id):
    code, message, status = error_of(ec2.delete_subnet, SubnetId=subnet_id)
    assert (code, status) == ("DependencyViolation", 400)
    assert message == "The subnet '%s' has dependencies and cannot be deleted." % subnet_id


def _group_refused(error_of, ec2, group_id):
    code, message, status = error_of(ec2.delete_security_group, GroupId=group_id)
    assert (code, status) == ("DependencyViolation", 400)
    assert message == "resource %s has a dependent object" % group_id


def _group(ec2, network, suffix):
    return ec2.create_security_group(GroupName=network["name"] + suffix, Description="test", VpcId=network["vpc_id"])[
        "GroupId"
    ]


def _load_balancer(aws, network, group_id, scheme="internal"):
    return aws("elbv2").create_load_balancer(
        Name=network["name"], Subnets=network["subnet_ids"], SecurityGroups=[group_id], Scheme=scheme
    )["LoadBalancers"][0]["LoadBalancerArn"]


def _db_instance(aws, network, group_id, zone="a"):
    rds = aws("rds")
    rds.create_db_subnet_group(
        DBSubnetGroupName=network["name"], DBSubnetGroupDescription="test", SubnetIds=network["subnet_ids"]
    )
    rds.create_db_instance(
        DBInstanceIdentifier=network["name"],
        Engine="mysql",
        EngineVersion="8.0.40",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword=PASSWORD,
        DBSubnetGroupName=network["name"],
        VpcSecurityGroupIds=[group_id],
        AvailabilityZone="eu-west-1" + zone,
    )
    return network["name"]


# ------------------------------------------------------------------------ DeleteVpc


def test_vpc_with_subnets_gateway_groups_or_tables_is_refused(aws, network, error_of):
    """patch_vpc_dependency_violation."""
    ec2 = aws("ec2")
    vpc_id = network["vpc_id"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    group_id = _group(ec2, network, "-sg")
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]

    def refused():
        code, message, status = error_of(ec2.delete_vpc, VpcId=vpc_id)
        assert (code, status) == ("DependencyViolation", 400)
        assert message == "The vpc '%s' has dependencies and cannot be deleted." % vpc_id

    refused()
    for subnet in network["subnet_ids"]:
        ec2.delete_subnet(SubnetId=subnet)
    refused()  # gateway, group and table left
    ec2.delete_route_table(RouteTableId=table)
    refused()  # gateway and group left
    ec2.delete_security_group(GroupId=group_id)
    refused()  # the attached internet gateway alone blocks
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    ec2.delete_vpc(VpcId=vpc_id)  # a detached gateway does not; the default group and main table go along
    assert ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"]


def test_vpc_with_egress_only_gateway_is_refused(aws, network, error_of):
    ec2 = aws("ec2")
    for subnet in network["subnet_ids"]:
        ec2.delete_subnet(SubnetId=subnet)
    eigw = ec2.create_egress_only_internet_gateway(VpcId=network["vpc_id"])["EgressOnlyInternetGateway"]

    code, _ignored, _ignored = error_of(ec2.delete_vpc, VpcId=network["vpc_id"])
    assert code == "DependencyViolation"
    ec2.delete_egress_only_internet_gateway(EgressOnlyInternetGatewayId=eigw["EgressOnlyInternetGatewayId"])
    ec2.delete_vpc(VpcId=network["vpc_id"])


# --------------------------------------------------------------------- DeleteSubnet


def test_subnet_with_network_interface_is_refused(aws, network, error_of):
    """patch_subnet_dependency_violation: any interface in the subnet blocks it."""
    ec2 = aws("ec2")
    subnet = network["subnet_ids"][0]
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]

    _subnet_refused(error_of, ec2, subnet)
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    ec2.delete_subnet(SubnetId=subnet)


def test_subnet_with_instance_is_refused_until_it_terminates(aws, network, error_of):
    """patch_subnet_dependency_violation + patch_instance_eni_lifecycle."""
    ec2 = aws("ec2")
    subnet = network["subnet_ids"][0]
    instance = ec2.run_instances(
        ImageId="ami-12c6146b", InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=subnet
    )["Instances"][0]["InstanceId"]

    _subnet_refused(error_of, ec2, subnet)
    ec2.stop_instances(InstanceIds=[instance])
    _subnet_refused(error_of, ec2, subnet)  # a stopped instance keeps its interface
    ec2.terminate_instances(InstanceIds=[instance])
    ec2.delete_subnet(SubnetId=subnet)


def test_terminated_instance_loses_its_primary_interface(aws, network):
    """patch_instance_eni_lifecycle: the primary interface goes with the instance."""
    ec2 = aws("ec2")
    subnet = network["subnet_ids"][0]
    instance = ec2.run_instances(
        ImageId="ami-12c6146b", InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=subnet
    )["Instances"][0]
    attachment = instance["NetworkInterfaces"][0]["Attachment"]
    assert attachment["DeleteOnTermination"] is True

    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])

    in_subnet = ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [subnet]}])
    assert in_subnet["NetworkInterfaces"] == []


def test_subnet_of_an_auto_scaling_group_without_instances_can_be_deleted(aws, auto_scaling_group, network):
    """An ASG's VPCZoneIdentifier does not block subnet deletion on AWS; only its instances do."""
    ec2 = aws("ec2")
    auto_scaling_group(network["name"], network["subnet_ids"][:1])

    ec2.delete_subnet(SubnetId=network["subnet_ids"][0])


def test_subnet_with_auto_scaling_instances_is_refused_until_the_group_is_gone(
    aws, auto_scaling_group, network, error_of
):
    """The group's instances have interfaces in the subnet; deleting the group terminates them."""
    ec2, autoscaling = aws("ec2"), aws("autoscaling")
    name, subnet = network["name"], network["subnet_ids"][0]
    auto_scaling_group(name, [subnet], desired=2)

    _subnet_refused(error_of, ec2, subnet)
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
    ec2.delete_subnet(SubnetId=subnet)


def test_subnet_of_a_load_balancer_is_refused(aws, network, error_of):
    """moto's ELBv2 makes no interfaces: the load balancer's subnets count directly."""
    ec2 = aws("ec2")
    group_id = _group(ec2, network, "-alb")
    arn = _load_balancer(aws, network, group_id)

    _subnet_refused(error_of, ec2, network["subnet_ids"][1])
    aws("elbv2").delete_load_balancer(LoadBalancerArn=arn)
    ec2.delete_subnet(SubnetId=network["subnet_ids"][1])


def test_subnet_of_a_db_instance_is_refused_but_a_bare_subnet_group_does_not_block(aws, network, error_of):
    """The DB instance's interface is in its zone's subnet; the subnet group alone blocks nothing."""
    ec2, rds = aws("ec2"), aws("rds")
    group_id = _group(ec2, network, "-db")
    name = _db_instance(aws, network, group_id, zone="a")

    _subnet_refused(error_of, ec2, network["subnet_ids"][0])
    rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
    ec2.delete_subnet(SubnetId=network["subnet_ids"][0])  # still in the DB subnet group
    ec2.delete_subnet(SubnetId=network["subnet_ids"][1])


# ------------------------------------------------------------- DeleteSecurityGroup


def test_group_referenced_by_another_group_is_refused(aws, network, error_of):
    """patch_security_group_dependency_violation: rules of other groups block; its own do not."""
    ec2 = aws("ec2")
    alb = _group(ec2, network, "-alb")
    app = _group(ec2, network, "-app")
    ec2.authorize_security_group_ingress(
        GroupId=app,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb}]}],
    )
    ec2.authorize_security_group_ingress(
        GroupId=app,
        IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": app}]}],
    )

    _group_refused(error_of, ec2, alb)
    ec2.delete_security_group(GroupId=app)  # referencing itself does not block
    ec2.delete_security_group(GroupId=alb)


def test_group_referenced_by_an_egress_rule_is_refused(aws, network, error_of):
    ec2 = aws("ec2")
    db = _group(ec2, network, "-db")
    app = _group(ec2, network, "-app")
    ec2.authorize_security_group_egress(
        GroupId=app,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "UserIdGroupPairs": [{"GroupId": db}]}],
    )

    _group_refused(error_of, ec2, db)
    ec2.revoke_security_group_egress(
        GroupId=app,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "UserIdGroupPairs": [{"GroupId": db}]}],
    )
    ec2.delete_security_group(GroupId=db)


def test_group_used_by_an_instance_is_refused(aws, network, error_of):
    ec2 = aws("ec2")
    group_id = _group(ec2, network, "-instances")
    instance = ec2.run_instances(
        ImageId="ami-12c6146b",
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        SubnetId=network["subnet_ids"][0],
        SecurityGroupIds=[group_id],
    )["Instances"][0]["InstanceId"]

    _group_refused(error_of, ec2, group_id)
    ec2.terminate_instances(InstanceIds=[instance])
    ec2.delete_security_group(GroupId=group_id)


def test_group_used_by_a_load_balancer_or_db_instance_is_refused(aws, network, error_of):
    ec2 = aws("ec2")
    alb = _group(ec2, network, "-alb")
    db = _group(ec2, network, "-db")
    arn = _load_balancer(aws, network, alb)
    name = _db_instance(aws, network, db)

    _group_refused(error_of, ec2, alb)
    _group_refused(error_of, ec2, db)
    aws("elbv2").delete_load_balancer(LoadBalancerArn=arn)
    aws("rds").delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
    ec2.delete_security_group(GroupId=alb)
    ec2.delete_security_group(GroupId=db)


def test_group_named_by_a_launch_template_can_be_deleted(aws, network):
    """A launch template is not a dependent object on AWS (it only fails at launch)."""
    ec2 = aws("ec2")
    group_id = _group(ec2, network, "-lt")
    ec2.create_launch_template(
        LaunchTemplateName=network["name"],
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "SecurityGroupIds": [group_id]},
    )

    ec2.delete_security_group(GroupId=group_id)


# ----------------------------------------------------------- DetachInternetGateway


def test_detach_with_an_associated_elastic_ip_is_refused(aws, network, error_of):
    """patch_internet_gateway_detach_mapped_addresses."""
    ec2 = aws("ec2")
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=network["vpc_id"])
    eni = ec2.create_network_interface(SubnetId=network["subnet_ids"][0])["NetworkInterface"]["NetworkInterfaceId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    association = ec2.associate_address(AllocationId=allocation, NetworkInterfaceId=eni)["AssociationId"]

    code, message, status = error_of(ec2.detach_internet_gateway, InternetGatewayId=igw, VpcId=network["vpc_id"])
    assert (code, status) == ("DependencyViolation", 400)
    assert message == (
        "Network %s has some mapped public address(es). Please unmap those public address(es) "
        "before detaching the gateway." % network["vpc_id"]
    )
    ec2.disassociate_address(AssociationId=association)
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=network["vpc_id"])


def test_detach_with_an_internet_facing_load_balancer_is_refused(aws, network, error_of):
    ec2 = aws("ec2")
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=network["vpc_id"])
    arn = _load_balancer(aws, network, _group(ec2, network, "-alb"), scheme="internet-facing")

    code, _ignored, _ignored = error_of(ec2.detach_internet_gateway, InternetGatewayId=igw, VpcId=network["vpc_id"])
    assert code == "DependencyViolation"
    aws("elbv2").delete_load_balancer(LoadBalancerArn=arn)
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=network["vpc_id"])


# ------------------------------------------------------------- DeleteDBSubnetGroup


def test_db_subnet_group_in_use_is_refused(aws, network, error_of):
    """patch_rds_subnet_group_in_use."""
    ec2, rds = aws("ec2"), aws("rds")
    name = _db_instance(aws, network, _group(ec2, network, "-db"))

    code, message, status = error_of(rds.delete_db_subnet_group, DBSubnetGroupName=name)
    assert (code, status) == ("InvalidDBSubnetGroupStateFault", 400)
    assert message == (
        "Cannot delete the subnet group '%s' because at least one database instance: %s is still using it."
        % (name, name)
    )
    rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
    rds.delete_db_subnet_group(DBSubnetGroupName=name)


def test_full_teardown_in_the_right_order_passes(aws, network):
    """The order the destroy playbook must follow, end to end, on the emulator."""
    ec2, rds, elbv2 = aws("ec2"), aws("rds"), aws("elbv2")
    vpc_id = network["vpc_id"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    alb, db = _group(ec2, network, "-alb"), _group(ec2, network, "-db")
    ec2.authorize_security_group_ingress(
        GroupId=db,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "UserIdGroupPairs": [{"GroupId": alb}]}],
    )
    arn = _load_balancer(aws, network, alb, scheme="internet-facing")
    name = _db_instance(aws, network, db)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=network["subnet_ids"][0], AllocationId=allocation)["NatGateway"][
        "NatGatewayId"
    ]

    elbv2.delete_load_balancer(LoadBalancerArn=arn)
    rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
    rds.delete_db_subnet_group(DBSubnetGroupName=name)
    ec2.delete_nat_gateway(NatGatewayId=nat)
    deadline = time.monotonic() + 15
    while ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] != "deleted":
        assert time.monotonic() < deadline, "NAT gateway not deleted in time"
        time.sleep(0.3)
    ec2.release_address(AllocationId=allocation)
    ec2.delete_security_group(GroupId=db)
    ec2.delete_security_group(GroupId=alb)
    for subnet in network["subnet_ids"]:
        ec2.delete_subnet(SubnetId=subnet)
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    ec2.delete_internet_gateway(InternetGatewayId=igw)
    ec2.delete_vpc(VpcId=vpc_id)
