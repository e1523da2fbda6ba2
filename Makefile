# inspector — `make demo` opens the demo; `make test` installs what the tests need and runs them.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
# Debian tools the tests use as real parts and ground truth
APT_TOOLS := umoci skopeo docker-registry podman tmux debootstrap rpm golang-go sqlite3 g++ chromium zsh fish iproute2 containerd stargz-snapshotter
# the command each package provides (to check before installing)
TOOL_CMDS := umoci skopeo docker-registry podman tmux debootstrap rpmbuild go sqlite3 g++ chromium zsh fish ip containerd ctr-remote

.PHONY: demo test venv tools bench lint sanitize clean

# editable_mode=compat: a plain path entry (.pth) instead of setuptools' import-hook
# finder, which costs ~30 ms at every interpreter start. The install also builds the tar
# walker's C accelerator in place (setup.py): a changed C source reinstalls.
$(VENV)/.installed: pyproject.toml setup.py inspector/index/_tarscan.c
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test,serve,cluster]' --config-settings editable_mode=compat
	touch $@

# pip -q hides setup.py's warning when the accelerator does not build: say it here
venv: $(VENV)/.installed
	@$(PY) -c 'from inspector.index import tarscan; tarscan.available() or print("make venv: accelerator: " + tarscan.status() + "; the pure-Python loops do its work (slower)")'

tools:
	@missing=""; set -- $(APT_TOOLS); for c in $(TOOL_CMDS); do \
	  command -v $$c >/dev/null 2>&1 || missing="$$missing $$1"; shift; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing uidmap slirp4netns fuse-overlayfs netavark aardvark-dns >/dev/null \
	    || echo "warning: could not install:$$missing (tests that need them skip, except under CI=true)"; \
	fi

demo: venv
	$(VENV)/bin/inspector

# the suite on every core: pytest-xdist workers, each a process with its own session
# fixtures and temp dirs; worksteal hands each worker half the tests in order (a file's
# module fixtures are mostly built once) and lets an idle one take from a busy one's tail.
# One worker per logical CPU (``auto`` would count physical cores: 1 on a 2-thread VM);
# TEST_WORKERS=0 runs in one process. What workers share across processes takes a lock
# (tests/locks.py).
TEST_WORKERS ?= logical
test: venv tools
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal

bench: venv
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# the accelerator built with AddressSanitizer + UBSan in a temporary copy of the tree, then
# its contract and property tests and tests/hostile/ (.ci/sanitize; about 4 minutes)
sanitize: venv
	.ci/sanitize $(PY)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy inspector

clean:
	rm -rf $(VENV) .pytest_cache build inspector/index/_tarscan.*.so
