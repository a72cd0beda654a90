#!/usr/bin/env python3
"""Random qlow.attention functions: compiled execution against the reference.

    random_attention.py --cases 60 --seed 1 --work-dir /tmp/ra [--report]
        [--kinds prefill,cache,decode,short]

Generates random qlow.attention functions (qlow-x86-attention's fused
kernel), writes them with random .npy inputs, runs them with
`qlow-run --reference` (double inside, rounded once to f32) and with compiled
`qlow-run`, and compares:

  * f32 results: max |compiled - reference| <= TOLERANCE * max |v| *
    max(1, max |score|), scores = scale * q . k (the output is a convex
    combination of the rows of v, so max |v| is the scale of the result; the
    kernel computes scores in f32, and an error of one rounding in a score
    s moves its weight exp(s - max) by about |s| times that); a row whose
    keys are all masked is zeros in both;
  * quantized results: every stored value within one step.

Shapes: B in {1, 2}; Hkv in {1, 2, 3} and H = Hkv * G with G in {1, 2, 4}
(grouped-query attention); S and T often odd or prime (prefill S = T, a
cache T > S, a decode step S = 1 against T around 37, and T < S; --kinds
draws only the kinds named); head sizes
D and Dv that are not multiples of the vector width (1 to 80), and 128. Causal or
not; no mask, an f32 mask (random values and -inf, broadcasting from rank 1
to 4) or an i1 mask (some rows fully masked); an explicit scale sometimes;
q, k, v quantized (u8/i8 per tensor, i8 per head axis) and the result
quantized per tensor sometimes.
Prints one block per failing function, then "N passed, M failed".
"""

import argparse
import concurrent.futures
import os
import random
import shutil
import sys
import time

import numpy as np

import random_matmul as rm

# Relative to max |v| (2^-16: the measured worst over 2000 random functions
# is below 2^-19; see --report).
TOLERANCE = 2.0 ** -16
ODD = [1, 2, 3, 5, 7, 9, 13, 16, 17, 19, 31, 33, 37, 45]
HEAD = [1, 3, 7, 8, 16, 17, 20, 24, 32, 33, 48, 64, 80, 128]
STORAGE = {"u8": (0, 255, np.uint8), "i8": (-128, 127, np.int8)}


def fmt(x):
    text = rm.fmt(x)
    if "e" in text and "." not in text:
        text = text.replace("e", ".0e")
    return text


def quant_type(q):
    storage, axis, scales, zps = q
    if axis is None:
        return f"!quant.uniform<{storage}:f32, {fmt(scales[0])}:{zps[0]}>"
    params = ", ".join(f"{fmt(s)}:{z}" for s, z in zip(scales, zps))
    return f"!quant.uniform<{storage}:f32:{axis}, {{{params}}}>"


# --kinds: the shape kinds drawn (empty: prefill twice as often as cache,
# decode and short).
KINDS = []


