#!/usr/bin/env bash
# mg-prs-image against plink2 --score on 10,000 samples x 50,000 variants,
# 3 scores, 2 threads, from VCF.gz and from BCF; and scores covering 1/10 of
# the variants: by ID (unscored records cut after 5 fields, never parsed) and
# as PGS Catalog files matched by position (only indexed records read).
# Medians of 5 runs, mgpipe and plink2 interleaved (the load of a shared
# machine hits both alike); ratio = plink2 time / mgpipe time (> 1: mgpipe
# faster). Data are generated once under $BUILD/bench-prs (not in git).
# Dosage rows: DS, GP and HDS fields of 1,000 samples x 3,000 variants on 1, X,
# Y, XY and MT (tests/prs/sim_chrom_dosage.py); PRS_BENCH_ONLY=dosage runs
# only those.
set -u
N=${PRS_BENCH_SAMPLES:-10000} M=${PRS_BENCH_VARIANTS:-50000} RUNS=${PRS_BENCH_RUNS:-5}
D=${BUILD:-build/rel}/bench-prs/${N}x${M}
PY=${PY:-/usr/bin/python3}
mkdir -p "$D"
command -v plink2 >/dev/null || { printf 'prs\tskipped\t-\t-\tplink2 not installed\n'; exit 0; }

if [ "${PRS_BENCH_ONLY:-}" != dosage ]; then
if [ ! -s "$D/c.bcf" ]; then
    echo "bench/prs: generating $N x $M cohort in $D" >&2
    # Fixed-width GT cells ("0/1\t") make the text a numpy byte matrix.
    "$PY" - "$D" "$N" "$M" <<'EOF' || exit 1
