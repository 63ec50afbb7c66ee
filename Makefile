# Entry points for a fresh Debian/Ubuntu machine with Python 3.11:
#   make run        installs everything into .venv and starts the app on the bundled offline models
#   make test       installs everything (with test tools) and runs the whole test suite
#   make test-fast  installs as `make test` does but without chromium and PostgreSQL, and runs the tests
#                   that need neither the real models nor a browser (about 90 s)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := espeak-ng
OPTIONAL_APT_PACKAGES :=  # installed if apt-get can; the tests that need them skip otherwise
export HF_HUB_OFFLINE := 1

.PHONY: run test test-fast lint install system-deps bench bank-check judge clean

run: install
	$(BIN)/streamlit run app.py

test: APT_PACKAGES += chromium  # the end-to-end browser test
test: OPTIONAL_APT_PACKAGES += postgresql  # the storage tests' PostgreSQL variants
test: install $(VENV)/.installed-postgres
	url="$${PRACTICE_TEST_POSTGRES_URL:-}"; [ -n "$$url" ] || url=$$(bash .ci/postgres.sh) || url=""; \
	PRACTICE_TEST_POSTGRES_URL="$$url" $(BIN)/python -m pytest

test-fast: install  # the browser tests are marked models too, so neither chromium nor PostgreSQL is needed
	$(BIN)/python -m pytest -m "not models" tests

lint: install
	$(BIN)/ruff check practice tests bench training app.py views
	$(BIN)/ruff format --check practice tests bench training app.py views
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/scoring.py
	$(BIN)/python bench/unseen.py
	$(BIN)/python bench/speech.py
	$(BIN)/python bench/grading.py
	$(BIN)/python bench/structure.py

judge: install  # retrains practice/scoring/judge/ from ../shared/datasets (about 46 min on 2 cores)
	$(BIN)/python training/train_judge.py

bank-check: install
	$(BIN)/practice bank check
	$(BIN)/python ../shared/checks/bank_fidelity.py question_bank

install: system-deps $(VENV)/.installed

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	optional=""; for p in $(OPTIONAL_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || optional="$$optional $$p"; done; \
	if [ -n "$$missing$$optional" ]; then \
		echo "Installing system packages:$$missing$$optional"; \
		{ $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing $$optional; } || { \
			[ -n "$$optional" ] || exit 1; \
			echo "Could not install$$optional; going on without it (the tests that need it will skip)." >&2; \
			[ -z "$$missing" ] || $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; }; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

$(VENV)/.installed-postgres: $(VENV)/.installed  # the PostgreSQL driver, for the tests only
	$(BIN)/python -m pip install -q -e '.[dev,postgres]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache
