# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The security rules behind autostack.wordpress.security_audit: pure functions over a facts dict (no AWS calls).

Private to this collection (the leading underscore): no compatibility promise.

The facts are describe/list items shaped as boto3 returns them, gathered by ``_security_audit_facts``:

``security_groups``
    DescribeSecurityGroups items of the stack.
``load_balancers``
    DescribeLoadBalancers items of the stack, each with its DescribeListeners items under ``Listeners``.
``db_instances``
    DescribeDBInstances items of the stack.
``launch_templates``
    The launch template versions the stack's Auto Scaling groups launch (DescribeLaunchTemplateVersions
    items), each with ``AutoScalingGroupName`` added.
``instances``
    DescribeInstances instances of the stack's Auto Scaling groups (not terminated).
``task_definitions``
    The newest ACTIVE revision of each of the stack's task definition families (DescribeTaskDefinition's
    ``taskDefinition``).
``ecr_repositories``
    DescribeRepositories items of the stack.
``roles``
    The task and execution roles of those task definitions: ``RoleName``, ``Arn``, ``UsedBy`` (what uses the
    role), ``InlinePolicies`` (policy name to document) and ``AttachedPolicies`` (``PolicyName``,
    ``PolicyArn``, ``Document``; the document of an AWS managed policy may be absent).
``certificate_arn``
    A certificate the caller says the stack is to serve (empty when none).

