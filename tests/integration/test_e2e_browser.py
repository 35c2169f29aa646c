"""End to end on the session's local cloud: a fresh stack through every phase, WordPress installed in
a browser, then destroyed.

playbooks/infrastructure.yml, image.yml (the image built and pushed to the emulated ECR), deploy.yml,
then verify.yml, whose role autostack.wordpress.ecs_local runs the deployed task definition on the local
Docker engine with a real MariaDB. The image is removed from the engine before the first verify so that
the local run must pull it from ECR's registry with ECR's credentials, as an ECS container instance does.

Headless Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by selenium) completes the
installer form with the administrator credentials kept in Secrets Manager, logs in and reads the home
page. Screenshots go to tests/output/e2e/<stack>/. ``make e2e`` runs this module alone; run with ``-s``
to see each playbook's time.
"""

import json
import os
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


def secret(emulator, name):
    return json.loads(emulator.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"])


@pytest.fixture(scope="module")
def engine():
    return docker.from_env()


@pytest.fixture(scope="module")
def stack(emulator, tmp_path_factory):
    """Infrastructure, image and deploy phases done for a stack of the test's own."""
    built = stack_support.Stack(emulator, tmp_path_factory.mktemp("e2e"), STACK, TIMINGS)
    built.all_output = []
    for playbook in ("infrastructure", "image", "deploy"):
        run = built.run("playbooks/%s.yml" % playbook, playbook + ".yml")
        built.all_output.append(run.output)
        run.check()
    yield built
    print("\ntimings (s): %s" % json.dumps(TIMINGS, indent=2))
    if not getattr(built, "destroyed", False):
        built.run("playbooks/destroy.yml", "destroy.yml (clean-up)", ecr_force_delete=True, rds_skip_final_snapshot=True)


@pytest.fixture(scope="module")
def deployed(emulator, stack):
    """The revision the deploy phase registered, read back from ECS."""
    arn = stack.outputs()["ecs_task_definition_arn"]
    return emulator.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]


@pytest.fixture(scope="module")
def first_verify(stack, deployed, engine):
    image = deployed["containerDefinitions"][0]["image"]
    engine.images.remove(image, force=True)
    run = stack.run("playbooks/verify.yml", "verify.yml (image pulled from ECR)", **LOCAL_VARS)
    stack.all_output.append(run.output)
    return run.check()


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


def test_verify_again_changes_nothing(stack, first_verify):
    run = stack.run("playbooks/verify.yml", "verify.yml again", **LOCAL_VARS).check()
    assert run.changed == 0, run.output[-6000:]


def test_check_mode_changes_nothing(stack, first_verify):
    run = stack.run("playbooks/verify.yml", "verify.yml --check --diff", "--check", "--diff", **LOCAL_VARS).check()
    assert run.changed == 0, run.output[-6000:]


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
    # Nothing left in the test's outputs directory but what destroy keeps.
    leftovers = os.listdir(stack.outputs_dir) if os.path.isdir(stack.outputs_dir) else []
    assert leftovers in ([], [STACK + ".json"])
    # The stack's image under the test registry's name: nobody else uses it.
    for image in engine.images.list():
        for tag in image.tags:
            if tag.startswith("%s/%s/" % (emulator.registry, STACK)):
                engine.images.remove(tag)
