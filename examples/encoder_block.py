#!/usr/bin/env python3
"""Generates a small quantized transformer encoder block as qlow MLIR.

    python3 examples/encoder_block.py [--seed 0] [--out-dir examples/generated]

Steps:
  1. float weights (numpy, seeded): Wq, Wk, Wv, Wo [D, D], W1 [D, F], W2 [F, D]
     in [K, N] layout (y = x @ W + b), biases, layer-norm gammas and betas;
  2. the float block run on seeded calibration inputs gives activation ranges;
     activations are u8 asymmetric per tensor, weights i8 symmetric per output
     channel, biases i32 in units of s_act * s_w[n];
  3. encoder_block.mlir: func.func @encoder_block(%x: tensor<SxDxf32>) ->
     tensor<SxDxf32> in the qlow dialect (validated with qlow-opt when found);
  4. x.npy (a sample input, drawn like the calibration inputs with another
     seed), expected_float.npy (the float block on it), encoder_block.json
     (shapes, seeds, scales and zero points);
  5. a numpy emulation of the quantized graph, following the semantics in
     dialects/Qlow/IR/QlowOps.td (integer accumulators, fixed-point
     requantization, f32 epilogues), written to expected_quant_emulated.npy;
     its SQNR against the float output is printed.

The block is post-LN (BERT style):
    h1 = LayerNorm(x + Attention(x) Wo + bo);  y = LayerNorm(h1 + FFN(h1))
with FFN(h) = GELU(h W1 + b1) W2 + b2 (erf GELU).
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import cosine, sqnr_db  # noqa: E402

F32 = np.float32
EPS = 1e-5
U8 = (0, 255)
I8_SYM = (-127, 127)
I32 = (-(2**31), 2**31 - 1)


# ----------------------------------------------------------------------------
# Float model
# ----------------------------------------------------------------------------

def make_params(rng, d, f):
    """Float weights. Matrices are [K, N]: y = x @ W + b."""
    def mat(k, n):
        return (rng.standard_normal((k, n)) / math.sqrt(k)).astype(F32)

    def vec(n, std, mean=0.0):
        return (mean + std * rng.standard_normal(n)).astype(F32)

    p = {}
    for name in ("wq", "wk", "wv", "wo"):
        p[name] = mat(d, d)
    p["w1"] = mat(d, f)
    p["w2"] = mat(f, d)
    for name, n in (("bq", d), ("bk", d), ("bv", d), ("bo", d), ("b1", f),
                    ("b2", d)):
        p[name] = vec(n, 0.05)
    p["ln1_gamma"] = vec(d, 0.1, 1.0)
    p["ln1_beta"] = vec(d, 0.05)
    p["ln2_gamma"] = vec(d, 0.1, 1.0)
    p["ln2_beta"] = vec(d, 0.05)
    return p


def make_inputs(rng, count, s, d):
    """Inputs drawn like hidden states: standard normal, float32."""
    return [rng.standard_normal((s, d)).astype(F32) for _ in range(count)]


def erf(x):
    """Elementwise erf in float64 (numpy has none; scipy is not required)."""
    return np.frompyfunc(math.erf, 1, 1)(np.asarray(x, np.float64)).astype(
        np.float64)


def gelu_f32(x):
    x64 = x.astype(np.float64)
    return (0.5 * x64 * (1.0 + erf(x64 / math.sqrt(2.0)))).astype(F32)


def layer_norm_f32(x, gamma, beta, eps=EPS):
    mean = x.mean(axis=-1, keepdims=True, dtype=F32)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True, dtype=F32)
    return ((x - mean) / np.sqrt(var + F32(eps)) * gamma + beta).astype(F32)


def softmax_f32(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(F32)


def attention_f32(q, k, v, heads):
    """q, k, v [S, D] -> [S, D]; heads split the last dimension."""
    s, d = q.shape
    hd = d // heads

    def split(t):  # [S, D] -> [H, S, hd] (expand_shape + transpose 0,2,1,3)
        return t.reshape(s, heads, hd).transpose(1, 0, 2)

    qh, kh, vh = split(q), split(k), split(v)
    scores = (qh @ kh.transpose(0, 2, 1)) * F32(1.0 / math.sqrt(hd))
    out = softmax_f32(scores.astype(F32)) @ vh
    return out.transpose(1, 0, 2).reshape(s, d).astype(F32)


def float_block(x, p, heads):
    """The float32 encoder block. Returns (y, taps) where taps holds the
    tensors that the quantized graph quantizes (for calibration)."""
    taps = {"x": x}
    q = x @ p["wq"] + p["bq"]
    k = x @ p["wk"] + p["bk"]
    v = x @ p["wv"] + p["bv"]
    a = attention_f32(q, k, v, heads)
    taps["attn"] = a
    o = a @ p["wo"] + p["bo"]
    h1 = layer_norm_f32(x + o, p["ln1_gamma"], p["ln1_beta"])
    taps["ln1"] = h1
    f = h1 @ p["w1"] + p["b1"]
    taps["ffn_up"] = f
    g = gelu_f32(f)
    taps["gelu"] = g
    d = g @ p["w2"] + p["b2"]
    y = layer_norm_f32(h1 + d, p["ln2_gamma"], p["ln2_beta"])
    return y.astype(F32), taps


# ----------------------------------------------------------------------------
# Quantization parameters
# ----------------------------------------------------------------------------

def act_params(lo, hi):
    """u8 asymmetric per tensor: range extended to include 0,
    scale = (max - min) / 255 (as an f32 value), zp = round(-min / scale)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = float(F32((hi - lo) / 255.0))
    if scale == 0.0:
        scale = 1.0
    zp = int(np.clip(round(-lo / scale), *U8))
    return scale, zp


def weight_params(w):
    """i8 symmetric per output channel (axis 1 of [K, N]): scale_n =
    max|W[:, n]| / 127 (an f32 value), zero point 0, values in [-127, 127]."""
    amax = np.abs(w.astype(np.float64)).max(axis=0)
    scales = (amax / 127.0).astype(F32)
    scales[scales == 0] = F32(1.0)
    q = np.clip(np.rint(w.astype(F32) / scales), *I8_SYM).astype(np.int8)
    return [float(s) for s in scales], q


def bias_params(b, s_act, s_w):
    """i32 bias in units of s_act * s_w[n] (zero point 0)."""
    units = s_act * np.asarray(s_w, np.float64)
    q = np.rint(b.astype(np.float64) / units)
    if q.min() < I32[0] or q.max() > I32[1]:
        raise ValueError("bias does not fit in i32")
    return q.astype(np.int32)


# ----------------------------------------------------------------------------
# Emulation of the qlow integer semantics (QlowOps.td)
# ----------------------------------------------------------------------------

def quantize(x, scale, zp, lo=U8[0], hi=U8[1]):
    """q = saturate(round_half_to_even(x / s) + z); the division in f32,
    NaN -> z."""
    x = np.asarray(x, F32)
    t = np.rint(x / F32(scale)).astype(np.float64) + zp
    t = np.where(np.isnan(t), zp, t)
    return np.clip(t, lo, hi).astype(np.int64)


def dequantize(q, scale, zp):
    """x = f32(q - z) * f32(s)."""
    return (np.asarray(q, np.int64) - zp).astype(F32) * F32(scale)


def quantize_multiplier(m):
    """TFLite QuantizeMultiplier: m (double) -> (int32 multiplier, shift)."""
    if m == 0.0:
        return 0, 0
    frac, shift = math.frexp(m)
    q = int(math.floor(frac * (1 << 31) + 0.5))  # std::round, frac > 0
    if q == (1 << 31):
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q, shift


