#!/usr/bin/python3
"""A small transcription of pgsc_calc's variant matching (pgscatalog.match:
match.py, label.py, filter.py; pgscatalog.core _normalise.py), used as the
reference for `mg-prs-image --match pos`.

Rules, as documented:
  * scoring rows: chr/pos from hm_chr/hm_pos; a missing other_allele from
    hm_inferOtherAllele; an other allele with '/' is unknown; effect alleles
    that are not [ACGT]+ are dropped.
  * a row is joined to every target REF/ALT pair at its chr:pos (a
    multi-allelic record gives one pair per ALT, flagged multiallelic) and
    labelled with the first type that fits, in priority order
      refalt > altref > refalt_flip > altref_flip            (other allele known)
      no_oa_ref > no_oa_alt > no_oa_ref_flip > no_oa_alt_flip (unknown)
    where _flip compares reverse-complemented score alleles.
  * the best match is the candidate of highest priority; several candidates
    sharing it are all dropped (unless --keep-first-match).
  * the best match is excluded when strand-ambiguous (revcomp(REF) == ALT) or
    multi-allelic, unless kept by the options.
  * (mgpipe's rule where the notes are silent) two rows of one scoring file
    retained for the same VCF record and effect allele are both excluded
    (duplicate_target) rather than scored twice.
  * match rate = matched rows / rows of the scoring file; a score passes when
    rate >= min_overlap.

Outputs: a wide plink2 scoring file (ID A1 <pgs_id>..., IDs chr:pos:REF:ALT1,
weight 0 where a file lacks a variant, as pgsc_calc merges scoring files), the
per-row decisions and the match rates.

Usage: pgsc_match_ref.py VCF OUT_SCORE OUT_DECISIONS OUT_RATES PGS... [options]
"""
import argparse
import gzip

PRIORITY = ["refalt", "altref", "refalt_flip", "altref_flip",
            "no_oa_ref", "no_oa_alt", "no_oa_ref_flip", "no_oa_alt_flip"]
COMP = {"A": "T", "C": "G", "G": "C", "T": "A"}


def revcomp(s):
    if not s or any(c not in COMP for c in s):
        return None
    return "".join(COMP[c] for c in s[::-1])


def read_pgs(path):
    opener = gzip.open if path.endswith(".gz") else open
    meta, rows, header = {}, [], None
    with opener(path, "rt") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                if "=" in line and not line.startswith("##"):
                    k, v = line[1:].split("=", 1)
                    meta[k] = v
                continue
            cols = line.split("\t")
            if header is None:
                header = cols
                continue
            r = dict(zip(header, cols))
            oa = r.get("other_allele") or r.get("hm_inferOtherAllele") or None
            if oa and "/" in oa:
                oa = None
            rows.append({"line": lineno, "chr": r.get("hm_chr") or r.get("chr_name"),
                         "pos": int(r.get("hm_pos") or r.get("chr_position")),
                         "ea": r["effect_allele"], "oa": oa, "w": r["effect_weight"]})
    return meta, rows


def classify(row, ref, alt, flips):
    ea, oa = row["ea"], row["oa"]
    fea = revcomp(ea) if flips else None
    if oa is not None:
        foa = revcomp(oa) if flips else None
        tests = [("refalt", ea == ref and oa == alt, ref),
                 ("altref", ea == alt and oa == ref, alt),
                 ("refalt_flip", fea is not None and foa is not None and fea == ref and foa == alt, ref),
                 ("altref_flip", fea is not None and foa is not None and fea == alt and foa == ref, alt)]
    else:
        tests = [("no_oa_ref", ea == ref, ref), ("no_oa_alt", ea == alt, alt),
                 ("no_oa_ref_flip", fea is not None and fea == ref, ref),
                 ("no_oa_alt_flip", fea is not None and fea == alt, alt)]
    for name, ok, allele in tests:
        if ok:
            return name, allele
    return None, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vcf")
    ap.add_argument("out_score")
    ap.add_argument("out_decisions")
    ap.add_argument("out_rates")
    ap.add_argument("pgs", nargs="+")
    ap.add_argument("--keep-ambiguous", action="store_true")
    ap.add_argument("--keep-multiallelic", action="store_true")
    ap.add_argument("--ignore-strand-flips", action="store_true")
    ap.add_argument("--keep-first-match", action="store_true")
    ap.add_argument("--min-overlap", type=float, default=0.75)
    a = ap.parse_args()

    target = {}
    for recno, line in enumerate(open(a.vcf)):
        if line.startswith("#"):
            continue
        f = line.split("\t", 6)
        chrom = f[0][3:] if f[0].lower().startswith("chr") else f[0]
        alts = f[4].split(",")
        vid = "%s:%s:%s:%s" % (f[0], f[1], f[3], alts[0])
        for alt in alts:
            target.setdefault((chrom, int(f[1])), []).append(
                {"id": vid, "rec": recno, "ref": f[3], "alt": alt, "multi": len(alts) > 1})

    wide, names, decisions, rates = {}, [], [], []
    for k, path in enumerate(a.pgs):
        meta, rows = read_pgs(path)
        names.append(meta.get("pgs_id"))
        verdicts = []
        for row in rows:
            chosen, why = None, "unmatched"
            if any(c not in COMP for c in row["ea"]):
                why = "dropped"
            else:
                cands = []
                for t in target.get((row["chr"], row["pos"]), []):
                    mt, allele = classify(row, t["ref"], t["alt"], not a.ignore_strand_flips)
                    if mt:
                        cands.append((PRIORITY.index(mt), mt, allele, t))
                if cands:
                    best = min(c[0] for c in cands)
                    top = [c for c in cands if c[0] == best]
                    _, mt, allele, t = top[0]
                    if len(top) > 1 and not a.keep_first_match:
                        why = "duplicate_best_match"
                    elif revcomp(t["ref"]) == t["alt"] and not a.keep_ambiguous:
                        why = "excluded_ambiguous"
                    elif t["multi"] and not a.keep_multiallelic:
                        why = "excluded_multiallelic"
                    else:
                        why, chosen = "matched", (t["id"], allele, mt, t["rec"])
            verdicts.append([row, why, chosen])
        seen = {}
        for v in verdicts:
            if v[1] == "matched":
                seen.setdefault((v[2][3], v[2][1]), []).append(v)
        for group in seen.values():
            if len(group) > 1:
                for v in group:
                    v[1], v[2] = "duplicate_target", None
        matched = 0
        for row, why, chosen in verdicts:
            decisions.append((path, row["line"], why, chosen[0] if chosen else ".",
                              chosen[2] if chosen else "."))
            if chosen:
                matched += 1
                w = wide.setdefault((chosen[0], chosen[1]), {})
                w[k] = row["w"]
        rates.append((names[-1], matched, len(rows), matched / len(rows) >= a.min_overlap))

    with open(a.out_score, "w") as f:
        f.write("\t".join(["ID", "A1"] + names) + "\n")
        for (vid, allele), w in wide.items():
            f.write("\t".join([vid, allele] + [w.get(k, "0") for k in range(len(names))]) + "\n")
    with open(a.out_decisions, "w") as f:
        for d in sorted(decisions):
            f.write("%s\t%d\t%s\t%s\t%s\n" % d)
    with open(a.out_rates, "w") as f:
        for r in rates:
            f.write("%s\t%d\t%d\t%s\n" % (r[0], r[1], r[2], "pass" if r[3] else "fail"))


if __name__ == "__main__":
    main()
