"""playbooks/audit.yml and autostack.wordpress.security_audit against a private local cloud.

One stack for the module: playbooks/infrastructure.yml, an image recorded in the outputs as the image phase
records it, playbooks/deploy.yml. The stack as the project builds it must pass with zero findings. Then each rule
is broken with boto3 (a security group open on port 22, mutable tags and no scan on push, a public database,
IMDSv1 on the launch template and an instance, a password in a task definition's environment, a wildcard policy
on the execution role, a certificate without an HTTPS listener) and the audit must fail naming each break; undone,
the stack passes again. playbooks/destroy.yml removes the stack at the end.

Timings of each run are printed (``pytest -s``).
"""

import copy
import json
import uuid

import pytest
import stack_support

STACK = "sec%s" % uuid.uuid4().hex[:6]
TIMINGS = {}
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
RESULT_PLAYBOOK = """
- name: Run the security audit and keep its result
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/autostack.wordpress.aws:
      aws_region: "{{ autostack_region }}"
      endpoint_url: "{{ autostack_endpoint_url }}"
      access_key: "{{ autostack_aws_access_key }}"
      secret_key: "{{ autostack_aws_secret_key }}"
  tasks:
    - name: Audit
      autostack.wordpress.security_audit:
        stack: "{{ autostack_stack_name }}"
        certificate_arn: "{{ certificate_arn | default('') }}"
        fail_on_findings: false
      register: audit

    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ audit | to_json }}"
        dest: "{{ result_path }}"
        mode: "0600"
"""


@pytest.fixture(scope="module")
def stack(emulator, tmp_path_factory):
    """The stack built and deployed as the project does it; destroyed after the module's tests."""
    built = stack_support.Stack(emulator, tmp_path_factory.mktemp("security"), STACK, TIMINGS)
    try:
        built.run("playbooks/infrastructure.yml", "infrastructure.yml").check()
        built.record_image(built.image("0123456789ab"))
        built.deploy("deploy.yml").check()
        yield built
    finally:
        destroyed = built.run(
            "playbooks/destroy.yml",
            "destroy.yml",
            ecr_force_delete=True,
            rds_skip_final_snapshot=True,
            rds_secret_recovery_window_days=0,
        )
        print("\ntimings (s): %s" % json.dumps(TIMINGS, indent=2))
        assert destroyed.proc.returncode == 0, destroyed.output[-20000:]


def audit_result(stack, label, **extra_vars):
    """The module's result (fail_on_findings false), as JSON."""
    playbook = stack.directory / "audit_result.yml"
    playbook.write_text(RESULT_PLAYBOOK)
    path = stack.directory / "result.json"
    stack.run(str(playbook), label, result_path=str(path), **extra_vars).check()
    return json.loads(path.read_text())


def flat(run):
    """The run's output with YAML's line wrapping undone (messages are folded at about 80 columns)."""
    return " ".join(run.output.split())


def by_rule(result):
    rules = {}
    for finding in result["findings"]:
        rules.setdefault(finding["rule"], []).append(finding)
    return rules


def test_the_stack_as_built_passes(stack):
    run = stack.run("playbooks/audit.yml", "audit.yml, as built").check()
    assert "0 error(s), 0 warning(s)" in flat(run), run.output[-5000:]
    assert run.changed == 0

    result = audit_result(stack, "security_audit, as built")
    assert result["findings"] == [] and result["counts"] == {"error": 0, "warning": 0}
    # Every kind was really looked at: the stack has each.
    audited = result["resources_audited"]
    assert audited["security_groups"] >= 3 and audited["load_balancers"] == 1 and audited["db_instances"] == 1
    assert audited["launch_templates"] == 1 and audited["instances"] >= 1 and audited["task_definitions"] == 1
    assert audited["ecr_repositories"] == 1 and audited["roles"] == 1
    assert result["changed"] is False


def test_site_yml_runs_the_audit_last(stack):
    listed = stack.run("site.yml", "site.yml --list-tasks --tags audit", "--list-tasks", "--tags", "audit").check()
    assert "Audit the security of stack" in listed.output
    plays = [line for line in listed.output.splitlines() if line.strip().startswith("play #")]
    assert plays and "Security audit" in plays[-1], listed.output