class AttentionShape:
    """What the random attention scripts (this one and
    random_int8_attention.py) draw alike: batch, heads, sequence lengths,
    head sizes and the mask; and the qlow.attention function text."""

    def draw_lengths(self, rng, odd, head, decode_lengths):
        self.b = rng.choice([1, 1, 2])
        self.hkv = rng.choice([1, 2, 3])
        self.group = rng.choice([1, 2, 4])
        self.h = self.hkv * self.group
        kind = rng.choice(KINDS or
                          ["prefill", "prefill", "cache", "decode", "short"])
        if kind == "prefill":
            self.s = self.t = rng.choice(odd)
        elif kind == "cache":
            self.s = rng.choice(odd)
            self.t = self.s + rng.choice(odd)
        elif kind == "decode":
            self.s = 1
            self.t = rng.choice(decode_lengths)
        else:  # fewer keys than queries
            self.t = rng.choice(odd[:8])
            self.s = self.t + rng.choice(odd[:8])
        self.kind = kind
        self.d = rng.choice(head)
        self.dv = self.d if rng.random() < 0.7 else rng.choice(head)

    def draw_mask(self, rng):
        self.mask = rng.choice([None, None, "f32", "i1"])
        if self.mask:
            full = [self.b, self.h, self.s, self.t]
            rank = rng.randint(1, 4)
            shape = full[4 - rank:]
            # Broadcast some dimensions.
            self.mask_shape = [1 if (rng.random() < 0.4 and i < rank - 1)
                               else d for i, d in enumerate(shape)]
            if rng.random() < 0.2:
                self.mask_shape[-1] = 1

    def shape_of(self, what):
        return {"q": [self.b, self.h, self.s, self.d],
                "k": [self.b, self.hkv, self.t, self.d],
                "v": [self.b, self.hkv, self.t, self.dv],
                "out": [self.b, self.h, self.s, self.dv]}[what]

    def mask_type(self):
        dims = "".join(f"{d}x" for d in self.mask_shape)
        return f"tensor<{dims}{self.mask}>"

    def attention_function(self, name, types, extra_attrs=()):
        """func @name(q, k, v[, mask]) returning qlow.attention; `types`
        maps q, k, v and out to their tensor types."""
        args = [f"%q: {types['q']}", f"%k: {types['k']}",
                f"%v: {types['v']}"]
        operands = "%q, %k, %v"
        operand_types = [types[w] for w in ("q", "k", "v")]
        if self.mask:
            args.append(f"%m: {self.mask_type()}")
            operands += ", %m"
            operand_types.append(self.mask_type())
        attrs = []
        if self.causal:
            attrs.append("causal")
        if self.scale is not None:
            attrs.append(f"scale = {fmt(self.scale)} : f32")
        attrs += list(extra_attrs)
        attr = f" {{{', '.join(attrs)}}}" if attrs else ""
        out = types["out"]
        return (f"func.func @{name}({', '.join(args)}) -> {out} {{\n"
                f"  %o = qlow.attention {operands}{attr} : "
                f"({', '.join(operand_types)}) -> {out}\n"
                f"  return %o : {out}\n}}\n")

    def mask_inputs(self, nprng):
        """The mask argument's array, if any, drawn from `nprng`."""
        if self.mask == "f32":
            m = nprng.uniform(-3, 1, size=self.mask_shape).astype(np.float32)
            m[nprng.random(self.mask_shape) < 0.2] = -np.inf
            return [m]
        if self.mask == "i1":
            keep = nprng.random(self.mask_shape) < 0.75
            if keep.ndim >= 2 and keep.shape[-2] > 1 and \
                    nprng.random() < 0.5:
                keep[..., 0, :] = False  # a fully masked row
            return [keep]
        return []

    def describe_parts(self):
        parts = [f"{self.kind} B={self.b} H={self.h} Hkv={self.hkv} "
                 f"S={self.s} T={self.t} D={self.d} Dv={self.dv}"]
        if self.causal:
            parts.append("causal")
        if self.mask:
            parts.append(f"{self.mask} mask {self.mask_shape}")
        if self.scale is not None:
            parts.append(f"scale {self.scale:.3g}")
        return parts


