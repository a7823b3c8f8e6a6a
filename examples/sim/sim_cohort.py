#!/usr/bin/python3
"""Simulate a genotyped cohort as a VCF, plus plink2-style score files.

Genotypes come from haplotypes drawn in LD blocks (a latent Gaussian per block
and haplotype, thresholded at each variant's allele frequency), so nearby
variants are correlated. Options add missing calls, multi-allelic sites and DS
dosages (noisy expected ALT counts, with some DS missing where GT is called and
some GT missing where DS is present). Everything is deterministic in --seed.

Usage: sim_cohort.py --out PREFIX [--samples N] [--variants M] [--seed S]
           [--missing F] [--multiallelic F] [--ds] [--scores K] [--chroms C]
           [--same-pos F] [--no-score]
Writes PREFIX.vcf and PREFIX.score (ID A1 <name>... with a header line).
"""
import argparse
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--samples", type=int, default=60)
    ap.add_argument("--variants", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--missing", type=float, default=0.02)
    ap.add_argument("--multiallelic", type=float, default=0.0)
    ap.add_argument("--ds", action="store_true")
    ap.add_argument("--scores", type=int, default=2)
    ap.add_argument("--chroms", type=int, default=3)
    ap.add_argument("--block", type=int, default=10, help="variants per LD block")
    ap.add_argument("--score-fraction", type=float, default=0.6)
    ap.add_argument("--no-score", action="store_true")
    ap.add_argument("--build", default="GRCh38")
    ap.add_argument("--same-pos", type=float, default=0.0,
                    help="fraction of records sharing the previous record's position")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    n, m = a.samples, a.variants
    bases = np.array(list("ACGT"))

    # Variant sites: chromosome, increasing positions, alleles.
    chrom = np.sort(rng.integers(1, a.chroms + 1, size=m))
    pos = np.zeros(m, dtype=np.int64)
    for c in np.unique(chrom):
        idx = np.where(chrom == c)[0]
        pos[idx] = np.sort(rng.choice(np.arange(1000, 1000 + 200 * len(idx)), size=len(idx), replace=False))
    for v in range(1, m):
        if chrom[v] == chrom[v - 1] and rng.random() < a.same_pos:
            pos[v] = pos[v - 1]
    n_alt = np.where(rng.random(m) < a.multiallelic, 2, 1)
    freqs = rng.uniform(0.03, 0.6, size=m)

    # Haplotypes in LD blocks: hap[h, v] in {0, 1, 2} (allele index).
    hap = np.zeros((2 * n, m), dtype=np.int8)
    for b0 in range(0, m, a.block):
        b1 = min(m, b0 + a.block)
        z0 = rng.standard_normal(2 * n)
        rho = rng.uniform(0.3, 0.9)
        for v in range(b0, b1):
            z = rho * z0 + np.sqrt(1 - rho * rho) * rng.standard_normal(2 * n)
            thr = np.quantile(z, 1 - freqs[v]) if n > 1 else 0.0
            hap[:, v] = (z > thr).astype(np.int8)
            if n_alt[v] == 2:  # split some ALT carriers onto a second ALT allele
                second = (hap[:, v] == 1) & (rng.random(2 * n) < 0.4)
                hap[second, v] = 2
    g1, g2 = hap[0::2].T, hap[1::2].T          # [m, n]
    miss = rng.random((m, n)) < a.missing
    half = np.zeros((m, n), dtype=bool)        # plink2 errors on 0/. by default: none

    lines = ["##fileformat=VCFv4.2",
             "##reference=%s" % a.build]
    for c in range(1, a.chroms + 1):
        lines.append("##contig=<ID=%d,length=100000000>" % c)
    lines.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    if a.ds:
        lines.append('##FORMAT=<ID=DS,Number=A,Type=Float,Description="Alt dosage">')
    samples = ["S%03d_%d" % (i, rng.integers(0, 9)) if i % 7 == 0 else "S%03d" % i for i in range(n)]
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"] + samples))
    ids, refs, alts = [], [], []
    for v in range(m):
        ref = bases[rng.integers(0, 4)]
        others = [b for b in "ACGT" if b != ref]
        rng.shuffle(others)
        alt = others[: n_alt[v]]
        # a few indels to exercise multi-character alleles
        if rng.random() < 0.05:
            alt = [alt[0] + "".join(rng.choice(bases, size=2))] + alt[1:]
        vid = "rs%d" % (100000 + v)
        if rng.random() < 0.03:
            vid = "."
        ids.append(vid); refs.append(ref); alts.append(alt)
        fmt = "GT:DS" if a.ds and n_alt[v] == 1 else "GT"
        cells = []
        for s in range(n):
            if miss[v, s]:
                gt = "./."
            else:
                sep = "|" if rng.random() < 0.5 else "/"
                gt = "%d%s%d" % (g1[v, s], sep, g2[v, s])
            if fmt == "GT:DS":
                if miss[v, s] and rng.random() < 0.5:
                    ds = "%.3f" % min(2.0, max(0.0, rng.uniform(0, 2)))
                elif not miss[v, s] and rng.random() < 0.03:
                    ds = "."
                elif miss[v, s]:
                    ds = "."
                else:
                    true = int(g1[v, s] > 0) + int(g2[v, s] > 0)
                    ds = "%.4g" % min(2.0, max(0.0, true + rng.normal(0, 0.15)))
                cells.append(gt + ":" + ds)
            else:
                cells.append(gt)
        lines.append("\t".join([str(chrom[v]), str(pos[v]), vid, ref, ",".join(alt), ".", "PASS", ".", fmt] + cells))
    with open(a.out + ".vcf", "w") as f:
        f.write("\n".join(lines) + "\n")
    if a.no_score:
        return

    # Score file: a subset of variants with weights on REF, ALT1 or ALT2, plus
    # lines that plink2 skips (unknown ID, allele absent from the variant).
    names = ["trait%c_p%d" % ("AB"[k % 2], k) for k in range(a.scores)]
    rows = []
    used = set()
    for v in range(m):
        if ids[v] == "." or rng.random() > a.score_fraction:
            continue
        alleles = [refs[v]] + alts[v]
        allele = alleles[rng.integers(0, len(alleles))]
        w = ["%.5g" % rng.normal(0, 0.2) for _ in names]
        if rng.random() < 0.1:
            w[0] = "0"
        rows.append([ids[v], allele] + w)
        used.add(ids[v])
        if n_alt[v] == 2 and rng.random() < 0.5:   # a second allele of the same variant
            other = [x for x in alleles if x != allele][0]
            rows.append([ids[v], other] + ["%.5g" % rng.normal(0, 0.2) for _ in names])
    rows.append(["rs_not_in_vcf", "A"] + ["0.5"] * len(names))
    for v in range(m):
        if ids[v] != "." and ids[v] not in used:
            rows.append([ids[v], "N"] + ["0.3"] * len(names))   # mismatching allele
            break
    order = rng.permutation(len(rows))
    with open(a.out + ".score", "w") as f:
        f.write("\t".join(["ID", "A1"] + names) + "\n")
        for i in order:
            f.write("\t".join(rows[i]) + "\n")


if __name__ == "__main__":
    main()
