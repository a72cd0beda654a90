#!/usr/bin/env python3
# ===- calibrate_helper.py - data and checks for qlow-calibrate tests -----=== #
#
# gen DIR        writes DIR/model.mlir (a float FFN block: matmul, gelu,
#                matmul, residual add, layer_norm) and DIR/cal/NNN/block.0.npy,
#                calibration batches of heavy-tailed activations (Laplace,
#                with 0.1% outliers at 40x)
# check JSON DIR [--per-channel]
#                checks a qlow-calibrate JSON against the schema of
#                docs/Calibration.md and against numpy: counts, min/max of
#                every probe (the input exactly, the others against a float64
#                evaluation of the block), and scale/zero point recomputed
#                from the clip range with lib/Reference's rule
# compare MINMAX OTHER DIR PROBE MAX_CLIP_RATIO MIN_GAIN
#                OTHER must clip PROBE below MINMAX (clip width at most
#                MAX_CLIP_RATIO of min/max's) and quantize the bulk of the
#                input (|x| <= 4) with a lower MSE, by at least MIN_GAIN
# ranges JSON PRINTED
#                min/max of the JSON against qlow-run --print-ranges output
#
# ===----------------------------------------------------------------------=== #
import json
import math
import os
import re
import sys

import numpy as np

ROWS, DIM, HIDDEN, BATCHES = 64, 32, 64, 8
PROBES = ["block.arg0", "ffn.up", "block.gelu_0", "ffn.down", "block.add_0",
          "block.layer_norm_0"]


def weights():
    rng = np.random.default_rng(1234)
    return {
        "w1": (rng.standard_normal((DIM, HIDDEN)) / math.sqrt(DIM)).astype(np.float32),
        "b1": (0.1 * rng.standard_normal(HIDDEN)).astype(np.float32),
        "w2": (rng.standard_normal((HIDDEN, DIM)) / math.sqrt(HIDDEN)).astype(np.float32),
        "gamma": (1.0 + 0.1 * rng.standard_normal(DIM)).astype(np.float32),
        "beta": (0.1 * rng.standard_normal(DIM)).astype(np.float32),
    }


def dense(a):
    def rec(x):
        if x.ndim == 1:
            return "[" + ", ".join(repr(float(v)) for v in x) + "]"
        return "[" + ", ".join(rec(r) for r in x) + "]"
    return "dense<" + rec(a) + ">"