@pytest.fixture(scope="module")
def broken(emulator, stack):
    """Each rule broken with boto3: ``expected`` maps each rule to the resource its finding must name;
    ``undo()`` restores what the project made (run at the latest when the module's tests end)."""
    outputs = stack.outputs()
    ec2, ecr, rds = emulator.client("ec2"), emulator.client("ecr"), emulator.client("rds")
    autoscaling, ecs, iam = emulator.client("autoscaling"), emulator.client("ecs"), emulator.client("iam")

    (instances_group,) = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [STACK + "-instances"]}]
    )["SecurityGroups"]
    ssh = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    ec2.authorize_security_group_ingress(GroupId=instances_group["GroupId"], IpPermissions=ssh)

    repository = STACK + "/wordpress"
    ecr.put_image_tag_mutability(repositoryName=repository, imageTagMutability="MUTABLE")
    ecr.put_image_scanning_configuration(repositoryName=repository, imageScanningConfiguration={"scanOnPush": False})

    database = STACK + "-db"
    rds.modify_db_instance(DBInstanceIdentifier=database, PubliclyAccessible=True, ApplyImmediately=True)

    (group,) = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[STACK + "-asg"])["AutoScalingGroups"]
    template = group["LaunchTemplate"]
    version = ec2.create_launch_template_version(
        LaunchTemplateId=template["LaunchTemplateId"],
        SourceVersion=str(template["Version"]),
        LaunchTemplateData={"MetadataOptions": {"HttpTokens": "optional"}},
    )["LaunchTemplateVersion"]["VersionNumber"]
    autoscaling.update_auto_scaling_group(
        AutoScalingGroupName=STACK + "-asg",
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"], "Version": str(version)},
    )
    instance_id = group["Instances"][0]["InstanceId"]
    ec2.modify_instance_metadata_options(InstanceId=instance_id, HttpTokens="optional")

    definition = ecs.describe_task_definition(taskDefinition=outputs["ecs_task_definition_arn"])["taskDefinition"]
    containers = copy.deepcopy(definition["containerDefinitions"])
    containers[0]["environment"].append({"name": "WORDPRESS_DB_PASSWORD", "value": "not-a-real-password"})
    registered = ecs.register_task_definition(
        family=definition["family"],
        containerDefinitions=containers,
        executionRoleArn=definition["executionRoleArn"],
        networkMode=definition["networkMode"],
        requiresCompatibilities=definition["requiresCompatibilities"],
        cpu=definition["cpu"],
        memory=definition["memory"],
    )["taskDefinition"]["taskDefinitionArn"]

    role = STACK + "-ecs-task-execution"
    wildcard = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName=role, PolicyName="too-broad", PolicyDocument=json.dumps(wildcard))

    expected = {
        "sg_public_ingress": instances_group["GroupId"],
        "ecr_mutable_tags": repository,
        "ecr_scan_on_push": repository,
        "rds_public": database,
        "imdsv2_launch_template": STACK + "-asg",
        "imdsv2_instance": instance_id,
        "task_environment_secret": registered,
        "iam_wildcard": outputs["ecs_task_execution_role_arn"],
        "https_listener_missing": STACK + "-alb",
    }
    undone = []

    def undo():
        """Back to what the project made, so that the stack passes again and the teardown meets it."""
        if undone:
            return
        undone.append(True)
        iam.delete_role_policy(RoleName=role, PolicyName="too-broad")
        ecs.deregister_task_definition(taskDefinition=registered)
        ec2.modify_instance_metadata_options(InstanceId=instance_id, HttpTokens="required")
        autoscaling.update_auto_scaling_group(
            AutoScalingGroupName=STACK + "-asg",
            LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"], "Version": str(template["Version"])},
        )
        ec2.delete_launch_template_versions(LaunchTemplateId=template["LaunchTemplateId"], Versions=[str(version)])
        rds.modify_db_instance(DBInstanceIdentifier=database, PubliclyAccessible=False, ApplyImmediately=True)
        ecr.put_image_scanning_configuration(repositoryName=repository, imageScanningConfiguration={"scanOnPush": True})
        ecr.put_image_tag_mutability(repositoryName=repository, imageTagMutability="IMMUTABLE")
        ec2.revoke_security_group_ingress(GroupId=instances_group["GroupId"], IpPermissions=ssh)

    # s3:* on "*" breaks iam_wildcard twice: a service-wide action and resource "*".
    yield {"expected": expected, "count": len(expected) + 1, "undo": undo}
    undo()


def test_the_module_names_each_break(stack, broken):
    count, broken = broken["count"], broken["expected"]
    result = audit_result(stack, "security_audit, broken", certificate_arn=CERTIFICATE)
    rules = by_rule(result)
    assert sorted(rules) == sorted(broken), json.dumps(result["findings"], indent=2)
    for rule, resource in broken.items():
        assert {finding["resource"] for finding in rules[rule]} == {resource}, rules[rule]
        assert all(finding["severity"] == "error" for finding in rules[rule])
    assert "tcp port 22 from 0.0.0.0/0" in rules["sg_public_ingress"][0]["message"]
    assert "WORDPRESS_DB_PASSWORD" in rules["task_environment_secret"][0]["message"]
    assert "not-a-real-password" not in json.dumps(result)
    assert [finding["message"].rsplit(": ", 1)[1] for finding in rules["iam_wildcard"]] == ["action s3:*", 'resource "*" for s3:*']
    assert "inline policy too-broad" in rules["iam_wildcard"][0]["message"]
    assert CERTIFICATE in rules["https_listener_missing"][0]["message"]
    assert result["counts"] == {"error": count, "warning": 0}


def test_the_playbook_fails_naming_each_break(stack, broken):
    count, broken = broken["count"], broken["expected"]
    run = stack.run("playbooks/audit.yml", "audit.yml, broken", alb_certificate_arn=CERTIFICATE)
    assert run.proc.returncode != 0
    assert "fails the security audit with %d error finding(s)" % count in flat(run), run.output[-8000:]
    for rule, resource in broken.items():
        assert "[error] %s:" % rule in flat(run), rule
        assert resource.rsplit("/", 1)[-1].rsplit(":", 1)[0] in flat(run), resource

    # Downgraded to warnings, the same findings are shown and the run passes.
    warned = stack.run(
        "playbooks/audit.yml",
        "audit.yml, broken, warnings only",
        alb_certificate_arn=CERTIFICATE,
        security_audit_warn_rules=sorted(broken),
    ).check()
    assert "0 error(s), %d warning(s)" % count in flat(warned)
    assert all("[warning] %s:" % rule in flat(warned) for rule in broken)


def test_undone_the_stack_passes_again(stack, broken):
    broken["undo"]()
    run = stack.run("playbooks/audit.yml", "audit.yml, undone").check()
    assert "0 error(s), 0 warning(s)" in flat(run), run.output[-5000:]
