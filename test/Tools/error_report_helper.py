#!/usr/bin/env python3
# ===- error_report_helper.py - inputs and checks of qlow-error-report.test -===#
#
# gen DIR      writes DIR/float.mlir (a float block: matmul "fc1", gelu "act",
#              matmul "fc2"), its quantized twins DIR/int8.mlir and
#              DIR/int4.mlir (the activations fc2 reads and fc1 writes in i8 or
#              i4, weights in the same storage, symmetric per tensor, scales
#              from the ranges of the batches), DIR/qdq.mlir (the i8 twin in
#              QDQ form, float ops between dequantize and quantize),
#              DIR/other.mlir (another input
#              shape) and two batches DIR/in/000/block.0.npy,
#              DIR/in/001/block.0.npy.
# check JSON CSV   checks that the JSON and the CSV report the same rows with
#              the schema of docs/Calibration.md ("qlow-error-report") and that
#              the metrics agree with numpy's on the float graph.
# self JSON    checks a graph compared with itself: sqnr inf, cosine 1, error 0.
# numpy JSON F0 Q0 F1 Q1   recomputes the end-to-end row of the JSON with
#              numpy from the float (F) and quantized (Q) outputs of the two
#              batches, as qlow-run --reference writes them.
# lower A B    checks that every end-to-end SQNR of report A is lower than B's
#              and prints the numbers.
#
# ===----------------------------------------------------------------------===#
import csv
import json
import math
import os
import sys

import numpy as np

ROWS, DIM, HIDDEN = 16, 32, 64


def t(*shape, elem="f32"):
    return "tensor<" + "x".join(str(s) for s in shape) + "x" + elem + ">"


def dense_shaped(a):
    a = np.asarray(a)
    if a.ndim == 1:
        return "dense<[" + ", ".join("%.9g" % v for v in a) + "]>"
    rows = ["[" + ", ".join("%.9g" % v for v in r) + "]" for r in a]
    return "dense<[" + ", ".join(rows) + "]>"


def gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def gen(d):
    rng = np.random.default_rng(7)
    w1 = (rng.standard_normal((DIM, HIDDEN)) / math.sqrt(DIM)).astype(np.float32)
    b1 = (0.1 * rng.standard_normal(HIDDEN)).astype(np.float32)
    w2 = (rng.standard_normal((HIDDEN, DIM)) / math.sqrt(HIDDEN)).astype(np.float32)
    b2 = (0.1 * rng.standard_normal(DIM)).astype(np.float32)
    xs = [rng.standard_normal((ROWS, DIM)).astype(np.float32) for _ in range(2)]
    for i, x in enumerate(xs):
        os.makedirs(os.path.join(d, "in", "%03d" % i), exist_ok=True)
        np.save(os.path.join(d, "in", "%03d" % i, "block.0.npy"), x)
    hs = [x @ w1 + b1 for x in xs]
    gs = [gelu(h) for h in hs]
    amax = lambda arrays: max(float(np.abs(a).max()) for a in arrays)

    with open(os.path.join(d, "float.mlir"), "w") as f:
        f.write(f"""func.func @block(%x: {t(ROWS, DIM)}) -> {t(ROWS, DIM)} {{
  %w1 = arith.constant {dense_shaped(w1)} : {t(DIM, HIDDEN)}
  %b1 = arith.constant {dense_shaped(b1)} : {t(HIDDEN)}
  %w2 = arith.constant {dense_shaped(w2)} : {t(HIDDEN, DIM)}
  %b2 = arith.constant {dense_shaped(b2)} : {t(DIM)}
  %h = qlow.matmul %x, %w1, %b1 : ({t(ROWS, DIM)}, {t(DIM, HIDDEN)}, {t(HIDDEN)}) -> {t(ROWS, HIDDEN)} loc("fc1")
  %g = qlow.gelu %h : {t(ROWS, HIDDEN)} -> {t(ROWS, HIDDEN)} loc("act")
  %o = qlow.matmul %g, %w2, %b2 : ({t(ROWS, HIDDEN)}, {t(HIDDEN, DIM)}, {t(DIM)}) -> {t(ROWS, DIM)} loc("fc2")
  return %o : {t(ROWS, DIM)}
}}
""")
    with open(os.path.join(d, "other.mlir"), "w") as f:
        f.write(f"""func.func @block(%x: {t(ROWS, HIDDEN)}) -> {t(ROWS, HIDDEN)} {{
  %g = qlow.gelu %x : {t(ROWS, HIDDEN)} -> {t(ROWS, HIDDEN)}
  return %g : {t(ROWS, HIDDEN)}
}}
""")

    for name, bits in (("int8", 8), ("int4", 4)):
        qmax = 2 ** (bits - 1) - 1
        sx = amax(xs) / qmax
        sw1 = float(np.abs(w1).max()) / qmax
        sh = amax(hs) / qmax
        sg = amax(gs) / qmax
        sw2 = float(np.abs(w2).max()) / qmax
        q = lambda s: t(*s[0], elem=f"!quant.uniform<i{bits}:f32, {s[1]!r}>")
        qx, qw1, qh = q(((ROWS, DIM), sx)), q(((DIM, HIDDEN), sw1)), q(((ROWS, HIDDEN), sh))
        qg, qw2 = q(((ROWS, HIDDEN), sg)), q(((HIDDEN, DIM), sw2))
        # The i32 biases in units of s_lhs * s_rhs (float32 scales, as the
        # quantized type holds them).
        b1q = np.round(b1.astype(np.float64) / (sx * sw1)).astype(np.int64)
        b2q = np.round(b2.astype(np.float64) / (sg * sw2)).astype(np.int64)
        with open(os.path.join(d, name + ".mlir"), "w") as f:
            f.write(f"""func.func @block(%x: {t(ROWS, DIM)}) -> {t(ROWS, DIM)} {{
  %w1 = arith.constant {dense_shaped(w1)} : {t(DIM, HIDDEN)}
  %b1 = arith.constant {dense_shaped(b1q)} : {t(HIDDEN, elem="i32")}
  %w2 = arith.constant {dense_shaped(w2)} : {t(HIDDEN, DIM)}
  %b2 = arith.constant {dense_shaped(b2q)} : {t(DIM, elem="i32")}
  %w1q = qlow.quantize %w1 : {t(DIM, HIDDEN)} -> {qw1}
  %w2q = qlow.quantize %w2 : {t(HIDDEN, DIM)} -> {qw2}
  %xq = qlow.quantize %x : {t(ROWS, DIM)} -> {qx}
  %h = qlow.matmul %xq, %w1q, %b1 : ({qx}, {qw1}, {t(HIDDEN, elem="i32")}) -> {qh} loc("fc1")
  %hd = qlow.dequantize %h : {qh} -> {t(ROWS, HIDDEN)}
  %g = qlow.gelu %hd : {t(ROWS, HIDDEN)} -> {t(ROWS, HIDDEN)} loc("act")
  %gq = qlow.quantize %g : {t(ROWS, HIDDEN)} -> {qg}
  %o = qlow.matmul %gq, %w2q, %b2 : ({qg}, {qw2}, {t(DIM, elem="i32")}) -> {t(ROWS, DIM)} loc("fc2")
  return %o : {t(ROWS, DIM)}
}}
""")
        if bits != 8:
            continue
        # The same quantization in QDQ form (float ops between dequantize and
        # quantize, float biases), for qlow-opt --qlow-fold-qdq.
        with open(os.path.join(d, "qdq.mlir"), "w") as f:
            f.write(f"""func.func @block(%x: {t(ROWS, DIM)}) -> {t(ROWS, DIM)} {{
  %w1 = arith.constant {dense_shaped(w1)} : {t(DIM, HIDDEN)}
  %b1 = arith.constant {dense_shaped(b1)} : {t(HIDDEN)}
  %w2 = arith.constant {dense_shaped(w2)} : {t(HIDDEN, DIM)}
  %b2 = arith.constant {dense_shaped(b2)} : {t(DIM)}
  %w1q = qlow.quantize %w1 : {t(DIM, HIDDEN)} -> {qw1}
  %w1d = qlow.dequantize %w1q : {qw1} -> {t(DIM, HIDDEN)}
  %w2q = qlow.quantize %w2 : {t(HIDDEN, DIM)} -> {qw2}
  %w2d = qlow.dequantize %w2q : {qw2} -> {t(HIDDEN, DIM)}
  %xq = qlow.quantize %x : {t(ROWS, DIM)} -> {qx}
  %xd = qlow.dequantize %xq : {qx} -> {t(ROWS, DIM)}
  %h = qlow.matmul %xd, %w1d, %b1 : ({t(ROWS, DIM)}, {t(DIM, HIDDEN)}, {t(HIDDEN)}) -> {t(ROWS, HIDDEN)} loc("fc1")
  %hq = qlow.quantize %h : {t(ROWS, HIDDEN)} -> {qh}
  %hd = qlow.dequantize %hq : {qh} -> {t(ROWS, HIDDEN)}
  %g = qlow.gelu %hd : {t(ROWS, HIDDEN)} -> {t(ROWS, HIDDEN)} loc("act")
  %gq = qlow.quantize %g : {t(ROWS, HIDDEN)} -> {qg}
  %gd = qlow.dequantize %gq : {qg} -> {t(ROWS, HIDDEN)}
  %o = qlow.matmul %gd, %w2d, %b2 : ({t(ROWS, HIDDEN)}, {t(HIDDEN, DIM)}, {t(DIM)}) -> {t(ROWS, DIM)} loc("fc2")
  return %o : {t(ROWS, DIM)}
}}
""")


def number(v):
    return float(v)


