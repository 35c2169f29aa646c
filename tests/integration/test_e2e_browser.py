"""End to end on the session's local cloud: a fresh stack built through interrupted runs, converged,
checked for duplicates, idempotent, WordPress installed in a browser, then destroyed.

The build is interrupted at seven points spread over the phases (INTERRUPTIONS: SIGINT as a terminal's
Ctrl-C sends it, SIGKILL as a CI runner's kill does, each to the whole process group), each phase playbook
re-run after the previous interruption, then ``site.yml -vvv`` runs to the end. The stack must converge
with no duplicates (stack_audit's counts per resource type, one ACTIVE task definition revision per
image, one image tag), the next ``site.yml`` reports changed=0 and ``site.yml --check --diff`` too.

playbooks/verify.yml's role autostack.wordpress.ecs_local runs the deployed task definition on the local
Docker engine with a real MariaDB. The image and the container are then removed from the engine and
verify.yml runs again, so that the local run must pull the image from ECR's registry with ECR's
credentials, as an ECS container instance does.

Headless Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by selenium) completes the
installer form with the administrator credentials kept in Secrets Manager, logs in and reads the home
page. A new revision replaces the container; the local database killed during verify.yml gives a bounded
failure naming it. Screenshots go to tests/output/e2e/<stack>/. Finally destroy.yml, whose own audit fails on any
leftover; no secret value (database and administrator passwords, the 8 keys and salts) may appear in any
run's output, -vvv included, or in any file the runs wrote outside the secret store.
``make e2e`` runs this module alone; run with ``-s`` to see each playbook's time.
"""

import json
import os
import signal
import time
import urllib.error
import urllib.request
import uuid

import docker
import pytest
import stack_support
from conftest import free_port

