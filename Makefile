# openseat — build, run, test. The two commands a user needs: `make run`, `make test`.
# Dependencies come from Debian packages (scripts/install-deps.sh installs what is missing).

CC       ?= cc
PKGS     := libmicrohttpd jansson sqlite3 libpq libsodium libcurl libzip expat xlsxwriter liboath cjose
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wcast-qual \
            -Wno-unused-parameter
CSTD     := -std=c11 -D_GNU_SOURCE
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) -Isrc -Ibuild/gen $(PKG_CFLAGS)
LIBS     = $(PKG_LIBS) -lcsv -lpthread -lm
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# The test build (build/openseat-test, unit tests) only: store fault injection (--fault-injection).
TEST_DEFS := -DOPENSEAT_FAULTS

SRC      := $(shell find src -name '*.c' | sort)
LIB_SRC  := $(filter-out src/main.c,$(SRC))
HDR      := $(shell find src -name '*.h')
EMBED_IN := $(sort $(shell find web -type f 2>/dev/null) web/js/constants.js) \
            $(shell find src/store/migrations src/mail/templates -type f 2>/dev/null | sort) \
            docs/openapi.yaml
EMBED_ARGS = $(foreach f,$(filter web/%,$(EMBED_IN)),$(f)=$(f)) \
             $(foreach f,$(filter src/store/migrations/%,$(EMBED_IN)),$(patsubst src/store/%,%,$(f))=$(f)) \
             $(foreach f,$(filter src/mail/templates/%,$(EMBED_IN)),$(patsubst src/mail/templates/%,mail/%,$(f))=$(f)) \
             docs/openapi.yaml=docs/openapi.yaml

OBJ      := $(patsubst src/%.c,build/rel/%.o,$(SRC)) build/rel/gen/embedded.o
TOBJ     := $(patsubst src/%.c,build/san/%.o,$(LIB_SRC)) build/san/gen/embedded.o
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(patsubst tests/unit/%.c,build/unit/%,$(UNIT_SRC))

.PHONY: all deps run test unit api api-pg e2e faults fuzz fuzz-short bench clean demo
all: openseat

deps:
	@bash scripts/install-deps.sh

# The values the web UI shares with the server, read from where the server defines them
# (tools/webconst.py says which and why the file is committed). Rewritten before embedding.
PYTHON   ?= python3
WEBCONST_IN := src/core/limits.h src/core/countries.c src/domain/subscribers.h src/domain/subscribers.c \
               src/domain/licensing.h docs/openapi.yaml
web/js/constants.js: tools/webconst.py $(WEBCONST_IN)
	@echo "  GEN     $@"
	@$(PYTHON) tools/webconst.py $@

build/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -o $@ $<

build/gen/embedded.c: build/tools/embed $(EMBED_IN)
	@mkdir -p $(dir $@)
	@echo "  EMBED   $(words $(EMBED_IN)) files"
	@build/tools/embed $@ $(EMBED_ARGS)

# -MMD: each object depends on exactly the headers it includes.
build/rel/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<
build/rel/gen/embedded.o: build/gen/embedded.c
	@mkdir -p $(dir $@)
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<
build/san/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC san  $<"
	@$(CC) $(ALL_CFLAGS) $(SAN) $(TEST_DEFS) -MMD -MP -c -o $@ $<
build/san/gen/embedded.o: build/gen/embedded.c
	@mkdir -p $(dir $@)
	@$(CC) $(ALL_CFLAGS) $(SAN) -c -o $@ $<

openseat: $(OBJ)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) -o $@ $(OBJ) $(LIBS)

# The binary the test layers run: same code, sanitizers on.
build/openseat-test: $(TOBJ) build/san/main.o
	@echo "  LINK    $@"
	@$(CC) $(SAN) -o $@ $^ $(LIBS)

build/unit/%: tests/unit/%.c tests/unit/unit.h $(TOBJ)
	@mkdir -p $(dir $@)
	@echo "  TEST    $<"
	@$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $< $(TOBJ) $(LIBS) -lcmocka

# ---- the README's commands -------------------------------------------------------------
run: deps openseat
	@./openseat demo --data $${OPENSEAT_DATA:-./data}
	@echo
	@echo "openseat is starting at http://localhost:$${OPENSEAT_PORT:-8080}/  (Ctrl-C stops it)"
	@echo "mail without a relay goes to $${OPENSEAT_DATA:-./data}/maildir/new/"
	@echo
	@./openseat serve --data $${OPENSEAT_DATA:-./data}

test: deps
	@$(MAKE) --no-print-directory openseat build/openseat-test $(UNIT_BIN) $(FUZZ_TARGETS)
	@bash tests/run-all.sh

# ---- single layers, for development ------------------------------------------------------
unit: $(UNIT_BIN)
	@bash tests/run-all.sh unit
api: build/openseat-test
	@bash tests/run-all.sh api
api-pg: build/openseat-test
	@bash tests/run-all.sh api-pg
e2e: build/openseat-test
	@bash tests/run-all.sh e2e
# Every database operation of the state-changing routes failed in turn (part of the api layers too).
faults: build/openseat-test
	@/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/api/test_faults.py

FUZZ_TARGETS := $(patsubst fuzz/%.c,build/fuzz/%,$(wildcard fuzz/fuzz_*.c))
FUZZ_SRC := src/core/arena.c src/core/buf.c src/core/json_write.c src/core/text.c src/core/error.c src/core/countries.c \
            src/http/body.c src/http/route.c
FUZZ_SRC += src/io/table.c src/io/csv.c src/io/xlsx.c
FUZZ_LIBS := -ljansson -lzip -lexpat -lcsv
build/fuzz/fuzz_csv build/fuzz/fuzz_xlsx: fuzz/fuzz_table.h
build/fuzz/%: fuzz/%.c fuzz/fuzz_check.h $(FUZZ_SRC) $(HDR)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@clang $(CSTD) $(WARN) -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ $< $(FUZZ_SRC) $(FUZZ_LIBS)
fuzz: $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do n=$$(basename $$t); mkdir -p build/corpus/$$n; \
	  $$t -max_total_time=$${FUZZ_SECONDS:-60} build/corpus/$$n fuzz/corpus/$$n || exit 1; done
fuzz-short: $(FUZZ_TARGETS)
	@bash tests/run-all.sh fuzz

bench: deps openseat
	@bash bench/run.sh
	@bash bench/subscribers.sh
	@bash bench/files.sh
	@bash bench/memory.sh
	@bash bench/pg.sh
	@bash bench/webhooks.sh

clean:
	rm -rf build openseat

-include $(shell find build -name '*.d' 2>/dev/null)
