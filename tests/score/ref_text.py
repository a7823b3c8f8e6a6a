"""`mg-score report` and `mg-score vqa` against Python transcriptions of the
published formulas (pycocoevalcap BLEU / ROUGE-L / CIDEr-D as described in
the reference notes; SQuAD v1.1 evaluate script; scikit-learn f1_score for
CheXpert labels; set F1 for RadGraph-style annotations).
Usage: ref_text.py TMPDIR"""
import json
import math
import os
import re
import string
import subprocess
import sys
import warnings
from collections import Counter, defaultdict

import numpy as np

warnings.simplefilter("ignore")
T = sys.argv[1]


def ok(name, cond, why=""):
    print(("PASS %s" % name) if cond else ("FAIL %s: %s" % (name, why)))
    sys.stdout.flush()


def close(a, b, tol=1e-12):
    return a is not None and abs(a - b) <= tol * max(1.0, abs(b))


def run(args, js):
    r = subprocess.run(["mg-score"] + args + ["--json", js, "-q"], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(r.stderr.strip())
    return json.load(open(js))


# ---------------- pycocoevalcap formulas ----------------
def ngrams(words, n=4):
    c = Counter()
    for k in range(1, n + 1):
        for i in range(len(words) - k + 1):
            c[tuple(words[i:i + k])] += 1
    return c


def bleu_corpus(hyps, refss):
    guess, correct = [0] * 4, [0] * 4
    C = R = 0
    for h, refs in zip(hyps, refss):
        hw = h.split()
        hc = ngrams(hw)
        maxc = {}
        lens = []
        for r in refs:
            rw = r.split()
            lens.append(len(rw))
            for g, c in ngrams(rw).items():
                maxc[g] = max(maxc.get(g, 0), c)
        C += len(hw)
        R += min((abs(l - len(hw)), l) for l in lens)[1]
        for k in range(4):
            guess[k] += max(0, len(hw) - k)
        for g, c in hc.items():
            correct[len(g) - 1] += min(maxc.get(g, 0), c)
    out, b = [], 1.0
    for k in range(4):
        b *= (correct[k] + 1e-15) / (guess[k] + 1e-9)
        out.append(b ** (1.0 / (k + 1)))
    ratio = (C + 1e-15) / (R + 1e-9)
    if ratio < 1:
        out = [x * math.exp(1 - 1 / ratio) for x in out]
    return out


def lcs(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(h, refs, beta=1.2):
    tc = h.split(" ")
    P, Rr = [], []
    for r in refs:
        tr = r.split(" ")
        l = lcs(tr, tc)
        P.append(l / len(tc))
        Rr.append(l / len(tr))
    p, r = max(P), max(Rr)
    if p != 0 and r != 0:
        return (1 + beta ** 2) * p * r / (r + beta ** 2 * p)
    return 0.0


def cider_d(hyps, refss, sigma=6.0, per_image=False):
    crefs = [[ngrams(r.split()) for r in refs] for refs in refss]
    df = defaultdict(float)
    for refs in crefs:
        for g in set(g for r in refs for g in r):
            df[g] += 1
    ref_len = np.log(float(len(crefs)))

    def vec(cnts):
        v = [defaultdict(float) for _ in range(4)]
        norm = [0.0] * 4
        length = 0
        for g, tf in cnts.items():
            d = np.log(max(1.0, df[g]))
            n = len(g) - 1
            v[n][g] = float(tf) * (ref_len - d)
            norm[n] += v[n][g] ** 2
            if n == 1:
                length += tf
        return v, [np.sqrt(x) for x in norm], length

    scores = []
    for h, refs in zip(hyps, crefs):
        vh, nh, lh = vec(ngrams(h.split()))
        sc = np.zeros(4)
        for r in refs:
            vr, nr, lr = vec(r)
            delta = float(lh - lr)
            val = np.zeros(4)
            for n in range(4):
                for g, c in vh[n].items():
                    val[n] += min(vh[n][g], vr[n][g]) * vr[n][g]
                if nh[n] != 0 and nr[n] != 0:
                    val[n] /= nh[n] * nr[n]
                val[n] *= np.e ** (-(delta ** 2) / (2 * sigma ** 2))
            sc += val
        scores.append(np.mean(sc) / len(refs) * 10.0)
    return (float(np.mean(scores)), scores) if per_image else float(np.mean(scores))


WORDS = "the heart size is normal no focal consolidation pleural effusion lungs are clear mild " \
        "cardiomegaly small left right basilar atelectasis there pneumothorax".split()


def sentence(rng, lo=0, hi=14):
    return " ".join(rng.choice(WORDS, rng.integers(lo, hi)))


rng = np.random.default_rng(3)
n = 40
hyps, refss = [], []
with open(f"{T}/hyp.tsv", "w") as fh, open(f"{T}/ref.tsv", "w") as fr:
    fh.write("id\ttext\n")
    fr.write("id\ttext\n")
    for i in range(n):
        h = sentence(rng, 1 if i else 0)
        if i % 7 == 3:
            h = h.replace(" ", "  ", 1)  # a double space: empty ROUGE token
        refs = [sentence(rng, 1) for _ in range(rng.integers(1, 4))]
        hyps.append(h)
        refss.append(refs)
        fh.write("r%d\t%s\n" % (i, h))
        for r in refs:
            fr.write("r%d\t%s\n" % (i, r))
out = run(["report", f"{T}/hyp.tsv", f"{T}/ref.tsv"], f"{T}/rep.json")
m = {k: v["value"] for k, v in out["metrics"].items()}
b = bleu_corpus(hyps, refss)
want = {"bleu1": b[0], "bleu2": b[1], "bleu3": b[2], "bleu4": b[3],
        "rouge_l": float(np.mean([rouge_l(h, r) for h, r in zip(hyps, refss)])),
        "cider_d": cider_d(hyps, refss)}
bad = ["%s: mg %r py %r" % (k, m[k], v) for k, v in want.items() if not close(m[k], v)]
ok("report_bleu_rouge_cider_match_pycocoevalcap_formulas", not bad, "; ".join(bad))

# zero 4-gram matches: the epsilons make BLEU-4 tiny but not 0
with open(f"{T}/h2.tsv", "w") as f:
    f.write("id\ttext\na\tno focal consolidation\n")
with open(f"{T}/r2.tsv", "w") as f:
    f.write("id\ttext\na\tthere is no focal pleural consolidation\n")
out = run(["report", f"{T}/h2.tsv", f"{T}/r2.tsv"], f"{T}/rep2.json")
b = bleu_corpus(["no focal consolidation"], [["there is no focal pleural consolidation"]])
ok("report_bleu4_without_4gram_matches_keeps_epsilons",
   close(out["metrics"]["bleu4"]["value"], b[3]) and out["metrics"]["bleu4"]["value"] > 0,
   "mg %r py %r" % (out["metrics"]["bleu4"]["value"], b[3]))

# tokenisation 'simple': lowercase, non-alphanumerics to spaces
def simple(s):
    return " ".join(re.sub(r"[^a-z0-9]", " ", s.lower()).split())


with open(f"{T}/h3.tsv", "w") as f:
    f.write("id\ttext\na\tHeart size: NORMAL. No effusion!\nb\tMild cardiomegaly, left-sided effusion.\n")
with open(f"{T}/r3.tsv", "w") as f:
    f.write("id\ttext\na\tThe heart size is normal; no effusion.\nb\tmild CARDIOMEGALY with left effusion\n")
out = run(["report", f"{T}/h3.tsv", f"{T}/r3.tsv", "--tokenize", "simple"], f"{T}/rep3.json")
H = [simple("Heart size: NORMAL. No effusion!"), simple("Mild cardiomegaly, left-sided effusion.")]
Rs = [[simple("The heart size is normal; no effusion.")], [simple("mild CARDIOMEGALY with left effusion")]]
b = bleu_corpus(H, Rs)
ok("report_simple_tokenisation_lowercases_and_strips_punctuation",
   close(out["metrics"]["bleu2"]["value"], b[1]) and close(out["metrics"]["cider_d"]["value"], cider_d(H, Rs)),
   "bleu2 mg %r py %r" % (out["metrics"]["bleu2"]["value"], b[1]))

# bootstrap of CIDEr-D recomputes the document frequency per replicate:
# B=1 replicate with seed S must equal the formula on that resample
# (resampling transcribed in ref_bootstrap.py; here: identical for any -@)
r1 = subprocess.run(["mg-score", "report", f"{T}/hyp.tsv", f"{T}/ref.tsv", "--bootstrap", "30", "-@", "1", "--no-version",
                     "--json", f"{T}/rb1.json"], capture_output=True, text=True)
r2 = subprocess.run(["mg-score", "report", f"{T}/hyp.tsv", f"{T}/ref.tsv", "--bootstrap", "30", "-@", "2", "--no-version",
                     "--json", f"{T}/rb2.json"], capture_output=True, text=True)
ok("report_bootstrap_identical_for_any_thread_count",
   r1.returncode == 0 and open(f"{T}/rb1.json").read() == open(f"{T}/rb2.json").read(), r1.stderr)

# ---------------- CheXpert label F1 ----------------
from sklearn.metrics import f1_score

LABELS = ["No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion",
          "Edema", "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion",
          "Pleural Other", "Fracture", "Support Devices"]
codes = ["1.0", "0.0", "-1.0", ""]
nr = 60
Hc = rng.choice(4, size=(nr, 14), p=[0.25, 0.25, 0.15, 0.35])
Gc = np.where(rng.random((nr, 14)) < 0.7, Hc, rng.choice(4, size=(nr, 14)))
for fn, M_ in (("ch_h.tsv", Hc), ("ch_g.tsv", Gc)):
    with open(f"{T}/{fn}", "w") as f:
        f.write("id\t" + "\t".join(LABELS) + "\n")
        for i in range(nr):
            f.write("s%d\t" % i + "\t".join(codes[c] for c in M_[i]) + "\n")
five = [LABELS.index(x) for x in ("Cardiomegaly", "Edema", "Consolidation", "Atelectasis", "Pleural Effusion")]
for unc in ("positive", "negative"):
    out = run(["report", "--chexpert", "--uncertain", unc, f"{T}/ch_h.tsv", f"{T}/ch_g.tsv"], f"{T}/ch.json")
    m = {k: v["value"] for k, v in out["metrics"].items()}
    pos = {0} | ({2} if unc == "positive" else set())
    Yh = np.isin(Hc, list(pos)).astype(int)
    Yg = np.isin(Gc, list(pos)).astype(int)
    want = {}
    for avg in ("micro", "macro", "weighted"):
        want["f1_" + avg] = f1_score(Yg, Yh, average=avg, zero_division=0)
        want["f1_5_" + avg] = f1_score(Yg[:, five], Yh[:, five], average=avg, zero_division=0)
    bad = ["%s: mg %r sk %r" % (k, m[k], v) for k, v in want.items() if not close(m[k], v)]
    ok("chexpert_f1_uncertain_%s_matches_sklearn" % unc, not bad, "; ".join(bad))

# ---------------- RadGraph-style entity / relation F1 ----------------
ents = [("effusion", "OBS-DP"), ("pleural", "ANAT-DP"), ("heart", "ANAT-DP"), ("enlarged", "OBS-DP"),
        ("opacity", "OBS-U"), ("lung", "ANAT-DP"), ("edema", "OBS-DA")]
rels = ["located_at", "modify", "suggestive_of"]


def annot(rng):
    E = set(tuple(ents[i]) for i in rng.choice(len(ents), rng.integers(0, 5), replace=False))
    Rl = set()
    El = sorted(E)
    for _ in range(rng.integers(0, 3)):
        if len(El) >= 2:
            a, b2 = rng.choice(len(El), 2, replace=False)
            Rl.add((El[a][0], El[a][1], rels[rng.integers(3)], El[b2][0], El[b2][1]))
    return E, Rl


def setf1(a, b):
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


rg = {}
for side in ("h", "g"):
    with open(f"{T}/rg_{side}.tsv", "w") as f:
        f.write("id\tkind\ttokens\tlabel\trelation\ttokens2\tlabel2\n")
        for i in range(25):
            if side == "h" and i == 5:
                rg[(side, i)] = (set(), set())
                continue  # a report without annotations in one file
            E, Rl = annot(rng)
            rg[(side, i)] = (E, Rl)
            for e in sorted(E):
                f.write("x%02d\tentity\t%s\t%s\t\t\t\n" % (i, e[0].upper() if side == "h" else e[0], e[1]))
            for r in sorted(Rl):
                f.write("x%02d\trelation\t%s\t%s\t%s\t%s\t%s\n" % ((i,) + r))
out = run(["report", "--radgraph", f"{T}/rg_h.tsv", f"{T}/rg_g.tsv"], f"{T}/rg.json")
m = {k: v["value"] for k, v in out["metrics"].items()}
ef, erf, rf = [], [], []
for i in range(25):
    (Eh, Rh), (Eg, Rg) = rg[("h", i)], rg[("g", i)]
    if not (Eh or Rh or Eg or Rg):
        continue  # an id in neither table is not a report mg-score can see
    ef.append(setf1(Eh, Eg))
    inrel = lambda R_: {(r[0], r[1]) for r in R_} | {(r[3], r[4]) for r in R_}
    erf.append(setf1({e + ((e in inrel(Rh)),) for e in Eh}, {e + ((e in inrel(Rg)),) for e in Eg}))
    rf.append(setf1(Rh, Rg))
want = {"radgraph_entity_f1": np.mean(ef), "radgraph_entity_relation_f1": np.mean(erf),
        "radgraph_relation_f1": np.mean(rf)}
bad = ["%s: mg %r py %r" % (k, m[k], v) for k, v in want.items() if not close(m[k], v)]
ok("radgraph_entity_and_relation_f1_match_set_definitions", not bad, "; ".join(bad))


# ---------------- VQA ----------------
def squad_norm(s):
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def squad_f1(p, g):
    pt, gt = squad_norm(p).split(), squad_norm(g).split()
    common = Counter(pt) & Counter(gt)
    ns = sum(common.values())
    if ns == 0:
        return 0.0
    pr, rc = ns / len(pt), ns / len(gt)
    return 2 * pr * rc / (pr + rc)


NUM = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve "
                                         "thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty".split())}


