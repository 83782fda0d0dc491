# Training neural networks with TensorFlow: every command a student, an instructor or CI needs.
# `make lab` and `make test` install on first use; `make setup GPU=1` installs the CUDA build.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
export PATH := $(abspath $(BIN)):$(PATH)
KERNEL := tf-course
GPU    ?= 0
ifeq ($(GPU),1)
  REQS := requirements-gpu.txt
else
  REQS := requirements-cpu.txt
endif
# The stamp records which requirement set was installed, so switching GPU=0/1 reinstalls.
STAMP  := $(VENV)/.installed-$(notdir $(REQS))

.PHONY: help setup lab test wrong-answers notebooks check-notebooks bench clean browser-deps

# Parts of the build that belong to one area live beside it (autograder/*.mk): they may add targets
# and prerequisites of `make test` (TEST_DEPS), e.g. system packages the tests need.
TEST_DEPS :=
.DEFAULT_GOAL := help
-include autograder/*.mk

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: $(STAMP)  ## install the pinned environment (.venv), the Jupyter kernel and nbgrader's extensions

$(STAMP): requirements.txt requirements.lock $(REQS)
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]' \
	  || { echo "Set PYTHON=/path/to/python3.11 (e.g. make setup PYTHON=python3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# uv installs the set in ~10 s where pip takes ~55 s; pip stays the fallback.
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.8 \
	  && $(BIN)/uv pip install --python $(PY) -r $(REQS) -c requirements.lock -e . \
	  || $(PY) -m pip install --disable-pip-version-check -r $(REQS) -c requirements.lock -e .
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (TF course)"
	@# nbgrader's wheel enables its server extensions (etc/jupyter/jupyter_server_config.d/nbgrader.json).
	@# The course runs offline: JupyterLab's news and update checks would only pop up and fail.
	mkdir -p $(VENV)/share/jupyter/lab/settings
	echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' \
	  > $(VENV)/share/jupyter/lab/settings/overrides.json
	rm -f $(VENV)/.installed-*
	touch $@

# The course home (home.ipynb, git-ignored) is written afresh from notebooks/; the bundle's idle-kernel culling and
# Validate's note (autograder/release.py repository_lab), with every instructor tool.
lab: setup  ## open JupyterLab on the course home (home.ipynb) and the student notebooks
	$(PY) autograder/release.py --repository-lab
	JUPYTER_CONFIG_PATH=$(CURDIR)/autograder/work/lab-config $(BIN)/jupyter lab --LabApp.default_url=/lab/tree/home.ipynb \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

notebooks: setup  ## regenerate notebooks/ from solutions/ (ONLY="03_x 04_y" for some)
	$(PY) autograder/notebooks.py generate $(ONLY)

check-notebooks: setup  ## fail when notebooks/ is stale or a notebook is not normalized
	$(PY) autograder/notebooks.py check

# The browser test drives Debian's chromium (never a browser Playwright downloads). Installed when
# missing and we are root, as in CI; elsewhere the test is skipped with its reason.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "chromium is not installed: tests/test_browser.py will be skipped"
TEST_DEPS += browser-deps

# First the parallel pytest run: unit tests and the student notebooks up to their first exercise (xdist keeps
# a notebook's cells on one worker: loadscope). Then every solution notebook under nbval, one at a time and alone
# on the machine, as a student runs it: the times it prints are the course's real times on this machine (beside
# another TensorFlow process each notebook took about 1.4 times as long). Then, on its own too, the grader on
# every course notebook (it grades two at a time itself).
PYTEST_ARGS ?= -n 2 --dist loadscope
NBVAL_ARGS := --nbval-lax --nbval-kernel-name $(KERNEL) --nbval-cell-timeout 900 \
  --nbval-sanitize-with tests/nbval_sanitize.cfg
test: setup $(TEST_DEPS)  ## run every check of the project
	$(PY) autograder/notebooks.py check
	$(PY) autograder/lint_notebooks.py
	$(BIN)/pytest $(PYTEST_ARGS) -p no:cacheprovider $(NBVAL_ARGS) \
	  --ignore tests/test_grading_course.py --ignore tests/test_wrong_answers.py tests
	$(BIN)/pytest -p no:cacheprovider $(NBVAL_ARGS) solutions
	$(BIN)/pytest -p no:cacheprovider tests/test_grading_course.py tests/test_wrong_answers.py

wrong-answers: setup  ## grade the kept wrong answers of every exercise and print the table (ONLY="04 06" for some)
	WRONG_ANSWERS="$(ONLY)" $(BIN)/pytest -p no:cacheprovider -s tests/test_wrong_answers.py

bench: setup  ## print the benchmark figures
	$(PY) bench/run.py

clean:  ## remove the environment, caches and nbgrader's working folders
	rm -rf $(VENV) datasets/cache .pytest_cache autograder/work
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
