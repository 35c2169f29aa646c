"""ECR on the local registry: repository URIs, login credentials and pushes that ECR lists.

Against the session's private local cloud (emulator and registry) and the real Docker engine.
Each test names the patch it checks; with that patch left out (``LOCALCLOUD_DISABLE_PATCHES``)
it fails.
"""

import base64
import datetime
import hashlib
import uuid

import docker
import pytest
from botocore.exceptions import ClientError

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    )
)


@pytest.fixture
def repository_name():
    """A repository name no other test uses, with a path component as the stack's have."""
    return "h-registry-%s/app" % uuid.uuid4().hex[:10]


def ecr_credentials(ecr):
    """``(user, password, authorization data)`` as GetAuthorizationToken hands them out."""
    data = ecr.get_authorization_token()["authorizationData"][0]
    user, dummy, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return user, password, data


def logged_in_client(user, password, registry):
    """A Docker client of its own that ran ``docker login`` (the engine checks the credentials)."""
    client = docker.from_env()
    answer = client.login(username=user, password=password, registry=registry, reauth=True)
    assert answer.get("Status") == "Login Succeeded", answer
    return client


def push(client, reference):
    """``docker push reference``: the digest the engine reports, or the error it streams."""
    repository, dummy, tag = reference.rpartition(":")
    digest, errors = None, []
    for line in client.api.push(repository, tag=tag, stream=True, decode=True):
        if "error" in line:
            errors.append(line["error"])
        digest = (line.get("aux") or {}).get("Digest", digest)
    return digest, errors


def registry_digest(emulator, registry_request_of, name, tag):
    """The registry's own ``Docker-Content-Digest`` for ``name:tag``."""
    status, headers, dummy = registry_request_of(
        emulator,
        "/v2/%s/manifests/%s" % (name, tag),
        method="HEAD",
        password=emulator.registry_password(),
        headers={"Accept": MANIFEST_TYPES},
    )
    assert status == 200, "the registry does not hold %s:%s (HTTP %s)" % (name, tag, status)
    return headers["Docker-Content-Digest"]


def images_tagged(ecr, name, tag):
    return [
        image
        for image in ecr.describe_images(repositoryName=name)["imageDetails"]
        if tag in image.get("imageTags", [])
    ]


def read_log(emulator):
    with open(emulator.log, errors="replace") as handle:
        return handle.read()


def test_registry_refuses_anonymous_and_wrong_credentials(emulator, registry_request_of):
    """localcloud.py: htpasswd auth on every request; only the password of user AWS gets in."""
    status, headers, dummy = registry_request_of(emulator, "/v2/")
    assert status == 401
    assert headers["Www-Authenticate"].startswith("Basic ")

    assert registry_request_of(emulator, "/v2/", password="not-the-password")[0] == 401
    assert registry_request_of(emulator, "/v2/_catalog", password="not-the-password")[0] == 401
    assert registry_request_of(emulator, "/v2/", password=emulator.registry_password())[0] == 200


def test_repository_uri_is_on_the_local_registry(emulator, aws, repository_name):
    """patch_ecr_registry_repository_uri: what Docker pushes to is the loopback registry."""
    ecr = aws("ecr")
    created = ecr.create_repository(repositoryName=repository_name)["repository"]
    described = ecr.describe_repositories(repositoryNames=[repository_name])["repositories"][0]

    assert created["repositoryUri"] == "%s/%s" % (emulator.registry, repository_name)
    assert described["repositoryUri"] == created["repositoryUri"]
    assert described["repositoryArn"].endswith(":repository/" + repository_name)


def test_authorization_token_is_the_registry_login(emulator, aws):
    """patch_ecr_registry_authorization_token: ``docker login`` with GetAuthorizationToken's answer."""
    user, password, data = ecr_credentials(aws("ecr"))

    assert user == "AWS"
    assert password == emulator.registry_password()
    assert data["proxyEndpoint"] == "http://" + emulator.registry
    expected = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=12)
    assert abs((data["expiresAt"] - expected).total_seconds()) < 300

    logged_in_client(user, password, data["proxyEndpoint"])  # the engine checked them with the registry
    with pytest.raises(docker.errors.APIError) as refused:
        logged_in_client(user, password + "x", data["proxyEndpoint"])
    assert "unauthorized" in str(refused.value).lower() or "401" in str(refused.value)