def vqa_norm(s):
    s = re.sub(r"(?<=\d),(?=\d)", "", s)
    s = re.sub(r"(?<=\d)\.(?=\d)", "\x00", s)
    s = "".join(" " if ch in string.punctuation else ch for ch in s).replace("\x00", ".").lower()
    return " ".join(NUM.get(w, w) for w in s.split() if w not in ("a", "an", "the"))


def recall(p, g):
    pt, gt = vqa_norm(p).split(), vqa_norm(g).split()
    if not gt:
        return 0.0
    return sum((Counter(pt) & Counter(gt)).values()) / len(gt)


QA = [("q1", "Yes, there is an effusion.", "yes", "closed"), ("q2", "no", "yes", "closed"),
      ("q3", "The left lung.", "left lung", "open"), ("q4", "Two nodules", "2", "open"),
      ("q5", "It is normal", "no", "closed"), ("q6", "right upper lobe", "the right lobe", "open"),
      ("q7", "CT", "MRI", "open"), ("q8", "yes", "Yes", "closed"), ("q9", "3.5 cm mass", "3.5 cm", "open"),
      ("q10", "nodule seen", "no", "closed")]
with open(f"{T}/vp.tsv", "w") as f:
    f.write("id\tanswer\n" + "".join("%s\t%s\n" % (q[0], q[1]) for q in QA))
