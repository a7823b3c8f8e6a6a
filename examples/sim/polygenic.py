#!/usr/bin/python3
"""Med-Gemini-Polygenic in simulation: a genotyped cohort, correlated traits,
diseases under a liability-threshold model, and GWAS-like noisy effect
estimates turned into PGS Catalog scoring files at several p-value thresholds.

The model (all of it fixed by --seed and printed to PREFIX.params.txt):
  genotypes   haplotypes from a latent Gaussian AR(1) chain per LD block,
              thresholded at each variant's allele frequency; genotype = sum of
              two haplotypes (0/1/2, unphased GT in the VCF);
  traits      standardised-genotype effects b_t = sqrt(h2_t / m_causal) · u_t on
              a shared set of causal variants, u ~ N(0, R_g) across traits, so
              the genetic correlation of traits s and t is R_g[s, t]; liability
              L_t = G_t + E_t with var(G_t) = h2_t, E_t independent;
  diseases    case when L_t exceeds the (1 − prevalence_t) normal quantile;
  GWAS        marginal standardised effects estimated in an independent
              discovery sample of n_gwas people: bhat = R b + N(0, 1/n_gwas),
              R the within-block LD of the cohort; z = bhat·√n_gwas;
  scores      one PGS Catalog file (format 2.0, harmonised positions) per
              scored trait and p-value threshold: variants with p < threshold,
              weight = bhat / √(2p(1−p)) per ALT allele (clumping-free C+T).
Diseases whose GWAS is withheld (--unscored) appear only as labels: they are the
"out-of-distribution" outcomes a head trained on another disease is applied to.

Usage: polygenic.py --out DIR [--samples N] [--variants M] [--seed S]
Writes DIR/cohort.vcf (text; bgzip it), DIR/pgs/*.txt, DIR/layout.tsv,
DIR/labels.tsv (id, split, one 0/1 column per disease), DIR/params.txt.
"""
import argparse
import os
import numpy as np
from statistics import NormalDist

TRAITS = ["CAD", "T2D", "hypertension", "LDL", "BMI", "depression", "stroke"]
# Liability-scale heritability and prevalence (quantitative traits: prevalence
# used only to make a 0/1 label of the upper tail, never scored by the demo).
H2 = {"CAD": 0.40, "T2D": 0.35, "hypertension": 0.30, "LDL": 0.45, "BMI": 0.35,
      "depression": 0.25, "stroke": 0.30}
PREV = {"CAD": 0.15, "T2D": 0.15, "hypertension": 0.25, "LDL": 0.20, "BMI": 0.20,
        "depression": 0.15, "stroke": 0.12}
# Genetic correlations (symmetric; unlisted pairs 0).
RG = {("CAD", "T2D"): 0.40, ("CAD", "hypertension"): 0.45, ("CAD", "LDL"): 0.55,
      ("CAD", "BMI"): 0.30, ("CAD", "stroke"): 0.60, ("T2D", "BMI"): 0.55,
      ("T2D", "hypertension"): 0.30, ("T2D", "stroke"): 0.35,
      ("hypertension", "stroke"): 0.55, ("hypertension", "BMI"): 0.35,
      ("LDL", "stroke"): 0.30, ("depression", "CAD"): 0.15,
      ("depression", "BMI"): 0.10, ("depression", "stroke"): 0.10}
P_THRESHOLDS = [5e-8, 1e-5, 1e-3, 1.0]


def corr_matrix():
    k = len(TRAITS)
    r = np.eye(k)
    for (a, b), v in RG.items():
        i, j = TRAITS.index(a), TRAITS.index(b)
        r[i, j] = r[j, i] = v
    # keep it a correlation matrix (positive definite) after the hand-set values
    w, q = np.linalg.eigh(r)
    if w.min() <= 1e-6:
        w = np.maximum(w, 1e-3)
        r = q @ np.diag(w) @ q.T
        d = np.sqrt(np.diag(r))
        r = r / np.outer(d, d)
    return r


