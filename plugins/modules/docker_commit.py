#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: docker_commit
version_added: 0.1.0
short_description: Commit a Docker container to an image with its runtime configuration
description:
  - Creates an image from a container's file system (C(docker commit)) and gives it the runtime configuration
    asked for (entrypoint, command, environment, exposed ports, labels, user, working directory, volumes,
    healthcheck and stop signal).
  - Fills a gap; community.docker has no commit module. This one talks to the engine through community.docker's
    own API client, so it takes the same connection options (O(docker_host), TLS, O(timeout), ...) and
    environment variables as the community.docker modules.
  - The configuration goes in the body of the engine's C(POST /commit) call, not as Dockerfile C(changes), so
    every setting works, C(STOPSIGNAL) included (which C(docker commit --change) refuses).
  - B(What the image gets is exactly what is asked for.) The engine merges the committed container's own
    configuration into the image (moby C(daemon/commit.go) C(merge)). The container's labels and environment
    variables are added to those asked for, its exposed ports and volumes too, its command is kept when neither
    O(entrypoint) nor O(command) is given, and its user, working directory, healthcheck fields and stop signal fill
    in those left out. It also records the container's whole configuration, environment included, as the image's
    C(container_config), which is pushed with the image. With O(strict=true) the module compares the committed
    image with what was asked and, when anything leaked in, loads a copy of the image's configuration with the
    leaks removed (C(docker load) of the configuration alone; the layers are on the engine already, so no layer
    is copied). The image id is then that copy's. The intermediate image is deleted.
  - An option left out means "none" in the image (no labels, no environment, root user, no healthcheck, ...), not
    "whatever the container had". To keep a setting of the base image, such as its C(PATH), name it.
  - To avoid the extra step, start the build container with nothing of its own (no labels, no environment, a
    base image without configuration); then the commit is already exact and nothing is rewritten.
  - A commit always creates a new image, so the module always reports a change. The caller decides when to commit
    (for example only when no image of the same inputs exists yet).
  - An image that already had O(repository):O(tag) keeps its id but loses that name, as with C(docker commit).
author:
  - autostack contributors (@autostack)
