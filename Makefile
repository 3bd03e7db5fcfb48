# Every target builds its own virtual environment from a fresh clone: no global installs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The workspace: phoenix-core, every plugin distribution, and the node simulator.
PLUGINS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))
SIM := contrib/pve-sim
TEMPLATE := contrib/plugin-template
STAMP := $(VENV)/.installed
DEMO_DIR ?= .demo

.PHONY: dev test demo lint format bench sim sim-down clean

dev: $(STAMP)

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml) $(SIM)/pyproject.toml $(TEMPLATE)/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,ssh,dev]' $(addprefix -e ,$(PLUGINS)) -e '$(SIM)[test]' -e $(TEMPLATE)
	touch $@

## The README's test command: the whole suite (core, plugins, simulator).
test: $(STAMP)
	$(BIN)/python -m pytest

## The README's main job: phoenix against the simulated Proxmox node.
demo: $(STAMP)
	$(BIN)/python contrib/demo/demo.py --dir $(DEMO_DIR)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## A simulated node for humans: `make sim`, then `export PATH=$(DEMO_DIR)/node/bin:$$PATH`.
sim: $(STAMP)
	$(BIN)/pve-sim up --dir $(DEMO_DIR)/node --seed $(SIM)/seeds/original-etc.json

sim-down: $(STAMP)
	$(BIN)/pve-sim down --dir $(DEMO_DIR)/node

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .ruff_cache
