# Two commands do all the set-up on a fresh machine:  `make demo`  and  `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.judgemind-installed
TORCH   ?= torch==2.13.0

.PHONY: demo demo-quick test lint install test-deps clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first: its CPU wheel satisfies the project's range, so nothing pulls a CUDA build.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e ".[all,dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/judgemind demo --out demo_out

demo-quick: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/judgemind demo --out demo_out --quick

# Test-only system packages from Debian: chromium (judge-sheet browser test) and opencv-doc (vtest.avi, real
# footage). Installed when missing and apt is usable (root); otherwise the tests that need them are skipped.
TEST_DEBS := chromium chromium-driver opencv-doc
test-deps:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="chromium chromium-driver"; \
	  [ -e /usr/share/doc/opencv-doc ] || missing="$$missing opencv-doc"; \
	  if [ -n "$$missing" ]; then \
	    if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	      echo "installing test packages:$$missing"; \
	      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null) \
	        || echo "note: could not install$$missing; the tests that need them will be skipped"; \
	    else echo "note:$$missing not installed (need root + apt); the tests that need them will be skipped"; fi; \
	  fi

# lint first (ruff: pyflakes, pycodestyle, import order, imports inside functions; then the formatter's check), then the tests
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: $(STAMP) test-deps lint
	HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile tests

clean:
	rm -rf $(VENV) demo_out build *.egg-info