options:
  container:
    description:
      - Name or id of the container to commit. It may be running (see O(pause)) or stopped.
    type: str
    required: true
  repository:
    description:
      - Name of the image to create, without tag, for example C(wordpress) or C(127.0.0.1:4576/stack/wordpress).
    type: str
    required: true
  tag:
    description:
      - Tag of the image to create.
    type: str
    default: latest
  entrypoint:
    description:
      - The image's entrypoint, as a list (exec form). Left out or empty, the image has none.
    type: list
    elements: str
  command:
    description:
      - The image's command (C(CMD)), as a list (exec form), or the entrypoint's arguments when O(entrypoint) is given.
      - Left out, the image has none.
    type: list
    elements: str
  env:
    description:
      - Environment variables of the image, as a mapping of name to value. Values must be strings or numbers;
        quote C(true), C(yes) and the like to say which string is meant.
      - Do not put secrets here; anyone who can pull the image can read them.
    type: dict
  exposed_ports:
    description:
      - Ports the image exposes (C(EXPOSE)), as V(80), V("80/tcp") or V("53/udp"). A bare number is TCP.
    type: list
    elements: raw
  labels:
    description:
      - Labels of the image, as a mapping of key to string value.
    type: dict
  user:
    description:
      - User (name or uid, optionally C(:group)) that the image's processes run as. Left out, root.
    type: str
  working_dir:
    description:
      - Working directory of the image's processes, an absolute path.
    type: str
  volumes:
    description:
      - Paths inside the image declared as volumes (C(VOLUME)); absolute paths.
    type: list
    elements: str
  healthcheck:
    description:
      - The image's healthcheck (C(HEALTHCHECK)). Left out, the image has none.
    type: dict
    suboptions:
      test:
        description:
          - The command. A list starting with V(CMD) (run directly), V(CMD-SHELL) (run with C(/bin/sh -c)) or V(NONE)
            (no healthcheck, overriding a base image's); a string is run with C(CMD-SHELL).
        type: raw
        required: true
      interval:
        description:
          - Time between two checks, as community.docker writes durations (C(<n>h<n>m<n>s<n>ms<n>us), for
            example V(10s), V(1m30s)). Left out, the engine's default (30s).
        type: str
      timeout:
        description:
          - Time after which a check counts as failed. Same format as O(healthcheck.interval). Left out, 30s.
        type: str
      start_period:
        description:
          - Time after start during which failed checks do not count. Same format as O(healthcheck.interval).
        type: str
      retries:
        description:
          - Consecutive failures that make the container unhealthy. Left out, the engine's default (3).
        type: int
  stop_signal:
    description:
      - Signal that C(docker stop) sends to the image's main process (C(STOPSIGNAL)), for example V(SIGWINCH).
    type: str
  author:
    description:
      - Author recorded in the image.
    type: str
  comment:
    description:
      - Comment recorded in the image's history.
    type: str
  pause:
    description:
      - Pause a running container while its file system is committed, so that the image is consistent.
    type: bool
    default: true
  strict:
    description:
      - V(true) makes the image's configuration exactly what was asked for, removing what the engine merged in
        from the container (see the description), and fails if that is not possible; the failure lists the
        leaked settings by name (never by value) and leaves no image behind.
      - V(false) keeps the engine's merged configuration and only warns, listing the leaked settings.
    type: bool
    default: true
extends_documentation_fragment:
  - community.docker._docker.api_documentation
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Commits nothing; checks the options and that the container exists, and returns the configuration the image
        would get (RV(config)) and the settings the engine would merge in from the container (RV(leaks)).
  diff_mode:
    support: none
  idempotent:
    description: Whether a second run with the same parameters reports no change.
    support: none
    details:
      - Every run creates a new image; decide in the play whether to commit.
  platform:
    platforms: posix
notes:
  - Tested with Docker Engine 20.10 (API 1.41). The configuration rewrite needs an engine whose C(docker load)
    accepts an archive without the layers it holds already, as the classic image store does. An engine that
    refuses it makes the module fail (O(strict=true)) whenever something leaked; start the build container with
    nothing of its own then, or use O(strict=false).
  - Module defaults for the community.docker action group do not reach this module; set connection options on
    the task or through C(DOCKER_*) environment variables.
  - The module uses community.docker's API client and doc fragment, which community.docker 5 declares private
    (they may change in any release of community.docker).
requirements:
  - community.docker >= 5.0.0
seealso:
  - module: community.docker.docker_container
  - module: community.docker.docker_image_push
"""

EXAMPLES = r"""
- name: Commit the build container as the WordPress image
  autostack.wordpress.docker_commit:
    container: wp-build
    repository: 127.0.0.1:4576/wordpress/wordpress
    tag: 6.8.1-0123456789ab
    entrypoint: [/usr/local/bin/autostack-entrypoint]
    command: [apache2, -DFOREGROUND]
    env:
      WORDPRESS_TABLE_PREFIX: wp_
    exposed_ports: ["80/tcp"]
    labels:
      org.opencontainers.image.version: 6.8.1
    user: www-data
    working_dir: /usr/share/wordpress
    healthcheck:
      test: [CMD, /usr/local/bin/autostack-healthcheck]
      interval: 10s
      timeout: 3s
      start_period: 90s
      retries: 3
    stop_signal: SIGWINCH
  register: commit

- name: Show the new image id
  ansible.builtin.debug:
    msg: "{{ commit.image_id }}"
"""

RETURN = r"""
image_id:
  description: Id of the image created.
  returned: success, not in check mode
  type: str
  sample: sha256:e42d040822ac6316e053750e1373ca9294d555d64538847278c031b0cacfebe8
image:
  description: The image's inspection result, as C(docker image inspect) gives it.
  returned: success, not in check mode
  type: dict
config:
  description: The configuration asked for, as the engine writes it (C(Entrypoint), C(Cmd), C(Env), C(ExposedPorts),
    C(Labels), C(User), C(WorkingDir), C(Volumes), C(Healthcheck) with durations in nanoseconds, C(StopSignal)).
  returned: always
  type: dict
  sample: {"Entrypoint": ["/usr/local/bin/autostack-entrypoint"], "Cmd": ["apache2", "-DFOREGROUND"],
           "Env": ["WORDPRESS_TABLE_PREFIX=wp_"], "ExposedPorts": {"80/tcp": {}}, "Labels": {}, "User": "www-data",
           "WorkingDir": "/usr/share/wordpress", "Volumes": {}, "StopSignal": "SIGWINCH",
           "Healthcheck": {"Test": ["CMD", "/usr/local/bin/autostack-healthcheck"], "Interval": 10000000000}}
leaks:
  description:
    - Settings the engine merged into the commit from the container, by option name (C(labels.<key>),
      C(env.<name>), C(command), C(container_config.env.<name>), ...); never values.
    - With O(strict=true) they were removed from the image; with O(strict=false) the image keeps them.
    - In check mode, the settings the engine would merge in.
  returned: always
  type: list
  elements: str
  sample: ["env.BUILD_ID", "labels.build", "container_config.env.BUILD_ID"]
rewritten:
  description: Whether the image's configuration was rewritten to remove leaks (the image id is the rewritten one).
  returned: success, not in check mode
  type: bool
"""

import json
import traceback

from ansible_collections.community.docker.plugins.module_utils._api.errors import DockerException
from ansible_collections.community.docker.plugins.module_utils._common_api import AnsibleDockerClient
from ansible_collections.community.docker.plugins.module_utils._common_api import RequestException

from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import CommitConfigError
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import build_config
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import config_only_archive
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import container_config_leaks
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import find_leaks
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import loaded_image_id
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import read_saved_image
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import rewrite_raw_config
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import simulate_merge
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import validate_repository
from ansible_collections.autostack.wordpress.plugins.module_utils._docker_commit import validate_tag


class DockerCommit:
    def __init__(self, client):
        self.client = client
        self.params = client.module.params

    def image_leaks(self, asked, image):
        return find_leaks(asked, image.get("Config")) + container_config_leaks(asked, image.get("ContainerConfig"))

    def remove_image(self, image_id):
        # noprune: deleting our untagged intermediate must never take an untagged parent with it.
        try:
            self.client.delete_json("/images/{0}", image_id, params={"noprune": "1"})
        except (DockerException, RequestException) as exc:
            self.client.module.warn("Could not remove the intermediate image %s: %s" % (image_id, exc))

    def rewrite(self, image_id, asked):
        """Load a copy of the image's configuration with exactly ``asked``; returns the copy's id."""
        response = self.client._get(self.client._url("/images/{0}/get", image_id), stream=True)
        self.client._raise_for_status(response)
        try:
            raw_bytes, layers = read_saved_image(response.raw)
        finally:
            response.close()
        raw = json.loads(raw_bytes.decode("utf-8"))
        archive = config_only_archive(rewrite_raw_config(raw, asked), layers)
        response = self.client._post(
            self.client._url("/images/load"),
            params={"quiet": "1"},
            data=archive,
            headers={"Content-Type": "application/x-tar"},
            stream=True,
        )
        self.client._raise_for_status(response)
        return loaded_image_id(self.client._stream_helper(response, decode=True))

    def run(self):
        params = self.params
        try:
            validate_repository(params["repository"])
            validate_tag(params["tag"])
            asked = build_config(params)
        except CommitConfigError as exc:
            self.client.fail(str(exc))
        container = self.client.get_container(params["container"])
        if container is None:
            self.client.fail("Container %s does not exist" % params["container"])
        predicted = simulate_merge(asked, container.get("Config"))
        leaks = find_leaks(asked, predicted) + container_config_leaks(asked, container.get("Config"))
        result = dict(changed=True, config=asked, leaks=leaks)
        if self.client.check_mode:
            return result

        query = {"container": container["Id"], "pause": "1" if params["pause"] else "0"}
        for name in ("author", "comment"):
            if params[name]:
                query[name] = params[name]
        committed_id = self.client.post_json_to_json("/commit", params=query, data=asked)["Id"]
        image_id = committed_id
        image = self.client.find_image_by_id(image_id)
        leaks = self.image_leaks(asked, image)
        result.update(leaks=leaks, rewritten=False)
        if leaks and not params["strict"]:
            self.client.module.warn(
                "The engine merged settings of container %s into image %s: %s (strict=false keeps them)"
                % (params["container"], image_id, ", ".join(leaks))
            )
        elif leaks:
            try:
                image_id = self.rewrite(committed_id, asked)
            except (DockerException, RequestException, ValueError) as exc:
                self.remove_image(committed_id)
                self.client.fail(
                    "The engine merged settings of container %s into the commit (%s) and the module could not remove "
                    "them: %s. Start the build container without these settings, or set strict=false to keep them."
                    % (params["container"], ", ".join(leaks), exc),
                    leaks=leaks,
                )
            image = self.client.find_image_by_id(image_id)
            remaining = self.image_leaks(asked, image)
            if remaining:
                self.remove_image(image_id)
                self.remove_image(committed_id)
                self.client.fail(
                    "The image's configuration still differs from what was asked after the rewrite: %s"
                    % ", ".join(remaining),
                    leaks=leaks,
                )
            result["rewritten"] = True
            self.remove_image(committed_id)

        self.client.post_call("/images/{0}/tag", image_id, params={"repo": params["repository"], "tag": params["tag"]})
        result.update(image_id=image_id, image=self.client.find_image_by_id(image_id))
        return result


def main():
    argument_spec = dict(
        container=dict(type="str", required=True),
        repository=dict(type="str", required=True),
        tag=dict(type="str", default="latest"),
        entrypoint=dict(type="list", elements="str"),
        command=dict(type="list", elements="str"),
        env=dict(type="dict"),
        exposed_ports=dict(type="list", elements="raw"),
        labels=dict(type="dict"),
        user=dict(type="str"),
        working_dir=dict(type="str"),
        volumes=dict(type="list", elements="str"),
        healthcheck=dict(
            type="dict",
            options=dict(
                test=dict(type="raw", required=True),
                interval=dict(type="str"),
                timeout=dict(type="str"),
                start_period=dict(type="str"),
                retries=dict(type="int"),
            ),
        ),
        stop_signal=dict(type="str"),
        author=dict(type="str"),
        comment=dict(type="str"),
        pause=dict(type="bool", default=True),
        strict=dict(type="bool", default=True),
    )
    client = AnsibleDockerClient(argument_spec=argument_spec, supports_check_mode=True, min_docker_api_version="1.25")
    try:
        result = DockerCommit(client).run()
    except DockerException as exc:
        client.fail("An unexpected Docker error occurred: %s" % exc, exception=traceback.format_exc())
    except RequestException as exc:
        client.fail(
            "An unexpected requests error occurred when talking to the Docker daemon: %s" % exc,
            exception=traceback.format_exc(),
        )
    client.module.exit_json(**result)


if __name__ == "__main__":
    main()
