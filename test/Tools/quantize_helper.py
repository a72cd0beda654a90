#!/usr/bin/env python3
# ===- quantize_helper.py - inputs and checks of qlow-quantize.test ---------===#
#
# gen DIR      writes three synthetic transformer blocks, each a function
#              @block(%x) with named layers, fixed seeds:
#                DIR/linear.mlir  one matmul "proj" with bias, [16,64]x[64,64];
#                                 its weights have rows and columns of very
#                                 different magnitudes (log-normal scales), so
#                                 per-group scales matter;
#                DIR/mlp.mlir     layer_norm "ln", matmul "fc1" (64->128),
#                                 gelu "act", matmul "fc2" (128->64), residual
#                                 add "res";
#                DIR/attn.mlir    x [1,1,16,64]: matmuls "q_proj", "k_proj",
#                                 "v_proj", attention "attn", matmul "o_proj",
#                                 residual add "res";
#              and batches of x for each (DIR/<block>/<set>/<nnn>/block.0.npy):
#                cal    4 batches of N(0, 1) (calibration);
#                eval   2 other batches of N(0, 1);
#                shift  2 batches of N(0, 1) * 6 + 2 (evaluation data that
#                       moved away from the calibration data);
#                tail   4 batches of Laplace(b = 1) with 1% outliers at 40x
#                       (heavy-tailed calibration data);
#                tailout   2 other batches of the same distribution;
#                taileval  2 batches of Laplace(b = 1) without outliers (the
#                       bulk that clipping the outliers quantizes better).
# sqnr REPORT  prints the end-to-end SQNR (dB) of a qlow-error-report JSON.
# better NAME A B MARGIN   checks that report A's end-to-end SQNR exceeds B's
#              by more than MARGIN dB and prints both (NAME labels the line).
# floor NAME A DB          checks that report A's end-to-end SQNR is >= DB.
# bytes Q.mlir [MAX]       prints the weight bytes of a quantized graph (its
#              i8/i4 constants, packed: 1 or 1/2 byte per value) and checks
#              that they are <= MAX.
# lowered PREC MIN         checks that the precision file lowers at least MIN
#              layers to 4-bit weights and prints them.
#
# ===----------------------------------------------------------------------===#
import json
import math
import os
import sys

import numpy as np

ROWS, DIM, HIDDEN = 16, 64, 128


def t(*shape, elem="f32"):
    return "tensor<" + "x".join(str(s) for s in shape) + "x" + elem + ">"


def dense(a):
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 1:
        return "dense<[" + ", ".join("%.9g" % v for v in a) + "]>"
    return "dense<[" + ", ".join(
        "[" + ", ".join("%.9g" % v for v in r) + "]" for r in a) + "]>"


def weights(rng, k, n):
    return (rng.standard_normal((k, n)) / math.sqrt(k)).astype(np.float32)


def linear(rng):
    # Row (K) and column (N) magnitudes spread over e^(+-2): one scale per
    # tensor wastes most int4 levels on the few large entries.
    w = weights(rng, DIM, DIM)
    w *= np.exp(rng.standard_normal((DIM, 1)) * 0.8).astype(np.float32)
    w *= np.exp(rng.standard_normal((1, DIM)) * 0.5).astype(np.float32)
    b = (0.1 * rng.standard_normal(DIM)).astype(np.float32)
    x, y = t(ROWS, DIM), t(ROWS, DIM)
    return f"""func.func @block(%x: {x}) -> {y} {{
  %w = arith.constant {dense(w)} : {t(DIM, DIM)}
  %b = arith.constant {dense(b)} : {t(DIM)}
  %y = qlow.matmul %x, %w, %b : ({x}, {t(DIM, DIM)}, {t(DIM)}) -> {y} loc("proj")
  return %y : {y}
}}
"""


def mlp(rng):
    g = (1.0 + 0.1 * rng.standard_normal(DIM)).astype(np.float32)
    be = (0.1 * rng.standard_normal(DIM)).astype(np.float32)
    w1, b1 = weights(rng, DIM, HIDDEN), (0.1 * rng.standard_normal(HIDDEN)).astype(np.float32)
    w2, b2 = weights(rng, HIDDEN, DIM), (0.1 * rng.standard_normal(DIM)).astype(np.float32)
    x, h = t(ROWS, DIM), t(ROWS, HIDDEN)
    return f"""func.func @block(%x: {x}) -> {x} {{
  %g = arith.constant {dense(g)} : {t(DIM)}
  %be = arith.constant {dense(be)} : {t(DIM)}
  %w1 = arith.constant {dense(w1)} : {t(DIM, HIDDEN)}
  %b1 = arith.constant {dense(b1)} : {t(HIDDEN)}
  %w2 = arith.constant {dense(w2)} : {t(HIDDEN, DIM)}
  %b2 = arith.constant {dense(b2)} : {t(DIM)}
  %n = qlow.layer_norm %x, %g, %be : ({x}, {t(DIM)}, {t(DIM)}) -> {x} loc("ln")
  %f1 = qlow.matmul %n, %w1, %b1 : ({x}, {t(DIM, HIDDEN)}, {t(HIDDEN)}) -> {h} loc("fc1")
  %a = qlow.gelu %f1 : {h} -> {h} loc("act")
  %f2 = qlow.matmul %a, %w2, %b2 : ({h}, {t(HIDDEN, DIM)}, {t(DIM)}) -> {x} loc("fc2")
  %r = qlow.add %f2, %x : ({x}, {x}) -> {x} loc("res")
  return %r : {x}
}}
"""


