"""The built WordPress image, run for real against a real MariaDB (the localdb role).

The image is ``AUTOSTACK_TEST_WP_IMAGE`` when that is set (to develop against an image built
already); otherwise the wp_image role builds it, kept on the local engine under a name of this
run, and removes it afterwards. The database is the localdb role's MariaDB container on a
network of its own, removed at the end with ``localdb_state=absent``.

Every container, volume and network is named after this run (``autostack-test-<id>-...``) and
removed in teardown; every wait is bounded. Ports are published on 127.0.0.1 only, chosen by
Docker. Secret values go to ``docker run`` through its environment (``-e NAME``), never its
command line.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(TOP, "tests", "integration", "playbooks")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
RUN_ID = uuid.uuid4().hex[:8]
PREFIX = "autostack-test-%s" % RUN_ID

SALTS = [
    "WORDPRESS_AUTH_KEY",
    "WORDPRESS_SECURE_AUTH_KEY",
    "WORDPRESS_LOGGED_IN_KEY",
    "WORDPRESS_NONCE_KEY",
    "WORDPRESS_AUTH_SALT",
    "WORDPRESS_SECURE_AUTH_SALT",
    "WORDPRESS_LOGGED_IN_SALT",
    "WORDPRESS_NONCE_SALT",
]
SECRET_NAMES = ["WORDPRESS_DB_PASSWORD"] + SALTS

# Bounds of the waits. The image's healthcheck runs every 10 s (start period 90 s).
START_TIMEOUT = 90
HEALTHY_TIMEOUT = 150
STOP_LIMIT = 10


def _docker_available():
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = pytest.mark.skipif(not _docker_available(), reason="needs a running Docker engine")


def docker(*args, env=None, timeout=60, check=True):
    proc = subprocess.run(["docker", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("docker %s failed (exit %d): %s" % (" ".join(args[:3]), proc.returncode, proc.stderr))
    return proc


def run_playbook(playbook, extra_vars, env=None, timeout=1800, options=()):
    run_env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(TOP, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", PY_COLORS="0")
    run_env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + run_env.get("PATH", "")
    run_env.update(env or {})
    return subprocess.run(
        [ANSIBLE_PLAYBOOK, os.path.join(PLAYBOOKS, playbook), "-e", json.dumps(extra_vars), *options],
        cwd=TOP,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def leftovers():
    """Containers, volumes and networks of this run still on the engine."""
    found = []
    for kind, listing in (
        ("container", ["ps", "-a", "--format", "{{.Names}}"]),
        ("volume", ["volume", "ls", "--format", "{{.Name}}"]),
        ("network", ["network", "ls", "--format", "{{.Name}}"]),
    ):
        found += [(kind, name) for name in docker(*listing).stdout.split() if name.startswith(PREFIX)]
    return found


def recap(output):
    """(changed, failed) of localhost in a play recap."""
    match = re.search(r"^localhost\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", output, re.M)
    assert match, "no play recap in:\n" + output[-5000:]
    return int(match.group(1)), int(match.group(2))


@dataclass
class LocalDB:
    host: str
    network: str
    database: str
    user: str
    password: str
    extra_vars: dict


@pytest.fixture(scope="module")
def localdb(tmp_path_factory):
    """The localdb role's MariaDB for this run; torn down with the role, then checked to be gone."""
    outputs = tmp_path_factory.mktemp("localdb-outputs")
    extra = {"autostack_stack_name": PREFIX, "autostack_outputs_dir": str(outputs)}
    # Letters, digits, - and _: within RDS's rule, which the role applies.
    password = secrets.token_urlsafe(24)
    try:
        proc = run_playbook("localdb.yml", extra, env={"LOCALDB_TEST_PASSWORD": password})
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, "localdb role failed:\n" + output[-15000:]
        assert password not in output, "the localdb role logged the password"
        with open(os.path.join(outputs, PREFIX + ".json"), encoding="utf-8") as handle:
            recorded = json.load(handle)
        yield LocalDB(recorded["localdb_host"], recorded["localdb_network"], "wordpress", "wpadmin", password, extra)
    finally:
        proc = run_playbook("localdb.yml", dict(extra, localdb_state="absent"), timeout=600)
        left = leftovers()
        for kind, name in left:
            docker(kind, "rm", *(["-f"] if kind != "network" else []), name, check=False)
        assert proc.returncode == 0, "localdb teardown failed:\n" + (proc.stdout + proc.stderr)[-15000:]
        assert not left, "left behind after the localdb teardown: %s" % left


