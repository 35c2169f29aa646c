"""autostack.wordpress.docker_commit against the real Docker engine.

A tiny base image (busybox-static's /bin/busybox, imported, with a configuration of its own) and a build
container started with labels, environment, healthcheck, user, working directory and stop signal of its own:
everything the engine merges into a commit. The module runs through ansible-playbook, as the wp_image role
runs it. Every Docker object is named ``h-dcommit-<random>-...`` and removed at the end.
"""

import io
import json
import os
import subprocess
import sys
import tarfile
import time
import uuid

import docker
import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
BUSYBOX = "/bin/busybox"
PREFIX = "h-dcommit-%s" % uuid.uuid4().hex[:6]
REPOSITORY = PREFIX + "-wp"
SECRET = "s3cret-%s" % uuid.uuid4().hex
OPTIONS = (
    "tag entrypoint command env exposed_ports labels user working_dir volumes healthcheck stop_signal author comment "
    "pause strict"
).split()
PLAYBOOK = """
- name: Commit a container
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the module, once per case
      autostack.wordpress.docker_commit:
        container: "{{ dc.container }}"
        repository: "{{ dc.repository }}"
%s
      loop: "{{ dc_cases }}"
      loop_control:
        loop_var: dc
      register: dc_result
      ignore_errors: true

    - name: Save the result
      ansible.builtin.copy:
        content: "{{ dc_result | to_json }}"
        dest: "{{ dc_results }}"
        mode: "0600"
      check_mode: false
""" % "\n".join('        %s: "{{ dc.%s | default(omit) }}"' % (name, name) for name in OPTIONS)

# What the image must get: every option, values that differ from the container's.
ASKED = dict(
    tag="1.0",
    entrypoint=[BUSYBOX, "sh", "-c"],
    command=["trap 'echo got SIGWINCH; exit 0' WINCH; echo started; while :; do %s sleep 1; done" % BUSYBOX],
    env={"A": "1", "GREETING": "hello world"},
    exposed_ports=[8080],
    labels={"org.autostack.port": "8080", "org.opencontainers.image.version": "1.0"},
    user="1000:1000",
    working_dir="/app",
    volumes=["/data"],
    healthcheck=dict(test=["CMD", BUSYBOX, "test", "-f", "/app/marker"], interval="1s", timeout="2s",
                     start_period="1s", retries=2),
    stop_signal="SIGWINCH",
    author="autostack tests",
    comment="integration test",
)
EXPECTED_CONFIG = {
    "Entrypoint": ASKED["entrypoint"],
    "Cmd": ASKED["command"],
    "Env": ["A=1", "GREETING=hello world"],
    "ExposedPorts": {"8080/tcp": {}},
    "Labels": ASKED["labels"],
    "User": "1000:1000",
    "WorkingDir": "/app",
    "Volumes": {"/data": {}},
    "Healthcheck": {"Test": ASKED["healthcheck"]["test"], "Interval": 10**9, "Timeout": 2 * 10**9,
                    "StartPeriod": 10**9, "Retries": 2},
    "StopSignal": "SIGWINCH",
}


def import_image(engine, workdir, name, changes):
    """An image of /bin/busybox alone; a file of our own makes its layer unique to this run."""
    path = workdir / ("%s.tar" % name)
    with tarfile.open(path, "w") as archive:
        archive.add(BUSYBOX, arcname="bin/busybox")
        data = PREFIX.encode()
        info = tarfile.TarInfo("etc/h-dcommit")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    engine.api.import_image(src=str(path), repository=name, tag="latest", changes=changes)
    return engine.images.get(name + ":latest")


