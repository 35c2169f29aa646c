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


# ---------------------------------------------------------------- ECR's local registry

BUSYBOX = "/bin/busybox"  # Debian's busybox-static: one file, runs without a libc in the image


def registry_request(emulator, path, method="GET", password=None, headers=None, data=None):
    """``(status, headers, body)`` of one request to the local registry, as user AWS when a password is given."""
    import base64
    import urllib.error
    import urllib.request

    request = urllib.request.Request(emulator.registry_url + path, method=method, data=data, headers=dict(headers or {}))
    if password is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(("AWS:" + password).encode()).decode())
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def registry_request_of():
    """``registry_request_of(emulator, path, method=..., password=..., headers=..., data=...)``."""
    return registry_request


def wait_for(what, check, timeout=15.0):
    """Call ``check()`` until it returns something true (returned) or ``timeout`` seconds pass (test fails)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("%s: not within %.0fs" % (what, timeout))
        time.sleep(0.1)


@pytest.fixture
def waiter():
    """``waiter(what, check, timeout=15)``: bounded polling; fails the test naming ``what``."""
    return wait_for


@pytest.fixture(scope="session")
def docker_client():
    """The local Docker engine (the pushes below are real pushes)."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as error:
        pytest.fail("the Docker engine does not answer (%s); make setup starts it" % error)
    return client


class _TinyImages:
    """Images made for a test, all removed after it."""

    def __init__(self, client):
        self.client = client
        self.ids = []

    def __call__(self, reference):
        """A one-layer image holding /bin/busybox (and a stamp of its own), named ``reference``."""
        import io
        import os
        import tarfile
        import uuid

        if not os.path.isfile(BUSYBOX):
            pytest.fail("%s is missing: apt-get install busybox-static" % BUSYBOX)
        layer = io.BytesIO()
        with tarfile.open(fileobj=layer, mode="w") as tar:
            tar.add(BUSYBOX, arcname="bin/busybox")
            # So that no two images made here share a digest.
            stamp = uuid.uuid4().hex.encode()
            info = tarfile.TarInfo("etc/h-registry-stamp")
            info.size = len(stamp)
            tar.addfile(info, io.BytesIO(stamp))
        repository, dummy, tag = reference.rpartition(":")
        self.client.api.import_image_from_data(layer.getvalue(), repository=repository, tag=tag)
        image = self.client.images.get(reference)
        self.ids.append(image.id)
        return image

    def tag(self, image, reference):
        """Give ``image`` another name (removed with the image after the test)."""
        repository, dummy, tag = reference.rpartition(":")
        image.tag(repository, tag)

    def remove_all(self):
        import docker

        # By id: an image whose name moved to a newer one is left without a name, not gone.
        for image_id in self.ids:
            try:
                self.client.images.remove(image_id, force=True)
            except docker.errors.NotFound:
                pass


@pytest.fixture
def tiny_image(docker_client):
    """``tiny_image(reference)``: a one-layer image made with ``docker import`` (no registry needed).

    ``tiny_image.tag(image, reference)`` names it once more. Every name is removed after the test.
    """
    images = _TinyImages(docker_client)
    yield images
    images.remove_all()
