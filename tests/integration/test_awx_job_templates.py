"""The AWX job templates of awx/job_templates.yml, run through ansible-runner as AWX runs a job.

AWX hands each job to ansible-runner: a private data directory, the synced project as the working
directory, the template's playbook and job tags, the inventory synced from the project's source
path, the survey answers (here: the questions' defaults) merged over the template's extra vars,
and the credential's environment (the "Amazon Web Services" type sets AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN). This test does the same against a private local
cloud (the ``emulator`` fixture of tests/conftest.py), the endpoint AWS_ENDPOINT_URL standing in for
what an AWX inventory variable would give. The templates run in a lifecycle order on ONE stack:
infra, image, deploy, verify, site (converged: nothing changes), audit, destroy. Each run's time is
printed (``pytest -s``).

The quick tests (no AWS) check the data itself: every survey question against the roles'
argument specs and validate.yml limits, the playbooks and tags the templates name,
collections/requirements.yml against galaxy.yml, and awx/configure.yml against a stand-in awx.awx
collection that records what the modules were asked to do (and without one: its early failure).
"""

import json
import os
import re
import subprocess
import sys
import time
import uuid

import ansible_runner
import docker
import pytest
import yaml
from conftest import free_port

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
DATA = os.path.join(TOP, "awx", "job_templates.yml")
STACK = "awx%s" % uuid.uuid4().hex[:6]
PORT = free_port()
TIMINGS = {}
INVENTORY = "local"
# The lifecycle's order; every template of the data file must be in it.
LIFECYCLE = ["infra", "image", "deploy", "verify", "site", "audit", "destroy"]
INTEGER_LIMIT = re.compile(r"(?P<var>\w+) \| int (?:(?P<op>>=|<=) |is (?P<test>ge|le)\()(?P<value>\d+)")


def load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


DATA_VARS = load(DATA)
QUESTIONS = DATA_VARS["autostack_awx_survey_questions"]
TEMPLATES = {template["name"].rsplit(" ", 1)[1]: template for template in DATA_VARS["autostack_awx_job_templates"]}


def survey_spec(template):
    return [QUESTIONS[variable] for variable in template["survey"]]


def survey_defaults(template):
    """The extra vars AWX sends when a survey is launched as it is: the questions' defaults.

    A question without a default sends nothing, so the inventory's value applies.
    """
    return {question["variable"]: question["default"] for question in survey_spec(template) if "default" in question}


def argument_specs():
    """Every option of every entry point of every role: variable -> [(role, option spec)]."""
    options = {}
    for role in sorted(os.listdir(os.path.join(TOP, "roles"))):
        path = os.path.join(TOP, "roles", role, "meta", "argument_specs.yml")
        if not os.path.exists(path):
            continue
        for entry in load(path)["argument_specs"].values():
            for variable, spec in entry.get("options", {}).items():
                options.setdefault(variable, []).append((role, spec))
    return options


def integer_limits():
    """variable -> (minimum, maximum) as the roles' validate.yml assert them."""
    limits = {}
    for role in sorted(os.listdir(os.path.join(TOP, "roles"))):
        path = os.path.join(TOP, "roles", role, "tasks", "validate.yml")
        if not os.path.exists(path):
            continue
        with open(path) as handle:
            for match in INTEGER_LIMIT.finditer(handle.read()):
                low, high = limits.get(match.group("var"), (None, None))
                value = int(match.group("value"))
                if match.group("op") == ">=" or match.group("test") == "ge":
                    low = value
                else:
                    high = value
                limits[match.group("var")] = (low, high)
    return limits


# --- the data, no AWS ---------------------------------------------------------------------------


def test_every_template_is_in_the_lifecycle():
    assert sorted(TEMPLATES) == sorted(LIFECYCLE)


