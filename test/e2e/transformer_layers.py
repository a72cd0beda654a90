#!/usr/bin/env python3
"""Transformer layers in qlow IR: compiled execution against the reference.

    transformer_layers.py --work-dir /tmp/tl [--seed 0] [--d-model 64]
        [--encoder-seqs 1,7,16,33] [--prefill-seqs 5,16,37]
        [--decode-caches 9,36] [--num-threads 1,2] [--int8-attention 32]
        [--report]
    transformer_layers.py --emit encoder|decoder|decode --seq S -o layer.mlir

Builds, with fixed seeds, quantized transformer layers as qlow functions
(int8 matmuls: u8 activations per tensor, i8 weights per output channel;
float ops between them):

  * encoder_S, a BERT-style post-LN layer on x [S, Dm] with an additive
    padding mask [1, 1, 1, S]:
        h = LayerNorm(x + Wo(Attention(Wq x, Wk x, Wv x, mask)))
        y = LayerNorm(h + W2(GELU(W1 h)))
    (W1's result requantized to u8 with fixed-point rounding, then
    dequantized for the erf GELU);
  * decoder_prefill_S, a Llama-style pre-norm layer on x [S, Dm] with the
    rope tables of positions 0..S-1:
        a = x + Wo(Attention(rope(Wq n1), rope(Wk n1), Wv n1, causal)),
            n1 = RMSNorm(x), Hkv < H kv heads (grouped-query)
        y = a + Wd(SiLU(Wg n2) * (Wu n2)), n2 = RMSNorm(a)
  * decoder_decode_P: the same layer for one token at position P against a
    KV cache passed as arguments with room for it ([1, Hkv, P + 1, hd] each,
    positions 0..P-1 filled); the step's key and value are written at
    position P (tensor.insert_slice into the cache argument, which the
    compiled function updates in place: no copy of the cache) and attention
    is causal with S = 1, T = P + 1.

With --int8-attention KEY_BLOCK, attention is int8 (`{int8, key_block}`) on
q, k, v quantized per tensor, and the decode step's caches hold the stored
bytes of the quantized keys and values.

Each function is compiled with qlow-cpu-pipeline and run by qlow-run on each
thread count, and run with qlow-run --reference; the results must agree
within the tolerance below. Prints one line per function and thread count,
then "N passed, M failed".

Tolerance (check_result; qlow-bench layer checks the same): every value
within LOOSE * max |reference|, and at most max(1, rows / 16) rows (tokens)
with a value beyond TOLERANCE * max |reference|. The integer matmuls are
bit-exact; the float ops between them are not all (attention in f32 against
double, polynomial exp/erfc), and an activation that lands within that error
of a rounding boundary quantizes one step away, which the next matmul
carries to its outputs (one step times a weight row). After attention such a
flip stays in its token's row but grows there: the next normalization
spreads it over the row, whose next quantize flips more values, and the
SwiGLU product scales them. Measured (qlow-bench layer's decoder, S = 128,
D = 768): one f32 ulp of one attention output, 2.3e-9 from a rounding
boundary, flipped one u8 step and ended as 2^-7.7 * max |reference| in 140
values of its row, the rest of the layer bit for bit.
"""

import argparse
import math
import os
import shutil
import subprocess
import sys

import numpy as np

import random_matmul as rm

# Relative to max |reference| (2^-9 ~ 2e-3: one activation step through a
# matmul and a normalization); measured: see --report. LOOSE bounds a flip's
# cascade through a normalization and the next quantized matmul (measured:
# up to 2^-7.3), allowed in at most max(1, rows / 16) rows.
TOLERANCE = 2.0 ** -9
LOOSE = 2.0 ** -6


