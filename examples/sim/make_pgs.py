#!/usr/bin/python3
"""Write PGS Catalog scoring files (format 2.0, harmonised hm_* columns) whose
rows hit the variants of a simulated VCF in every way pgsc_calc's matcher
distinguishes: REF/ALT as given, swapped, strand-flipped, without other allele,
strand-ambiguous and multi-allelic sites, positions absent from the VCF, non-ACGT
(HLA-style) effect alleles and multi-valued other alleles.

Usage: make_pgs.py VCF OUTDIR N_FILES [--seed S] [--rows R] [--gzip]
Writes OUTDIR/PGS00000k_hmPOS_GRCh38.txt(.gz), k = 1..N_FILES.
"""
import argparse
import gzip
import numpy as np

COMP = {"A": "T", "T": "A", "C": "G", "G": "C"}


def rc(s):
    return "".join(COMP[c] for c in reversed(s))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vcf")
    ap.add_argument("outdir")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--rows", type=int, default=150)
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--unmatched", type=float, default=0.06)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    sites = []
    for line in open(a.vcf):
        if line.startswith("#"):
            continue
        f = line.split("\t", 6)
        sites.append((f[0], int(f[1]), f[2], f[3], f[4].split(",")))
    cases = ["refalt", "altref", "refalt_flip", "altref_flip", "no_oa_ref", "no_oa_alt",
             "no_oa_ref_flip", "no_oa_alt_flip", "inferred_oa", "multi_oa"]
    for k in range(1, a.n + 1):
        pgs = "PGS%06d" % k
        name = "%s/%s_hmPOS_GRCh38.txt" % (a.outdir, pgs)
        idx = rng.choice(len(sites), size=min(a.rows, len(sites)), replace=False)
        lines = ["###PGS CATALOG SCORING FILE - see https://www.pgscatalog.org/downloads/#dl_ftp_scoring for additional information",
                 "#format_version=2.0",
                 "##POLYGENIC SCORE (PGS) INFORMATION",
                 "#pgs_id=%s" % pgs,
                 "#pgs_name=sim_%d" % k,
                 "#trait_reported=%s" % ("coronary artery disease" if k % 2 else "type 2 diabetes"),
                 "#trait_mapped=%s" % ("coronary artery disease" if k % 2 else "type II diabetes mellitus"),
                 "#trait_efo=EFO_000%d" % k,
                 "#genome_build=GRCh37",
                 "#variants_number=%d" % len(idx),
                 "#weight_type=beta",
                 "##SOURCE INFORMATION",
                 "#pgp_id=PGP000001",
                 "#citation=simulated",
                 "##HARMONIZATION DETAILS",
                 "#HmPOS_build=GRCh38",
                 "#HmPOS_date=2024-01-01",
                 "#HmPOS_match_chr={\"True\": null, \"False\": null}",
                 "#HmPOS_match_pos={\"True\": null, \"False\": null}",
                 "\t".join(["rsID", "chr_name", "chr_position", "effect_allele", "other_allele",
                            "effect_weight", "hm_source", "hm_rsID", "hm_chr", "hm_pos",
                            "hm_inferOtherAllele"])]
        for i in idx:
            chrom, pos, vid, ref, alts = sites[i]
            alt = alts[rng.integers(0, len(alts))]
            case = cases[rng.integers(0, len(cases))]
            ea, oa, inf = ref, alt, ""
            acgt = all(c in COMP for c in ref + alt)
            if case.endswith("flip") and not acgt:
                case = case[:-5]
            if case == "refalt": ea, oa = ref, alt
            elif case == "altref": ea, oa = alt, ref
            elif case == "refalt_flip": ea, oa = rc(ref), rc(alt)
            elif case == "altref_flip": ea, oa = rc(alt), rc(ref)
            elif case == "no_oa_ref": ea, oa = ref, ""
            elif case == "no_oa_alt": ea, oa = alt, ""
            elif case == "no_oa_ref_flip": ea, oa = rc(ref), ""
            elif case == "no_oa_alt_flip": ea, oa = rc(alt), ""
            elif case == "inferred_oa": ea, oa, inf = alt, "", ref
            elif case == "multi_oa": ea, oa, inf = alt, "", ref + "/" + ("G" if ref != "G" else "C")
            hm_pos = pos
            r = rng.random()
            if r < a.unmatched:
                hm_pos = pos + 1          # a position the VCF lacks (mostly)
            elif r < a.unmatched + 0.02:
                ea = "P"                  # HLA presence allele: dropped
            w = "%.6g" % rng.normal(0, 0.3)
            rsid = vid if vid != "." else ""
            lines.append("\t".join([rsid, chrom, str(pos + 10000), ea, oa, w, "ENSEMBL", rsid,
                                    chrom, str(hm_pos), inf]))
        text = "\n".join(lines) + "\n"
        if a.gzip and k % 2 == 1:
            with gzip.open(name + ".gz", "wt") as f:
                f.write(text)
        else:
            with open(name, "w") as f:
                f.write(text)


if __name__ == "__main__":
    main()
