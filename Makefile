# Two entry points: `make run` (the app on the seed corpus) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LLAMA_VERSION := 0.3.36
ifeq ($(shell uname -m),x86_64)
# llama.cpp is built on the machine that runs it, for the vector extensions its CPU reports
# (/proc/cpuinfo), AMX excepted (see the install rule). AVX-512 reads prompts ~30% faster here.
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
AVX512 := avx512f avx512cd avx512vl avx512dq avx512bw
cpu_has = $(if $(strip $(foreach f,$(1),$(if $(filter $(f),$(CPU_FLAGS)),,no))),OFF,ON)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON -DGGML_AVX_VNNI=$(call cpu_has,avx_vnni) -DGGML_AVX512=$(call cpu_has,$(AVX512)) \
	-DGGML_AVX512_VBMI=$(call cpu_has,$(AVX512) avx512vbmi) \
	-DGGML_AVX512_VNNI=$(call cpu_has,$(AVX512) avx512_vnni) \
	-DGGML_AVX512_BF16=$(call cpu_has,$(AVX512) avx512_bf16) \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
endif

export HF_HUB_OFFLINE := 1

.PHONY: install run test lint eval bench browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first, so nothing pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	# llama.cpp built with the CPU's extensions listed above, not -march=native: its AMX kernels
	# crash (SIGSEGV in ggml_backend_amx_mul_mat) on CPUs that report AMX inside a sandbox. No
	# wheel cache: a build for another CPU would be reused.
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet --no-cache-dir 'llama-cpp-python==$(LLAMA_VERSION)'
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)

run: install
	$(BIN)/python -m qa indexes | grep -q '^seeds' || $(BIN)/python -m qa ingest seeds --index seeds
	$(BIN)/python app.py

test: install browser
	$(BIN)/ruff check qa tests app.py
	$(BIN)/python -m pytest -q

eval: install
	$(BIN)/python -m qa eval ../shared/evalsets/realtimeqa-dev/*/ --report reports/dev

bench: install
	$(BIN)/python -m qa bench --out reports/bench.json

clean:
	rm -rf $(VENV) indexes/*/ reports
