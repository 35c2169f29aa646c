"""Fixtures shared by the test suites: a private local-cloud emulator on a free port."""

import os
import socket
import subprocess
import sys

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCALCLOUD = os.path.join(TOP, "tools", "localcloud", "localcloud.py")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Emulator:
    """A running emulator of our own: ``url``, ``env`` (for subprocesses) and ``client()``."""

    def __init__(self, state_dir, port):
        self.state_dir = str(state_dir)
        self.port = port
        self.url = "http://127.0.0.1:%d" % port
        self.env = dict(
            os.environ,
            LOCALCLOUD_STATE_DIR=self.state_dir,
            LOCALCLOUD_PORT=str(port),
            AWS_ENDPOINT_URL=self.url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="eu-west-1",
        )

    def _run(self, command):
        return subprocess.run(
            [sys.executable, LOCALCLOUD, command], env=self.env, capture_output=True, text=True, timeout=90, check=False
        )

    def start(self):
        proc = self._run("start")
        if proc.returncode != 0:
            raise RuntimeError("emulator did not start: %s%s" % (proc.stdout, proc.stderr))

    def stop(self):
        self._run("stop")

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
    """One private emulator for the session; tests that need a clean slate call ``reset()``."""
    emu = Emulator(tmp_path_factory.mktemp("localcloud"), free_port())
    emu.start()
    yield emu
    emu.stop()
