#!/usr/bin/env bash
# The test suite, by part:  tools/test.sh [lint|sanity|unit|integration|all]
# `make test` runs `all`: lint, sanity, then one pytest run (unit tests, emulator
# fidelity tests, molecule scenarios) whose summary line closes the output.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export PATH="$top/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$top/ansible.cfg"

lint() {
  echo "== yamllint"
  yamllint --strict .
  echo "== ansible-lint (production profile)"
  ansible-lint --profile production --offline
  echo "== antsibull-changelog lint"
  antsibull-changelog lint
}

sanity() {
  # ansible-test wants the collection at .../ansible_collections/<ns>/<name>: copy the
  # tracked files there (a link is refused) and run from the copy.
  local dest="$top/build/sanity/ansible_collections/autostack/wordpress"
  rm -rf "$top/build/sanity"
  mkdir -p "$dest"
  git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$dest"
  # The collections ours depends on, beside it, where ansible-test looks for them.
  local site dep
  site=$(python -c 'import ansible, os; print(os.path.join(os.path.dirname(os.path.dirname(ansible.__file__)), "ansible_collections"))')
  for dep in amazon/aws community/aws community/docker; do
    mkdir -p "$top/build/sanity/ansible_collections/${dep%/*}"
    ln -s "$site/$dep" "$top/build/sanity/ansible_collections/$dep"
  done
  local pyver
  pyver=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  # --venv: ansible-test's own pinned virtualenvs (their pip bootstrap is set up by setup.sh).
  (cd "$dest" && git init -q && git add -A >/dev/null && ansible-test sanity --color=no --venv --python "$pyver")
}

unit() {
  python -m pytest -q tests/unit
}

integration() {
  python -m pytest -q tests/localcloud tests/integration
}

case "${1:-all}" in
  lint) lint ;;
  sanity) sanity ;;
  unit) unit ;;
  integration) integration ;;
  all)
    lint
    sanity
    python -m pytest -q tests
    ;;
  *) echo "usage: $0 [lint|sanity|unit|integration|all]" >&2; exit 2 ;;
esac
