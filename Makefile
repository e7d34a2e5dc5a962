# The two commands of the README. Each sets up what it needs (a virtualenv in .venv) first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test score browser lint clean

# (setuptools warns about every editable install in a box of asterisks: PYTHONWARNINGS keeps it quiet)
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore::UserWarning $(PY) -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(PY) -m pipeline ingest raw/

test: $(VENV)/.installed browser
	$(PY) -m ruff check pipeline tests bench
	$(PY) -m pytest

# The scorecard CI prints, on the shared samples: make score SHARED=/path/to/shared (default ../shared).
score: $(VENV)/.installed
	.ci/scorecard $(SHARED)

# The report test renders report.html in headless Chromium (Debian's package, with a CJK font).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-wqy-zenhei >/dev/null \
		|| echo "no Chromium: the report rendering test will be skipped (apt-get install chromium fonts-wqy-zenhei)"; }

clean:
	rm -rf clean .clean.* $(VENV)
