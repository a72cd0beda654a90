#!/usr/bin/env python3
# ===- onnx_models.py - ONNX models for the importer's tests ---------------===#
#
# Builds the small ONNX models that test/Import/ONNX uses, at test time, with
# onnx's helpers (and ONNX Runtime's quantization tools for the quantized
# ones). Usage: onnx_models.py NAME OUT.onnx [--seed N]; `list` prints names.
#
# ===-----------------------------------------------------------------------===#

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
F = TensorProto.FLOAT


def model(nodes, inputs, outputs, inits=(), opset=OPSET, extra_opsets=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    opsets = [helper.make_opsetid("", opset)] + list(extra_opsets)
    m = helper.make_model(graph, opset_imports=opsets)
    m.ir_version = 8
    return m


def vi(name, shape, dtype=F):
    return helper.make_tensor_value_info(name, dtype, shape)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def rng(seed):
    return np.random.default_rng(seed)


# --- Float models ------------------------------------------------------------


def float_ops(seed):
    """Most float and shape ops the importer handles, with several outputs."""
    r = rng(seed)
    w = r.standard_normal((8, 12)).astype(np.float32) * 0.3
    bias = r.standard_normal(12).astype(np.float32) * 0.1
    gamma = (1 + 0.1 * r.standard_normal(12)).astype(np.float32)
    beta = (0.1 * r.standard_normal(12)).astype(np.float32)
    wt = r.standard_normal((12, 8)).astype(np.float32) * 0.3  # Gemm transB
    n = helper.make_node
    nodes = [
        n("MatMul", ["x", "w"], ["mm"], name="mm"),
        n("Add", ["mm", "bias"], ["h"], name="bias_add"),
        # GELU, erf form, as exporters write it.
        n("Div", ["h", "sqrt2"], ["g0"], name="gelu_div"),
        n("Erf", ["g0"], ["g1"], name="gelu_erf"),
        n("Add", ["g1", "one"], ["g2"], name="gelu_add"),
        n("Mul", ["h", "g2"], ["g3"], name="gelu_mul"),
        n("Mul", ["g3", "half"], ["gelu"], name="gelu_half"),
        n("LayerNormalization", ["gelu", "gamma", "beta"], ["ln"], axis=-1,
          epsilon=1e-5, name="ln"),
        # Shape arithmetic folded at import: [2, 4, 12] -> [2, 4, 3, 4].
        n("Shape", ["ln"], ["shp"], name="shape"),
        n("Slice", ["shp", "s0", "s2"], ["bs"], name="shape_slice"),
        n("Concat", ["bs", "heads"], ["newshape"], axis=0, name="shape_cat"),
        n("Reshape", ["ln", "newshape"], ["r4"], name="reshape"),
        n("Transpose", ["r4"], ["t4"], perm=[0, 2, 1, 3], name="transpose"),
        n("Softmax", ["t4"], ["sm"], axis=-1, name="softmax"),
        # Elementwise odds and ends.
        n("ReduceMean", ["x"], ["xmean"], axes=[-1], keepdims=1, name="rmean"),
        n("Sub", ["x", "xmean"], ["xc"], name="sub"),
        n("Pow", ["xc", "two"], ["sq"], name="pow"),
        n("Add", ["sq", "eps"], ["sqe"], name="add_eps"),
        n("Sqrt", ["sqe"], ["rt"], name="sqrt"),
        n("Reciprocal", ["rt"], ["rc"], name="recip"),
        n("Tanh", ["xc"], ["th"], name="tanh"),
        n("Sigmoid", ["xc"], ["sg"], name="sigmoid"),
        n("Relu", ["xc"], ["rl"], name="relu"),
        n("Mul", ["rc", "th"], ["e0"], name="e0"),
        n("Add", ["e0", "sg"], ["e1"], name="e1"),
        n("Div", ["e1", "rt"], ["e2"], name="e2"),
        n("Add", ["e2", "rl"], ["elem"], name="elem"),
        # Gemm with transB and a bias, Split, Concat, Gather, Where.
        n("Reshape", ["x", "flat2"], ["x2"], name="x2"),
        n("Gemm", ["x2", "wt", "bias"], ["gm"], transB=1, name="gemm"),
        n("Split", ["gm", "split"], ["sp0", "sp1"], axis=1, name="split"),
        n("Concat", ["sp1", "sp0"], ["cat"], axis=1, name="cat"),
        n("Gather", ["cat", "idx"], ["gat"], axis=0, name="gather"),
        n("Equal", ["gat", "gat"], ["eq"], name="eq"),
        n("Where", ["eq", "gat", "zero"], ["wh"], name="where"),
        n("Unsqueeze", ["wh", "ax0"], ["un"], name="unsq"),
        n("Squeeze", ["un", "ax0"], ["sq2"], name="sq"),
        n("Expand", ["bias", "eshape"], ["ex"], name="expand"),
        n("Add", ["sq2", "ex"], ["gathered"], name="gadd"),
    ]
    inits = [
        init("w", w), init("bias", bias), init("gamma", gamma),
        init("beta", beta), init("wt", wt),
        init("sqrt2", np.float32(1.4142135)), init("one", np.float32(1.0)),
        init("half", np.float32(0.5)), init("two", np.float32(2.0)),
        init("eps", np.float32(1e-3)), init("zero", np.float32(0.0)),
        init("s0", np.array([0], np.int64)), init("s2", np.array([2], np.int64)),
        init("heads", np.array([3, -1], np.int64)),
        init("flat2", np.array([-1, 8], np.int64)),
        init("split", np.array([5, 7], np.int64)),
        init("idx", np.array([[0, 7], [3, 3]], np.int64)),
        init("ax0", np.array([0], np.int64)),
        init("eshape", np.array([2, 2, 12], np.int64)),
    ]
    return model(nodes, [vi("x", [2, 4, 8])],
                 [vi("sm", [2, 3, 4, 4]), vi("elem", [2, 4, 8]),
                  vi("gathered", [2, 2, 12])], inits)


def encoder_float(seed, s=16, d=64, heads=4, ffn=128):
    """A BERT-style encoder layer (float), as exporters write it."""
    r = rng(seed)
    dh = d // heads
    n = helper.make_node
    W = lambda *shape: (r.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)
    B = lambda m: (0.02 * r.standard_normal(m)).astype(np.float32)
    inits = [
        init("wq", W(d, d)), init("bq", B(d)), init("wk", W(d, d)),
        init("bk", B(d)), init("wv", W(d, d)), init("bv", B(d)),
        init("wo", W(d, d)), init("bo", B(d)), init("w1", W(d, ffn)),
        init("b1", B(ffn)), init("w2", W(ffn, d)), init("b2", B(d)),
        init("g1", (1 + 0.05 * r.standard_normal(d)).astype(np.float32)),
        init("be1", B(d)),
        init("g2", (1 + 0.05 * r.standard_normal(d)).astype(np.float32)),
        init("be2", B(d)),
        init("hshape", np.array([1, s, heads, dh], np.int64)),
        init("oshape", np.array([1, s, d], np.int64)),
        init("scale", np.float32(1.0 / np.sqrt(dh))),
        init("sqrt2", np.float32(np.sqrt(2.0))), init("one", np.float32(1.0)),
        init("half", np.float32(0.5)),
    ]
    nodes = []
    for p in "qkv":
        nodes += [
            n("MatMul", ["x", "w" + p], [p + "0"], name=p + "_proj"),
            n("Add", [p + "0", "b" + p], [p + "1"], name=p + "_bias"),
            n("Reshape", [p + "1", "hshape"], [p + "2"], name=p + "_split"),
            n("Transpose", [p + "2"], [p + "h"],
              perm=[0, 2, 3, 1] if p == "k" else [0, 2, 1, 3], name=p + "_t"),
        ]
    nodes += [
        n("MatMul", ["qh", "kh"], ["sc0"], name="scores"),
        n("Mul", ["sc0", "scale"], ["sc1"], name="scores_scale"),
        n("Softmax", ["sc1"], ["pr"], axis=-1, name="probs"),
        n("MatMul", ["pr", "vh"], ["ctx0"], name="context"),
        n("Transpose", ["ctx0"], ["ctx1"], perm=[0, 2, 1, 3], name="ctx_t"),
        n("Reshape", ["ctx1", "oshape"], ["ctx2"], name="ctx_merge"),
        n("MatMul", ["ctx2", "wo"], ["o0"], name="o_proj"),
        n("Add", ["o0", "bo"], ["o1"], name="o_bias"),
        n("Add", ["o1", "x"], ["res1"], name="residual1"),
        n("LayerNormalization", ["res1", "g1", "be1"], ["ln1"], axis=-1,
          epsilon=1e-5, name="ln1"),
        n("MatMul", ["ln1", "w1"], ["f0"], name="ffn1"),
        n("Add", ["f0", "b1"], ["f1"], name="ffn1_bias"),
        n("Div", ["f1", "sqrt2"], ["ge0"], name="gelu_div"),
        n("Erf", ["ge0"], ["ge1"], name="gelu_erf"),
        n("Add", ["ge1", "one"], ["ge2"], name="gelu_add"),
        n("Mul", ["f1", "ge2"], ["ge3"], name="gelu_mul"),
        n("Mul", ["ge3", "half"], ["ge4"], name="gelu_half"),
        n("MatMul", ["ge4", "w2"], ["f2"], name="ffn2"),
        n("Add", ["f2", "b2"], ["f3"], name="ffn2_bias"),
        n("Add", ["f3", "ln1"], ["res2"], name="residual2"),
        n("LayerNormalization", ["res2", "g2", "be2"], ["y"], axis=-1,
          epsilon=1e-5, name="ln2"),
    ]
    return model(nodes, [vi("x", [1, s, d])], [vi("y", [1, s, d])], inits)


def encoder_stack_float(seed, layers, s=16, d=64, heads=4, ffn=128):
    """`layers` encoder layers (encoder_float, seeds seed, seed + 1, ...)
    one after the other, as a whole BERT-style encoder: every tensor of layer
    i is prefixed with "l<i>_", layer i's output feeds layer i + 1."""
    from onnx import compose
    stack = None
    for i in range(layers):
        layer = compose.add_prefix(
            encoder_float(seed + i, s=s, d=d, heads=heads, ffn=ffn),
            f"l{i}_")
        if stack is None:
            stack = layer
        else:
            stack = compose.merge_models(
                stack, layer, io_map=[(stack.graph.output[0].name,
                                       layer.graph.input[0].name)])
    # The input and output keep their names, "x" and "y".
    first, last = stack.graph.input[0].name, stack.graph.output[0].name
    for node in stack.graph.node:
        for k, name in enumerate(node.input):
            if name == first:
                node.input[k] = "x"
        for k, name in enumerate(node.output):
            if name == last:
                node.output[k] = "y"
    stack.graph.input[0].name = "x"
    stack.graph.output[0].name = "y"
    # merge_models writes its own opset list; keep encoder_float's.
    del stack.opset_import[:]
    stack.opset_import.extend([helper.make_opsetid("", OPSET)])
    stack.ir_version = 8
    return stack


def decoder_mlp_float(seed, s=8, d=64, ffn=128):
    """A Llama-style MLP block: RMSNorm (decomposed), SiLU-gated FFN."""
    r = rng(seed)
    n = helper.make_node
    W = lambda *shape: (r.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)
    inits = [
        init("g", (1 + 0.05 * r.standard_normal(d)).astype(np.float32)),
        init("wg", W(d, ffn)), init("wu", W(d, ffn)), init("wd", W(ffn, d)),
        init("two", np.float32(2.0)), init("eps", np.float32(1e-6)),
    ]
    nodes = [
        n("Pow", ["x", "two"], ["x2"], name="rms_pow"),
        n("ReduceMean", ["x2"], ["ms"], axes=[-1], keepdims=1, name="rms_mean"),
        n("Add", ["ms", "eps"], ["mse"], name="rms_eps"),
        n("Sqrt", ["mse"], ["rms"], name="rms_sqrt"),
        n("Div", ["x", "rms"], ["xn"], name="rms_div"),
        n("Mul", ["xn", "g"], ["h"], name="rms_gamma"),
        n("MatMul", ["h", "wg"], ["gate"], name="gate_proj"),
        n("MatMul", ["h", "wu"], ["up"], name="up_proj"),
        n("Sigmoid", ["gate"], ["sg"], name="silu_sigmoid"),
        n("Mul", ["gate", "sg"], ["act"], name="silu_mul"),
        n("Mul", ["act", "up"], ["prod"], name="gated"),
        n("MatMul", ["prod", "wd"], ["down"], name="down_proj"),
        n("Add", ["down", "x"], ["y"], name="residual"),
    ]
    return model(nodes, [vi("x", [1, s, d])], [vi("y", [1, s, d])], inits)


def decompositions(seed, s=8, d=32, heads=2):
    """LayerNorm written out (ReduceMean, Sub, Pow, Sqrt, Div, Mul, Add),
    GELU in its tanh form, and attention with a divided scale and an additive
    mask: what the importer raises to qlow ops."""
    r = rng(seed)
    dh = d // heads
    n = helper.make_node
    inits = [
        init("g", (1 + 0.1 * r.standard_normal(d)).astype(np.float32)),
        init("be", (0.1 * r.standard_normal(d)).astype(np.float32)),
        init("two", np.float32(2.0)), init("three", np.float32(3.0)),
        init("eps", np.float32(1e-5)), init("half", np.float32(0.5)),
        init("one", np.float32(1.0)), init("k0", np.float32(0.044715)),
        init("k1", np.float32(np.sqrt(2 / np.pi))),
        init("hshape", np.array([1, s, heads, dh], np.int64)),
        init("sqrt_dh", np.float32(np.sqrt(dh))),
        init("mask", np.triu(np.full((s, s), -1e4, np.float32), 1)),
    ]
    nodes = [
        # LayerNorm
        n("ReduceMean", ["x"], ["mu"], axes=[-1], name="ln_mean"),
        n("Sub", ["x", "mu"], ["xc"], name="ln_sub"),
        n("Pow", ["xc", "two"], ["xc2"], name="ln_pow"),
        n("ReduceMean", ["xc2"], ["var"], axes=[-1], name="ln_var"),
        n("Add", ["var", "eps"], ["ve"], name="ln_eps"),
        n("Sqrt", ["ve"], ["sd"], name="ln_sqrt"),
        n("Div", ["xc", "sd"], ["xn"], name="ln_div"),
        n("Mul", ["xn", "g"], ["xg"], name="ln_gamma"),
        n("Add", ["xg", "be"], ["ln"], name="ln_beta"),
        # GELU, tanh form
        n("Pow", ["ln", "three"], ["c3"], name="gelu_cube"),
        n("Mul", ["k0", "c3"], ["c4"], name="gelu_k0"),
        n("Add", ["ln", "c4"], ["c5"], name="gelu_inner"),
        n("Mul", ["c5", "k1"], ["c6"], name="gelu_k1"),
        n("Tanh", ["c6"], ["c7"], name="gelu_tanh"),
        n("Add", ["one", "c7"], ["c8"], name="gelu_one"),
        n("Mul", ["half", "ln"], ["c9"], name="gelu_half"),
        n("Mul", ["c9", "c8"], ["gelu"], name="gelu_out"),
        # Attention with the heads of gelu as q, k and v.
        n("Reshape", ["gelu", "hshape"], ["h4"], name="heads"),
        n("Transpose", ["h4"], ["q"], perm=[0, 2, 1, 3], name="q_t"),
        n("Transpose", ["h4"], ["kt"], perm=[0, 2, 3, 1], name="k_t"),
        n("MatMul", ["q", "kt"], ["sc"], name="scores"),
        n("Div", ["sc", "sqrt_dh"], ["scs"], name="scale"),
        n("Add", ["scs", "mask"], ["scm"], name="mask_add"),
        n("Softmax", ["scm"], ["p"], axis=-1, name="probs"),
        n("MatMul", ["p", "q"], ["y"], name="context"),
    ]
    return model(nodes, [vi("x", [1, s, d])],
                 [vi("y", [1, heads, s, dh]), vi("ln", [1, s, d])], inits)


def embedding(seed, vocab=50, d=16, s=6):
    """Token ids (an int64 graph input) gathered from a table, then a
    LayerNorm: Gather with run-time indices is qlow.embedding."""
    r = rng(seed)
    n = helper.make_node
    inits = [init("table", r.standard_normal((vocab, d)).astype(np.float32)),
             init("g", np.ones(d, np.float32)), init("b", np.zeros(d, np.float32))]
    nodes = [n("Gather", ["table", "ids"], ["e"], axis=0, name="embed"),
             n("LayerNormalization", ["e", "g", "b"], ["y"], axis=-1,
               name="ln")]
    return model(nodes, [vi("ids", [1, s], TensorProto.INT64)],
                 [vi("y", [1, s, d])], inits)


def rotate_half_rope(p, axis):
    """Rotate-half RoPE of the heads `p`2 (Slice, Neg, Concat, Mul, Add) with
    the tables `cos` and `sin`, into `p`r; the halves are sliced at the
    initializers h0, h1, h2 along the axis initializer `axis`."""
    n = helper.make_node
    return [n("Slice", [p + "2", "h0", "h1", axis], [p + "_a"], name=p + "_lo"),
            n("Slice", [p + "2", "h1", "h2", axis], [p + "_b"], name=p + "_hi"),
            n("Neg", [p + "_b"], [p + "_nb"], name=p + "_neg"),
            n("Concat", [p + "_nb", p + "_a"], [p + "_rot"], axis=-1,
              name=p + "_cat"),
            n("Mul", [p + "2", "cos"], [p + "_c"], name=p + "_cos"),
            n("Mul", [p + "_rot", "sin"], [p + "_s"], name=p + "_sin"),
            n("Add", [p + "_c", p + "_s"], [p + "r"], name=p + "_rope")]


def attention_output(k, v, scale_op, scale, swap_residual):
    """The decoder layers' attention after RoPE: scores of `qr` and `k`
    (transposed here), `scale_op`(scores, `scale`), the additive `mask`,
    softmax, times `v`, heads merged, the output projection `wo` and the
    residual add of `x` (operands swapped with `swap_residual`, as torch's
    exporter writes them), into `res1`."""
    n = helper.make_node
    residual = ["x", "att"] if swap_residual else ["att", "x"]
    return [
        n("Transpose", [k], ["kt"], perm=[0, 1, 3, 2], name="k_tr"),
        n("MatMul", ["qr", "kt"], ["sc"], name="scores"),
        n(scale_op, ["sc", scale], ["scs"], name="scores_scale"),
        n("Add", ["scs", "mask"], ["scm"], name="causal"),
        n("Softmax", ["scm"], ["pr"], axis=-1, name="probs"),
        n("MatMul", ["pr", v], ["ctx"], name="context"),
        n("Transpose", ["ctx"], ["ctx_t"], perm=[0, 2, 1, 3], name="ctx_t"),
        n("Reshape", ["ctx_t", "oshape"], ["ctx_m"], name="ctx_merge"),
        n("MatMul", ["ctx_m", "wo"], ["att"], name="o_proj"),
        n("Add", residual, ["res1"], name="residual1"),
    ]


def swiglu_mlp(swap_residual):
    """The decoder layers' SiLU-gated MLP on `h2n` (weights wg, wu, wd) and
    its residual add of `res1` (operands swapped with `swap_residual`), into
    `y`."""
    n = helper.make_node
    residual = ["res1", "down"] if swap_residual else ["down", "res1"]
    return [
        n("MatMul", ["h2n", "wg"], ["gate"], name="gate_proj"),
        n("MatMul", ["h2n", "wu"], ["up"], name="up_proj"),
        n("Sigmoid", ["gate"], ["sg"], name="silu_sigmoid"),
        n("Mul", ["gate", "sg"], ["act"], name="silu"),
        n("Mul", ["act", "up"], ["prod"], name="gated"),
        n("MatMul", ["prod", "wd"], ["down"], name="down_proj"),
        n("Add", residual, ["y"], name="residual2"),
    ]


def decoder_layer_float(seed, s=8, d=64, heads=4, ffn=128):
    """A Llama-style decoder layer: RMSNorm, Q/K/V projections, rotate-half
    RoPE written out (Slice, Neg, Concat, Mul, Add), causal attention, output
    projection, residual, RMSNorm and the SiLU-gated MLP."""
    r = rng(seed)
    dh = d // heads
    n = helper.make_node
    W = lambda *shape: (r.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)
    pos = np.arange(s)[:, None] / (10000 ** (np.arange(dh // 2) * 2 / dh))[None]
    cos = np.concatenate([np.cos(pos)] * 2, -1).astype(np.float32)
    sin = np.concatenate([np.sin(pos)] * 2, -1).astype(np.float32)
    inits = [
        init("g1", (1 + 0.05 * r.standard_normal(d)).astype(np.float32)),
        init("g2", (1 + 0.05 * r.standard_normal(d)).astype(np.float32)),
        init("wq", W(d, d)), init("wk", W(d, d)), init("wv", W(d, d)),
        init("wo", W(d, d)), init("wg", W(d, ffn)), init("wu", W(d, ffn)),
        init("wd", W(ffn, d)), init("two", np.float32(2.0)),
        init("eps", np.float32(1e-6)), init("cos", cos), init("sin", sin),
        init("hshape", np.array([1, s, heads, dh], np.int64)),
        init("oshape", np.array([1, s, d], np.int64)),
        init("h0", np.array([0], np.int64)), init("h1", np.array([dh // 2], np.int64)),
        init("h2", np.array([dh], np.int64)), init("ax3", np.array([3], np.int64)),
        init("scale", np.float32(1 / np.sqrt(dh))),
        init("mask", np.triu(np.full((s, s), -1e9, np.float32), 1)),
    ]

    def rms(x, g, out, tag):
        return [n("Pow", [x, "two"], [tag + "_sq"], name=tag + "_pow"),
                n("ReduceMean", [tag + "_sq"], [tag + "_ms"], axes=[-1],
                  name=tag + "_mean"),
                n("Add", [tag + "_ms", "eps"], [tag + "_mse"], name=tag + "_eps"),
                n("Sqrt", [tag + "_mse"], [tag + "_rt"], name=tag + "_sqrt"),
                n("Div", [x, tag + "_rt"], [tag + "_n"], name=tag + "_div"),
                n("Mul", [tag + "_n", g], [out], name=tag + "_gamma")]

    nodes = rms("x", "g1", "h", "rms1")
    for p in "qkv":
        nodes += [n("MatMul", ["h", "w" + p], [p + "0"], name=p + "_proj"),
                  n("Reshape", [p + "0", "hshape"], [p + "1"], name=p + "_heads"),
                  n("Transpose", [p + "1"], [p + "2"], perm=[0, 2, 1, 3],
                    name=p + "_t")]
    for p in "qk":
        nodes += rotate_half_rope(p, "ax3")
    nodes += attention_output("kr", "v2", "Mul", "scale", swap_residual=False)
    nodes += rms("res1", "g2", "h2n", "rms2")
    nodes += swiglu_mlp(swap_residual=False)
    return model(nodes, [vi("x", [1, s, d])], [vi("y", [1, s, d])], inits)


def decoder_layer_exported(seed, s=8, d=64, heads=4, kv_heads=2, ffn=128,
                           attention_mask=False):
    """A Llama-style decoder layer written as torch.onnx's exporter writes
    Hugging Face's LlamaDecoderLayer (opset 17): position_ids as an int64
    input; the rotary tables computed in the graph (MatMul of inv_freq and
    the positions, Concat, Cos, Sin); RMSNorm as Cast, Pow, ReduceMean, Add,
    Sqrt, Reciprocal, Mul; grouped-query attention with repeat_kv (Unsqueeze,
    Expand, Reshape); the causal mask as ConstantOfShape(finfo.min) and
    Trilu(k = 1); SiLU as Sigmoid and Mul. With `attention_mask`, also an
    int64 [1, S] attention_mask input (1 = attend, 0 = padding) folded into
    the mask as Hugging Face's _update_causal_mask does: Add of the causal
    mask and the padding row, Equal to 0, Where(finfo.min)."""
    r = rng(seed)
    dh = d // heads
    rep = heads // kv_heads
    n = helper.make_node
    W = lambda *shape: (r.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)
    i64 = lambda *v: np.array(v, np.int64)
    inv_freq = (1.0 / (10000 ** (np.arange(0, dh, 2) / dh))).astype(np.float32)
    fmin = np.float32(np.finfo(np.float32).min)
    inits = [
        init("g1", (1 + 0.05 * r.standard_normal(d)).astype(np.float32)),
        init("g2", (1 + 0.05 * r.standard_normal(d)).astype(np.float32)),
        init("wq", W(d, d)), init("wk", W(d, kv_heads * dh)),
        init("wv", W(d, kv_heads * dh)), init("wo", W(d, d)),
        init("wg", W(d, ffn)), init("wu", W(d, ffn)), init("wd", W(ffn, d)),
        init("two", np.float32(2.0)), init("eps", np.float32(1e-6)),
        init("sqrt_dh", np.float32(np.sqrt(dh))),
        init("inv_freq", inv_freq[None, :, None]),
        init("qshape", i64(1, s, heads, dh)),
        init("kvshape", i64(1, s, kv_heads, dh)),
        init("repshape", i64(1, kv_heads, rep, s, dh)),
        init("kvflat", i64(1, heads, s, dh)),
        init("oshape", i64(1, s, d)), init("mshape", i64(s, s)),
        init("h0", i64(0)), init("h1", i64(dh // 2)), init("h2", i64(2 ** 62)),
        init("ax1", i64(1)), init("ax2", i64(2)), init("axm1", i64(-1)),
        init("ax01", i64(0, 1)), init("kdiag", np.array(1, np.int64)),
    ]

    def rms(x, g, out, tag):
        return [n("Cast", [x], [tag + "_f"], to=F, name=tag + "_cast"),
                n("Pow", [tag + "_f", "two"], [tag + "_sq"], name=tag + "_pow"),
                n("ReduceMean", [tag + "_sq"], [tag + "_ms"], axes=[-1],
                  keepdims=1, name=tag + "_mean"),
                n("Add", [tag + "_ms", "eps"], [tag + "_mse"], name=tag + "_eps"),
                n("Sqrt", [tag + "_mse"], [tag + "_rt"], name=tag + "_sqrt"),
                n("Reciprocal", [tag + "_rt"], [tag + "_rs"], name=tag + "_rsqrt"),
                n("Mul", [tag + "_f", tag + "_rs"], [tag + "_n"], name=tag + "_norm"),
                n("Mul", [g, tag + "_n"], [out], name=tag + "_gamma")]

    # Rotary tables from the positions: freqs = (inv_freq @ pos)^T.
    nodes = [
        n("Unsqueeze", ["position_ids", "ax1"], ["pos3"], name="pos_unsqueeze"),
        n("Cast", ["pos3"], ["posf"], to=F, name="pos_cast"),
        n("MatMul", ["inv_freq", "posf"], ["freqs_t"], name="rotary_matmul"),
        n("Transpose", ["freqs_t"], ["freqs"], perm=[0, 2, 1], name="freqs_t"),
        n("Concat", ["freqs", "freqs"], ["emb"], axis=-1, name="emb"),
        n("Cos", ["emb"], ["cos0"], name="cos"),
        n("Sin", ["emb"], ["sin0"], name="sin"),
        n("Unsqueeze", ["cos0", "ax1"], ["cos"], name="cos_unsqueeze"),
        n("Unsqueeze", ["sin0", "ax1"], ["sin"], name="sin_unsqueeze"),
        # The causal mask: finfo.min above the diagonal, 0 elsewhere.
        n("ConstantOfShape", ["mshape"], ["full"],
          value=numpy_helper.from_array(np.array([fmin], np.float32)),
          name="mask_full"),
        n("Trilu", ["full", "kdiag"], ["triu"], upper=1, name="mask_triu"),
        n("Unsqueeze", ["triu", "ax01"],
          ["causal4" if attention_mask else "mask"], name="mask_unsqueeze"),
    ]
    if attention_mask:
        inits += [init("ax12", i64(1, 2)), init("zero", np.float32(0.0)),
                  init("fmin", fmin)]
        nodes += [
            n("Cast", ["attention_mask"], ["am_f"], to=F, name="am_cast"),
            n("Unsqueeze", ["am_f", "ax12"], ["am4"], name="am_unsqueeze"),
            n("Add", ["causal4", "am4"], ["padsum"], name="pad_add"),
            n("Equal", ["padsum", "zero"], ["padded"], name="pad_eq"),
            n("Where", ["padded", "fmin", "causal4"], ["mask"],
              name="pad_where"),
        ]
    nodes += rms("x", "g1", "h", "rms1")
    for p, shape in (("q", "qshape"), ("k", "kvshape"), ("v", "kvshape")):
        nodes += [n("MatMul", ["h", "w" + p], [p + "0"], name=p + "_proj"),
                  n("Reshape", [p + "0", shape], [p + "1"], name=p + "_heads"),
                  n("Transpose", [p + "1"], [p + "2"], perm=[0, 2, 1, 3],
                    name=p + "_t")]
    for p in "qk":  # apply_rotary_pos_emb with rotate_half
        nodes += rotate_half_rope(p, "axm1")
    for p, src in (("k", "kr"), ("v", "v2")):  # repeat_kv
        nodes += [n("Unsqueeze", [src, "ax2"], [p + "_u"], name=p + "_rep_unsqueeze"),
                  n("Expand", [p + "_u", "repshape"], [p + "_e"], name=p + "_rep_expand"),
                  n("Reshape", [p + "_e", "kvflat"], [p + "_rep"], name=p + "_rep")]
    nodes += attention_output("k_rep", "v_rep", "Div", "sqrt_dh",
                              swap_residual=True)
    nodes += rms("res1", "g2", "h2n", "rms2")
    nodes += swiglu_mlp(swap_residual=True)
    inputs = [vi("x", [1, s, d]), vi("position_ids", [1, s], TensorProto.INT64)]
    if attention_mask:
        inputs.append(vi("attention_mask", [1, s], TensorProto.INT64))
    return model(nodes, inputs, [vi("y", [1, s, d])], inits)


def linear_float(seed, m=4, k=128, n_=64):
    r = rng(seed)
    w = (r.standard_normal((k, n_)) / np.sqrt(k)).astype(np.float32)
    return model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
                 [vi("x", [m, k])], [vi("y", [m, n_])], [init("w", w)])


def qoperator_float(seed, m=8, k=64):
    """MatMul, a residual Add and a Mul: QLinearMatMul, QLinearAdd and
    QLinearMul once quantized in QOperator form."""
    r = rng(seed)
    w = (r.standard_normal((k, k)) / np.sqrt(k)).astype(np.float32)
    n = helper.make_node
    nodes = [n("MatMul", ["x", "w"], ["h"], name="mm"),
             n("Add", ["h", "x"], ["res"], name="residual"),
             n("Mul", ["res", "h"], ["y"], name="gate")]
    return model(nodes, [vi("x", [m, k])], [vi("y", [m, k])], [init("w", w)])


# --- Quantized models (ONNX Runtime's tools) ----------------------------------


class Reader:
    """Calibration data for quantize_static: a few random batches."""

    def __init__(self, name, shape, seed, count=8):
        r = rng(seed + 1000)
        self.data = iter([{name: r.standard_normal(shape).astype(np.float32)}
                          for _ in range(count)])

    def get_next(self):
        return next(self.data, None)


def ort_integer_kernels_saturate():
    """True on x86-64 CPUs without VNNI (AVX-512 VNNI or AVX-VNNI).

    There ONNX Runtime's u8 x s8 kernels (MLAS, as oneDNN's) multiply with
    vpmaddubsw, whose i16 sums of two products saturate for full-range s8
    weights (MatMulInteger of 255s by -128s gives half the exact value), so
    its results are not the ONNX semantics; its quantization tools document
    `reduce_range` (7-bit weights) for such CPUs, with which every product
    pair fits. qlow's kernels are exact either way.
    """
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split()
                          for line in f if line.startswith("flags")), None)
    except OSError:
        return False
    if flags is None or "avx2" not in flags:
        return False  # Not x86, or no integer kernels of that kind.
    return "avx512_vnni" not in flags and "avx_vnni" not in flags


def quantize_with_ort(kind, float_model, out, seed):
    """Quantizes `float_model` with ORT's tools into `out`.

    On CPUs where ORT's integer kernels saturate (see
    ort_integer_kernels_saturate) the weights are quantized with
    `reduce_range`, as ORT advises there, so that ORT computes what the
    graph says and can be compared with qlow.
    """
    reduce_range = ort_integer_kernels_saturate()
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat,
                                          QuantType, quantize_dynamic,
                                          quantize_static)
    tmp = out + ".float.onnx"
    onnx.save(float_model, tmp)
    try:
        if kind in ("static", "static-s8", "qoperator"):
            shape = [d.dim_value for d in
                     float_model.graph.input[0].type.tensor_type.shape.dim]
            quantize_static(tmp, out, Reader("x", shape, seed),
                            quant_format=QuantFormat.QOperator
                            if kind == "qoperator" else QuantFormat.QDQ,
                            activation_type=QuantType.QInt8
                            if kind == "static-s8" else QuantType.QUInt8,
                            weight_type=QuantType.QInt8,
                            per_channel=True,
                            reduce_range=reduce_range,
                            calibrate_method=CalibrationMethod.MinMax,
                            op_types_to_quantize=["MatMul", "Add", "Mul"],
                            extra_options={"ActivationSymmetric":
                                           kind == "static-s8"})
        else:
            # Only the projections (constant weights): the attention
            # products of two activations stay float, as is usual.
            quantize_dynamic(tmp, out, weight_type=QuantType.QInt8,
                             reduce_range=reduce_range,
                             op_types_to_quantize=["MatMul"],
                             nodes_to_exclude=["scores", "context"])
    finally:
        os.remove(tmp)


def matmul_nbits(float_model, out, block_size=32, symmetric=True, bits=4,
                 accuracy_level=None):
    """ORT's weight-only quantizer (QOperator form, com.microsoft
    MatMulNBits): 4 bits (two per byte; symmetric: negative scales, no zero
    points; asymmetric: packed zero points) or 8 bits (one per byte;
    symmetric: negative scales and the default zero point 128).
    `accuracy_level` 4 asks ONNX Runtime for int8 activations."""
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer)
    config = DefaultWeightOnlyQuantConfig(block_size=block_size,
                                          is_symmetric=symmetric, bits=bits,
                                          accuracy_level=accuracy_level)
    q = MatMulNBitsQuantizer(float_model, algo_config=config)
    q.process()
    onnx.save(q.model.model, out)


def matmul_nbits_qdq(float_model, out, block_size=32, symmetric=True,
                     channel=False):
    """ORT's 4-bit quantizer in QDQ form: DequantizeLinear(block_size) of
    int4 (symmetric: negative scales, no zero point) or uint4 (a zero point
    per block) weights, then MatMul; opset 21. With `channel` (per output
    channel: one block of K), the symmetric form is written [N, K],
    dequantized along axis 1 and transposed for the MatMul."""
    from onnxruntime.quantization import QuantFormat
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer)
    from onnx import version_converter
    config = DefaultWeightOnlyQuantConfig(block_size=block_size,
                                          is_symmetric=symmetric,
                                          quant_format=QuantFormat.QDQ,
                                          channel_wised_quantize=channel)
    # The quantizer moves the model to opset 21 (int4) without converting
    # its ops (ReduceMean's axes become an input at 18): convert first.
    float_model = version_converter.convert_version(float_model, 21)
    q = MatMulNBitsQuantizer(float_model, algo_config=config)
    q.process()
    onnx.save(q.model.model, out)


def blocked_dq(seed, k=96, n_=40, bs=32, axis=0, scale_rows=None, rows=None,
               negative=False, computed=False, quantize=False):
    """DequantizeLinear(block_size) of int8 weights with a zero point per
    block, then MatMul (written by hand: ORT's quantizer writes blocked QDQ
    for 4 bits only). 8-bit blocks span more than 16 values: on x86 they
    take the int4 kernel's two-plane form. `rows` (not a multiple of bs),
    `scale_rows` (a wrong scale shape), `computed` (the DQ of a
    QuantizeLinear of an input) and `quantize` (a blocked QuantizeLinear)
    make the errors; `negative` (a negative scale on an int8 block) does
    not."""
    r = rng(seed)
    k = rows or k
    blocks = (k + bs - 1) // bs
    w = r.integers(-128, 128, size=(k, n_), dtype=np.int8)
    shape = [scale_rows or blocks, n_] if axis == 0 else [k, blocks]
    scales = (0.001 + 0.004 * r.random(shape)).astype(np.float32)
    if negative:
        scales[0, 0] = -scales[0, 0]
    zps = r.integers(-20, 21, size=shape, dtype=np.int8)
    n = helper.make_node
    inits = [init("s", scales), init("z", zps)]
    nodes = []
    inputs = [vi("x", [4, k])]
    if computed or quantize:
        inputs.append(vi("wf", [k, n_]))
        nodes.append(n("QuantizeLinear", ["wf", "s", "z"], ["w"], axis=axis,
                       block_size=bs if quantize else 0, name="wq"))
        if not quantize:
            # A per-tensor QuantizeLinear: the blocked DQ reads its output.
            inits = [init("s1", np.float32(0.01)), init("z1", np.int8(0)),
                     init("s", scales), init("z", zps)]
            nodes[-1] = n("QuantizeLinear", ["wf", "s1", "z1"], ["w"],
                          name="wq")
    else:
        inits.append(init("w", w))
    nodes += [n("DequantizeLinear", ["w", "s", "z"], ["wd"], axis=axis,
                block_size=bs, name="w_dq"),
              n("MatMul", ["x", "wd"], ["y"], name="mm")]
    m = model(nodes, inputs, [vi("y", [4, n_])], inits, opset=21)
    m.ir_version = 10
    return m


def blocked_dq_table(seed, vocab=50, d=24, bs=8):
    """An embedding table of uint8 in blocks of 8 along the model dimension
    with zero points of 128 and more, dequantized by a blocked
    DequantizeLinear and gathered by run-time ids, plus the table itself
    added to a float input: uses of blocked weights other than a MatMul,
    which qlow dequantizes at run time (qlow.dequantize of a sub-channel
    type)."""
    r = rng(seed)
    table = r.integers(0, 256, size=(vocab, d), dtype=np.uint8)
    scales = (0.01 + 0.02 * r.random((vocab, d // bs))).astype(np.float32)
    zps = r.integers(100, 200, size=(vocab, d // bs), dtype=np.uint8)
    n = helper.make_node
    nodes = [n("DequantizeLinear", ["t", "s", "z"], ["tf"], axis=1,
               block_size=bs, name="table_dq"),
             n("Gather", ["tf", "ids"], ["e"], axis=0, name="gather"),
             n("Add", ["tf", "x"], ["sum"], name="add")]
    m = model(nodes, [vi("ids", [2, 6], TensorProto.INT64),
                      vi("x", [vocab, d])],
              [vi("e", [2, 6, d]), vi("sum", [vocab, d])],
              [init("t", table), init("s", scales), init("z", zps)],
              opset=21)
    m.ir_version = 10
    return m


def embedding_lm_float(seed, vocab=64, d=96, s=7, n_=40):
    """Token ids gathered from an embedding table, then a projection: the
    input end of a language model, for ORT's 4-bit quantizer of both the
    Gather and the MatMul. Outputs the projection and the embedding."""
    r = rng(seed)
    n = helper.make_node
    inits = [init("table", r.standard_normal((vocab, d)).astype(np.float32)),
             init("w", (r.standard_normal((d, n_)) / np.sqrt(d))
                  .astype(np.float32))]
    nodes = [n("Gather", ["table", "ids"], ["e"], axis=0, name="embed"),
             n("MatMul", ["e", "w"], ["y"], name="proj")]
    return model(nodes, [vi("ids", [1, s], TensorProto.INT64)],
                 [vi("y", [1, s, n_]), vi("e", [1, s, d])], inits)


def gather_block_quantized(float_model, out, block_size=32, symmetric=True):
    """ORT's 4-bit weight-only quantizer on the Gather and the MatMul
    (QOperator form): com.microsoft GatherBlockQuantized of an int4
    (symmetric) or uint4 table with zero points, blocks along the model
    dimension (quantize_axis 1), and MatMulNBits."""
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer)
    config = DefaultWeightOnlyQuantConfig(
        block_size=block_size, is_symmetric=symmetric,
        op_types_to_quantize=("MatMul", "Gather"))
    q = MatMulNBitsQuantizer(float_model, algo_config=config)
    q.process()
    m = q.model.model
    assert any(node.op_type == "GatherBlockQuantized" for node in m.graph.node)
    onnx.save(m, out)


def gbq_hand(seed, vocab=20, d=48, bs=16, bits=4, zero_points=False,
             quantize_axis=1, gather_axis=0, computed=False, data_type=None,
             s=5, int4=False, flat_scales=False):
    """A GatherBlockQuantized node written by hand, of uint8 data: two 4-bit
    values per byte, low nibble first (bits = 4), or one (bits = 8), with
    zero points packed alike or the defaults (8, 128); quantize_axis 0
    makes blocks of rows, which ONNX Runtime takes for int4 data only
    (`int4`: an int4 table, no zero points). `flat_scales` (1-D scales)
    makes another error. `gather_axis`, `computed` (the table is a graph
    input) and `data_type` make the errors."""
    r = rng(seed)
    q_shape = [vocab, d]
    blocks = ([vocab, -(-d // bs)] if quantize_axis == 1 else
              [-(-vocab // bs), d])
    levels = 1 << bits
    values = r.integers(0, levels, size=q_shape)
    if bits == 4:
        data = (values[:, 0::2] | (values[:, 1::2] << 4)).astype(np.uint8)
    else:
        data = values.astype(np.uint8)
    scales = (0.01 + 0.05 * r.random(blocks)).astype(np.float32)
    if flat_scales:
        scales = scales.flatten()
    inits = [init("s", scales)]
    inputs = [vi("ids", [2, s], TensorProto.INT64)]
    n = helper.make_node
    nodes = []
    if int4:
        inits.append(helper.make_tensor("t", TensorProto.INT4, q_shape,
                                        (values - 8).flatten().tolist()))
    elif data_type is not None:
        inits.append(init("t", (data.astype(np.int16) - 128).astype(np.int8)))
    elif computed:
        inputs.append(vi("tc", list(data.shape), TensorProto.INT64))
        nodes.append(n("Cast", ["tc"], ["t"], to=TensorProto.UINT8,
                       name="cast"))
    else:
        inits.append(init("t", data))
    names = ["t", "ids", "s"]
    if zero_points:
        z = r.integers(0, levels, size=blocks)
        if bits == 4:
            if z.shape[1] % 2:
                z = np.concatenate([z, np.zeros((z.shape[0], 1), z.dtype)], 1)
            z = (z[:, 0::2] | (z[:, 1::2] << 4))
        inits.append(init("z", z.astype(np.uint8)))
        names.append("z")
    nodes += [n("GatherBlockQuantized", names, ["e"], domain="com.microsoft",
               gather_axis=gather_axis, quantize_axis=quantize_axis,
               block_size=bs, bits=bits, name="gbq")]
    m = model(nodes, inputs, [vi("e", [2, s, d])], inits,
              extra_opsets=[helper.make_opsetid("com.microsoft", 1)])
    return m


# --- Models with errors ------------------------------------------------------


def matmul_nbits_u4(seed, m=4, k=128, n_=64, bs=32, a_shape=None):
    """A MatMulNBits node written by hand: positive scales and the default
    zero point 8, which qlow keeps as packed u4 weights (its int4 kernel).
    `a_shape` replaces A's shape [m, k] (a scalar A is an error)."""
    r = rng(seed)
    q = r.integers(0, 16, size=(n_, k), dtype=np.uint8)
    packed = (q[:, 0::2] | (q[:, 1::2] << 4)).reshape(n_, k // bs, bs // 2)
    scales = (0.01 + 0.02 * r.random(n_ * (k // bs))).astype(np.float32)
    node = helper.make_node("MatMulNBits", ["x", "b", "s"], ["y"], name="mm_q4",
                            domain="com.microsoft", K=k, N=n_, bits=4,
                            block_size=bs)
    return model([node], [vi("x", [m, k] if a_shape is None else a_shape)],
                 [vi("y", [m, n_])], [init("b", packed), init("s", scales)],
                 extra_opsets=[helper.make_opsetid("com.microsoft", 1)])


def matmul_nbits_bias(seed, m=4, k=128, n_=64, bs=32, zero_point=11,
                      bias_size=None, g_idx=False):
    """A MatMulNBits node written by hand with positive scales, one explicit
    zero point for every block (packed two per byte) and the optional f32
    bias input (MatMulNBits' input 5; input 4, g_idx, left out unless
    `g_idx`). `bias_size` other than N makes the bias inconsistent."""
    r = rng(seed)
    q = r.integers(0, 16, size=(n_, k), dtype=np.uint8)
    packed = (q[:, 0::2] | (q[:, 1::2] << 4)).reshape(n_, k // bs, bs // 2)
    scales = (0.01 + 0.02 * r.random(n_ * (k // bs))).astype(np.float32)
    blocks = k // bs
    zps = np.full((n_, (blocks + 1) // 2), zero_point | (zero_point << 4),
                  dtype=np.uint8).reshape(-1)
    bias = r.standard_normal(bias_size or n_).astype(np.float32)
    inits = [init("b", packed), init("s", scales), init("zp", zps),
             init("bias", bias)]
    if g_idx:
        inits.append(init("g", (np.arange(k) // bs).astype(np.int32)))
    node = helper.make_node("MatMulNBits",
                            ["x", "b", "s", "zp", "g" if g_idx else "",
                             "bias"],
                            ["y"], name="mm_q4_bias", domain="com.microsoft",
                            K=k, N=n_, bits=4, block_size=bs)
    return model([node], [vi("x", [m, k])], [vi("y", [m, n_])], inits,
                 extra_opsets=[helper.make_opsetid("com.microsoft", 1)])


def trilu_trig(seed):
    """Trilu on a graph input (upper with k = 1, lower with k = -2, and
    without k), Trilu of a constant (folded at import) added to the input,
    and Cos and Sin of the input."""
    n = helper.make_node
    inits = [init("k1", np.array(1, np.int64)),
             init("km2", np.array(-2, np.int64)),
             init("shape", np.array([5, 7], np.int64))]
    nodes = [
        n("Trilu", ["x", "k1"], ["upper"], upper=1, name="upper"),
        n("Trilu", ["x", "km2"], ["lower"], upper=0, name="lower"),
        n("Trilu", ["x"], ["diag"], name="diag"),
        n("ConstantOfShape", ["shape"], ["ones"],
          value=numpy_helper.from_array(np.array([1.5], np.float32)),
          name="ones"),
        n("Trilu", ["ones"], ["tri"], upper=0, name="folded"),
        n("Add", ["x", "tri"], ["shifted"], name="shifted"),
        n("Cos", ["x"], ["c"], name="cos"),
        n("Sin", ["x"], ["s"], name="sin"),
        n("Add", ["c", "s"], ["trig"], name="trig"),
    ]
    outs = ["upper", "lower", "diag", "shifted", "trig"]
    return model(nodes, [vi("x", [2, 5, 7])], [vi(o, [2, 5, 7]) for o in outs],
                 inits)


def trilu_bad(seed, k_shape=None, rank=2):
    """Trilu with a k of two elements, or of a rank-1 input."""
    n = helper.make_node
    inputs = ["x"]
    inits = []
    if k_shape is not None:
        inits.append(init("k", np.zeros(k_shape, np.int64)))
        inputs.append("k")
    shape = [4] * rank
    return model([n("Trilu", inputs, ["y"], name="bad_trilu")],
                 [vi("x", shape)], [vi("y", shape)], inits)


def unknown_op(seed):
    return model([helper.make_node("FrobnicateLinear", ["x"], ["y"],
                                   name="frob_node")],
                 [vi("x", [2, 2])], [vi("y", [2, 2])])


def dynamic_dim(seed):
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                 [vi("x", ["batch", 8])], [vi("y", ["batch", 8])])


def zero_point(name, dtype, value):
    """A scalar integer tensor written field by field, so that it can hold a
    value outside its type's range (as a corrupt or hand-edited model may)."""
    t = TensorProto()
    t.name = name
    t.data_type = dtype
    t.int32_data.append(value)
    return t


def qdq(scale, zp, zp_type=TensorProto.UINT8):
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"],
                              name="quant"),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"],
                              name="dequant")]
    inits = [helper.make_tensor("s", F, [], [scale]),
             zero_point("z", zp_type, zp)]
    return model(nodes, [vi("x", [4])], [vi("y", [4])], inits)


def qdq_zp_type(seed):
    """int8 weights dequantized with a uint8 zero point."""
    nodes = [helper.make_node("DequantizeLinear", ["w", "s", "z"], ["wf"],
                              name="dequant"),
             helper.make_node("MatMul", ["x", "wf"], ["y"], name="mm")]
    inits = [init("w", np.ones((4, 4), np.int8)),
             helper.make_tensor("s", F, [], [0.1]),
             zero_point("z", TensorProto.UINT8, 3)]
    return model(nodes, [vi("x", [2, 4])], [vi("y", [2, 4])], inits)


def gather_scalar(seed, folded):
    """Gather from a scalar (ONNX wants data of rank >= 1): a constant one,
    which the importer folds, or a graph input. A fuzzed model found the
    first crashing the importer."""
    nodes = [helper.make_node("Gather", ["data", "idx"], ["g"], name="gather",
                              axis=0),
             helper.make_node("Add", ["x", "g"], ["y"], name="add")]
    inits = [helper.make_tensor("idx", TensorProto.INT64, [1], [0])]
    inputs = [vi("x", [1])]
    if folded:
        inits.append(helper.make_tensor("data", F, [], [1.0]))
    else:
        inputs.append(vi("data", []))
    return model(nodes, inputs, [vi("y", [1])], inits)


def gather_empty_indices(seed):
    """Gather of a graph input with an empty constant index tensor (found by
    the fuzzer: the importer concatenated no slices and crashed)."""
    nodes = [helper.make_node("Gather", ["x", "idx"], ["y"], name="gather",
                              axis=0)]
    inits = [helper.make_tensor("idx", TensorProto.INT64, [0], [])]
    return model(nodes, [vi("x", [3, 2])], [vi("y", [0, 2])], inits)


def concat_mismatch(seed, rank):
    """A Concat whose inputs differ in rank, or in a size beside the axis."""
    second = [2, 3] if rank else [3, 3]
    return model([helper.make_node("Concat", ["x", "w"], ["y"], name="cat",
                                   axis=0 if rank else 1)],
                 [vi("x", [2] if rank else [2, 4]), vi("w", second)],
                 [vi("y", None)])


def concat_sizes_const(seed):
    """concat-sizes on constants, which the importer folds: it used to copy
    the inputs by their element counts alone and read past the smaller one
    (found while checking the folding budget)."""
    n = helper.make_node
    return model([n("Concat", ["a", "b"], ["c"], name="cat", axis=0),
                  n("Cast", ["c"], ["cf"], name="cast", to=F),
                  n("Add", ["x", "cf"], ["y"], name="add")],
                 [vi("x", [1])], [vi("y", None)],
                 [init("a", np.arange(10, dtype=np.int64).reshape(2, 5)),
                  init("b", np.arange(6, dtype=np.int64).reshape(2, 3))])


def fold_bomb(seed, op):
    """A model of a few hundred bytes whose constant folding would create
    2^40 elements: ConstantOfShape [2^20, 1] plus ConstantOfShape [1, 2^20]
    (op "Add"), or a Gather of 2^20 indices from rows of 2^20 (op "Gather").
    The importer used to run out of memory on them."""
    n = helper.make_node
    big = 1 << 20
    # Ones to add; zeros as the Gather's indices.
    fill = numpy_helper.from_array(np.array([int(op == "Add")], np.int64))
    nodes = [n("ConstantOfShape", ["s1"], ["a"], name="rows", value=fill),
             n("ConstantOfShape", ["s2"], ["b"], name="columns", value=fill)]
    if op == "Add":
        shapes = [[big, 1], [1, big]]
        nodes.append(n("Add", ["a", "b"], ["c"], name="bomb"))
    else:
        shapes = [[big], [1, big]]
        nodes.append(n("Gather", ["b", "a"], ["c"], name="bomb", axis=0))
    nodes += [n("Cast", ["c"], ["cf"], name="cast", to=F),
              n("Add", ["x", "cf"], ["y"], name="add")]
    return model(nodes, [vi("x", [1])], [vi("y", None)],
                 [init("s1", np.array(shapes[0], np.int64)),
                  init("s2", np.array(shapes[1], np.int64))])


def integer_div(seed, dtype):
    """Div of two run-time integer tensors (int32 or int64), the cases that
    trap in x86's idiv among them: c = a / b."""
    g = [helper.make_node("Div", ["a", "b"], ["c"], name="div")]
    return model(g, [vi("a", [6], dtype), vi("b", [6], dtype)],
                 [vi("c", [6], dtype)])


def missing_input(seed):
    return model([helper.make_node("Relu", ["nowhere"], ["y"], name="relu")],
                 [vi("x", [2])], [vi("y", [2])])


def concat_no_inputs(seed):
    """A Concat without inputs (found by the fuzzer: the importer read the
    first of none)."""
    n = helper.make_node
    return model([n("Concat", [], ["e"], name="cat", axis=0),
                  n("Relu", ["e"], ["y"], name="relu")],
                 [vi("x", [2])], [vi("y", [2])])


def matmul_nbits_bits(seed):
    node = helper.make_node("MatMulNBits", ["x", "b", "s"], ["y"], name="mm_q",
                            domain="com.microsoft", K=32, N=4, bits=2,
                            block_size=32)
    inits = [init("b", np.zeros((4, 1, 8), np.uint8)),
             init("s", np.ones(4, np.float32))]
    return model([node], [vi("x", [1, 32])], [vi("y", [1, 4])], inits,
                 extra_opsets=[helper.make_opsetid("com.microsoft", 1)])


def external_data(out, seed):
    m = linear_float(seed)
    onnx.save(m, out, save_as_external_data=True, all_tensors_to_one_file=True,
              location=os.path.basename(out) + ".data", size_threshold=0)


MODELS = {
    "float-ops": float_ops,
    "encoder-float": encoder_float,
    "decoder-mlp-float": decoder_mlp_float,
    "linear-float": linear_float,
    "decompositions": decompositions,
    "embedding": embedding,
    "decoder-layer-float": decoder_layer_float,
    "decoder-layer-exported": decoder_layer_exported,
    "decoder-layer-exported-mask": lambda seed: decoder_layer_exported(
        seed, attention_mask=True),
    "matmul-nbits-u4": matmul_nbits_u4,
    "matmul-nbits-bias": matmul_nbits_bias,
    "matmul-nbits-scalar-a": lambda seed: matmul_nbits_u4(seed, a_shape=[]),
    "matmul-nbits-bad-bias": lambda seed: matmul_nbits_bias(seed,
                                                            bias_size=63),
    "matmul-nbits-g-idx": lambda seed: matmul_nbits_bias(seed, g_idx=True),
    "unknown-op": unknown_op,
    "trilu-trig": trilu_trig,
    "integer-div-32": lambda seed: integer_div(seed, TensorProto.INT32),
    "integer-div-64": lambda seed: integer_div(seed, TensorProto.INT64),
    "trilu-bad-k": lambda seed: trilu_bad(seed, k_shape=[2]),
    "trilu-rank1": lambda seed: trilu_bad(seed, rank=1),
    "gather-scalar-const": lambda seed: gather_scalar(seed, folded=True),
    "gather-scalar": lambda seed: gather_scalar(seed, folded=False),
    "dynamic-dim": dynamic_dim,
    "qdq-ok": lambda seed: qdq(0.05, 128),
    "qdq-zero-scale": lambda seed: qdq(0.0, 128),
    "qdq-nan-scale": lambda seed: qdq(float("nan"), 128),
    "qdq-zp-range": lambda seed: qdq(0.05, 300),
    "qdq-zp-type": qdq_zp_type,
    "missing-input": missing_input,
    "concat-no-inputs": concat_no_inputs,
    "gather-empty-indices": gather_empty_indices,
    "concat-rank": lambda seed: concat_mismatch(seed, rank=True),
    "concat-sizes": lambda seed: concat_mismatch(seed, rank=False),
    "concat-sizes-const": concat_sizes_const,
    "fold-bomb-add": lambda seed: fold_bomb(seed, "Add"),
    "fold-bomb-gather": lambda seed: fold_bomb(seed, "Gather"),
    "matmul-nbits-bits": matmul_nbits_bits,
    "blocked-dq": blocked_dq,
    "blocked-dq-table": blocked_dq_table,
    "blocked-dq-partial": lambda seed: blocked_dq(seed, rows=100),
    "blocked-dq-scale-shape": lambda seed: blocked_dq(seed, scale_rows=2),
    "blocked-dq-negative": lambda seed: blocked_dq(seed, negative=True),
    "blocked-dq-computed": lambda seed: blocked_dq(seed, computed=True),
    "blocked-q": lambda seed: blocked_dq(seed, quantize=True),
    "gbq-u8-bits4": gbq_hand,
    "gbq-u8-bits4-zp": lambda seed: gbq_hand(seed, zero_points=True, d=80),
    "gbq-u8-bits8": lambda seed: gbq_hand(seed, bits=8),
    "gbq-u8-bits8-zp": lambda seed: gbq_hand(seed, bits=8, zero_points=True),
    "gbq-axis0": lambda seed: gbq_hand(seed, vocab=32, quantize_axis=0,
                                       int4=True),
    "gbq-gather-axis1": lambda seed: gbq_hand(seed, gather_axis=1),
    "gbq-computed": lambda seed: gbq_hand(seed, computed=True),
    "gbq-bits2": lambda seed: gbq_hand(seed, bits=2),
    "gbq-int8": lambda seed: gbq_hand(seed, bits=8,
                                      data_type=TensorProto.INT8),
    "gbq-partial": lambda seed: gbq_hand(seed, d=40),
    "gbq-flat-scales": lambda seed: gbq_hand(seed, flat_scales=True),
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("name")
    p.add_argument("out", nargs="?")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.name == "list":
        print("\n".join(list(MODELS) + ["encoder-qdq", "decoder-dynamic",
                                        "matmul-nbits", "external-data", "qoperator",
                                        "encoder-qdq-s8", "encoder-stack-qdq",
                                        "decoder-layer-dynamic",
                                        "decoder-layer-exported-dynamic",
                                        "matmul-nbits-asym",
                                        "matmul-nbits-8",
                                        "matmul-nbits-8-asym",
                                        "matmul-nbits-qdq",
                                        "matmul-nbits-qdq-asym",
                                        "matmul-nbits-qdq-channel",
                                        "gather-block-quantized",
                                        "gather-block-quantized-asym",
                                        "truncated", "corrupt"]))
        return
    if a.name == "encoder-qdq":
        quantize_with_ort("static", encoder_float(a.seed), a.out, a.seed)
    elif a.name == "decoder-layer-dynamic":
        quantize_with_ort("dynamic", decoder_layer_float(a.seed), a.out, a.seed)
    elif a.name == "decoder-layer-exported-dynamic":
        quantize_with_ort("dynamic", decoder_layer_exported(a.seed), a.out,
                          a.seed)
    elif a.name == "decoder-dynamic":
        quantize_with_ort("dynamic", decoder_mlp_float(a.seed), a.out, a.seed)
    elif a.name == "encoder-stack-qdq":
        quantize_with_ort("static", encoder_stack_float(a.seed, 3), a.out,
                          a.seed)
    elif a.name == "encoder-qdq-s8":
        quantize_with_ort("static-s8", encoder_float(a.seed), a.out, a.seed)
    elif a.name == "qoperator":
        quantize_with_ort("qoperator", qoperator_float(a.seed), a.out, a.seed)
    elif a.name == "matmul-nbits":
        matmul_nbits(linear_float(a.seed), a.out)
    elif a.name == "matmul-nbits-asym":
        matmul_nbits(linear_float(a.seed), a.out, symmetric=False)
    elif a.name == "matmul-nbits-8":
        matmul_nbits(linear_float(a.seed), a.out, bits=8)
    elif a.name == "matmul-nbits-8-asym":
        matmul_nbits(linear_float(a.seed), a.out, symmetric=False, bits=8)
    elif a.name == "matmul-nbits-qdq":
        matmul_nbits_qdq(linear_float(a.seed), a.out)
    elif a.name == "matmul-nbits-qdq-asym":
        matmul_nbits_qdq(linear_float(a.seed), a.out, symmetric=False)
    elif a.name == "matmul-nbits-qdq-channel":
        matmul_nbits_qdq(linear_float(a.seed), a.out, channel=True)
    elif a.name == "gather-block-quantized":
        gather_block_quantized(embedding_lm_float(a.seed), a.out)
    elif a.name == "gather-block-quantized-asym":
        gather_block_quantized(embedding_lm_float(a.seed), a.out,
                               symmetric=False)
    elif a.name == "external-data":
        external_data(a.out, a.seed)
    elif a.name in ("truncated", "corrupt"):
        data = encoder_float(a.seed).SerializeToString()
        if a.name == "truncated":
            data = data[: len(data) // 2 + 3]
        else:
            data = bytes([0xFF, 0xFF, 0xFF, 0xFF]) + data[100:200]
        with open(a.out, "wb") as f:
            f.write(data)
    elif a.name in MODELS:
        onnx.save(MODELS[a.name](a.seed), a.out)
    else:
        sys.exit(f"unknown model {a.name}")


if __name__ == "__main__":
    main()
