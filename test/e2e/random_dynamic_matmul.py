#!/usr/bin/env python3
"""Random dynamic-quantization qlow.matmul functions, compiled vs reference.

    random_dynamic_matmul.py --cases 100 --seed 1 --work-dir /tmp/rdm

The same driver as random_matmul.py (batches of functions, `qlow-run
--reference` against compiled `qlow-run`, bit-for-bit comparison), with
functions whose f32 activations are quantized at run time
(`#qlow.dynamic<per_row | per_tensor, i8 | u8, symmetric | asymmetric>`):

  * M, N from 1 to 300 and K up to 700, primes and sizes that are not
    multiples of any tile; sometimes batch dimensions;
  * activations from a normal distribution, sometimes with outliers, rows
    of zeros or only positive values;
  * weights: i8 per tensor or per output channel (zero point 0 or not), or
    4-bit (i4 or u4) in groups along K of 4 to 128 rows (32, 64, 128 most
    often), with one zero point for all or one per group and column (the
    x86 int4 kernel takes both, the AArch64 one the first), or i8 in such
    groups with 16 values per group and column (qlow-import-onnx's form of
    MatMulNBits blocks with negative scales or their own zero points);
    or i8 and u8 weights of any range in such groups (MatMulNBits with
    bits = 8: the x86 kernel's two-plane form), one zero point or one per
    group and column;
  * an optional f32 bias (constant or argument); an f32 result.
"""

import math
import sys

import numpy as np

import random_matmul as rm

GROUP_SIZES = [32, 64, 128, 32, 64, 128, 4, 8, 16, 12, 20]


def f32(x):
    return np.float32(x)


