"""Helpers for the preprocess tests: run mg-preprocess, read its records back
through mg-stream (export to .npy, metadata from `mg-stream info`)."""
import glob
import os
import subprocess
import sys

import numpy as np

T = os.environ.get("T", "/tmp")
_n = [0]


def run(args, check=True):
    """Run mg-preprocess with args; returns CompletedProcess."""
    p = subprocess.run(["mg-preprocess", "--no-version"] + [str(a) for a in args],
                       capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("mg-preprocess %s: exit %d: %s" % (args, p.returncode, p.stderr.strip()))
    return p


def records(stream):
    """[(meta dict, ndarray)] for every record of a stream file."""
    _n[0] += 1
    d = os.path.join(T, "exp%d" % _n[0])
    os.makedirs(d)
    subprocess.run(["mg-stream", "export", "-o", os.path.join(d, "{n}.npy"), stream],
                   check=True, capture_output=True)
    info = subprocess.run(["mg-stream", "info", "-n", "-1", stream], check=True,
                          capture_output=True, text=True).stdout
    metas = []
    for line in info.splitlines():
        s = line.strip()
        if line.startswith("record "):
            m = {}
            if "id=" in line:
                m["id"] = line.split("id=", 1)[1]
            metas.append(m)
        elif s.startswith("meta ") and metas:
            k, v = s[5:].strip().split("=", 1)
            metas[-1][k] = v
    out = []
    for i, m in enumerate(metas, 1):
        out.append((m, np.load(os.path.join(d, "%d.npy" % i))))
    return out


def prep(inputs, args):
    """Run mg-preprocess on inputs with args, return its records."""
    _n[0] += 1
    o = os.path.join(T, "out%d.mgt" % _n[0])
    if isinstance(inputs, str):
        inputs = [inputs]
    run(list(args) + ["-o", o] + list(inputs))
    return records(o)


def report(name, ok, why=""):
    if ok:
        print("PASS " + name)
    else:
        print("FAIL %s: %s" % (name, why))
    sys.stdout.flush()


def case(name, fn):
    """Run fn(); it returns (ok, why) or raises."""
    try:
        r = fn()
        ok, why = (r, "") if isinstance(r, bool) else r
    except Exception as e:  # a failing reference or program is a failed case
        ok, why = False, "%s: %s" % (type(e).__name__, str(e)[:300])
    report(name, ok, why)