@pytest.fixture(scope="module")
def wp_image(tmp_path_factory):
    """Reference of the WordPress image under test."""
    given = os.environ.get("AUTOSTACK_TEST_WP_IMAGE")
    if given:
        docker("image", "inspect", given)
        yield given
        return
    repository = "autostack-test/wordpress-%s" % RUN_ID
    outputs = tmp_path_factory.mktemp("wp-image-outputs")
    try:
        proc = run_playbook(
            "wp_image.yml",
            {"autostack_stack_name": PREFIX, "autostack_outputs_dir": str(outputs), "wp_image_repository": repository},
        )
        assert proc.returncode == 0, "wp_image role failed:\n" + (proc.stdout + proc.stderr)[-15000:]
        refs = docker("image", "ls", repository, "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
        assert len(refs) == 1, "expected one image in %s after the build, found %s" % (repository, refs)
        yield refs[0]
    finally:
        for name in (repository, repository + "-failed"):
            for ref in docker("image", "ls", name, "--format", "{{.Repository}}:{{.Tag}}", check=False).stdout.split():
                docker("image", "rm", ref, check=False)


@pytest.fixture(scope="module")
def image_port(wp_image):
    """The port the image listens on (80, or 8080 for the non-root variant)."""
    config = json.loads(docker("image", "inspect", "--format", "{{json .Config}}", wp_image).stdout)
    label = (config.get("Labels") or {}).get("org.autostack.port")
    exposed = list(config.get("ExposedPorts") or {})
    assert label and exposed == ["%s/tcp" % label], "image port: label %r, exposed %r" % (label, exposed)
    return int(label)


@pytest.mark.parametrize("options", [(), ("--check", "--diff")], ids=["second-run", "check-mode"])
def test_localdb_role_changes_nothing_on_a_running_database(localdb, options):
    proc = run_playbook(
        "localdb.yml", localdb.extra_vars, env={"LOCALDB_TEST_PASSWORD": localdb.password}, options=options
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-15000:]
    assert recap(output) == (0, 0), output[-15000:]
    assert localdb.password not in output, "the localdb role logged the password"


def good_env(db):
    env = {
        "WORDPRESS_DB_HOST": db.host,
        "WORDPRESS_DB_NAME": db.database,
        "WORDPRESS_DB_USER": db.user,
        "WORDPRESS_DB_PASSWORD": db.password,
    }
    env.update({name: secrets.token_hex(32) for name in SALTS})
    return env


@dataclass
class Exited:
    name: str
    code: int
    stdout: str
    stderr: str
    seconds: float


@dataclass
class Serving:
    wp: WordPress
    name: str
    env: dict


class WordPress:
    """Starts containers of the image on the database's network; removes them all at the end."""

    def __init__(self, image, port, db):
        self.image = image
        self.port = port
        self.db = db
        self.names = []

    def _args(self, env, mounts):
        name = "%s-wp-%s" % (PREFIX, uuid.uuid4().hex[:6])
        self.names.append(name)
        args = ["--name", name, "--network", self.db.network]
        for source, target in mounts:
            args += ["--mount", "type=bind,source=%s,target=%s,readonly" % (source, target)]
        # Names only: docker takes the values from its own environment.
        for key in env:
            args += ["-e", key]
        return name, args, dict(os.environ, **env)

    def start(self, env, mounts=()):
        name, args, proc_env = self._args(env, mounts)
        docker("run", "-d", "-p", "127.0.0.1::%d" % self.port, *args, self.image, env=proc_env)
        return name

    def run(self, env, timeout=120):
        """Runs in the foreground until the container exits."""
        name, args, proc_env = self._args(env, ())
        started = time.monotonic()
        proc = docker("run", *args, self.image, env=proc_env, timeout=timeout, check=False)
        return Exited(name, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)

    def url(self, name, path):
        mapping = docker("port", name, "%d/tcp" % self.port).stdout.split()
        addresses = [m for m in mapping if m.startswith("127.0.0.1:")]
        assert addresses, "container %s publishes %s, not on 127.0.0.1" % (name, mapping)
        return "http://%s%s" % (addresses[0], path)

    def remove_all(self):
        for name in self.names:
            docker("rm", "-f", "-v", name, check=False)


@pytest.fixture
def wordpress(wp_image, image_port, localdb):
    wp = WordPress(wp_image, image_port, localdb)
    yield wp
    wp.remove_all()


def state(name):
    return json.loads(docker("inspect", "--format", "{{json .State}}", name).stdout)


def logs(name):
    proc = docker("logs", name, check=False)
    return proc.stdout + proc.stderr


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


def wait_http_200(wp, name, path, timeout=START_TIMEOUT):
    """Body of the first 200 answer; fails at once when the container stops."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        current = state(name)
        if not current["Running"]:
            raise AssertionError(
                "container %s stopped (exit %s) before %s answered 200:\n%s"
                % (name, current["ExitCode"], path, logs(name))
            )
        try:
            status, body = http_get(wp.url(name, path))
            if status == 200:
                return body
            last = "HTTP %d: %s" % (status, body[:500])
        except (OSError, urllib.error.URLError) as err:
            last = str(err)
        if time.monotonic() > deadline:
            raise AssertionError("%s on %s: no 200 after %d s (last: %s)\n%s" % (path, name, timeout, last, logs(name)))
        time.sleep(1)


def wait_healthy(name, timeout=HEALTHY_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        current = state(name)
        health = current.get("Health") or {}
        if health.get("Status") == "healthy":
            return
        if not current["Running"] or health.get("Status") == "unhealthy" or time.monotonic() > deadline:
            raise AssertionError(
                "container %s not healthy after %d s: running %s, health %s, last checks %s\n%s"
                % (name, timeout, current["Running"], health.get("Status"), health.get("Log", [])[-2:], logs(name))
            )
        time.sleep(1)


@pytest.fixture(scope="module")
def serving(wp_image, image_port, localdb):
    """One container started with a good environment and serving; shared by the read-only checks."""
    wp = WordPress(wp_image, image_port, localdb)
    env = good_env(localdb)
    try:
        name = wp.start(env)
        wait_http_200(wp, name, "/healthz.php")
        yield Serving(wp, name, env)
    finally:
        wp.remove_all()


def test_health_endpoint_answers_ok(serving):
    status, body = http_get(serving.wp.url(serving.name, "/healthz.php"))
    assert (status, body.strip()) == (200, "ok")


def test_installer_answers_on_a_fresh_database(serving):
    status, body = http_get(serving.wp.url(serving.name, "/wp-admin/install.php"))
    assert status == 200, body[:2000]
    assert "WordPress" in body and "install" in body.lower(), body[:2000]


def test_container_becomes_healthy(serving):
    wait_healthy(serving.name)


def test_apache_is_pid_1(serving):
    assert docker("exec", serving.name, "cat", "/proc/1/comm").stdout.strip() == "apache2"


def test_secrets_are_not_in_the_environment_of_apache(serving):
    # The environment of PID 1 and of every Apache process (the workers PHP runs in). A `docker exec`
    # gets the container's configured environment, so the exec'd shell prints only the others'.
    script = (
        'for p in /proc/[0-9]*; do [ "$(cat "$p/comm" 2>/dev/null)" = apache2 ] || continue; '
        'echo "== ${p#/proc/}"; tr "\\0" "\\n" < "$p/environ"; echo; done'
    )
    listing = docker("exec", serving.name, "sh", "-c", script).stdout
    # Messages name processes and variables, never values (test secrets, but secrets in a CI log all the same).
    pids = [line[3:] for line in listing.splitlines() if line.startswith("== ")]
    assert "1" in pids, "PID 1 is not apache2; apache2 processes: %s" % pids
    names = {line.split("=", 1)[0] for line in listing.splitlines() if "=" in line and not line.startswith("==")}
    assert not names & (set(SECRET_NAMES) | {n + "_FILE" for n in SECRET_NAMES}), sorted(names)
    for secret_name in SECRET_NAMES:
        assert serving.env[secret_name] not in listing, (
            "the value of %s is in an Apache process's environment" % secret_name
        )


def test_secrets_are_not_in_the_logs(serving):
    http_get(serving.wp.url(serving.name, "/wp-admin/install.php"))
    output = logs(serving.name)
    for secret_name in SECRET_NAMES:
        assert serving.env[secret_name] not in output, "the value of %s is in the container's log" % secret_name


def test_secrets_from_files(wordpress, localdb, tmp_path):
    env = good_env(localdb)
    mounts = []
    for secret_name in ("WORDPRESS_DB_PASSWORD", "WORDPRESS_AUTH_KEY"):
        path = tmp_path / secret_name.lower()
        # A trailing newline, as editors and secret stores write files; it is no part of the value.
        path.write_text(env.pop(secret_name) + "\n", encoding="utf-8")
        path.chmod(0o444)
        target = "/run/secrets/" + secret_name.lower()
        mounts.append((str(path), target))
        env[secret_name + "_FILE"] = target
    name = wordpress.start(env, mounts)
    # Apache starts only after a real login to the database with the password from the file.
    wait_http_200(wordpress, name, "/healthz.php")
    status, body = http_get(wordpress.url(name, "/wp-admin/install.php"))
    assert status == 200, body[:2000]


def test_value_and_file_together_are_refused(wordpress, localdb, tmp_path):
    env = good_env(localdb)
    env["WORDPRESS_DB_PASSWORD_FILE"] = "/etc/hostname"
    exited = wordpress.run(env)
    assert exited.code == 64, exited.stderr
    assert exited.stderr.startswith("autostack-entrypoint: WORDPRESS_DB_PASSWORD"), exited.stderr
    assert localdb.password not in exited.stdout + exited.stderr


@pytest.mark.parametrize("down", ["refused", "no-container"])
def test_database_unreachable_exits_69_after_the_timeout(wordpress, localdb, down):
    env = good_env(localdb)
    if down == "refused":
        # The database's host, on a port where nothing listens: every connection is refused.
        host, port = localdb.host, 3307
    else:
        # A database container that is not running: its name does not resolve on the network.
        host, port = PREFIX + "-stopped-db", 3306
    env.update(WORDPRESS_DB_HOST="%s:%d" % (host, port), WORDPRESS_DB_WAIT_TIMEOUT="5")
    exited = wordpress.run(env)
    assert exited.code == 69, exited.stderr
    expected = "autostack-entrypoint: database %s:%d not reachable over TCP after 5s" % (host, port)
    assert expected in exited.stderr, exited.stderr
    assert 5 <= exited.seconds < 35, "exited after %.1f s with WORDPRESS_DB_WAIT_TIMEOUT=5" % exited.seconds
    assert localdb.password not in exited.stdout + exited.stderr


@pytest.mark.parametrize("wrong", ["password", "database"])
def test_refused_login_exits_77_at_once(wordpress, localdb, wrong):
    env = good_env(localdb)
    bad_password = "Not-" + secrets.token_urlsafe(16)
    if wrong == "password":
        env["WORDPRESS_DB_PASSWORD"] = bad_password
    else:
        env["WORDPRESS_DB_NAME"] = "not_" + localdb.database
    # Refusal is final: no waiting for the (long) timeout.
    env["WORDPRESS_DB_WAIT_TIMEOUT"] = "60"
    exited = wordpress.run(env)
    assert exited.code == 77, exited.stderr
    expected = "autostack-entrypoint: database login to %s:3306 as %s failed: " % (localdb.host, localdb.user)
    assert expected in exited.stderr, exited.stderr
    assert exited.seconds < 30, "a refused login took %.1f s" % exited.seconds
    for value in (bad_password, localdb.password):
        assert value not in exited.stdout + exited.stderr + logs(exited.name), "a password is in the output"


@pytest.mark.parametrize("missing", ["WORDPRESS_DB_HOST", "WORDPRESS_DB_PASSWORD", "WORDPRESS_NONCE_SALT"])
def test_missing_variable_exits_64_at_once(wordpress, localdb, missing):
    env = good_env(localdb)
    # Were the database waited for first, this unreachable port would hold the container 60 s.
    env.update(WORDPRESS_DB_HOST=localdb.host + ":3307", WORDPRESS_DB_WAIT_TIMEOUT="60")
    del env[missing]
    exited = wordpress.run(env)
    assert exited.code == 64, exited.stderr
    assert exited.stderr.startswith("autostack-entrypoint: %s is not set" % missing), exited.stderr
    assert exited.seconds < 15, "a missing %s took %.1f s to report" % (missing, exited.seconds)


def _stopped_within(name, limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not state(name)["Running"]:
            return True
        time.sleep(0.2)
    return False


def test_sigterm_stops_the_container(wordpress, localdb):
    name = wordpress.start(good_env(localdb))
    wait_http_200(wordpress, name, "/healthz.php")
    docker("kill", "--signal", "TERM", name)
    assert _stopped_within(name, STOP_LIMIT), "still running %d s after SIGTERM:\n%s" % (STOP_LIMIT, logs(name))


def test_docker_stop_is_quick(wordpress, localdb):
    name = wordpress.start(good_env(localdb))
    wait_http_200(wordpress, name, "/healthz.php")
    started = time.monotonic()
    # Were the stop signal ignored, docker would wait the whole 30 s before SIGKILL.
    docker("stop", "--time", "30", name, timeout=60)
    seconds = time.monotonic() - started
    assert seconds < STOP_LIMIT, "docker stop took %.1f s" % seconds
    assert state(name)["ExitCode"] != 137, "the container was killed, not stopped"
