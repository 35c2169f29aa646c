# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Unit tests of autostack.wordpress.docker_commit: options to engine configuration, the engine's merge, leak
detection, the configuration rewrite (saved-image reading, config-only archive, load output), and the module's
paths that the real engine does not take here (a refused rewrite).

The module's calls to the engine are exercised against the real engine in
tests/integration/test_docker_commit.py.
"""

from __future__ import annotations

import copy
import io
import json
import tarfile

import pytest
from ansible_collections.community.docker.plugins.module_utils._api.errors import APIError

from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import CommitConfigError
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import build_config
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import config_only_archive
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import container_config_leaks
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import find_leaks
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import loaded_image_id
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import normalize_port
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import read_saved_image
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import rewrite_raw_config
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import simulate_merge
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import validate_repository
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import validate_tag
from ansible_collections.autostack.wordpress.plugins.modules.docker_commit import DockerCommit

FULL = dict(
    entrypoint=["/usr/local/bin/autostack-entrypoint"],
    command=["apache2", "-DFOREGROUND"],
    env={"WORDPRESS_TABLE_PREFIX": "wp_", "WORDPRESS_DB_WAIT_TIMEOUT": 60},
    exposed_ports=[80, "8443/tcp", "53/udp"],
    labels={"org.autostack.port": "80"},
    user="www-data",
    working_dir="/var/www/wordpress",
    volumes=["/var/www/uploads"],
    healthcheck=dict(test=["CMD", "/usr/local/bin/autostack-healthcheck"], interval="10s", timeout="3s",
                     start_period="1m30s", retries=3),
    stop_signal="SIGWINCH",
)

# A build container's configuration: everything the engine would merge into a commit.
CONTAINER = {
    "Hostname": "d0b1257c5ed3",
    "User": "builder",
    "Env": ["PATH=/usr/bin:/bin", "BUILD_SECRET=s3cret", "WORDPRESS_TABLE_PREFIX=old_"],
    "Cmd": ["sleep", "infinity"],
    "Entrypoint": None,
    "ExposedPorts": {"9999/tcp": {}},
    "Labels": {"build.id": "42", "org.autostack.port": "8080"},
    "WorkingDir": "/build",
    "Volumes": {"/cache": {}},
    "Healthcheck": {"Test": ["CMD", "true"], "Interval": 5000000000, "Retries": 7},
    "StopSignal": "SIGUSR1",
    "Image": "debian:bookworm-slim",
}


def test_build_config_full():
    config = build_config(FULL)
    assert config == {
        "Entrypoint": ["/usr/local/bin/autostack-entrypoint"],
        "Cmd": ["apache2", "-DFOREGROUND"],
        "Env": ["WORDPRESS_TABLE_PREFIX=wp_", "WORDPRESS_DB_WAIT_TIMEOUT=60"],
        "ExposedPorts": {"80/tcp": {}, "8443/tcp": {}, "53/udp": {}},
        "Labels": {"org.autostack.port": "80"},
        "User": "www-data",
        "WorkingDir": "/var/www/wordpress",
        "Volumes": {"/var/www/uploads": {}},
        "Healthcheck": {
            "Test": ["CMD", "/usr/local/bin/autostack-healthcheck"],
            "Interval": 10 * 10**9,
            "Timeout": 3 * 10**9,
            "StartPeriod": 90 * 10**9,
            "Retries": 3,
        },
        "StopSignal": "SIGWINCH",
    }


def test_build_config_nothing_asked_is_explicitly_empty():
    config = build_config({})
    # Entrypoint [] (not null) is what keeps the engine from copying the container's entrypoint.
    assert config == {"Entrypoint": [], "Cmd": [], "Env": [], "ExposedPorts": {}, "Labels": {}, "User": "",
                      "WorkingDir": "", "Volumes": {}}


def test_healthcheck_string_runs_with_shell_and_none_disables():
    assert build_config({"healthcheck": {"test": "curl -f http://localhost/"}})["Healthcheck"] == {
        "Test": ["CMD-SHELL", "curl -f http://localhost/"]
    }
    assert build_config({"healthcheck": {"test": ["NONE"]}})["Healthcheck"] == {"Test": ["NONE"]}


@pytest.mark.parametrize(
    "params, message",
    [
        ({"env": {"DEBUG": True}}, "env.DEBUG is the boolean true"),
        ({"env": {"X": None}}, "env.X is null"),
        ({"env": {"A=B": "1"}}, "env: key 'A=B'"),
        ({"env": {"X": [1]}}, "env.X must be a string"),
        ({"labels": {"flag": False}}, "labels.flag is the boolean false"),
        ({"exposed_ports": ["http"]}, "exposed_ports: 'http' is not a port"),
        ({"exposed_ports": [0]}, "exposed_ports: 0 is out of range"),
        ({"exposed_ports": ["70000/tcp"]}, "out of range"),
        ({"exposed_ports": ["80/icmp"]}, "'80/icmp' is not a port"),
        ({"exposed_ports": [True]}, "True is not a port"),
        ({"working_dir": "var/www"}, "working_dir must be an absolute path, not 'var/www'"),
        ({"volumes": ["data"]}, "volumes: 'data' is not an absolute path"),
        ({"healthcheck": {"interval": "10s"}}, "healthcheck.test is required"),
        ({"healthcheck": {"test": ["curl", "-f"]}}, "healthcheck.test must start with one of NONE, CMD, CMD-SHELL"),
        ({"healthcheck": {"test": ["CMD"]}}, "has no command after CMD"),
        ({"healthcheck": {"test": "true", "interval": "10"}}, "healthcheck.interval: '10' is not a duration"),
        ({"healthcheck": {"test": "true", "timeout": "ten seconds"}}, "healthcheck.timeout"),
        ({"healthcheck": {"test": "true", "start_period": "500us"}}, "healthcheck.start_period: '500us' is shorter"),
        ({"healthcheck": {"test": "true", "retries": -1}}, "healthcheck.retries must be 0 or more"),
        ({"stop_signal": "sigterm; rm"}, "stop_signal 'sigterm; rm' is not a signal"),
        ({"command": "apache2 -DFOREGROUND"}, "command must be a list of strings"),
    ],
)
def test_build_config_refuses_bad_values_naming_option_and_value(params, message):
    with pytest.raises(CommitConfigError) as error:
        build_config(params)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "value, expected",
    [(80, "80/tcp"), ("80", "80/tcp"), ("80/tcp", "80/tcp"), ("53/UDP", "53/udp"), (" 8080/sctp ", "8080/sctp")],
)
def test_normalize_port(value, expected):
    assert normalize_port(value) == expected


@pytest.mark.parametrize("signal", ["SIGWINCH", "SIGTERM", "WINCH", "28", "SIGRTMIN+3"])
def test_stop_signals_accepted(signal):
    assert build_config({"stop_signal": signal})["StopSignal"] == signal


@pytest.mark.parametrize(
    "repository",
    ["wordpress", "stack/wordpress", "127.0.0.1:4576/stack/wordpress", "registry.example.com/a_b/c-d.e",
     "123456789012.dkr.ecr.eu-west-1.amazonaws.com/wp/wordpress", "localhost:5000/x__y"],
)
def test_valid_repositories(repository):
    validate_repository(repository)


@pytest.mark.parametrize(
    "repository, message",
    [
        ("wordpress:latest", "carries a tag or digest"),
        ("127.0.0.1:4576/wp:1", "carries a tag or digest"),
        ("wp@sha256:abc", "carries a tag or digest"),
        ("WordPress", "not a valid image name"),
        ("wp//x", "not a valid image name"),
        ("-wp", "not a valid image name"),
        ("", "must not be empty"),
    ],
)
def test_invalid_repositories(repository, message):
    with pytest.raises(CommitConfigError, match=message):
        validate_repository(repository)


def test_tags():
    validate_tag("6.8.1-0123456789ab")
    for bad in ("", ".x", "a" * 129, "a/b", "a:b"):
        with pytest.raises(CommitConfigError, match="not a valid tag"):
            validate_tag(bad)


def test_merge_of_a_full_ask_only_adds_to_lists_and_maps():
    asked = build_config(FULL)
    merged = simulate_merge(asked, CONTAINER)
    # Asked values win; the container adds its other labels, variables, ports and volumes.
    assert merged["Labels"] == {"org.autostack.port": "80", "build.id": "42"}
    assert merged["Env"] == asked["Env"] + ["PATH=/usr/bin:/bin", "BUILD_SECRET=s3cret"]
    assert merged["ExposedPorts"] == {"80/tcp": {}, "8443/tcp": {}, "53/udp": {}, "9999/tcp": {}}
    assert merged["Volumes"] == {"/var/www/uploads": {}, "/cache": {}}
    assert merged["User"] == "www-data" and merged["StopSignal"] == "SIGWINCH"
    assert merged["Cmd"] == asked["Cmd"] and merged["Healthcheck"] == asked["Healthcheck"]
    assert find_leaks(asked, merged) == [
        "env.BUILD_SECRET", "env.PATH", "labels.build.id", "exposed_ports.9999/tcp", "volumes./cache"
    ]
    assert asked == build_config(FULL), "simulate_merge must not change its input"


def test_merge_of_an_empty_ask_takes_everything_from_the_container():
    asked = build_config({})
    merged = simulate_merge(asked, CONTAINER)
    assert merged["Cmd"] == ["sleep", "infinity"]
    assert merged["Entrypoint"] == []
    assert merged["Healthcheck"] == CONTAINER["Healthcheck"]
    assert find_leaks(asked, merged) == [
        "command", "user", "working_dir", "stop_signal", "env.BUILD_SECRET", "env.PATH",
        "env.WORDPRESS_TABLE_PREFIX", "labels.build.id", "labels.org.autostack.port", "exposed_ports.9999/tcp",
        "volumes./cache", "healthcheck.test", "healthcheck.interval", "healthcheck.retries",
    ]


def test_merge_fills_healthcheck_fields_left_out_and_a_null_entrypoint():
    asked = build_config({"healthcheck": {"test": ["CMD", "check"]}})
    asked["Entrypoint"] = None
    merged = simulate_merge(asked, dict(CONTAINER, Entrypoint=["/init"]))
    assert merged["Healthcheck"] == {"Test": ["CMD", "check"], "Interval": 5000000000, "Retries": 7}
    assert merged["Entrypoint"] == ["/init"]
    assert "healthcheck.interval" in find_leaks(build_config({"healthcheck": {"test": ["CMD", "check"]}}), merged)


def test_command_is_not_inherited_when_an_entrypoint_is_asked():
    asked = build_config({"entrypoint": ["/bin/app"]})
    assert simulate_merge(asked, CONTAINER)["Cmd"] == []


def test_clean_container_leaks_nothing():
    asked = build_config(FULL)
    clean = {"Cmd": ["sleep", "infinity"], "Image": "sha256:abc", "Env": None, "Labels": None}
    assert find_leaks(asked, simulate_merge(asked, clean)) == []
    assert container_config_leaks(asked, clean) == []


def test_leaks_name_keys_never_values():
    asked = build_config({})
    leaks = find_leaks(asked, simulate_merge(asked, CONTAINER)) + container_config_leaks(asked, CONTAINER)
    assert not [leak for leak in leaks if "s3cret" in leak]


def test_find_leaks_sees_a_changed_value_and_equivalent_empties():
    asked = build_config({"env": {"A": "1"}, "labels": {"k": "v"}})
    assert find_leaks(asked, dict(asked, Env=["A=2"])) == ["env.A"]
    assert find_leaks(asked, dict(asked, Labels={"k": "w"})) == ["labels.k"]
    assert find_leaks(asked, dict(asked, Env=["A=1", "A=1"])) == ["env"]
    # The engine writes null where the body had an empty list or map.
    assert find_leaks(asked, dict(asked, Entrypoint=None, Cmd=None, Volumes=None, ExposedPorts=None)) == []


def test_container_config_leaks_are_the_container_env_and_labels_not_asked():
    asked = build_config({"env": {"PATH": "/usr/bin:/bin"}, "labels": {"build.id": "42"}})
    assert container_config_leaks(asked, CONTAINER) == [
        "container_config.env.BUILD_SECRET",
        "container_config.env.WORDPRESS_TABLE_PREFIX",
        "container_config.labels.org.autostack.port",
    ]


RAW = {
    "architecture": "amd64",
    "os": "linux",
    "author": "me",
    "created": "2026-01-01T00:00:00.1Z",
    "docker_version": "20.10.24",
    "container": "d0b1257c5ed3",
    "config": dict(simulate_merge(build_config(FULL), CONTAINER), Hostname="", ArgsEscaped=True, OnBuild=None),
    "container_config": copy.deepcopy(CONTAINER),
    "history": [{"created": "2026-01-01T00:00:00Z", "comment": "Imported"}, {"created": "2026-01-01T00:00:00.1Z"}],
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64, "sha256:" + "2" * 64]},
}


def test_rewrite_gives_exactly_the_asked_configuration_and_keeps_the_rest():
    asked = build_config(FULL)
    rewritten = rewrite_raw_config(RAW, asked)
    assert find_leaks(asked, rewritten["config"]) == []
    assert "container_config" not in rewritten and "container" not in rewritten
    assert "ArgsEscaped" not in rewritten["config"]
    assert rewritten["config"]["Hostname"] == ""
    for key in ("architecture", "os", "author", "created", "docker_version", "history", "rootfs"):
        assert rewritten[key] == RAW[key]
    assert RAW["config"]["Labels"]["build.id"] == "42", "the input must not change"


def test_rewrite_of_an_empty_ask_writes_engine_style_empties():
    config = rewrite_raw_config(RAW, build_config({}))["config"]
    assert config["Entrypoint"] is None and config["Cmd"] is None and config["Env"] is None
    assert config["Labels"] is None and config["Volumes"] is None
    assert config["User"] == "" and config["WorkingDir"] == ""
    assert "ExposedPorts" not in config and "Healthcheck" not in config and "StopSignal" not in config


def _tar(entries):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class OneWayStream(io.RawIOBase):
    """A stream that cannot seek, as the engine's HTTP response."""

    def __init__(self, data):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, buffer):
        chunk = self._data.read(min(len(buffer), 4096))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def saved_image(manifest=None, config_name="c0ffee.json"):
    config = json.dumps(RAW).encode()
    layers = ["aaa/layer.tar", "bbb/layer.tar"]
    if manifest is None:
        manifest = [{"Config": config_name, "RepoTags": None, "Layers": layers}]
    return _tar([
        ("aaa", None), ("aaa/VERSION", b"1.0"), ("aaa/json", b"{}"), ("aaa/layer.tar", b"x" * 100000),
        (config_name, config),
        ("bbb", None), ("bbb/json", b"{}"), ("bbb/layer.tar", b"y" * 3000),
        ("manifest.json", json.dumps(manifest).encode()),
        ("repositories", b"{}"),
    ]), config, layers


def test_read_saved_image_from_a_stream():
    data, config, layers = saved_image()
    assert read_saved_image(OneWayStream(data)) == (config, layers)


@pytest.mark.parametrize(
    "manifest, message",
    [
        ([], "lists 0 images, not one"),
        ([{"Config": "c0ffee.json"}, {"Config": "c0ffee.json"}], "lists 2 images"),
        ([{"Config": "other.json", "Layers": []}], "no configuration file 'other.json'"),
    ],
)
def test_read_saved_image_refuses_what_it_cannot_rewrite(manifest, message):
    data, _config, _layers = saved_image(manifest=manifest)
    with pytest.raises(ValueError, match=message):
        read_saved_image(OneWayStream(data))


def test_read_saved_image_needs_a_manifest_and_a_tar():
    with pytest.raises(ValueError, match="no manifest.json"):
        read_saved_image(OneWayStream(_tar([("index.json", b"{}")])))
    with pytest.raises(ValueError, match="could not be read"):
        read_saved_image(OneWayStream(b"not a tar archive" * 100))


def test_config_only_archive_holds_the_configuration_and_names_the_layers():
    asked = build_config(FULL)
    layers = ["aaa/layer.tar", "bbb/layer.tar"]
    data = config_only_archive(rewrite_raw_config(RAW, asked), layers)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        assert archive.getnames() == ["config.json", "manifest.json"]
        config = json.loads(archive.extractfile("config.json").read())
        manifest = json.loads(archive.extractfile("manifest.json").read())
    assert manifest == [{"Config": "config.json", "RepoTags": None, "Layers": layers}]
    assert config["config"]["Labels"] == {"org.autostack.port": "80"}
    assert config["rootfs"] == RAW["rootfs"]
    # Same input, same bytes: the image id (the configuration's digest) does not depend on dict order.
    assert data == config_only_archive(rewrite_raw_config(RAW, asked), layers)


