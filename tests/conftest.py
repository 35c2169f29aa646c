"""Fixtures shared by the test suites: a private local cloud (emulator and registry) on free ports."""

import os
import socket
import subprocess
import sys

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCALCLOUD = os.path.join(TOP, "tools", "localcloud", "localcloud.py")


def free_port(exclude=()):
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in exclude:
            return port


class Emulator:
    """A running local cloud of our own: the emulator (``url``, ``client()``) and ECR's registry.

    ``env`` is for subprocesses. ``registry`` is the registry's ``127.0.0.1:<port>`` (what
    repository URIs start with), ``registry_url`` its base URL, ``registry_password()`` the
    password of its user ``AWS``, ``registry_dir`` where localcloud.py keeps its config and
    storage, ``log`` the emulator's log. ``spawn(state_dir)`` makes another, unstarted one.
    """

    def __init__(self, state_dir, port, registry_port=None):
        self.state_dir = str(state_dir)
        self.port = port
        self.url = "http://127.0.0.1:%d" % port
        self.registry_port = registry_port or free_port(exclude=(port,))
        self.registry = "127.0.0.1:%d" % self.registry_port
        self.registry_url = "http://" + self.registry
        self.registry_dir = os.path.join(self.state_dir, "registry")
        self.log = os.path.join(self.state_dir, "moto.log")
        self.env = dict(
            os.environ,
            LOCALCLOUD_STATE_DIR=self.state_dir,
            LOCALCLOUD_PORT=str(port),
            LOCALCLOUD_REGISTRY_PORT=str(self.registry_port),
            AWS_ENDPOINT_URL=self.url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="eu-west-1",
        )

    @classmethod
    def spawn(cls, state_dir):
        """Another local cloud on free ports, not started yet (for tests that stop theirs)."""
        return cls(state_dir, free_port())

    def run(self, command, **env):
        """``localcloud.py <command>`` for this local cloud; ``env`` adds or overrides variables."""
        return subprocess.run(
            [sys.executable, LOCALCLOUD, command],
            env=dict(self.env, **env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def registry_password(self):
        with open(os.path.join(self.registry_dir, "password")) as handle:
            return handle.read().strip()

    def start(self):
        proc = self.run("start")
        if proc.returncode != 0:
            raise RuntimeError("emulator did not start: %s%s" % (proc.stdout, proc.stderr))

    def stop(self):
        self.run("stop")

    def reset(self):
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(self.url + "/moto-api/reset", method="POST"), timeout=10)

    def client(self, service, region="eu-west-1"):
        import boto3

        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """One private local cloud for the session; tests that need a clean slate call ``reset()``.

    ``reset()`` empties the emulator only: images stay in the registry.
    """
    emu = Emulator(tmp_path_factory.mktemp("localcloud"), free_port())
    emu.start()
    yield emu
    emu.stop()
