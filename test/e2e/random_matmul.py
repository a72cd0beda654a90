#!/usr/bin/env python3
"""Random qlow.matmul functions: compiled execution against the reference.

    random_matmul.py --cases 200 --seed 1 --work-dir /tmp/rm [--jobs 2]

Generates random integer-path qlow.matmul functions, writes them (batched,
several functions per MLIR file) with random .npy inputs, runs every batch with
`qlow-run --reference` and with compiled `qlow-run`, and requires the outputs
to be bit-for-bit identical. Each function draws:

  * M, N, K from 1 to 300, often primes or sizes that are not multiples of 8
    or 16; sometimes batch dimensions (lhs [B, M, K] with a shared [K, N] or a
    batched [B, K, N] rhs);
  * activations (the argument) u8 or i8, per tensor, with an asymmetric zero
    point;
  * i8 weights as an arith.constant + quant.scast, per tensor or per output
    channel, with zero point 0 or (sometimes) not; full range [-128, 127], or
    with --weight-range 7bit [-64, 63] ("reduce_range" weights, on which the
    AVX2 kernel may use vpmaddubsw);
  * an optional i32 bias: a constant or an argument, plain i32 or quantized
    i32 with scale s_lhs * s_rhs;
  * a result of i32 accumulators, f32, or u8/i8 per tensor (sometimes per
    output channel) with fixedpoint or float rounding; some scales are powers
    of two, so that the multiplier makes exact ties and rounding is tested.

Prints one block per failing function (its file, what it is, the first
differing elements with the values the reference, the compiled code and an
independent numpy model of QlowOps.td's semantics give) and then
"N passed, M failed"; exits 1 if any failed. qlow-run is taken from --qlow-run,
or from PATH.
"""

import argparse
import concurrent.futures
import math
import os
import random
import shutil
import subprocess
import sys
import time

import numpy as np

PRIMES = [2, 3, 5, 7, 11, 13, 17, 31, 61, 67, 97, 127, 131, 193, 251, 257, 293,
          397, 509, 631, 691]
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
STORAGE = {"u8": (0, 255, np.uint8), "i8": (-128, 127, np.int8)}
# --weight-range: the stored weight values and their rms (which sizes the bias
# and the output scales).
WEIGHT_RANGES = {"full": (-128, 127, 74.0), "7bit": (-64, 63, 37.0)}


CPU = "host"
THREADS = 0  # qlow-run --num-threads of the compiled runs (0: its default)
EXTRA_FLAGS = []  # more qlow-run flags for the compiled runs
WEIGHT_RANGE = "full"  # a key of WEIGHT_RANGES
SHAPE_CLASS = "random"  # --shape-class


def fmt(x):
    """A double as MLIR parses it back exactly."""
    return repr(float(x))


# ===----------------------------------------------------------------------=== #
# Cases
# ===----------------------------------------------------------------------=== #