def test_loaded_image_id():
    image_id = "sha256:" + "e4" * 32
    assert loaded_image_id([{"stream": "Loaded image ID: %s\n" % image_id}]) == image_id
    with pytest.raises(ValueError, match="layer does not exist"):
        loaded_image_id([{"errorDetail": {"message": "layer does not exist"}, "error": "layer does not exist"}])
    with pytest.raises(ValueError, match="did not report a loaded image id: Loaded image: x:1"):
        loaded_image_id([{"stream": "Loaded image: x:1\n"}])


# The module's control flow, for the paths the real engine of the integration tests does not take: a
# rewrite that the engine refuses (an engine with another image store), and check mode's prediction.

class Failed(Exception):
    pass


class FakeEngine:
    """Answers as Docker Engine 20.10 does, up to the load of a rewritten configuration, which it refuses."""

    def __init__(self, params, check_mode=False):
        self.check_mode = check_mode
        self.module = type("Module", (), {"params": params, "check_mode": check_mode, "warn": self._warn})()
        self.calls = []
        self.warnings = []
        self.images = {}

    def _warn(self, message):
        self.warnings.append(message)

    def fail(self, msg, **kwargs):
        raise Failed(msg)

    def get_container(self, name):
        return {"Id": "c0ffee", "Name": "/" + name, "Config": copy.deepcopy(CONTAINER)}

    def post_json_to_json(self, path, params=None, data=None):
        self.calls.append(("commit", params))
        self.images["sha256:intermediate"] = {"Id": "sha256:intermediate", "Config": simulate_merge(data, CONTAINER),
                                              "ContainerConfig": copy.deepcopy(CONTAINER)}
        return {"Id": "sha256:intermediate"}

    def find_image_by_id(self, image_id):
        return self.images[image_id]

    def _url(self, path, *args):
        return path.format(*args)

    def _get(self, url, **kwargs):
        self.calls.append(("save", url))
        raise APIError("the image store cannot export a configuration alone")

    def delete_json(self, path, image_id, params=None):
        self.calls.append(("delete", image_id, params))
        self.images.pop(image_id, None)

    def post_call(self, path, image_id, params=None):
        self.calls.append(("tag", image_id, params))


