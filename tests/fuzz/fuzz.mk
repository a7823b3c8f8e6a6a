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

run: $(HARNESSES)
	@for h in $(HARNESSES); do \
	    n=$$(basename $$h); c=build/fuzz/corpus-$$n; mkdir -p $$c; \
	    [ -x tests/fuzz/$$n.seed ] && tests/fuzz/$$n.seed $$c; \
	    echo "fuzz: $$n for $(FUZZ_TIME) s"; \
	    $$h -max_total_time=$(FUZZ_TIME) -rss_limit_mb=2048 -malloc_limit_mb=1024 $$c >build/fuzz/$$n.log 2>&1 \
	        || { tail -n 40 build/fuzz/$$n.log; exit 1; }; \
	    grep -E '^(#[0-9]+ *DONE|Done)' build/fuzz/$$n.log | tail -n1; \
	done

build/fuzz/%: tests/fuzz/%.c $(LIB_SRC)
	@mkdir -p build/fuzz
	$(CC) $(FLAGS) -o $@ $< $(LIB_SRC) $(LIBS)