@pytest.mark.parametrize("variable", sorted(QUESTIONS))
def test_survey_question_matches_the_role_argument_spec(variable):
    question = QUESTIONS[variable]
    assert question["variable"] == variable
    specs = argument_specs().get(variable)
    assert specs, "survey variable %s is no option of any role's argument spec" % variable
    for role, spec in specs:
        kind = spec.get("type", "str")
        if question["type"] == "integer":
            assert kind == "int", "%s: survey integer, %s's argument spec %s" % (variable, role, kind)
        else:
            assert question["type"] in ("text", "multiplechoice") and kind == "str", (variable, role, kind)
        if "choices" in spec:
            assert question["type"] == "multiplechoice" and question["choices"] == spec["choices"], (variable, role)
        if "default" in spec and "default" in question:
            assert question["default"] == spec["default"], "%s: survey default %r, %s's default %r" % (
                variable, question["default"], role, spec["default"])
        # A required option with no default must be answered or come from the inventory.
        if spec.get("required") and "default" not in question:
            assert not question["required"], variable
    if question["type"] == "integer":
        assert (question["min"], question["max"]) == integer_limits()[variable]
        if "default" in question:
            assert question["min"] <= question["default"] <= question["max"]
    if question["type"] == "multiplechoice":
        assert question["default"] in question["choices"]


def test_stack_name_length_is_the_vpc_role_limit():
    with open(os.path.join(TOP, "roles", "vpc", "tasks", "validate.yml")) as handle:
        pattern = re.search(r"autostack_stack_name is match\('\^\[A-Za-z0-9\]\(\[A-Za-z0-9\]\|-\(\?!-\)\)\{0,(\d+)\}\$'\)", handle.read())
    assert pattern, "roles/vpc/tasks/validate.yml no longer checks the stack name as expected"
    question = QUESTIONS["autostack_stack_name"]
    assert (question["min"], question["max"]) == (1, int(pattern.group(1)) + 1)
    assert re.match(r"^[A-Za-z0-9]([A-Za-z0-9]|-(?!-)){0,39}$", question["default"]) and not question["default"].endswith("-")


def tags_of(playbook):
    """Every tag a playbook's plays, roles and tasks carry, through its imports."""
    found = set()

    def walk(node, base):
        if isinstance(node, dict):
            tags = node.get("tags", [])
            found.update([tags] if isinstance(tags, str) else tags)
            imported = node.get("ansible.builtin.import_playbook")
            if imported:
                path = os.path.join(base, imported)
                walk(load(path), os.path.dirname(path))
            for value in node.values():
                walk(value, base)
        elif isinstance(node, list):
            for value in node:
                walk(value, base)

    walk(load(os.path.join(TOP, playbook)), os.path.dirname(os.path.join(TOP, playbook)))
    return found


@pytest.mark.parametrize("name", LIFECYCLE)
def test_template_names_a_playbook_and_tags_it_has(name):
    template = TEMPLATES[name]
    assert os.path.exists(os.path.join(TOP, template["playbook"])), template["playbook"]
    for question in template["survey"]:
        assert question in QUESTIONS, "%s asks %s, which is no survey question" % (name, question)
    assert template["survey"][:2] == ["autostack_stack_name", "autostack_region"]
    wanted = set(filter(None, template["job_tags"].split(",")))
    missing = wanted - tags_of(template["playbook"])
    if missing == {"audit"} and not os.path.exists(os.path.join(TOP, "playbooks", "audit.yml")):
        pytest.skip("site.yml has no audit play yet (playbooks/audit.yml)")
    assert not missing, "%s: %s has no tag %s" % (name, template["playbook"], ", ".join(sorted(missing)))


def test_inventory_sources_are_the_project_inventories():
    paths = DATA_VARS["autostack_awx_inventory_paths"]
    assert DATA_VARS["autostack_awx_inventory_name"] in paths
    for path in paths.values():
        assert os.path.exists(os.path.join(TOP, path, "hosts.yml")), path


def test_project_sync_requirements_are_the_galaxy_dependencies():
    wanted = load(os.path.join(TOP, "galaxy.yml"))["dependencies"]
    synced = load(os.path.join(TOP, "collections", "requirements.yml"))["collections"]
    assert {entry["name"]: entry["version"] for entry in synced} == wanted
    tracked = subprocess.run(["git", "-C", TOP, "ls-files", "--error-unmatch", "collections/requirements.yml"],
                             capture_output=True, check=False)
    assert tracked.returncode == 0, "collections/requirements.yml is not tracked by git"


