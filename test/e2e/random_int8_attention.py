#!/usr/bin/env python3
"""Random int8 qlow.attention functions: compiled against the reference.

    random_int8_attention.py --cases 60 --seed 1 --work-dir /tmp/ria
        [--num-threads N] [--min-sqnr DB] [--report]

Generates random qlow.attention functions with `int8` (q, k, v quantized per
tensor, u8 or i8 storage, random zero points; integer Q K^T and P V, see the
op's description), writes them with random .npy inputs, runs them with
`qlow-run --reference` (lib/Reference attentionInt8) and compiled
(qlow-x86-attention's vpdpbusd kernel), and requires the results to be equal
(f32 results bit for bit; a quantized result stored value for stored value).

Shapes: B in {1, 2}; Hkv in {1, 2, 3}, H = Hkv * G with G in {1, 2, 4}; S and T
odd or prime (prefill S = T, a cache T > S, a decode step S = 1, T < S); head
sizes D, Dv from 1 to 80 (not multiples of 4 or of the vector width);
key_block in {16, 32, 48, 64} (multiples of the 16 i32 lanes of AVX-512
VNNI); causal or not; no mask, an f32 mask (with -inf) or an i1 mask
(broadcasting, some rows fully masked); an explicit scale sometimes.

With --steps P, a fraction P of the functions are redrawn (from a random
stream of their own) as decode-like steps: S in {1, 2}, H / Hkv * S <= 4
(the kernel's direct path, which reads K and V in place), T up to 600 and D
up to 130 (past one 64-byte vector). With --big-steps those steps take
key_block 256 or 264 and D, Dv up to 272 instead.

With --split-heads P, a fraction P of the functions take q, k, v as f32
projections, [B * S, H * D] (tensor.expand_shape to [B, S, H, D]) or
[B, S, H, D], and build the operands as a model does: linalg.transpose
[0, 2, 1, 3] (split heads), then qlow.quantize; half of those with an f32
result merge the heads back (the transpose of the result). qlow-x86-attention
quantizes the projections before the transposes and reads them in place
(and writes the merged result in place); the reference runs the function as
written. The layouts come from their own random stream: the other draws of
a seed are the same with or without the option.

With --quantize-result P, a fraction P of the functions with an f32 result
return a per-tensor qlow.quantize of it (u8, i8 or i8 in [-127, 127], some
values saturating) instead, after the merge and, for merged projections and
some others, a tensor.collapse_shape to [B * S, H * Dv] (as the output
projection's input is built): qlow-x86-attention quantizes in the kernel's
epilogue, and the stored values must equal the reference's (its own random
stream too).

Error against the float attention: each function also has a twin without
`int8` (the same quantized operands, f32 softmax and products), evaluated by
the reference; the SQNR of the int8 result against it,
10 log10(sum ref^2 / sum (int8 - ref)^2), is measured per function over the
f32 results, and --min-sqnr fails any below it. Prints one block per failing
function, the SQNR (min and over all), then "N passed, M failed".
"""

import argparse
import concurrent.futures
import math
import os
import random
import shutil
import sys

import numpy as np

import random_attention as ra
import random_matmul as rm

ODD = [1, 2, 3, 5, 7, 9, 13, 16, 17, 19, 31, 33, 37, 45, 70]
HEAD = [1, 3, 4, 7, 8, 16, 17, 20, 24, 32, 33, 48, 64, 80]
STORAGE = {"u8": (0, 255, np.uint8), "i8": (-128, 127, np.int8)}


fmt = ra.fmt