import sys, numpy as np
d, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(1)
cells = np.frombuffer(b"0/0\t0/1\t1/1\t./.\t", dtype=np.uint8).reshape(4, 4)
bases = "ACGT"
with open(d + "/c.vcf", "wb") as f, open(d + "/all.score", "w") as s, open(d + "/tenth.score", "w") as t:
    f.write(b"##fileformat=VCFv4.2\n")
    for c in range(1, 23):
        f.write(b"##contig=<ID=%d>\n" % c)
    f.write(b'##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
    f.write(("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
                       + ["S%05d" % i for i in range(n)]) + "\n").encode())
    s.write("ID\tA1\tA\tB\tC\n"); t.write("ID\tA1\tA\tB\tC\n")
    per_chrom = m // 22 + 1
    block = 2000
    for b0 in range(0, m, block):
        b1 = min(m, b0 + block)
        p = rng.uniform(0.05, 0.5, size=(b1 - b0, 1))
        g = (rng.random((b1 - b0, n)) < p).astype(np.uint8) + (rng.random((b1 - b0, n)) < p)
        g[rng.random((b1 - b0, n)) < 0.01] = 3
        txt = cells[g].reshape(b1 - b0, n * 4)
        txt[:, -1] = ord("\n")
        for i, v in enumerate(range(b0, b1)):
            ref = bases[v % 4]; alt = bases[(v + 1 + v // 4 % 3) % 4]
            chrom, pos = v // per_chrom + 1, 1000 + 10 * (v % per_chrom)
            f.write(b"%d\t%d\trs%d\t%s\t%s\t.\tPASS\t.\tGT\t" % (chrom, pos, v, ref.encode(), alt.encode()))
            f.write(txt[i].tobytes())
            w = "\t".join("%.5g" % x for x in rng.normal(0, 0.1, 3))
            line = "rs%d\t%s\t%s\n" % (v, alt if v % 3 else ref, w)
            s.write(line)
            if v % 10 == 0:
                t.write(line)
EOF
    bgzip -f -@ 2 "$D/c.vcf" || exit 1
    bcftools view --threads 2 -Ob -o "$D/c.bcf" "$D/c.vcf.gz" || exit 1
fi

# PGS Catalog form of the 1/10 score (one file per weight column, chr/pos as the
# generator placed the variants) for --match pos, and indexes for both files.
if [ ! -s "$D/pgs_C.txt" ]; then
    "$PY" - "$D" "$M" <<'EOF2' || exit 1
import sys
d, m = sys.argv[1], int(sys.argv[2])
per_chrom = m // 22 + 1
rows = [l.split() for l in open(d + "/tenth.score")][1:]
for k, name in enumerate("ABC"):
    with open("%s/pgs_%s.txt" % (d, name), "w") as f:
        f.write("###PGS CATALOG SCORING FILE\n#format_version=2.0\n#pgs_id=%s\n" % name)
        f.write("chr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\n")
        for r in rows:
            v = int(r[0][2:])
            bases = "ACGT"; ref = bases[v % 4]; alt = bases[(v + 1 + v // 4 % 3) % 4]
            other = ref if r[1] == alt else alt
            f.write("%d\t%d\t%s\t%s\t%s\n" % (v // per_chrom + 1, 1000 + 10 * (v % per_chrom), r[1], other, r[2 + k]))
EOF2
fi
fi
[ "${PRS_BENCH_ONLY:-}" = dosage ] || [ -s "$D/c.vcf.gz.tbi" ] || tabix -f -p vcf "$D/c.vcf.gz"
[ "${PRS_BENCH_ONLY:-}" = dosage ] || [ -s "$D/c.bcf.csi" ] || bcftools index -f "$D/c.bcf"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() {   # timeit CMD...: wall seconds of one run
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "FAILED"; return; }
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
bench_row() {   # bench_row NAME FORMAT FILE SCORE [MG-ARGS...]
    local name=$1 fmt=$2 f=$3 score=$4 mg=() pl=() i
    shift 4
    local margs=("$@")
    [ ${#margs[@]} = 0 ] && margs=(-s "$score")
    for i in $(seq "$RUNS"); do
        mg+=("$(timeit mg-prs-image -@ 2 "${margs[@]}" --no-image --sscore "$D/mg.sscore" "$f")")
        # shellcheck disable=SC2086
        pl+=("$(timeit plink2 --threads 2 "--$fmt" "$f" ${PL_DOSAGE:-} --score "$score" header-read \
                cols=+scoresums,+denom --score-col-nums "${COLS:-3-5}" --out "$D/pl")")
    done
    local tm tp
    tm=$(printf '%s\n' "${mg[@]}" | median); tp=$(printf '%s\n' "${pl[@]}" | median)
    local same="identical .sscore"
    cmp -s "$D/mg.sscore" "$D/pl.sscore" || same="sscore DIFFERS"
    printf '%s\t%.2f s\t%.2f s\t%.2fx\tplink2 --%s; %s; peak RSS %s\n' "$name" "$tm" "$tp" \
        "$(echo "$tp / $tm" | bc -l)" "$fmt" "$same" "$(rss "$f" "${margs[@]}")"
}
rss() {   # rss FILE MG-ARGS...
    local f=$1; shift
    /usr/bin/time -f '%M' mg-prs-image -@ 2 "$@" --no-image --sscore /dev/null "$f" 2>&1 >/dev/null |
        tail -n 1 | awk '{printf "%.0f MiB", $1 / 1024}'
}
if [ "${PRS_BENCH_ONLY:-}" != dosage ]; then
bench_row "prs ${N}x${M} 3 scores VCF.gz" vcf "$D/c.vcf.gz" "$D/all.score"
bench_row "prs ${N}x${M} 3 scores BCF" bcf "$D/c.bcf" "$D/all.score"
bench_row "prs ${N}x${M} 1/10 scored VCF.gz" vcf "$D/c.vcf.gz" "$D/tenth.score"
bench_row "prs ${N}x${M} 1/10 scored, pos matching, indexed VCF.gz" vcf "$D/c.vcf.gz" "$D/tenth.score" \
    -m pos --keep-ambiguous -s "$D/pgs_A.txt" -s "$D/pgs_B.txt" -s "$D/pgs_C.txt"
bench_row "prs ${N}x${M} 1/10 scored, pos matching, indexed BCF" bcf "$D/c.bcf" "$D/tenth.score" \
    -m pos --keep-ambiguous -s "$D/pgs_A.txt" -s "$D/pgs_B.txt" -s "$D/pgs_C.txt"
fi

DD=${BUILD:-build/rel}/bench-prs/dosage
if [ ! -s "$DD/d.vcf.gz" ]; then
    echo "bench/prs: generating the dosage cohort in $DD" >&2
    mkdir -p "$DD" && "$PY" tests/prs/sim_chrom_dosage.py "$DD/d" --seed 9 --dosage --samples 1000 \
        --per-chrom 600 && bgzip -f "$DD/d.vcf" || exit 1
fi
for f in DS GP HDS; do
    pf=$f; [ $f = GP ] && pf=GP-force
    D=$DD COLS=3-4 PL_DOSAGE=dosage=$pf bench_row "prs 1000x3000 --dosage $f, chr 1/X/Y/XY/MT, VCF.gz" vcf \
        "$DD/d.vcf.gz" "$DD/d.score" --dosage $f -s "$DD/d.score"
done