def read_reports(json_path, csv_path):
    with open(json_path) as f:
        report = json.load(f)
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    return report, rows


def check(json_path, csv_path):
    report, rows = read_reports(json_path, csv_path)
    assert report["format"] == "qlow-error-report" and report["version"] == 1, report
    assert report["function"] == "block" and report["batches"] == 2, report
    names = [r["name"] for r in report["layers"]]
    assert names == ["fc1", "act", "fc2"], names
    assert [r["name"] for r in report["results"]] == ["block.result0"]
    assert report["unmatched"]["float"] == ["block.arg0"], report["unmatched"]
    assert report["unmatched"]["quantized"] == [
        "block.quantize_2", "block.dequantize_0", "block.quantize_3"
    ], report["unmatched"]
    expect = {"fc1": [ROWS, HIDDEN], "act": [ROWS, HIDDEN], "fc2": [ROWS, DIM],
              "block.result0": [ROWS, DIM]}
    json_rows = [("layer", r) for r in report["layers"]] + [
        ("result", r) for r in report["results"]]
    assert len(rows) == len(json_rows), (rows, json_rows)
    for (kind, j), c in zip(json_rows, rows):
        assert c["kind"] == kind and c["name"] == j["name"], (c, j)
        assert j["shape"] == expect[j["name"]], j
        assert c["shape"] == "x".join(str(s) for s in j["shape"]), c
        assert j["elements"] == 2 * j["shape"][0] * j["shape"][1], j
        assert int(c["elements"]) == j["elements"]
        for key in ("sqnr_db", "cosine", "max_abs_error"):
            # The CSV and the JSON print the same shortest round-trip double.
            assert number(c[key]) == number(j[key]), (key, c, j)
        assert 0.9 < j["cosine"] <= 1.0 and j["max_abs_error"] > 0, j
        # SQNR and cosine are tied: for small errors 1 - cos ~ 1/(2 snr).
        snr = 10 ** (j["sqnr_db"] / 10)
        assert abs((1 - j["cosine"]) * 2 * snr - 1) < 0.5, j
    # The end-to-end row is the fc2 row (fc2 is the result).
    fc2 = report["layers"][2]
    res = report["results"][0]
    for key in ("sqnr_db", "cosine", "max_abs_error", "elements"):
        assert fc2[key] == res[key], (fc2, res)
    print("ok", {r["name"]: round(r["sqnr_db"], 2) for _, r in json_rows})


def self_check(json_path):
    with open(json_path) as f:
        report = json.load(f)
    assert report["unmatched"] == {"float": [], "quantized": []}, report
    rows = report["layers"] + report["results"]
    assert [r["name"] for r in rows] == [
        "block.arg0", "fc1", "act", "fc2", "block.result0"], rows
    for r in rows:
        assert r["sqnr_db"] == "inf" and r["cosine"] == 1 and r["max_abs_error"] == 0, r
    print("ok self")


def numpy_check(json_path, paths):
    with open(json_path) as f:
        row = json.load(f)["results"][0]
    ref = np.concatenate([np.load(p).astype(np.float64).ravel() for p in paths[0::2]])
    q = np.concatenate([np.load(p).astype(np.float64).ravel() for p in paths[1::2]])
    err = ref - q
    sqnr = 10 * math.log10(float(np.sum(ref * ref)) / float(np.sum(err * err)))
    cosine = float(np.sum(ref * q)) / math.sqrt(float(np.sum(ref * ref)) * float(np.sum(q * q)))
    # Summation order differs from the tool's (numpy sums pairwise): 1e-9.
    assert abs(row["sqnr_db"] - sqnr) < 1e-9 * abs(sqnr), (row, sqnr)
    assert abs(row["cosine"] - cosine) < 1e-12, (row, cosine)
    assert row["max_abs_error"] == float(np.abs(err).max()), row
    assert row["elements"] == ref.size, row
    print("ok numpy %.6f dB" % sqnr)


def lower(a_path, b_path):
    with open(a_path) as f:
        a = json.load(f)
    with open(b_path) as f:
        b = json.load(f)
    for ra, rb in zip(a["layers"] + a["results"], b["layers"] + b["results"]):
        print(ra["name"], "%.2f < %.2f" % (ra["sqnr_db"], rb["sqnr_db"]))
        assert ra["name"] == rb["name"]
        assert ra["sqnr_db"] < rb["sqnr_db"], (ra, rb)
        assert ra["cosine"] < rb["cosine"], (ra, rb)
        assert ra["max_abs_error"] > rb["max_abs_error"], (ra, rb)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2])
    elif cmd == "check":
        check(sys.argv[2], sys.argv[3])
    elif cmd == "self":
        self_check(sys.argv[2])
    elif cmd == "numpy":
        numpy_check(sys.argv[2], sys.argv[3:])
    elif cmd == "lower":
        lower(sys.argv[2], sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)