def _srdhm(a, b):
    """SaturatingRoundingDoublingHighMul on int64 arrays holding int32s."""
    a = np.asarray(a, np.int64)
    overflow = (a == I32[0]) & (b == I32[0])
    ab = a * np.int64(b)
    nudge = np.where(ab >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    s = ab + nudge
    r = np.where(s >= 0, s // (1 << 31), -((-s) // (1 << 31)))  # truncating
    return np.where(overflow, I32[1], r)


def _rounding_divide_by_pot(x, exponent):
    if exponent == 0:
        return x
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int64)
    return (x >> exponent) + (remainder > threshold).astype(np.int64)


def mbqm(x, m):
    """MultiplyByQuantizedMultiplier(x, M) with M given as a double."""
    qm, shift = quantize_multiplier(m)
    left, right = max(shift, 0), max(-shift, 0)
    x = np.asarray(x, np.int64) * (1 << left)
    if np.any(x < I32[0]) or np.any(x > I32[1]):
        raise OverflowError("MBQM input leaves the i32 range")
    return _rounding_divide_by_pot(_srdhm(x, qm), right)


def matmul_acc(q_lhs, z_lhs, q_w, bias):
    """acc + bias, exact; the i32 range is checked as the op requires."""
    acc = (np.asarray(q_lhs, np.int64) - z_lhs) @ np.asarray(q_w, np.int64)
    if acc.min() < I32[0] or acc.max() > I32[1]:
        raise OverflowError("matmul accumulator leaves the i32 range")
    return acc + bias.astype(np.int64)


def matmul_f32(q_lhs, s_lhs, z_lhs, q_w, s_w, bias):
    """f32 result: f32(acc + bias) * f32(s_lhs * s_rhs[n])."""
    acc = matmul_acc(q_lhs, z_lhs, q_w, bias)
    units = (s_lhs * np.asarray(s_w, np.float64)).astype(F32)
    return acc.astype(F32) * units


def matmul_requant_fixedpoint(q_lhs, s_lhs, z_lhs, q_w, s_w, bias, s_out,
                              z_out, lo=U8[0], hi=U8[1]):
    """Quantized per-tensor result with rounding = fixedpoint:
    saturate(zo + MBQM(acc + bias, s_lhs * s_rhs[n] / so))."""
    acc = matmul_acc(q_lhs, z_lhs, q_w, bias)
    out = np.empty_like(acc)
    for n, sw in enumerate(s_w):
        out[:, n] = mbqm(acc[:, n], s_lhs * sw / s_out)
    return np.clip(out + z_out, lo, hi)


def attention_ref(q, k, v, heads):
    """qlow.attention as the reference computes float ops: in double,
    rounded to f32 at the end (default scale 1/sqrt(D), no mask)."""
    s, d = q.shape
    hd = d // heads

    def split(t):
        return t.astype(np.float64).reshape(s, heads, hd).transpose(1, 0, 2)

    qh, kh, vh = split(q), split(k), split(v)
    scores = (qh @ kh.transpose(0, 2, 1)) * float(F32(1.0 / math.sqrt(hd)))
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return (p @ vh).transpose(1, 0, 2).reshape(s, d).astype(F32)


def layer_norm_ref(x, gamma, beta, eps=EPS):
    x = x.astype(np.float64)
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    y = (x - mean) / np.sqrt(var + float(F32(eps)))
    return (y * gamma.astype(np.float64) + beta.astype(np.float64)).astype(F32)


def emulate_quantized(x, qp, heads):
    """The graph in encoder_block.mlir, op by op."""
    a, w, b = qp["act"], qp["weights"], qp["bias"]

    def act(name):
        return a[name]["scale"], a[name]["zero_point"]

    sx, zx = act("x")
    xq = quantize(x, sx, zx)
    proj = {}
    for name in ("q", "k", "v"):
        proj[name] = matmul_f32(xq, sx, zx, w["w" + name]["q"],
                                w["w" + name]["scales"], b["b" + name])
    attn = attention_ref(proj["q"], proj["k"], proj["v"], heads)
    sa, za = act("attn")
    aq = quantize(attn, sa, za)
    o = matmul_f32(aq, sa, za, w["wo"]["q"], w["wo"]["scales"], b["bo"])
    r1 = (x + o).astype(F32)
    h1 = layer_norm_ref(r1, qp["ln1_gamma"], qp["ln1_beta"])
    sh, zh = act("ln1")
    hq = quantize(h1, sh, zh)
    sf, zf = act("ffn_up")
    fq = matmul_requant_fixedpoint(hq, sh, zh, w["w1"]["q"], w["w1"]["scales"],
                                   b["b1"], sf, zf)
    fd = dequantize(fq, sf, zf)
    g = gelu_f32(fd)
    sg, zg = act("gelu")
    gq = quantize(g, sg, zg)
    d = matmul_f32(gq, sg, zg, w["w2"]["q"], w["w2"]["scales"], b["b2"])
    r2 = (h1 + d).astype(F32)
    return layer_norm_ref(r2, qp["ln2_gamma"], qp["ln2_beta"])


# ----------------------------------------------------------------------------
# MLIR emission
# ----------------------------------------------------------------------------

def fnum(v):
    """A float as text that parses back to the same f32 value."""
    return "%.9g" % float(F32(v))


def fscale(s):
    """A scale (an f32 value) printed exactly as a double (repr is the
    shortest round-trip form), so that s_lhs * s_rhs in double is the same in
    every consumer."""
    r = repr(float(s))
    return r if ("e" in r or "." in r) else r + ".0"


def hex_dense(arr):
    """DenseElementsAttr hex form: "0x" + little-endian raw bytes, row-major."""
    a = np.ascontiguousarray(arr)
    a = a.astype(a.dtype.newbyteorder("<"), copy=False)
    return '"0x' + a.tobytes().hex().upper() + '"'


def float_list(v):
    return "[" + ", ".join(fnum(t) for t in v) + "]"


def int_list(v):
    return "[" + ", ".join(str(int(t)) for t in v) + "]"


class Emitter:
    def __init__(self, inline_types):
        self.inline = inline_types
        self.aliases = []  # (name, definition)
        self.lines = []

    def qtype(self, alias, definition):
        if self.inline:
            return definition
        self.aliases.append((alias, definition))
        return alias

    def op(self, text):
        self.lines.append("  " + text)

    def comment(self, text):
        self.lines.append("  // " + text)


def act_type(s, z):
    return f"!quant.uniform<u8:f32, {fscale(s)}:{z}>"


def weight_type(scales):
    return ("!quant.uniform<i8:f32:1, {"
            + ",".join(fscale(s) for s in scales) + "}>")


def emit_mlir(qp, dims, inline_types=False, header=()):
    S, D, H, F = dims["seq"], dims["d_model"], dims["heads"], dims["d_ff"]
    HD = D // H
    em = Emitter(inline_types)
    a = qp["act"]
    ta = {n: em.qtype(f"!q_{n}", act_type(a[n]["scale"], a[n]["zero_point"]))
          for n in ("x", "attn", "ln1", "ffn_up", "gelu")}
    tw = {n: em.qtype(f"!q_{n}", weight_type(qp["weights"][n]["scales"]))
          for n in ("wq", "wk", "wv", "wo", "w1", "w2")}

    def t(shape, elt):
        return "tensor<" + "x".join(str(d) for d in shape) + "x" + elt + ">"

    f_sd, f_sf = t((S, D), "f32"), t((S, F), "f32")
    f_4 = t((1, S, H, HD), "f32")
    f_4t = t((1, H, S, HD), "f32")
    f_d = t((D,), "f32")

    def weight(name, k, n, comment):
        wt = qp["weights"][name]
        em.comment(comment)
        em.op(f"%{name}_i8 = arith.constant dense<{hex_dense(wt['q'])}> : "
              f"{t((k, n), 'i8')}")
        em.op(f"%{name} = quant.scast %{name}_i8 : {t((k, n), 'i8')} to "
              f"{t((k, n), tw[name])}")
        return t((k, n), tw[name])

    def bias(name, n):
        em.op(f"%{name} = arith.constant dense<{int_list(qp['bias'][name])}> "
              f": {t((n,), 'i32')}")
        return t((n,), "i32")

    def gamma_beta(prefix):
        em.op(f"%{prefix}_gamma = arith.constant "
              f"dense<{float_list(qp[prefix + '_gamma'])}> : {f_d}")
        em.op(f"%{prefix}_beta = arith.constant "
              f"dense<{float_list(qp[prefix + '_beta'])}> : {f_d}")

    eps = "1.0e-05 : f32"
    x_q = t((S, D), ta["x"])
    em.comment(f"activations: u8 per tensor; x scale {fscale(a['x']['scale'])}"
               f", zero point {a['x']['zero_point']}")
    em.op(f"%xq = qlow.quantize %x : {f_sd} -> {x_q}")

    # Q, K, V projections (f32 results: dequantized accumulators).
    for n in ("q", "k", "v"):
        wty = weight("w" + n, D, D,
                     f"{n.upper()} projection: i8 weights per output channel, "
                     f"i32 bias in units of s_x * s_w{n}[n]")
        bty = bias("b" + n, D)
        em.op(f"%{n} = qlow.matmul %xq, %w{n}, %b{n} : ({x_q}, {wty}, {bty}) "
              f"-> {f_sd}")
    em.comment(f"split {H} heads of {HD}: [S, D] -> [1, S, H, hd] -> "
               "[1, H, S, hd]")
    for n in ("q", "k", "v"):
        em.op(f"%{n}4 = tensor.expand_shape %{n} [[0, 1], [2, 3]] "
              f"output_shape [1, {S}, {H}, {HD}] : {f_sd} into {f_4}")
        em.op(f"%{n}e = tensor.empty() : {f_4t}")
        em.op(f"%{n}t = linalg.transpose ins(%{n}4 : {f_4}) outs(%{n}e : "
              f"{f_4t}) permutation = [0, 2, 1, 3]")
    em.comment("multi-head attention, non-causal, default scale 1/sqrt(hd)")
    em.op(f"%attn = qlow.attention %qt, %kt, %vt : ({f_4t}, {f_4t}, {f_4t}) "
          f"-> {f_4t}")
    em.op(f"%attn_e = tensor.empty() : {f_4}")
    em.op(f"%attn_t = linalg.transpose ins(%attn : {f_4t}) outs(%attn_e : "
          f"{f_4}) permutation = [0, 2, 1, 3]")
    em.op(f"%attn2 = tensor.collapse_shape %attn_t [[0, 1], [2, 3]] : {f_4} "
          f"into {f_sd}")
    attn_q = t((S, D), ta["attn"])
    em.op(f"%attn_q = qlow.quantize %attn2 : {f_sd} -> {attn_q}")
    wty = weight("wo", D, D, "output projection")
    bty = bias("bo", D)
    em.op(f"%o = qlow.matmul %attn_q, %wo, %bo : ({attn_q}, {wty}, {bty}) -> "
          f"{f_sd}")
    em.comment("residual and layer norm (f32)")
    em.op(f"%r1 = qlow.add %x, %o : ({f_sd}, {f_sd}) -> {f_sd}")
    gamma_beta("ln1")
    em.op(f"%h1 = qlow.layer_norm %r1, %ln1_gamma, %ln1_beta {{epsilon = {eps}}}"
          f" : ({f_sd}, {f_d}, {f_d}) -> {f_sd}")
    h1_q = t((S, D), ta["ln1"])
    em.op(f"%h1_q = qlow.quantize %h1 : {f_sd} -> {h1_q}")
    wty = weight("w1", D, F, "FFN up-projection, requantized to u8 in the "
                 "matmul epilogue (fixed point)")
    bty = bias("b1", F)
    f_q = t((S, F), ta["ffn_up"])
    em.op(f"%f_q = qlow.matmul %h1_q, %w1, %b1 {{rounding = "
          f"#qlow.rounding<fixedpoint>}} : ({h1_q}, {wty}, {bty}) -> {f_q}")
    em.op(f"%f = qlow.dequantize %f_q : {f_q} -> {f_sf}")
    em.op(f"%g = qlow.gelu %f {{approximate = #qlow.gelu_approximation<none>}}"
          f" : {f_sf} -> {f_sf}")
    g_q = t((S, F), ta["gelu"])
    em.op(f"%g_q = qlow.quantize %g : {f_sf} -> {g_q}")
    wty = weight("w2", F, D, "FFN down-projection")
    bty = bias("b2", D)
    em.op(f"%d = qlow.matmul %g_q, %w2, %b2 : ({g_q}, {wty}, {bty}) -> {f_sd}")
    em.comment("residual and layer norm (f32)")
    em.op(f"%r2 = qlow.add %h1, %d : ({f_sd}, {f_sd}) -> {f_sd}")
    gamma_beta("ln2")
    em.op(f"%y = qlow.layer_norm %r2, %ln2_gamma, %ln2_beta {{epsilon = {eps}}}"
          f" : ({f_sd}, {f_d}, {f_d}) -> {f_sd}")
    em.op(f"return %y : {f_sd}")

    out = ["// " + h for h in header]
    if em.aliases:
        out.append("")
        out += [f"{n} = {d}" for n, d in em.aliases]
    out.append("")
    out.append(f"func.func @encoder_block(%x: {f_sd}) -> {f_sd} {{")
    out += em.lines
    out.append("}")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------
# Validation with qlow-opt
# ----------------------------------------------------------------------------

def find_qlow_opt(explicit):
    if explicit:
        return explicit
    if os.environ.get("QLOW_OPT"):
        return os.environ["QLOW_OPT"]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for cand in (os.path.join(repo, "build", "bin", "qlow-opt"),
                 os.path.join(os.path.dirname(repo), "build", "bin",
                              "qlow-opt"),
                 shutil.which("qlow-opt")):
        if cand and os.path.exists(cand):
            return cand
    return None


def validate(qlow_opt, path, retries=5):
    """Runs qlow-opt (parse + verify) and qlow-opt --canonicalize on path.
    Retries while the binary is missing (it may be in the middle of a
    rebuild). Returns True on success."""
    ok = True
    for extra in ([], ["--canonicalize"]):
        cmd = [qlow_opt] + extra + [path, "-o", os.devnull]
        for attempt in range(retries):
            if os.path.exists(qlow_opt):
                break
            time.sleep(2.0 * (attempt + 1))
        try:
            res = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as err:
            print(f"validate: cannot run {qlow_opt}: {err}", file=sys.stderr)
            return False
        status = "ok" if res.returncode == 0 else f"FAILED (rc {res.returncode})"
        print(f"validate: {' '.join(cmd)}: {status}")
        if res.returncode != 0:
            sys.stderr.write(res.stderr[-4000:])
            ok = False
    return ok


# ----------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------

def _finite(v):
    """JSON has no inf/nan: those become null."""
    return v if math.isfinite(v) else None


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0,
                    help="weights use SEED, calibration inputs SEED+1, the "
                    "sample input SEED+2 (default 0)")
    ap.add_argument("--out-dir", default=os.path.join(here, "generated"),
                    help="output folder (default examples/generated)")
    ap.add_argument("--seq", type=int, default=16, help="tokens S (16)")
    ap.add_argument("--d-model", type=int, default=64, help="model dim (64)")
    ap.add_argument("--heads", type=int, default=4, help="heads (4)")
    ap.add_argument("--d-ff", type=int, default=128, help="FFN dim (128)")
    ap.add_argument("--calib-samples", type=int, default=8,
                    help="calibration inputs (8)")
    ap.add_argument("--inline-types", action="store_true",
                    help="spell quantized types out at every use instead of "
                    "declaring !q_* type aliases at the top")
    ap.add_argument("--qlow-opt", default=None,
                    help="qlow-opt to validate with (default: $QLOW_OPT, "
                    "build/bin/qlow-opt, ../build/bin/qlow-opt, PATH)")
    ap.add_argument("--no-validate", action="store_true",
                    help="do not run qlow-opt on the result")
    args = ap.parse_args(argv)

    S, D, H, F = args.seq, args.d_model, args.heads, args.d_ff
    if min(S, D, H, F, args.calib_samples) < 1 or D % H:
        ap.error("sizes must be positive and --d-model divisible by --heads")
    dims = {"seq": S, "d_model": D, "heads": H, "head_dim": D // H, "d_ff": F}
    seeds = {"weights": args.seed, "calibration": args.seed + 1,
             "sample": args.seed + 2}

    # 1. Float weights.
    p = make_params(np.random.default_rng(seeds["weights"]), D, F)

    # 2. Calibration: min/max of each quantized activation over all inputs.
    calib = make_inputs(np.random.default_rng(seeds["calibration"]),
                        args.calib_samples, S, D)
    ranges = {}
    for xc in calib:
        _, taps = float_block(xc, p, H)
        for name, v in taps.items():
            lo, hi = float(v.min()), float(v.max())
            if name in ranges:
                lo, hi = min(lo, ranges[name][0]), max(hi, ranges[name][1])
            ranges[name] = (lo, hi)
    qp = {"act": {}, "weights": {}, "bias": {}}
    for name in ("x", "attn", "ln1", "ffn_up", "gelu"):
        s, z = act_params(*ranges[name])
        qp["act"][name] = {"scale": s, "zero_point": z,
                           "calib_min": ranges[name][0],
                           "calib_max": ranges[name][1]}
    for name in ("wq", "wk", "wv", "wo", "w1", "w2"):
        scales, q = weight_params(p[name])
        qp["weights"][name] = {"scales": scales, "q": q}
    lhs_of = {"bq": "x", "bk": "x", "bv": "x", "bo": "attn", "b1": "ln1",
              "b2": "gelu"}
    for name, act in lhs_of.items():
        qp["bias"][name] = bias_params(p[name], qp["act"][act]["scale"],
                                       qp["weights"]["w" + name[1:]]["scales"])
    for name in ("ln1_gamma", "ln1_beta", "ln2_gamma", "ln2_beta"):
        qp[name] = p[name]

    # 3. MLIR.
    os.makedirs(args.out_dir, exist_ok=True)
    header = [
        f"Quantized transformer encoder block (post-LN), generated by "
        f"examples/encoder_block.py --seed {args.seed}",
        f"S={S} d_model={D} heads={H}x{D // H} d_ff={F}; activations u8 per "
        f"tensor, weights i8 per output channel, biases i32.",
        f"Check: qlow-opt encoder_block.mlir; inputs x.npy, float reference "
        f"expected_float.npy (see encoder_block.json).",
    ]
    mlir = emit_mlir(qp, dims, args.inline_types, header)
    mlir_path = os.path.join(args.out_dir, "encoder_block.mlir")
    with open(mlir_path, "w") as fh:
        fh.write(mlir)

    # 4. Sample input, float output, emulated quantized output.
    x = make_inputs(np.random.default_rng(seeds["sample"]), 1, S, D)[0]
    y_float, _ = float_block(x, p, H)
    y_quant = emulate_quantized(x, qp, H)
    np.save(os.path.join(args.out_dir, "x.npy"), x)
    np.save(os.path.join(args.out_dir, "expected_float.npy"), y_float)
    np.save(os.path.join(args.out_dir, "expected_quant_emulated.npy"), y_quant)
    emu_sqnr, emu_cos = sqnr_db(y_quant, y_float), cosine(y_quant, y_float)
    calib_sqnr = [sqnr_db(emulate_quantized(xc, qp, H), float_block(xc, p, H)[0])
                  for xc in calib]

    mlir_bytes = os.path.getsize(mlir_path)
    info = {
        "model": "encoder_block",
        "description": "post-LN transformer encoder block: "
                       "h1 = LN1(x + MHA(x)); y = LN2(h1 + W2 gelu(W1 h1))",
        "function": "encoder_block",
        "dims": dims,
        "seeds": seeds,
        "calibration": {"samples": args.calib_samples,
                        "method": "min/max over all samples",
                        "input_distribution": "standard normal, float32"},
        "inputs": {"x": {"file": "x.npy", "shape": [S, D], "dtype": "float32"}},
        "outputs": {"y": {"file": "expected_float.npy", "shape": [S, D],
                          "dtype": "float32",
                          "note": "float32 numpy model on x.npy"}},
        "activations": {
            name: dict(v, storage="u8", granularity="per_tensor",
                       type=act_type(v["scale"], v["zero_point"]))
            for name, v in qp["act"].items()},
        "activation_roles": {
            "x": "input of the Q/K/V projections",
            "attn": "attention output (heads merged), input of Wo",
            "ln1": "LayerNorm1 output, input of W1",
            "ffn_up": "result type of the W1 matmul (requantized, fixedpoint)",
            "gelu": "GELU output, input of W2"},
        "weights": {
            name: {"shape": list(v["q"].shape), "layout": "[K, N]",
                   "storage": "i8", "granularity": "per_channel", "axis": 1,
                   "zero_point": 0, "scales": v["scales"]}
            for name, v in qp["weights"].items()},
        "biases": {
            name: {"shape": [len(v)], "storage": "i32",
                   "scale": f"s_{lhs_of[name]} * s_w{name[1:]}[n]",
                   "min": int(v.min()), "max": int(v.max())}
            for name, v in qp["bias"].items()},
        "layer_norm_epsilon": EPS,
        "attention": {"causal": False, "scale": 1.0 / math.sqrt(D // H)},
        "gelu": "erf (approximate = none)",
        "mlir": {"file": "encoder_block.mlir", "bytes": mlir_bytes},
        "numpy_emulation": {
            "file": "expected_quant_emulated.npy",
            "sqnr_db_vs_float": _finite(emu_sqnr),
            "cosine_vs_float": _finite(emu_cos),
            "calibration_sqnr_db": [_finite(v) for v in calib_sqnr],
            "note": "integer ops as in QlowOps.td (fixed-point requantize); "
                    "float ops (attention, layer_norm, gelu) in double, "
                    "rounded to f32"},
    }
    with open(os.path.join(args.out_dir, "encoder_block.json"), "w") as fh:
        json.dump(info, fh, indent=1)
        fh.write("\n")

    print(f"wrote {mlir_path} ({mlir_bytes} bytes) and x.npy, "
          f"expected_float.npy, expected_quant_emulated.npy, "
          f"encoder_block.json in {args.out_dir}")
    print(f"numpy emulation of the quantized block vs float: SQNR "
          f"{emu_sqnr:.2f} dB, cosine {emu_cos:.6f} (calibration inputs: "
          f"{min(calib_sqnr):.2f}..{max(calib_sqnr):.2f} dB)")

    # 5. Validation.
    if args.no_validate:
        return 0
    tool = find_qlow_opt(args.qlow_opt)
    if tool is None:
        print("validate: qlow-opt not found (use --qlow-opt or $QLOW_OPT); "
              "skipped")
        return 0
    return 0 if validate(tool, mlir_path) else 1


if __name__ == "__main__":
    sys.exit(main())
