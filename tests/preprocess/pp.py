"""Helpers for the preprocess tests: run mg-preprocess, read its records back
through mg-stream (export to .npy, metadata from `mg-stream info`)."""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))
import mgt as _reader  # noqa: E402  (examples/mgt.py: the stream's numpy reader)

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
    """[(meta dict, ndarray)] for every record of a stream file (its first
    tensor), read with the project's numpy reader examples/mgt.py."""
    with open(stream, "rb") as f:
        prov, recs = _reader.read(f)
    return [(m, next(iter(t.values()))) for m, t in recs]


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