def batch(b):
    rng = np.random.default_rng(100 + b)
    x = rng.laplace(0.0, 1.0, (ROWS, DIM)).astype(np.float32)
    flat = x.reshape(-1)
    outliers = rng.choice(flat.size, flat.size // 1000, replace=False)
    flat[outliers] *= 40.0
    return x


def gen(d):
    w = weights()
    t = lambda *s: "tensor<" + "x".join(map(str, s)) + "xf32>"
    model = f"""func.func @block(%x: {t(ROWS, DIM)}) -> {t(ROWS, DIM)} {{
  %w1 = arith.constant {dense(w['w1'])} : {t(DIM, HIDDEN)}
  %b1 = arith.constant {dense(w['b1'])} : {t(HIDDEN)}
  %h = qlow.matmul %x, %w1, %b1 : ({t(ROWS, DIM)}, {t(DIM, HIDDEN)}, {t(HIDDEN)}) -> {t(ROWS, HIDDEN)} loc("ffn.up")
  %g = qlow.gelu %h : {t(ROWS, HIDDEN)} -> {t(ROWS, HIDDEN)}
  %w2 = arith.constant {dense(w['w2'])} : {t(HIDDEN, DIM)}
  %o = qlow.matmul %g, %w2 : ({t(ROWS, HIDDEN)}, {t(HIDDEN, DIM)}) -> {t(ROWS, DIM)} loc("ffn.down")
  %r = qlow.add %o, %x : ({t(ROWS, DIM)}, {t(ROWS, DIM)}) -> {t(ROWS, DIM)}
  %gamma = arith.constant {dense(w['gamma'])} : {t(DIM)}
  %beta = arith.constant {dense(w['beta'])} : {t(DIM)}
  %n = qlow.layer_norm %r, %gamma, %beta : ({t(ROWS, DIM)}, {t(DIM)}, {t(DIM)}) -> {t(ROWS, DIM)}
  return %n : {t(ROWS, DIM)}
}}
"""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.mlir"), "w") as f:
        f.write(model)
    for b in range(BATCHES):
        bd = os.path.join(d, "cal", "%03d" % b)
        os.makedirs(bd, exist_ok=True)
        np.save(os.path.join(bd, "block.0.npy"), batch(b))


def evaluate(x):
    """The block in float64: every probe's values."""
    w = weights()
    x = x.astype(np.float64)
    h = x @ w["w1"].astype(np.float64) + w["b1"]
    erf = np.vectorize(math.erf)
    g = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
    o = g @ w["w2"].astype(np.float64)
    r = o + x
    mean = r.mean(axis=-1, keepdims=True)
    var = ((r - mean) ** 2).mean(axis=-1, keepdims=True)
    n = (r - mean) / np.sqrt(var + 1e-5) * w["gamma"] + w["beta"]
    return dict(zip(PROBES, [x, h, g, o, r, n]))


def all_values(d):
    values = {p: [] for p in PROBES}
    for b in range(BATCHES):
        x = np.load(os.path.join(d, "cal", "%03d" % b, "block.0.npy"))
        for p, v in evaluate(x).items():
            values[p].append(v)
    return {p: np.stack(v) for p, v in values.items()}


def choose(lo, hi, qmin, qmax, symmetric, signed):
    """lib/Reference's chooseScaleZeroPoint (Arithmetic.h), in double."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if symmetric:
        amax = max(-lo, hi)
        zp = 0 if signed else (qmin + qmax + 1) // 2
        return (1.0 if amax == 0 else amax / ((qmax - qmin) / 2.0)), zp
    if lo == hi:
        return 1.0, qmin
    scale = (hi - lo) / (qmax - qmin)
    zp = qmin - lo / scale
    zp = qmin if zp <= qmin else qmax if zp >= qmax else int(math.copysign(math.floor(abs(zp) + 0.5), zp))
    return scale, zp


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check(path, d, per_channel):
    with open(path) as f:
        doc = json.load(f)
    for key, kind in [("format", str), ("version", int), ("function", str),
                      ("method", str), ("storage", str), ("symmetric", bool),
                      ("narrow_range", bool), ("qmin", int), ("qmax", int),
                      ("per_channel", bool), ("batches", int), ("probes", dict)]:
        if not isinstance(doc.get(key), kind):
            fail("top-level %r missing or not %s" % (key, kind.__name__))
    if doc["format"] != "qlow-calibration" or doc["version"] != 1:
        fail("format/version")
    if doc["function"] != "block" or doc["batches"] != BATCHES:
        fail("function/batches")
    if list(doc["probes"]) != PROBES:
        fail("probes %s, expected %s" % (list(doc["probes"]), PROBES))
    signed = doc["storage"].startswith("i")
    values = all_values(d)
    for name, p in doc["probes"].items():
        v = values[name]
        if p["shape"] != list(v.shape[1:]):
            fail("%s: shape %s" % (name, p["shape"]))
        if p["count"] != v.size or p["nonfinite"] != 0:
            fail("%s: count %d, expected %d" % (name, p["count"], v.size))
        lo, hi = p["min"], p["max"]
        if name == "block.arg0":
            ok = np.float32(lo) == v.min() and np.float32(hi) == v.max()
        else:
            tol = 1e-4 * (v.max() - v.min())
            ok = abs(lo - v.min()) <= tol and abs(hi - v.max()) <= tol
        if not ok:
            fail("%s: [%r, %r] vs numpy [%r, %r]" % (name, lo, hi, v.min(), v.max()))
        groups = [(p["clip_min"], p["clip_max"], p["scale"], p["zero_point"], lo, hi)]
        if per_channel:
            c = p.get("channels")
            if not c or c["axis"] != 1:
                fail("%s: channels missing or axis %r" % (name, c and c["axis"]))
            n = v.shape[-1]
            for k in ["count", "min", "max", "clip_min", "clip_max", "scale", "zero_point"]:
                if len(c[k]) != n:
                    fail("%s: channels.%s has %d entries, expected %d" % (name, k, len(c[k]), n))
            if name == "block.arg0":
                cols = v.reshape(-1, n)
                if [np.float32(m) for m in c["min"]] != list(cols.min(axis=0)) or \
                   [np.float32(m) for m in c["max"]] != list(cols.max(axis=0)):
                    fail("%s: per-channel min/max differ from numpy" % name)
            if c["count"] != [v.size // n] * n:
                fail("%s: channel counts" % name)
            groups += list(zip(c["clip_min"], c["clip_max"], c["scale"], c["zero_point"], c["min"], c["max"]))
        elif "channels" in p:
            fail("%s: channels without --per-channel" % name)
        for cmin, cmax, scale, zp, gmin, gmax in groups:
            if not (gmin <= cmin <= cmax <= gmax):
                fail("%s: clip [%r, %r] outside [%r, %r]" % (name, cmin, cmax, gmin, gmax))
            s, z = choose(np.float64(np.float32(cmin)), np.float64(np.float32(cmax)),
                          doc["qmin"], doc["qmax"], doc["symmetric"], signed)
            if abs(s - scale) > 1e-12 * s or z != zp:
                fail("%s: scale/zp %r/%r, expected %r/%r from the clip range" % (name, scale, zp, s, z))
    print("ok: %d probes" % len(doc["probes"]))


def fake_quant_mse(x, scale, zp, qmin, qmax):
    s = np.float32(scale)
    q = np.clip(np.rint(x / s) + zp, qmin, qmax)
    return float(np.mean(((q - zp).astype(np.float32) * s - x).astype(np.float64) ** 2))


def compare(minmax_path, other_path, d, probe, max_clip_ratio, min_gain):
    with open(minmax_path) as f:
        mm = json.load(f)
    with open(other_path) as f:
        other = json.load(f)
    a, b = mm["probes"][probe], other["probes"][probe]
    width = (b["clip_max"] - b["clip_min"]) / (a["clip_max"] - a["clip_min"])
    x = all_values(d)["block.arg0"]
    bulk = x[np.abs(x) <= 4.0]
    gain = fake_quant_mse(bulk, a["scale"], a["zero_point"], mm["qmin"], mm["qmax"]) / \
        fake_quant_mse(bulk, b["scale"], b["zero_point"], other["qmin"], other["qmax"])
    print("%s %s: clip [%.4g, %.4g] vs min/max [%.4g, %.4g]: width ratio %.3f, "
          "bulk MSE gain %.2f" % (other["method"], probe, b["clip_min"], b["clip_max"],
                                  a["clip_min"], a["clip_max"], width, gain))
    if not width <= max_clip_ratio:
        fail("clip width ratio %.3f above %s" % (width, max_clip_ratio))
    if not b["scale"] < a["scale"]:
        fail("scale not below min/max's")
    if not gain >= min_gain:
        fail("bulk MSE gain %.2f below %s" % (gain, min_gain))


def ranges(path, printed):
    with open(path) as f:
        doc = json.load(f)
    seen = 0
    for line in open(printed):
        m = re.match(r"observe (\S+): min (\S+) max (\S+) over (\d+) values", line)
        if not m:
            continue
        p = doc["probes"][m.group(1)]
        lo, hi = float(m.group(2)), float(m.group(3))
        if abs(lo - p["min"]) > 1e-6 * abs(lo) or abs(hi - p["max"]) > 1e-6 * abs(hi) \
                or int(m.group(4)) != p["count"]:
            fail("%s: qlow-run [%r, %r] x%s vs [%r, %r] x%d" % (
                m.group(1), lo, hi, m.group(4), p["min"], p["max"], p["count"]))
        seen += 1
    if seen != len(doc["probes"]):
        fail("qlow-run printed %d ranges for %d probes" % (seen, len(doc["probes"])))
    print("ok: %d ranges agree with qlow-run" % seen)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2])
    elif cmd == "check":
        check(sys.argv[2], sys.argv[3], "--per-channel" in sys.argv[4:])
    elif cmd == "compare":
        compare(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5],
                float(sys.argv[6]), float(sys.argv[7]))
    elif cmd == "ranges":
        ranges(sys.argv[2], sys.argv[3])
    else:
        fail("unknown command " + cmd)