with open(f"{T}/vg.tsv", "w") as f:
    f.write("id\tanswer\tanswer_type\n" + "".join("%s\t%s\t%s\n" % (q[0], q[2], q[3]) for q in QA))
out = run(["vqa", f"{T}/vp.tsv", f"{T}/vg.tsv"], f"{T}/vqa.json")
m = {k: v["value"] for k, v in out["metrics"].items()}
cl = [q for q in QA if q[3] == "closed"]
op = [q for q in QA if q[3] == "open"]


def closed_exact(p, g):
    pn, gn = vqa_norm(p), vqa_norm(g)
    return float(pn == gn or (gn in ("yes", "no") and pn.split()[:1] == [gn]))


want = {"closed_accuracy": np.mean([closed_exact(q[1], q[2]) for q in cl]),
        "open_recall": np.mean([recall(q[1], q[2]) for q in op]),
        "token_f1": np.mean([squad_f1(q[1], q[2]) for q in QA]),
        "exact_match": np.mean([float(squad_norm(q[1]) == squad_norm(q[2])) for q in QA]),
        "token_f1_closed": np.mean([squad_f1(q[1], q[2]) for q in cl]),
        "token_f1_open": np.mean([squad_f1(q[1], q[2]) for q in op])}
bad = ["%s: mg %r py %r" % (k, m[k], v) for k, v in want.items() if not close(m[k], v)]
ok("vqa_metrics_match_squad_and_documented_normalisation", not bad, "; ".join(bad))
out = run(["vqa", "--compat", "llava-med", f"{T}/vp.tsv", f"{T}/vg.tsv"], f"{T}/vqa2.json")
hits = []
for q in cl:
    p, g = vqa_norm(q[1]), vqa_norm(q[2])
    if "yes" in p or "no" in p:
        if g in p:
            hits.append(1)
    else:
        hits.append(0)
