# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Private helpers of the docker_commit module: plain data in, plain data out, no Docker calls.

- ``build_config``: the module's options as the container configuration that ``POST /commit`` takes,
  validated (errors name the option and the value).
- ``simulate_merge``: what the engine does to that configuration before it writes the image (a port of
  moby's ``daemon/commit.go`` ``merge``), for check mode's prediction.
- ``find_leaks``: the differences between the configuration asked for and the one the image got.
- ``rewrite_raw_config``, ``read_saved_image``, ``config_only_archive``, ``loaded_image_id``: the pieces
  that give a committed image the exact configuration asked for, by loading a copy of its raw
  configuration with the leaked settings removed (see the module's documentation for why and when).

Not a public interface: the leading underscore says so.
"""

from __future__ import annotations

import copy
import io
import json
import re
import tarfile

from ansible_collections.community.docker.plugins.module_utils._util import convert_duration_to_nanosecond
from ansible_collections.community.docker.plugins.module_utils._util import is_valid_tag

# The engine's configuration keys this module sets, and the module option each one comes from.
OPTION_OF_KEY = {
    "Entrypoint": "entrypoint",
    "Cmd": "command",
    "Env": "env",
    "ExposedPorts": "exposed_ports",
    "Labels": "labels",
    "User": "user",
    "WorkingDir": "working_dir",
    "Volumes": "volumes",
    "Healthcheck": "healthcheck",
    "StopSignal": "stop_signal",
}
HEALTHCHECK_FIELDS = (
    ("Test", "test"),
    ("Interval", "interval"),
    ("Timeout", "timeout"),
    ("StartPeriod", "start_period"),
    ("Retries", "retries"),
)
HEALTHCHECK_TEST_KINDS = ("NONE", "CMD", "CMD-SHELL")
PORT_PROTOCOLS = ("tcp", "udp", "sctp")
# The engine refuses healthcheck durations between 0 and 1 ms (API ContainerCreate validation).
MIN_DURATION_NS = 1000000
STOP_SIGNAL_PATTERN = re.compile(r"^(?:[0-9]{1,2}|(?:SIG)?[A-Z][A-Z0-9]*(?:[+-][0-9]+)?)$")

# distribution/reference's grammar for a repository name (no tag, no digest).
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = r"%s(?:%s%s)*" % (_ALNUM, _SEPARATOR, _ALNUM)
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = r"%s(?:\.%s)*(?::[0-9]+)?" % (_DOMAIN_COMPONENT, _DOMAIN_COMPONENT)
REPOSITORY_PATTERN = re.compile(r"^(?:%s/)?%s(?:/%s)*$" % (_DOMAIN, _PATH_COMPONENT, _PATH_COMPONENT))
REPOSITORY_MAX_LENGTH = 255


class CommitConfigError(ValueError):
    """An option value the engine would refuse or misread; the message names the option and the value."""


def _string_mapping(option, value):
    """A dict of str to str from an option's dict, refusing what YAML would have turned into another type."""
    result = {}
    for key, item in (value or {}).items():
        key = str(key)
        if not key or "=" in key or "\0" in key:
            raise CommitConfigError("%s: key %r is not valid (empty, or contains '=' or NUL)" % (option, key))
        if item is None:
            raise CommitConfigError("%s.%s is null; give a string (\"\" for an empty value)" % (option, key))
        if isinstance(item, bool):
            raise CommitConfigError(
                "%s.%s is the boolean %s; quote it to say which string is meant (\"true\", \"1\", ...)"
                % (option, key, str(item).lower())
            )
        if isinstance(item, (dict, list, tuple)):
            raise CommitConfigError("%s.%s must be a string, not %r" % (option, key, item))
        result[key] = str(item)
    return result


def _string_list(option, value, allow_empty=True):
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise CommitConfigError("%s must be a list of strings, not %r" % (option, value))
    result = []
    for index, item in enumerate(value):
        if item is None or isinstance(item, (dict, list, tuple, bool)):
            raise CommitConfigError("%s[%d] must be a string, not %r" % (option, index, item))
        result.append(str(item))
    if not result and not allow_empty:
        raise CommitConfigError("%s must not be empty" % option)
    return result


def normalize_port(value):
    """``80``, ``"80"``, ``"80/tcp"`` -> ``"80/tcp"``; ``"53/udp"`` stays."""
    text = str(value).strip().lower()
    number, _sep, protocol = text.partition("/")
    protocol = protocol or "tcp"
    if isinstance(value, bool) or not number.isdigit() or protocol not in PORT_PROTOCOLS:
        raise CommitConfigError(
            "exposed_ports: %r is not a port; use a number or <number>/<%s>" % (value, "|".join(PORT_PROTOCOLS))
        )
    port = int(number)
    if not 1 <= port <= 65535:
        raise CommitConfigError("exposed_ports: %r is out of range (1 to 65535)" % (value,))
    return "%d/%s" % (port, protocol)


def _duration(name, value):
    if value is None:
        return 0
    try:
        nanoseconds = convert_duration_to_nanosecond(value)
    except ValueError:
        raise CommitConfigError(
            "healthcheck.%s: %r is not a duration; write it as community.docker does, for example 10s, 1m30s, 500ms"
            % (name, value)
        )
    if 0 < nanoseconds < MIN_DURATION_NS:
        raise CommitConfigError("healthcheck.%s: %r is shorter than 1ms, which the engine refuses" % (name, value))
    return nanoseconds


def build_healthcheck(value):
    """The engine's ``Healthcheck`` object from the module's ``healthcheck`` dict (None when not given)."""
    if not value:
        return None
    test = value.get("test")
    if test is None or test == [] or test == "":
        raise CommitConfigError("healthcheck.test is required when healthcheck is given")
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    else:
        test = _string_list("healthcheck.test", test, allow_empty=False)
        if test[0] not in HEALTHCHECK_TEST_KINDS:
            raise CommitConfigError(
                "healthcheck.test must start with one of %s (got %r); a string is run with CMD-SHELL"
                % (", ".join(HEALTHCHECK_TEST_KINDS), test[0])
            )
    if test[0] in ("CMD", "CMD-SHELL") and len(test) < 2:
        raise CommitConfigError("healthcheck.test %r has no command after %s" % (test, test[0]))
    retries = value.get("retries")
    if retries is not None and (isinstance(retries, bool) or int(retries) < 0):
        raise CommitConfigError("healthcheck.retries must be 0 or more, not %r" % (retries,))
    result = {"Test": test}
    for key, name in HEALTHCHECK_FIELDS[1:4]:
        nanoseconds = _duration(name, value.get(name))
        if nanoseconds:
            result[key] = nanoseconds
    if retries:
        result["Retries"] = int(retries)
    return result


def validate_repository(repository):
    if not repository:
        raise CommitConfigError("repository must not be empty")
    last = repository.rsplit("/", 1)[-1]
    if "@" in repository or ":" in last:
        raise CommitConfigError(
            "repository %r carries a tag or digest; give the name alone and the tag in the tag option" % repository
        )
    if len(repository) > REPOSITORY_MAX_LENGTH or not REPOSITORY_PATTERN.match(repository):
        raise CommitConfigError(
            "repository %r is not a valid image name (lower case letters, digits and . _ - separators, "
            "components joined by /, optionally after a registry host[:port]/)" % repository
        )


def validate_tag(tag):
    if not is_valid_tag(tag):
        raise CommitConfigError(
            "tag %r is not a valid tag (letters, digits, _ . -, not starting with . or -, at most 128)" % (tag,)
        )


def build_config(params):
    """The ``POST /commit`` body (a container configuration) for the module's options.

    Entrypoint and Cmd are always sent, empty when not asked for: an explicit empty Entrypoint is the
    one setting for which the engine's merge keeps the caller's "nothing" (see ``simulate_merge``).
    """
    working_dir = params.get("working_dir") or ""
    if working_dir and not working_dir.startswith("/"):
        raise CommitConfigError("working_dir must be an absolute path, not %r" % working_dir)
    volumes = _string_list("volumes", params.get("volumes")) or []
    for path in volumes:
        if not path.startswith("/"):
            raise CommitConfigError("volumes: %r is not an absolute path" % path)
    stop_signal = params.get("stop_signal") or ""
    if stop_signal and not STOP_SIGNAL_PATTERN.match(stop_signal):
        raise CommitConfigError(
            "stop_signal %r is not a signal name or number (for example SIGTERM, SIGWINCH, 28)" % stop_signal
        )
    env = _string_mapping("env", params.get("env"))
    ports = {}
    for port in params.get("exposed_ports") or []:
        ports[normalize_port(port)] = {}
    config = {
        "Entrypoint": _string_list("entrypoint", params.get("entrypoint")) or [],
        "Cmd": _string_list("command", params.get("command")) or [],
        "Env": ["%s=%s" % item for item in env.items()],
        "ExposedPorts": ports,
        "Labels": _string_mapping("labels", params.get("labels")),
        "User": params.get("user") or "",
        "WorkingDir": working_dir,
        "Volumes": dict((path, {}) for path in volumes),
    }
    healthcheck = build_healthcheck(params.get("healthcheck"))
    if healthcheck:
        config["Healthcheck"] = healthcheck
    if stop_signal:
        config["StopSignal"] = stop_signal
    return config


def _env_key(entry):
    return entry.split("=", 1)[0]


def simulate_merge(asked, container_config):
    """The configuration the engine writes into the image for ``asked`` (moby daemon/commit.go ``merge``).

    The engine fills what the caller left empty, and adds to lists and maps, from the committed
    container's own configuration: its user, ports, environment, labels, entrypoint and command,
    healthcheck fields, working directory, volumes and stop signal.
    """
    user = copy.deepcopy(asked)
    image = container_config or {}
    if not user.get("User"):
        user["User"] = image.get("User") or ""
    if not user.get("ExposedPorts"):
        user["ExposedPorts"] = copy.deepcopy(image.get("ExposedPorts"))
    elif image.get("ExposedPorts"):
        for port in image["ExposedPorts"]:
            user["ExposedPorts"].setdefault(port, {})
    if not user.get("Env"):
        user["Env"] = list(image.get("Env") or [])
    else:
        keys = set(_env_key(entry) for entry in user["Env"])
        user["Env"] = list(user["Env"]) + [e for e in image.get("Env") or [] if _env_key(e) not in keys]
    labels = dict(user.get("Labels") or {})
    for key, value in (image.get("Labels") or {}).items():
        labels.setdefault(key, value)
    user["Labels"] = labels
    if not user.get("Entrypoint"):
        if not user.get("Cmd"):
            user["Cmd"] = copy.deepcopy(image.get("Cmd"))
        if user.get("Entrypoint") is None:
            user["Entrypoint"] = copy.deepcopy(image.get("Entrypoint"))
    if image.get("Healthcheck"):
        if not user.get("Healthcheck"):
            user["Healthcheck"] = copy.deepcopy(image["Healthcheck"])
        else:
            for key, _name in HEALTHCHECK_FIELDS:
                if not user["Healthcheck"].get(key) and image["Healthcheck"].get(key):
                    user["Healthcheck"][key] = copy.deepcopy(image["Healthcheck"][key])
    if not user.get("WorkingDir"):
        user["WorkingDir"] = image.get("WorkingDir") or ""
    if not user.get("Volumes"):
        user["Volumes"] = copy.deepcopy(image.get("Volumes"))
    else:
        for path in image.get("Volumes") or {}:
            user["Volumes"][path] = {}
    if not user.get("StopSignal"):
        user["StopSignal"] = image.get("StopSignal") or ""
    return user


def _healthcheck_fields(value):
    value = value or {}
    return dict((name, value.get(key) or ([] if key == "Test" else 0)) for key, name in HEALTHCHECK_FIELDS)


def find_leaks(asked, actual):
    """Where the configuration ``actual`` differs from ``asked``, by option name (``labels.build-id``).

    Only names: an environment value may be a secret, so no value is ever reported.
    """
    actual = actual or {}
    leaks = []
    for key in ("Entrypoint", "Cmd"):
        if list(asked.get(key) or []) != list(actual.get(key) or []):
            leaks.append(OPTION_OF_KEY[key])
    for key in ("User", "WorkingDir", "StopSignal"):
        if (asked.get(key) or "") != (actual.get(key) or ""):
            leaks.append(OPTION_OF_KEY[key])
    asked_env = list(asked.get("Env") or [])
    actual_env = list(actual.get("Env") or [])
    env_leaks = sorted(
        set("env.%s" % _env_key(e) for e in actual_env if e not in asked_env)
        | set("env.%s" % _env_key(e) for e in asked_env if e not in actual_env)
    )
    if not env_leaks and asked_env != actual_env:
        env_leaks = ["env"]
    leaks.extend(env_leaks)
    for key in ("Labels", "ExposedPorts", "Volumes"):
        wanted, got = asked.get(key) or {}, actual.get(key) or {}
        option = OPTION_OF_KEY[key]
        for name in sorted(set(wanted) | set(got)):
            if key == "Labels" and wanted.get(name) != got.get(name) or (name in wanted) != (name in got):
                leaks.append("%s.%s" % (option, name))
    wanted, got = _healthcheck_fields(asked.get("Healthcheck")), _healthcheck_fields(actual.get("Healthcheck"))
    for _key, name in HEALTHCHECK_FIELDS:
        if wanted[name] != got[name]:
            leaks.append("healthcheck.%s" % name)
    return leaks


def container_config_leaks(asked, container_config):
    """The build container's environment entries and labels that an image's ``container_config`` would carry.

    The engine records the committed container's whole configuration there and pushes it with the
    image; a build-time secret in the container's environment would travel with it.
    """
    container_config = container_config or {}
    asked_env = set(asked.get("Env") or [])
    asked_labels = asked.get("Labels") or {}
    leaks = sorted(
        set("container_config.env.%s" % _env_key(e) for e in container_config.get("Env") or [] if e not in asked_env)
    )
    leaks.extend(
        "container_config.labels.%s" % key
        for key, value in sorted((container_config.get("Labels") or {}).items())
        if asked_labels.get(key) != value
    )
    return leaks


def rewrite_raw_config(raw, asked):
    """A copy of an image's raw configuration (the JSON ``docker save`` holds) with exactly ``asked``.

    Keys are written as the engine writes them for a container configuration (null lists and maps,
    omitted ``ExposedPorts``, ``Healthcheck`` and ``StopSignal`` when empty). The build container's
    configuration and id (``container_config``, ``container``) are dropped; layers, history, author,
    comment and creation time are kept.
    """
    result = copy.deepcopy(raw)
    config = result.get("config") or {}
    for key in ("Entrypoint", "Cmd", "Env", "Labels", "Volumes"):
        config[key] = copy.deepcopy(asked.get(key)) or None
    for key in ("User", "WorkingDir"):
        config[key] = asked.get(key) or ""
    for key in ("ExposedPorts", "Healthcheck", "StopSignal"):
        if asked.get(key):
            config[key] = copy.deepcopy(asked[key])
        else:
            config.pop(key, None)
    config.pop("ArgsEscaped", None)
    result["config"] = config
    result.pop("container_config", None)
    result.pop("container", None)
    return result


def read_saved_image(fileobj):
    """``(raw configuration bytes, layer paths)`` of the one image in a ``docker save`` stream.

    Reads the stream once, front to back, keeping only the small JSON files at its top level: the
    layers are skipped, never held in memory.
    """
    files = {}
    try:
        with tarfile.open(fileobj=fileobj, mode="r|") as archive:
            for member in archive:
                name = member.name[2:] if member.name.startswith("./") else member.name
                if member.isfile() and "/" not in name and name.endswith(".json"):
                    files[name] = archive.extractfile(member).read()
    except tarfile.TarError as exc:
        raise ValueError("the engine's image archive could not be read: %s" % exc)
    if "manifest.json" not in files:
        raise ValueError("the saved image has no manifest.json (an engine with another image store?)")
    manifest = json.loads(files["manifest.json"])
    if not isinstance(manifest, list) or len(manifest) != 1:
        raise ValueError("the saved image's manifest.json lists %d images, not one" % len(manifest or []))
    entry = manifest[0]
    if entry.get("Config") not in files:
        raise ValueError("the saved image has no configuration file %r" % entry.get("Config"))
    return files[entry["Config"]], list(entry.get("Layers") or [])


def config_only_archive(raw_config, layers):
    """A ``docker load`` archive of a configuration without its layers (the engine holds them already).

    The engine looks each layer up by chain id before it opens the layer's file, so the files named
    in the manifest need not be in the archive when the image's layers exist on the engine.
    """
    config_bytes = json.dumps(raw_config, separators=(",", ":"), sort_keys=True).encode("utf-8")
    manifest = json.dumps([{"Config": "config.json", "RepoTags": None, "Layers": layers}]).encode("utf-8")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in (("config.json", config_bytes), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def loaded_image_id(messages):
    """The image id that ``POST /images/load`` reports, from its decoded JSON messages; raises on an error."""
    image_id = None
    texts = []
    for message in messages:
        if message.get("errorDetail") or message.get("error"):
            detail = message.get("errorDetail") or {}
            raise ValueError(detail.get("message") or message.get("error"))
        text = message.get("stream") or message.get("status") or ""
        texts.append(text.strip())
        match = re.search(r"Loaded image ID: (sha256:[0-9a-f]{64})", text)
        if match:
            image_id = match.group(1)
    if image_id is None:
        raise ValueError("the engine did not report a loaded image id: %s" % " ".join(t for t in texts if t))
    return image_id
