"""Start, stop and inspect the local cloud: the AWS API emulator on loopback.

    localcloud.py start     start it (no-op when it already answers)
    localcloud.py stop      stop it and forget its state
    localcloud.py status    exit 0 when it answers, 1 otherwise
    localcloud.py endpoint  print its endpoint URL

State (pid, log, endpoint) lives in ``$LOCALCLOUD_STATE_DIR`` (default ``.localcloud/``
at the top of the checkout). The port is ``$LOCALCLOUD_PORT`` (default 4575); tests
that want their own emulator pass another state directory and a free port.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
DEFAULT_PORT = 4575
START_TIMEOUT = 60


def state_dir():
    return os.environ.get("LOCALCLOUD_STATE_DIR", os.path.join(TOP, ".localcloud"))


def _path(name):
    return os.path.join(state_dir(), name)


def endpoint(port=None):
    port = port or int(os.environ.get("LOCALCLOUD_PORT", DEFAULT_PORT))
    return "http://127.0.0.1:%d" % port


def answers(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url + "/moto-api/", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _read_pid():
    try:
        with open(_path("moto.pid")) as handle:
            pid = int(handle.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def start(port=None):
    url = endpoint(port)
    if answers(url) and _read_pid():
        print("local cloud: emulator already answering at %s" % url)
        return 0
    if answers(url):
        print(
            "local cloud: something else answers at %s; set LOCALCLOUD_PORT to a free port" % url,
            file=sys.stderr,
        )
        return 1
    os.makedirs(state_dir(), exist_ok=True)
    log = open(_path("moto.log"), "ab")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "server.py"), "--port", url.rsplit(":", 1)[1]],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    with open(_path("moto.pid"), "w") as handle:
        handle.write(str(proc.pid))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(
                "local cloud: the emulator exited with %s; see %s" % (proc.returncode, _path("moto.log")),
                file=sys.stderr,
            )
            return 1
        if answers(url):
            with open(_path("endpoint"), "w") as handle:
                handle.write(url + "\n")
            print("local cloud: emulator answering at %s (pid %d)" % (url, proc.pid))
            return 0
        time.sleep(0.2)
    proc.kill()
    print(
        "local cloud: the emulator did not answer within %ds; see %s" % (START_TIMEOUT, _path("moto.log")),
        file=sys.stderr,
    )
    return 1


def stop():
    pid = _read_pid()
    if pid:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _read_pid():
            time.sleep(0.1)
        if _read_pid():
            os.killpg(pid, signal.SIGKILL)
        print("local cloud: emulator stopped (pid %d)" % pid)
    else:
        print("local cloud: emulator not running")
    for name in ("moto.pid", "endpoint"):
        try:
            os.unlink(_path(name))
        except FileNotFoundError:
            pass
    return 0


def status(port=None):
    url = endpoint(port)
    ok = answers(url)
    print("local cloud: emulator %s at %s" % ("answering" if ok else "not answering", url))
    return 0 if ok else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status", "endpoint"])
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    if args.command == "start":
        return start(args.port)
    if args.command == "stop":
        return stop()
    if args.command == "status":
        return status(args.port)
    print(endpoint(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