def test_awx_collection_is_required_for_configure():
    entries = load(os.path.join(TOP, "awx", "requirements.yml"))["collections"]
    assert entries == [{"name": "awx.awx", "version": ">=24.0.0"}]


# --- awx/configure.yml, no AWX ------------------------------------------------------------------

STUB_MODULE = '''
import json
import os
import sys

from ansible.module_utils.basic import _load_params


def main():
    params = _load_params()
    with open(os.environ["AWX_STUB_RECORD"], "a") as handle:
        handle.write(json.dumps({"module": "%s", "params": params}) + "\\n")
    print(json.dumps({"changed": True, "id": 1}))
    sys.exit(0)


if __name__ == "__main__":
    main()
'''
STUB_MODULES = ["project", "inventory", "inventory_source", "credential", "job_template"]


def configure(tmp_path, collections, *args):
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(TOP, "ansible.cfg"),
        # The checkout's own collections (this one, linked) and the given ones; not ~/.ansible.
        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([collections, os.path.join(TOP, "collections")]),
        ANSIBLE_FORCE_COLOR="0",
        AWS_ACCESS_KEY_ID="AKIAAWXTEST",
        AWS_SECRET_ACCESS_KEY="awx-secret",
        AWX_STUB_RECORD=str(tmp_path / "record.jsonl"),
    )
    env.pop("AWS_SESSION_TOKEN", None)
    command = [os.path.join(BIN, "ansible-playbook"), os.path.join(TOP, "awx", "configure.yml")] + list(args)
    return subprocess.run(command, cwd=TOP, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_configure_stops_early_without_awx_collection(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = configure(tmp_path, str(tmp_path / "empty"))
    assert proc.returncode != 0
    assert "The awx.awx collection (>= 24.0.0) is not installed" in proc.stdout, proc.stdout + proc.stderr
    assert "ansible-galaxy collection install -r awx/requirements.yml" in proc.stdout
    assert not (tmp_path / "record.jsonl").exists()


def test_configure_applies_the_data_with_awx_modules(tmp_path):
    """A stand-in awx.awx (modules that record their parameters) takes the place of a controller."""
    root = tmp_path / "collections" / "ansible_collections" / "awx" / "awx"
    (root / "plugins" / "modules").mkdir(parents=True)
    (root / "meta").mkdir()
    (root / "MANIFEST.json").write_text(json.dumps({"collection_info": {"namespace": "awx", "name": "awx", "version": "24.6.1"}}))
    (root / "meta" / "runtime.yml").write_text(yaml.safe_dump({"requires_ansible": ">=2.15.0", "action_groups": {"controller": STUB_MODULES}}))
    for module in STUB_MODULES:
        (root / "plugins" / "modules" / (module + ".py")).write_text(STUB_MODULE % module)
    proc = configure(tmp_path, str(tmp_path / "collections"), "-e", "autostack_awx_scm_url=https://git.example.org/me/wordpress.git",
                     "-e", "autostack_awx_controller_host=https://awx.example.org")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(tmp_path / "record.jsonl") as handle:
        calls = [json.loads(line) for line in handle]
    assert [call["module"] for call in calls] == STUB_MODULES[:4] + ["job_template"] * len(TEMPLATES)
    params = {call["module"]: call["params"] for call in calls}
    assert all(call["params"]["controller_host"] == "https://awx.example.org" for call in calls)
    assert params["project"]["scm_type"] == "git"
    assert params["project"]["scm_url"] == "https://git.example.org/me/wordpress.git"
    assert params["inventory_source"]["source"] == "scm"
    assert params["inventory_source"]["source_project"] == params["project"]["name"]
    assert params["inventory_source"]["source_path"] == "inventories/aws"
    assert params["credential"]["credential_type"] == "Amazon Web Services"
    assert params["credential"]["inputs"] == {"username": "AKIAAWXTEST", "password": "awx-secret"}
    assert "awx-secret" not in proc.stdout
    for call in calls[4:]:
        sent = call["params"]
        template = next(t for t in TEMPLATES.values() if t["name"] == sent["name"])
        assert (sent["playbook"], sent["job_tags"], sent["inventory"], sent["project"]) == (
            template["playbook"], template["job_tags"], params["inventory"]["name"], params["project"]["name"])
        assert sent["credentials"] == [params["credential"]["name"]]
        assert sent["survey_enabled"] is True
        assert sent["survey_spec"]["spec"] == survey_spec(template)


# --- the templates, run as AWX runs them -------------------------------------------------------


class Lifecycle:
    def __init__(self, emulator, directory):
        self.emulator = emulator
        self.directory = directory
        self.outputs_dir = str(directory / "outputs")
        self.destroyed = False
        self.results = {}

    def launch(self, name, **launch_vars):
        """One job of template ``name``: ansible_runner.run with what AWX would give it."""
        template = TEMPLATES[name]
        extravars = dict(template["extra_vars"])
        extravars.update(survey_defaults(template))
        extravars.update({"autostack_stack_name": STACK, "autostack_outputs_dir": self.outputs_dir, "ecs_local_port": PORT})
        extravars.update(launch_vars)
        envvars = {
            # What the "Amazon Web Services" credential type injects (its token as both names).
            "AWS_ACCESS_KEY_ID": self.emulator.env["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": self.emulator.env["AWS_SECRET_ACCESS_KEY"],
            "AWS_SESSION_TOKEN": "awx-session-token",
            "AWS_SECURITY_TOKEN": "awx-session-token",
            # On AWX the inventory (or a custom credential) would carry the endpoint.
            "AWS_ENDPOINT_URL": self.emulator.url,
            "ANSIBLE_CONFIG": os.path.join(TOP, "ansible.cfg"),
            "ANSIBLE_FORCE_COLOR": "0",
            "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
        }
        private_data_dir = self.directory / ("job-" + name)
        private_data_dir.mkdir()
        started = time.monotonic()
        result = ansible_runner.run(
            private_data_dir=str(private_data_dir),
            project_dir=TOP,
            playbook=template["playbook"],
            inventory=os.path.join(TOP, DATA_VARS["autostack_awx_inventory_paths"][INVENTORY]),
            extravars=extravars,
            envvars=envvars,
            tags=template["job_tags"] or None,
            quiet=True,
            timeout=900,
        )
        seconds = time.monotonic() - started
        TIMINGS[template["name"]] = round(seconds, 1)
        stats = result.stats or {}
        changed = stats.get("changed", {}).get("localhost", 0)
        print("\n%-32s %6.1f s  status=%s rc=%s changed=%s" % (template["name"], seconds, result.status, result.rc, changed))
        self.results[name] = result
        result.changed = changed
        return result

    def check(self, result):
        output = result.stdout.read() if result.stdout else ""
        assert (result.status, result.rc) == ("successful", 0), output[-20000:]
        assert result.stats["failures"] == {} and result.stats["dark"] == {}, result.stats
        return result

    def outputs(self):
        path = os.path.join(self.outputs_dir, STACK + ".json")
        if not os.path.exists(path):
            return None
        with open(path) as handle:
            return json.load(handle)


@pytest.fixture(scope="module")
def lifecycle(emulator, tmp_path_factory):
    stack = Lifecycle(emulator, tmp_path_factory.mktemp("awx"))
    yield stack
    if not stack.destroyed:
        stack.launch("destroy", ecr_force_delete=True, rds_skip_final_snapshot=True)
    # The stack's image under the test registry's name: nobody else uses it.
    engine = docker.from_env()
    for image in engine.images.list():
        for tag in image.tags:
            if tag.startswith("%s/%s/" % (emulator.registry, STACK)):
                engine.images.remove(tag)
    print("\nAWX job templates, seconds: %s" % json.dumps(TIMINGS, indent=2))


def needs(lifecycle, *names):
    for name in names:
        result = lifecycle.results.get(name)
        if result is None or result.status != "successful":
            pytest.skip("template %s did not run successfully" % name)


def test_infra_template_builds_the_infrastructure(lifecycle):
    result = lifecycle.check(lifecycle.launch("infra"))
    assert result.changed > 0
    outputs = lifecycle.outputs()
    assert outputs["stack"] == STACK
    assert outputs["endpoint_url"] == lifecycle.emulator.url
    assert {"region", "vpc_id", "rds_endpoint", "ecr_repository_uri", "ecs_cluster_name", "alb_dns_name"} <= set(outputs)
    assert not {"wp_image_uri", "ecs_task_definition_arn"} & set(outputs)
    # Two AZs: the local inventory's, since the survey leaves autostack_az_count to it.
    assert len(outputs["public_subnet_ids"]) == 2


def test_image_template_pushes_the_image(lifecycle):
    needs(lifecycle, "infra")
    result = lifecycle.check(lifecycle.launch("image"))
    assert result.changed > 0
    outputs = lifecycle.outputs()
    assert outputs["wp_image_uri"].startswith(outputs["ecr_repository_uri"] + ":")
    assert outputs["wp_image_digest"].startswith("sha256:")


def test_deploy_template_deploys_the_service(lifecycle):
    needs(lifecycle, "image")
    result = lifecycle.check(lifecycle.launch("deploy"))
    assert result.changed > 0
    outputs = lifecycle.outputs()
    assert {"ecs_service_name", "ecs_task_definition_arn", "wordpress_url"} <= set(outputs)
    service = lifecycle.emulator.client("ecs").describe_services(cluster=outputs["ecs_cluster_name"], services=[outputs["ecs_service_name"]])
    assert service["services"][0]["desiredCount"] == QUESTIONS["ecs_service_desired_count"]["default"]


def test_verify_template_runs_wordpress_locally(lifecycle):
    needs(lifecycle, "deploy")
    result = lifecycle.check(lifecycle.launch("verify"))
    assert result.changed > 0
    assert lifecycle.outputs()["wordpress_local_url"] == "http://127.0.0.1:%d/" % PORT


def test_site_template_finds_the_stack_converged(lifecycle):
    needs(lifecycle, "verify")
    result = lifecycle.check(lifecycle.launch("site"))
    assert result.changed == 0, result.stdout.read()[-20000:]
    assert result.stats["ok"]["localhost"] > 50


def test_audit_template_runs(lifecycle):
    needs(lifecycle, "site")
    result = lifecycle.check(lifecycle.launch("audit"))
    assert result.changed == 0
    actions = {event["event_data"].get("task_action") for event in result.events if event["event"] == "runner_on_ok"}
    if os.path.exists(os.path.join(TOP, "playbooks", "audit.yml")):
        # The security audit ran, and found no error on the stack the templates built.
        assert "autostack.wordpress.security_audit" in actions, sorted(filter(None, actions))
    # Only the audit: no role of a phase ran.
    assert not {action for action in actions if action and action.startswith(("amazon.aws.", "community.aws."))}, actions


def test_destroy_template_removes_the_stack(lifecycle):
    needs(lifecycle, "infra")
    lifecycle.destroyed = True
    result = lifecycle.check(lifecycle.launch("destroy", ecr_force_delete=True, rds_skip_final_snapshot=True))
    assert result.changed > 0
    # The audit found nothing left; with no final snapshot and the repository force-deleted, all that is kept
    # is the database's master secret, scheduled for deletion (recoverable for a while).
    outputs = lifecycle.outputs()
    assert set(outputs) == {"stack", "updated_at", "kept"}
    assert [(item["type"], item["name"]) for item in outputs["kept"]] == [("secret", STACK + "/rds/master")]
    ecs = lifecycle.emulator.client("ecs")
    # A deleted cluster stays listed for a while, INACTIVE (on AWS as on the local cloud).
    clusters = [arn for arn in ecs.list_clusters()["clusterArns"] if arn.endswith("/" + STACK)]
    if clusters:
        assert {cluster["status"] for cluster in ecs.describe_clusters(clusters=clusters)["clusters"]} == {"INACTIVE"}
    databases = lifecycle.emulator.client("rds").describe_db_instances()["DBInstances"]
    assert not [db for db in databases if db["DBInstanceIdentifier"] == STACK + "-db"]
    engine = docker.from_env()
    assert not [c.name for c in engine.containers.list(all=True) if c.name.startswith(STACK + "-")]
