# Two commands do all the set-up on a fresh Debian or Ubuntu machine:
#   make run    system packages, the locked virtualenv, then the app on its embedded SQLite store
#   make test   the same plus the test fleet's packages and PostgreSQL, then the whole suite
# Both are idempotent: what is installed already is left alone. On a machine whose apt sources
# name no Debian mirror (Ubuntu), newer SSG content needs one: make content DEBIAN_MIRROR=URL.
#   make check  the quick loop: unit, store and TUI tests, no test fleet
#   make lock   re-resolve requirements.lock on purpose (then let `make test` judge it)

VENV := .venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# oscap and the SCAP Security Guide content (Debian's packages; Ubuntu ships the same ones). Ubuntu
# up to 22.04 has OpenSCAP 1.2, whose oscap is in libopenscap8 (core/targets/osinfo.py says the same).
OSCAP_PACKAGE := $(shell . /etc/os-release 2>/dev/null; case "$$ID $$VERSION_ID" in \
	("ubuntu 1"* | "ubuntu 2"[0-2].*) echo libopenscap8;; (*) echo openscap-scanner;; esac)
APP_PACKAGES := $(OSCAP_PACKAGE) ssg-debderived ssg-debian ssg-nondebian bzip2
# the test fleet: real sshd, sudo and namespaces on loopback
FLEET_PACKAGES := openssh-server openssh-client sudo util-linux openssl procps rpm mmdebstrap
# the PostgreSQL store's tests: Debian's server, run privately by the tests (tests/pg_server.py)
PG_PACKAGES := postgresql

# Newer SCAP Security Guide releases (Ubuntu 24.04, Debian 12 and 13, RHEL 10, AlmaLinux 9 need
# them) go into the user's releases folder, which every data dir of the user sees (whatever
# COMPLIANCE_TUI_HOME says). The mirror is the one in the apt sources, or DEBIAN_MIRROR=URL (no host
# name is written into the project).
CONTENT_DIR = $$($(VENV)/bin/python -c 'from core.paths import shared_content_dir; print(shared_content_dir())')
DEBIAN_MIRROR ?=
# SSG_SUITES=bookworm: where the machine's own SSG has no RHEL 7 content (Amazon Linux 2's source)
SSG_SUITES ?=

.PHONY: run test check lock bench bench-packages app-packages fleet-packages pg-packages venv bytecode content

run: app-packages venv bytecode
	-@$(MAKE) --no-print-directory content  # without it the app still runs on bookworm's content
	$(VENV)/bin/compliance-tui $(ARGS)

# The test fleet needs root; the tests (each with a HOME of its own) see the newer content through
# COMPLIANCE_TUI_CONTENT_DIRS.
# Parallel workers (pytest-xdist), each with a test fleet and a PostgreSQL server of its own: two
# per core, since many tests wait on sshd, sudo, timeouts and other processes (on 2 cores: 14 min
# with 2 workers, under 12 with 4); idle workers steal queued tests, so no worker ends long after
# the others.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))
XDIST := -n $(TEST_WORKERS) --dist worksteal
test: app-packages fleet-packages pg-packages venv bytecode content
	$(SUDO) env COMPLIANCE_TUI_CONTENT_DIRS="$(CONTENT_DIR)" $(VENV)/bin/python -m pytest $(XDIST) $(PYTEST_ARGS)

# Unit, store, AI and TUI tests: no test fleet, no root needed (the PostgreSQL store tests then skip).
check: app-packages venv bytecode
	env COMPLIANCE_TUI_CONTENT_DIRS="$(CONTENT_DIR)" $(VENV)/bin/python -m pytest $(XDIST) \
		-m "not fleet" tests/unit tests/store tests/ai tests/tui $(PYTEST_ARGS)

