# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""security_audit's rules on facts shaped as boto3 returns them (no network): each rule passes the stack as the
project builds it and fails each way it can be broken."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from ansible_collections.autostack.wordpress.plugins.module_utils import _security_audit as rules
from ansible_collections.autostack.wordpress.plugins.module_utils import _security_audit_facts as facts_utils
from ansible_collections.autostack.wordpress.plugins.modules import security_audit

ALB_SG, INSTANCES_SG, DB_SG = "sg-0a1b", "sg-0c2d", "sg-0e3f"
ACCOUNT = "123456789012"
ROLE_ARN = "arn:aws:iam::%s:role/wordpress-ecs-task-execution" % ACCOUNT
CERT = "arn:aws:acm:eu-west-1:%s:certificate/0e8b" % ACCOUNT
REPO_ARN = "arn:aws:ecr:eu-west-1:%s:repository/wordpress/wordpress" % ACCOUNT


def permission(port, cidr=None, ipv6=None, group=None, protocol="tcp", to_port=None):
    return {
        "IpProtocol": protocol,
        "FromPort": port,
        "ToPort": port if to_port is None else to_port,
        "IpRanges": [{"CidrIp": cidr}] if cidr else [],
        "Ipv6Ranges": [{"CidrIpv6": ipv6}] if ipv6 else [],
        "UserIdGroupPairs": [{"GroupId": group}] if group else [],
        "PrefixListIds": [],
    }


def execution_policy():
    """The ecs_cluster role's task-execution policy, as it renders it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Sid": "EcrPullStackRepository",
                "Effect": "Allow",
                "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Resource": REPO_ARN,
            },
            {
                "Sid": "LogsWriteStackLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "arn:aws:logs:eu-west-1:%s:log-group:/ecs/wordpress:*" % ACCOUNT,
            },
        ],
    }


def good_facts():
    """The stack as the project builds it: every rule passes."""
    return {
        "stack": "wordpress",
        "certificate_arn": "",
        "security_groups": [
            {
                "GroupId": ALB_SG,
                "GroupName": "wordpress-alb",
                "IpPermissions": [permission(443, cidr="0.0.0.0/0"), permission(80, cidr="0.0.0.0/0")],
            },
            {
                "GroupId": INSTANCES_SG,
                "GroupName": "wordpress-instances",
                "IpPermissions": [permission(32768, to_port=65535, group=ALB_SG)],
            },
            {"GroupId": DB_SG, "GroupName": "wordpress-database", "IpPermissions": [permission(3306, group=INSTANCES_SG)]},
            {
                "GroupId": "sg-default",
                "GroupName": "default",
                "IpPermissions": [permission(None, protocol="-1", group="sg-default")],
            },
        ],
        "load_balancers": [
            {
                "LoadBalancerName": "wordpress-alb",
                "Type": "application",
                "SecurityGroups": [ALB_SG],
                "Listeners": [{"Protocol": "HTTP", "Port": 80, "DefaultActions": [{"Type": "forward"}]}],
            }
        ],
        "db_instances": [{"DBInstanceIdentifier": "wordpress-db", "PubliclyAccessible": False, "StorageEncrypted": True}],
        "launch_templates": [
            {
                "LaunchTemplateName": "wordpress-asg",
                "LaunchTemplateId": "lt-0123",
                "VersionNumber": 1,
                "AutoScalingGroupName": "wordpress-asg",
                "LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1}},
            }
        ],
        "instances": [{"InstanceId": "i-0123", "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"}}],
        "task_definitions": [
            {
                "taskDefinitionArn": "arn:aws:ecs:eu-west-1:%s:task-definition/wordpress-wordpress:1" % ACCOUNT,
                "family": "wordpress-wordpress",
                "revision": 1,
                "executionRoleArn": ROLE_ARN,
                "containerDefinitions": [
                    {
                        "name": "wordpress",
                        "environment": [
                            {"name": "WORDPRESS_DB_PORT", "value": "3306"},
                            {"name": "WORDPRESS_TABLE_PREFIX", "value": "wp_"},
                            {"name": "WORDPRESS_DEBUG", "value": "false"},
                            {"name": "WORDPRESS_DB_WAIT_TIMEOUT", "value": "60"},
                        ],
                        "secrets": [
                            {"name": "WORDPRESS_DB_PASSWORD", "valueFrom": "arn:...:password::"},
                            {"name": "WORDPRESS_AUTH_KEY", "valueFrom": "arn:...:AUTH_KEY::"},
                        ],
                    }
                ],
            }
        ],
        "ecr_repositories": [
            {
                "repositoryName": "wordpress/wordpress",
                "imageTagMutability": "IMMUTABLE",
                "imageScanningConfiguration": {"scanOnPush": True},
            }
        ],
        "roles": [
            {
                "RoleName": "wordpress-ecs-task-execution",
                "Arn": ROLE_ARN,
                "UsedBy": ["execution role of wordpress-wordpress:1"],
                "InlinePolicies": {
                    "task-execution": execution_policy(),
                    "wordpress-secrets": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "secretsmanager:GetSecretValue",
                                "Resource": ["arn:aws:secretsmanager:eu-west-1:%s:secret:wordpress/rds/master-AbCdEf" % ACCOUNT],
                            }
                        ],
                    },
                },
                "AttachedPolicies": [
                    {
                        "PolicyName": "AmazonECSTaskExecutionRolePolicy",
                        "PolicyArn": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                    }
                ],
            }
        ],
    }


def rule_ids(findings):
    return sorted(item["rule"] for item in findings)


@pytest.fixture
def facts():
    return good_facts()


def test_the_project_stack_passes_every_rule(facts):
    assert rules.evaluate(facts) == []


def test_empty_facts_pass():
    """A stack with nothing yet (or nothing of some kind) has nothing to report."""
    assert rules.evaluate({}) == []


# sg_public_ingress


@pytest.mark.parametrize(
    "group_index, perm, phrase",
    [
        (1, permission(22, cidr="0.0.0.0/0"), "tcp port 22 from 0.0.0.0/0, which is not a load balancer's"),
        (2, permission(3306, ipv6="::/0"), "tcp port 3306 from ::/0"),
        (1, permission(None, protocol="-1", cidr="0.0.0.0/0"), "all traffic from 0.0.0.0/0"),
        (0, permission(22, cidr="0.0.0.0/0"), "a load balancer's, beyond its listener ports [80, 443]"),
        (0, permission(0, to_port=65535, cidr="0.0.0.0/0"), "tcp all ports"),
        (0, permission(80, protocol="udp", cidr="0.0.0.0/0"), "udp port 80"),
        (3, permission(8080, to_port=8090, cidr="0.0.0.0/0", ipv6="::/0"), "tcp ports 8080-8090 from 0.0.0.0/0 and ::/0"),
    ],
)
def test_sg_public_ingress_fails(facts, group_index, perm, phrase):
    group = facts["security_groups"][group_index]
    group["IpPermissions"].append(perm)
    (found,) = rules.rule_sg_public_ingress(facts)
    assert found["rule"] == "sg_public_ingress" and found["severity"] == "error"
    assert found["resource"] == group["GroupId"]
    assert phrase in found["message"] and group["GroupName"] in found["message"]


def test_sg_public_ingress_passes_narrow_ranges_and_listener_ports(facts):
    facts["security_groups"][1]["IpPermissions"].append(permission(22, cidr="10.0.0.0/8"))
    facts["security_groups"][0]["IpPermissions"].append(permission(8443, cidr="0.0.0.0/0"))
    facts["load_balancers"][0]["Listeners"].append({"Protocol": "HTTPS", "Port": 8443})
    assert rules.rule_sg_public_ingress(facts) == []


def test_sg_of_no_load_balancer_gets_no_web_exemption(facts):
    facts["load_balancers"] = []
    assert [item["resource"] for item in rules.rule_sg_public_ingress(facts)] == [ALB_SG, ALB_SG]


# rds_public, rds_unencrypted


def test_rds_public_fails(facts):
    facts["db_instances"][0]["PubliclyAccessible"] = True
    assert rule_ids(rules.evaluate(facts)) == ["rds_public"]
    (found,) = rules.rule_rds_public(facts)
    assert found["resource"] == "wordpress-db" and "publicly accessible" in found["message"]


@pytest.mark.parametrize("value", [False, None])
def test_rds_unencrypted_fails(facts, value):
    facts["db_instances"][0]["StorageEncrypted"] = value
    (found,) = rules.evaluate(facts)
    assert found["rule"] == "rds_unencrypted" and found["resource"] == "wordpress-db"
    assert "StorageEncrypted false" in found["message"]


# imdsv2_launch_template, imdsv2_instance


@pytest.mark.parametrize("options", [{}, {"HttpTokens": "optional"}, {"HttpPutResponseHopLimit": 2}])
def test_imdsv2_launch_template_fails(facts, options):
    facts["launch_templates"][0]["LaunchTemplateData"]["MetadataOptions"] = options
    (found,) = rules.evaluate(facts)
    assert found["rule"] == "imdsv2_launch_template" and found["resource"] == "wordpress-asg"
    assert "version 1 (of Auto Scaling group wordpress-asg)" in found["message"]


def test_imdsv2_launch_template_without_metadata_options_fails(facts):
    del facts["launch_templates"][0]["LaunchTemplateData"]["MetadataOptions"]
    assert rule_ids(rules.evaluate(facts)) == ["imdsv2_launch_template"]


def test_imdsv2_disabled_endpoint_passes(facts):
    facts["launch_templates"][0]["LaunchTemplateData"]["MetadataOptions"] = {"HttpEndpoint": "disabled"}
    facts["instances"][0]["MetadataOptions"] = {"HttpTokens": "optional", "HttpEndpoint": "disabled"}
    assert rules.evaluate(facts) == []


def test_imdsv2_instance_fails(facts):
    facts["instances"].append({"InstanceId": "i-0456", "MetadataOptions": {"HttpTokens": "optional"}})
    (found,) = rules.evaluate(facts)
    assert found["rule"] == "imdsv2_instance" and found["resource"] == "i-0456"
    assert "HttpTokens optional" in found["message"]


# task_environment_secret


@pytest.mark.parametrize(
    "name", ["WORDPRESS_DB_PASSWORD", "WORDPRESS_AUTH_KEY", "NONCE_SALT", "API_TOKEN", "client_secret", "ApiKey"]
)
def test_task_environment_secret_fails(facts, name):
    facts["task_definitions"][0]["containerDefinitions"][0]["environment"].append({"name": name, "value": "x"})
    (found,) = rules.evaluate(facts)
    assert found["rule"] == "task_environment_secret"
    assert found["resource"] == facts["task_definitions"][0]["taskDefinitionArn"]
    assert name in found["message"] and "wordpress-wordpress:1" in found["message"]
    assert "value" not in found["message"].split(name)[1][:10]


def test_task_secrets_and_plain_names_pass(facts):
    facts["task_definitions"][0]["containerDefinitions"][0]["environment"].append(
        {"name": "WORDPRESS_CONFIG_EXTRA", "value": "define('WP_HOME', 'x');"}
    )
    assert rules.evaluate(facts) == []


def test_task_environment_secret_never_prints_the_value(facts):
    facts["task_definitions"][0]["containerDefinitions"][0]["environment"].append(
        {"name": "DB_PASSWORD", "value": "hunter2-very-secret"}
    )
    (found,) = rules.evaluate(facts)
    assert "hunter2" not in json.dumps(found)


# ecr_scan_on_push, ecr_mutable_tags


def test_ecr_scan_on_push_fails(facts):
    facts["ecr_repositories"][0]["imageScanningConfiguration"] = {"scanOnPush": False}
    (found,) = rules.evaluate(facts)
    assert (found["rule"], found["resource"]) == ("ecr_scan_on_push", "wordpress/wordpress")


def test_ecr_mutable_tags_fails(facts):
    facts["ecr_repositories"][0]["imageTagMutability"] = "MUTABLE"
    (found,) = rules.evaluate(facts)
    assert (found["rule"], found["resource"]) == ("ecr_mutable_tags", "wordpress/wordpress")
    assert "MUTABLE tags" in found["message"]


def test_ecr_immutable_with_exclusions_passes(facts):
    facts["ecr_repositories"][0]["imageTagMutability"] = "IMMUTABLE_WITH_EXCLUSION"
    assert rules.evaluate(facts) == []


# iam_wildcard


@pytest.mark.parametrize(
    "statement, phrase",
    [
        ({"Effect": "Allow", "Action": "*", "Resource": REPO_ARN}, "action *"),
        ({"Effect": "Allow", "Action": ["s3:GetObject", "s3:*"], "Resource": "arn:aws:s3:::b/*"}, "action s3:*"),
        ({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}, 'resource "*" for secretsmanager'),
        (
            {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "Resource": "*"},
            'resource "*" for ecr:GetAuthorizationToken, ecr:BatchGetImage',
        ),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": REPO_ARN}, "NotAction"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/x"}, "NotResource"),
    ],
)
def test_iam_wildcard_inline_fails(facts, statement, phrase):
    facts["roles"][0]["InlinePolicies"]["extra"] = {"Version": "2012-10-17", "Statement": [statement]}
    (found,) = rules.evaluate(facts)
    assert found["rule"] == "iam_wildcard" and found["resource"] == ROLE_ARN
    assert "inline policy extra: statement 0: " + phrase in found["message"]
    assert "execution role of wordpress-wordpress:1" in found["message"]


def test_iam_wildcard_customer_managed_fails(facts):
    arn = "arn:aws:iam::%s:policy/wordpress-extra" % ACCOUNT
    document = {"Statement": {"Sid": "All", "Effect": "Allow", "Action": "logs:*", "Resource": "*"}}
    facts["roles"][0]["AttachedPolicies"].append({"PolicyName": "wordpress-extra", "PolicyArn": arn, "Document": document})
    action, resource = rules.evaluate(facts)
    assert action["message"].endswith("attached policy %s: statement All: action logs:*" % arn)
    assert resource["message"].endswith('attached policy %s: statement All: resource "*" for logs:*' % arn)
    assert rules.policy_problems(document) == ["statement All: action logs:*", 'statement All: resource "*" for logs:*']


def test_iam_wildcard_exemptions(facts):
    """AWS managed policies (any partition), Deny statements and account-wide-only actions pass."""
    facts["roles"][0]["AttachedPolicies"].append(
        {
            "PolicyName": "AdministratorAccess",
            "PolicyArn": "arn:aws-us-gov:iam::aws:policy/AdministratorAccess",
            "Document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        }
    )
    facts["roles"][0]["InlinePolicies"]["deny"] = {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    facts["roles"][0]["InlinePolicies"]["xray"] = {
        "Statement": [{"Effect": "Allow", "Action": ["xray:PutTraceSegments", "XRay:PutTelemetryRecords"], "Resource": "*"}]
    }
    assert rules.evaluate(facts) == []


# https_listener_missing


def test_https_listener_missing_with_certificate_option(facts):
    facts["certificate_arn"] = CERT
    (found,) = rules.evaluate(facts)
    assert (found["rule"], found["resource"]) == ("https_listener_missing", "wordpress-alb")
    assert CERT in found["message"] and "HTTP:80" in found["message"]


def test_https_listener_missing_with_certificate_on_a_listener(facts):
    facts["load_balancers"][0]["Listeners"][0]["Certificates"] = [{"CertificateArn": CERT}]
    assert rule_ids(rules.evaluate(facts)) == ["https_listener_missing"]


def test_https_listener_present_passes(facts):
    facts["certificate_arn"] = CERT
    facts["load_balancers"][0]["Listeners"].append(
        {"Protocol": "HTTPS", "Port": 443, "Certificates": [{"CertificateArn": CERT}]}
    )
    assert rules.evaluate(facts) == []


def test_no_certificate_no_https_needed(facts):
    assert rules.rule_https_listener_missing(facts) == []


# evaluate, severities, messages, module results


def broken_facts():
    facts = good_facts()
    facts["security_groups"][1]["IpPermissions"].append(permission(22, cidr="0.0.0.0/0"))
    facts["ecr_repositories"][0]["imageTagMutability"] = "MUTABLE"
    return facts


def test_evaluate_skips_and_downgrades():
    facts = broken_facts()
    assert rule_ids(rules.evaluate(facts)) == ["ecr_mutable_tags", "sg_public_ingress"]
    assert rule_ids(rules.evaluate(facts, skip_rules={"ecr_mutable_tags"})) == ["sg_public_ingress"]
    warned = rules.evaluate(facts, severities={"sg_public_ingress": "warning"})
    assert {item["rule"]: item["severity"] for item in warned} == {"sg_public_ingress": "warning", "ecr_mutable_tags": "error"}
    assert rules.summary(warned) == {"error": 1, "warning": 1}


def test_findings_message_names_every_error():
    message = rules.findings_message("wordpress", rules.evaluate(broken_facts()))
    assert message.startswith("Stack 'wordpress' fails the security audit with 2 error finding(s)")
    assert "[sg_public_ingress] security group wordpress-instances" in message and "[ecr_mutable_tags]" in message
    assert rules.findings_message("wordpress", []) == "Stack 'wordpress' passes the security audit (0 warning(s))"


def test_module_results():
    results = security_audit.results_of(broken_facts(), skip_rules={"rds_public"}, warn_rules={"ecr_mutable_tags"})
    assert results["counts"] == {"error": 1, "warning": 1}
    assert "rds_public" not in results["rules_evaluated"] and len(results["rules_evaluated"]) == len(rules.RULES) - 1
    assert results["resources_audited"]["security_groups"] == 4 and results["resources_audited"]["roles"] == 1
    assert results["changed"] is False


def test_findings_do_not_alias_the_facts():
    facts = broken_facts()
    before = copy.deepcopy(facts)
    rules.evaluate(facts, severities={"sg_public_ingress": "warning"})
    assert facts == before


# the docs block and the fact collector's helpers


def test_documented_rule_choices_match_the_rules():
    documentation = yaml.safe_load(security_audit.DOCUMENTATION)
    for option in ("skip_rules", "warn_rules"):
        assert documentation["options"][option]["choices"] == rules.RULE_NAMES
    for rule in rules.RULE_NAMES:
        assert "C(%s)" % rule in " ".join(documentation["description"])
    yaml.safe_load(security_audit.EXAMPLES)
    yaml.safe_load(security_audit.RETURN)


def test_trust_policy_of_ecs_tasks():
    ecs = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    ec2 = {"Statement": [{"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com"]}, "Action": "sts:AssumeRole"}]}
    assert facts_utils._trusts_ecs_tasks({"AssumeRolePolicyDocument": ecs})
    assert facts_utils._trusts_ecs_tasks({"AssumeRolePolicyDocument": "%7B%22Statement%22%3A%20" + json.dumps(ecs["Statement"]) + "%7D"})
    assert not facts_utils._trusts_ecs_tasks({"AssumeRolePolicyDocument": ec2})
    assert not facts_utils._trusts_ecs_tasks({"AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": "*"}]}})