def wait_for(what, check, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("%s: not within %ds" % (what, timeout))


def start(engine, image, name, **kwargs):
    container = engine.containers.run(image, name=name, detach=True, **kwargs)
    wait_for(
        "container %s ready" % name,
        lambda: container.exec_run([BUSYBOX, "test", "-f", "/app/marker"], user="0").exit_code == 0,
    )
    return container


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    if not os.access(BUSYBOX, os.X_OK):
        pytest.fail("%s is missing: install the busybox-static package" % BUSYBOX)
    engine = docker.from_env(timeout=120)
    workdir = tmp_path_factory.mktemp("docker_commit")
    base = import_image(
        engine, workdir, PREFIX + "-base",
        ["ENV BASE_ENV=from-base", "LABEL base.label=from-base", "EXPOSE 9999", "WORKDIR /base",
         'CMD ["/bin/busybox", "sleep", "3600"]', "VOLUME /base-volume"],
    )
    plain = import_image(engine, workdir, PREFIX + "-plain", [])
    prepare = ["/bin/busybox", "sh", "-c",
               "/bin/busybox mkdir -p /app && echo built > /app/marker && exec /bin/busybox sleep 3600"]
    build = start(
        engine, base.id, PREFIX + "-build", command=prepare,
        labels={"build.id": "42", "org.autostack.port": "9999"},
        environment={"BUILD_SECRET": SECRET, "BASE_ENV": "overridden"},
        healthcheck={"test": ["CMD", BUSYBOX, "true"], "interval": 5 * 10**9, "retries": 7},
        stop_signal="SIGUSR1", user="0", working_dir="/build",
    )
    clean = start(engine, plain.id, PREFIX + "-clean", command=prepare)
    playbook = workdir / "playbook.yml"
    playbook.write_text(PLAYBOOK)
    layer = base.attrs["RootFS"]["Layers"][0]
    world = dict(engine=engine, workdir=workdir, playbook=str(playbook), build=build, clean=clean, layer=layer)
    yield world
    for container in engine.containers.list(all=True, filters={"name": PREFIX}):
        container.remove(force=True, v=True)
    # Everything made from our base layer, newest first: children before their parents.
    mine = sorted(our_images(world).values(), key=lambda image: image.attrs["Created"], reverse=True)
    for image in mine:
        engine.images.remove(image.id, force=True)


def our_images(world):
    """Every image (tagged or not) on the engine whose first layer is our base's."""
    found = {}
    for image in world["engine"].images.list(all=True):
        layers = image.attrs.get("RootFS", {}).get("Layers") or []
        if layers[:1] == [world["layer"]]:
            found[image.id] = image
    return found


def run_cases(world, cases, *options):
    """Run the module once per case (a dict of options) in one playbook; its results, and the output."""
    results = world["workdir"] / ("result-%s.json" % uuid.uuid4().hex[:8])
    cases = [dict(dc, repository=dc.get("repository", REPOSITORY)) for dc in cases]
    extra = {"dc_cases": cases, "dc_results": str(results)}
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(TOP, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, world["playbook"], "-e", json.dumps(extra), *options],
        cwd=TOP, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-4000:]
    return json.loads(results.read_text())["results"], proc.stdout + proc.stderr


def run(world, *options, **dc):
    results, output = run_cases(world, [dc], *options)
    return results[0], output


def managed(config):
    """The part of an image configuration the module sets, engine empties (null, [], {}) left out."""
    return {key: config.get(key) for key in EXPECTED_CONFIG if config.get(key)}


def test_check_mode_commits_nothing(world):
    before = set(our_images(world))
    result, _output = run(world, "--check", container=PREFIX + "-build", **ASKED)
    assert result["changed"] is True and not result.get("failed"), result
    assert managed(result["config"]) == EXPECTED_CONFIG
    assert "image_id" not in result
    # The prediction names what the container would add to the commit.
    for leak in ("labels.build.id", "labels.base.label", "env.BUILD_SECRET", "env.BASE_ENV",
                 "exposed_ports.9999/tcp", "volumes./base-volume", "container_config.env.BUILD_SECRET"):
        assert leak in result["leaks"]
    assert set(our_images(world)) == before


BAD_INPUT = [
    (dict(container=PREFIX + "-build", env={"DEBUG": True}), "env.DEBUG is the boolean true"),
    (dict(container=PREFIX + "-build", exposed_ports=["http"]), "exposed_ports: 'http' is not a port"),
    (dict(container=PREFIX + "-build", healthcheck={"test": ["CMD", "x"], "interval": "10"}),
     "healthcheck.interval: '10' is not a duration"),
    (dict(container=PREFIX + "-build", repository=REPOSITORY + ":1"), "carries a tag or digest"),
    (dict(container=PREFIX + "-nothing"), "Container %s-nothing does not exist" % PREFIX),
]


def test_bad_input_fails_before_any_commit(world):
    before = set(our_images(world))
    results, _output = run_cases(world, [dict(ASKED, **dc) for dc, _message in BAD_INPUT])
    for result, (_dc, message) in zip(results, BAD_INPUT):
        assert result["failed"] is True, result
        assert message in result["msg"]
    assert set(our_images(world)) == before


