#!/usr/bin/env python3
"""Random float-semantics ops: compiled execution against the reference.

    random_float_ops.py --cases 150 --seed 1 --work-dir /tmp/rf [--report]

Generates random qlow.softmax, qlow.layer_norm, qlow.rms_norm, qlow.gelu (erf
and tanh forms), qlow.silu, qlow.rope and qlow.embedding functions, writes
them with random .npy inputs, runs them with `qlow-run --reference` (double
inside, rounded once to f32) and with compiled `qlow-run`, and compares the
results with the tolerance FloatOpsToLinalg.cpp states for each op:

  * layer_norm, rms_norm and rope compute in f64 in the reference's order,
    and embedding copies or dequantizes rows: bit-exact (NaN where the
    reference has NaN);
  * softmax, gelu and silu (f32 with polynomial exp and erfc):
    max |compiled - reference| <= TOLERANCE * max(max |reference|, FLOOR)
    over the finite elements, with NaN and infinities at the same places;
  * a quantized result of those three: every stored value within one step
    of the reference's.

Each function draws a shape of rank 1 to 4 (rope: 2 to 4) with sizes that
are often primes or not multiples of 16, the softmax axis, and input values
of magnitude 1e-3 to 1e4 (the activations sometimes also +-1e38, +-inf and
NaN); some inputs are quantized (i8/u8 per tensor, i8 per axis) and some
results quantized per tensor. Embedding tables are f32, u8/i8 per tensor
(copied or dequantized) or i8 per row, with i32/i64 indices of rank 0 to 3.
Prints one block per failing function and then "N passed, M failed"; with
--report, also the largest error measured per op.
"""

import argparse
import concurrent.futures
import math
import os
import random
import shutil
import sys
import time

import numpy as np

import random_matmul as rm

# Relative to the largest reference magnitude in the result (2^-20).
TOLERANCE = 2.0 ** -20
FLOOR = 2.0 ** -64
EXACT_OPS = ("layer_norm", "rms_norm", "rope", "rope_interleaved",
             "embedding")
OPS = ("softmax", "layer_norm", "rms_norm", "gelu", "gelu_tanh", "silu",
       "rope", "rope_interleaved", "embedding")
SIZES = [1, 2, 3, 5, 7, 13, 16, 17, 31, 33, 61, 64, 97, 127, 131, 257, 509,
         768, 1023]
STORAGE = {"u8": (0, 255, np.uint8), "i8": (-128, 127, np.int8)}


def fmt(x):
    """A double as MLIR parses it back exactly (1e-06 needs a '.0')."""
    text = rm.fmt(x)
    if "e" in text and "." not in text:
        text = text.replace("e", ".0e")
    return text


