# Two commands do all the set-up on a fresh machine:  `make demo`  and  `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.judgemind-installed
TORCH   ?= torch==2.13.0

.PHONY: demo demo-quick test install browser-deps clean

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

# Debian chromium for the judge-sheet browser test; skipped quietly where apt is unavailable.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) || \
	  echo "note: chromium not installed; browser tests will be skipped"; }

test: $(STAMP) browser-deps
	HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile tests

clean:
	rm -rf $(VENV) demo_out build *.egg-info
