#!/usr/bin/env python3
"""mg-fit --mlp against PyTorch, live, in float64.
Training: the validation split, initial weights and batch order rebuilt from
the seed as mg_fit.h documents them (xoshiro256** seeded by splitmix64),
then torch.nn.Linear -> ReLU -> torch.nn.Linear trained by torch.optim.Adam
(weight_decay on the weight matrices only) on the same batches, early
stopping on the validation loss: the kept epoch and the weights must agree
with the head (1e-5). Forward: the head.safetensors tensors loaded into the
same torch modules give mg-decode classify's probabilities (1e-6).
Usage: ref_mlp.py WORKDIR (mg-fit and mg-decode on PATH)."""
import json, os, struct, subprocess, sys
import numpy as np
import torch
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
import mgt

torch.set_default_dtype(torch.float64)
W = sys.argv[1]
os.chdir(W)
M64 = (1 << 64) - 1


def ok(name, cond, why=""):
    print(("PASS %s" % name) if cond else ("FAIL %s: %s" % (name, why)), flush=True)


class Rng:
    """xoshiro256** (Blackman & Vigna), state from splitmix64(seed)."""
    def __init__(self, seed):
        s, self.s = seed & M64, []
        for _ in range(4):
            s = (s + 0x9E3779B97F4A7C15) & M64
            z = s
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))

    def next(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M64
        r = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
        return r

    def below(self, n):
        lim = M64 - M64 % n
        while True:
            v = self.next()
            if v < lim:
                return v % n

    def unit(self):
        return (self.next() >> 11) * 2.0 ** -53

    def shuffle(self, v):
        for i in range(len(v) - 1, 0, -1):
            j = self.below(i + 1)
            v[i], v[j] = v[j], v[i]


def read_head(d):
    cfg = json.load(open(os.path.join(d, "config.json")))
    b = open(os.path.join(d, "head.safetensors"), "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    t = {}
    for k, v in json.loads(b[8:8 + n]).items():
        if k != "__metadata__":
            s, e = v["data_offsets"]
            t[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype="<f8").reshape(v["shape"])
    return cfg, t


def mlp(d, H, k):
    return torch.nn.Sequential(torch.nn.Linear(d, H), torch.nn.ReLU(), torch.nn.Linear(H, k))


def row_losses(task, z, y):
    if task == "multiclass":
        return torch.nn.functional.cross_entropy(z, y, reduction="none")
    if task == "regression":
        return 0.5 * ((z - y) ** 2).sum(1)
    return torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="none").sum(1)


rng = np.random.default_rng(7)
n, d = 700, 12
X = (rng.normal(size=(n, d)) * rng.uniform(0.5, 3, d) + rng.normal(size=d)).astype(np.float32)
Zt = np.tanh(X @ rng.normal(size=(d, 3)) * 0.4) * 2 + X[:, :3] * 0.3 + rng.normal(size=(n, 3)) * 0.4
tr_ids, te = np.arange(0, 600), np.arange(600, n)
for name, idx in (("train", tr_ids), ("test", te)):
    with open(name + ".mgt", "wb") as f:
        mgt.write(f, [({"id": "s%d" % i}, {"embedding": X[i]}) for i in idx])
tasks = {
    "binary": ("y", [["%d" % (Zt[i, 0] > 0.3)] for i in range(n)]),
    "multiclass": ("grade", [["abcd"[int(np.digitize(Zt[i, 1], [-1, 0, 1]))]] for i in range(n)]),
    "multilabel": ("p\tq", [["%d" % (Zt[i, 0] > 0), "%d" % (Zt[i, 2] > 0.5)] for i in range(n)]),
    "regression": ("level", [["%.17g" % Zt[i, 2]] for i in range(n)]),
}
H, B, EP, PAT, LR, WD, VAL, SEED = 10, 32, 8, 1, 0.02, 1e-3, 0.2, 42
Xtr = X[tr_ids].astype(np.float64)
for task, (hdr, rows) in tasks.items():
    with open(task + ".tsv", "w") as f:
        f.write("id\t" + hdr + "\n" + "".join("s%d\t%s\n" % (i, "\t".join(r)) for i, r in enumerate(rows)))
    args = ["mg-fit", "-q", "train.mgt", "--labels", task + ".tsv", "--task", task, "--mlp", str(H),
            "--mlp-batch", str(B), "--mlp-epochs", str(EP), "--mlp-patience", str(PAT), "--mlp-lr", str(LR),
            "--mlp-weight-decay", str(WD), "--mlp-val", str(VAL), "--seed", str(SEED),
            "--folds-out", task + ".split.tsv", "--json", task + ".json", "-o", "head_" + task]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode:
        ok("mlp_fit_" + task, False, p.stderr.strip()); continue
    cfg, t = read_head("head_" + task)
    rep = json.load(open(task + ".json"))
    # targets of the training rows
    lab = [r for r in rows[:600]]
    if task == "multiclass":
        classes = sorted(set(r[0] for r in lab))
        strata = np.array([classes.index(r[0]) for r in lab]); ns = len(classes)
        y = torch.tensor(strata)
    elif task == "binary":
        strata = np.array([int(r[0]) for r in lab]); ns = 2
        y = torch.tensor(strata, dtype=torch.float64)[:, None]
    else:
        strata = np.zeros(600, int); ns = 1
        y = torch.tensor([[float(v) for v in r] for r in lab])
    k = cfg["outputs"].__len__() if task != "binary" else 1
    # the validation split, rebuilt
    r = Rng(SEED)
    val = np.zeros(600, bool)
    for s in range(ns):
        idx = [i for i in range(600) if strata[i] == s]
        r.shuffle(idx)
        val[idx[:int(np.floor(VAL * len(idx) + 0.5))]] = True
    split = [l.split("\t")[1].strip() for l in open(task + ".split.tsv")][1:]
    ok("mlp_validation_split_" + task, split == ["validation" if v else "train" for v in val],
       "split differs from the documented rule")
    # standardisation over all rows (StandardScaler's population sd)
    mean, sd = Xtr.mean(0), Xtr.std(0)
    ok("mlp_norm_" + task, np.abs(t["norm.mean"] - mean).max() < 1e-10 and np.abs(t["norm.scale"] - sd).max() < 1e-10)
    Xs = torch.tensor((Xtr - t["norm.mean"]) / t["norm.scale"])
    net = mlp(d, H, k)
    r = Rng(SEED + 1)
    with torch.no_grad():
        for prm, fan in ((net[0].weight, d), (net[0].bias, d), (net[2].weight, H), (net[2].bias, H)):
            b = 1 / np.sqrt(fan)
            flat = [b * (2 * r.unit() - 1) for _ in range(prm.numel())]
            prm.copy_(torch.tensor(flat).reshape(prm.shape))
    opt = torch.optim.Adam([{"params": [net[0].weight, net[2].weight], "weight_decay": WD},
                            {"params": [net[0].bias, net[2].bias], "weight_decay": 0.0}],
                           lr=LR, betas=(0.9, 0.999), eps=1e-8)
    trn = [i for i in range(600) if not val[i]]
    vrows = torch.tensor([i for i in range(600) if val[i]])
    order = Rng(SEED + 2)
    best, best_state, since, kept, epochs = float("inf"), None, 0, 0, 0
    vlosses = []
    for ep in range(EP):
        perm = list(trn)
        order.shuffle(perm)
        for b0 in range(0, len(perm), B):
            bi = torch.tensor(perm[b0:b0 + B])
            opt.zero_grad()
            loss = row_losses(task, net(Xs[bi]), y[bi]).sum() / len(bi)
            loss.backward()
            opt.step()
        epochs = ep + 1
        with torch.no_grad():
            vl = row_losses(task, net(Xs[vrows]), y[vrows]).sum().item() / len(vrows)
        vlosses.append(vl)
        if vl < best:
            best, since, kept = vl, 0, ep + 1
            best_state = [p.detach().clone() for p in net.parameters()]
        else:
            since += 1
            if since >= PAT:
                break
    ok("mlp_epochs_and_kept_epoch_" + task, (rep["epochs"], rep["best_epoch"]) == (epochs, kept),
       "mg-fit %s/%s, torch %s/%s" % (rep["epochs"], rep["best_epoch"], epochs, kept))
    vdiff = np.abs(np.array(rep["validation_loss"][:len(vlosses)]) - vlosses).max()
    ok("mlp_validation_losses_" + task, vdiff < 1e-7, "max diff %.2e" % vdiff)
    names = ["hidden.weight", "hidden.bias", "output.weight", "output.bias"]
    diff = max(np.abs(t[nm] - p.numpy()).max() for nm, p in zip(names, best_state))
    ok("mlp_trained_weights_match_torch_adam_" + task, diff < 1e-5, "max |w - w_torch| %.2e" % diff)
    # forward: torch modules holding the head's tensors against mg-decode classify
    fw = mlp(d, H, k)
    with torch.no_grad():
        for nm, p in zip(names, fw.parameters()):
            p.copy_(torch.tensor(t[nm]))
        z = fw(torch.tensor((X[te].astype(np.float64) - t["norm.mean"]) / t["norm.scale"]))
        want = (torch.softmax(z, 1) if task == "multiclass" else z if task == "regression" else torch.sigmoid(z)).numpy()
    p = subprocess.run(["mg-decode", "classify", "-m", "head_" + task, "test.mgt"], capture_output=True, text=True)
    if p.returncode:
        ok("mlp_forward_matches_torch_" + task, False, p.stderr.strip()); continue
    out = [l.split("\t") for l in p.stdout.splitlines()]
    got = np.array([[float(v) for v in l[1:]] for l in out[1:]])
    fdiff = np.abs(got - want).max() if got.shape == want.shape else np.inf
    ok("mlp_forward_matches_torch_" + task, fdiff < 1e-6 and [l[0] for l in out[1:]] == ["s%d" % i for i in te],
       "max |p - p_torch| %.2e" % fdiff)