def test_pushed_image_appears_in_ecr_with_the_registry_digest(
    emulator, aws, repository_name, tiny_image, registry_request_of, waiter
):
    """patch_ecr_registry_push_events: after ``docker push`` ECR lists the tag with the registry's digest."""
    ecr = aws("ecr")
    uri = ecr.create_repository(repositoryName=repository_name)["repository"]["repositoryUri"]
    user, password, data = ecr_credentials(ecr)
    client = logged_in_client(user, password, data["proxyEndpoint"])
    image = tiny_image(uri + ":1.0-first")

    pushed, errors = push(client, uri + ":1.0-first")
    assert errors == []
    digest = registry_digest(emulator, registry_request_of, repository_name, "1.0-first")
    assert pushed == digest

    listed = waiter("ECR lists %s:1.0-first" % repository_name, lambda: images_tagged(ecr, repository_name, "1.0-first"))
    assert [(i["imageDigest"], i["imageTags"]) for i in listed] == [(digest, ["1.0-first"])]
    assert listed[0]["imageManifestMediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    # ECR keeps the manifest's exact bytes: its digest is theirs.
    manifest = ecr.batch_get_image(repositoryName=repository_name, imageIds=[{"imageTag": "1.0-first"}])["images"][0]
    assert "sha256:" + hashlib.sha256(manifest["imageManifest"].encode()).hexdigest() == digest
    assert "imported %s:1.0-first (%s)" % (repository_name, digest) in read_log(emulator)

    # The same image again, and under a second tag: still one image, now with both tags.
    assert push(client, uri + ":1.0-first") == (digest, [])
    tiny_image.tag(image, uri + ":latest")
    assert push(client, uri + ":latest") == (digest, [])
    waiter("ECR lists %s:latest" % repository_name, lambda: images_tagged(ecr, repository_name, "latest"))
    details = ecr.describe_images(repositoryName=repository_name)["imageDetails"]
    assert [(i["imageDigest"], sorted(i["imageTags"])) for i in details] == [(digest, ["1.0-first", "latest"])]


def test_push_needs_the_login(emulator, aws, repository_name, tiny_image, docker_client, tmp_path, monkeypatch):
    """localcloud.py: without ``docker login`` the registry refuses the push (ECR lists nothing)."""
    # An empty client configuration: a login that another test or a `make up` stored in
    # ~/.docker/config.json for this registry's address must not be used. The file must exist:
    # without it docker-py falls back to ~/.docker/config.json.
    (tmp_path / "config.json").write_text('{"auths": {}}')
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    ecr = aws("ecr")
    uri = ecr.create_repository(repositoryName=repository_name)["repository"]["repositoryUri"]
    tiny_image(uri + ":anonymous")

    digest, errors = push(docker.from_env(), uri + ":anonymous")

    assert digest is None
    assert errors and "no basic auth credentials" in errors[0]
    assert ecr.describe_images(repositoryName=repository_name)["imageDetails"] == []


def test_push_to_a_name_ecr_does_not_have_is_logged_and_ignored(emulator, aws, repository_name, tiny_image, waiter):
    """patch_ecr_registry_push_events: the registry keeps it, ECR gains no repository, the log says why.

    AWS refuses such a push (``name unknown``); the local registry cannot ask ECR first, so the
    emulator ignores the notification and logs it.
    """
    ecr = aws("ecr")
    user, password, data = ecr_credentials(ecr)
    client = logged_in_client(user, password, data["proxyEndpoint"])
    reference = "%s/%s:v1" % (emulator.registry, repository_name)
    tiny_image(reference)

    digest, errors = push(client, reference)

    assert errors == [] and digest
    expected = "ignored %s:v1 (%s): no ECR repository named %s" % (repository_name, digest, repository_name)
    waiter("the emulator logs the ignored push", lambda: expected in read_log(emulator))
    with pytest.raises(ClientError) as missing:
        ecr.describe_images(repositoryName=repository_name)
    assert missing.value.response["Error"]["Code"] == "RepositoryNotFoundException"


def test_immutable_tag_keeps_its_first_image(emulator, aws, repository_name, tiny_image, waiter):
    """patch_ecr_registry_push_events: ECR's tag immutability holds for what it lists.

    AWS refuses the second push of an immutable tag; here the registry takes it (it knows
    nothing of ECR's settings), and ECR keeps the first image and logs the refusal.
    """
    ecr = aws("ecr")
    uri = ecr.create_repository(repositoryName=repository_name, imageTagMutability="IMMUTABLE")["repository"][
        "repositoryUri"
    ]
    user, password, data = ecr_credentials(ecr)
    client = logged_in_client(user, password, data["proxyEndpoint"])
    tiny_image(uri + ":v1")
    first, errors = push(client, uri + ":v1")
    assert errors == []
    waiter("ECR lists %s:v1" % repository_name, lambda: images_tagged(ecr, repository_name, "v1"))

    tiny_image(uri + ":v1")  # another image under the same name
    second, errors = push(client, uri + ":v1")
    assert errors == [] and second != first

    waiter("the emulator logs the refusal", lambda: "refused %s:v1 (%s)" % (repository_name, second) in read_log(emulator))
    assert [i["imageDigest"] for i in images_tagged(ecr, repository_name, "v1")] == [first]
