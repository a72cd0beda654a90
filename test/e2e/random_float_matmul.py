#!/usr/bin/env python3
"""Random f32 qlow.matmul functions: compiled execution against the reference.

    random_float_matmul.py --cases 120 --seed 1 --work-dir /tmp/rfm [--cpu C]

Generates random float matmuls (what qlow-float-matmul compiles), writes them
with random .npy inputs, runs them with `qlow-run --reference` and compiled
`qlow-run`, and compares the results with the tolerance FloatMatmul.cpp
states: the kernel sums over k in order with one fused multiply-add per step
where the reference rounds the product and the sum separately, so

    |compiled - reference| <= 2 K 2^-24 (|A| |W| + |bias|)

element by element (both are within K 2^-24 (|A| |W|) of the exact sum), and
after an activation (gelu, silu) or a residual add that bound times
1.2 plus 2^-20 of the largest reference magnitude (the activations'
polynomials are within that of each other).

Each function draws M, K, N from 1 to 300 (often primes and sizes that are
not multiples of 8 or 16); the weights a constant (packed at compile time)
or an argument; sometimes leading batch dimensions (1 or 2 of them, weights
per batch as an argument, or shared constant weights); sometimes an f32
bias; sometimes an activation or a residual add after the matmul (fused as
the kernel's epilogue where the matmul is 2-D).
"""

import math
import os
import random
import sys
import time

import numpy as np

import random_matmul as rm

SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 24, 31, 33, 48, 61, 64, 97, 127,
         131, 192, 257]
ACTIVATIONS = (None, None, "gelu", "silu", "residual")


def size(rng):
    return rng.choice(SIZES) if rng.random() < 0.6 else rng.randint(1, 300)


def tensor(shape):
    return "tensor<" + "x".join(str(d) for d in shape) + "xf32>"


def literal(array):
    """An f32 array as an MLIR dense literal (hex: exact)."""
    data = np.ascontiguousarray(array, dtype="<f4").tobytes().hex().upper()
    return f'dense<"0x{data}"> : {tensor(array.shape)}'


class Case:
    def __init__(self, name, rng):
        self.name = name
        self.m, self.k, self.n = size(rng), size(rng), size(rng)
        self.batch = []
        if rng.random() < 0.3:
            self.batch = [rng.randint(1, 3) for _ in range(rng.randint(1, 2))]
        # Batched weights are per batch (an argument) or shared (constant).
        self.const_weights = rng.random() < 0.5
        self.shared_weights = bool(self.batch) and self.const_weights
        self.bias = rng.random() < 0.4
        self.activation = rng.choice(ACTIVATIONS)
        self.seed = rng.randint(0, 2 ** 31)

    def describe(self):
        return (f"batch={self.batch} M={self.m} K={self.k} N={self.n} "
                f"weights={'constant' if self.const_weights else 'argument'} "
                f"bias={self.bias} after={self.activation}")

    def shapes(self):
        a = self.batch + [self.m, self.k]
        w = ([self.k, self.n] if self.shared_weights or not self.batch
             else self.batch + [self.k, self.n])
        y = self.batch + [self.m, self.n]
        return a, w, y

    def values(self):
        rng = np.random.default_rng(self.seed)
        a, w, y = self.shapes()
        weights = (rng.standard_normal(w) * 0.2).astype(np.float32)
        bias = rng.standard_normal(self.n).astype(np.float32)
        return weights, bias

    def mlir(self):
        a, w, y = self.shapes()
        weights, bias = self.values()
        args = [f"%a: {tensor(a)}"]
        lines = []
        if self.const_weights:
            lines.append(f"  %w = arith.constant {literal(weights)}")
        else:
            args.append(f"%w: {tensor(w)}")
        if self.activation == "residual":
            args.append(f"%r: {tensor(y)}")
        operands, types = "%a, %w", f"{tensor(a)}, {tensor(w)}"
        if self.bias:
            lines.append(f"  %b = arith.constant {literal(bias)}")
            operands += ", %b"
            types += f", {tensor([self.n])}"
        lines.append(f"  %y = qlow.matmul {operands} : ({types}) -> "
                     f"{tensor(y)}")
        result = "%y"
        if self.activation in ("gelu", "silu"):
            lines.append(f"  %z = qlow.{self.activation} %y : {tensor(y)} -> "
                         f"{tensor(y)}")
            result = "%z"
        elif self.activation == "residual":
            lines.append(f"  %z = qlow.add %y, %r {{rounding = "
                         f"#qlow.rounding<float>}} : ({tensor(y)}, "
                         f"{tensor(y)}) -> {tensor(y)}")
            result = "%z"
        return (f"func.func @{self.name}({', '.join(args)}) -> {tensor(y)} "
                f"{{\n" + "\n".join(lines) +
                f"\n  return {result} : {tensor(y)}\n}}\n")

    def inputs(self, nprng):
        a, w, y = self.shapes()
        self.a = nprng.standard_normal(a).astype(np.float32)
        out = [self.a]
        weights, _ = self.values()
        if not self.const_weights:
            out.append(weights)
        if self.activation == "residual":
            out.append(nprng.standard_normal(y).astype(np.float32))
        return out


def compare(case, expected, actual):
    if expected.dtype != actual.dtype or expected.shape != actual.shape:
        return (f"result is {actual.dtype} {actual.shape}, the reference "
                f"gives {expected.dtype} {expected.shape}")
    weights, bias = case.values()
    magnitude = np.matmul(np.abs(case.a.astype(np.float64)),
                          np.abs(weights.astype(np.float64)))
    if case.bias:
        magnitude = magnitude + np.abs(bias.astype(np.float64))
    bound = 2 * case.k * 2.0 ** -24 * magnitude
    if case.activation is not None:
        bound = 1.2 * bound + 2.0 ** -20 * float(np.max(np.abs(expected)))
    err = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    bad = err > bound
    if not np.all(np.isfinite(actual)) or np.any(bad):
        worst = np.unravel_index(np.argmax(err - bound), err.shape)
        return (f"{int(np.count_nonzero(bad))} elements beyond the bound; "
                f"worst at {tuple(int(i) for i in worst)}: compiled "
                f"{actual[worst]!r}, reference {expected[worst]!r}, bound "
                f"{bound[worst]:.3e}")
    return None


def main():
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    rm.add_run_arguments(parser, cases=120, batch=20)
    args = parser.parse_args()
    rm.CPU = args.cpu
    rm.THREADS = args.num_threads
    if not args.qlow_run:
        parser.error("qlow-run is not on PATH; give --qlow-run")
    start = time.time()
    rm.prepare_work_dir(args.work_dir)
    rng = random.Random(args.seed)
    nprng = np.random.default_rng(args.seed)
    cases = [Case(f"fmm_{i}", rng) for i in range(args.cases)]
    batches, files, in_dir, ref_errors, jit_errors = rm.write_and_run(
        cases, args, nprng, "random_float_matmul.py")
    passed, failed = rm.check_cases(batches, files, in_dir, args.work_dir,
                                    ref_errors, jit_errors, compare)
    print(f"{passed} passed, {failed} failed ({time.time() - start:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