class Case:
    """One random float-op function and its inputs."""

    def __init__(self, name, rng, op=None):
        self.name = name
        self.op = op or rng.choice(OPS)
        if self.op == "embedding":
            self.init_embedding(rng)
            return
        is_rope = self.op.startswith("rope")
        rank = rng.randint(2, 4) if is_rope else rng.randint(1, 4)
        while True:
            self.shape = [rng.choice(SIZES) if rng.random() < 0.6
                          else rng.randint(1, 300) for _ in range(rank)]
            if is_rope:
                self.shape[-1] += self.shape[-1] % 2
            if math.prod(self.shape) <= 200_000:
                break
        self.axis = rng.randint(-rank, rank - 1)
        self.magnitude = 10.0 ** rng.uniform(-3, 4)
        self.specials = (self.op in ("softmax", "gelu", "gelu_tanh", "silu")
                         and rng.random() < 0.25)
        self.offset = (rng.choice([0.0, 0.0, self.magnitude * 10])
                       if self.op == "layer_norm" else 0.0)
        self.beta = rng.random() < 0.6
        self.epsilon = rng.choice([1e-5, 1e-6, 0.0, 0.1])
        # Quantized input (per tensor or per axis) and result.
        self.in_q = None
        self.out_q = None
        if not self.specials and rng.random() < 0.3:
            storage = rng.choice(["u8", "i8"])
            lo, hi, _ = STORAGE[storage]
            if storage == "i8" and rng.random() < 0.4:
                axis = rng.randrange(rank)
                scales = [self.magnitude * rng.uniform(0.5, 2) / 40
                          for _ in range(self.shape[axis])]
                zps = [0] * len(scales)
                self.in_q = (storage, axis, scales, zps)
            else:
                self.in_q = (storage, None, [self.magnitude / 40],
                             [rng.randint(lo // 2, hi // 2)])
        if self.op not in EXACT_OPS and rng.random() < 0.3:
            storage = rng.choice(["u8", "i8"])
            lo, hi, _ = STORAGE[storage]
            top = {"softmax": 1.0}.get(self.op, self.magnitude * 2)
            self.out_q = (storage, None, [top / rng.uniform(60, 250)],
                          [rng.randint(lo, lo + 20) if self.op == "softmax"
                           else rng.randint(lo + 10, hi - 10)])

    def init_embedding(self, rng):
        """A table [V, D] (f32; or u8/i8 per tensor, copied or dequantized;
        or i8 per row, dequantized) and indices of rank 0 to 3."""
        self.rows = rng.choice([1, 7, 50, rng.randint(1, 1000)])
        self.depth = rng.choice(SIZES) if rng.random() < 0.6 else \
            rng.randint(1, 300)
        self.index_shape = [rng.randint(1, 9)
                            for _ in range(rng.randint(0, 3))]
        self.index_type = rng.choice(["i32", "i64"])
        self.table_kind = rng.choice(["f32", "copy", "dequantize",
                                      "per_row"])
        self.shape = self.index_shape + [self.depth]
        self.magnitude = 10.0 ** rng.uniform(-3, 4)
        self.specials = False
        self.in_q = self.out_q = None
        if self.table_kind == "per_row":
            self.in_q = ("i8", 0, [self.magnitude * rng.uniform(0.5, 2) / 40
                                   for _ in range(self.rows)], [0] * self.rows)
        elif self.table_kind != "f32":
            storage = rng.choice(["u8", "i8"])
            lo, hi, _ = STORAGE[storage]
            self.in_q = (storage, None, [self.magnitude / 40],
                         [rng.randint(lo // 2, hi // 2)])
            if self.table_kind == "copy":
                self.out_q = self.in_q

    def embedding_mlir(self):
        elt = self.quant(self.in_q) if self.in_q else "f32"
        table = f"tensor<{self.rows}x{self.depth}x{elt}>"
        index_dims = "".join(f"{d}x" for d in self.index_shape)
        indices = f"tensor<{index_dims}{self.index_type}>"
        out_elt = self.quant(self.out_q) if self.out_q else "f32"
        y = f"tensor<{self.dims()}x{out_elt}>"
        return (f"func.func @{self.name}(%t: {table}, %i: {indices}) -> {y} "
                f"{{\n  %y = qlow.embedding %t, %i : ({table}, {indices}) -> "
                f"{y}\n  return %y : {y}\n}}\n")

    def embedding_inputs(self, nprng):
        if self.in_q:
            lo, hi, dtype = STORAGE[self.in_q[0]]
            table = nprng.integers(lo, hi, size=[self.rows, self.depth],
                                   endpoint=True).astype(dtype)
        else:
            table = (nprng.standard_normal([self.rows, self.depth]) *
                     self.magnitude).astype(np.float32)
        dtype = np.int32 if self.index_type == "i32" else np.int64
        indices = nprng.integers(0, self.rows, size=self.index_shape).astype(
            dtype)
        return [table, np.asarray(indices, dtype)]

    # Types ----------------------------------------------------------------

    def dims(self, shape=None):
        return "x".join(str(d) for d in (shape or self.shape))

    @staticmethod
    def quant(q):
        storage, axis, scales, zps = q
        if axis is None:
            return f"!quant.uniform<{storage}:f32, {fmt(scales[0])}:{zps[0]}>"
        params = ", ".join(f"{fmt(s)}:{z}" for s, z in zip(scales, zps))
        return f"!quant.uniform<{storage}:f32:{axis}, {{{params}}}>"

    def in_type(self):
        elt = self.quant(self.in_q) if self.in_q else "f32"
        return f"tensor<{self.dims()}x{elt}>"

    def out_type(self):
        elt = self.quant(self.out_q) if self.out_q else "f32"
        return f"tensor<{self.dims()}x{elt}>"

    def mlir(self):
        if self.op == "embedding":
            return self.embedding_mlir()
        x, y = self.in_type(), self.out_type()
        d = self.shape[-1]
        vec = f"tensor<{d}xf32>"
        args = [f"%x: {x}"]
        if self.op in ("gelu", "gelu_tanh", "silu", "softmax"):
            name = "gelu" if self.op.startswith("gelu") else self.op
            attrs = {"gelu_tanh": " {approximate = "
                                  "#qlow.gelu_approximation<tanh>}",
                     "softmax": f" {{axis = {self.axis} : i64}}"}.get(
                         self.op, "")
            body = f"  %y = qlow.{name} %x{attrs} : {x} -> {y}"
        elif self.op == "layer_norm":
            args.append(f"%g: {vec}")
            operands, types = "%x, %g", f"{x}, {vec}"
            if self.beta:
                args.append(f"%b: {vec}")
                operands += ", %b"
                types += f", {vec}"
            body = (f"  %y = qlow.layer_norm {operands} {{epsilon = "
                    f"{fmt(self.epsilon)} : f32}} : ({types}) -> {y}")
        elif self.op == "rms_norm":
            args.append(f"%g: {vec}")
            body = (f"  %y = qlow.rms_norm %x, %g {{epsilon = "
                    f"{fmt(self.epsilon)} : f32}} : ({x}, {vec}) -> {y}")
        else:
            table = f"tensor<{self.shape[-2]}x{d // 2}xf32>"
            args += [f"%c: {table}", f"%s: {table}"]
            attr = (" {interleaved}" if self.op == "rope_interleaved" else "")
            body = (f"  %y = qlow.rope %x, %c, %s{attr} : ({x}, {table}, "
                    f"{table}) -> {y}")
        return (f"func.func @{self.name}({', '.join(args)}) -> {y} {{\n"
                f"{body}\n  return %y : {y}\n}}\n")

    def inputs(self, nprng):
        if self.op == "embedding":
            return self.embedding_inputs(nprng)
        shape = self.shape
        if self.in_q:
            storage, _, _, _ = self.in_q
            lo, hi, dtype = STORAGE[storage]
            x = nprng.integers(lo, hi, size=shape, endpoint=True).astype(dtype)
        else:
            x = (nprng.standard_normal(shape) * self.magnitude +
                 self.offset).astype(np.float32)
            if self.specials:
                flat = x.reshape(-1)
                count = max(1, flat.size // 50)
                where = nprng.integers(0, flat.size, size=count)
                flat[where] = nprng.choice(
                    np.array([np.inf, -np.inf, np.nan, 3e38, -3e38, 1e20,
                              -1e20, -88.0, -104.0, 89.0], np.float32),
                    size=count)
        arrays = [x]
        d = shape[-1]
        if self.op in ("layer_norm", "rms_norm"):
            arrays.append(nprng.uniform(-2, 2, size=[d]).astype(np.float32))
            if self.op == "layer_norm" and self.beta:
                arrays.append(nprng.uniform(-1, 1, size=[d]).astype(
                    np.float32))
        if self.op.startswith("rope"):
            s = shape[-2]
            freq = 10000.0 ** (-np.arange(d // 2) / max(1, d // 2))
            angle = np.arange(s)[:, None] * freq[None, :]
            arrays.append(np.cos(angle).astype(np.float32))
            arrays.append(np.sin(angle).astype(np.float32))
        return arrays

    def describe(self):
        if self.op == "embedding":
            index_dims = "x".join(str(d) for d in self.index_shape) or "scalar"
            return (f"embedding, {self.table_kind} table {self.rows}x"
                    f"{self.depth}, {self.index_type} indices {index_dims}")
        parts = [self.op, f"{self.dims()}"]
        if self.op == "softmax":
            parts.append(f"axis {self.axis}")
        if self.op == "layer_norm":
            parts.append(f"offset {self.offset:g}, beta {self.beta}")
        if self.op in ("layer_norm", "rms_norm"):
            parts.append(f"epsilon {self.epsilon:g}")
        parts.append(f"magnitude {self.magnitude:.3g}")
        if self.specials:
            parts.append("with inf/nan/huge values")
        if self.in_q:
            parts.append("quantized input" +
                         (" per axis" if self.in_q[1] is not None else ""))
        if self.out_q:
            parts.append("quantized result")
        return ", ".join(parts)


# ===----------------------------------------------------------------------=== #
# Comparison
# ===----------------------------------------------------------------------=== #


def ulps(actual, expected):
    """|actual - expected| in units of the last place of expected (f32)."""
    spacing = np.spacing(np.abs(expected).astype(np.float32))
    spacing = np.maximum(spacing, np.float32(2.0 ** -149))
    return (np.abs(actual.astype(np.float64) - expected.astype(np.float64)) /
            spacing.astype(np.float64))


def real_values(case, x):
    """The f32 values of input x (dequantized when it is quantized)."""
    if not case.in_q:
        return x.astype(np.float64)
    _, axis, scales, zps = case.in_q
    shape = [1] * x.ndim
    if axis is not None:
        shape[axis] = len(scales)
    s = np.array(scales, np.float64).reshape(shape)
    z = np.array(zps, np.int64).reshape(shape)
    return (x.astype(np.int64) - z) * s


def compare(case, expected, actual, x):
    """Returns (problem or None, relative error, max ulps, steps off)."""
    if expected.dtype != actual.dtype or expected.shape != actual.shape:
        return (f"result is {actual.dtype} {actual.shape}, the reference "
                f"gives {expected.dtype} {expected.shape}", 0.0, 0.0, 0)
    if expected.dtype != np.float32:
        diff = np.abs(expected.astype(np.int64) - actual.astype(np.int64))
        worst = int(diff.max()) if diff.size else 0
        limit = 0 if case.op in EXACT_OPS else 1
        if worst > limit:
            flat = int(np.argmax(diff))
            idx = np.unravel_index(flat, expected.shape)
            return (f"stored values differ by up to {worst} (allowed "
                    f"{limit}); at {tuple(int(i) for i in idx)}: reference "
                    f"{expected[idx]}, compiled {actual[idx]}", 0.0, 0.0,
                    worst)
        return None, 0.0, 0.0, worst
    e_nan, a_nan = np.isnan(expected), np.isnan(actual)
    e_inf, a_inf = np.isinf(expected), np.isinf(actual)
    bad = (e_nan != a_nan) | (e_inf != a_inf) | (e_inf & a_inf &
                                                 (expected != actual))
    if bad.any():
        idx = np.unravel_index(int(np.flatnonzero(bad)[0]), expected.shape)
        return (f"{int(bad.sum())} NaN/inf mismatches; at "
                f"{tuple(int(i) for i in idx)}: reference {expected[idx]}, "
                f"compiled {actual[idx]}", 0.0, 0.0, 0)
    finite = np.isfinite(expected)
    e, a = expected[finite], actual[finite]
    if e.size == 0:
        return None, 0.0, 0.0, 0
    err = np.abs(a.astype(np.float64) - e.astype(np.float64))
    if case.op.startswith("gelu"):
        # The reference's own error: 1 + erf(v / sqrt 2) and 1 + tanh(u)
        # cancel in double for v < -5, to about |v| * 2^-53 (at v = -7.77 it
        # is 0.3% of the result; the compiled erfc form is accurate there).
        # Error beyond that bound counts.
        bound = np.abs(real_values(case, x)[finite]) * 2.0 ** -50
        err = np.maximum(err - bound, 0.0)
    # Results below 2^-64 in magnitude count as that: exp flushes results
    # below 2^-126 to zero (silu(-88) = -5.3e-37 computes as -0.0).
    scale = max(float(np.abs(e).max()), FLOOR)
    rel = float(err.max()) / scale
    # ulps only where the result matters at the tolerance's scale (tiny
    # results have huge ulp errors from flushing, which the tolerance allows).
    big = np.abs(e) >= TOLERANCE * scale
    max_ulps = float(ulps(a[big], e[big]).max()) if big.any() else 0.0
    if case.op in EXACT_OPS:
        if (e.view(np.uint32) != a.view(np.uint32)).any():
            flat = int(np.argmax(err))
            return (f"not bit-exact: max error {err.max():.3g} "
                    f"({max_ulps:.3g} ulp) at reference {e[flat]!r}, compiled "
                    f"{a[flat]!r}", rel, max_ulps, 0)
        return None, rel, max_ulps, 0
    if rel > TOLERANCE:
        flat = int(np.argmax(err))
        return (f"max error {err.max():.3g} = {rel:.3g} * max |reference| "
                f"(allowed {TOLERANCE:.3g}) at reference {e[flat]!r}, "
                f"compiled {a[flat]!r}", rel, max_ulps, 0)
    return None, rel, max_ulps, 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    rm.add_run_arguments(parser, cases=150, batch=25)
    parser.add_argument("--ops", default=",".join(OPS),
                        help="comma-separated ops to draw from")
    parser.add_argument("--report", action="store_true",
                        help="print the largest error measured per op")
    args = parser.parse_args()
    if not args.qlow_run:
        parser.error("qlow-run is not on PATH; give --qlow-run")
    rm.CPU = args.cpu
    rm.THREADS = args.num_threads
    ops = args.ops.split(",")

    start = time.time()
    work = args.work_dir
    rm.prepare_work_dir(work)
    rng = random.Random(args.seed)
    nprng = np.random.default_rng(args.seed)
    cases = [Case(f"f_{i}", rng, ops[i % len(ops)])
             for i in range(args.cases)]
    batches, files, in_dir, ref_errors, jit_errors = rm.write_and_run(
        cases, args, nprng, "random_float_ops.py")

    worst = {}

    def compare_and_record(case, expected, actual):
        x = (None if case.op == "embedding" else
             np.load(os.path.join(in_dir, f"{case.name}.0.npy")))
        problem, rel, max_ulps, steps = compare(case, expected, actual, x)
        kind = case.op + (" (quantized result)" if case.out_q else "")
        w = worst.setdefault(kind, [0.0, 0.0, 0, 0])
        w[0] = max(w[0], rel)
        w[1] = max(w[1], max_ulps)
        w[2] = max(w[2], steps)
        w[3] += 1
        return problem

    passed, failed = rm.check_cases(batches, files, in_dir, work, ref_errors,
                                    jit_errors, compare_and_record)
    if args.report:
        for kind in sorted(worst):
            rel, max_ulps, steps, count = worst[kind]
            print(f"{kind}: {count} cases, max error {rel:.3g} * max "
                  f"|reference| ({rel / TOLERANCE:.3g} of the tolerance), "
                  f"max {max_ulps:.3g} ulp, max {steps} steps")
    print(f"{passed} passed, {failed} failed ({time.time() - start:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