def attn(rng):
    x = t(1, 1, ROWS, DIM)
    ws = {n: weights(rng, DIM, DIM) for n in ("q", "k", "v", "o")}
    bo = (0.1 * rng.standard_normal(DIM)).astype(np.float32)
    w = t(DIM, DIM)
    consts = "\n".join(
        f"  %w{n} = arith.constant {dense(a)} : {w}" for n, a in ws.items())
    return f"""func.func @block(%x: {x}) -> {x} {{
{consts}
  %bo = arith.constant {dense(bo)} : {t(DIM)}
  %q = qlow.matmul %x, %wq : ({x}, {w}) -> {x} loc("q_proj")
  %k = qlow.matmul %x, %wk : ({x}, {w}) -> {x} loc("k_proj")
  %v = qlow.matmul %x, %wv : ({x}, {w}) -> {x} loc("v_proj")
  %o = qlow.attention %q, %k, %v : ({x}, {x}, {x}) -> {x} loc("attn")
  %p = qlow.matmul %o, %wo, %bo : ({x}, {w}, {t(DIM)}) -> {x} loc("o_proj")
  %r = qlow.add %p, %x : ({x}, {x}) -> {x} loc("res")
  return %r : {x}
}}
"""


def save_sets(d, block, shape, rng):
    def write(name, arrays):
        for i, a in enumerate(arrays):
            p = os.path.join(d, block, name, "%03d" % i)
            os.makedirs(p, exist_ok=True)
            np.save(os.path.join(p, "block.0.npy"), a.astype(np.float32).reshape(shape))

    n = (ROWS, DIM)
    write("cal", [rng.standard_normal(n) for _ in range(4)])
    write("eval", [rng.standard_normal(n) for _ in range(2)])
    write("shift", [rng.standard_normal(n) * 6 + 2 for _ in range(2)])

    def tail(outliers):
        a = rng.laplace(0.0, 1.0, n)
        if outliers:
            mask = rng.random(n) < 0.01
            mask.flat[rng.integers(a.size)] = True  # at least one per batch
            a[mask] *= 40
        return a

    write("tail", [tail(True) for _ in range(4)])
    write("tailout", [tail(True) for _ in range(2)])
    write("taileval", [tail(False) for _ in range(2)])


def gen(d):
    for i, (name, fn, shape) in enumerate((
            ("linear", linear, (ROWS, DIM)),
            ("mlp", mlp, (ROWS, DIM)),
            ("attn", attn, (1, 1, ROWS, DIM)))):
        rng = np.random.default_rng(100 + i)
        os.makedirs(os.path.join(d, name), exist_ok=True)
        with open(os.path.join(d, name + ".mlir"), "w") as f:
            f.write(fn(rng))
        save_sets(d, name, shape, rng)


def sqnr(path):
    with open(path) as f:
        report = json.load(f)
    assert report["format"] == "qlow-error-report", report
    (row,) = report["results"]
    v = row["sqnr_db"]
    return math.inf if v == "inf" else float(v)


def main():
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2])
    elif cmd == "sqnr":
        print("%.2f" % sqnr(sys.argv[2]))
    elif cmd == "better":
        name, a, b, margin = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
        sa, sb = sqnr(a), sqnr(b)
        print("%s: %.2f dB vs %.2f dB (+%.2f)" % (name, sa, sb, sa - sb))
        assert sa > sb + margin, "%s: %.2f dB is not above %.2f + %.2f dB" % (name, sa, sb, margin)
    elif cmd == "floor":
        name, a, floor = sys.argv[2], sys.argv[3], float(sys.argv[4])
        s = sqnr(a)
        print("%s: %.2f dB (floor %.1f)" % (name, s, floor))
        assert s >= floor, "%s: %.2f dB is below %.1f dB" % (name, s, floor)
    elif cmd == "bytes":
        import re
        total = 0
        with open(sys.argv[2]) as f:
            for line in f:
                m = re.search(r"arith\.constant .*: tensor<([0-9x]+)xi(4|8)>", line)
                if m:
                    n = math.prod(int(d) for d in m.group(1).split("x"))
                    total += (n * int(m.group(2)) + 7) // 8
        print("weight bytes: %d" % total)
        if len(sys.argv) > 3:
            assert total <= int(sys.argv[3]), "%d > %s bytes" % (total, sys.argv[3])
    elif cmd == "lowered":
        with open(sys.argv[2]) as f:
            prec = json.load(f)
        assert prec["format"] == "qlow-precision" and prec["version"] == 1, prec
        low = [r["match"] for r in prec["layers"] if r.get("weight_bits") == 4]
        print("int4:", " ".join(low))
        assert len(low) >= int(sys.argv[3]), prec
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main()
