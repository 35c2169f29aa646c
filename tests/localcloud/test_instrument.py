"""The local cloud's test instruments: the request log and injected faults (tools/localcloud/instrument.py)."""

import json
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "eu-west-1"


def call(emulator, method, path, payload=None):
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(emulator.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def since(emulator, seq):
    return call(emulator, "GET", "/_localcloud/requests?since=%d" % seq)["requests"]


def client(emulator, service, attempts):
    return boto3.client(service, region_name=REGION, endpoint_url=emulator.url, aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(retries={"mode": "standard", "total_max_attempts": attempts}))


@pytest.fixture
def seq(emulator):
    """The log's position before the test; faults are disarmed after it."""
    yield call(emulator, "GET", "/_localcloud/requests?since=%d" % (2 ** 62))["seq"]
    call(emulator, "DELETE", "/_localcloud/faults")


def test_each_api_request_is_logged_with_its_service_and_action(emulator, aws, seq):
    aws("ec2").describe_vpcs()
    aws("ecs").list_clusters()
    aws("rds").describe_db_instances()
    aws("elbv2").describe_load_balancers()
    try:
        call(emulator, "GET", "/moto-api/data.json")
    except urllib.error.HTTPError:
        pass  # moto cannot always serialise every backend (a long session's emulator): not what is tested here
    logged = [(r["service"], r["action"], r["status"]) for r in since(emulator, seq)]
    assert logged == [
        ("ec2", "DescribeVpcs", 200),
        ("ecs", "ListClusters", 200),
        ("rds", "DescribeDBInstances", 200),
        ("elasticloadbalancing", "DescribeLoadBalancers", 200),
    ]


def test_the_log_can_be_reset(emulator, aws, seq):
    aws("ec2").describe_vpcs()
    assert call(emulator, "GET", "/_localcloud/requests")["total"] >= 1
    assert call(emulator, "DELETE", "/_localcloud/requests")["total"] == 0
    aws("ec2").describe_vpcs()
    after = call(emulator, "GET", "/_localcloud/requests")
    assert after["total"] == 1 and after["requests"][-1]["action"] == "DescribeVpcs"


@pytest.mark.parametrize("service, call_name, action, code", [
    ("ec2", "describe_vpcs", "DescribeVpcs", "RequestLimitExceeded"),       # EC2's query protocol
    ("ecs", "list_clusters", "ListClusters", "ThrottlingException"),       # JSON protocol
    ("rds", "describe_db_instances", "DescribeDBInstances", "Throttling"),  # query protocol
])
def test_a_fault_answers_in_the_services_own_format_then_is_spent(emulator, seq, service, call_name, action, code):
    call(emulator, "POST", "/_localcloud/faults", {"action": action, "code": code, "count": 2})
    without_retries = client(emulator, service, 1)
    for _attempt in range(2):
        with pytest.raises(ClientError) as error:
            getattr(without_retries, call_name)()
        assert error.value.response["Error"]["Code"] == code
    getattr(without_retries, call_name)()
    assert call(emulator, "GET", "/_localcloud/faults")["faults"] == []
    statuses = [r["status"] for r in since(emulator, seq) if r["action"] == action]
    assert statuses[-3:] == [503 if code == "RequestLimitExceeded" else 400] * 2 + [200]


def test_botocore_standard_retries_get_through_a_throttled_call(emulator, seq):
    call(emulator, "POST", "/_localcloud/faults", {"service": "ec2", "action": "DescribeVpcs", "code": "RequestLimitExceeded", "count": 2})
    client(emulator, "ec2", 3).describe_vpcs()
    assert [r["action"] for r in since(emulator, seq)] == ["DescribeVpcs"] * 3


def test_a_fault_for_another_service_leaves_this_one_alone(emulator, aws, seq):
    call(emulator, "POST", "/_localcloud/faults", {"service": "rds", "action": "DescribeVpcs", "code": "Throttling"})
    aws("ec2").describe_vpcs()
    assert len(call(emulator, "GET", "/_localcloud/faults")["faults"]) == 1


def test_a_malformed_fault_is_refused(emulator):
    with pytest.raises(urllib.error.HTTPError) as error:
        call(emulator, "POST", "/_localcloud/faults", {"code": "Throttling"})
    assert error.value.code == 400
    assert call(emulator, "GET", "/_localcloud/faults")["faults"] == []
