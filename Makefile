# dinoseek - reverse image search for design patents.
#
#   make          build build/dinoseek (installs missing Debian packages first)
#   make test     build and run every test, plain and under ASan+UBSan (what CI runs)
#   make asan     the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo     generate or fetch weights and run the main job on embedded defaults
#   make bench    benchmarks; figures go to stdout (record them in bench/RESULTS.md)
#   make soak     load and soak: mixed load, flat memory and descriptors, LeakSanitizer
#   make fuzz     run the fuzz targets for FUZZ_SECONDS each (libFuzzer, clang)
#   make clean

CC       ?= cc
BUILD    ?= build
SANITIZE ?=
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
BLASDIR  := /usr/lib/$(MULTIARCH)/openblas-openmp
BLASINC  := /usr/include/$(MULTIARCH)/openblas-openmp
PKGS     := vips jansson libcurl sqlite3 libmicrohttpd libxml-2.0 libarchive

# Library headers are -isystem so that -Werror judges only our code.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null | sed 's/-I/-isystem /g')
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -std=c11 -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wvla -Wno-overlength-strings
CFLAGS  ?= -O3 -g
# Neither changes a result: we never read errno after maths calls nor rely
# on floating-point traps, and without them GCC will not vectorise the
# branch-free min/max and conversions in src/model/ops.c.
FPFLAGS := -fno-math-errno -fno-trapping-math
OPENMP  ?= -fopenmp
ifeq ($(SANITIZE),1)
CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
endif
ALL_CFLAGS = $(WARN) $(CFLAGS) $(FPFLAGS) $(CFLAGS_EXTRA) -D_GNU_SOURCE $(OPENMP) -Isrc -isystem $(BLASINC) $(PKG_CFLAGS) -MMD -MP
LDLIBS  = $(LDSAN) $(OPENMP) $(PKG_LIBS) -L$(BLASDIR) -Wl,-rpath,$(BLASDIR) -lopenblas -ldnnl -lm -lpthread

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/ui_assets.o
MAIN_OBJ := $(BUILD)/src/main.o
TEST_SRC := $(wildcard tests/unit/*.c) tests/run.c
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
FUZZ_NAMES := $(basename $(notdir $(wildcard fuzz/*_fuzzer.c)))
REPLAY_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%_replay)
BENCH_BINS := $(BUILD)/bench/embed $(BUILD)/bench/search $(BUILD)/bench/http $(BUILD)/bench/import \
              $(BUILD)/bench/milvus $(BUILD)/bench/words

.PHONY: all deps test check asan demo bench fuzz soak clean venv
all: deps $(BUILD)/dinoseek

# Checked on every build; costs one dpkg-query when nothing is missing.
deps:
	@./mk/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(ALL_CFLAGS) -DDS_VERSION='"$(VERSION)"' -c $< -o $@

# The web UI (web/) is compiled into the binary: tools/embed.c writes its
# files as a C table. The list of files is kept so that adding or removing
# one rebuilds the table too.
WEB_FILES := $(sort $(shell find web -type f 2>/dev/null))
UI_LIST   := $(BUILD)/gen/ui_files.list
$(shell mkdir -p $(BUILD)/gen && (echo '$(WEB_FILES)' | cmp -s - $(UI_LIST) || echo '$(WEB_FILES)' > $(UI_LIST)))

$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/gen/ui_assets.c: $(WEB_FILES) $(UI_LIST) $(BUILD)/tools/embed
	$(BUILD)/tools/embed $@ web $(WEB_FILES)

$(BUILD)/gen/ui_assets.o: $(BUILD)/gen/ui_assets.c
	@echo "CC $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libdinoseek.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/dinoseek: $(MAIN_OBJ) $(BUILD)/libdinoseek.a
	$(CC) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/run: $(TEST_OBJ) $(BUILD)/libdinoseek.a
	$(CC) -o $@ $^ $(LDLIBS)

# Fuzz targets built with the normal compiler and a replay main, so that
# `make test` runs their corpus without needing libFuzzer.
$(BUILD)/fuzz/%_replay: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/replay.o $(BUILD)/libdinoseek.a
	$(CC) -o $@ $^ $(LDLIBS)

# bench/harness.c: starting, stopping and watching a real server, shared by
# bench/http and soak/load.
$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BUILD)/bench/harness.o $(BUILD)/libdinoseek.a
	$(CC) -o $@ $^ $(LDLIBS)

# The soak programs (soak/*.c): long runs that make soak starts, kept out of
# make test.
SOAK_BINS := $(patsubst %.c,$(BUILD)/%,$(wildcard soak/*.c))
$(BUILD)/soak/%: $(BUILD)/soak/%.o $(BUILD)/bench/harness.o $(BUILD)/libdinoseek.a
	$(CC) -o $@ $^ $(LDLIBS)

# The whole suite, in C; its `fuzz` suite replays each fuzz corpus.
check: $(BUILD)/dinoseek $(BUILD)/tests/run $(REPLAY_BINS)
	DINOSEEK_BIN=$(BUILD)/dinoseek DINOSEEK_BUILD=$(BUILD) $(BUILD)/tests/run $(TESTS)

# Every suite twice: optimised, then under ASan + UBSan (bad input must never
# crash or leak, and the sanitizers are what prove it). Four suites run once:
# parity, precision and content (the forward pass against Hugging Face's
# numbers, against f32, and on 288 drawings: no outside input, and minutes
# under ASan; the vit suite runs the same code, every precision included,
# sanitized) and
# browser (the page in Chromium: the server it drives is the plain build's
# code; the api and import suites run that code sanitized), and the suites
# that run the api, import, multiproc, words and multi tests again on the
# remote backends (api-s3, import-s3, api-milvus, import-milvus,
# multiproc-milvus, words-milvus, multi-milvus): their
# S3 and Milvus clients, and the engine on Milvus through imports under
# faults, run sanitized in the s3 and milvus suites, and the code above them
# in api, import and multiproc; and multi (several collections at once: its
# merging is fusion.c, run sanitized by the fusion suite, and the search of
# each collection by words and api). This keeps make test near its 25 minutes.
# `make asan` runs everything sanitized.
ASAN_SKIP := -parity -content -browser -precision -api-s3 -import-s3 -api-milvus -import-milvus \
             -multiproc-milvus -words-milvus -multi-milvus -multi
test: deps
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 TESTS="$(ASAN_SKIP)" check

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 check

# The Python sides of the benchmarks (PyTorch, ONNX Runtime, OpenVINO, faiss)
# and tools/hf_reference.py run in a venv over Debian's torch, with the
# transformers release that supports it; numpy stays below 2, which Debian's
# torch 1.13 was built for (these onnx, onnxruntime and openvino run on 1.26).
# torch also writes the ONNX files that bench/onnx_embed.py times. The stamp
# follows the Makefile, so that a changed pin reaches an existing .venv.
TRANSFORMERS_VERSION := 4.46.3
FAISS_VERSION := 1.15.1
ONNX_VERSION := 1.23.2
ONNXRUNTIME_VERSION := 1.32.0
OPENVINO_VERSION := 2026.4.1
venv: .venv/.stamp
.venv/.stamp: Makefile
	./mk/deps.sh python3-torch python3-pil python3-numpy python3-venv
	/usr/bin/python3 -m venv --system-site-packages .venv
	.venv/bin/pip install -q 'transformers==$(TRANSFORMERS_VERSION)' 'numpy<2' \
	    'faiss-cpu==$(FAISS_VERSION)' 'onnx==$(ONNX_VERSION)' \
	    'onnxruntime==$(ONNXRUNTIME_VERSION)' 'openvino==$(OPENVINO_VERSION)'
	touch $@

bench: deps venv $(BUILD)/dinoseek $(BENCH_BINS)
	./bench/run.sh $(BUILD)

# Load and soak (docs/testing.md, "Load and soak"): SOAK_SECONDS of mixed
# load on the optimised server, then 10,000 requests to the ASan build
# (SOAK_ASAN) under LeakSanitizer; soak/run.sh runs the series.
SOAK_SECONDS ?= 180
SOAK_ASAN ?= build/asan
soak: deps $(BUILD)/dinoseek $(SOAK_BINS)
	@$(MAKE) --no-print-directory BUILD=$(SOAK_ASAN) SANITIZE=1 $(SOAK_ASAN)/dinoseek
	SOAK_SECONDS=$(SOAK_SECONDS) ./soak/run.sh $(BUILD) $(SOAK_ASAN)

demo: deps $(BUILD)/dinoseek
	./tools/demo.sh $(BUILD)/dinoseek

FUZZ_SECONDS ?= 60
fuzz: deps
	./fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
