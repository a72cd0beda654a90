#!/usr/bin/env python3
"""Synthetic QDQ and QAT graphs for qlow-fold-qdq, and a comparison of outputs.

    fold_qdq_graph.py generate --seed 0 --out-dir DIR
    fold_qdq_graph.py compare BEFORE_DIR AFTER_DIR [--scales DIR/scales.json]
                      [--exact NAME ...] [--max-steps NAME=N ...]
                      [--max-rel NAME=X ...]

`generate` writes, with constants and inputs drawn from numpy's generator
seeded with --seed:

  * exact.mlir, function @exact: every fold that lib/Reference computes
    bit-identically (gelu, silu, softmax, layer_norm, rms_norm, rope,
    attention, add and mul with float rounding, quantize(dequantize) to the
    same and to another type, embedding of a dequantized table), each fed by
    quantized inputs and followed by qlow.quantize;
  * block.mlir, function @block: a transformer MLP block in QDQ form as ONNX
    exports it: x -> linear (i8 per-channel weights, i32 bias dequantized with
    scale s_x * s_w) -> gelu -> linear (f32 constant bias, off the i32 grid)
    -> residual add -> layer_norm -> linear with an f32 result, and a linear
    with an f32 result and an f32 bias on the block's input; and @block_qat,
    the same block as a QAT graph: fake_quant around float weights and
    activations;
  * inputs/<function>.<i>.npy for qlow-run --input-dir, and scales.json (the
    scale of each f32 output that lies on a quantization grid, so that
    `compare` counts its differences in steps).

Activation scales are calibrated on the float model (numpy, float64) with the
same inputs, so that values use most of each storage range without
saturating everywhere.

`compare` reads the .npy outputs of two runs (qlow-run --output-dir before and
after qlow-opt --qlow-fold-qdq) and, for each output, prints how many elements
differ and the largest difference, in quantization steps (quantized outputs,
and f32 outputs listed in scales.json) or relative to the output's largest
magnitude (other f32 outputs). --exact NAME requires NAME to be bit-identical;
--max-steps NAME=N and --max-rel NAME=X bound the difference (NAME `*`: every
output without a bound of its own). Exits 1 when a bound fails or an output is
missing, 0 otherwise.
"""

import argparse
import json
import math
import os
import sys

import numpy as np


def fmt(x):
    """A double as MLIR parses it back exactly."""
    return repr(float(x))


# ===----------------------------------------------------------------------=== #
# Quantized types and constants
# ===----------------------------------------------------------------------=== #

class QType:
    """A uniform quantized type: per tensor (one scale) or per axis."""

    def __init__(self, storage, scales, zero_points, axis=None):
        self.storage = storage
        self.scales = [float(s) for s in np.atleast_1d(scales)]
        self.zero_points = [int(z) for z in np.atleast_1d(zero_points)]
        self.axis = axis
        self.qmin, self.qmax = {"u8": (0, 255), "i8": (-128, 127),
                                "i32": (-(1 << 31), (1 << 31) - 1)}[storage]

    def mlir(self):
        if self.axis is None:
            zp = self.zero_points[0]
            suffix = f":{zp}" if zp else ""
            return f"!quant.uniform<{self.storage}:f32, {fmt(self.scales[0])}{suffix}>"
        params = ", ".join(fmt(s) if z == 0 else f"{fmt(s)}:{z}"
                           for s, z in zip(self.scales, self.zero_points))
        return f"!quant.uniform<{self.storage}:f32:{self.axis}, {{{params}}}>"

    def broadcast(self, values, rank):
        """Per-element scale and zero point arrays for an array of rank `rank`."""
        s = np.array(self.scales, dtype=np.float64)
        z = np.array(self.zero_points, dtype=np.int64)
        if self.axis is not None:
            shape = [1] * rank
            shape[self.axis] = len(self.scales)
            s, z = s.reshape(shape), z.reshape(shape)
        return s, z

    def quantize(self, x):
        """ONNX QuantizeLinear in f32 (the op's semantics)."""
        x = np.asarray(x, dtype=np.float32)
        s, z = self.broadcast(x, x.ndim)
        q = np.rint(x / s.astype(np.float32)).astype(np.int64) + z
        return np.clip(q, self.qmin, self.qmax)

    def dequantize(self, q):
        s, z = self.broadcast(q, q.ndim)
        return ((q - z).astype(np.float32) * s.astype(np.float32)).astype(np.float32)


