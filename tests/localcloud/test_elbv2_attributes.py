"""ELBv2: a new Application Load Balancer describes its attributes with AWS's defaults."""

EXPECTED = {
    "idle_timeout.timeout_seconds": "60",
    "routing.http2.enabled": "true",
    "routing.http.desync_mitigation_mode": "defensive",
    "routing.http.drop_invalid_header_fields.enabled": "false",
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
    "routing.http.xff_client_port.enabled": "false",
    "routing.http.xff_header_processing.mode": "append",
    "routing.http.preserve_host_header.enabled": "false",
    "waf.fail_open.enabled": "false",
    "deletion_protection.enabled": "false",
    "access_logs.s3.enabled": "false",
    "load_balancing.cross_zone.enabled": "true",
}


def _attributes(elbv2, arn):
    return {a["Key"]: a["Value"] for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]}


def test_new_application_load_balancer_has_aws_default_attributes(aws, network):
    """patch_elbv2_default_attributes: what amazon.aws.elb_application_lb reads on every run."""
    ec2, elbv2 = aws("ec2"), aws("elbv2")
    group = ec2.create_security_group(GroupName=network["name"], Description="alb", VpcId=network["vpc_id"])
    arn = elbv2.create_load_balancer(
        Name=network["name"], Subnets=network["subnet_ids"], SecurityGroups=[group["GroupId"]]
    )["LoadBalancers"][0]["LoadBalancerArn"]

    attributes = _attributes(elbv2, arn)
    assert {key: attributes.get(key) for key in EXPECTED} == EXPECTED

    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=arn,
        Attributes=[
            {"Key": "idle_timeout.timeout_seconds", "Value": "120"},
            {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
        ],
    )
    attributes = _attributes(elbv2, arn)
    assert attributes["idle_timeout.timeout_seconds"] == "120"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["routing.http2.enabled"] == "true"