Each rule takes the facts and returns findings: dicts with ``rule``, ``severity``, ``resource`` and ``message``.
"""

from __future__ import annotations

import re

SEVERITY_ERROR = "error"
SEVERITY_WARNING = "warning"
SEVERITIES = (SEVERITY_ERROR, SEVERITY_WARNING)

PUBLIC_CIDRS = ("0.0.0.0/0", "::/0")
SECRET_NAME_PATTERN = re.compile(r"PASSWORD|SECRET|KEY|SALT|TOKEN", re.IGNORECASE)
AWS_MANAGED_POLICY_PREFIX = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/")
# Actions IAM accepts with no resource but "*": a statement granting only these may name Resource "*".
# Each is account-wide by design and opens nothing on its own (see docs/security-audit.md).
RESOURCE_STAR_ONLY_ACTIONS = frozenset(
    action.lower()
    for action in (
        "ecr:GetAuthorizationToken",
        "logs:DescribeLogGroups",
        "ssm:DescribeParameters",
        "secretsmanager:ListSecrets",
        "secretsmanager:GetRandomPassword",
        "kms:ListKeys",
        "kms:ListAliases",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "cloudwatch:PutMetricData",
        "ec2:DescribeInstances",
        "ec2:DescribeTags",
    )
)


def finding(rule, resource, message, severity=SEVERITY_ERROR):
    return {"rule": rule, "severity": severity, "resource": resource, "message": message}


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


# sg_public_ingress


def _port_range(permission):
    protocol = str(permission.get("IpProtocol", "-1"))
    if protocol in ("-1", "all"):
        return "all traffic"
    start, end = permission.get("FromPort"), permission.get("ToPort")
    if start is None or (start in (-1, 0) and end in (-1, 65535)):
        return "%s all ports" % protocol
    if start == end:
        return "%s port %s" % (protocol, start)
    return "%s ports %s-%s" % (protocol, start, end)


def _public_ranges(permission):
    cidrs = [entry.get("CidrIp") for entry in permission.get("IpRanges") or []]
    cidrs += [entry.get("CidrIpv6") for entry in permission.get("Ipv6Ranges") or []]
    return [cidr for cidr in cidrs if cidr in PUBLIC_CIDRS]


def _covers_only(permission, ports):
    """True when the permission opens TCP ports that are all in ``ports`` (a load balancer's listener ports)."""
    if str(permission.get("IpProtocol")) not in ("tcp", "6"):
        return False
    start, end = permission.get("FromPort"), permission.get("ToPort")
    if start is None or end is None or end - start > 64:
        return False
    return all(port in ports for port in range(start, end + 1))


WEB_PORTS = (80, 443)


def _load_balancer_ports(facts):
    """Security group id to the ports the internet may reach on the load balancers it is attached to.

    HTTP and HTTPS always (a load balancer's group is open on both before a certificate turns HTTPS on), plus
    any other listener port.
    """
    ports = {}
    for balancer in facts.get("load_balancers") or []:
        listened = {listener.get("Port") for listener in balancer.get("Listeners") or [] if listener.get("Port")}
        for group_id in balancer.get("SecurityGroups") or []:
            ports.setdefault(group_id, set(WEB_PORTS)).update(listened)
    return ports


def rule_sg_public_ingress(facts):
    """No security group of the stack admits the internet, but a load balancer's on its listener ports."""
    findings = []
    balancer_ports = _load_balancer_ports(facts)
    for group in facts.get("security_groups") or []:
        group_id = group.get("GroupId")
        label = "%s (%s)" % (group.get("GroupName"), group_id)
        for permission in group.get("IpPermissions") or []:
            public = _public_ranges(permission)
            if not public:
                continue
            if group_id in balancer_ports and _covers_only(permission, balancer_ports[group_id]):
                continue
            where = (
                "which is a load balancer's, beyond its listener ports %s" % sorted(balancer_ports[group_id])
                if group_id in balancer_ports
                else "which is not a load balancer's"
            )
            findings.append(
                finding(
                    "sg_public_ingress",
                    group_id,
                    "security group %s admits %s from %s, %s" % (label, _port_range(permission), " and ".join(public), where),
                )
            )
    return findings


# rds_public, rds_unencrypted


def rule_rds_public(facts):
    return [
        finding(
            "rds_public",
            instance.get("DBInstanceIdentifier"),
            "DB instance %s is publicly accessible (PubliclyAccessible true)" % instance.get("DBInstanceIdentifier"),
        )
        for instance in facts.get("db_instances") or []
        if instance.get("PubliclyAccessible")
    ]


def rule_rds_unencrypted(facts):
    return [
        finding(
            "rds_unencrypted",
            instance.get("DBInstanceIdentifier"),
            "DB instance %s does not encrypt its storage (StorageEncrypted false)" % instance.get("DBInstanceIdentifier"),
        )
        for instance in facts.get("db_instances") or []
        if not instance.get("StorageEncrypted")
    ]


# imdsv2_launch_template, imdsv2_instance


def rule_imdsv2_launch_template(facts):
    findings = []
    for version in facts.get("launch_templates") or []:
        options = (version.get("LaunchTemplateData") or {}).get("MetadataOptions") or {}
        tokens = options.get("HttpTokens")
        if tokens == "required" or options.get("HttpEndpoint") == "disabled":
            continue
        name = version.get("LaunchTemplateName") or version.get("LaunchTemplateId")
        findings.append(
            finding(
                "imdsv2_launch_template",
                name,
                "launch template %s version %s (of Auto Scaling group %s) does not require IMDSv2 (HttpTokens %s)"
                % (name, version.get("VersionNumber"), version.get("AutoScalingGroupName"), tokens or "unset, optional"),
            )
        )
    return findings


def rule_imdsv2_instance(facts):
    findings = []
    for instance in facts.get("instances") or []:
        options = instance.get("MetadataOptions") or {}
        tokens = options.get("HttpTokens")
        if tokens == "required" or options.get("HttpEndpoint") == "disabled":
            continue
        findings.append(
            finding(
                "imdsv2_instance",
                instance.get("InstanceId"),
                "instance %s does not require IMDSv2 (HttpTokens %s)" % (instance.get("InstanceId"), tokens or "unset, optional"),
            )
        )
    return findings


# task_environment_secret


def rule_task_environment_secret(facts):
    findings = []
    for definition in facts.get("task_definitions") or []:
        arn = definition.get("taskDefinitionArn")
        label = "%s:%s" % (definition.get("family"), definition.get("revision"))
        for container in definition.get("containerDefinitions") or []:
            for variable in container.get("environment") or []:
                name = variable.get("name") or ""
                if SECRET_NAME_PATTERN.search(name):
                    findings.append(
                        finding(
                            "task_environment_secret",
                            arn,
                            "task definition %s, container %s: variable %s looks like a secret but is in plain "
                            "environment (use secrets with a Secrets Manager or SSM reference)"
                            % (label, container.get("name"), name),
                        )
                    )
    return findings


# ecr_scan_on_push, ecr_mutable_tags


def rule_ecr_scan_on_push(facts):
    return [
        finding(
            "ecr_scan_on_push",
            repository.get("repositoryName"),
            "ECR repository %s does not scan images on push" % repository.get("repositoryName"),
        )
        for repository in facts.get("ecr_repositories") or []
        if not (repository.get("imageScanningConfiguration") or {}).get("scanOnPush")
    ]


def rule_ecr_mutable_tags(facts):
    return [
        finding(
            "ecr_mutable_tags",
            repository.get("repositoryName"),
            "ECR repository %s has %s tags (a pushed tag can be overwritten)"
            % (repository.get("repositoryName"), repository.get("imageTagMutability") or "MUTABLE"),
        )
        for repository in facts.get("ecr_repositories") or []
        if not str(repository.get("imageTagMutability") or "MUTABLE").startswith("IMMUTABLE")
    ]


# iam_wildcard


def _wildcard_action(action):
    return action == "*" or action.endswith(":*")


def statement_problems(statement):
    """What is too broad in one policy statement: a list of phrases, empty when the statement is fine."""
    if statement.get("Effect") != "Allow":
        return []
    problems = []
    if "NotAction" in statement:
        problems.append("NotAction (allows every other action)")
    if "NotResource" in statement:
        problems.append("NotResource (allows every other resource)")
    actions = [str(action) for action in _as_list(statement.get("Action"))]
    wild = [action for action in actions if _wildcard_action(action)]
    if wild:
        problems.append("action %s" % ", ".join(wild))
    if "*" in _as_list(statement.get("Resource")):
        exempt = actions and all(action.lower() in RESOURCE_STAR_ONLY_ACTIONS for action in actions)
        if not exempt:
            problems.append('resource "*" for %s' % (", ".join(actions) or "no action"))
    return problems


def policy_problems(document):
    problems = []
    for index, statement in enumerate(_as_list((document or {}).get("Statement"))):
        for problem in statement_problems(statement):
            problems.append("statement %s: %s" % (statement.get("Sid") or index, problem))
    return problems


def rule_iam_wildcard(facts):
    findings = []
    for role in facts.get("roles") or []:
        name = role.get("RoleName")
        used = ", ".join(role.get("UsedBy") or []) or "a task role"
        for policy_name, document in sorted((role.get("InlinePolicies") or {}).items()):
            for problem in policy_problems(document):
                findings.append(
                    finding(
                        "iam_wildcard",
                        role.get("Arn") or name,
                        "role %s (%s), inline policy %s: %s" % (name, used, policy_name, problem),
                    )
                )
        for policy in role.get("AttachedPolicies") or []:
            if AWS_MANAGED_POLICY_PREFIX.match(policy.get("PolicyArn") or ""):
                continue  # AWS managed: AWS maintains them; exempt (docs/security-audit.md).
            for problem in policy_problems(policy.get("Document")):
                findings.append(
                    finding(
                        "iam_wildcard",
                        role.get("Arn") or name,
                        "role %s (%s), attached policy %s: %s" % (name, used, policy.get("PolicyArn"), problem),
                    )
                )
    return findings


# https_listener_missing


def rule_https_listener_missing(facts):
    findings = []
    certificate = facts.get("certificate_arn") or ""
    for balancer in facts.get("load_balancers") or []:
        if balancer.get("Type", "application") != "application":
            continue
        listeners = balancer.get("Listeners") or []
        attached = [cert.get("CertificateArn") for listener in listeners for cert in listener.get("Certificates") or []]
        if not certificate and not any(attached):
            continue
        https = [listener for listener in listeners if listener.get("Protocol") == "HTTPS"]
        if https:
            continue
        findings.append(
            finding(
                "https_listener_missing",
                balancer.get("LoadBalancerName"),
                "load balancer %s has a certificate (%s) but no HTTPS listener (listeners: %s)"
                % (
                    balancer.get("LoadBalancerName"),
                    certificate or ", ".join(cert for cert in attached if cert),
                    ", ".join("%s:%s" % (item.get("Protocol"), item.get("Port")) for item in listeners) or "none",
                ),
            )
        )
    return findings


RULES = {
    "sg_public_ingress": rule_sg_public_ingress,
    "rds_public": rule_rds_public,
    "rds_unencrypted": rule_rds_unencrypted,
    "imdsv2_launch_template": rule_imdsv2_launch_template,
    "imdsv2_instance": rule_imdsv2_instance,
    "task_environment_secret": rule_task_environment_secret,
    "ecr_scan_on_push": rule_ecr_scan_on_push,
    "ecr_mutable_tags": rule_ecr_mutable_tags,
    "iam_wildcard": rule_iam_wildcard,
    "https_listener_missing": rule_https_listener_missing,
}
RULE_NAMES = list(RULES)


def evaluate(facts, skip_rules=(), severities=None):
    """Every rule not in ``skip_rules`` on ``facts``: the findings in rule order.

    ``severities`` maps a rule to the severity its findings get (default ``error``).
    """
    severities = severities or {}
    findings = []
    for name, rule in RULES.items():
        if name in skip_rules:
            continue
        for item in rule(facts):
            if name in severities:
                item = dict(item, severity=severities[name])
            findings.append(item)
    return findings


def summary(findings):
    counts = {severity: 0 for severity in SEVERITIES}
    for item in findings:
        counts[item["severity"]] = counts.get(item["severity"], 0) + 1
    return counts


def findings_message(stack, findings, limit=30):
    errors = [item for item in findings if item["severity"] == SEVERITY_ERROR]
    if not errors:
        return "Stack %r passes the security audit (%d warning(s))" % (stack, len(findings))
    described = ["[%s] %s" % (item["rule"], item["message"]) for item in errors[:limit]]
    if len(errors) > limit:
        described.append("... and %d more (see findings)" % (len(errors) - limit))
    return "Stack %r fails the security audit with %d error finding(s): %s" % (stack, len(errors), "; ".join(described))
