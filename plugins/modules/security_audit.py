#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: security_audit
version_added: 0.1.0
short_description: Audit the security settings of a running autostack stack
description:
  - Reads, read-only, the settings of stack O(stack) that matter for its security, evaluates the rules below, returns
    what breaks them as RV(findings), and fails when any finding has severity C(error) (unless
    O(fail_on_findings=false)).
  - A resource is the stack's when its C(autostack:stack) tag is O(stack), or when it has no such tag and its name is
    O(stack) or continues it with C(-) or C(/) (as M(autostack.wordpress.stack_audit) decides). Security groups are
    also the stack's when they lie in one of its VPCs.
  - "Rules (see C(docs/security-audit.md) for why and how to fix each):
    C(sg_public_ingress): no security group admits C(0.0.0.0/0) or C(::/0), except a load balancer's group on TCP
    80, 443 and its listener ports.
    C(rds_public): no DB instance is publicly accessible.
    C(rds_unencrypted): every DB instance encrypts its storage.
    C(imdsv2_launch_template): the launch template version each Auto Scaling group launches requires IMDSv2
    (C(HttpTokens) C(required)).
    C(imdsv2_instance): every running instance of those groups requires IMDSv2.
    C(task_environment_secret): no plain C(environment) variable of the newest task definition revisions has a name
    matching C(PASSWORD), C(SECRET), C(KEY), C(SALT) or C(TOKEN) (those go in C(secrets)).
    C(ecr_scan_on_push): every ECR repository scans on push.
    C(ecr_mutable_tags): every ECR repository has immutable tags.
    C(iam_wildcard): no inline or customer managed policy of a task or execution role allows a C(*) or
    C(service:*) action, C(NotAction), C(NotResource), or resource C(*) (unless every action of the statement is
    one IAM accepts only on resource C(*), such as C(ecr:GetAuthorizationToken)). AWS managed policies are exempt.
    C(https_listener_missing): a load balancer with a certificate (O(certificate_arn), or one on a listener) has an
    HTTPS listener."
author:
  - autostack contributors (@autostack)
