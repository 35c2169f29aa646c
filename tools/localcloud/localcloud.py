"""Start, stop and inspect the local cloud: the AWS API emulator and ECR's registry on loopback.

    localcloud.py start     start both (no-op for whatever already answers)
    localcloud.py stop      stop both and forget their state (the registry's storage too)
    localcloud.py status    exit 0 when both answer, 1 otherwise
    localcloud.py endpoint  print the emulator's endpoint URL
    localcloud.py registry  print the registry's address (host:port, what image names start with)

The emulator is moto in server mode on ``127.0.0.1:$LOCALCLOUD_PORT`` (default 4575). The
registry is Docker's distribution registry (``docker-registry``, Debian package of the same
name) on ``127.0.0.1:$LOCALCLOUD_REGISTRY_PORT`` (default: the emulator's port + 1, so 4576),
with htpasswd (bcrypt) authentication for the user ``AWS`` and a password made at start. The
emulator's ECR hands out that registry's address and password, and the registry tells the
emulator about pushes so that ECR lists the images (see docs/local-cloud.md).

State (pid files, logs, endpoint; the registry's config, htpasswd, password and storage under
``registry/``) lives in ``$LOCALCLOUD_STATE_DIR`` (default ``.localcloud/`` at the top of the
checkout); tests that want their own local cloud pass another state directory and free ports.
``$LOCALCLOUD_REGISTRY_BIN`` overrides the registry program (default: ``docker-registry`` on
PATH, else ``/usr/bin/docker-registry``).

The emulator inherits the launcher's environment, so moto's own settings apply: with
``INITIAL_NO_AUTH_ACTION_COUNT=<n>`` it enforces IAM authentication once ``n`` calls are spent (unknown
keys then get ``InvalidClientTokenId``; see docs/local-cloud.md).
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
DEFAULT_PORT = 4575
START_TIMEOUT = 60
REGISTRY_START_TIMEOUT = 30
STOP_TIMEOUT = 10
REGISTRY_USER = "AWS"
# The emulator's route for the registry's notifications and the one that names its registry
# (both served by patches.patch_ecr_registry_push_events).
EVENTS_PATH = "/_localcloud/registry-events"
INFO_PATH = "/_localcloud/registry"
# A bcrypt cost above the minimum buys nothing for a 256-bit random password, and the registry
# checks the hash on every request of a push.
BCRYPT_ROUNDS = 6

# Loopback only: never let an http_proxy variable route these checks elsewhere.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def state_dir():
    return os.environ.get("LOCALCLOUD_STATE_DIR", os.path.join(TOP, ".localcloud"))


def _path(*names):
    return os.path.join(state_dir(), *names)


def _registry_dir():
    return _path("registry")


def registry_files():
    """Where the registry's files live: config, htpasswd, password (mode 0600) and storage."""
    base = _registry_dir()
    return {
        "config": os.path.join(base, "config.yml"),
        "htpasswd": os.path.join(base, "htpasswd"),
        "password": os.path.join(base, "password"),
        "storage": os.path.join(base, "storage"),
    }