class Case:
    """One random matmul function and its inputs."""

    def __init__(self, name, rng):
        self.name = name
        self.batch = []
        self.rhs_batched = False
        # act-act: the rhs is an activation (a function argument, u8 or i8
        # with a zero point), as in attention's Q*K^T and P*V.
        self.rhs_arg = SHAPE_CLASS in ("act-act", "act-act-packed")
        if self.rhs_arg:
            self.batch = [rng.randint(1, 4) for _ in range(rng.randint(0, 2))]
            self.rhs_batched = bool(self.batch)
        elif rng.random() < 0.12:
            self.batch = [rng.randint(1, 3) for _ in range(rng.randint(1, 2))]
            self.rhs_batched = rng.random() < 0.5
        while SHAPE_CLASS in ("random", "act-act", "act-act-packed"):
            self.m, self.n, self.k = (self.dim(rng) for _ in range(3))
            if SHAPE_CLASS == "act-act-packed":
                # K a multiple of 4 and N of the kernel's panel width for
                # some tiles: the run-time packing without padding, in
                # vector registers (packRuntimeWeightBytes).
                self.k = 4 * ((self.k + 3) // 4)
                self.n = rng.choice([16, 32, 48, 64, 96, 128, 192])
            work = self.m * self.n * self.k * max(1, math.prod(self.batch))
            if work <= 3_000_000:
                break
        if SHAPE_CLASS == "aliased-rows":
            # Row strides that put a register tile's rows in one set of L1
            # (K = 4096, 8192, 4100; 4093..4095 pad to 4096): the int8
            # kernel copies the activations with a stride one line longer.
            self.batch = []
            self.rhs_batched = False
            self.k = rng.choice([4096, 8192, 4100, 4093, 4095, 4096])
            self.m = rng.randint(1, 24)
            self.n = rng.randint(1, 3_000_000 // (self.k * self.m) or 1)
        if SHAPE_CLASS == "row-blocked":
            # Activations (M x K bytes) beyond half of a 1 MiB L2 with a weight
            # panel that fits L1: the kernel cuts the rows into cache blocks.
            self.batch = []
            self.rhs_batched = False
            self.m = rng.randint(620, 1100)
            self.k = rng.randint(860, 1024)
            self.n = rng.choice([rng.randint(1, 32), rng.choice(PRIMES[:9])])

        # Activations: per tensor, asymmetric zero point.
        self.lhs_storage = rng.choice(["u8", "i8"])
        lo, hi, _ = STORAGE[self.lhs_storage]
        self.nice = rng.random() < 0.25  # power-of-two scales: exact ties
        self.sa = self.scale(rng, 0.002, 0.1)
        self.za = rng.randint(lo, hi)

        # Weights: i8 constants, per tensor or per output channel; or, for
        # act-act, an activation per tensor.
        self.rhs_storage = rng.choice(["u8", "i8"]) if self.rhs_arg else "i8"
        self.per_channel = not self.rhs_arg and rng.random() < 0.5
        channels = self.n if self.per_channel else 1
        self.sw = [self.scale(rng, 0.001, 0.05) for _ in range(channels)]
        if self.rhs_arg:
            rlo, rhi, _ = STORAGE[self.rhs_storage]
            self.zw = [rng.randint(rlo, rhi)]
        elif rng.random() < 0.2:
            self.zw = [rng.randint(-20, 20) for _ in range(channels)]
        else:
            self.zw = [0] * channels
        rhs_shape = (self.batch if self.rhs_batched else []) + [self.k, self.n]
        self.weight_range = WEIGHT_RANGE
        wlo, whi, rms_w = WEIGHT_RANGES[self.weight_range]
        wtype = np.int8
        if self.rhs_arg:
            wlo, whi, wtype = STORAGE[self.rhs_storage]
            var_w = ((whi - wlo + 1) ** 2 - 1) / 12.0
            rms_w = math.sqrt(var_w + ((whi + wlo) / 2.0 - self.zw[0]) ** 2)
        self.w = np.array(
            [rng.randint(wlo, whi) for _ in range(math.prod(rhs_shape))],
            dtype=np.int64).astype(wtype).reshape(rhs_shape)

        # The typical size of an accumulator: sqrt(K) * rms(a) * rms(w).
        var_q = ((hi - lo + 1) ** 2 - 1) / 12.0
        rms_a = math.sqrt(var_q + ((hi + lo) / 2.0 - self.za) ** 2)
        spread = math.sqrt(self.k) * rms_a * rms_w

        # Bias: none, a constant or an argument; i32 or quantized i32; about
        # as large as the accumulators.
        self.bias = rng.choice([None, "const", "arg"])
        self.bias_quantized = (self.bias is not None and not self.per_channel
                               and rng.random() < 0.3)
        limit = int(min(2.0 * spread, 1 << 20))
        self.bias_values = np.array(
            [rng.randint(-limit, limit) for _ in range(self.n)],
            dtype=np.int32)

        # Result: i32, f32 or quantized.
        self.result = rng.choice(["i32", "f32", "q", "q"])
        if self.result == "q":
            self.out_storage = rng.choice(["u8", "i8"])
            self.rounding = rng.choice(["fixedpoint", "float"])
            self.out_per_channel = rng.random() < 0.15
            olo, ohi, _ = STORAGE[self.out_storage]
            # Accumulators of about 30 output steps, so that the outputs use
            # the range and only some saturate.
            outs = self.n if self.out_per_channel else 1
            self.so = []
            for c in range(outs):
                base = self.sa * self.sw[c % len(self.sw)] * spread / 30.0
                self.so.append(self.scale(rng, base / 2.0, base * 2.0))
            self.zo = [rng.randint(olo + 10, ohi - 10) for _ in range(outs)]

    @staticmethod
    def dim(rng):
        r = rng.random()
        if r < 0.3:
            return rng.choice(PRIMES)
        if r < 0.5:
            return rng.randint(1, 16)
        return int(round(math.exp(rng.uniform(0.0, math.log(700.0)))))

    def scale(self, rng, lo, hi):
        if self.nice:
            return 2.0 ** rng.randint(math.floor(math.log2(lo)),
                                      math.ceil(math.log2(hi)))
        return math.exp(rng.uniform(math.log(lo), math.log(hi)))

    # Types ----------------------------------------------------------------

    def shape(self, dims):
        return "x".join(str(d) for d in dims)

    def lhs_dims(self):
        return self.batch + [self.m, self.k]

    def rhs_dims(self):
        return (self.batch if self.rhs_batched else []) + [self.k, self.n]

    def out_dims(self):
        return self.batch + [self.m, self.n]

    def lhs_type(self):
        q = f"!quant.uniform<{self.lhs_storage}:f32, {fmt(self.sa)}:{self.za}>"
        return f"tensor<{self.shape(self.lhs_dims())}x{q}>"

    def rhs_type(self):
        dims = self.rhs_dims()
        if self.per_channel:
            params = ", ".join(f"{fmt(s)}:{z}" for s, z in zip(self.sw, self.zw))
            q = f"!quant.uniform<i8:f32:{len(dims) - 1}, {{{params}}}>"
        else:
            q = (f"!quant.uniform<{self.rhs_storage}:f32, {fmt(self.sw[0])}:"
                 f"{self.zw[0]}>")
        return f"tensor<{self.shape(dims)}x{q}>"

    def bias_type(self):
        if self.bias_quantized:
            return (f"tensor<{self.n}x!quant.uniform<i32:f32, "
                    f"{fmt(self.sa * self.sw[0])}>>")
        return f"tensor<{self.n}xi32>"

    def out_type(self):
        dims = self.shape(self.out_dims())
        if self.result != "q":
            return f"tensor<{dims}x{self.result}>"
        if self.out_per_channel:
            params = ", ".join(f"{fmt(s)}:{z}" for s, z in zip(self.so, self.zo))
            axis = len(self.out_dims()) - 1
            q = f"!quant.uniform<{self.out_storage}:f32:{axis}, {{{params}}}>"
        else:
            q = (f"!quant.uniform<{self.out_storage}:f32, "
                 f"{fmt(self.so[0])}:{self.zo[0]}>")
        return f"tensor<{dims}x{q}>"

    # MLIR -----------------------------------------------------------------

    def mlir(self):
        args = [f"%a: {self.lhs_type()}"]
        if self.rhs_arg:
            args.append(f"%wq: {self.rhs_type()}")
        if self.bias == "arg":
            args.append(f"%bias: {self.bias_type()}")
        raw = f"tensor<{self.shape(self.rhs_dims())}xi8>"
        body = [] if self.rhs_arg else [
            f'  %w = arith.constant dense<"0x{self.w.tobytes().hex().upper()}">'
            f" : {raw}",
            f"  %wq = quant.scast %w : {raw} to {self.rhs_type()}",
        ]
        operands, types = ["%a", "%wq"], [self.lhs_type(), self.rhs_type()]
        if self.bias == "const":
            values = ", ".join(str(int(v)) for v in self.bias_values)
            constant = (f"arith.constant dense<[{values}]> : "
                        f"tensor<{self.n}xi32>")
            if self.bias_quantized:
                body.append(f"  %bc = {constant}")
                body.append(f"  %bias = quant.scast %bc : tensor<{self.n}xi32>"
                            f" to {self.bias_type()}")
            else:
                body.append(f"  %bias = {constant}")
        if self.bias is not None:
            operands.append("%bias")
            types.append(self.bias_type())
        attrs = ""
        if self.result == "q" and self.rounding == "float":
            attrs = " {rounding = #qlow.rounding<float>}"
        body.append(f"  %y = qlow.matmul {', '.join(operands)}{attrs} : "
                    f"({', '.join(types)}) -> {self.out_type()}")
        body.append(f"  return %y : {self.out_type()}")
        return (f"func.func @{self.name}({', '.join(args)}) -> "
                f"{self.out_type()} {{\n" + "\n".join(body) + "\n}\n")

    def inputs(self, nprng):
        lo, hi, dtype = STORAGE[self.lhs_storage]
        lhs = nprng.integers(lo, hi, size=self.lhs_dims(), endpoint=True,
                             dtype=np.int64).astype(dtype)
        arrays = [lhs]
        if self.rhs_arg:
            arrays.append(self.w)
        if self.bias == "arg":
            arrays.append(self.bias_values)
        return arrays

    def describe(self):
        batch = f"batch {self.batch}{' (rhs batched)' if self.rhs_batched else ''}, " \
            if self.batch else ""
        bits = "7-bit " if self.weight_range == "7bit" else ""
        w = (f"{self.rhs_storage} activation rhs (zero point {self.zw[0]})"
             if self.rhs_arg else
             f"{bits}per-channel weights (zero points "
             f"{'0' if not any(self.zw) else 'nonzero'})" if self.per_channel
             else f"{bits}per-tensor weights (zero point {self.zw[0]})")
        bias = "no bias" if self.bias is None else (
            f"{'quantized ' if self.bias_quantized else ''}i32 bias "
            f"({'constant' if self.bias == 'const' else 'argument'})")
        if self.result == "q":
            res = (f"{self.out_storage} {'per-channel' if self.out_per_channel else 'per-tensor'}"
                   f" result, {self.rounding} rounding")
        else:
            res = f"{self.result} result"
        nice = ", power-of-two scales" if self.nice else ""
        return (f"{batch}M={self.m} N={self.n} K={self.k}, {self.lhs_storage} "
                f"activations (zero point {self.za}), {w}, {bias}, {res}{nice}")

    # An independent model of QlowOps.td's semantics, for diagnosis --------

    def model(self, lhs, bias):
        """The expected result, computed from QlowOps.td's formulas."""
        a = lhs.astype(np.int64) - self.za
        zw = np.array(self.zw if self.per_channel else self.zw * self.n)
        w = self.w.astype(np.int64) - zw
        acc = np.matmul(a, w)
        if self.bias is not None:
            acc = acc + bias.astype(np.int64)
        if self.result == "i32":
            return acc.astype(np.int32)
        sw = np.array(self.sw if self.per_channel else self.sw * self.n)
        if self.result == "f32":
            return acc.astype(np.float32) * (self.sa * sw).astype(np.float32)
        olo, ohi, dtype = STORAGE[self.out_storage]
        so = np.array(self.so if self.out_per_channel else self.so * self.n)
        zo = np.array(self.zo if self.out_per_channel else self.zo * self.n)
        mult = self.sa * sw / so  # double, per column
        if self.rounding == "float":
            v = acc.astype(np.float32) * mult.astype(np.float32)
            out = np.rint(v).astype(np.int64) + zo  # rint: half to even
        else:
            flat = acc.reshape(-1, self.n)
            out = np.empty_like(flat)
            for j in range(self.n):
                qm, shift = quantize_multiplier(mult[j])
                for i in range(flat.shape[0]):
                    out[i, j] = zo[j] + mbqm(int(flat[i, j]), qm, shift)
            out = out.reshape(acc.shape)
        return np.clip(out, olo, ohi).astype(dtype)


# gemmlowp / TFLite fixed point, as QlowAttrs.td describes it.
def quantize_multiplier(m):
    if m == 0.0:
        return 0, 0
    q, shift = math.frexp(m)
    q_fixed = int(math.floor(q * (1 << 31) + 0.5))  # half away from zero
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def srdhm(a, b):
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    num = ab + nudge
    high = abs(num) >> 31  # division truncating toward zero, as in C++
    return high if num >= 0 else -high


def rounding_divide_by_pot(x, exponent):
    if exponent <= 0:
        return x
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def mbqm(x, qm, shift):
    left = max(shift, 0)
    right = max(-shift, 0)
    shifted = max(INT32_MIN, min(INT32_MAX, x * (1 << left)))
    return rounding_divide_by_pot(srdhm(shifted, qm), right)


# ===----------------------------------------------------------------------=== #
# Running
# ===----------------------------------------------------------------------=== #


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def run_mode(qlow_run, mlir, names, in_dir, out_dir, reference, opt_level):
    """Runs the functions `names` of `mlir`; returns {name: error or None}.

    One process for the whole batch; if it fails, one process per function
    finds out which ones fail and why.
    """
    mode = (["--reference"] if reference else
            ["--opt-level", str(opt_level), "--cpu", CPU,
             "--num-threads", str(THREADS)] + EXTRA_FLAGS)
    base = [qlow_run] + mode + [
        mlir, "--input-dir", in_dir, "--output-dir", out_dir]
    code, _ = run(base + ["--entry", ",".join(names)])
    if code == 0:
        return {name: None for name in names}
    errors = {}
    for name in names:
        code, output = run(base + ["--entry", name])
        errors[name] = None if code == 0 else (output.strip() or f"exit {code}")
    return errors


def run_failures(ref_err, jit_err):
    """The reference and compiled runs' errors (first lines), or None."""
    if not (ref_err or jit_err):
        return None
    lines = []
    if ref_err:
        lines.append("reference failed:\n    " +
                     "\n    ".join(ref_err.splitlines()[:6]))
    if jit_err:
        lines.append("compiled failed:\n    " +
                     "\n    ".join(jit_err.splitlines()[:6]))
    return "\n  ".join(lines)


def check_cases(batches, files, in_dir, work, ref_errors, jit_errors,
                compare):
    """For every case of `batches` (written to `files`): its run failures,
    else `compare(case, expected, actual)` on its reference and compiled
    results (None, or what is wrong). Prints a block per failing case and
    returns (passed, failed). Shared by the random_*.py drivers."""
    passed = failed = 0
    for b, batch in enumerate(batches):
        for case in batch:
            problem = run_failures(ref_errors[case.name],
                                   jit_errors[case.name])
            if problem is None:
                expected = np.load(os.path.join(work, "ref",
                                                f"{case.name}.0.npy"))
                actual = np.load(os.path.join(work, "jit",
                                              f"{case.name}.0.npy"))
                problem = compare(case, expected, actual)
            if problem is None:
                passed += 1
                continue
            failed += 1
            print(f"FAIL @{case.name} in {files[b]}: {case.describe()}\n  "
                  f"{problem}\n  reproduce: qlow-run [--reference] {files[b]} "
                  f"--entry {case.name} --input-dir {in_dir} -o out.npy\n")
    return passed, failed


def check_case(case, work, ref_err, jit_err):
    """Returns None when the case passed, else a description of the failure."""
    problem = run_failures(ref_err, jit_err)
    if problem is not None:
        return problem
    expected = np.load(os.path.join(work, "ref", f"{case.name}.0.npy"))
    actual = np.load(os.path.join(work, "jit", f"{case.name}.0.npy"))
    return compare_exact(case, work, expected, actual)


def compare_exact(case, work, expected, actual):
    """None when the compiled result is the reference's (bit for bit, or
    within the case's tolerance), else a description of the difference."""
    if expected.dtype != actual.dtype or expected.shape != actual.shape:
        return (f"result is {actual.dtype} {actual.shape}, the reference "
                f"gives {expected.dtype} {expected.shape}")
    tolerance = getattr(case, "tolerance", 0.0)
    if tolerance > 0.0:
        # Float paths with transcendental functions: |compiled - reference|
        # within `tolerance` times the largest |reference|.
        bound = tolerance * max(float(np.abs(expected).max()), 1e-30)
        err = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
        if np.all(np.isfinite(actual) == np.isfinite(expected)) and \
                err[np.isfinite(err)].max(initial=0.0) <= bound:
            return None
        worst = int(np.nanargmax(err))
        return (f"error {float(err.flat[worst]):.3g} at flat index {worst} "
                f"exceeds {tolerance:g} x max|reference| = {bound:.3g}")
    eb = expected.view(f"u{expected.dtype.itemsize}")
    ab = actual.view(f"u{actual.dtype.itemsize}")
    differ = np.flatnonzero(eb != ab)
    if differ.size == 0:
        return None
    lhs = np.load(os.path.join(work, "in", f"{case.name}.0.npy"))
    bias = case.bias_values if case.bias is not None else None
    model = case.model(lhs, bias)
    lines = [f"{differ.size} of {expected.size} elements differ"]
    if model is None:  # No independent model for this kind of case.
        for flat in differ[:5]:
            idx = tuple(int(i) for i in np.unravel_index(flat, expected.shape))
            lines.append(f"at {idx}: reference {expected[idx].item()!r}, "
                         f"compiled {actual[idx].item()!r}")
        return "\n  ".join(lines)
    agree_ref = agree_jit = 0
    for flat in differ:
        idx = np.unravel_index(flat, expected.shape)
        agree_ref += model[idx] == expected[idx]
        agree_jit += model[idx] == actual[idx]
    for flat in differ[:5]:
        idx = tuple(int(i) for i in np.unravel_index(flat, expected.shape))
        lines.append(f"at {idx}: reference {expected[idx].item()!r}, "
                     f"compiled {actual[idx].item()!r}, numpy model of "
                     f"QlowOps.td {model[idx].item()!r}")
    lines.append(f"the numpy model agrees with the reference at {agree_ref} "
                 f"and with the compiled code at {agree_jit} of the "
                 f"{differ.size} differing elements")
    return "\n  ".join(lines)


def add_run_arguments(parser, cases, batch):
    """The options every random_*.py driver takes: how many cases, the seed,
    where they go, and how qlow-run runs them."""
    parser.add_argument("--cases", type=int, default=cases)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work-dir", required=True,
                        help="where the MLIR, inputs and outputs go (emptied)")
    parser.add_argument("--qlow-run", default=shutil.which("qlow-run"),
                        help="the qlow-run binary (default: from PATH)")
    parser.add_argument("--batch", type=int, default=batch,
                        help="functions per MLIR file and qlow-run process")
    parser.add_argument("--jobs", type=int, default=2,
                        help="qlow-run processes at a time")
    parser.add_argument("--cpu", default="host",
                        help="qlow-run --cpu of the compiled runs (its kernels "
                             "must run on this machine)")
    parser.add_argument("--opt-level", type=int, default=2,
                        help="qlow-run --opt-level of the compiled runs")
    parser.add_argument("--num-threads", type=int, default=0,
                        help="qlow-run --num-threads of the compiled runs "
                             "(0: the OpenMP runtime's default)")


def prepare_work_dir(work):
    """Empties `work` and makes its in/, ref/ and jit/ folders."""
    shutil.rmtree(work, ignore_errors=True)
    for sub in ("in", "ref", "jit"):
        os.makedirs(os.path.join(work, sub))


def write_and_run(cases, args, nprng, script):
    """Writes `cases` into MLIR files of `args.batch` functions each under
    `args.work_dir` (headed by `script` and the seed), with their .npy inputs
    drawn from `nprng`, runs every file with `qlow-run --reference` and
    compiled (`args.jobs` at a time), and returns (batches, files, in_dir,
    ref_errors, jit_errors). Shared by the random_*.py drivers."""
    work = args.work_dir
    batches = [cases[i:i + args.batch]
               for i in range(0, len(cases), args.batch)]
    files = []
    for b, batch in enumerate(batches):
        path = os.path.join(work, f"batch_{b}.mlir")
        with open(path, "w") as f:
            f.write(f"// {script} --seed {args.seed}: batch {b}\n")
            for case in batch:
                f.write(f"// {case.name}: {case.describe()}\n{case.mlir()}\n")
                for i, array in enumerate(case.inputs(nprng)):
                    np.save(os.path.join(work, "in", f"{case.name}.{i}.npy"),
                            array)
        files.append(path)

    in_dir = os.path.join(work, "in")
    jobs = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for path, batch in zip(files, batches):
            names = [c.name for c in batch]
            for reference, sub in ((True, "ref"), (False, "jit")):
                jobs.append(pool.submit(run_mode, args.qlow_run, path, names,
                                        in_dir, os.path.join(work, sub),
                                        reference, args.opt_level))
        results = [job.result() for job in jobs]
    ref_errors, jit_errors = {}, {}
    for i, result in enumerate(results):
        (ref_errors if i % 2 == 0 else jit_errors).update(result)
    return batches, files, in_dir, ref_errors, jit_errors


def main(make_case=None):
    """Runs the cases `make_case(name, rng)` builds (default: Case)."""
    make_case = make_case or Case
    parser = argparse.ArgumentParser(
        description=(sys.modules[make_case.__module__].__doc__ or
                     __doc__).split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(parser, cases=200, batch=25)
    parser.add_argument("--weight-range", choices=sorted(WEIGHT_RANGES),
                        default="full",
                        help="stored values of the i8 weights of Case: full, "
                             "or 7bit [-64, 63]")
    parser.add_argument("--shape-class",
                        choices=["random", "row-blocked", "act-act",
                                 "act-act-packed", "aliased-rows"],
                        default="random",
                        help="shapes of Case: random (1..700, primes), "
                             "row-blocked (M 620..1100, K 860..1024, N <= 32: "
                             "activations beyond half of L2, which the int8 "
                             "kernel cuts into row blocks), or act-act "
                             "(random shapes, the rhs an u8 or i8 activation "
                             "argument, mostly batched, as attention's "
                             "products), or act-act-packed (act-act with K "
                             "a multiple of 4 and N of 16..192: run-time "
                             "packing without padding), or aliased-rows (K "
                             "of 4096, 8192 or about, M <= 24: rows 4 KB "
                             "apart, which the kernel copies with a longer "
                             "stride)")
    args = parser.parse_args()
    global CPU, THREADS, WEIGHT_RANGE, SHAPE_CLASS
    CPU = args.cpu
    THREADS = args.num_threads
    WEIGHT_RANGE = args.weight_range
    SHAPE_CLASS = args.shape_class
    if make_case is not Case and (WEIGHT_RANGE != "full" or
                                  SHAPE_CLASS != "random"):
        parser.error("--weight-range and --shape-class apply to "
                     "random_matmul.py's cases")
    if not args.qlow_run:
        parser.error("qlow-run is not on PATH; give --qlow-run")

    start = time.time()
    work = args.work_dir
    prepare_work_dir(work)
    rng = random.Random(args.seed)
    nprng = np.random.default_rng(args.seed)
    cases = [make_case(f"mm_{i}", rng) for i in range(args.cases)]
    batches, files, in_dir, ref_errors, jit_errors = write_and_run(
        cases, args, nprng, "random_matmul.py")

    passed, failed = check_cases(
        batches, files, in_dir, work, ref_errors, jit_errors,
        lambda case, expected, actual: compare_exact(case, work, expected,
                                                     actual))
    print(f"{passed} passed, {failed} failed ({time.time() - start:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