class DynamicCase:
    """One random dynamic matmul function and its inputs."""

    def __init__(self, name, rng):
        self.name = name
        self.granularity = rng.choice(["per_row", "per_row", "per_tensor"])
        self.int4 = rng.random() < 0.55
        # The int4 kernels take symmetric i8 activations: mostly those.
        schemes = [("i8", "symmetric"), ("u8", "asymmetric"),
                   ("i8", "asymmetric")]
        self.storage, self.scheme = (
            schemes[0] if self.int4 and rng.random() < 0.7 else
            rng.choice(schemes))
        self.batch = []
        self.rhs_batched = False
        if rng.random() < 0.12:
            self.batch = [rng.randint(1, 3) for _ in range(rng.randint(1, 2))]
            self.rhs_batched = not self.int4 and rng.random() < 0.5
        while True:
            self.m, self.n = rm.Case.dim(rng), rm.Case.dim(rng)
            if self.int4:
                self.group = rng.choice(GROUP_SIZES)
                self.groups = rng.randint(1, max(1, 700 // self.group))
                self.k = self.group * self.groups
            else:
                self.k = rm.Case.dim(rng)
            work = self.m * self.n * self.k * max(1, math.prod(self.batch))
            if work <= 3_000_000:
                break
        self.act = rng.choice(["normal", "normal", "outliers", "zero_rows",
                               "positive"])

        if self.int4:
            self.w_storage = rng.choice(["i4", "u4", "i4", "u4", "i8",
                                         "i8 wide", "u8 wide"])
            self.wide = self.w_storage.endswith(" wide")
            self.w_storage = self.w_storage.split()[0]
            lo, hi = {"i4": (-8, 7), "u4": (0, 15), "i8": (-128, 127),
                      "u8": (0, 255)}[self.w_storage]
            self.uniform_zp = rng.random() < 0.75
            if self.w_storage == "i8" and not self.wide:
                self.init_onnx_groups(rng)
            elif self.wide and self.uniform_zp:
                # i8 symmetric, or u8 with MatMulNBits' default zero point.
                zp = 0 if self.w_storage == "i8" else 128
                self.zw = np.full((self.groups, self.n), zp, dtype=np.int64)
            elif self.uniform_zp:
                zp = 0 if self.w_storage == "i4" else 8
                self.zw = np.full((self.groups, self.n), zp, dtype=np.int64)
            else:
                self.zw = np.array(
                    [[rng.randint(lo, hi) for _ in range(self.n)]
                     for _ in range(self.groups)], dtype=np.int64)
            self.sw = np.array(
                [[math.exp(rng.uniform(math.log(0.002), math.log(0.1)))
                  for _ in range(self.n)] for _ in range(self.groups)])
            self.w = np.array(
                [rng.randint(lo, hi) for _ in range(self.k * self.n)],
                dtype=np.int64).reshape(self.k, self.n)
        else:
            self.w_storage = "i8"
            self.per_channel = rng.random() < 0.6
            channels = self.n if self.per_channel else 1
            self.sw1 = [math.exp(rng.uniform(math.log(0.001), math.log(0.05)))
                        for _ in range(channels)]
            self.zw1 = ([rng.randint(-20, 20) for _ in range(channels)]
                        if rng.random() < 0.2 else [0] * channels)
            shape = (self.batch if self.rhs_batched else []) + [self.k, self.n]
            self.w = np.array(
                [rng.randint(-128, 127) for _ in range(math.prod(shape))],
                dtype=np.int64).reshape(shape)

        self.bias = rng.choice([None, "const", "arg"])
        self.bias_values = np.array(
            [rng.uniform(-2.0, 2.0) for _ in range(self.n)], dtype=np.float32)

    def init_onnx_groups(self, rng):
        """i8 weights in groups along K as qlow-import-onnx writes MatMulNBits
        blocks with negative scales or their own zero points: sign(s) * (q -
        zp) for nibbles q, zero point 0, scale |s|; 16 values per group and
        column, which the x86 int4 kernel takes. Sometimes one group and
        column spans all of i8 (left to the generic lowering). Half use zero
        point 8 for all blocks (ORT's symmetric quantizer)."""
        self.uniform_zp = True
        self.zw = np.zeros((self.groups, self.n), dtype=np.int64)
        self.sw = np.array(
            [[math.exp(rng.uniform(math.log(0.002), math.log(0.1)))
              for _ in range(self.n)] for _ in range(self.groups)])
        sign = [[rng.choice([-1, 1]) for _ in range(self.n)]
                for _ in range(self.groups)]
        # Half of them as ORT's symmetric quantizer writes them (zero point
        # 8: blocks in [-8, 7] or [-7, 8], the kernel's negated-block form).
        symmetric = rng.random() < 0.5
        zp = [[8 if symmetric else rng.randint(0, 15) for _ in range(self.n)]
              for _ in range(self.groups)]
        self.w = np.array(
            [[sign[r // self.group][c] * (rng.randint(0, 15) -
                                          zp[r // self.group][c])
              for c in range(self.n)] for r in range(self.k)],
            dtype=np.int64)
        if rng.random() < 0.15:
            g, c = rng.randrange(self.groups), rng.randrange(self.n)
            self.w[g * self.group:(g + 1) * self.group, c] = [
                rng.randint(-128, 127) for _ in range(self.group)]

    # Types ----------------------------------------------------------------

    def dims(self, d):
        return "x".join(str(x) for x in d)

    def lhs_type(self):
        return f"tensor<{self.dims(self.batch + [self.m, self.k])}xf32>"

    def out_type(self):
        return f"tensor<{self.dims(self.batch + [self.m, self.n])}xf32>"

    def raw_type(self):
        shape = (self.batch if self.rhs_batched else []) + [self.k, self.n]
        return f"tensor<{self.dims(shape)}x{self.w_storage.replace('u', 'i')}>"

    def rhs_type(self):
        shape = (self.batch if self.rhs_batched else []) + [self.k, self.n]
        if self.int4:
            rows = ", ".join(
                "{" + ", ".join(f"{rm.fmt(s)}:{z}" for s, z in
                                zip(self.sw[g], self.zw[g])) + "}"
                for g in range(self.groups))
            q = (f"!quant.uniform<{self.w_storage}:f32:{{0:{self.group}, 1:1}}, "
                 f"{{{rows}}}>")
        elif self.per_channel:
            params = ", ".join(f"{rm.fmt(s)}:{z}"
                               for s, z in zip(self.sw1, self.zw1))
            q = f"!quant.uniform<i8:f32:{len(shape) - 1}, {{{params}}}>"
        else:
            q = f"!quant.uniform<i8:f32, {rm.fmt(self.sw1[0])}:{self.zw1[0]}>"
        return f"tensor<{self.dims(shape)}x{q}>"

    def mlir(self):
        args = [f"%x: {self.lhs_type()}"]
        bias_type = f"tensor<{self.n}xf32>"
        if self.bias == "arg":
            args.append(f"%bias: {bias_type}")
        if self.int4:
            # i4 and u4 constants are both signless i4 bits.
            stored = (self.w if self.w_storage == "i8" else
                      np.where(self.w > 127, self.w - 256, self.w)
                      if self.w_storage == "u8" else
                      np.where(self.w > 7, self.w - 16, self.w))
            rows = ", ".join("[" + ", ".join(str(int(v)) for v in row) + "]"
                             for row in stored)
            constant = f"dense<[{rows}]>"
        else:
            constant = (f'dense<"0x{self.w.astype(np.int8).tobytes().hex().upper()}">')
        body = [f"  %w = arith.constant {constant} : {self.raw_type()}",
                f"  %wq = quant.scast %w : {self.raw_type()} to {self.rhs_type()}"]
        operands, types = ["%x", "%wq"], [self.lhs_type(), self.rhs_type()]
        if self.bias == "const":
            vals = ", ".join(repr(float(v)) for v in self.bias_values)
            body.append(f"  %bias = arith.constant dense<[{vals}]> : {bias_type}")
        if self.bias is not None:
            operands.append("%bias")
            types.append(bias_type)
        attr = (f"{{dynamic = #qlow.dynamic<{self.granularity}, {self.storage}, "
                f"{self.scheme}>}}")
        body.append(f"  %y = qlow.matmul {', '.join(operands)} {attr} : "
                    f"({', '.join(types)}) -> {self.out_type()}")
        body.append(f"  return %y : {self.out_type()}")
        return (f"func.func @{self.name}({', '.join(args)}) -> "
                f"{self.out_type()} {{\n" + "\n".join(body) + "\n}\n")

    def inputs(self, nprng):
        shape = self.batch + [self.m, self.k]
        x = nprng.normal(0.0, 1.0, size=shape).astype(np.float32)
        if self.act == "outliers":
            mask = nprng.random(size=shape) < 0.01
            x = np.where(mask, x * 50.0, x).astype(np.float32)
        elif self.act == "zero_rows" and self.m > 1:
            x[..., ::2, :] = 0.0
        elif self.act == "positive":
            x = np.abs(x) + np.float32(0.5)
        arrays = [x]
        if self.bias == "arg":
            arrays.append(self.bias_values)
        return arrays

    def describe(self):
        batch = (f"batch {self.batch}{' (rhs batched)' if self.rhs_batched else ''}, "
                 if self.batch else "")
        if self.int4:
            w = (f"{self.w_storage} weights in groups of {self.group} "
                 f"({'one zero point' if self.uniform_zp else 'zero points per group'})")
        else:
            w = (f"i8 {'per-channel' if self.per_channel else 'per-tensor'} "
                 f"weights (zero points {'0' if not any(self.zw1) else 'nonzero'})")
        bias = "no bias" if self.bias is None else f"f32 bias ({self.bias})"
        return (f"{batch}M={self.m} N={self.n} K={self.k}, {self.act} "
                f"activations quantized {self.granularity} {self.storage} "
                f"{self.scheme}, {w}, {bias}")

    # An independent numpy model of QlowAttrs.td / QlowOps.td ---------------

    def quantize(self, x):
        qmin, qmax = (-128, 127) if self.storage == "i8" else (0, 255)
        sets = x.reshape(-1, self.k) if self.granularity == "per_row" \
            else x.reshape(1, -1)
        q = np.empty(sets.shape, dtype=np.int64)
        scales = np.empty(sets.shape[0], dtype=np.float32)
        zps = np.empty(sets.shape[0], dtype=np.int64)
        for i, v in enumerate(sets):
            lo = min(f32(0), v.min()) if v.size else f32(0)
            hi = max(f32(0), v.max()) if v.size else f32(0)
            if self.scheme == "symmetric":
                scale = f32(max(-lo, hi)) / f32(qmax)
                zp = 0
            else:
                scale = f32(hi - lo) / f32(qmax - qmin)
            if scale == 0:
                scale = f32(1)
            if self.scheme != "symmetric":
                zp = int(np.clip(np.rint(f32(qmin) - lo / scale), qmin, qmax))
            scales[i], zps[i] = scale, zp
            q[i] = np.clip(np.rint(v / scale).astype(np.int64) + zp, qmin, qmax)
        rows = math.prod(self.batch) * self.m
        if self.granularity == "per_row":
            return q.reshape(rows, self.k), scales, zps
        return (q.reshape(rows, self.k), np.repeat(scales, rows),
                np.repeat(zps, rows))

    def model(self, lhs, bias):
        q, sa, za = self.quantize(lhs)
        a = q - za[:, None]
        rows = q.shape[0]
        out = np.zeros((rows, self.n), dtype=np.float32)
        if self.int4:
            for g in range(self.groups):
                ks = slice(g * self.group, (g + 1) * self.group)
                s = np.matmul(a[:, ks], self.w[ks] - self.zw[g][None, :])
                scale = sa[:, None] * self.sw[g][None, :].astype(np.float32)
                out = out + scale * s.astype(np.float32)
        else:
            zw = np.array(self.zw1 if self.per_channel else self.zw1 * self.n)
            sw = np.array(self.sw1 if self.per_channel else self.sw1 * self.n)
            w = self.w - zw
            if self.rhs_batched:
                per = self.m
                acc = np.concatenate([
                    np.matmul(a[b * per:(b + 1) * per],
                              w.reshape(-1, self.k, self.n)[b])
                    for b in range(rows // per)])
            else:
                acc = np.matmul(a, w)
            out = acc.astype(np.float32) * (sa[:, None] *
                                            sw[None, :].astype(np.float32))
        if bias is not None:
            out = out + bias
        return out.reshape(self.batch + [self.m, self.n])


if __name__ == "__main__":
    sys.exit(rm.main(DynamicCase))
