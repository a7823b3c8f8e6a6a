#!/usr/bin/python3
"""Simulate a VCF over chromosomes 1, X, Y, XY and MT with haploid and diploid
calls, missing calls and, with --dosage, DS, GP and HDS fields of every kind
plink2's dosage= import distinguishes: values that quantise unevenly, GP that
do not sum to 1, all-zero GP (a forced missing call), haploid GP with two
probabilities and haploid HDS with one value, missing dosages ('.', '.,.,.')
where GT is called, and dosages where GT is missing.

Usage: sim_chrom_dosage.py PREFIX [--seed S] [--samples N] [--per-chrom K]
                           [--names plain|chr] [--dosage]
Writes PREFIX.vcf, PREFIX.score (ID A1 w1 w2, every variant), PREFIX.y.score
(chrY variants only), PREFIX.auto.score (1 and XY only: plink2 allows
dominant/recessive there) and PREFIX.pgs
(a PGS Catalog file positioned by chr/pos, every variant).
"""
import argparse
import random

PAIRS = [("A", "G"), ("G", "A"), ("C", "T"), ("T", "C"), ("A", "C"), ("G", "T")]


def r3(x):
    return "%.3f" % x if random.random() < 0.7 else "%.5g" % x


def gp_text(hap):
    u = random.random()
    if u < 0.05:
        return "." if random.random() < 0.5 else (".,." if hap else ".,.,.")
    if u < 0.08:
        return "0,0" if hap else "0,0,0"                  # forced missing
    k = 2 if hap else 3
    if u < 0.18:
        p = [random.choice([0.1, 0.2, 0.25, 0.5]) for _ in range(k)]   # not summing to 1
    else:
        w = [random.random() ** 2 for _ in range(k)]
        p = [x / sum(w) for x in w]
    return ",".join(r3(x) for x in p)


def ds_text(hap):
    u = random.random()
    if u < 0.08:
        return "."
    x = random.random() * (1 if hap else 2)
    if u < 0.15:
        return "%.5f" % min(round(x * 16384) / 16384 + 0.00003, 1 if hap else 2)   # near a quantisation tie
    return r3(x)


def hds_text(hap):
    u = random.random()
    if u < 0.1:
        return "."
    if hap:
        return r3(random.random())
    return "%s,%s" % (r3(random.random()), r3(random.random()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("prefix")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--samples", type=int, default=60)
    ap.add_argument("--per-chrom", type=int, default=12)
    ap.add_argument("--names", choices=["plain", "chr"], default="plain")
    ap.add_argument("--dosage", action="store_true")
    a = ap.parse_args()
    random.seed(a.seed)
    n = a.samples
    names = {"1": "1", "X": "X", "Y": "Y", "XY": "XY", "MT": "MT"}
    if a.names == "chr":
        names = {"1": "chr1", "X": "chrX", "Y": "chrY", "XY": "PAR1", "MT": "chrM"}
    out = open(a.prefix + ".vcf", "w")
    out.write("##fileformat=VCFv4.2\n")
    for c in ["1", "X", "Y", "XY", "MT"]:
        out.write("##contig=<ID=%s>\n" % names[c])
    out.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
    if a.dosage:
        out.write('##FORMAT=<ID=DS,Number=A,Type=Float,Description="ALT dosage">\n')
        out.write('##FORMAT=<ID=GP,Number=G,Type=Float,Description="Genotype probabilities">\n')
        out.write('##FORMAT=<ID=HDS,Number=.,Type=Float,Description="Haplotype dosages">\n')
    out.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
              + "\t".join("s%02d" % i for i in range(n)) + "\n")
    male = [i % 3 == 0 for i in range(n)]
    rows = []
    k = 0
    for c in ["1", "X", "Y", "XY", "MT"]:
        pos = 1000
        for _ in range(a.per_chrom):
            pos += random.randint(50, 500)
            ref, alt = random.choice(PAIRS)
            f = random.uniform(0.05, 0.7)
            cells = []
            for s in range(n):
                # males haploid on X, Y; MT mostly haploid; some diploid calls everywhere
                hap = (c in ("X", "Y") and male[s] and random.random() < 0.9) or \
                      (c == "MT" and random.random() < 0.8)
                if random.random() < 0.07:
                    gt = "." if hap else random.choice(["./.", ".|."])
                elif hap:
                    gt = "1" if random.random() < f else "0"
                else:
                    x, y = (int(random.random() < f) for _ in range(2))
                    gt = "%d%s%d" % (x, random.choice("/|"), y)
                if a.dosage:
                    cells.append("%s:%s:%s:%s" % (gt, ds_text(hap), gp_text(hap), hds_text(hap)))
                else:
                    cells.append(gt)
            vid = "v%d" % k
            k += 1
            out.write("\t".join([names[c], str(pos), vid, ref, alt, ".", ".", ".",
                                 "GT:DS:GP:HDS" if a.dosage else "GT"] + cells) + "\n")
            ea = ref if random.random() < 0.2 else alt
            oa = alt if ea == ref else ref
            w = (round(random.gauss(0, 0.3), 4), round(random.gauss(0, 0.3), 4))
            rows.append((c, names[c], pos, vid, ea, oa, w))
    out.close()
    with open(a.prefix + ".score", "w") as f:
        f.write("ID\tA1\tw1\tw2\n")
        for c, _, _, vid, ea, _, w in rows:
            f.write("%s\t%s\t%g\t%g\n" % (vid, ea, w[0], w[1]))
    with open(a.prefix + ".y.score", "w") as f:
        f.write("ID\tA1\tw1\n")
        for c, _, _, vid, ea, _, w in rows:
            if c == "Y":
                f.write("%s\t%s\t%g\n" % (vid, ea, w[0]))
    with open(a.prefix + ".auto.score", "w") as f:
        f.write("ID\tA1\tw1\tw2\n")
        for c, _, _, vid, ea, _, w in rows:
            if c in ("1", "XY"):
                f.write("%s\t%s\t%g\t%g\n" % (vid, ea, w[0], w[1]))
    with open(a.prefix + ".pgs", "w") as f:
        f.write("###PGS CATALOG SCORING FILE - see https://www.pgscatalog.org/downloads/#dl_ftp_scoring for additional information\n")
        f.write("#format_version=2.0\n##POLYGENIC SCORE (PGS) INFORMATION\n#pgs_id=PGS900001\n")
        f.write("#trait_reported=simulated\n#genome_build=GRCh38\n")
        f.write("chr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\n")
        for _, name, pos, _, ea, oa, w in rows:
            f.write("%s\t%d\t%s\t%s\t%g\n" % (name, pos, ea, oa, w[0]))


if __name__ == "__main__":
    main()