STACK = "e2e%s" % uuid.uuid4().hex[:6]
TIMINGS = {}
PORT = free_port()
URL = "http://127.0.0.1:%d/" % PORT
ARTIFACTS = os.path.join(stack_support.TOP, "tests", "output", "e2e", STACK)
SITE_TITLE = "autostack e2e %s" % STACK
# Offline, WordPress must not try wordpress.org (translations, updates): the local run's extra
# environment, which a person running `make up` does not get.
LOCAL_VARS = {
    "ecs_local_port": PORT,
    "ecs_local_environment": {"WORDPRESS_CONFIG_EXTRA": "define('WP_HTTP_BLOCK_EXTERNAL', true);"},
}
# (command, the task whose start is the moment, signal, seconds after that start). Each command runs
# after the previous one was interrupted; a phase that needs the previous one's result re-runs it first
# (site.yml with tags), as a user would. Then site.yml runs to the end.
INTERRUPTIONS = [
    (["playbooks/infrastructure.yml"], "TASK [autostack.wordpress.vpc : Create the NAT gateways]", signal.SIGINT, 0.5),
    (["playbooks/infrastructure.yml"], "TASK [autostack.wordpress.rds : Ensure the database instance exists]", signal.SIGKILL, 0.5),
    (["playbooks/infrastructure.yml"], "TASK [autostack.wordpress.asg : Create or update the Auto Scaling group]", signal.SIGKILL, 0.5),
    (["playbooks/infrastructure.yml"], "TASK [autostack.wordpress.alb : Ensure the load balancer exists]", signal.SIGINT, 0.5),
    (["site.yml", "--tags", "infra,image"], "TASK [autostack.wordpress.wp_image : Install Apache, PHP and the WordPress packages]", signal.SIGKILL, 5),
    (["site.yml", "--tags", "image,deploy"], "TASK [autostack.wordpress.ecs_service : Tag the task definition revision]", signal.SIGKILL, 0),
    (["site.yml", "--tags", "deploy,verify"], "TASK [autostack.wordpress.localdb : Wait for the database container to be healthy]", signal.SIGINT, 0.5),
]
# What a converged stack of inventories/local (2 AZs, one NAT gateway) holds, per stack_audit type.
EXPECTED_COUNTS = {
    "vpc": 1, "subnet": 4, "internet_gateway": 1, "nat_gateway": 1, "elastic_ip": 1, "security_group": 3,
    "launch_template": 1, "autoscaling_group": 1, "load_balancer": 1, "target_group": 1, "ecs_cluster": 1,
    "ecs_capacity_provider": 1, "ecs_service": 1, "db_instance": 1, "db_subnet_group": 1, "ecr_repository": 1,
    "log_group": 1,
}
# The entrypoint's wait for its database in the database-down test (seconds).
DB_WAIT = 15
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http_get(url):
    """(status, Location) of a GET, redirects not followed."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.headers.get("Location")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location")


def files_written_since(started, roots):
    """Regular files under ``roots`` modified since ``started`` (not .git, .venv, nor the registry's image layers).

    The layers hold the image, which holds no secret (its entrypoint reads them when a container starts).
    """
    for root in roots:
        for directory, subdirectories, files in os.walk(root):
            subdirectories[:] = [name for name in subdirectories if name not in (".git", ".venv", "blobs")]
            for name in files:
                path = os.path.join(directory, name)
                try:
                    if os.path.isfile(path) and not os.path.islink(path) and os.stat(path).st_mtime >= started:
                        yield path
                except OSError:
                    continue  # gone since listed


def file_holds_any(path, values):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    return any(value.encode() in data for value in values)


def secret(emulator, name):
    return json.loads(emulator.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"])


@pytest.fixture(scope="module")
def engine():
    return docker.from_env()


@pytest.fixture(scope="module")
def stack(emulator, tmp_path_factory):
    """The stack of this module, destroyed at the end whatever happened."""
    built = stack_support.Stack(emulator, tmp_path_factory.mktemp("e2e"), STACK, TIMINGS)
    built.all_output = []
    built.started = time.time()
    yield built
    print("\ntimings (s): %s" % json.dumps(TIMINGS, indent=2))
    if not getattr(built, "destroyed", False):
        built.run("playbooks/destroy.yml", "destroy.yml (clean-up)", ecr_force_delete=True, rds_skip_final_snapshot=True)


@pytest.fixture(scope="module")
def converged(stack):
    """The stack built through INTERRUPTIONS, then site.yml -vvv to the end."""
    stack.interruptions = []
    for command, marker, signum, delay in INTERRUPTIONS:
        label = "%s, %s at %s" % (" ".join(command).replace("playbooks/", ""), signal.Signals(signum).name, marker.split(": ", 1)[-1].rstrip("]"))
        run = stack.interrupt(command[0], label[:60], marker, signum, *(command[1:] + ["-vvv"]), delay=delay, **LOCAL_VARS)
        stack.all_output.append(run.output)
        stack.interruptions.append((marker, signum, run))
    run = stack.run("site.yml", "site.yml -vvv (converges)", "-vvv", **LOCAL_VARS)
    stack.all_output.append(run.output)
    return run.check()


@pytest.fixture(scope="module")
def deployed(emulator, stack, converged):
    """The revision the deploy phase registered, read back from ECS."""
    arn = stack.outputs()["ecs_task_definition_arn"]
    return emulator.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]


@pytest.fixture(scope="module")
def first_verify(stack, deployed, engine):
    """verify.yml with neither the container nor its image on the engine: the image comes from ECR."""
    image = deployed["containerDefinitions"][0]["image"]
    engine.containers.get(STACK + "-wordpress").remove(force=True)
    engine.images.remove(image, force=True)
    run = stack.run("playbooks/verify.yml", "verify.yml (image pulled from ECR)", **LOCAL_VARS)
    stack.all_output.append(run.output)
    return run.check()


def test_each_interruption_stopped_its_run(stack, converged):
    assert len(stack.interruptions) >= 5
    phases = {marker.split(".", 2)[-1].split(" :")[0] for marker, _signum, _run in stack.interruptions}
    assert {"vpc", "rds", "asg", "alb", "wp_image", "ecs_service", "localdb"} <= phases
    for marker, signum, run in stack.interruptions:
        assert run.acted, "the run ended before %s: %s" % (marker, run.output[-3000:])
        assert run.proc.returncode != 0, marker
        # Ctrl-C stops ansible-playbook promptly, without a traceback.
        if signum == signal.SIGINT:
            assert run.after_action < 60, (marker, run.after_action)
            assert "Traceback" not in run.output, run.output[-3000:]


def test_the_stack_converged_without_duplicates(emulator, stack, converged, engine):
    audit = stack.audit()
    # The audit calls a repository that holds images "kept": count both lists.
    found = audit["leftovers"] + audit["kept"]
    counts = {kind: len([item for item in found if item["type"] == kind]) for kind in EXPECTED_COUNTS}
    assert counts == EXPECTED_COUNTS, json.dumps(found, indent=1)
    print("stack_audit looked at %d resource types" % len(audit["resource_types_audited"]))
    # One ACTIVE task definition revision per image: the revision registered by the killed run is reused.
    ecs = emulator.client("ecs")
    family = stack.outputs()["ecs_task_definition_arn"].rsplit("/", 1)[1].split(":")[0]
    arns = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]
    images = [ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["containerDefinitions"][0]["image"] for arn in arns]
    assert len(images) == len(set(images)) == 1, images
    # One image in ECR, under one tag: the build killed half-way left nothing behind.
    repository = stack.outputs()["ecr_repository_name"]
    details = emulator.client("ecr").describe_images(repositoryName=repository)["imageDetails"]
    assert [image.get("imageTags") for image in details] == [[stack.outputs()["wp_image_tag"]]], details
    # Locally: one WordPress container, one database, their carriers; no build container left.
    names = sorted(c.name for c in engine.containers.list(all=True) if c.name.startswith(STACK + "-"))
    assert not [name for name in names if "build" in name], names
    assert len([name for name in names if name == STACK + "-wordpress"]) == 1, names


def container(engine):
    return engine.containers.get(STACK + "-wordpress")


def test_verify_runs_the_deployed_revision(stack, deployed, first_verify, engine):
    wordpress = container(engine)
    definition = deployed["containerDefinitions"][0]
    assert wordpress.status == "running"
    assert wordpress.attrs["State"]["Health"]["Status"] == "healthy"
    assert wordpress.attrs["Config"]["Image"] == definition["image"]
    assert wordpress.labels["org.autostack.task-definition"] == deployed["taskDefinitionArn"]
    # The image came back from the registry.
    assert engine.images.get(definition["image"]).id
    environment = dict(item.split("=", 1) for item in wordpress.attrs["Config"]["Env"])
    for variable in definition["environment"]:
        assert environment[variable["name"]] == variable["value"], variable["name"]
    # Secrets as files only: the _FILE names, never the values.
    for variable in definition["secrets"]:
        assert variable["name"] not in environment
        assert environment[variable["name"] + "_FILE"] == "/run/secrets/wordpress/" + variable["name"]
    assert wordpress.attrs["HostConfig"]["Memory"] == int(deployed["memory"]) * 1024 * 1024
    assert wordpress.attrs["HostConfig"]["CpuShares"] == int(deployed["cpu"])
    health = wordpress.attrs["Config"]["Healthcheck"]
    assert health["Test"] == definition["healthCheck"]["command"]
    assert health["Interval"] == definition["healthCheck"]["interval"] * 10**9
    # Published on loopback only.
    bindings = wordpress.attrs["HostConfig"]["PortBindings"]
    assert bindings == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(PORT)}]}
    assert stack.outputs()["wordpress_local_url"] == URL


def test_the_rds_endpoint_name_leads_to_the_local_database(emulator, stack, first_verify, engine):
    rds = secret(emulator, stack.outputs()["rds_master_secret_arn"])
    code, out = container(engine).exec_run(["getent", "hosts", rds["host"]])
    assert code == 0, out
    database = engine.containers.get(STACK + "-db")
    network = database.attrs["NetworkSettings"]["Networks"][STACK + "-local"]
    assert out.decode().split()[0] == network["IPAddress"]


def test_no_secret_value_in_the_container_configuration(emulator, stack, first_verify, engine):
    outputs = stack.outputs()
    values = list(secret(emulator, outputs["wordpress_keys_secret_arn"]).values())
    values.append(secret(emulator, outputs["rds_master_secret_arn"])["password"])
    inspected = json.dumps(container(engine).attrs)
    assert not [value for value in values if value in inspected]


def test_wordpress_answers_with_its_installer(first_verify):
    status, location = http_get(URL)
    assert status == 302 and location.endswith("/wp-admin/install.php"), (status, location)


def test_second_site_run_changes_nothing(stack, first_verify):
    run = stack.run("site.yml", "site.yml again", **LOCAL_VARS).check()
    stack.all_output.append(run.output)
    assert run.changed == 0, run.output[-8000:]


def test_site_check_mode_with_diff_changes_nothing(stack, first_verify):
    run = stack.run("site.yml", "site.yml --check --diff", "--check", "--diff", **LOCAL_VARS).check()
    stack.all_output.append(run.output)
    assert run.changed == 0 and run.failed == 0, run.output[-8000:]


def test_bad_port_fails_before_anything_changes(stack, first_verify, engine):
    before = container(engine).id
    run = stack.run("playbooks/verify.yml", "verify.yml, bad port", **dict(LOCAL_VARS, ecs_local_port=0))
    assert run.proc.returncode != 0
    assert "ecs_local_port=0" in run.output
    assert container(engine).id == before and container(engine).status == "running"


@pytest.fixture(scope="module")
def browser():
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.fail("%s is missing: tools/setup.sh installs Debian's chromium and chromium-driver" % path)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1024",
                     "--no-proxy-server", "--disable-gpu"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


def shot(browser, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    browser.save_screenshot(os.path.join(ARTIFACTS, name + ".png"))


def wait_for(browser, css, seconds=60):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))


def fill(browser, css, value):
    element = wait_for(browser, css)
    browser.execute_script("arguments[0].value = '';", element)
    element.clear()
    element.send_keys(value)
    return element


def log_in(browser, user, password):
    """Fill the login form as a person would, once wp-login.php's own script is done with it.

    wp-login.php focuses and selects ``#user_login`` 200 ms after the page loads (``wp_attempt_focus``).
    Typing before that moment can send the rest of the password into the user field on a busy machine,
    so wait for that focus first, and check both fields before submitting.
    """
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    wait_for(browser, "#user_login")
    try:
        WebDriverWait(browser, 10).until(
            lambda driver: driver.execute_script("return document.activeElement && document.activeElement.id") == "user_login")
    except TimeoutException:
        pass  # a login page without the focus script: nothing to wait for
    for _attempt in range(3):
        user_field = fill(browser, "#user_login", user)
        password_field = fill(browser, "#user_pass", password)
        if user_field.get_property("value") == user and password_field.get_property("value") == password:
            break
    else:
        pytest.fail("the login form did not keep what was typed into it")
    browser.find_element("css selector", "#wp-submit").click()


def test_browser_installs_wordpress_and_logs_in(emulator, stack, first_verify, browser):
    admin = secret(emulator, stack.outputs()["wordpress_admin_secret_name"])
    assert set(admin) == {"user", "email", "password"}
    stack.admin_password = admin["password"]

    browser.get(URL)
    wait_for(browser, "#setup")
    shot(browser, "1-installer")
    assert "/wp-admin/install.php" in browser.current_url
    fill(browser, "#weblog_title", SITE_TITLE)
    fill(browser, "#user_login", admin["user"])
    fill(browser, "#pass1", admin["password"])
    fill(browser, "#admin_email", admin["email"])
    # A password the strength meter calls weak needs its confirmation ticked.
    weak = browser.find_elements("css selector", "input.pw-checkbox")
    if weak and weak[0].is_displayed() and not weak[0].is_selected():
        weak[0].click()
    browser.find_element("css selector", "#submit").click()
    wait_for(browser, "a.button-large, .wp-login-log-in, p.step a")
    shot(browser, "2-installed")
    assert "Success" in browser.page_source

    browser.get(URL + "wp-login.php")
    log_in(browser, admin["user"], admin["password"])
    wait_for(browser, "#wpadminbar, #login_error")
    errors = browser.find_elements("css selector", "#login_error")
    if errors:
        shot(browser, "3-login-failed")
        pytest.fail("the login form refused the administrator: %s" % errors[0].text)
    shot(browser, "3-dashboard")
    assert "Dashboard" in browser.title

    browser.get(URL)
    wait_for(browser, "body")
    shot(browser, "4-home")
    assert SITE_TITLE in browser.title


def test_a_new_revision_replaces_the_container(emulator, stack, first_verify, engine):
    before = container(engine).id
    deploy = stack.deploy("deploy.yml, ecs_service_debug=true", ecs_service_debug=True).check()
    stack.all_output.append(deploy.output)
    revision = stack.outputs()["ecs_task_definition_arn"]
    assert revision.endswith(":2"), revision
    verify = stack.run("playbooks/verify.yml", "verify.yml, revision 2", **LOCAL_VARS).check()
    stack.all_output.append(verify.output)
    # The container only: the secrets carrier, the files and the database stay as they are.
    assert verify.changed == 1, verify.output[-6000:]
    wordpress = container(engine)
    assert wordpress.id != before
    assert wordpress.labels["org.autostack.task-definition"] == revision
    assert "WORDPRESS_DEBUG=true" in wordpress.attrs["Config"]["Env"]
    # Installed in the browser before, on the same database: the site itself now.
    assert http_get(URL)[0] == 200


def test_database_down_during_verify_is_named(stack, first_verify, engine):
    """The local database killed while verify.yml runs: a bounded failure that says the database is unreachable."""
    database = STACK + "-db"
    # The entrypoint's wait for the database shortened, so that the fault is reported in seconds.
    local_vars = dict(LOCAL_VARS, ecs_local_environment=dict(LOCAL_VARS["ecs_local_environment"], WORDPRESS_DB_WAIT_TIMEOUT=str(DB_WAIT)))
    # The database is up and healthy once the role moves on to the administrator's secret; killed then, it is
    # down when the WordPress container (new: its environment changed) starts and waits for it.
    run = stack.run_until("playbooks/verify.yml", "verify.yml, database killed",
                          "TASK [autostack.wordpress.ecs_local : Ensure the WordPress administrator's secret exists",
                          lambda proc: engine.containers.get(database).kill(), timeout=600, **local_vars)
    stack.all_output.append(run.output)
    output = " ".join(run.output.split())
    assert run.acted, output[-5000:]
    assert run.proc.returncode != 0 and run.failed == 1, output[-5000:]
    assert run.after_action < DB_WAIT + 90, "the run went on for %.0f s after the database stopped" % run.after_action
    assert "WordPress container %s-wordpress" % STACK in output
    # Docker restarts the container (restart policy unless-stopped): the exit code is gone, its message is quoted.
    assert "its entrypoint exited and Docker restarted it" in output or "exit code 69" in output
    assert "not reachable over TCP after %ds" % DB_WAIT in output
    assert "The database is not reachable: nothing answered on" in output
    assert "The local database container %s must run on the network %s-local" % (database, STACK) in output


def test_destroy_leaves_nothing_local_and_no_secret_in_any_output(emulator, stack, first_verify, engine):
    outputs = stack.outputs()
    values = list(secret(emulator, outputs["wordpress_keys_secret_arn"]).values())
    values.append(secret(emulator, outputs["rds_master_secret_arn"])["password"])
    values.append(secret(emulator, outputs["wordpress_admin_secret_name"])["password"])
    assert len(values) == 10

    run = stack.run("playbooks/destroy.yml", "destroy.yml", ecr_force_delete=True, rds_skip_final_snapshot=True)
    stack.all_output.append(run.output)
    run.check()
    stack.destroyed = True

    assert not [c.name for c in engine.containers.list(all=True) if c.name.startswith(STACK + "-")]
    assert not [v.name for v in engine.volumes.list() if v.name.startswith(STACK + "-")]
    assert not [n.name for n in engine.networks.list() if n.name.startswith(STACK + "-")]
    names = [s["Name"] for s in emulator.client("secretsmanager").list_secrets()["SecretList"]]
    assert not [name for name in names if name.startswith(STACK + "/wordpress")]
    everything = "\n".join(stack.all_output)
    assert not [value for value in values if value in everything]
    # The -vvv runs are in it (their connection lines), module arguments and results included.
    assert any("ESTABLISH LOCAL CONNECTION" in output for output in stack.all_output)
    # Nor in any file the runs wrote outside the secret store (the emulator's memory).
    written = list(files_written_since(stack.started, [stack_support.TOP, str(stack.directory), emulator.state_dir,
                                                       os.path.expanduser("~/.ansible"), os.path.expanduser("~/.docker")]))
    assert written, "no file written since the module started: the scan looks in the wrong places"
    leaks = [path for path in written if file_holds_any(path, values)]
    assert not leaks, leaks
    # Nothing left in the test's outputs directory but what destroy keeps.
    leftovers = os.listdir(stack.outputs_dir) if os.path.isdir(stack.outputs_dir) else []
    assert leftovers in ([], [STACK + ".json"])
    # The stack's image under the test registry's name: nobody else uses it.
    for image in engine.images.list():
        for tag in image.tags:
            if tag.startswith("%s/%s/" % (emulator.registry, STACK)):
                engine.images.remove(tag)
