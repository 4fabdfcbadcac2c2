# SPDX-License-Identifier: MIT
# inkasso build. `make` builds bin/inkasso and bin/agency-sim; `make run` and
# `make test` first install whatever Debian/npm packages are missing.

CC      ?= cc
BUILD   ?= build/release
BINDIR  ?= bin
PKGS     = libmicrohttpd json-c libcurl sqlite3 libpq libjwt libcrypto
WARN     = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla
DEFS     = -D_DEFAULT_SOURCE -D_GNU_SOURCE
OPT     ?= -O2 -g
SAN     ?=
# Recursive (=) on purpose: pkg-config runs when a recipe needs it, after `deps`.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lpthread -lm
CFLAGS_ALL = $(WARN) $(DEFS) $(OPT) $(SAN) -I. $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(SAN) $(LDFLAGS)

LIB_SRC  = $(filter-out server/main.c,$(wildcard lib/*.c store/*.c agency/*.c webhooks/*.c server/*.c handlers/*.c))
SIM_SRC  = $(wildcard sim/*.c)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
SIM_OBJ  = $(SIM_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIB      = $(BUILD)/libinkasso.a

.PHONY: all deps run test check unit http asan asan-check lint clean bench bench-quick bench-pg proof
all: $(BINDIR)/inkasso $(BINDIR)/agency-sim $(BINDIR)/inkasso-faultvfs

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BINDIR)/inkasso: $(BUILD)/server/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) $^ $(PKG_LIBS) -o $@

$(BINDIR)/agency-sim: $(SIM_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) $^ $(PKG_LIBS) -o $@

# Test-only (issue 5): the service with the storage fault shim of tests/fault
# registered as SQLite's default VFS, armed through INKASSO_FAULT_FILE. Built
# by `all` so that the HTTP tests find it beside bin/inkasso; never shipped
# (the Dockerfile copies bin/inkasso and bin/agency-sim only).
$(BINDIR)/inkasso-faultvfs: $(BUILD)/server/main.o $(BUILD)/tests/fault/faultvfs.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) $^ $(PKG_LIBS) -o $@

# The unit test includes the shim's source.
$(BUILD)/tests/test_store_faults: tests/fault/faultvfs.c tests/fault/faultvfs.h

$(BUILD)/tests/%: tests/unit/%.c tests/unit/store_testkit.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< $(LIB) $(LDFLAGS_ALL) $(PKG_LIBS) -lcriterion -o $@

deps:
	@scripts/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh

# The README's test command: dependencies, then the suite plain and sanitized,
# the contract and container checks, and 10 s of each fuzz target.
test: deps
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory asan-check
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory fuzz-smoke

# The benchmark helpers link the store: built here too, so that they follow it.
BENCH_BIN = $(BUILD)/bench/gen $(BUILD)/bench/floor
# Both storage backends: the unit tests of the PostgreSQL engine and the
# store tests (run on both by scripts/run-unit.sh), then the HTTP suite on
# SQLite and again on PostgreSQL, each PostgreSQL run on a server of its own
# that scripts/pg-server.sh starts in a temporary directory and stops again.
check: all $(UNIT_BIN) $(BENCH_BIN)
	@scripts/pg-server.sh run scripts/run-unit.sh $(UNIT_BIN)
	@INKASSO_BIN=$(BINDIR)/inkasso AGENCY_SIM_BIN=$(BINDIR)/agency-sim scripts/run-http.sh
	@echo "http: the same suite on PostgreSQL"
	@INKASSO_BIN=$(BINDIR)/inkasso AGENCY_SIM_BIN=$(BINDIR)/agency-sim INKASSO_TEST_STORE=pg \
	  scripts/pg-server.sh run scripts/run-http.sh

# ASan+UBSan build in its own tree; the same suite runs against it.
asan:
	@$(MAKE) --no-print-directory BUILD=build/asan BINDIR=build/asan/bin \
	  OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all \
	  $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)

asan-check:
	@$(MAKE) --no-print-directory BUILD=build/asan BINDIR=build/asan/bin \
	  OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" check

lint:
	@scripts/lint.sh

clean:
	rm -rf build bin

# Benchmarks (bench/README.md): not run by `make test`. bench/install-deps.sh
# adds wrk and nginx; bench/run.sh generates the databases, runs inkasso and
# nginx side by side under wrk and writes bench/RESULTS.md.
$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< $(LIB) $(LDFLAGS_ALL) $(PKG_LIBS) -o $@

# Issue 5's proofs at full size (tests/proof/*.py), about 6 minutes; prints
# every figure and fails when a target is missed. Not part of `make test`,
# which runs their short versions (tests/http/test_proof_*.py).
proof: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@scripts/proof.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@bench/install-deps.sh
	@BENCH_BUILD=$(BUILD) bench/run.sh

bench-quick: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@bench/install-deps.sh
	@BENCH_BUILD=$(BUILD) bench/run.sh --quick

# inkasso on PostgreSQL (issue 11): bench/pg.sh, the same harness, then
# bench/pg_profile.sh (what the sessions wait for during 2-replica creates).
bench-pg: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@bench/install-deps.sh
	@BENCH_BUILD=$(BUILD) bench/pg.sh
	@bench/pg_profile.sh

# The contract is embedded into the binary (.incbin): rebuild when it changes.
$(BUILD)/server/openapi_embed.o: openapi.yaml

-include $(LIB_OBJ:.o=.d) $(SIM_OBJ:.o=.d) $(BUILD)/server/main.d $(BUILD)/tests/fault/faultvfs.d

# Fuzzing (issue 5): the libFuzzer targets of tests/fuzz, built with clang
# under ASan+UBSan into build/fuzz, the library rebuilt there with coverage
# instrumentation (build/release objects lack it). `make fuzz` runs each target
# for FUZZ_SECONDS, FUZZ_JOBS at a time, on a working copy of its committed
# seeds (build/fuzz/corpus); `make fuzz-smoke` is the 10-second run for CI.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_TARGETS  = body_case auth agency_answers cursor_and_dates
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
.PHONY: fuzz fuzz-smoke fuzz-build

fuzz-build: deps
	@$(MAKE) --no-print-directory CC=$(FUZZ_CC) BUILD=build/fuzz OPT="-g -O1" \
	  SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libinkasso.a
	$(CC) $(WARN) $(DEFS) $(OPT) $(FUZZ_SAN) -fsanitize=fuzzer -I. $(PKG_CFLAGS) $< \
	  build/fuzz/libinkasso.a $(PKG_LIBS) -o $@

fuzz: fuzz-build
	@scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@scripts/fuzz.sh 10 $(FUZZ_JOBS) $(FUZZ_TARGETS)