ok("vqa_llava_med_closed_rule_drops_yes_no_misses",
   close(out["metrics"]["closed_accuracy"]["value"], np.mean(hits)) and out["closed_left_out"] == len(cl) - len(hits),
   "mg %r py %r" % (out["metrics"]["closed_accuracy"]["value"], np.mean(hits)))

# ---------------- JSON Lines input ----------------
with open(f"{T}/hyp.jsonl", "w") as f:
    for i, h in enumerate(hyps):
        f.write(json.dumps({"id": "r%d" % i, "text": h, "score": i / 3}) + "\n")
a = run(["report", f"{T}/hyp.jsonl", f"{T}/ref.tsv", "--no-version"], f"{T}/j1.json")
b = run(["report", f"{T}/hyp.tsv", f"{T}/ref.tsv", "--no-version"], f"{T}/j2.json")
ok("report_reads_json_lines_like_tsv", a["metrics"] == b["metrics"], "metrics differ")

# ---------------- report bootstrap against the formulas on each resample ----------------
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mgrng import resample

B, seed = 25, 99
out = run(["report", f"{T}/hyp.tsv", f"{T}/ref.tsv", "--bootstrap", str(B), "--seed", str(seed)], f"{T}/rbs.json")
reps = {k: [] for k in ("bleu4", "rouge_l", "cider_d")}
for b_ in range(B):
    idx = resample(seed, b_, n)
    H = [hyps[i] for i in idx]
    Rr = [refss[i] for i in idx]
    reps["bleu4"].append(bleu_corpus(H, Rr)[3])
    reps["rouge_l"].append(float(np.mean([rouge_l(h, r) for h, r in zip(H, Rr)])))
    reps["cider_d"].append(cider_d(H, Rr))  # document frequency over the resampled corpus
