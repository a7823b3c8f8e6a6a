# mgpipe: plain GNU make, no configure step.
#   make                 build every bin/mg-* program
#   make test            install missing packages (make deps), build, run all tests
#   make demo            run the demonstration on data it makes itself
#   make bench           speed and memory beside the peers, as ratios
#   make asan=1 test     the same under -fsanitize=address,undefined
#   make fuzz            run the libFuzzer harnesses (FUZZ_SECONDS=60 each, FUZZ_ONLY=names)
#   make install PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
bindir  = $(PREFIX)/bin
man1dir = $(PREFIX)/share/man/man1
man5dir = $(PREFIX)/share/man/man5
INSTALL ?= install

PKGS      = libtiff-4 htslib libzstd openblas jansson libpng libjpeg
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra
ALL_CFLAGS   = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) -pthread
ALL_CPPFLAGS = -Icommon -I/usr/include/nifti $(PKG_CFLAGS) $(CPPFLAGS)
# oneDNN (Debian libdnnl-dev, no pkg-config file) and the OpenMP runtime it is built on
LIBS     = $(PKG_LIBS) -lnifti2 -lznz -ldnnl -lgomp -lz -lm -lpthread
ALL_LDFLAGS  = $(SAN) -pthread -Wl,--as-needed $(LDFLAGS)

ifdef asan
SAN   = -fsanitize=address,undefined -fno-omit-frame-pointer
BUILD = build/asan
else
BUILD = build/rel
endif
BIN = $(BUILD)/bin

LIB_SRC  = $(sort $(wildcard common/*.c common/*/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
# A program is cmd/mg-NAME.c, or a folder cmd/mg-NAME/ whose *.c files link into one.
CMD_SRC  = $(sort $(wildcard cmd/mg-*.c))
CMD_DIRS = $(sort $(patsubst %/,%,$(dir $(wildcard cmd/mg-*/*.c))))
CMD_DIR_SRC = $(sort $(wildcard cmd/mg-*/*.c))
PROGS    = $(CMD_SRC:cmd/%.c=$(BIN)/%) $(CMD_DIRS:cmd/%=$(BIN)/%)
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNITS    = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIBMG    = $(BUILD)/libmg.a

.PHONY: all deps test demo bench fuzz install clean lint-man reliability
.DELETE_ON_ERROR:
.SECONDARY:

all: $(PROGS) bin

# bin/ points at the release build so that ./bin/mg-* works after plain `make`.
bin:
	@[ -n "$(asan)" ] || ln -sfn $(BUILD)/bin bin

$(BUILD)/%.o: %.c $(wildcard common/*.h common/*/*.h cmd/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_CPPFLAGS) -MMD -MP -c -o $@ $<

$(LIBMG): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN)/%: $(BUILD)/cmd/%.o $(LIBMG)
	@mkdir -p $(BIN)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBMG) $(LIBS)

# Folder programs: every object of cmd/mg-NAME/ (the rule per folder comes from
# the template so that make knows each program's own object list).
define cmd_dir_rule
$$(BIN)/$(notdir $(1)): $$(patsubst %.c,$$(BUILD)/%.o,$$(wildcard $(1)/*.c)) $$(LIBMG)
	@mkdir -p $$(BIN)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(LIBMG) $$(LIBS)
endef
$(foreach d,$(CMD_DIRS),$(eval $(call cmd_dir_rule,$(d))))

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIBMG)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBMG) $(LIBS)

-include $(LIB_OBJ:.o=.d) $(CMD_SRC:cmd/%.c=$(BUILD)/cmd/%.d) $(CMD_DIR_SRC:%.c=$(BUILD)/%.d)

deps:
	@sh deps/install.sh

test: deps
	@$(MAKE) --no-print-directory all $(UNITS)
	@MG_BIN="$(abspath $(BIN))" MG_UNITS="$(abspath $(UNITS))" bash tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@MG_BIN="$(abspath $(BIN))" bash examples/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@MG_BIN="$(abspath $(BIN))" BUILD="$(abspath $(BUILD))" bash bench/run.sh

# The damaged-input and fault matrix for every program, with its figures
# (a small part of it runs in make test).
reliability: deps
	@$(MAKE) --no-print-directory all
	@MG_BIN="$(abspath $(BIN))" bash tests/reliability/run.sh --full

fuzz:
	@$(MAKE) --no-print-directory -f tests/fuzz/fuzz.mk

lint-man:
	@for m in man/*.[15]; do mandoc -Tlint -W warning $$m || exit 1; done

install: all
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(man1dir) $(DESTDIR)$(man5dir)
	$(INSTALL) -m 755 $(PROGS) $(DESTDIR)$(bindir)
	$(INSTALL) -m 644 $(wildcard man/*.1) $(DESTDIR)$(man1dir)
	$(INSTALL) -m 644 $(wildcard man/*.5) $(DESTDIR)$(man5dir)

clean:
	rm -rf build bin
