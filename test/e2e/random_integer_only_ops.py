#!/usr/bin/env python3
"""Random integer-only ops: compiled execution against the reference, bit-exact.

    random_integer_only_ops.py --cases 90 --seed 1 --work-dir /tmp/ri

Generates random qlow.int_softmax, qlow.int_layer_norm and qlow.int_gelu
functions (I-BERT's integer-only forms; lib/Reference/IntegerOnly.cpp) and
.npy inputs, runs them with `qlow-run --reference` and with compiled
`qlow-run` (convert-qlow-to-linalg's IntegerOnlyToLinalg.cpp, then the CPU
pipeline), and requires every stored output value to be identical.

Each function draws a shape of rank 1 to 4 whose sizes are often primes or
not multiples of 8 or 16 (1 to 1023), the softmax axis, input storage (i8,
u8, i16, u16; i32 for softmax, sometimes with values spread over the whole
i32 range so that q - max saturates), result storage (i8, u8, i16, u16,
sometimes a narrowed range), scales over several decades and random zero
points; layer_norm gets constant gamma (sometimes negative) and optional
beta, and an epsilon among 0, 1e-5 and 0.1. Input values are uniform over
the storage range or concentrated near one value (so that softmax rows have
one dominant element and layer_norm rows a tiny variance). Prints one block
per failing function and then "N passed, M failed".
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

OPS = ("int_softmax", "int_layer_norm", "int_gelu")
SIZES = [1, 2, 3, 5, 7, 13, 15, 16, 17, 31, 33, 61, 64, 77, 97, 127, 131,
         257, 509, 768, 1023]
STORAGE = {"u8": (0, 255, np.uint8), "i8": (-128, 127, np.int8),
           "u16": (0, 65535, np.uint16), "i16": (-32768, 32767, np.int16),
           "i32": (-2**31, 2**31 - 1, np.int32)}


def fmt(x):
    """A double as MLIR parses it back exactly."""
    text = rm.fmt(x)
    if "e" in text and "." not in text:
        text = text.replace("e", ".0e")
    return text


class Case:
    """One random integer-only function and its inputs."""

    def __init__(self, name, rng, op):
        self.name = name
        self.op = op
        rank = rng.randint(1, 4)
        while True:
            self.shape = [rng.choice(SIZES) if rng.random() < 0.6
                          else rng.randint(1, 300) for _ in range(rank)]
            if math.prod(self.shape) <= 60_000:
                break
        self.axis = rng.randint(-rank, rank - 1)
        inputs = ["i8", "u8", "i16", "u16"] + (["i32"] if op == "int_softmax"
                                               else [])
        self.in_storage = rng.choice(inputs)
        lo, hi, _ = STORAGE[self.in_storage]
        self.in_scale = 10.0 ** rng.uniform(-4, 0)
        if self.in_storage == "i32":
            self.in_scale = 10.0 ** rng.uniform(-7, -3)
        self.in_zero = (0 if self.in_storage == "i32"
                        else rng.randint(lo, hi) if rng.random() < 0.5
                        else (lo + hi + 1) // 2 if lo == 0 else 0)
        self.spread = rng.choice(["full", "full", "narrow", "wide"])
        self.out_storage = rng.choice(["i8", "u8", "i16", "u16"])
        olo, ohi, _ = STORAGE[self.out_storage]
        self.narrow = rng.random() < 0.15
        if self.narrow:
            olo, ohi = olo + 1, ohi
        self.out_range = (olo, ohi)
        if op == "int_softmax":
            levels = ohi - olo
            self.out_scale = rng.uniform(0.9, 1.6) / levels
            self.out_zero = rng.randint(olo, olo + min(20, levels // 4))
        else:
            # The real range of the result: about the input's, or a few units
            # for layer_norm; centred or not.
            top = (self.in_scale * (hi - lo) / 2 if op == "int_gelu"
                   else 4.0)
            self.out_scale = top * rng.uniform(0.3, 3) / ((ohi - olo) / 2)
            self.out_zero = rng.randint(olo + (ohi - olo) // 4,
                                        ohi - (ohi - olo) // 4)
        self.epsilon = rng.choice([0.0, 1e-5, 0.1])
        self.beta = rng.random() < 0.6
        d = self.shape[-1]
        # gamma / so must stay below 2^15 (the fixed-point limit).
        gmax = min(2.0, 2.0 ** 14 * self.out_scale)
        self.gamma = [rng.uniform(-gmax, gmax) if rng.random() < 0.2
                      else rng.uniform(0.2, gmax) for _ in range(d)]
        self.beta_values = [rng.uniform(-1, 1) for _ in range(d)]

    # Types ----------------------------------------------------------------

    def dims(self):
        return "x".join(str(d) for d in self.shape)

    def in_type(self):
        return (f"tensor<{self.dims()}x!quant.uniform<{self.in_storage}:f32, "
                f"{fmt(self.in_scale)}:{self.in_zero}>>")

    def out_type(self):
        storage = self.out_storage
        if self.narrow:
            storage += f"<{self.out_range[0]}:{self.out_range[1]}>"
        return (f"tensor<{self.dims()}x!quant.uniform<{storage}:f32, "
                f"{fmt(self.out_scale)}:{self.out_zero}>>")

    def mlir(self):
        x, y = self.in_type(), self.out_type()
        lines = []
        if self.op == "int_softmax":
            lines.append(f"  %y = qlow.int_softmax %x {{axis = {self.axis} : "
                         f"i64}} : {x} -> {y}")
        elif self.op == "int_gelu":
            lines.append(f"  %y = qlow.int_gelu %x : {x} -> {y}")
        else:
            d = self.shape[-1]
            vec = f"tensor<{d}xf32>"

            def const(name, values):
                body = ", ".join(fmt(float(np.float32(v))) for v in values)
                return f"  %{name} = arith.constant dense<[{body}]> : {vec}"
            lines.append(const("g", self.gamma))
            operands, types = "%x, %g", f"{x}, {vec}"
            if self.beta:
                lines.append(const("b", self.beta_values))
                operands += ", %b"
                types += f", {vec}"
            lines.append(f"  %y = qlow.int_layer_norm {operands} {{epsilon = "
                         f"{fmt(self.epsilon)} : f32}} : ({types}) -> {y}")
        body = "\n".join(lines)
        return (f"func.func @{self.name}(%x: {x}) -> {y} {{\n{body}\n"
                f"  return %y : {y}\n}}\n")

    def inputs(self, nprng):
        lo, hi, dtype = STORAGE[self.in_storage]
        if self.spread == "narrow":
            # Near one value: a dominant softmax element, tiny variances.
            centre = int(nprng.integers(lo, hi, endpoint=True))
            x = np.clip(centre + nprng.integers(-3, 3, size=self.shape,
                                                endpoint=True), lo, hi)
        elif self.spread == "wide" or self.in_storage != "i32":
            x = nprng.integers(lo, hi, size=self.shape, endpoint=True)
        else:
            # i32 accumulators of a matmul: a few thousand around 0.
            x = nprng.integers(-200_000, 200_000, size=self.shape,
                               endpoint=True)
        return [np.asarray(x).astype(dtype)]

    def describe(self):
        parts = [self.op, self.dims()]
        if self.op == "int_softmax":
            parts.append(f"axis {self.axis}")
        if self.op == "int_layer_norm":
            parts.append(f"epsilon {self.epsilon:g}, beta {self.beta}")
        parts.append(f"{self.in_storage} scale {self.in_scale:.3g} zp "
                     f"{self.in_zero} ({self.spread} values) -> "
                     f"{self.out_storage}{' narrow' if self.narrow else ''} "
                     f"scale {self.out_scale:.3g} zp {self.out_zero}")
        return ", ".join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    rm.add_run_arguments(parser, cases=90, batch=30)
    parser.add_argument("--ops", default=",".join(OPS),
                        help="comma-separated ops to draw from")
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
        cases, args, nprng, "random_integer_only_ops.py")

    def compare(case, expected, actual):
        if (expected.dtype != actual.dtype or
                expected.shape != actual.shape):
            return (f"result is {actual.dtype} {actual.shape}, "
                    f"the reference gives {expected.dtype} "
                    f"{expected.shape}")
        differ = expected != actual
        if not differ.any():
            return None
        idx = np.unravel_index(int(np.flatnonzero(differ)[0]),
                               expected.shape)
        return (f"{int(differ.sum())} of {expected.size} "
                f"stored values differ; at "
                f"{tuple(int(i) for i in idx)}: reference "
                f"{expected[idx]}, compiled {actual[idx]}")

    passed, failed = rm.check_cases(batches, files, in_dir, work, ref_errors,
                                    jit_errors, compare)
    print(f"{passed} passed, {failed} failed ({time.time() - start:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