# Every figure of issues 15 and 25 (the CLI's start-up, the queue's claim throughput) on the test fleet: one table, and
# docs/benchmarks.md (BENCH_ARGS=--quick for fewer repetitions and no doc). oscap-ssh
# (openscap-utils) is measured side by side; then
# scans per minute on PostgreSQL for 1, 2 and 4 workers (issue 17).
BENCH_ARGS ?=
bench: app-packages fleet-packages bench-packages pg-packages venv bytecode content
	$(SUDO) env COMPLIANCE_TUI_CONTENT_DIRS="$(CONTENT_DIR)" $(VENV)/bin/python -m tests.bench.suite $(BENCH_ARGS)
	$(SUDO) env COMPLIANCE_TUI_CONTENT_DIRS="$(CONTENT_DIR)" $(VENV)/bin/python -m tests.bench.bench_pg

bench-packages:
	@$(call apt_install,openscap-utils)

# Exit 2 is "no Debian mirror known": the app then runs on the packaged content, `content list`
# names the rows that need more, and the tests that need it skip saying so.
content: venv
	$(if $(DEBIAN_MIRROR),@$(call apt_install,debian-archive-keyring))
	@DEBIAN_MIRROR="$(DEBIAN_MIRROR)" scap_content/fetch-debian-ssg.sh "$(CONTENT_DIR)" $(SSG_SUITES) \
		|| [ $$? -eq 2 ]

app-packages:
	@$(call apt_install,$(APP_PACKAGES))

fleet-packages:
	@$(call apt_install,$(FLEET_PACKAGES))

pg-packages:
	@$(call apt_install,$(PG_PACKAGES))

venv: $(VENV)/.installed

# The project's own bytecode, written ahead: with PYTHONDONTWRITEBYTECODE set (CI and many shells
# set it) every process would compile our modules again, and the suite starts thousands of them
# (the CLI as an operator runs it): 0.08 s of CPU each. Python only reads a .pyc whose source is
# unchanged, and compileall skips what is up to date.
bytecode: venv
	@$(VENV)/bin/python -m compileall -q -j 0 core tui tests >/dev/null

# The virtualenv holds exactly what requirements.lock names, each file checked against its hash.
# It is rebuilt, never patched, when the lock changes: nothing installed earlier survives.
$(VENV)/.installed: requirements.lock pyproject.toml
	@python=$$($(find_python)); \
	rm -rf $(VENV); echo "using $$python"; $$python -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		--only-binary :all: -r requirements.lock
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		--no-index -e .
	touch $@

# uv resolves the lock: one file for Python 3.11 to 3.13 on every platform (markers where they
# differ), every file's sha256, and no index address in it. uv itself is pinned by hash here.
UV_VERSION := 0.13.9
UV_HASHES := d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19 \
	2c45530751517d6c3bbc69a19473f6effe47cce047bede01ffd8af7ea7b36b25 \
	5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe \
	ecb6028d79dc96fbeafffe5c8af62a7099487ebc05a701e76714eebcffd06375
UV := .tools/bin/uv

# LOCK_UPGRADE= (empty) adds what pyproject.toml newly names and keeps every other pin.
LOCK_UPGRADE ?= --upgrade
lock: $(UV)
	echo 'setuptools>=68' | $(UV) pip compile pyproject.toml - --all-extras --universal \
		--python-version 3.11 --generate-hashes $(LOCK_UPGRADE) --quiet \
		--custom-compile-command 'make lock' -o requirements.lock
	@echo "requirements.lock re-resolved: review the diff, then run make test"

$(UV):
	@python=$$($(find_python)); $$python -m venv .tools
	printf 'uv==$(UV_VERSION)%s\n' "$(foreach h,$(UV_HASHES), --hash=sha256:$(h))" > .tools/uv.txt
	.tools/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		--only-binary :all: -r .tools/uv.txt

# Python 3.11 or newer with venv; Ubuntu 22.04's python3 is 3.10, so take python3.11 there.
define find_python
	for p in python3 python3.13 python3.12 python3.11; do \
		command -v $$p >/dev/null && $$p -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
		&& { echo $$p; exit 0; }; done; \
	if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
		pkgs="python3-venv $$(python3 -c 'import sys; print("python3.%d-venv" % sys.version_info[1])')"; \
		python=python3; \
	else pkgs="python3.11 python3.11-venv"; python=python3.11; fi; \
	{ $(call apt_install,$$pkgs); } >&2; echo $$python
endef

# Install only the packages that are missing; apt-get update only when needed.
define apt_install
	missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef
