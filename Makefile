# The two commands a newcomer needs: `make demo` and `make test`. Both set up
# everything (Debian packages, the virtual environment) idempotently.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_DIR ?= demo-case
# Extras installed for tests and the demo (optional features included).
EXTRAS ?= test,places,disk,archives,video,prnu,scene,faces,ocr,case,distributed,vpdq
# Debian packages the tests and the demo use (file-system tools to build test
# images, libmagic for type sniffing, PostgreSQL for the store tests, FFmpeg's
# headers for Meta's vPDQ, built from source as the video conformance test's reference).
APT_PACKAGES ?= libmagic1 postgresql chromium mtools dosfstools e2fsprogs fdisk ntfs-3g ewf-tools sleuthkit libarchive-tools tesseract-ocr tesseract-ocr-eng fonts-dejavu-core qemu-utils cryptsetup-bin xfsprogs xorriso apfsprogs lvm2 pkg-config libavcodec-dev libavformat-dev libavdevice-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev

.PHONY: demo test apt venv lint clean fuzz

apt:
	@bash scripts/apt-ensure.sh $(APT_PACKAGES)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed-$(EXTRAS): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[$(EXTRAS)]"
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(VENV)/.installed-$(EXTRAS)

lint: venv
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/mypy scripts
	$(BIN)/python scripts/import_cycles.py

test: apt venv lint
	bash scripts/with-postgres.sh $(BIN)/pytest -q

# Long fuzzing of every evidence parser (make test runs a bounded, reproducible smoke of the
# same properties): random exploration, FUZZ_EXAMPLES per property.
FUZZ_EXAMPLES ?= 5000
fuzz: venv
	UNSEEN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:cacheprovider tests/fuzz

demo: apt venv
	rm -rf $(DEMO_DIR)
	$(BIN)/unseen demo --dir $(DEMO_DIR)

clean:
	rm -rf $(VENV) $(DEMO_DIR) .mypy_cache .ruff_cache .pytest_cache
