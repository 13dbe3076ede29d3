# coverage-gis — two commands:  make run   (demo audit)   ·   make test   (whole suite)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test test-min install lint dist test-dist bench bench-scale bench-readers bench-locate bench-boundaries bench-gui clean system-deps

# System libraries Qt/QtWebEngine need on a bare Debian/Ubuntu (offscreen). Installed once.
SYSTEM_PACKAGES := libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libnss3 libasound2t64 \
  libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1 libglib2.0-0 fonts-noto-cjk
system-deps: $(VENV)/.system-deps
$(VENV)/.system-deps:
	@mkdir -p $(VENV)
	@if command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  pk=""; for p in $(SYSTEM_PACKAGES); do \
	    q=$$p; if [ $$p = libasound2t64 ] && ! apt-cache show libasound2t64 >/dev/null 2>&1; then q=libasound2; fi; \
	    dpkg -s $$q >/dev/null 2>&1 || pk="$$pk $$q"; done; \
	  if [ -n "$$pk" ]; then echo "apt-get install:$$pk"; $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$pk >/dev/null; fi; \
	fi
	@touch $@

$(STAMP): pyproject.toml | system-deps
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[gui,test]'
	@touch $@

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/coverage-gis audit --demo --suggest --out out --format table,csv,json,xlsx
	$(VENV)/bin/coverage-gis map --demo --suggest --quiet --out out/gap_map.html --png out/gap_map.png

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen QTWEBENGINE_CHROMIUM_FLAGS="--no-sandbox --disable-gpu" \
	  $(PY) -m pytest -q

# the same suite with every dependency at its pyproject.toml floor, in .venv-min (Python 3.11,
# .ci/constraints-min.txt); see README "最低版本 / Minimum versions"
test-min:
	bash .ci/run-min

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests scripts benchmarks packaging
	$(VENV)/bin/ruff format --check src tests scripts benchmarks packaging

# Frozen desktop build (PyInstaller, one folder): dist/coverage-gis/coverage-gis. Only these
# targets install the `dist` extra. Fixed hash seed, clean cache: the same environment gives
# the same bundle, file for file. See README "桌面版打包 / Frozen desktop build".
DIST_STAMP := $(VENV)/.installed-dist
$(DIST_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[gui,test,dist]'
	@touch $@

dist: $(DIST_STAMP)
	@start=$$(date +%s); \
	PYTHONHASHSEED=0 $(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN \
	    --distpath dist --workpath build/pyinstaller packaging/coverage-gis.spec && \
	echo "dist/coverage-gis: $$(du -sh dist/coverage-gis | cut -f1), built in $$(( $$(date +%s) - start )) s"

# build the bundle, then start it (offscreen) and check its screenshot and map export
test-dist: dist
	QT_QPA_PLATFORM=offscreen QTWEBENGINE_CHROMIUM_FLAGS="--no-sandbox --disable-gpu" \
	  COVERAGE_GIS_FROZEN_REQUIRED=1 $(PY) -m pytest -q -rs tests/test_frozen.py

bench: $(STAMP)
	$(PY) benchmarks/bench_demo_audit.py

# national scale: generates benchmarks/.data/ (git-ignored) once, then ~15 min; see benchmarks/README.md
bench-scale: $(STAMP)
	$(PY) benchmarks/bench_scale.py

# readers on the planner-shaped 200,000-row GBK CSV and 50,000-row .xlsx (generated once)
bench-readers: $(STAMP)
	$(PY) benchmarks/bench_readers.py

# point location on detailed outlines against a plain STRtree query
bench-locate: $(STAMP)
	$(PY) benchmarks/bench_locate.py

# boundary checks (overlaps, gaps) on units that are not exactly noded
bench-boundaries: $(STAMP)
	$(PY) benchmarks/bench_boundaries.py

# desktop app: event-loop stalls while loading the demo and moving the year slider
bench-gui: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_gui_responsiveness.py

clean:
	rm -rf out dist build .pytest_cache