bad = []
for k, v in reps.items():
    lo, hi = np.percentile(v, [2.5, 97.5])
    m = out["metrics"][k]
    if not (close(m["ci_low"], lo, 1e-10) and close(m["ci_high"], hi, 1e-10)):
        bad.append("%s: mg [%r, %r] py [%r, %r]" % (k, m["ci_low"], m["ci_high"], lo, hi))
ok("report_bootstrap_matches_formulas_on_each_resample", not bad, "; ".join(bad))

# ---------------- sacrebleu (13a tokens, exp smoothing) ----------------
RE13A = [(re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
         (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
         (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
         (re.compile(r"([0-9])(-)"), r"\1 \2 ")]


def tok13a(line):
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    line = f" {line} "
    for rx, rep in RE13A:
        line = rx.sub(rep, line)
    return " ".join(line.split())


def sacre_corpus(hyps, refss):
    sys_len = ref_len = 0
    correct, total = [0] * 4, [0] * 4
    for h, refs in zip(hyps, refss):
        hw = tok13a(h).split()
        maxc, lens = Counter(), []
        for r in refs:
            rw = tok13a(r).split()
            lens.append(len(rw))
            for g, c in ngrams(rw).items():
                maxc[g] = max(maxc[g], c)
        sys_len += len(hw)
        ref_len += min(lens, key=lambda l: (abs(l - len(hw)), l))
        for g, c in ngrams(hw).items():
            total[len(g) - 1] += c
            correct[len(g) - 1] += min(c, maxc[g])
    bp = 1.0 if sys_len >= ref_len else (math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0)
    if correct[0] == 0:
        return 0.0
    prec, smooth = [0.0] * 4, 1.0
    for n_ in range(4):
        if total[n_] == 0:
            break
        if correct[n_] == 0:
            smooth *= 2
            prec[n_] = 100.0 / (smooth * total[n_])
        else:
            prec[n_] = 100.0 * correct[n_] / total[n_]
    return bp * math.exp(sum(math.log(p) if p > 0 else -9999999999 for p in prec) / 4)


SH = ["The heart is mildly enlarged (CTR 0.55).", "No pleural effusion, no pneumothorax.",
      "Stable 3.5-cm nodule; see prior exam & report.", "Lines/tubes: ETT 4-5 cm above the carina!",
      "Clear lungs.", "Mild cardiomegaly"]
SR = [["Heart size mildly enlarged, CTR 0.55.", "the heart is enlarged"],
      ["No effusion or pneumothorax.", "No pleural effusion. No pneumothorax."],
      ["Stable 3.5 cm nodule, see prior &amp; report.", "unchanged nodule"],
      ["ETT tip 4-5 cm above carina.", "Lines and tubes in place."],
      ["The lungs are clear.", "clear lungs bilaterally"],
      ["There is no cardiomegaly.", "heart size normal"]]
with open(f"{T}/sh.tsv", "w") as f:
    f.write("id\ttext\n" + "".join("s%d\t%s\n" % (i, h) for i, h in enumerate(SH)))
with open(f"{T}/sr.tsv", "w") as f:
    f.write("id\ttext\n" + "".join("s%d\t%s\n" % (i, r) for i, rs in enumerate(SR) for r in rs))
out = run(["report", "--sacrebleu", f"{T}/sh.tsv", f"{T}/sr.tsv"], f"{T}/sb.json")
want = sacre_corpus(SH, SR)
ok("sacrebleu_13a_exp_smoothing_matches_transcription",
   close(out["metrics"]["sacrebleu"]["value"], want) and out["sacrebleu_signature"].startswith("nrefs:2|"),
   "mg %r py %r" % (out["metrics"]["sacrebleu"]["value"], want))
ok("sacrebleu_13a_tokens_match_regex_transcription",
   all(tok13a(x) == x2 for x, x2 in [(SH[2], "Stable 3.5 - cm nodule ; see prior exam & report ."),
                                       (SH[3], "Lines / tubes : ETT 4 - 5 cm above the carina !")]),
   "%r" % [tok13a(SH[2]), tok13a(SH[3])])

# ---------------- per-report values ----------------
r = subprocess.run(["mg-score", "report", f"{T}/hyp.tsv", f"{T}/ref.tsv", "--per-case", f"{T}/pc.tsv", "-q",
                    "-o", "/dev/null"], capture_output=True, text=True)
rows = [l.split("\t") for l in open(f"{T}/pc.tsv").read().splitlines()[1:]] if r.returncode == 0 else []
_, cs = cider_d(hyps, refss, per_image=True)
good = len(rows) == n and all(
    row[0] == "r%d" % i and close(float(row[1]), rouge_l(hyps[i], refss[i])) and close(float(row[2]), cs[i])
    for i, row in enumerate(rows))
ok("report_per_case_rouge_and_cider_match_formulas", good, r.stderr.strip() or "values differ")