def two_sided_p(z):
    # 2·(1 − Φ(|z|)) through erfc, exact in the tail where 1 − Φ underflows
    from math import erfc, sqrt
    return np.array([erfc(abs(x) / sqrt(2.0)) for x in z])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--samples", type=int, default=3000)
    ap.add_argument("--variants", type=int, default=6000)
    ap.add_argument("--chroms", type=int, default=6)
    ap.add_argument("--block", type=int, default=20, help="variants per LD block")
    ap.add_argument("--ld-rho", type=float, default=0.85, help="AR(1) latent correlation of neighbours")
    ap.add_argument("--causal", type=float, default=0.10, help="fraction of variants with effects")
    ap.add_argument("--n-gwas", type=int, default=20000, help="discovery GWAS sample size")
    ap.add_argument("--unscored", default="stroke", help="diseases without a GWAS (comma list)")
    ap.add_argument("--test-fraction", type=float, default=0.4)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("-q", "--quiet", action="store_true", help="do not print the parameters")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    n, m = a.samples, a.variants
    unscored = [t for t in a.unscored.split(",") if t]
    for t in unscored:
        if t not in TRAITS:
            raise SystemExit("polygenic.py: unknown trait %s" % t)
    os.makedirs(os.path.join(a.out, "pgs"), exist_ok=True)

    # --- genotypes: AR(1) latent chains per block, two haplotypes per person
    freq = rng.uniform(0.05, 0.5, m)
    thr = np.array([NormalDist().inv_cdf(f) for f in freq])
    geno = np.zeros((n, m), dtype=np.int8)
    rho = a.ld_rho
    for hap in range(2):
        z = rng.standard_normal(n)
        for j in range(m):
            if j % a.block == 0:
                z = rng.standard_normal(n)
            else:
                z = rho * z + np.sqrt(1 - rho * rho) * rng.standard_normal(n)
            geno[:, j] += (z < thr[j]).astype(np.int8)
    g = geno.astype(np.float64)
    mu, sd = g.mean(0), g.std(0)
    sd[sd == 0] = 1.0
    xs = (g - mu) / sd

    # --- traits: correlated effects on shared causal variants
    k = len(TRAITS)
    rg = corr_matrix()
    causal = np.sort(rng.choice(m, size=max(1, int(round(a.causal * m))), replace=False))
    u = rng.standard_normal((len(causal), k)) @ np.linalg.cholesky(rg).T
    beta = np.zeros((m, k))
    gval = np.zeros((n, k))
    for t, name in enumerate(TRAITS):
        b = u[:, t] * np.sqrt(H2[name] / len(causal))
        gv = xs[:, causal] @ b
        s = np.sqrt(H2[name]) / gv.std()          # realised var(G) = h2 exactly
        beta[causal, t] = b * s
        gval[:, t] = gv * s
    env = rng.standard_normal((n, k)) * np.sqrt([1 - H2[t] for t in TRAITS])
    liab = gval + env
    cut = np.array([NormalDist().inv_cdf(1 - PREV[t]) for t in TRAITS])
    disease = (liab > cut).astype(int)

    # --- GWAS in a discovery sample: marginal effects through within-block LD
    marg = np.zeros((m, k))
    for s0 in range(0, m, a.block):
        s1 = min(m, s0 + a.block)
        r = np.corrcoef(xs[:, s0:s1], rowvar=False) if s1 - s0 > 1 else np.ones((1, 1))
        marg[s0:s1] = r @ beta[s0:s1]
    se = 1.0 / np.sqrt(a.n_gwas)
    bhat = marg + rng.standard_normal((m, k)) * se
    z = bhat / se

    # --- the VCF (text; the caller compresses it with bgzip)
    per_chrom = -(-m // a.chroms)
    chrom = np.array([1 + j // per_chrom for j in range(m)])
    pos = np.zeros(m, dtype=np.int64)
    for c in range(1, a.chroms + 1):
        idx = np.where(chrom == c)[0]
        pos[idx] = 10000 + np.cumsum(rng.integers(200, 3000, len(idx)))
    bases = np.array(list("ACGT"))
    ref = bases[rng.integers(0, 4, m)]
    # no strand-ambiguous pairs (A/T, C/G): pgsc_calc's matcher drops those
    transitions = {"A": "CG", "C": "AT", "G": "AT", "T": "CG"}
    alt = np.array([transitions[r0][rng.integers(0, 2)] for r0 in ref])
    ids = ["P%05d" % i for i in range(1, n + 1)]
    gt = np.array(["0/0", "0/1", "1/1"])
    with open(os.path.join(a.out, "cohort.vcf"), "w") as f:
        f.write("##fileformat=VCFv4.2\n")
        for c in range(1, a.chroms + 1):
            f.write("##contig=<ID=%d,length=%d>\n" % (c, int(pos[chrom == c].max()) + 1000))
        f.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
        f.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(ids) + "\n")
        for j in range(m):
            f.write("%d\t%d\trs%d\t%s\t%s\t.\tPASS\t.\tGT\t" % (chrom[j], pos[j], 100000 + j, ref[j], alt[j]))
            f.write("\t".join(gt[geno[:, j]]) + "\n")

    # --- PGS Catalog scoring files: per scored trait and p-value threshold
    layout = []
    pgs_n = 0
    for t, name in enumerate(TRAITS):
        if name in unscored:
            continue
        p = two_sided_p(z[:, t])
        for thr_p in P_THRESHOLDS:
            keep = np.where(p < thr_p)[0]
            if len(keep) == 0:          # an empty score still gets a file: one zero weight
                keep = np.array([int(np.argmin(p))])
                w = np.zeros(1)
            else:
                w = bhat[keep, t] / np.sqrt(2 * freq[keep] * (1 - freq[keep]))
            pgs_n += 1
            pgs = "PGS9%05d" % pgs_n
            lines = ["###PGS CATALOG SCORING FILE - simulated by mgpipe examples/sim/polygenic.py",
                     "#format_version=2.0",
                     "##POLYGENIC SCORE (PGS) INFORMATION",
                     "#pgs_id=%s" % pgs,
                     "#pgs_name=%s_p%g" % (name, thr_p),
                     "#trait_reported=%s" % name,
                     "#genome_build=GRCh38",
                     "#variants_number=%d" % len(keep),
                     "#weight_type=beta",
                     "##HARMONIZATION DETAILS",
                     "#HmPOS_build=GRCh38",
                     "\t".join(["rsID", "chr_name", "chr_position", "effect_allele", "other_allele",
                                "effect_weight", "hm_source", "hm_rsID", "hm_chr", "hm_pos"])]
            for j, wj in zip(keep, w):
                rs = "rs%d" % (100000 + j)
                lines.append("\t".join([rs, str(chrom[j]), str(pos[j]), alt[j], ref[j], "%.6g" % wj,
                                        "ENSEMBL", rs, str(chrom[j]), str(pos[j])]))
            fn = os.path.join(a.out, "pgs", "%s_hmPOS_GRCh38.txt" % pgs)
            with open(fn, "w") as f:
                f.write("\n".join(lines) + "\n")
            layout.append((pgs, name, thr_p, len(keep)))
    with open(os.path.join(a.out, "layout.tsv"), "w") as f:
        for pgs, name, thr_p, _ in layout:
            f.write("%s\t%s\n" % (pgs, name))
    with open(os.path.join(a.out, "scores.tsv"), "w") as f:
        f.write("pgs_id\ttrait\tp_threshold\tvariants\n")
        for pgs, name, thr_p, nv in layout:
            f.write("%s\t%s\t%g\t%d\n" % (pgs, name, thr_p, nv))

    # --- labels, with a seeded train/test split stratified by nothing but chance
    test = rng.random(n) < a.test_fraction
    with open(os.path.join(a.out, "labels.tsv"), "w") as f:
        f.write("id\tsplit\t" + "\t".join(TRAITS) + "\n")
        for i in range(n):
            f.write("%s\t%s\t%s\n" % (ids[i], "test" if test[i] else "train",
                                      "\t".join(str(v) for v in disease[i])))

    # --- parameters, printed and kept
    obs = np.corrcoef(gval, rowvar=False)
    lines = ["seed %d; %d people (%d train, %d test), %d variants on %d chromosomes, LD blocks of %d (rho %.2f)"
             % (a.seed, n, int((~test).sum()), int(test.sum()), m, a.chroms, a.block, a.ld_rho),
             "%d causal variants shared by all traits; GWAS n = %d; p-value thresholds %s"
             % (len(causal), a.n_gwas, ", ".join("%g" % x for x in P_THRESHOLDS)),
             "trait          h2    prevalence  cases  scored",
             ]
    for t, name in enumerate(TRAITS):
        lines.append("%-13s %5.2f %8.2f %9d  %s" % (name, H2[name], PREV[name], int(disease[:, t].sum()),
                                                     "no (held out)" if name in unscored else "yes"))
    lines.append("genetic correlation (set / realised in this cohort):")
    for (x, y), v in sorted(RG.items()):
        i, j = TRAITS.index(x), TRAITS.index(y)
        lines.append("  %-12s %-12s %5.2f / %5.2f" % (x, y, v, obs[i, j]))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "params.txt"), "w") as f:
        f.write(text)
    if not a.quiet:
        print(text, end="")


if __name__ == "__main__":
    main()