def check_result(ref, out):
    """(problem or None, max error / max |ref|, rows beyond TOLERANCE) by the
    tolerance model above."""
    if ref.shape != out.shape or not np.all(np.isfinite(out)):
        return f"result {out.shape}, reference {ref.shape}", math.inf, 0
    scale = max(float(np.abs(ref).max()), 1e-30)
    err = np.abs(out.astype(np.float64) - ref).reshape(-1, ref.shape[-1])
    rel = float(err.max()) / scale
    rows = int(np.sum(err.max(axis=1) > TOLERANCE * scale))
    allowed = max(1, err.shape[0] // 16)
    if rel > LOOSE or rows > allowed:
        return (f"max error {err.max():.3g} = {rel:.3g} * max |reference| "
                f"(allowed {LOOSE:.3g}); {rows} of {err.shape[0]} rows beyond "
                f"{TOLERANCE:.3g} * max |reference| (allowed {allowed})"), \
            rel, rows
    return None, rel, rows
F32 = np.float32


def fmt(x):
    text = repr(float(x))
    return text if ("e" in text or "." in text) else text + ".0"


def hex_dense(arr):
    a = np.ascontiguousarray(arr)
    return '"0x' + a.astype(a.dtype.newbyteorder("<")).tobytes().hex() \
        .upper() + '"'


def tensor(shape, elt):
    return "tensor<" + "".join(f"{d}x" for d in shape) + elt + ">"


def act_type(scale, zero_point):
    return f"!quant.uniform<u8:f32, {fmt(scale)}:{zero_point}>"


# Activation parameters (u8 per tensor), from the ranges the layers' values
# take with these weights (normalized inputs, weights ~ N(0, 1/K)):
# [lo, hi] -> scale (hi - lo) / 255, zero point round(-lo / scale).
RANGES = {"norm": (-5.0, 5.0), "attn": (-3.0, 3.0), "ffn": (-5.0, 5.0),
          "gelu": (-0.2, 5.0), "swiglu": (-4.0, 4.0)}


def act_params(name):
    lo, hi = RANGES[name]
    scale = float(F32((hi - lo) / 255.0))
    return scale, int(round(-lo / scale))


# With --int8-attention N, attention is qlow.attention {int8, key_block = N}
# on q, k (i8, symmetric over the "norm" range) and v (u8, the "norm"
# activation type) quantized per tensor; the decode step's caches hold the
# stored bytes (i8 tensors), into which the step writes its quantized key and
# value.
INT8_BLOCK = 0


def int8_types():
    qk = f"!quant.uniform<i8:f32, {fmt(F32(5.0 / 127.0))}>"
    return qk, qk, act_type(*act_params("norm"))


def attention_operands(em, q, k, v, qshape, kvshape):
    """q, k, v quantized for int8 attention: (values, types, attributes)."""
    f = [tensor(qshape, "f32"), tensor(kvshape, "f32"),
         tensor(kvshape, "f32")]
    if not INT8_BLOCK:
        return [q, k, v], f, []
    out, types = [], []
    for x, shape, qt in zip((q, k, v), (qshape, kvshape, kvshape),
                            int8_types()):
        y = em.name("q8")
        em.op(f"{y} = qlow.quantize {x} : {tensor(shape, 'f32')} -> "
              f"{tensor(shape, qt)}")
        out.append(y)
        types.append(tensor(shape, qt))
    return out, types, ["int8", f"key_block = {INT8_BLOCK} : i64"]


class Emitter:
    """Writes one function's body, line by line, with unique value names."""

    def __init__(self, rng):
        self.rng = rng
        self.lines = []
        self.count = 0

    def name(self, hint):
        self.count += 1
        return f"%{hint}{self.count}"

    def op(self, text):
        self.lines.append("  " + text)

    def weight(self, k, n):
        """An i8 weight [K, N], symmetric per output channel, as a
        quant.scast of a hex constant; returns (value, type)."""
        w = self.rng.standard_normal((k, n)) / math.sqrt(k)
        scales = [float(F32(max(abs(w[:, j]).max(), 1e-3) / 127.0))
                  for j in range(n)]
        q = np.clip(np.round(w / np.array(scales)), -127, 127).astype(np.int8)
        raw, val = self.name("wi"), self.name("w")
        qtype = ("!quant.uniform<i8:f32:1, {" +
                 ",".join(fmt(s) for s in scales) + "}>")
        self.op(f"{raw} = arith.constant dense<{hex_dense(q)}> : "
                f"{tensor((k, n), 'i8')}")
        self.op(f"{val} = quant.scast {raw} : {tensor((k, n), 'i8')} to "
                f"{tensor((k, n), qtype)}")
        return val, tensor((k, n), qtype), scales

    def bias(self, n, in_scale, w_scales):
        b = self.rng.standard_normal(n) * 0.1
        q = [int(round(b[j] / (in_scale * w_scales[j]))) for j in range(n)]
        val = self.name("b")
        self.op(f"{val} = arith.constant dense<[{', '.join(map(str, q))}]> : "
                f"{tensor((n,), 'i32')}")
        return val, tensor((n,), "i32")

    def vector(self, n, mean, std):
        v = (mean + std * self.rng.standard_normal(n)).astype(F32)
        val = self.name("g")
        self.op(f"{val} = arith.constant dense<[" +
                ", ".join(fmt(x) for x in v) + f"]> : {tensor((n,), 'f32')}")
        return val

    def quantize(self, x, shape, which):
        scale, zp = act_params(which)
        qt = tensor(shape, act_type(scale, zp))
        val = self.name("xq")
        self.op(f"{val} = qlow.quantize {x} : {tensor(shape, 'f32')} -> {qt}")
        return val, qt, scale

    def linear(self, x, rows, k, n, which, bias=True, result="f32"):
        """qlow.matmul of the quantized `x` [rows, k] by a fresh weight."""
        xq, xt, xs = self.quantize(x, (rows, k), which)
        w, wt, ws = self.weight(k, n)
        operands, types = f"{xq}, {w}", f"{xt}, {wt}"
        if bias:
            b, bt = self.bias(n, xs, ws)
            operands += f", {b}"
            types += f", {bt}"
        attrs = ""
        out = tensor((rows, n), "f32")
        if result != "f32":
            scale, zp = act_params(result)
            out = tensor((rows, n), act_type(scale, zp))
            attrs = " {rounding = #qlow.rounding<fixedpoint>}"
        val = self.name("y")
        self.op(f"{val} = qlow.matmul {operands}{attrs} : ({types}) -> {out}")
        return val

    def to_heads(self, x, s, heads, hd):
        """[S, heads * hd] -> [1, heads, S, hd]."""
        e, t, et = self.name("e"), self.name("t"), self.name("te")
        self.op(f"{e} = tensor.expand_shape {x} [[0, 1], [2, 3]] output_shape "
                f"[1, {s}, {heads}, {hd}] : {tensor((s, heads * hd), 'f32')} "
                f"into {tensor((1, s, heads, hd), 'f32')}")
        self.op(f"{et} = tensor.empty() : {tensor((1, heads, s, hd), 'f32')}")
        self.op(f"{t} = linalg.transpose ins({e} : "
                f"{tensor((1, s, heads, hd), 'f32')}) outs({et} : "
                f"{tensor((1, heads, s, hd), 'f32')}) permutation = "
                f"[0, 2, 1, 3]")
        return t

    def from_heads(self, x, s, heads, hd):
        """[1, heads, S, hd] -> [S, heads * hd]."""
        t, et, c = self.name("t"), self.name("te"), self.name("c")
        self.op(f"{et} = tensor.empty() : {tensor((1, s, heads, hd), 'f32')}")
        self.op(f"{t} = linalg.transpose ins({x} : "
                f"{tensor((1, heads, s, hd), 'f32')}) outs({et} : "
                f"{tensor((1, s, heads, hd), 'f32')}) permutation = "
                f"[0, 2, 1, 3]")
        self.op(f"{c} = tensor.collapse_shape {t} [[0, 1], [2, 3]] : "
                f"{tensor((1, s, heads, hd), 'f32')} into "
                f"{tensor((s, heads * hd), 'f32')}")
        return c

    def binary(self, op, a, b, shape):
        val = self.name(op)
        f = tensor(shape, "f32")
        self.op(f"{val} = qlow.{op} {a}, {b} : ({f}, {f}) -> {f}")
        return val


class Dims:
    def __init__(self, d_model, heads, kv_heads, ffn):
        self.d, self.h, self.hkv, self.f = d_model, heads, kv_heads, ffn
        self.hd = d_model // heads


def encoder(name, s, dims, seed):
    """BERT-style post-LN encoder layer with a padding mask."""
    em = Emitter(np.random.default_rng(seed))
    d, h, hd, f = dims.d, dims.h, dims.hd, dims.f
    x, mask = "%x", "%mask"
    sd = tensor((s, d), "f32")
    heads = tensor((1, h, s, hd), "f32")
    mtype = tensor((1, 1, 1, s), "f32")
    qkv = [em.to_heads(em.linear(x, s, d, d, "norm"), s, h, hd)
           for _ in range(3)]
    shape = (1, h, s, hd)
    ops, types, attrs = attention_operands(em, *qkv, shape, shape)
    attr = f" {{{', '.join(attrs)}}}" if attrs else ""
    attn = em.name("attn")
    em.op(f"{attn} = qlow.attention {', '.join(ops)}, {mask}{attr} : "
          f"({', '.join(types)}, {mtype}) -> {heads}")
    o = em.linear(em.from_heads(attn, s, h, hd), s, d, d, "attn")
    r1 = em.binary("add", x, o, (s, d))
    g1, b1 = em.vector(d, 1.0, 0.1), em.vector(d, 0.0, 0.1)
    h1 = em.name("ln")
    vd = tensor((d,), "f32")
    em.op(f"{h1} = qlow.layer_norm {r1}, {g1}, {b1} {{epsilon = 1.0e-05 : "
          f"f32}} : ({sd}, {vd}, {vd}) -> {sd}")
    up = em.linear(h1, s, d, f, "norm", result="ffn")
    scale, zp = act_params("ffn")
    upf, gelu = em.name("upf"), em.name("gelu")
    sf = tensor((s, f), "f32")
    em.op(f"{upf} = qlow.dequantize {up} : "
          f"{tensor((s, f), act_type(scale, zp))} -> {sf}")
    em.op(f"{gelu} = qlow.gelu {upf} : {sf} -> {sf}")
    down = em.linear(gelu, s, f, d, "gelu")
    r2 = em.binary("add", h1, down, (s, d))
    g2, b2 = em.vector(d, 1.0, 0.1), em.vector(d, 0.0, 0.1)
    y = em.name("ln")
    em.op(f"{y} = qlow.layer_norm {r2}, {g2}, {b2} {{epsilon = 1.0e-05 : "
          f"f32}} : ({sd}, {vd}, {vd}) -> {sd}")
    em.op(f"return {y} : {sd}")
    return (f"func.func @{name}(%x: {sd}, %mask: {mtype}) -> {sd} {{\n" +
            "\n".join(em.lines) + "\n}\n")


def decoder(name, s, dims, seed, cache=None):
    """Llama-style pre-norm decoder layer (rms_norm, rope, GQA causal
    attention, SwiGLU FFN, no biases). With `cache` = P, one step (s = 1)
    against a KV cache of P positions passed as arguments."""
    em = Emitter(np.random.default_rng(seed))
    d, h, hkv, hd, f = dims.d, dims.h, dims.hkv, dims.hd, dims.f
    sd = tensor((s, d), "f32")
    vd = tensor((d,), "f32")
    table = tensor((s, hd // 2), "f32")
    t = s + (cache or 0)

    def rms(x):
        g, y = em.vector(d, 1.0, 0.1), em.name("rms")
        em.op(f"{y} = qlow.rms_norm {x}, {g} {{epsilon = 1.0e-06 : f32}} : "
              f"({sd}, {vd}) -> {sd}")
        return y

    def rope(x, heads):
        y = em.name("rope")
        ty = tensor((1, heads, s, hd), "f32")
        em.op(f"{y} = qlow.rope {x}, %cos, %sin : ({ty}, {table}, {table}) "
              f"-> {ty}")
        return y

    n1 = rms("%x")
    q = rope(em.to_heads(em.linear(n1, s, d, h * hd, "norm", bias=False), s,
                         h, hd), h)
    k = rope(em.to_heads(em.linear(n1, s, d, hkv * hd, "norm", bias=False), s,
                         hkv, hd), hkv)
    v = em.to_heads(em.linear(n1, s, d, hkv * hd, "norm", bias=False), s, hkv,
                    hd)
    args = [f"%x: {sd}", f"%cos: {table}", f"%sin: {table}"]
    qt = tensor((1, h, s, hd), "f32")
    (q, k, v), types, attrs = attention_operands(em, q, k, v, (1, h, s, hd),
                                                 (1, hkv, s, hd))
    if cache is not None:
        # The caches have room for this step's position P: its key and value
        # are written there (in place: no copy of the cache), and attention
        # reads all P + 1 positions. With int8 attention the caches hold the
        # stored bytes of the quantized keys and values.
        elt = "i8" if INT8_BLOCK else "f32"
        full = tensor((1, hkv, t, hd), elt)
        # bufferization.writable = true: the step may write into the
        # caller's caches (qlow-read-only-arguments would copy them).
        writable = "{bufferization.writable = true}"
        args += [f"%kcache: {full} {writable}", f"%vcache: {full} {writable}"]
        step = tensor((1, hkv, s, hd), elt)
        kk, vv = em.name("kall"), em.name("vall")
        for i, (dst, src, cache_arg) in enumerate(
                ((kk, k, "%kcache"), (vv, v, "%vcache"))):
            if INT8_BLOCK:
                raw = em.name("raw")
                em.op(f"{raw} = quant.scast {src} : {types[1 + i]} to {step}")
                src = raw
            em.op(f"{dst} = tensor.insert_slice {src} into {cache_arg}"
                  f"[0, 0, {cache}, 0] [1, {hkv}, {s}, {hd}] [1, 1, 1, 1] : "
                  f"{step} into {full}")
            if INT8_BLOCK:
                quantized = types[1 + i].replace(f"x{s}x{hd}x", f"x{t}x{hd}x")
                typed = em.name("cache")
                em.op(f"{typed} = quant.scast {dst} : {full} to {quantized}")
                types[1 + i] = quantized
                dst = typed
            else:
                types[1 + i] = full
            if i == 0:
                kk = dst
            else:
                vv = dst
        k, v = kk, vv
    attn = em.name("attn")
    attr = ", ".join(["causal"] + attrs)
    em.op(f"{attn} = qlow.attention {q}, {k}, {v} {{{attr}}} : "
          f"({', '.join(types)}) -> {qt}")
    o = em.linear(em.from_heads(attn, s, h, hd), s, h * hd, d, "attn",
                  bias=False)
    a = em.binary("add", "%x", o, (s, d))
    n2 = rms(a)
    gate = em.linear(n2, s, d, f, "norm", bias=False)
    up = em.linear(n2, s, d, f, "norm", bias=False)
    sf = tensor((s, f), "f32")
    act = em.name("silu")
    em.op(f"{act} = qlow.silu {gate} : {sf} -> {sf}")
    prod = em.binary("mul", act, up, (s, f))
    down = em.linear(prod, s, f, d, "swiglu", bias=False)
    y = em.binary("add", a, down, (s, d))
    em.op(f"return {y} : {sd}")
    return (f"func.func @{name}({', '.join(args)}) -> {sd} {{\n" +
            "\n".join(em.lines) + "\n}\n")


def rope_tables(positions, hd):
    freq = 10000.0 ** (-np.arange(hd // 2) / (hd // 2))
    angle = np.asarray(positions, np.float64)[:, None] * freq[None, :]
    return np.cos(angle).astype(F32), np.sin(angle).astype(F32)


def layer_cases(args, dims):
    """[(name, mlir, inputs)] for the configured sequence lengths."""
    nprng = np.random.default_rng(args.seed + 1000)
    cases = []
    for s in args.encoder_seqs:
        name = f"encoder_{s}"
        x = nprng.standard_normal((s, dims.d)).astype(F32)
        mask = np.zeros((1, 1, 1, s), F32)
        mask[..., s - s // 4:] = -10000.0  # padding at the end
        cases.append((name, encoder(name, s, dims, args.seed), [x, mask]))
    for s in args.prefill_seqs:
        name = f"decoder_prefill_{s}"
        x = nprng.standard_normal((s, dims.d)).astype(F32)
        cos, sin = rope_tables(range(s), dims.hd)
        cases.append((name, decoder(name, s, dims, args.seed + 1),
                      [x, cos, sin]))
    for p in args.decode_caches:
        name = f"decoder_decode_{p}"
        x = nprng.standard_normal((1, dims.d)).astype(F32)
        cos, sin = rope_tables([p], dims.hd)
        shape = (1, dims.hkv, p + 1, dims.hd)
        if INT8_BLOCK:  # stored bytes of the quantized caches
            kc = nprng.integers(-60, 60, size=shape).astype(np.int8)
            vc = nprng.integers(-128, 127, size=shape).astype(np.int8)
            kc[:, :, p, :] = 127
            vc[:, :, p, :] = 127
        else:
            kc = nprng.standard_normal(shape).astype(F32)
            vc = nprng.standard_normal(shape).astype(F32)
            # Position P is the step's own slot: whatever it holds is
            # overwritten (a stale read of it would show up in the result).
            kc[:, :, p, :] = 1.0e4
            vc[:, :, p, :] = 1.0e4
        cases.append((name, decoder(name, 1, dims, args.seed + 1, cache=p),
                      [x, cos, sin, kc, vc]))
    return cases


def check_self_test():
    """check_result on synthetic results: what it must accept and reject.
    Prints one line per case and returns the number of wrong verdicts."""
    rng = np.random.default_rng(5)
    ref = rng.standard_normal((32, 48))
    scale = float(np.abs(ref).max())

    def with_error(rows, rel, values=None):
        out = ref.copy()
        for r in rows:
            cols = slice(None) if values is None else slice(0, values)
            out[r, cols] += rel * scale
        return out

    nan = ref.copy()
    nan[3, 4] = np.nan
    cases = [  # (name, result, accepted)
        ("exact", ref.copy(), True),
        ("2^-10 everywhere", with_error(range(32), 2.0 ** -10), True),
        ("flip cascade, 2^-7.5 in 2 of 32 rows", with_error([3, 17],
                                                            2.0 ** -7.5),
         True),
        ("2^-7.5 in 3 of 32 rows", with_error([3, 17, 30], 2.0 ** -7.5),
         False),
        ("2^-8 everywhere", with_error(range(32), 2.0 ** -8), False),
        ("2^-5 in one value", with_error([9], 2.0 ** -5, values=1), False),
        ("NaN", nan, False),
    ]
    wrong = 0
    for name, out, accepted in cases:
        problem = check_result(ref, out)[0]
        ok = (problem is None) == accepted
        wrong += not ok
        print(f"{'ok' if ok else 'WRONG'} {name}: "
              f"{'accepted' if problem is None else 'rejected'}")
    return wrong


def ints(text):
    return [int(v) for v in text.split(",") if v]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work-dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--kv-heads", type=int, default=2)
    parser.add_argument("--encoder-ffn", type=int, default=128)
    parser.add_argument("--decoder-ffn", type=int, default=96)
    parser.add_argument("--encoder-seqs", type=ints, default=[1, 7, 16, 33])
    parser.add_argument("--prefill-seqs", type=ints, default=[5, 16, 37])
    parser.add_argument("--decode-caches", type=ints, default=[9, 36])
    parser.add_argument("--num-threads", type=ints, default=[1, 2])
    parser.add_argument("--qlow-run", default=shutil.which("qlow-run"))
    parser.add_argument("--cpu", default="host")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--int8-attention", type=int, default=0,
                        metavar="KEY_BLOCK",
                        help="int8 attention with this key_block (0: f32)")
    parser.add_argument("--emit", choices=["encoder", "decoder", "decode"],
                        help="write one layer's MLIR (-o) and exit")
    parser.add_argument("--seq", type=int, default=128,
                        help="with --emit: S, or the cache length for decode")
    parser.add_argument("-o", "--output")
    parser.add_argument("--check-self-test", action="store_true",
                        help="run check_result on synthetic results and exit")
    args = parser.parse_args()
    if args.check_self_test:
        return 1 if check_self_test() else 0
    global INT8_BLOCK
    INT8_BLOCK = args.int8_attention

    if args.emit:
        ffn = args.encoder_ffn if args.emit == "encoder" else args.decoder_ffn
        kv = args.heads if args.emit == "encoder" else args.kv_heads
        dims = Dims(args.d_model, args.heads, kv, ffn)
        text = {"encoder": lambda: encoder("layer", args.seq, dims, args.seed),
                "decoder": lambda: decoder("layer", args.seq, dims, args.seed),
                "decode": lambda: decoder("layer", 1, dims, args.seed,
                                          cache=args.seq)}[args.emit]()
        with open(args.output, "w") as out:
            out.write(text)
        return 0

    if not args.work_dir or not args.qlow_run:
        parser.error("--work-dir and qlow-run (on PATH or --qlow-run) needed")
    rm.CPU = args.cpu
    work = args.work_dir
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "in"))
    enc = Dims(args.d_model, args.heads, args.heads, args.encoder_ffn)
    dec = Dims(args.d_model, args.heads, args.kv_heads, args.decoder_ffn)
    cases = [c for c in layer_cases(args, enc) if c[0].startswith("encoder")]
    cases += [c for c in layer_cases(args, dec)
              if c[0].startswith("decoder")]
    path = os.path.join(work, "layers.mlir")
    with open(path, "w") as f:
        f.write(f"// transformer_layers.py --seed {args.seed}\n")
        for name, text, inputs in cases:
            f.write(text + "\n")
            for i, array in enumerate(inputs):
                np.save(os.path.join(work, "in", f"{name}.{i}.npy"), array)
    names = [c[0] for c in cases]
    in_dir = os.path.join(work, "in")
    ref_dir = os.path.join(work, "ref")
    ref_errors = rm.run_mode(args.qlow_run, path, names, in_dir, ref_dir,
                             True, 2)
    passed = failed = 0
    for threads in args.num_threads:
        rm.THREADS = threads
        jit_dir = os.path.join(work, f"jit{threads}")
        jit_errors = rm.run_mode(args.qlow_run, path, names, in_dir, jit_dir,
                                 False, 2)
        for name in names:
            problem = ref_errors[name] or jit_errors[name]
            if not problem:
                ref = np.load(os.path.join(ref_dir, f"{name}.0.npy"))
                out = np.load(os.path.join(jit_dir, f"{name}.0.npy"))
                problem, rel, rows = check_result(ref, out)
                if not problem and args.report:
                    exact = float(np.mean(out == ref))
                    print(f"{name} threads={threads}: max error "
                          f"{rel:.3g} * max |reference|, "
                          f"{100 * exact:.1f}% of values identical, "
                          f"{rows} rows beyond {TOLERANCE:.3g}")
            if problem:
                failed += 1
                print(f"FAIL {name} threads={threads}: {problem}\n  "
                      f"reproduce: qlow-run [--reference] {path} --entry "
                      f"{name} --input-dir {in_dir} -o out.npy")
            else:
                passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
