# make fuzz: build each tests/fuzz/fuzz_*.c with clang's libFuzzer and ASan/UBSan
# against the library sources, seed a corpus from streams the tools write, and run
# each harness for FUZZ_TIME seconds.
FUZZ_TIME ?= 60
CC = clang
PKGS = libtiff-4 htslib libzstd openblas jansson libpng libjpeg
FLAGS = -g -O1 -std=c11 -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
        -fsanitize=fuzzer,address,undefined -Icommon -I/usr/include/nifti $(shell pkg-config --cflags $(PKGS))
LIBS = $(shell pkg-config --libs $(PKGS)) -lnifti2 -lznz -ldnnl -lgomp -lz -lm -lpthread
HARNESSES = $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
LIB_SRC = $(wildcard common/*.c common/*/*.c)

# Every harness runs even when an earlier one finds something; each prints its
# exec count and any findings (crash-*/leak-*/oom-*/timeout-* files), and the
# run fails at the end if any harness did.
run: $(HARNESSES)
	@bad=0; for h in $(HARNESSES); do \
	    n=$$(basename $$h); c=build/fuzz/corpus-$$n; a=build/fuzz/artifacts-$$n/; mkdir -p $$c $$a; \
	    [ -x tests/fuzz/$$n.seed ] && tests/fuzz/$$n.seed $$c; \
	    echo "fuzz: $$n for $(FUZZ_TIME) s"; \
	    $$h -max_total_time=$(FUZZ_TIME) -rss_limit_mb=2048 -malloc_limit_mb=1024 \
	        -artifact_prefix=$$a -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
	        $$c >build/fuzz/$$n.log 2>&1; st=$$?; \
	    execs=$$(grep -oE '^#[0-9]+' build/fuzz/$$n.log | tail -n1 | tr -d '#'); \
	    nf=$$(ls $$a | wc -l); \
	    echo "fuzz: $$n: $${execs:-0} execs, $$nf findings (exit $$st)"; \
	    for f in $$(ls $$a); do echo "  finding: $$a$$f"; \
	        grep -m1 -E 'ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error' build/fuzz/$$n.log | sed 's/^/    /'; done; \
	    [ $$nf -gt 0 ] && bad=1; \
	done; \
	[ $$bad = 0 ] || { echo "fuzz: findings above (logs in build/fuzz/*.log)"; exit 1; }

build/fuzz/%: tests/fuzz/%.c $(LIB_SRC)
	@mkdir -p build/fuzz
	$(CC) $(FLAGS) -o $@ $< $(LIB_SRC) $(LIBS)
