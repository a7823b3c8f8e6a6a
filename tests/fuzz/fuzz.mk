# make fuzz: build each tests/fuzz/fuzz_*.c with clang's libFuzzer and ASan/UBSan
# against the library sources, seed a corpus (tests/fuzz/fuzz_*.seed) from
# small files the tools and Python write, and run each harness for
# FUZZ_SECONDS seconds (FUZZ_TIME is the older name), one after the other.
# FUZZ_ONLY=fuzz_npy,fuzz_head runs only those harnesses.
FUZZ_TIME ?= 60
FUZZ_SECONDS ?= $(FUZZ_TIME)
CC = clang
PKGS = libtiff-4 htslib libzstd openblas jansson libpng libjpeg
FLAGS = -g -O1 -std=c11 -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
        -fsanitize=fuzzer-no-link,address,undefined -Icommon -I/usr/include/nifti $(shell pkg-config --cflags $(PKGS))
LIBS = $(shell pkg-config --libs $(PKGS)) -lnifti2 -lznz -ldnnl -lgomp -lz -lm -lpthread
ALL_HARNESSES = $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
HARNESSES = $(if $(FUZZ_ONLY),$(patsubst %,build/fuzz/%,$(subst $(comma), ,$(FUZZ_ONLY))),$(ALL_HARNESSES))
comma = ,
LIB_SRC = $(wildcard common/*.c common/*/*.c)
LIB_OBJ = $(patsubst %.c,build/fuzz/obj/%.o,$(LIB_SRC))

# Every harness runs even when an earlier one finds something; each prints its
# exec count and speed and any findings (crash-*/leak-*/oom-*/timeout-*
# files), and the run fails at the end if any harness did.
run: $(HARNESSES)
	@bad=0; for h in $(HARNESSES); do \
	    n=$$(basename $$h); c=build/fuzz/corpus-$$n; a=build/fuzz/artifacts-$$n/; mkdir -p $$c $$a; \
	    [ -x tests/fuzz/$$n.seed ] && { tests/fuzz/$$n.seed $$c || echo "fuzz: $$n: seeding failed"; }; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS) s ($$(ls $$c | wc -l) inputs in the corpus)"; \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $$h -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -malloc_limit_mb=1024 \
	        -artifact_prefix=$$a -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
	        $$c >build/fuzz/$$n.log 2>&1; st=$$?; \
	    last=$$(grep -E '^#[0-9]+' build/fuzz/$$n.log | tail -n1); \
	    execs=$$(echo "$$last" | grep -oE '^#[0-9]+' | tr -d '#'); \
	    rate=$$(echo "$$last" | grep -oE 'exec/s:? [0-9]+' | grep -oE '[0-9]+'); \
	    nf=$$(ls $$a | wc -l); \
	    echo "fuzz: $$n: $${execs:-0} execs ($${rate:-?} exec/s), $$nf findings (exit $$st)"; \
	    for f in $$(ls $$a); do echo "  finding: $$a$$f"; done; \
	    [ $$nf -gt 0 ] && { grep -E 'ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error' \
	        build/fuzz/$$n.log | sort | uniq -c | sed 's/^/    /'; bad=1; }; \
	done; \
	[ $$bad = 0 ] || { echo "fuzz: findings above (logs in build/fuzz/*.log)"; exit 1; }

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(FLAGS) -MMD -MP -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_OBJ)
	$(CC) $(FLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< $(LIB_OBJ) $(LIBS)

-include $(LIB_OBJ:.o=.d) $(ALL_HARNESSES:=.d)
