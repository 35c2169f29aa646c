"""localcloud.py runs ECR's registry next to the emulator: start, status, stop, and what it refuses.

Each test starts a local cloud of its own (it stops it), not the session's.
"""

import hashlib
import os
import socket
import stat

import pytest


@pytest.fixture
def local_cloud(emulator, tmp_path):
    """A local cloud of this test's own on free ports, not started; stopped afterwards."""
    cloud = emulator.spawn(tmp_path / "lc")
    yield cloud
    cloud.run("stop")


def pid_of(cloud, name):
    with open(os.path.join(cloud.state_dir, name + ".pid")) as handle:
        return int(handle.read())


def running(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def upload_blob(cloud, registry_request_of, name, data):
    """Put one blob into the registry the way ``docker push`` does: the storage gets files."""
    password = cloud.registry_password()
    status, headers, dummy = registry_request_of(cloud, "/v2/%s/blobs/uploads/" % name, method="POST", password=password)
    assert status == 202, status
    location = headers["Location"].split(cloud.registry_url, 1)[-1]
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    joiner = "&" if "?" in location else "?"
    status = registry_request_of(
        cloud,
        "%s%sdigest=%s" % (location, joiner, digest),
        method="PUT",
        password=password,
        data=data,
        headers={"Content-Type": "application/octet-stream"},
    )[0]
    assert status == 201, status
    return digest


def test_start_status_stop(local_cloud, registry_request_of):
    """start runs both, keeps the password private, is a no-op the second time; stop removes the storage."""
    started = local_cloud.run("start")
    assert started.returncode == 0, started.stderr
    assert "registry answering at %s" % local_cloud.registry in started.stdout

    password = local_cloud.registry_password()
    files = {name: os.path.join(local_cloud.registry_dir, name) for name in ("password", "htpasswd", "config.yml")}
    for path in files.values():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert stat.S_IMODE(os.stat(local_cloud.registry_dir).st_mode) == 0o700
    with open(files["htpasswd"]) as handle:
        assert handle.read().startswith("AWS:$2")  # bcrypt, the only hash the registry takes
    emulator_pid, registry_pid = pid_of(local_cloud, "moto"), pid_of(local_cloud, "registry")
    # The password reaches the emulator as a file name only: never in an environment or a log.
    for pid in (emulator_pid, registry_pid):
        with open("/proc/%d/environ" % pid, "rb") as handle:
            assert password.encode() not in handle.read()
    again = local_cloud.run("start")
    assert again.returncode == 0 and "already answering" in again.stdout
    assert pid_of(local_cloud, "registry") == registry_pid
    assert local_cloud.registry_password() == password
    for text in (started.stdout, started.stderr, again.stdout, again.stderr):
        assert password not in text

    assert local_cloud.run("registry").stdout == local_cloud.registry + "\n"
    assert local_cloud.run("endpoint").stdout == local_cloud.url + "\n"
    status = local_cloud.run("status")
    assert status.returncode == 0
    assert "emulator answering at %s" % local_cloud.url in status.stdout
    assert "registry answering at %s" % local_cloud.registry in status.stdout

    upload_blob(local_cloud, registry_request_of, "h-registry-lifecycle/app", b"a layer")
    storage = os.path.join(local_cloud.registry_dir, "storage")
    assert any(files for dummy, dummy, files in os.walk(storage))
    for log in ("moto.log", "registry.log"):
        with open(os.path.join(local_cloud.state_dir, log), errors="replace") as handle:
            assert password not in handle.read(), log

    stopped = local_cloud.run("stop")
    assert stopped.returncode == 0
    assert not os.path.exists(local_cloud.registry_dir)
    assert not running(emulator_pid) and not running(registry_pid)
    assert not _answers(local_cloud.registry_port)
    status = local_cloud.run("status")
    assert status.returncode == 1
    assert "registry not answering at %s" % local_cloud.registry in status.stdout


def _answers(port):
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_start_without_the_registry_program_says_how_to_install_it(local_cloud):
    """A missing docker-registry is named with its Debian package, before anything starts."""
    started = local_cloud.run("start", LOCALCLOUD_REGISTRY_BIN="/nonexistent/docker-registry")

    assert started.returncode == 1
    assert "/nonexistent/docker-registry is missing" in started.stderr
    assert "apt-get install docker-registry" in started.stderr
    assert not _answers(local_cloud.port)
    assert not os.path.exists(os.path.join(local_cloud.state_dir, "moto.pid"))


def test_start_refuses_a_taken_registry_port(local_cloud):
    """Something else on the registry's port: a clear error naming the variable, and no emulator left running."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", local_cloud.registry_port))
        squatter.listen(1)
        started = local_cloud.run("start")

    assert started.returncode == 1
    assert "something else listens on %s" % local_cloud.registry in started.stderr
    assert "LOCALCLOUD_REGISTRY_PORT" in started.stderr
    assert not _answers(local_cloud.port)