class Case(AttentionShape):
    """One random attention function and its inputs."""

    def __init__(self, name, rng):
        self.name = name
        self.draw_lengths(rng, ODD, HEAD, [37, 33, 17, 5, 1, 64, 71])
        self.causal = rng.random() < 0.5
        self.scale = None if rng.random() < 0.7 else rng.uniform(0.05, 0.6)
        self.magnitude = rng.choice([0.3, 1.0, 2.0])
        self.draw_mask(rng)
        # Quantized operands and result.
        self.qs = {}
        if rng.random() < 0.3:
            for what in ("q", "k", "v"):
                if rng.random() < 0.7:
                    self.qs[what] = self.random_quant(rng, what)
        self.out_q = None
        if rng.random() < 0.25:
            storage = rng.choice(["u8", "i8"])
            lo, hi, _ = STORAGE[storage]
            top = self.magnitude * 2.5
            self.out_q = (storage, None, [top / rng.uniform(60, 120)],
                          [rng.randint(lo + 60, hi - 60)])

    def random_quant(self, rng, what):
        storage = rng.choice(["u8", "i8"])
        lo, hi, _ = STORAGE[storage]
        heads = self.h if what == "q" else self.hkv
        if storage == "i8" and rng.random() < 0.4:
            scales = [self.magnitude * rng.uniform(0.5, 2) / 40
                      for _ in range(heads)]
            return (storage, 1, scales, [0] * heads)
        return (storage, None, [self.magnitude / 40],
                [rng.randint(lo // 2, hi // 2)])

    def type_of(self, what):
        dims = "x".join(str(d) for d in self.shape_of(what))
        q = self.out_q if what == "out" else self.qs.get(what)
        return f"tensor<{dims}x{quant_type(q) if q else 'f32'}>"

    def mlir(self):
        return self.attention_function(
            self.name, {w: self.type_of(w) for w in ("q", "k", "v", "out")})

    def inputs(self, nprng):
        arrays = []
        for what in ("q", "k", "v"):
            shape = self.shape_of(what)
            if what in self.qs:
                lo, hi, dtype = STORAGE[self.qs[what][0]]
                arrays.append(nprng.integers(lo, hi, size=shape,
                                             endpoint=True).astype(dtype))
            else:
                arrays.append((nprng.standard_normal(shape) *
                               self.magnitude).astype(np.float32))
        return arrays + self.mask_inputs(nprng)

    def real(self, what, x):
        """The real values of input `what` (dequantized when quantized)."""
        if what not in self.qs:
            return x.astype(np.float64)
        _, axis, scales, zps = self.qs[what]
        shape = [1] * 4
        if axis is not None:
            shape[axis] = len(scales)
        return (x.astype(np.int64) - np.array(zps).reshape(shape)) * \
            np.array(scales).reshape(shape)

    def error_scale(self, q, k, v):
        """max |v| * max(1, max |score|): the scale of the f32 kernel's
        error (a score off by a relative f32 rounding moves its weight
        exp(s - m) by that much times |s|)."""
        vr = self.real("v", v)
        vmax = float(np.abs(vr).max()) if vr.size else 0.0
        qr, kr = self.real("q", q), self.real("k", k)
        if qr.size == 0 or kr.size == 0:
            return vmax
        kr = np.repeat(kr, self.group, axis=1)
        scale = (self.scale if self.scale is not None else
                 float(np.float32(1.0) / np.sqrt(np.float32(self.d))))
        scores = np.abs(np.einsum("bhsd,bhtd->bhst", qr, kr)) * scale
        return vmax * max(1.0, float(scores.max()))

    def describe(self):
        parts = self.describe_parts()
        if self.qs:
            parts.append("quantized " + ",".join(sorted(self.qs)))
        if self.out_q:
            parts.append("quantized result")
        return ", ".join(parts)


def compare(case, expected, actual, q, k, v):
    """Returns (problem or None, error relative to the error scale, steps
    off)."""
    if expected.dtype != actual.dtype or expected.shape != actual.shape:
        return (f"result is {actual.dtype} {actual.shape}, the reference "
                f"gives {expected.dtype} {expected.shape}", 0.0, 0)
    if expected.size == 0:
        return None, 0.0, 0
    if expected.dtype != np.float32:
        diff = np.abs(expected.astype(np.int64) - actual.astype(np.int64))
        worst = int(diff.max())
        if worst > 1:
            idx = np.unravel_index(int(np.argmax(diff)), expected.shape)
            return (f"stored values differ by up to {worst} (allowed 1); at "
                    f"{tuple(int(i) for i in idx)}: reference {expected[idx]}"
                    f", compiled {actual[idx]}", 0.0, worst)
        return None, 0.0, worst
    if not np.array_equal(np.isfinite(expected), np.isfinite(actual)):
        return "non-finite values at different places", 0.0, 0
    err = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    rel = float(err.max()) / max(case.error_scale(q, k, v), 1e-30)
    if rel > TOLERANCE:
        idx = np.unravel_index(int(np.argmax(err)), expected.shape)
        return (f"max error {err.max():.3g} = {rel:.3g} * max |v| * "
                f"max(1, max |score|) (allowed "
                f"{TOLERANCE:.3g}) at {tuple(int(i) for i in idx)}: "
                f"reference {expected[idx]!r}, compiled {actual[idx]!r}",
                rel, 0)
    return None, rel, 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    rm.add_run_arguments(parser, cases=60, batch=20)
    parser.add_argument("--report", action="store_true",
                        help="print the largest error measured")
    parser.add_argument("--kinds", default="",
                        help="comma-separated shape kinds to draw (prefill, "
                             "cache, decode, short; default all)")
    args = parser.parse_args()
    KINDS[:] = [k for k in args.kinds.split(",") if k]
    if not args.qlow_run:
        parser.error("qlow-run is not on PATH; give --qlow-run")
    rm.CPU = args.cpu
    rm.THREADS = args.num_threads

    start = time.time()
    work = args.work_dir
    rm.prepare_work_dir(work)
    rng = random.Random(args.seed)
    nprng = np.random.default_rng(args.seed)
    cases = [Case(f"a_{i}", rng) for i in range(args.cases)]
    batches, files, in_dir, ref_errors, jit_errors = rm.write_and_run(
        cases, args, nprng, "random_attention.py")

    worst = {"rel": 0.0, "steps": 0, "zero_rows": 0}

    def compare_and_record(case, expected, actual):
        q, k, v = (np.load(os.path.join(in_dir, f"{case.name}.{i}.npy"))
                   for i in range(3))
        problem, rel, steps = compare(case, expected, actual, q, k, v)
        worst["rel"] = max(worst["rel"], rel)
        worst["steps"] = max(worst["steps"], steps)
        if expected.dtype == np.float32 and expected.size:
            rows = expected.reshape(-1, expected.shape[-1])
            worst["zero_rows"] += int((~rows.any(axis=1)).sum())
        return problem

    passed, failed = rm.check_cases(batches, files, in_dir, work, ref_errors,
                                    jit_errors, compare_and_record)
    worst_rel, worst_steps, zero_rows = (worst["rel"], worst["steps"],
                                         worst["zero_rows"])
    if args.report:
        print(f"max error {worst_rel:.3g} * max |v| * max(1, max |score|) "
              f"({worst_rel / TOLERANCE:.3g}"
              f" of the tolerance); quantized results at most {worst_steps} "
              f"steps off; {zero_rows} fully masked rows (zeros)")
    print(f"{passed} passed, {failed} failed ({time.time() - start:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
