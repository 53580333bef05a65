# ff: a feature store you drive from the shell.
#   make            build the commands into build/
#   make check      sanitizer build (ASan/UBSan) + unit and bats tests
#   make demo       the taxi pipeline on generated trips
#   make bench      benchmarks on 1M and 10M generated trips
#   make fuzz       each libFuzzer harness of fuzz/ for FUZZ_SECONDS (clang)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Wpedantic -Wshadow
CPPFLAGS += -D_GNU_SOURCE -Icommon
SQLITE_LIBS := $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)
ZIP_LIBS := $(shell pkg-config --libs zlib libzstd 2>/dev/null || echo -lz -lzstd)
REDIS_LIBS := $(shell pkg-config --libs hiredis 2>/dev/null || echo -lhiredis)
LDFLAGS  += -Wl,--as-needed
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
PQ_LIBS := $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq)
CPPFLAGS += $(PQ_CFLAGS)
LDLIBS   += -lcsv $(SQLITE_LIBS) $(PQ_LIBS) $(ZIP_LIBS) $(REDIS_LIBS) -lxxhash -lxgboost -lmicrohttpd -ljansson -lpthread -lm

SAN_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

COMMANDS := $(patsubst cmd/%.c,%,$(wildcard cmd/ff-*.c))
LIB_SRC  := $(wildcard common/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))

# Two builds from the same sources: build/ (optimised) and build/check/ (sanitizers).
B  = build
BC = build/check

all: deps-build $(COMMANDS:%=$(B)/%)

define build_rules
$(1)/obj/%.o: common/%.c common/*.h | $(1)/obj
	$$(CC) $$(CPPFLAGS) $$(WARN) $(2) -c -o $$@ $$<
$(1)/obj/cmd-%.o: cmd/%.c common/*.h | $(1)/obj
	$$(CC) $$(CPPFLAGS) $$(WARN) $(2) -c -o $$@ $$<
$(1)/libff.a: $(LIB_SRC:common/%.c=$(1)/obj/%.o)
	$$(AR) rcs $$@ $$^
$(1)/ff-%: $(1)/obj/cmd-ff-%.o $(1)/libff.a
	$$(CC) $(2) -o $$@ $$^ $$(LDFLAGS) $$(LDLIBS)
$(1)/unit/test_%: tests/unit/test_%.c tests/unit/unit.h $(1)/libff.a | $(1)/unit
	$$(CC) $$(CPPFLAGS) -Itests/unit $$(WARN) $(2) -o $$@ $$< $(1)/libff.a $$(LDFLAGS) $$(LDLIBS)
$(1)/obj $(1)/unit:
	mkdir -p $$@
endef
$(eval $(call build_rules,$(B),$(CFLAGS)))
$(eval $(call build_rules,$(BC),$(SAN_CFLAGS)))

.PRECIOUS: $(B)/obj/%.o $(BC)/obj/%.o $(B)/obj/cmd-%.o $(BC)/obj/cmd-%.o

check-build: $(COMMANDS:%=$(BC)/%) $(UNIT_SRC:tests/unit/%.c=$(BC)/unit/%) \
	$(FUZZ_NAMES:%=$(BC)/fuzz/replay_%)

# The README's test command: installs what is missing, builds with sanitizers,
# runs every test and ends with "N passed, N failed".
check: deps-test
	@$(MAKE) --no-print-directory check-build
	@FF_BIN=$(CURDIR)/$(BC) scripts/run-tests

demo: deps-build all
	@examples/taxi/run.sh

# ---- fuzzing ----
# Each fuzz/fuzz_NAME.c is a harness. `make check` replays fuzz/corpus/NAME
# and fuzz/crashes/NAME through it with a plain main() (fuzz/replay.c) under
# the compiler and sanitizers of build/check, so it needs no clang (see
# tests/fuzz.bats); `make fuzz` links it with libFuzzer instead, builds the
# library again with clang's instrumentation in build/fuzz, and runs each
# harness FUZZ_SECONDS (scripts/fuzz).
FUZZ_SECONDS ?= 75
FUZZ_CC      ?= clang
FUZZ_CFLAGS   = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
BF = build/fuzz

$(BC)/fuzz/replay_%: fuzz/fuzz_%.c fuzz/replay.c fuzz/fuzz.h $(BC)/libff.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(SAN_CFLAGS) -o $@ fuzz/replay.c $< $(BC)/libff.a $(LDFLAGS) $(LDLIBS)
$(BF)/obj/%.o: common/%.c common/*.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(BF)/libff.a: $(LIB_SRC:common/%.c=$(BF)/obj/%.o)
	$(AR) rcs $@ $^
$(BF)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(BF)/libff.a
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BF)/libff.a $(LDFLAGS) $(LDLIBS)

fuzz: deps-fuzz $(FUZZ_NAMES:%=$(BF)/fuzz_%)
	@scripts/fuzz $(BF) $(FUZZ_SECONDS) $(FUZZ_NAMES)

BENCH_TOOLS := $(B)/bench/measure $(B)/bench/csv_floor $(B)/bench/insert_floor
$(B)/bench/%: bench/%.c $(B)/libff.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(B)/libff.a $(LDFLAGS) $(LDLIBS)

bench: deps-bench all $(BENCH_TOOLS)
	@bench/run

deps-build:
	@scripts/deps build
deps-test:
	@scripts/deps test
deps-bench:
	@scripts/deps bench
deps-fuzz:
	@scripts/deps fuzz

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(COMMANDS:%=$(B)/%) $(DESTDIR)$(BINDIR)
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1
	install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7
	for c in $(COMMANDS); do install -m 644 completions/ff.bash $(DESTDIR)$(BASHCOMPDIR)/$$c; done
	install -m 644 completions/_ff $(DESTDIR)$(ZSHCOMPDIR)/_ff

uninstall:
	rm -f $(COMMANDS:%=$(DESTDIR)$(BINDIR)/%) $(COMMANDS:%=$(DESTDIR)$(BASHCOMPDIR)/%)
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man1/%,$(wildcard man/*.1))
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man5/%,$(wildcard man/*.5))
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man7/%,$(wildcard man/*.7))
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_ff

clean:
	rm -rf build

.PHONY: all check check-build demo bench fuzz deps-build deps-test deps-bench deps-fuzz install uninstall clean