class Case(ra.AttentionShape):
    """One random int8 attention function, its float twin and inputs."""

    def __init__(self, name, rng):
        self.name = name
        self.draw_lengths(rng, ODD, HEAD, [37, 33, 17, 5, 1, 64, 71, 130])
        self.key_block = rng.choice([16, 32, 48, 64])
        self.causal = rng.random() < 0.5
        self.scale = None if rng.random() < 0.7 else rng.uniform(0.05, 0.6)
        self.draw_mask(rng)
        # Scores of a few units: logits as a trained model has them.
        magnitude = rng.choice([0.5, 1.0, 2.0])
        self.qs = {}
        for what in ("q", "k", "v"):
            storage = rng.choice(["u8", "i8"])
            lo, hi, _ = STORAGE[storage]
            self.qs[what] = (storage, magnitude / 40,
                             rng.randint(lo // 2, hi // 2))
        self.out_q = None
        if rng.random() < 0.2:
            storage = rng.choice(["u8", "i8"])
            lo, hi, _ = STORAGE[storage]
            self.out_q = (storage, magnitude * 3 / rng.uniform(60, 120),
                          rng.randint(lo + 60, hi - 60))

    def draw_step(self, rng, big=False):
        """A decode-like step (see --steps): one or two query rows per query
        head, at most 4 per kv head (H / Hkv * S <= 4, the kernel's direct
        path, which reads K and V in place), against up to 600 keys, with
        head sizes past one 64-byte vector."""
        self.kind = "step"
        self.s = rng.choice([1, 1, 2])
        self.group = rng.choice([1, 2, 4] if self.s == 1 else [1, 2])
        self.h = self.hkv * self.group
        self.t = rng.choice([1, 3, 17, 64, 65, 130, 513, 600])
        self.d = rng.choice(HEAD + [96, 128, 130])
        self.dv = self.d if rng.random() < 0.6 else rng.choice(HEAD + [130])
        if big:
            # Past the AVX2 direct path's limits for keeping s8 K and V
            # words times 256 (D <= 256, fewer than 256 keys a block).
            self.key_block = rng.choice([256, 264])
            self.t = rng.choice([300, 529])
            self.d = rng.choice([264, 272, 130])
            self.dv = rng.choice([264, 130])
        self.draw_mask(rng)
        # Half the steps have q's zero point at 128 as u8 (i8 with 0, u8
        # with 128), as symmetric per-tensor q is.
        if rng.random() < 0.5:
            storage = self.qs["q"][0]
            self.qs["q"] = (storage, self.qs["q"][1],
                            0 if storage == "i8" else 128)

    def draw_layout(self, rng, split_heads):
        """The operands' layout (see --split-heads): None (quantized
        [B, H, S, D] arguments), "proj" or "bshd"; and whether an f32 result
        is merged back to [B, S, H, Dv]."""
        self.layout, self.merge = None, False
        if rng.random() < split_heads:
            self.layout = rng.choice(["proj", "bshd"])
            self.merge = rng.random() < 0.5

    def draw_result_quantize(self, rng, fraction):
        """The result's quantize (see --quantize-result): None or (storage,
        scale, zero point, collapse)."""
        self.result_q = None
        if rng.random() < fraction:
            storage = rng.choice(["u8", "i8", "i8<-127:127>"])
            lo, hi = (0, 255) if storage == "u8" else (-128, 127)
            magnitude = self.qs["v"][1] * 40
            collapse = (self.layout == "proj" and self.merge) or \
                rng.random() < 0.3
            self.result_q = (storage, magnitude / rng.uniform(4, 30),
                             rng.randint(lo + 64, hi - 64), collapse)

    def quantize_result(self, text):
        """`text` with its f32 result quantized per self.result_q."""
        storage, scale, zp, collapse = self.result_q
        head, body = text.split("\n", 1)
        ret = body.rstrip().splitlines()[-2].strip()
        value, out = ret[len("return "):].split(" : ")
        dims = [int(d) for d in out[len("tensor<"):-len("xf32>")].split("x")]
        lines = []
        if collapse:
            b, x, y, d = dims
            dims = [b * x, y * d]
            flat = f"tensor<{dims[0]}x{dims[1]}xf32>"
            lines.append(f"  %oc = tensor.collapse_shape {value} "
                         f"[[0, 1], [2, 3]] : {out} into {flat}")
            value, out = "%oc", flat
        quantized = ("tensor<" + "x".join(map(str, dims)) +
                     f"x!quant.uniform<{storage}:f32, {fmt(scale)}:{zp}>>")
        lines.append(f"  %oq = qlow.quantize {value} : {out} -> {quantized}")
        lines.append(f"  return %oq : {quantized}")
        body = body.replace(f"  {ret}", "\n".join(lines))
        head = head.rsplit(" -> ", 1)[0] + f" -> {quantized} {{"
        return head + "\n" + body

    def seq_major(self, what):
        b, h, s, d = self.shape_of(what)
        return [b, s, h, d]

    def arg_shape(self, what):
        """The shape of q, k or v as the function takes it."""
        if not self.layout:
            return self.shape_of(what)
        b, s, h, d = self.seq_major(what)
        return [b * s, h * d] if self.layout == "proj" else [b, s, h, d]

    def type_of(self, what, quantized_out=True):
        dims = "x".join(str(d) for d in self.shape_of(what))
        q = (self.out_q if quantized_out else None) if what == "out" \
            else self.qs[what]
        if not q:
            return f"tensor<{dims}xf32>"
        storage, scale, zp = q
        return (f"tensor<{dims}x!quant.uniform<{storage}:f32, "
                f"{fmt(scale)}:{zp}>>")

    def function(self, name, int8, quantized_out):
        types = {w: self.type_of(w) for w in ("q", "k", "v")}
        types["out"] = self.type_of("out", quantized_out)
        extra = ["int8", f"key_block = {self.key_block} : i64"] if int8 \
            else []
        text = self.attention_function(name, types, extra)
        if self.layout:
            text = self.split_heads_function(text, types)
        if quantized_out and self.result_q and types["out"].endswith("xf32>"):
            text = self.quantize_result(text)
        return text

    def split_heads_function(self, text, types):
        """`text` (q, k, v arguments of `types`) with f32 projection
        arguments, split into heads and quantized in the body; the result
        merged back when self.merge and f32."""
        def f32(shape):
            return "tensor<" + "x".join(map(str, shape)) + "xf32>"
        head, body = text.split("\n", 1)
        lines = []
        for what in ("q", "k", "v"):
            bshd, heads = self.seq_major(what), self.shape_of(what)
            arg = f"%{what}x"
            head = head.replace(f"%{what}: {types[what]}",
                                f"{arg}: {f32(self.arg_shape(what))}")
            if self.layout == "proj":
                lines.append(
                    f"  %{what}e = tensor.expand_shape {arg} [[0, 1], [2, 3]]"
                    f" output_shape {bshd} : {f32(self.arg_shape(what))} "
                    f"into {f32(bshd)}")
                arg = f"%{what}e"
            lines.append(f"  %{what}0 = tensor.empty() : {f32(heads)}")
            lines.append(
                f"  %{what}t = linalg.transpose ins({arg} : {f32(bshd)}) "
                f"outs(%{what}0 : {f32(heads)}) permutation = [0, 2, 1, 3]")
            lines.append(f"  %{what} = qlow.quantize %{what}t : {f32(heads)} "
                         f"-> {types[what]}")
        out = types["out"]
        if self.merge and out.endswith("xf32>"):
            merged = f32(self.seq_major("out"))
            head = head.replace(f"-> {out} {{", f"-> {merged} {{")
            body = body.replace(
                f"  return %o : {out}",
                f"  %o0 = tensor.empty() : {merged}\n"
                f"  %om = linalg.transpose ins(%o : {out}) outs(%o0 : "
                f"{merged}) permutation = [0, 2, 1, 3]\n"
                f"  return %om : {merged}")
        return head + "\n" + "\n".join(lines) + "\n" + body

    def inputs(self, nprng):
        arrays = []
        for what in ("q", "k", "v"):
            lo, hi, dtype = STORAGE[self.qs[what][0]]
            if self.layout:
                # Reals around the stored range (some saturate), and some
                # exactly halfway between two steps (round half to even).
                _, scale, zp = self.qs[what]
                steps = nprng.integers(lo - 8, hi + 8,
                                       size=self.arg_shape(what),
                                       endpoint=True) - zp
                frac = nprng.choice([0.0, 0.5, -0.5, 0.3, -0.3],
                                    size=steps.shape)
                arrays.append(((steps + frac) * scale).astype(np.float32))
                continue
            arrays.append(nprng.integers(lo, hi, size=self.shape_of(what),
                                         endpoint=True).astype(dtype))
        return arrays + self.mask_inputs(nprng)

    def describe(self):
        parts = self.describe_parts()
        parts[0] += f" key_block={self.key_block}"
        parts.append("q,k,v " + ",".join(q[0] for q in
                                          (self.qs["q"], self.qs["k"],
                                           self.qs["v"])))
        if self.out_q:
            parts.append("quantized result")
        if self.layout:
            parts.append(f"split heads from {self.layout}" +
                         (", merged result" if self.merge else ""))
        if self.result_q and not self.out_q:
            parts.append(f"result quantized {self.result_q[0]}" +
                         (" (collapsed)" if self.result_q[3] else ""))
        return ", ".join(parts)


def sqnr(reference, value):
    noise = float(np.sum((value.astype(np.float64) -
                          reference.astype(np.float64)) ** 2))
    signal = float(np.sum(reference.astype(np.float64) ** 2))
    if noise == 0.0:
        return math.inf
    return 10.0 * math.log10(max(signal, 1e-300) / noise)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    rm.add_run_arguments(parser, cases=60, batch=20)
    parser.add_argument("--min-sqnr", type=float, default=None,
                        help="fail a function whose int8 result is below "
                        "this SQNR (dB) against the float attention")
    parser.add_argument("--split-heads", type=float, default=0.0,
                        help="the fraction of functions whose q, k, v are "
                        "split-heads transposes of f32 projections, "
                        "quantized in the function")
    parser.add_argument("--quantize-result", type=float, default=0.0,
                        help="the fraction of functions whose f32 result "
                        "is returned per-tensor quantized (collapsed to "
                        "[B * S, H * Dv] for some)")
    parser.add_argument("--steps", type=float, default=0.0,
                        help="the fraction of functions redrawn as decode-"
                        "like steps (H / Hkv * S <= 4 query rows per kv "
                        "head, T up to 600, D up to 130)")
    parser.add_argument("--big-steps", action="store_true",
                        help="steps with key_block 256 or 264, D and Dv up "
                             "to 272")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--qlow-run-flag", action="append", default=[],
                        help="one more qlow-run flag for the compiled runs "
                             "(repeatable), e.g. "
                             "--qlow-int8-attention-vnni-kernels")
    args = parser.parse_args()
    if not args.qlow_run:
        parser.error("qlow-run is not on PATH; give --qlow-run")
    rm.CPU = args.cpu
    rm.THREADS = args.num_threads
    rm.EXTRA_FLAGS = args.qlow_run_flag

    work = args.work_dir
    rm.prepare_work_dir(work)
    rng = random.Random(args.seed)
    nprng = np.random.default_rng(args.seed)
    cases = [Case(f"a_{i}", rng) for i in range(args.cases)]
    step_rng = random.Random(args.seed + 104729)
    for case in cases:
        if step_rng.random() < args.steps:
            case.draw_step(step_rng, args.big_steps)
    layout_rng = random.Random(args.seed + 7919)
    for case in cases:
        case.draw_layout(layout_rng, args.split_heads)
    result_rng = random.Random(args.seed + 15485863)
    for case in cases:
        case.draw_result_quantize(result_rng, args.quantize_result)
    batches = [cases[i:i + args.batch]
               for i in range(0, len(cases), args.batch)]
    files = []
    for b, batch in enumerate(batches):
        int8_path = os.path.join(work, f"batch_{b}.mlir")
        float_path = os.path.join(work, f"float_{b}.mlir")
        with open(int8_path, "w") as f8, open(float_path, "w") as ff:
            f8.write(f"// random_int8_attention.py --seed {args.seed}: "
                     f"batch {b}\n")
            for case in batch:
                f8.write(f"// {case.name}: {case.describe()}\n" +
                         case.function(case.name, True, True) + "\n")
                # The twins: the int8 and float attention with f32 results
                # (reference only), for the SQNR.
                ff.write(case.function(case.name + "_i", True, False) + "\n" +
                         case.function(case.name + "_f", False, False) + "\n")
                arrays = case.inputs(nprng)
                for i, array in enumerate(arrays):
                    for name in (case.name, case.name + "_i",
                                 case.name + "_f"):
                        np.save(os.path.join(work, "in", f"{name}.{i}.npy"),
                                array)
        files.append((int8_path, float_path))

    in_dir = os.path.join(work, "in")
    jobs = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for (int8_path, float_path), batch in zip(files, batches):
            names = [c.name for c in batch]
            twins = [c.name + suffix for c in batch for suffix in ("_i", "_f")]
            jobs.append(pool.submit(rm.run_mode, args.qlow_run, int8_path,
                                    names, in_dir, os.path.join(work, "ref"),
                                    True, args.opt_level))
            jobs.append(pool.submit(rm.run_mode, args.qlow_run, int8_path,
                                    names, in_dir, os.path.join(work, "jit"),
                                    False, args.opt_level))
            jobs.append(pool.submit(rm.run_mode, args.qlow_run, float_path,
                                    twins, in_dir, os.path.join(work, "ref"),
                                    True, args.opt_level))
        results = [job.result() for job in jobs]
    errors = {}
    for result in results:
        for name, err in result.items():
            if err:
                errors.setdefault(name, []).append(err)

    passed = failed = 0
    sqnrs, signal, noise, bit_identical = [], 0.0, 0.0, 0
    for case in cases:
        problem = None
        names = [case.name, case.name + "_i", case.name + "_f"]
        if any(n in errors for n in names):
            problem = "\n  ".join(
                f"{n} failed:\n    " + "\n    ".join(e.splitlines()[:6])
                for n in names for e in errors.get(n, []))
        else:
            expected = np.load(os.path.join(work, "ref", f"{case.name}.0.npy"))
            actual = np.load(os.path.join(work, "jit", f"{case.name}.0.npy"))
            if expected.dtype != actual.dtype or \
                    expected.shape != actual.shape:
                problem = (f"result is {actual.dtype} {actual.shape}, the "
                           f"reference gives {expected.dtype} "
                           f"{expected.shape}")
            elif not np.array_equal(expected, actual, equal_nan=True):
                diff = np.abs(expected.astype(np.float64) -
                              actual.astype(np.float64))
                idx = np.unravel_index(int(np.nanargmax(diff)),
                                       expected.shape)
                problem = (f"{int(np.sum(expected != actual))} of "
                           f"{expected.size} values differ; at "
                           f"{tuple(int(i) for i in idx)}: reference "
                           f"{expected[idx]!r}, compiled {actual[idx]!r}")
            else:
                if expected.dtype != np.float32 or np.array_equal(
                        expected.view(np.uint32), actual.view(np.uint32)):
                    bit_identical += 1
                i8 = np.load(os.path.join(work, "ref",
                                          f"{case.name}_i.0.npy"))
                fl = np.load(os.path.join(work, "ref",
                                          f"{case.name}_f.0.npy"))
                if fl.size and np.any(fl != 0):
                    db = sqnr(fl, i8)
                    sqnrs.append((db, case.name))
                    signal += float(np.sum(fl.astype(np.float64) ** 2))
                    noise += float(np.sum((i8.astype(np.float64) -
                                           fl.astype(np.float64)) ** 2))
                    if args.min_sqnr is not None and db < args.min_sqnr:
                        problem = (f"SQNR against the float attention "
                                   f"{db:.2f} dB < {args.min_sqnr} dB")
        if problem:
            failed += 1
            print(f"FAIL {case.name}: {case.describe()}\n  {problem}")
        else:
            passed += 1
    if sqnrs:
        worst = min(sqnrs)
        total = 10.0 * math.log10(signal / noise) if noise else math.inf
        print(f"sqnr_min_db={worst[0]:.2f} ({worst[1]}) "
              f"sqnr_all_db={total:.2f} over {len(sqnrs)} functions")
    if args.report:
        print(f"bit-identical f32 results: {bit_identical} of {passed}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