def params(**kwargs):
    result = dict(container="build", repository="wp", tag="latest", pause=True, strict=True, author=None,
                  comment=None)
    result.update(kwargs)
    return result


def test_check_mode_predicts_and_calls_nothing():
    engine = FakeEngine(params(**FULL), check_mode=True)
    result = DockerCommit(engine).run()
    assert result["changed"] is True and result["config"] == build_config(FULL)
    assert "labels.build.id" in result["leaks"] and "container_config.env.BUILD_SECRET" in result["leaks"]
    assert engine.calls == []


def test_bad_option_fails_before_any_call():
    engine = FakeEngine(params(repository="wp:1"))
    with pytest.raises(Failed, match="carries a tag"):
        DockerCommit(engine).run()
    assert engine.calls == []


def test_refused_rewrite_fails_naming_the_leaks_and_leaves_no_image():
    engine = FakeEngine(params(**FULL))
    with pytest.raises(Failed) as error:
        DockerCommit(engine).run()
    message = str(error.value)
    assert "env.BUILD_SECRET" in message and "labels.build.id" in message and "s3cret" not in message
    assert "cannot export a configuration alone" in message and "strict=false" in message
    assert engine.calls[-1] == ("delete", "sha256:intermediate", {"noprune": "1"})
    assert engine.images == {} and not [call for call in engine.calls if call[0] == "tag"]


def test_strict_false_warns_and_tags_the_merged_commit():
    engine = FakeEngine(params(strict=False, comment="c", **FULL))
    result = DockerCommit(engine).run()
    assert result["rewritten"] is False and result["image_id"] == "sha256:intermediate"
    assert engine.calls[0] == ("commit", {"container": "c0ffee", "pause": "1", "comment": "c"})
    assert engine.calls[-1] == ("tag", "sha256:intermediate", {"repo": "wp", "tag": "latest"})
    assert "labels.build.id" in engine.warnings[0] and "s3cret" not in engine.warnings[0]
