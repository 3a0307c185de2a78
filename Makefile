# ThreatLab: `make run` for a first look, `make run-lan` to open it from phones on the same network, `make test` for
# the whole suite. They build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXPERIMENT := fixtures/kubernetes-pod-dfd.json
EXPERIMENT_SLUG := kubernetes-pod-dfd
HOST ?= 127.0.0.1
PORT ?= 8000
# The address printed for students and put in the demo's join link.
BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run run-lan test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python manage.py compile_translations
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_experiment --skip-existing $(EXPERIMENT)
	$(BIN)/python manage.py setup_demo $(EXPERIMENT_SLUG) --base-url $(BASE_URL)
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# As `run`, listening on every interface, with this machine's network address allowed and printed: the join link,
# the join sheet opened from the printed admin address, and its QR code then work on a phone in the same network.
run-lan: LAN_ADDRESS = $(shell $(BIN)/python manage.py lan_address)
run-lan: $(STAMP)
	ALLOWED_HOSTS=localhost,127.0.0.1,[::1],$(LAN_ADDRESS) $(MAKE) run HOST=0.0.0.0 BASE_URL=http://$(LAN_ADDRESS):$(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) db staticfiles .pytest_cache .ruff_cache
