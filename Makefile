# autostack.wordpress: the two commands are `make up` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

TOP := $(CURDIR)
VENV := $(TOP)/.venv
LOCALCLOUD_PORT ?= 4575
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(TOP)/ansible.cfg
# The local cloud's endpoint reaches modules, lookups and our own boto3 code alike.
export AWS_ENDPOINT_URL ?= http://127.0.0.1:$(LOCALCLOUD_PORT)
export AWS_ACCESS_KEY_ID ?= testing
export AWS_SECRET_ACCESS_KEY ?= testing
export AWS_DEFAULT_REGION ?= eu-west-1
export LOCALCLOUD_PORT
# `make up TIMING=1`: the stack summary after the recap lists the slowest tasks (callback stack_summary).
# Unset or empty leaves AUTOSTACK_TIMING alone (off unless the environment turns it on).
ifneq ($(strip $(TIMING)),)
export AUTOSTACK_TIMING := $(TIMING)
endif

LOCALCLOUD := $(VENV)/bin/python tools/localcloud/localcloud.py

.PHONY: help setup localcloud up down test lint sanity unit integration molecule e2e bench collection ee

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## Virtualenv, collections, collection link, Docker engine (idempotent)
	@tools/setup.sh

localcloud: setup ## Start the local cloud (AWS API emulator on loopback)
	@$(LOCALCLOUD) start

up: localcloud ## Set up, start the local cloud and build the stack (site.yml)
	ansible-playbook site.yml
	@echo "Stack outputs: $$(ls outputs/*.json 2>/dev/null | tr '\n' ' ')"
	@$(VENV)/bin/python tools/stack_url.py

down: setup ## Destroy the stack (the local run of WordPress included) and stop the local cloud
	@if $(LOCALCLOUD) status >/dev/null; then ansible-playbook playbooks/destroy.yml; fi
	@$(LOCALCLOUD) stop

test: localcloud ## Set up, then run the whole test suite (what CI runs)
	tools/test.sh

lint: setup ## yamllint and ansible-lint (production profile)
	tools/test.sh lint

sanity: setup ## ansible-test sanity from a copy under ansible_collections/autostack/wordpress
	tools/test.sh sanity

unit: setup ## pytest unit tests (no network)
	tools/test.sh unit

integration: localcloud ## Emulator fidelity tests and the molecule scenarios (pytest)
	tools/test.sh integration

e2e: localcloud ## The end-to-end test alone: a stack, the image, deploy, the local run, the installer in Chromium
	$(VENV)/bin/python -m pytest -q tests/integration/test_e2e_browser.py

bench: setup ## Image build benchmark: wp_image role vs Dockerfile vs Packer (not a test; takes minutes)
	$(VENV)/bin/python bench/image_build.py $(BENCH_ARGS)

collection: setup ## Build the collection tarball into build/ (docs/developing.md, Release)
	@if [ -n "$$(git status --porcelain 2>/dev/null)" ]; then echo "collection: WARNING: uncommitted or untracked files; build a release from a clean checkout" >&2; fi
	@rm -f build/autostack-wordpress-*.tar.gz
	ansible-galaxy collection build --force --output-path build

ee: setup ## Execution environment build context in build/ee/context (ansible-builder create, no engine needed)
	@rm -rf build/ee
	ansible-galaxy collection build --output-path build/ee/collection
	ansible-builder create -f execution-environment.yml --context build/ee/context --output-filename Containerfile
	@echo "Image: ansible-builder build -f execution-environment.yml --context build/ee/context -t autostack-wordpress-ee"
