"""autostack.wordpress.ecr_authorization_token and ecr_image_info against a private local-cloud emulator.

Images are put into the emulated ECR with boto3 put_image and hand-written manifests; the modules run
through ansible-playbook (normal and check mode) and their results are checked against boto3's answers.
The token test holds to the module's contract only (the emulator may answer with a loopback registry).
"""

import base64
import datetime
import hashlib
import json
import os
import subprocess
import sys
import uuid

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
REPOSITORY = "ecrt%s/wordpress" % uuid.uuid4().hex[:6]
MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
PLAYBOOK = """
- name: Use the ECR modules
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Ask ECR for registry credentials
      autostack.wordpress.ecr_authorization_token:
        registry_id: "{{ t_registry_id | default(omit) }}"
        region: eu-west-1
      register: t_token
      no_log: true
      when: t_token_wanted | default(false)

    - name: List images, once per query
      autostack.wordpress.ecr_image_info:
        repository_name: "{{ t_query.repository }}"
        image_tags: "{{ t_query.image_tags | default(omit) }}"
        tag_suffix: "{{ t_query.tag_suffix | default(omit) }}"
        region: eu-west-1
      loop: "{{ t_queries | default([]) }}"
      loop_control:
        loop_var: t_query
      register: t_images
      ignore_errors: true

    - name: Save the results
      ansible.builtin.copy:
        content: "{{ {'token': t_token, 'images': t_images} | to_json }}"
        dest: "{{ t_results }}"
        mode: "0600"
      check_mode: false
      no_log: true
"""


def manifest(seed):
    """A schema 2 manifest; the blobs need not exist for PutImage."""
    def digest(what):
        return "sha256:" + hashlib.sha256(("%s-%s" % (seed, what)).encode()).hexdigest()

    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPE,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469,
                       "digest": digest("config")},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 2479,
                        "digest": digest("layer")}],
        }
    )


@pytest.fixture(scope="module")
def world(emulator, tmp_path_factory):
    ecr = emulator.client("ecr")
    ecr.create_repository(repositoryName=REPOSITORY)
    ecr.put_image(repositoryName=REPOSITORY, imageManifest=manifest("old"), imageTag="6.7.2-aaaaaaaaaaaa")
    ecr.put_image(repositoryName=REPOSITORY, imageManifest=manifest("new"), imageTag="6.8.1-bbbbbbbbbbbb")
    # A second tag on the same manifest: one image with two tags.
    ecr.put_image(repositoryName=REPOSITORY, imageManifest=manifest("new"), imageTag="stable")
    workdir = tmp_path_factory.mktemp("ecr_modules")
    playbook = workdir / "playbook.yml"
    playbook.write_text(PLAYBOOK)
    yield {"workdir": workdir, "playbook": str(playbook), "ecr": ecr}
    ecr.delete_repository(repositoryName=REPOSITORY, force=True)


def run(emulator, world, *options, queries=(), **variables):
    """One playbook: the token task when ``t_token_wanted``, ecr_image_info once per query (a dict of options)."""
    results = world["workdir"] / ("result-%s.json" % uuid.uuid4().hex[:8])
    extra = dict(variables, t_results=str(results), t_queries=[dict(q, repository=q.get("repository", REPOSITORY))
                                                               for q in queries])
    env = dict(emulator.env, ANSIBLE_CONFIG=os.path.join(TOP, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, world["playbook"], "-e", json.dumps(extra), *options],
        cwd=TOP, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-4000:]
    return json.loads(results.read_text()), proc.stdout + proc.stderr


def boto3_images(world, **kwargs):
    return {d["imageDigest"]: d for d in world["ecr"].describe_images(repositoryName=REPOSITORY, **kwargs)["imageDetails"]}


@pytest.mark.parametrize("mode", [(), ("--check",)], ids=["normal", "check"])
def test_authorization_token(emulator, world, mode):
    results, output = run(emulator, world, "-vv", *mode, t_token_wanted=True)
    token = results["token"]
    assert token["changed"] is False and not token.get("failed"), token
    assert "://" not in token["registry"] and "/" not in token["registry"] and token["registry"]
    assert token["proxy_endpoint"].rstrip("/").endswith(token["registry"])
    assert token["username"] == "AWS"
    assert token["password"]
    assert datetime.datetime.fromisoformat(token["expires_at"]).tzinfo is not None
    # The password is what boto3 gets, and no_log keeps it out of the output even with -vv.
    raw = world["ecr"].get_authorization_token()["authorizationData"][0]["authorizationToken"]
    assert base64.b64decode(raw).decode() == "AWS:" + token["password"]
    assert token["password"] not in output


def test_authorization_token_of_a_named_registry(emulator, world):
    account = world["ecr"].describe_registry()["registryId"]
    results, _output = run(emulator, world, t_token_wanted=True, t_registry_id=account)
    assert results["token"]["username"] == "AWS" and results["token"]["password"]


def test_every_image(emulator, world):
    results, _output = run(emulator, world, queries=[{}])
    images = results["images"]["results"][0]["images"]
    truth = boto3_images(world)
    assert {i["digest"] for i in images} == set(truth)
    for image in images:
        detail = truth[image["digest"]]
        assert image["tags"] == sorted(detail["imageTags"])
        assert image["size_bytes"] == detail["imageSizeInBytes"]
        assert image["manifest_media_type"] == MEDIA_TYPE
        assert datetime.datetime.fromisoformat(image["pushed_at"]) == detail["imagePushedAt"]
    assert ["6.8.1-bbbbbbbbbbbb", "stable"] in [i["tags"] for i in images]
    assert results["images"]["results"][0]["changed"] is False


SELECTIONS = [
    (dict(tag_suffix="-bbbbbbbbbbbb"), [["6.8.1-bbbbbbbbbbbb", "stable"]]),
    (dict(tag_suffix="-cccccccccccc"), []),
    (dict(image_tags=["6.7.2-aaaaaaaaaaaa", "no-such-tag"]), [["6.7.2-aaaaaaaaaaaa"]]),
    (dict(image_tags=["no-such-tag"]), []),
    (dict(image_tags=["stable", "6.8.1-bbbbbbbbbbbb"]), [["6.8.1-bbbbbbbbbbbb", "stable"]]),
    (dict(image_tags=["stable"], tag_suffix="-aaaaaaaaaaaa"), []),
]


@pytest.mark.parametrize("mode", [(), ("--check",)], ids=["normal", "check"])
def test_selected_images(emulator, world, mode):
    results, _output = run(emulator, world, *mode, queries=[query for query, _tags in SELECTIONS])
    for result, (query, tags) in zip(results["images"]["results"], SELECTIONS):
        assert not result.get("failed"), result
        assert [i["tags"] for i in result["images"]] == tags, query
    two_tags = results["images"]["results"][4]
    assert [i["digest"] for i in two_tags["images"]] == list(boto3_images(world, imageIds=[{"imageTag": "stable"}]))


def test_missing_repository_fails_clearly(emulator, world):
    results, _output = run(emulator, world, queries=[dict(repository=REPOSITORY + "-missing", image_tags=["x"])])
    result = results["images"]["results"][0]
    assert result["failed"] is True
    assert result["msg"] == "ECR repository %s-missing does not exist" % REPOSITORY