def asymmetric(lo, hi, storage="u8"):
    """Per-tensor parameters covering [lo, hi] (extended to include 0)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    qmin, qmax = (0, 255) if storage == "u8" else (-128, 127)
    scale = (hi - lo) / (qmax - qmin) if hi > lo else 1.0
    zp = int(np.clip(round(qmin - lo / scale), qmin, qmax))
    return QType(storage, scale, zp)


def symmetric(amax, storage="i8"):
    return QType(storage, max(float(amax), 1e-8) / 127.0, 0)


def per_channel(w, axis=1):
    """Symmetric i8 per output channel (axis 1 of [K, N])."""
    amax = np.max(np.abs(w), axis=0)
    return QType("i8", np.maximum(amax, 1e-8) / 127.0, [0] * w.shape[1], axis)


def dense(values, element):
    return f"dense<{json.dumps(np.asarray(values).tolist())}> : tensor<{shape_str(np.shape(values))}x{element}>"


def shape_str(shape):
    return "x".join(str(d) for d in shape)


def tensor(shape, element):
    return f"tensor<{shape_str(shape)}x{element}>"


def storage_constant(q, qtype):
    """Stored values as the signless integers of an arith.constant."""
    q = np.asarray(q, dtype=np.int64)
    if qtype.storage == "u8":
        return np.where(q > 127, q - 256, q), "i8"
    return q, {"i8": "i8", "i32": "i32"}[qtype.storage]


class Builder:
    """Emits the body of one function, one SSA value per line."""

    def __init__(self):
        self.lines = []
        self.count = 0

    def op(self, text):
        name = f"%v{self.count}"
        self.count += 1
        self.lines.append(f"  {name} = {text}")
        return name

    def quantize(self, x, shape, qtype):
        return self.op(f"qlow.quantize {x} : {tensor(shape, 'f32')} -> {tensor(shape, qtype.mlir())}")

    def dequantize(self, q, shape, qtype):
        return self.op(f"qlow.dequantize {q} : {tensor(shape, qtype.mlir())} -> {tensor(shape, 'f32')}")

    def qdq(self, x, shape, qtype):
        """quantize then dequantize: returns (quantized, f32)."""
        q = self.quantize(x, shape, qtype)
        return q, self.dequantize(q, shape, qtype)

    def fake_quant(self, x, shape, qtype):
        return self.op(f"qlow.fake_quant {x} as {qtype.mlir()} : {tensor(shape, 'f32')}")

    def f32_constant(self, values):
        values = np.asarray(values, dtype=np.float32)
        return self.op(f"arith.constant {dense(values, 'f32')}")

    def quant_constant(self, q, qtype):
        stored, element = storage_constant(q, qtype)
        c = self.op(f"arith.constant {dense(stored, element)}")
        shape = np.shape(q)
        return self.op(f"quant.scast {c} : {tensor(shape, element)} to {tensor(shape, qtype.mlir())}")


def function(name, args, results, builder):
    """A func.func with `args` [(name, shape, element)] returning `results`
    [(value, shape, element)]."""
    arg_list = ", ".join(f"{a}: {tensor(s, e)}" for a, s, e in args)
    result_types = ", ".join(tensor(s, e) for _, s, e in results)
    values = ", ".join(v for v, _, _ in results)
    body = "\n".join(builder.lines)
    return (f"func.func @{name}({arg_list}) -> ({result_types}) {{\n{body}\n"
            f"  return {values} : {result_types}\n}}\n")


# ===----------------------------------------------------------------------=== #
# Float model helpers (calibration only)
# ===----------------------------------------------------------------------=== #

def gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def calibrated(values, storage="u8"):
    return asymmetric(values.min(), values.max(), storage)


# ===----------------------------------------------------------------------=== #
# @exact: the folds that are bit-exact by definition or by exhaustive check
# ===----------------------------------------------------------------------=== #

def exact_graph(rng):
    M, D = 13, 40
    x = rng.standard_normal((M, D)).astype(np.float32)
    y = (0.5 * rng.standard_normal((M, D))).astype(np.float32)
    q4 = rng.standard_normal((1, 2, 5, 8)).astype(np.float32)
    ids = rng.integers(0, 20, size=(3, 4)).astype(np.int32)
    tx = calibrated(x, "u8")
    ty = symmetric(np.abs(y).max())
    t4 = calibrated(q4, "i8")
    b = Builder()
    results = []

    def out(value, shape, qtype):
        results.append((value, shape, qtype.mlir()))

    xq, xd = b.qdq("%x", (M, D), tx)
    yq, yd = b.qdq("%y", (M, D), ty)
    fx, fy = tx.dequantize(tx.quantize(x)), ty.dequantize(ty.quantize(y))

    s = b.op(f"qlow.add {xd}, {yd} : ({tensor((M, D), 'f32')}, {tensor((M, D), 'f32')}) -> {tensor((M, D), 'f32')}")
    ts = calibrated(fx + fy, "i8")
    out(b.quantize(s, (M, D), ts), (M, D), ts)
    p = b.op(f"qlow.mul {xd}, {yd} : ({tensor((M, D), 'f32')}, {tensor((M, D), 'f32')}) -> {tensor((M, D), 'f32')}")
    tp = calibrated(fx * fy, "i8")
    out(b.quantize(p, (M, D), tp), (M, D), tp)
    # Broadcasting: a [D] row of scales.
    r = (1.0 + 0.1 * rng.standard_normal(D)).astype(np.float32)
    tr = symmetric(np.abs(r).max())
    rd = b.dequantize(b.quant_constant(tr.quantize(r), tr), (D,), tr)
    p2 = b.op(f"qlow.mul {xd}, {rd} : ({tensor((M, D), 'f32')}, {tensor((D,), 'f32')}) -> {tensor((M, D), 'f32')}")
    tp2 = calibrated(fx * r, "u8")
    out(b.quantize(p2, (M, D), tp2), (M, D), tp2)

    g = b.op(f"qlow.gelu {xd} : {tensor((M, D), 'f32')} -> {tensor((M, D), 'f32')}")
    tg = calibrated(gelu(fx), "u8")
    out(b.quantize(g, (M, D), tg), (M, D), tg)
    si = b.op(f"qlow.silu {yd} {{}} : {tensor((M, D), 'f32')} -> {tensor((M, D), 'f32')}")
    tsi = calibrated(fy / (1 + np.exp(-fy)), "i8")
    out(b.quantize(si, (M, D), tsi), (M, D), tsi)
    sm = b.op(f"qlow.softmax {xd} {{axis = 1 : i64}} : {tensor((M, D), 'f32')} -> {tensor((M, D), 'f32')}")
    tsm = QType("u8", 1.0 / 256.0, 0)
    out(b.quantize(sm, (M, D), tsm), (M, D), tsm)

    gamma = (1.0 + 0.1 * rng.standard_normal(D)).astype(np.float32)
    beta = (0.1 * rng.standard_normal(D)).astype(np.float32)
    gc, bc = b.f32_constant(gamma), b.f32_constant(beta)
    ln = b.op(f"qlow.layer_norm {xd}, {gc}, {bc} : ({tensor((M, D), 'f32')}, {tensor((D,), 'f32')}, {tensor((D,), 'f32')}) -> {tensor((M, D), 'f32')}")
    tln = calibrated(layer_norm(fx, gamma, beta), "i8")
    out(b.quantize(ln, (M, D), tln), (M, D), tln)
    rn = b.op(f"qlow.rms_norm {yd}, {gc} {{epsilon = 1.0e-05 : f32}} : ({tensor((M, D), 'f32')}, {tensor((D,), 'f32')}) -> {tensor((M, D), 'f32')}")
    trn = symmetric(4.0)
    out(b.quantize(rn, (M, D), trn), (M, D), trn)

    angles = np.outer(np.arange(M), 1.0 / (100.0 ** (np.arange(D // 2) / (D // 2))))
    cos, sin = b.f32_constant(np.cos(angles)), b.f32_constant(np.sin(angles))
    ro = b.op(f"qlow.rope {xd}, {cos}, {sin} : ({tensor((M, D), 'f32')}, {tensor((M, D // 2), 'f32')}, {tensor((M, D // 2), 'f32')}) -> {tensor((M, D), 'f32')}")
    amax = float(np.abs(fx).max()) * 1.5
    tro = symmetric(amax)
    out(b.quantize(ro, (M, D), tro), (M, D), tro)

    s4 = (1, 2, 5, 8)
    qs = [b.qdq(f"%{n}", s4, t4)[1] for n in ("q", "k", "v")]
    at = b.op(f"qlow.attention {qs[0]}, {qs[1]}, {qs[2]} {{causal}} : ({tensor(s4, 'f32')}, {tensor(s4, 'f32')}, {tensor(s4, 'f32')}) -> {tensor(s4, 'f32')}")
    out(b.quantize(at, s4, t4), s4, t4)

    # quantize(dequantize(q)): the same type (the source) and another one.
    same = b.quantize(xd, (M, D), tx)
    out(same, (M, D), tx)
    other = QType("i8", tx.scales[0] * 1.37, -5)
    out(b.quantize(xd, (M, D), other), (M, D), other)
    per_axis = QType("u8", tx.scales[0] * np.linspace(0.8, 1.6, D), [100] * D, 1)
    out(b.quantize(xd, (M, D), per_axis), (M, D), per_axis)

    table = rng.standard_normal((20, 8)).astype(np.float32)
    tt = calibrated(table, "i8")
    td = b.dequantize(b.quant_constant(tt.quantize(table), tt), (20, 8), tt)
    e = b.op(f"qlow.embedding {td}, %ids : ({tensor((20, 8), 'f32')}, {tensor((3, 4), 'i32')}) -> {tensor((3, 4, 8), 'f32')}")
    te = QType("u8", tt.scales[0] * 0.9, 128)
    out(b.quantize(e, (3, 4, 8), te), (3, 4, 8), te)

    args = [("%x", (M, D), "f32"), ("%y", (M, D), "f32"), ("%q", s4, "f32"),
            ("%k", s4, "f32"), ("%v", s4, "f32"), ("%ids", (3, 4), "i32")]
    inputs = [x, y] + [rng.standard_normal(s4).astype(np.float32) for _ in range(3)] + [ids]
    return function("exact", args, results, b), inputs


# ===----------------------------------------------------------------------=== #
# @block and @block_qat: linear -> gelu -> linear -> residual -> layer_norm
# ===----------------------------------------------------------------------=== #

def block_graphs(rng):
    M, D, F = 13, 40, 72
    x = rng.standard_normal((M, D)).astype(np.float32)
    w1 = (rng.standard_normal((D, F)) / math.sqrt(D)).astype(np.float32)
    b1 = (0.1 * rng.standard_normal(F)).astype(np.float32)
    w2 = (rng.standard_normal((F, D)) / math.sqrt(F)).astype(np.float32)
    b2 = (0.1 * rng.standard_normal(D)).astype(np.float32)
    w3 = (rng.standard_normal((D, 24)) / math.sqrt(D)).astype(np.float32)
    w4 = (rng.standard_normal((D, 24)) / math.sqrt(D)).astype(np.float32)
    b4 = (0.1 * rng.standard_normal(24)).astype(np.float32)
    gamma = (1.0 + 0.1 * rng.standard_normal(D)).astype(np.float32)
    beta = (0.1 * rng.standard_normal(D)).astype(np.float32)

    # Calibration on the float model.
    tx = calibrated(x, "u8")
    tw1, tw2, tw3, tw4 = (per_channel(w) for w in (w1, w2, w3, w4))
    h1 = x @ w1 + b1
    t1 = calibrated(h1, "u8")
    g = gelu(h1)
    tg = calibrated(g, "u8")
    h2 = g @ w2 + b2
    t2 = calibrated(h2, "i8")
    r = x + h2
    tr = calibrated(r, "i8")
    ln = layer_norm(r, gamma, beta)
    tln = calibrated(ln, "i8")
    scales = {}

    def block(qat):
        b = Builder()
        results = []
        fq = b.fake_quant if qat else None

        def act(value, shape, qtype, name):
            """Quantizes an activation; returns the f32 value the next op reads."""
            if qat:
                v = fq(value, shape, qtype)
                results.append((v, shape, "f32"))
                scales[f"{name}"] = qtype.scales[0]
                return v
            q, d = b.qdq(value, shape, qtype)
            results.append((q, shape, qtype.mlir()))
            return d

        def weight(w, qtype):
            if qat:
                return fq(b.f32_constant(w), w.shape, qtype)
            return b.dequantize(b.quant_constant(qtype.quantize(w), qtype), w.shape, qtype)

        prefix = "block_qat" if qat else "block"
        xd = b.fake_quant("%x", (M, D), tx) if qat else b.qdq("%x", (M, D), tx)[1]
        # Linear 1: ONNX-style i32 bias in units of s_x * s_w1[n] (QDQ), or an
        # f32 bias (QAT).
        w1d = weight(w1, tw1)
        if qat:
            b1d = b.f32_constant(b1)
        else:
            bias_type = QType("i32", np.array(tw1.scales) * tx.scales[0], [0] * F, 0)
            b1q = np.rint(b1.astype(np.float64) / np.array(bias_type.scales)).astype(np.int64)
            b1d = b.dequantize(b.quant_constant(b1q, bias_type), (F,), bias_type)
        h1v = b.op(f"qlow.matmul {xd}, {w1d}, {b1d} : ({tensor((M, D), 'f32')}, {tensor((D, F), 'f32')}, {tensor((F,), 'f32')}) -> {tensor((M, F), 'f32')}")
        h1d = act(h1v, (M, F), t1, f"{prefix}.0.npy")
        gv = b.op(f"qlow.gelu {h1d} : {tensor((M, F), 'f32')} -> {tensor((M, F), 'f32')}")
        gd = act(gv, (M, F), tg, f"{prefix}.1.npy")
        # Linear 2: an f32 constant bias, off the i32 grid.
        w2d = weight(w2, tw2)
        b2c = b.f32_constant(b2)
        h2v = b.op(f"qlow.matmul {gd}, {w2d}, {b2c} : ({tensor((M, F), 'f32')}, {tensor((F, D), 'f32')}, {tensor((D,), 'f32')}) -> {tensor((M, D), 'f32')}")
        h2d = act(h2v, (M, D), t2, f"{prefix}.2.npy")
        rv = b.op(f"qlow.add {xd}, {h2d} : ({tensor((M, D), 'f32')}, {tensor((M, D), 'f32')}) -> {tensor((M, D), 'f32')}")
        rd = act(rv, (M, D), tr, f"{prefix}.3.npy")
        gc, bc = b.f32_constant(gamma), b.f32_constant(beta)
        lnv = b.op(f"qlow.layer_norm {rd}, {gc}, {bc} : ({tensor((M, D), 'f32')}, {tensor((D,), 'f32')}, {tensor((D,), 'f32')}) -> {tensor((M, D), 'f32')}")
        lnd = act(lnv, (M, D), tln, f"{prefix}.4.npy")
        # Linear 3: f32 result, no quantize after it.
        w3d = weight(w3, tw3)
        y = b.op(f"qlow.matmul {lnd}, {w3d} : ({tensor((M, D), 'f32')}, {tensor((D, 24), 'f32')}) -> {tensor((M, 24), 'f32')}")
        results.append((y, (M, 24), "f32"))
        # Linear 4: f32 result and an f32 bias, on the block's input.
        w4d = weight(w4, tw4)
        b4c = b.f32_constant(b4)
        y4 = b.op(f"qlow.matmul {xd}, {w4d}, {b4c} : ({tensor((M, D), 'f32')}, {tensor((D, 24), 'f32')}, {tensor((24,), 'f32')}) -> {tensor((M, 24), 'f32')}")
        results.append((y4, (M, 24), "f32"))
        return function(prefix, [("%x", (M, D), "f32")], results, b)

    text = block(False) + "\n" + block(True)
    return text, [x], scales


# ===----------------------------------------------------------------------=== #
# Commands
# ===----------------------------------------------------------------------=== #

def generate(args):
    rng = np.random.default_rng(args.seed)
    os.makedirs(os.path.join(args.out_dir, "inputs"), exist_ok=True)
    text, inputs = exact_graph(rng)
    with open(os.path.join(args.out_dir, "exact.mlir"), "w") as f:
        f.write(text)
    for i, a in enumerate(inputs):
        np.save(os.path.join(args.out_dir, "inputs", f"exact.{i}.npy"), a)
    text, inputs, scales = block_graphs(rng)
    with open(os.path.join(args.out_dir, "block.mlir"), "w") as f:
        f.write(text)
    for name in ("block", "block_qat"):
        for i, a in enumerate(inputs):
            np.save(os.path.join(args.out_dir, "inputs", f"{name}.{i}.npy"), a)
    with open(os.path.join(args.out_dir, "scales.json"), "w") as f:
        json.dump(scales, f, indent=1, sort_keys=True)
    return 0


def parse_bounds(items, convert):
    bounds = {}
    for item in items or []:
        name, _, value = item.partition("=")
        bounds[name] = convert(value)
    return bounds


def compare(args):
    scales = {}
    if args.scales:
        with open(args.scales) as f:
            scales = json.load(f)
    exact = set(args.exact or [])
    max_steps = parse_bounds(args.max_steps, int)
    max_rel = parse_bounds(args.max_rel, float)
    names = sorted(n for n in os.listdir(args.before) if n.endswith(".npy"))
    failed = 0
    for name in sorted((exact | set(max_steps) | set(max_rel)) - {"*"}):
        if name not in names:
            print(f"FAIL {name}: no such output")
            failed += 1
    for name in names:
        a = np.load(os.path.join(args.before, name))
        path = os.path.join(args.after, name)
        if not os.path.exists(path):
            print(f"FAIL {name}: missing after folding")
            failed += 1
            continue
        b = np.load(path)
        if a.dtype != b.dtype or a.shape != b.shape:
            print(f"FAIL {name}: {b.dtype}{b.shape} after folding, {a.dtype}{a.shape} before")
            failed += 1
            continue
        differ = int(np.count_nonzero(a != b))
        if np.issubdtype(a.dtype, np.integer) or name in scales:
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
            if name in scales:
                diff = np.rint(diff / scales[name])
            worst = float(diff.max()) if diff.size else 0.0
            measure = f"max {worst:g} steps"
            bound = max_steps.get(name, max_steps.get("*"))
            ok = bound is None or worst <= bound
        else:
            peak = float(np.abs(a).max()) or 1.0
            worst = float(np.abs(a.astype(np.float64) - b).max()) / peak
            measure = f"max relative {worst:.3g}"
            bound = max_rel.get(name, max_rel.get("*"))
            ok = bound is None or worst <= bound
        ok = ok and (name not in exact or differ == 0)
        print(f"{'ok' if ok else 'FAIL'} {name}: {differ} of {a.size} differ, {measure}")
        failed += 0 if ok else 1
    print(f"{len(names) - failed} of {len(names)} outputs within bounds" if not failed
          else f"{failed} failed")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out-dir", required=True)
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    c.add_argument("--scales")
    c.add_argument("--exact", action="append")
    c.add_argument("--max-steps", action="append")
    c.add_argument("--max-rel", action="append")
    args = parser.parse_args()
    return generate(args) if args.command == "generate" else compare(args)


if __name__ == "__main__":
    sys.exit(main())
