"""NAT gateways: tag resource types, tag filters, and an AWS-like deletion."""

import time

import pytest

DELETE_WAIT = 15  # seconds; the emulator's deleting phase lasts $LOCALCLOUD_NAT_DELETE_SECONDS (1 s)


def _tags(name, **extra):
    tags = [{"Key": "Name", "Value": name}] + [{"Key": k, "Value": v} for k, v in extra.items()]
    return tags


@pytest.fixture
def public_network(aws, network):
    """The network plus an attached internet gateway, as a public subnet needs."""
    ec2 = aws("ec2")
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=network["vpc_id"])
    return dict(network, igw_id=igw)


def _nat(aws, network, name, subnet_index=0, **tags):
    ec2 = aws("ec2")
    allocation = ec2.allocate_address(
        Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": _tags(name)}]
    )["AllocationId"]
    gateway = ec2.create_nat_gateway(
        SubnetId=network["subnet_ids"][subnet_index],
        AllocationId=allocation,
        TagSpecifications=[{"ResourceType": "natgateway", "Tags": _tags(name, **tags)}],
    )["NatGateway"]
    return gateway["NatGatewayId"], allocation


def _wait_deleted(ec2, nat_id):
    deadline = time.monotonic() + DELETE_WAIT
    while time.monotonic() < deadline:
        gateway = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]
        if gateway["State"] == "deleted":
            return gateway
        time.sleep(0.3)
    pytest.fail("NAT gateway %s not deleted within %ss" % (nat_id, DELETE_WAIT))


def test_tags_carry_aws_resource_types(aws, unique, public_network):
    """patch_ec2_tag_resource_types: the resource-type filter amazon.aws uses finds the tags."""
    ec2 = aws("ec2")
    nat_id, allocation = _nat(aws, public_network, unique, stack=unique)

    for resource_id, resource_type, expected in (
        (nat_id, "natgateway", {"Name": unique, "stack": unique}),
        (allocation, "elastic-ip", {"Name": unique}),
    ):
        tags = ec2.describe_tags(
            Filters=[
                {"Name": "resource-id", "Values": [resource_id]},
                {"Name": "resource-type", "Values": [resource_type]},
            ]
        )["Tags"]
        assert {t["Key"]: t["Value"] for t in tags} == expected
        assert {t["ResourceType"] for t in tags} == {resource_type}


def test_describe_nat_gateways_honours_tag_filters(aws, unique, public_network):
    """patch_nat_gateway_tag_filters: a stack finds its own gateways, not every gateway."""
    ec2 = aws("ec2")
    mine, _ignored = _nat(aws, public_network, unique + "-a", stack=unique)
    other, _ignored = _nat(aws, public_network, unique + "-b", subnet_index=1, stack=unique + "-other")

    def ids(*filters):
        return sorted(g["NatGatewayId"] for g in ec2.describe_nat_gateways(Filter=list(filters))["NatGateways"])

    assert ids({"Name": "tag:stack", "Values": [unique]}) == [mine]
    assert ids({"Name": "tag:Name", "Values": [unique + "-*"]}) == sorted([mine, other])
    assert ids({"Name": "tag:stack", "Values": [unique]}, {"Name": "state", "Values": ["available"]}) == [mine]
    assert ids({"Name": "tag-key", "Values": ["stack"]}, {"Name": "vpc-id", "Values": [public_network["vpc_id"]]}) == (
        sorted([mine, other])
    )
    assert ids({"Name": "tag:stack", "Values": [unique + "-nobody"]}) == []


def test_deletion_goes_through_deleting_and_frees_interface_and_address(aws, unique, public_network, error_of):
    """patch_nat_gateway_deletion: deleting, then deleted with DeleteTime, ENI and EIP freed."""
    ec2 = aws("ec2")
    nat_id, allocation = _nat(aws, public_network, unique)
    gateway = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]
    eni_id = gateway["NatGatewayAddresses"][0]["NetworkInterfaceId"]

    assert ec2.delete_nat_gateway(NatGatewayId=nat_id)["NatGatewayId"] == nat_id
    gateway = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]
    assert gateway["State"] == "deleting"
    # While deleting, the gateway keeps its interface and its address, as on AWS...
    assert ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"]
    assert ec2.describe_addresses(AllocationIds=[allocation])["Addresses"][0].get("AssociationId")
    # ...and a state filter for live gateways no longer finds it.
    live = ec2.describe_nat_gateways(
        Filter=[
            {"Name": "vpc-id", "Values": [public_network["vpc_id"]]},
            {"Name": "state", "Values": ["available", "pending"]},
        ]
    )["NatGateways"]
    assert nat_id not in [g["NatGatewayId"] for g in live]

    gateway = _wait_deleted(ec2, nat_id)

    assert "DeleteTime" in gateway
    code, _ignored, _ignored = error_of(ec2.describe_network_interfaces, NetworkInterfaceIds=[eni_id])
    assert code == "InvalidNetworkInterfaceID.NotFound"
    address = ec2.describe_addresses(AllocationIds=[allocation])["Addresses"][0]
    assert not address.get("AssociationId") and not address.get("NetworkInterfaceId")
    ec2.release_address(AllocationId=allocation)
    # A deleted gateway stays visible (AWS keeps it for about an hour) and deleting it again is harmless.
    ec2.delete_nat_gateway(NatGatewayId=nat_id)
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"] == "deleted"


def test_teardown_must_wait_for_deleted(aws, unique, public_network, error_of):
    """Subnet deletion and gateway detach fail while the NAT gateway is deleting, pass after."""
    ec2 = aws("ec2")
    nat_id, allocation = _nat(aws, public_network, unique)
    subnet = public_network["subnet_ids"][0]
    ec2.delete_nat_gateway(NatGatewayId=nat_id)

    code, message, status = error_of(ec2.delete_subnet, SubnetId=subnet)
    assert (code, status) == ("DependencyViolation", 400)
    assert message == "The subnet '%s' has dependencies and cannot be deleted." % subnet
    code, message, _ignored = error_of(
        ec2.detach_internet_gateway, InternetGatewayId=public_network["igw_id"], VpcId=public_network["vpc_id"]
    )
    assert code == "DependencyViolation"
    assert "has some mapped public address(es)" in message

    _wait_deleted(ec2, nat_id)
    ec2.delete_subnet(SubnetId=subnet)
    ec2.release_address(AllocationId=allocation)
    ec2.detach_internet_gateway(InternetGatewayId=public_network["igw_id"], VpcId=public_network["vpc_id"])


def test_deleting_an_unknown_gateway_is_not_found(aws, error_of):
    code, _ignored, status = error_of(aws("ec2").delete_nat_gateway, NatGatewayId="nat-0123456789abcdef0")
    assert (code, status) == ("NatGatewayNotFound", 400)
