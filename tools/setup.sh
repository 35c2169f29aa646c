#!/usr/bin/env bash
# Set up everything `make up` and `make test` need, idempotently and quickly when done:
#   1. a virtualenv (.venv) on a Python >= 3.12 found on this machine;
#   2. the pinned tool chain in it (ansible, whose PyPI package carries amazon.aws,
#      community.aws and community.docker; moto; test tools);
#   3. this checkout linked as collections/ansible_collections/autostack/wordpress;
#   4. the Docker engine, debootstrap, docker-registry, shellcheck and chromium (+ its driver),
#      installed when absent and the machine allows it;
#   5. the Docker engine started when it is not running.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
venv="$top/.venv"
state="$top/.localcloud"
mkdir -p "$state"

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

python_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

find_python() {
  local c root
  for c in "${PYTHON:-}" python3.13 python3.12 python3; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && python_ok "$c" && { command -v "$c"; return 0; }
  done
  # pyenv's shims refuse to run without a selected version; use its interpreters directly.
  root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  for c in $(printf '%s\n' "$root"/versions/3.1[2-9]*/bin/python3 /usr/bin/python3.1[2-9] /usr/local/bin/python3.1[2-9] | sort -rV); do
    [ -x "$c" ] && python_ok "$c" && { echo "$c"; return 0; }
  done
  return 1
}

# 1-2. virtualenv and tool chain, redone only when requirements change.
req_sum=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
stamp="$venv/.autostack-$req_sum"
if [ ! -f "$stamp" ]; then
  py=$(find_python) || die "no Python >= 3.12 found (tried \$PYTHON, python3.13, python3.12, python3, pyenv versions). Install one, or set PYTHON=/path/to/python3.12."
  say "virtualenv on $py ($("$py" --version 2>&1))"
  if ! { [ -x "$venv/bin/python" ] && python_ok "$venv/bin/python"; }; then
    rm -rf "$venv"
    "$py" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  say "installing the tool chain (requirements-dev.txt); the first time takes a few minutes"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  rm -f "$venv"/.autostack-*
  touch "$stamp"
else
  say "virtualenv up to date ($venv)"
fi

# 3. the checkout as a collection. A committed link would break ansible-test sanity.
link="collections/ansible_collections/autostack/wordpress"
if [ "$(readlink "$link" 2>/dev/null)" != "../../.." ]; then
  mkdir -p "$(dirname "$link")"
  rm -rf "$link"
  ln -s ../../.. "$link"
  say "linked the checkout as $link"
fi

# ansible-test sanity bootstraps pip in its virtualenvs with a script from a host that is not
# reachable here; give it an equivalent that uses ensurepip and the package index.
pip_boot=$("$venv/bin/python" -c 'import re, ansible_test, pathlib; p = pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py"; print(re.search(r"pip=.([0-9.]+).", p.read_text()).group(1))' 2>/dev/null || true)
if [ -n "$pip_boot" ]; then
  cache="$HOME/.ansible/test/cache/get_pip_${pip_boot//./_}.py"
  if ! cmp -s tools/get_pip_bootstrap.py "$cache"; then
    mkdir -p "$(dirname "$cache")"
    cp tools/get_pip_bootstrap.py "$cache"
    say "ansible-test pip bootstrap in place ($cache)"
  fi
fi

# 4. Debian packages: the Docker engine (image and verify phases), debootstrap (the base image
#    when no registry can be pulled from), Docker's registry (the local cloud's ECR) and the
#    shell script linter for the sanity tests.
apt_missing=()
command -v dockerd >/dev/null 2>&1 || docker info >/dev/null 2>&1 || apt_missing+=(docker.io)
[ -x /usr/sbin/debootstrap ] || apt_missing+=(debootstrap)
command -v docker-registry >/dev/null 2>&1 || apt_missing+=(docker-registry)
command -v shellcheck >/dev/null 2>&1 || apt_missing+=(shellcheck)
# The tests' tiny images are docker-imported from busybox-static.
[ -x /bin/busybox ] || apt_missing+=(busybox-static)
# The end-to-end test completes WordPress's installer in headless Chromium (selenium drives it).
command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || apt_missing+=(chromium-driver)
if [ ${#apt_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian packages: ${apt_missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}" >"$state/apt.log" 2>&1 \
      || die "apt-get install ${apt_missing[*]} failed; see $state/apt.log"
    # Debian's docker-registry package comes with a service on :5000 (all interfaces); the local
    # cloud runs its own registry on loopback instead.
    if [[ " ${apt_missing[*]} " == *" docker-registry "* ]] && command -v systemctl >/dev/null 2>&1; then
      systemctl disable --now docker-registry >/dev/null 2>&1 || true
    fi
  else
    say "WARNING: missing ${apt_missing[*]} and this user cannot install them (needs root and apt-get)"
  fi
fi

# 5. the Docker engine running.
if docker info >/dev/null 2>&1; then
  say "docker engine running"
elif ! command -v dockerd >/dev/null 2>&1; then
  die "no Docker engine, and this user cannot install one. Install Docker, start it, and run again."
elif [ "$(id -u)" != 0 ]; then
  die "the Docker engine is installed but not running, and only root can start it here. Start it (e.g. 'sudo service docker start') and run again."
else
  say "starting the Docker engine (log: $state/dockerd.log)"
  # Never pass --bridge=none: it deletes docker0 under any other running engine.
  nohup dockerd --host=unix:///var/run/docker.sock >"$state/dockerd.log" 2>&1 &
  echo $! >"$state/dockerd.pid"
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || die "the Docker engine did not answer within 30 s; see $state/dockerd.log"
  say "docker engine running"
fi