def _env_port(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        port = int(value)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise SystemExit("local cloud: %s=%r is not a TCP port (1-65535)" % (name, value))
    return port


def emulator_port(port=None):
    return port or _env_port("LOCALCLOUD_PORT", DEFAULT_PORT)


def registry_port(port=None, emulator=None):
    # Next to the emulator's by default, so that private local clouds on free ports do not all
    # want the same registry port.
    port = port or _env_port("LOCALCLOUD_REGISTRY_PORT", emulator_port(emulator) + 1)
    if port > 65535:
        raise SystemExit("local cloud: the registry's port would be %d; set LOCALCLOUD_REGISTRY_PORT" % port)
    return port


def endpoint(port=None):
    return "http://127.0.0.1:%d" % emulator_port(port)


def registry_address(port=None, emulator=None):
    return "127.0.0.1:%d" % registry_port(port, emulator)


def registry_program():
    return (
        os.environ.get("LOCALCLOUD_REGISTRY_BIN")
        or shutil.which("docker-registry")
        or "/usr/bin/docker-registry"
    )


def answers(url, timeout=2.0):
    try:
        with _OPENER.open(url + "/moto-api/", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def registry_status(address, timeout=2.0):
    """HTTP status of ``GET /v2/`` without credentials (401: our registry, up), or None."""
    try:
        with _OPENER.open("http://%s/v2/" % address, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


def _port_taken(port):
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _emulator_registry(url):
    """The registry the running emulator hands out, or None when it serves none."""
    try:
        with _OPENER.open(url + INFO_PATH, timeout=2.0) as resp:
            return json.load(resp).get("registry")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _read_pid(name, marker):
    """The pid in ``<name>.pid`` when that process still runs ``marker`` (never someone else's)."""
    try:
        with open(_path(name + ".pid")) as handle:
            pid = int(handle.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            cmdline = handle.read().replace(b"\0", b" ")
    except (OSError, ValueError):
        return None
    return pid if marker.encode() in cmdline else None


def _emulator_pid():
    return _read_pid("moto", "server.py")


def _registry_pid():
    return _read_pid("registry", "serve " + registry_files()["config"])


def _unlink(*paths):
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _error(message):
    print("local cloud: %s" % message, file=sys.stderr)
    return 1


def _write_private(path, text):
    """Write ``text`` to a file only its owner can read, replacing it atomically."""
    tmp = path + ".tmp"
    _unlink(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _registry_config(address, emulator_url, files):
    # JSON is YAML: no YAML library needed, and every value is quoted correctly.
    config = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text", "fields": {"service": "localcloud-registry"}},
        "storage": {
            "filesystem": {"rootdirectory": files["storage"]},
            "delete": {"enabled": True},
            "cache": {"blobdescriptor": "inmemory"},
        },
        "http": {"addr": address, "headers": {"X-Content-Type-Options": ["nosniff"]}},
        "auth": {"htpasswd": {"realm": "localcloud-ecr", "path": files["htpasswd"]}},
        "notifications": {
            "endpoints": [
                {
                    "name": "localcloud-emulator",
                    "url": emulator_url + EVENTS_PATH,
                    "timeout": "5s",
                    "threshold": 3,
                    "backoff": "1s",
                    # Layer uploads and pulls are of no interest to ECR's image list.
                    "ignore": {"mediatypes": ["application/octet-stream"], "actions": ["pull"]},
                }
            ]
        },
    }
    return json.dumps(config, indent=2) + "\n"


def _prepare_registry(address, emulator_url):
    """Config, htpasswd and password in the state directory; the password is made once per start."""
    import bcrypt  # only here: status/stop/endpoint work without it

    files = registry_files()
    os.makedirs(_registry_dir(), mode=0o700, exist_ok=True)
    os.chmod(_registry_dir(), 0o700)
    os.makedirs(files["storage"], exist_ok=True)
    try:
        with open(files["password"]) as handle:
            password = handle.read().strip()
    except FileNotFoundError:
        password = ""
    if not password:
        password = secrets.token_urlsafe(32)
        _write_private(files["password"], password + "\n")
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode()
    _write_private(files["htpasswd"], "%s:%s\n" % (REGISTRY_USER, hashed))
    _write_private(files["config"], _registry_config(address, emulator_url, files))
    return files


def _check_prerequisites():
    program = registry_program()
    if not (os.path.isfile(program) and os.access(program, os.X_OK)):
        return _error(
            "the container registry program %s is missing; install Docker's distribution registry: "
            "apt-get install docker-registry (or set LOCALCLOUD_REGISTRY_BIN to its path)" % program
        )
    try:
        import bcrypt  # noqa: F401  (checked before anything starts)
    except ImportError:
        return _error(
            "the Python package bcrypt is missing from %s (it hashes the registry's password); "
            "install the tool chain: make setup" % sys.executable
        )
    return 0


def _start_emulator(url, address, files):
    log = open(_path("moto.log"), "ab")
    env = dict(os.environ, LOCALCLOUD_REGISTRY=address, LOCALCLOUD_REGISTRY_PASSWORD_FILE=files["password"])
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "server.py"), "--port", url.rsplit(":", 1)[1]],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    log.close()
    with open(_path("moto.pid"), "w") as handle:
        handle.write(str(proc.pid))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return _error("the emulator exited with %s; see %s" % (proc.returncode, _path("moto.log")))
        if answers(url):
            with open(_path("endpoint"), "w") as handle:
                handle.write(url + "\n")
            print("local cloud: emulator answering at %s (pid %d)" % (url, proc.pid))
            return 0
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    return _error("the emulator did not answer within %ds; see %s" % (START_TIMEOUT, _path("moto.log")))


def _start_registry(address, files):
    log = open(_path("registry.log"), "ab")
    # REGISTRY_* variables override the config file; this registry is configured by the file only.
    env = {key: value for key, value in os.environ.items() if not key.startswith("REGISTRY_")}
    proc = subprocess.Popen(
        [registry_program(), "serve", files["config"]],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    log.close()
    with open(_path("registry.pid"), "w") as handle:
        handle.write(str(proc.pid))
    deadline = time.monotonic() + REGISTRY_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return _error("the registry exited with %s; see %s" % (proc.returncode, _path("registry.log")))
        if registry_status(address) == 401:
            print("local cloud: registry answering at %s (pid %d, user %s)" % (address, proc.pid, REGISTRY_USER))
            return 0
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    return _error(
        "the registry did not answer 401 on http://%s/v2/ within %ds; see %s"
        % (address, REGISTRY_START_TIMEOUT, _path("registry.log"))
    )


def start(port=None, reg_port=None):
    url = endpoint(port)
    address = registry_address(reg_port, port)
    if address.rsplit(":", 1)[1] == url.rsplit(":", 1)[1]:
        return _error("LOCALCLOUD_REGISTRY_PORT and LOCALCLOUD_PORT are both %s" % address.rsplit(":", 1)[1])
    failed = _check_prerequisites()
    if failed:
        return failed

    emulator_up = answers(url)
    if emulator_up and not _emulator_pid():
        return _error("something else answers at %s; set LOCALCLOUD_PORT to a free port" % url)
    if emulator_up and _emulator_registry(url) != address:
        return _error(
            "the emulator at %s does not hand out the registry %s (started by an older localcloud.py, with "
            "another LOCALCLOUD_REGISTRY_PORT, or with patch_ecr_registry_push_events disabled); "
            "run 'localcloud.py stop' first" % (url, address)
        )
    registry_up = bool(_registry_pid()) and registry_status(address) == 401
    if not registry_up and _port_taken(int(address.rsplit(":", 1)[1])):
        return _error("something else listens on %s; set LOCALCLOUD_REGISTRY_PORT to a free port" % address)
    if emulator_up and registry_up:
        print("local cloud: emulator already answering at %s, registry at %s" % (url, address))
        return 0

    os.makedirs(state_dir(), exist_ok=True)
    files = _prepare_registry(address, url)
    if not emulator_up:
        if _start_emulator(url, address, files):
            return 1
    else:
        print("local cloud: emulator already answering at %s" % url)
    if not registry_up:
        if _start_registry(address, files):
            if not emulator_up:
                _stop_process("emulator", _emulator_pid())  # all or nothing
            return 1
    return 0


def _stop_process(what, pid):
    if not pid:
        print("local cloud: %s not running" % what)
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    if _alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    print("local cloud: %s stopped (pid %d)" % (what, pid))


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop():
    _stop_process("emulator", _emulator_pid())
    _stop_process("registry", _registry_pid())
    _unlink(_path("moto.pid"), _path("endpoint"), _path("registry.pid"))
    # The emulator forgot its images; the registry's storage goes with them.
    shutil.rmtree(_registry_dir(), ignore_errors=True)
    return 0


def status(port=None, reg_port=None):
    url = endpoint(port)
    address = registry_address(reg_port, port)
    ok = answers(url)
    print("local cloud: emulator %s at %s" % ("answering" if ok else "not answering", url))
    code = registry_status(address)
    registry_ok = code == 401
    if registry_ok:
        print("local cloud: registry answering at %s" % address)
    elif code is None:
        print("local cloud: registry not answering at %s" % address)
    else:
        print("local cloud: registry at %s answers HTTP %d on /v2/ instead of 401" % (address, code))
    return 0 if ok and registry_ok else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status", "endpoint", "registry"])
    parser.add_argument("--port", type=int, help="the emulator's port (default $LOCALCLOUD_PORT or 4575)")
    parser.add_argument(
        "--registry-port", type=int, help="the registry's port (default $LOCALCLOUD_REGISTRY_PORT or --port + 1)"
    )
    args = parser.parse_args(argv)
    if args.command == "start":
        return start(args.port, args.registry_port)
    if args.command == "stop":
        return stop()
    if args.command == "status":
        return status(args.port, args.registry_port)
    if args.command == "registry":
        print(registry_address(args.registry_port, args.port))
        return 0
    print(endpoint(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
