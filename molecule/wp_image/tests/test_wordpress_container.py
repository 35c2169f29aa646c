"""Testinfra checks of the running WordPress container of the wp_image scenario.

The molecule verifier runs this with the scenario's environment: MOLECULE_WP_CONTAINER names the
container (molecule.yml), MOLECULE_EPHEMERAL_DIRECTORY holds the port converge published it on.
The image has no procps nor iproute2, so processes and sockets are read from /proc.
"""

from __future__ import annotations

import os
import urllib.request

import pytest

CONTAINER = os.environ["MOLECULE_WP_CONTAINER"]
testinfra_hosts = ["docker://" + CONTAINER]

WP_CONFIG = "/etc/autostack/wp-config.php"


def test_packages(host):
    for name in ("apache2", "wordpress", "php-mysql"):
        assert host.package(name).is_installed, name
    # The versioned packages (libapache2-mod-php8.2, php8.2-mysql) behind the virtual names.
    listed = host.run("dpkg-query -W -f '${Package} ${db:Status-Status}\\n' 'libapache2-mod-php*' 'php*-mysql'")
    assert listed.rc == 0, listed.stderr
    installed = [line.split()[0] for line in listed.stdout.splitlines() if line.endswith(" installed")]
    assert any(name.startswith("libapache2-mod-php8") for name in installed), listed.stdout
    assert any(name.startswith("php8") and name.endswith("-mysql") for name in installed), listed.stdout


def test_no_python_left(host):
    assert not host.exists("python3")
    for name in ("python3-minimal", "python3-apt", "python3.11-minimal"):
        assert not host.package(name).is_installed, name


def test_files(host):
    entrypoint = host.file("/usr/local/bin/autostack-entrypoint")
    assert entrypoint.is_file and entrypoint.user == "root" and entrypoint.mode == 0o755
    conf = host.file("/etc/apache2/conf-enabled/autostack.conf")
    assert conf.is_symlink and conf.linked_to == "/etc/apache2/conf-available/autostack.conf"
    assert conf.contains("^ServerTokens Prod$")
    for sapi in ("apache2", "cli"):
        ini = host.file("/etc/php/8.2/%s/conf.d/90-autostack.ini" % sapi)
        assert ini.exists and ini.linked_to == "/usr/local/lib/autostack/php.ini", sapi
        assert ini.contains("^opcache.memory_consumption = 128$")
        assert ini.contains("^opcache.revalidate_freq = 2$")
    # What the running PHP sees, not only the file.
    opcache = host.run("php -r 'echo ini_get(\"opcache.memory_consumption\");'")
    assert opcache.stdout.strip() == "128", opcache.stdout + opcache.stderr


def test_wp_config_is_rendered_for_www_data_only(host):
    config = host.file(WP_CONFIG)
    assert config.is_file
    assert config.user == "www-data"
    assert config.mode == 0o400


def test_users(host):
    www = host.user("www-data")
    assert www.exists and www.uid == 33


def test_apache_is_pid_1(host):
    cmdline = host.file("/proc/1/cmdline").content.split(b"\0")
    assert cmdline[:2] == [b"apache2", b"-DFOREGROUND"], cmdline
    # Its workers run PHP as www-data.
    workers = host.run("grep -l '^PPid:\\s*1$' /proc/[0-9]*/status | xargs grep -h '^Uid:'")
    assert any(line.split()[1] == "33" for line in workers.stdout.splitlines()), workers.stdout


def test_secrets_left_the_environment(host):
    environ = host.file("/proc/1/environ").content.split(b"\0")
    assert not [item for item in environ if item.startswith(b"WORDPRESS_")], "WORDPRESS_* reached apache"


def _listening_inodes(host, port):
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in host.file(table).content_string.splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(":%04X" % port) and fields[3] == "0A":
                inodes.add(fields[9])
    return inodes


def test_apache_listens_on_80(host):
    inodes = _listening_inodes(host, 80)
    assert inodes, "nothing listens on port 80"
    fds = host.run("ls -l /proc/1/fd")
    assert any("socket:[%s]" % inode in fds.stdout for inode in inodes), "port 80 is not apache2's (PID 1)"
    assert not _listening_inodes(host, 8080)


def test_apache_config(host):
    # As autostack-entrypoint starts Apache: envvars and a proxy list (a dummy one here).
    checked = host.run(
        "set +u; . /etc/apache2/envvars; export AUTOSTACK_TRUSTED_PROXIES=127.0.0.0/8; apache2ctl -t && apache2ctl -M"
    )
    assert checked.rc == 0, checked.stderr
    assert "Syntax OK" in checked.stderr
    assert " remoteip_module " in checked.stdout
    assert " status_module " not in checked.stdout
    assert host.file("/etc/apache2/mods-enabled/remoteip.load").exists


@pytest.mark.parametrize("path", ["/healthz.php", "/wp-admin/install.php"])
def test_http_inside(host, path):
    answer = host.run(
        "php -r '$b = file_get_contents($argv[1]); echo $http_response_header[0], \"\\n\", $b;' %s"
        % ("http://127.0.0.1" + path)
    )
    assert answer.rc == 0, answer.stderr
    assert answer.stdout.splitlines()[0].split()[1] == "200", answer.stdout[:500]


def test_http_from_the_host(host):
    with open(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "wordpress-port"), encoding="utf-8") as handle:
        port = int(handle.read())
    with urllib.request.urlopen("http://127.0.0.1:%d/healthz.php" % port, timeout=10) as response:
        assert response.status == 200
        assert response.read() == b"ok"
        # ServerTokens Prod, expose_php Off.
        assert response.headers["Server"] == "Apache"
        assert "X-Powered-By" not in response.headers
    with urllib.request.urlopen("http://127.0.0.1:%d/wp-admin/install.php" % port, timeout=30) as response:
        assert response.status == 200
        assert b"WordPress" in response.read()