options:
  stack:
    description:
      - The stack's name, the value of the C(autostack:stack) tag and the prefix of resource names.
    type: str
    required: true
  certificate_arn:
    description:
      - The certificate the stack is meant to serve HTTPS with (the C(alb) role's C(alb_certificate_arn)).
      - When set, every load balancer of the stack must have an HTTPS listener. When empty, only a certificate
        found on a listener asks for one.
    type: str
    default: ""
  fail_on_findings:
    description:
      - Fail, with a message listing them, when any finding has severity C(error).
      - With V(false) the module only reports.
    type: bool
    default: true
  skip_rules:
    description:
      - Rules not to evaluate, each an exemption to justify (see C(docs/security-audit.md)).
    type: list
    elements: str
    default: []
    choices:
      - sg_public_ingress
      - rds_public
      - rds_unencrypted
      - imdsv2_launch_template
      - imdsv2_instance
      - task_environment_secret
      - ecr_scan_on_push
      - ecr_mutable_tags
      - iam_wildcard
      - https_listener_missing
  warn_rules:
    description:
      - Rules whose findings are reported with severity C(warning), which never fails the module.
    type: list
    elements: str
    default: []
    choices:
      - sg_public_ingress
      - rds_public
      - rds_unencrypted
      - imdsv2_launch_template
      - imdsv2_instance
      - task_environment_secret
      - ecr_scan_on_push
      - ecr_mutable_tags
      - iam_wildcard
      - https_listener_missing
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The module never changes anything; check mode changes nothing about it.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Needs only read permissions (C(Describe*), C(List*), C(Get*)) on EC2, Elastic Load Balancing, Auto Scaling, RDS,
    ECS, ECR and IAM.
  - IAM is global. Everything else is audited in the module's region only.
  - In the module group C(autostack.wordpress.aws), so the play's M(ansible.builtin.module_defaults) for that group
    reach it.
"""

EXAMPLES = r"""
- name: Audit the stack (fails, listing them, on error findings)
  autostack.wordpress.security_audit:
    stack: "{{ autostack_stack_name }}"
    certificate_arn: "{{ alb_certificate_arn | default('') }}"
  register: audit

- name: Report only, and accept plain HTTP while no certificate exists yet
  autostack.wordpress.security_audit:
    stack: wordpress
    fail_on_findings: false
    skip_rules: [https_listener_missing]
  register: audit

- name: Show the findings
  ansible.builtin.debug:
    msg: "[{{ item.severity }}] {{ item.rule }} {{ item.resource }}: {{ item.message }}"
  loop: "{{ audit.findings }}"
  loop_control:
    label: "{{ item.rule }}"
"""

RETURN = r"""
findings:
  description: What breaks a rule, in rule order.
  returned: always
  type: list
  elements: dict
  contains:
    rule:
      description: The rule broken, one of RV(rules_evaluated).
      type: str
      sample: sg_public_ingress
    severity:
      description: C(error), or C(warning) for a rule in O(warn_rules).
      type: str
      sample: error
    resource:
      description: The resource at fault (a group id, DB instance identifier, repository name, role ARN, ...).
      type: str
      sample: sg-0123456789abcdef0
    message:
      description: What is wrong, naming the resource and the setting.
      type: str
      sample: security group wordpress-instances (sg-0123456789abcdef0) admits tcp port 22 from 0.0.0.0/0, which is not a load balancer's
counts:
  description: Findings per severity.
  returned: always
  type: dict
  sample: {"error": 1, "warning": 0}
rules_evaluated:
  description: The rules evaluated (all, less O(skip_rules)).
  returned: always
  type: list
  elements: str
  sample: [sg_public_ingress, rds_public]
resources_audited:
  description: How many resources of each kind the rules looked at; a zero says the stack has none (or not yet).
  returned: always
  type: dict
  sample: {"security_groups": 4, "load_balancers": 1, "db_instances": 1, "launch_templates": 1, "instances": 1,
           "task_definitions": 1, "ecr_repositories": 1, "roles": 1}
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.autostack.wordpress.plugins.module_utils._security_audit import RULE_NAMES
from ansible_collections.autostack.wordpress.plugins.module_utils._security_audit import SEVERITY_ERROR
from ansible_collections.autostack.wordpress.plugins.module_utils._security_audit import SEVERITY_WARNING
from ansible_collections.autostack.wordpress.plugins.module_utils._security_audit import evaluate
from ansible_collections.autostack.wordpress.plugins.module_utils._security_audit import findings_message
from ansible_collections.autostack.wordpress.plugins.module_utils._security_audit import summary
from ansible_collections.autostack.wordpress.plugins.module_utils._security_audit_facts import collect

FACT_KINDS = (
    "security_groups",
    "load_balancers",
    "db_instances",
    "launch_templates",
    "instances",
    "task_definitions",
    "ecr_repositories",
    "roles",
)


def results_of(facts, skip_rules, warn_rules):
    findings = evaluate(facts, skip_rules=skip_rules, severities={rule: SEVERITY_WARNING for rule in warn_rules})
    return dict(
        changed=False,
        findings=findings,
        counts=summary(findings),
        rules_evaluated=[rule for rule in RULE_NAMES if rule not in skip_rules],
        resources_audited={kind: len(facts.get(kind) or []) for kind in FACT_KINDS},
    )


def main():
    argument_spec = dict(
        stack=dict(type="str", required=True),
        certificate_arn=dict(type="str", default=""),
        fail_on_findings=dict(type="bool", default=True),
        skip_rules=dict(type="list", elements="str", default=[], choices=RULE_NAMES),
        warn_rules=dict(type="list", elements="str", default=[], choices=RULE_NAMES),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    stack = module.params["stack"]
    if not stack or stack != stack.strip():
        module.fail_json(msg="stack must be a non-empty name without surrounding spaces, got %r" % stack)
    certificate_arn = (module.params["certificate_arn"] or "").strip()
    if certificate_arn and not certificate_arn.startswith("arn:"):
        module.fail_json(msg="certificate_arn must be an ACM or IAM certificate ARN or empty, got %r" % certificate_arn)

    try:
        facts = collect(module, stack, certificate_arn)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not read the settings of stack %r" % stack)

    results = results_of(facts, set(module.params["skip_rules"]), set(module.params["warn_rules"]))
    if results["counts"][SEVERITY_ERROR] and module.params["fail_on_findings"]:
        module.fail_json(msg=findings_message(stack, results["findings"]), **results)
    module.exit_json(**results)


if __name__ == "__main__":
    main()