def test_commit_is_exactly_what_was_asked(world):
    before = set(our_images(world))
    result, output = run(world, container=PREFIX + "-build", **ASKED)
    assert result["changed"] is True and not result.get("failed"), result
    assert result["rewritten"] is True
    assert "labels.build.id" in result["leaks"] and "env.BUILD_SECRET" in result["leaks"]

    image = world["engine"].images.get(REPOSITORY + ":1.0")
    assert image.id == result["image_id"] == result["image"]["Id"]
    config = image.attrs["Config"]
    assert managed(config) == EXPECTED_CONFIG
    assert image.attrs["Author"] == "autostack tests"
    # Nothing of the build container travels with the image, the secret least of all.
    assert not image.attrs["ContainerConfig"].get("Env") and not image.attrs["ContainerConfig"].get("Labels")
    assert SECRET not in json.dumps(image.attrs) and SECRET not in output
    history = world["engine"].api.history(image.id)
    assert history[0]["Comment"] == "integration test"
    # One new image: the intermediate commit is gone.
    assert set(our_images(world)) - before == {image.id}


def test_a_container_of_the_image_runs_with_that_config(world):
    engine = world["engine"]
    container = engine.containers.run(REPOSITORY + ":1.0", name=PREFIX + "-run", detach=True)
    try:
        wait_for("container started", lambda: b"started" in container.logs())
        exit_code, out = container.exec_run([BUSYBOX, "sh", "-c", "%s id -u; %s pwd; %s env" % ((BUSYBOX,) * 3)])
        assert exit_code == 0, out
        lines = out.decode().splitlines()
        assert lines[:2] == ["1000", "/app"]
        assert "A=1" in lines and "GREETING=hello world" in lines
        assert not [line for line in lines if line.startswith(("BUILD_SECRET=", "BASE_ENV="))]
        container.reload()
        assert container.attrs["Config"]["ExposedPorts"] == {"8080/tcp": {}}
        assert container.labels == ASKED["labels"]
        assert wait_for(
            "healthy", lambda: container.reload() or container.attrs["State"]["Health"]["Status"] == "healthy"
        )
        # docker stop sends the image's stop signal: the trap answers it and the process exits 0 at once.
        started = time.monotonic()
        container.stop(timeout=20)
        assert time.monotonic() - started < 15
        container.reload()
        assert container.attrs["State"]["ExitCode"] == 0
        assert b"got SIGWINCH" in container.logs()
    finally:
        container.remove(force=True, v=True)


def test_strict_false_keeps_what_the_engine_merged_as_predicted(world):
    predicted, _output = run(world, "--check", container=PREFIX + "-build", tag="merged")
    result, output = run(world, container=PREFIX + "-build", tag="merged", strict=False)
    assert result["rewritten"] is False
    # The module's model of the engine's merge matches the engine.
    assert result["leaks"] == predicted["leaks"]
    assert "command" in result["leaks"] and "labels.build.id" in result["leaks"]
    assert "strict=false keeps them" in output
    config = world["engine"].images.get(REPOSITORY + ":merged").attrs["Config"]
    assert config["Labels"] == {"build.id": "42", "org.autostack.port": "9999", "base.label": "from-base"}
    assert config["Cmd"] == ["/bin/busybox", "sh", "-c", world["build"].attrs["Args"][-1]]
    assert config["StopSignal"] == "SIGUSR1" and config["User"] == "0"


def test_clean_container_is_committed_as_is(world):
    result, _output = run(world, container=PREFIX + "-clean", tag="clean", entrypoint=[BUSYBOX], command=["true"],
                          labels={"a": "b"}, pause=False)
    assert not result.get("failed"), result
    assert result["leaks"] == [] and result["rewritten"] is False
    image = world["engine"].images.get(REPOSITORY + ":clean")
    assert managed(image.attrs["Config"]) == {"Entrypoint": [BUSYBOX], "Cmd": ["true"], "Labels": {"a": "b"}}
    # Committed directly: the engine recorded the parent link, which a rewritten image does not have.
    assert image.attrs["Parent"]
    assert world["engine"].containers.run(REPOSITORY + ":clean", remove=True) == b""
