# Every target sets itself up first, so each README command works on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE := data/samples/sample_trust_log.csv

.PHONY: setup audit lab test lint bench bench-report bench-engines bench-disclosure sample clean chromium java wheel

$(STAMP): requirements.lock pyproject.toml setup.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP)

## The main job: assess the shipped sample log and write the full report set under reports/.
audit: $(STAMP)
	$(BIN)/ypsi-audit assess $(SAMPLE) --out reports/sample-assessment.csv
	$(BIN)/ypsi-audit report $(SAMPLE) --out reports/sample --title "Sample Trust (invented data)"

## The notebooks in JupyterLab, copied to an owner-only folder outside the repository.
lab: $(STAMP)
	$(BIN)/ypsi-audit lab

## Debian's Chromium, for the offline checks of the report pages (needs root, as on CI).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## Debian's headless Java 17 (or newer), for the Spark test: PySpark runs the compiled
## policy in local mode (needs root, as on CI).
java:
	@java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])' || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

## The whole test suite (what CI runs).
test: $(STAMP) chromium java
	$(BIN)/ruff check ypsi_audit tests benchmarks
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check ypsi_audit tests benchmarks
	$(BIN)/ruff format --check ypsi_audit tests benchmarks

## Speed against every target, in one run: the toolkit's operations and the report on the
## sample (bench.json), the engines side by side (engines.json), the report set on 1M.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.engines
	$(BIN)/python -m benchmarks.report_set

## The engines side by side (pandas, DuckDB, Polars; in memory and Parquet to Parquet), and
## assess --engine duckdb on a 20-million-incident log within 4 GB (README: Beyond one machine).
bench-engines: $(STAMP)
	$(BIN)/python -m benchmarks.engines
	$(BIN)/python -m benchmarks.duckdb_scale
	$(BIN)/python -m benchmarks.differential --rows 1000000

## One-off: the full report set on the 1,000,000-incident log (wall time, size of each page).
bench-report: $(STAMP)
	$(BIN)/python -m benchmarks.report_set

## The disclosure-control methods measured against each other (ypsi_audit/protection/README.md).
## Evaluation only: ONS's cell-key-perturbation (to check our implementation against it) in the
## venv, and ACRO in .venv-acro because it needs pandas 2; the product uses neither.
ACRO_VENV := .venv-acro
$(ACRO_VENV)/.installed: benchmarks/acro-requirements.lock
	$(PYTHON) -m venv $(ACRO_VENV)
	$(ACRO_VENV)/bin/python -m pip install --quiet -r benchmarks/acro-requirements.lock
	@touch $@

bench-disclosure: $(STAMP) $(ACRO_VENV)/.installed
	$(BIN)/python -m pip install --quiet cell-key-perturbation==3.1.0
	$(BIN)/python -m benchmarks.disclosure_eval

## Regenerate the shipped sample log (same seed, same file).
sample: $(STAMP)
	$(BIN)/ypsi-audit synth --settings 12 --years 3 --seed 2024 \
		--bias child_sen=true:0.2 --poor-recording S05,S08:0.6 --out $(SAMPLE)

## A wheel to install the tool without cloning (README: Installing without cloning).
## build/ is cleared first: setuptools would otherwise ship files since deleted.
wheel: $(STAMP)
	rm -rf build
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .
	rm -rf build
	@ls dist/ypsi_audit-*.whl

clean:
	rm -rf $(VENV) reports/sample build dist
