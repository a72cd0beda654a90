#!/usr/bin/env python3
"""Random requantizing matmuls with fused activations and residual adds.

    random_epilogue_matmul.py --cases 100 --seed 1 --work-dir /tmp/rem

The cases of random_matmul.py with a quantized or f32 result, followed by
what a transformer puts after a linear layer, all of which qlow-cpu-pipeline
fuses into the matmul kernel's epilogue:

  * an optional activation: relu (a result type whose storage range starts
    at its zero point, so the requantization's saturation is the relu), or
    qlow.gelu (erf or tanh form) or qlow.silu from the quantized result to
    another quantized type (a table of the reference's values);
  * an optional residual add (qlow.add with a quantized argument of the
    result's shape, fixed-point or float rounding);
  * with an f32 result: gelu/silu in f32 and an f32 residual add;
  * an optional gate (before the residual add): the activation's result
    times a second matmul of the same activations with other weights
    (qlow.mul, quantized with either rounding, or f32), as SwiGLU's
    silu(x Wg) * (x Wu); qlow-x86-int8-matmul computes both matmuls in one
    kernel (fuse-siblings).

Compiled and run with qlow-run, bit-exact against qlow-run --reference, except
f32 gelu/silu, within 2^-20 x max|reference| (vector approximations), or
2^-14 x max|reference| when a gate multiplies them (the error of the
activation is scaled by the gate's values, max|reference| by their product).
"""

import math
import sys

import numpy as np

import random_matmul as rm


class EpilogueCase(rm.Case):
    """A random_matmul case with a quantized result, an activation and a
    residual add."""

    def __init__(self, name, rng):
        while True:
            super().__init__(name, rng)
            if self.result in ("q", "f32"):
                break
        self.tolerance = 0.0
        if self.result == "f32":
            # The f32 epilogue: gelu/silu in f32 (vector approximations of
            # erfc and exp: a tolerance of 2^-20 x max|reference|, the bound
            # test/e2e/random_float_ops.py holds them to), residual add
            # in f32 (exact).
            self.activation = rng.choice(["none", "gelu", "gelu_tanh", "silu"])
            self.residual = rng.random() < 0.6
            self.draw_gate(rng)
            if self.activation != "none":
                self.tolerance = 2.0 ** (-14 if self.gate else -20)
            return
        per_tensor = not self.out_per_channel
        choices = ["none", "relu", "gelu", "gelu_tanh", "silu"]
        self.activation = rng.choice(choices) if per_tensor else "none"
        self.residual = per_tensor and rng.random() < 0.6
        olo, ohi, _ = rm.STORAGE[self.out_storage]
        so = self.so[0]
        if self.activation in ("gelu", "gelu_tanh", "silu"):
            self.act_storage = rng.choice(["u8", "i8"])
            alo, ahi, _ = rm.STORAGE[self.act_storage]
            self.act_scale = self.scale(rng, so / 2.0, so * 2.0)
            self.act_zp = rng.randint(alo, (alo + ahi) // 2)
        if self.residual:
            self.res_storage = rng.choice(["u8", "i8"])
            rlo, rhi, _ = rm.STORAGE[self.res_storage]
            self.res_scale = self.scale(rng, so / 2.0, so * 2.0)
            self.res_zp = rng.randint(rlo + 10, rhi - 10)
            self.sum_storage = rng.choice(["u8", "i8"])
            slo, shi, _ = rm.STORAGE[self.sum_storage]
            self.sum_scale = self.scale(rng, so, so * 3.0)
            self.sum_zp = rng.randint(slo + 10, shi - 10)
            self.add_rounding = rng.choice(["fixedpoint", "float"])
        self.draw_gate(rng, per_tensor)

    def draw_gate(self, rng, allowed=True):
        """The optional gate: a second matmul of %a with the weights
        permuted (the same values, scales and zero points, so the same
        ranges) and its result, typed as the first matmul's without a relu,
        multiplying the activation's."""
        self.gate = allowed and rng.random() < 0.35
        if not self.gate:
            return
        self.gate_seed = rng.randint(0, 1 << 30)
        if self.result == "f32":
            return
        self.gate_storage = rng.choice(["u8", "i8"])
        glo, ghi, _ = rm.STORAGE[self.gate_storage]
        s1 = (self.act_scale if self.activation in ("gelu", "gelu_tanh", "silu")
              else self.so[0])
        base = s1 * self.so[0]
        self.gate_scale = self.scale(rng, base * 32.0, base * 256.0)
        self.gate_zp = rng.randint(glo + 10, ghi - 10)
        self.mul_rounding = rng.choice(["fixedpoint", "float"])

    def gate_weights(self):
        perm = np.random.default_rng(self.gate_seed).permutation(self.w.size)
        return self.w.reshape(-1)[perm].reshape(self.w.shape)

    def gated_type(self):
        if self.result == "f32":
            return self.quant_type(None, None, None)
        return self.quant_type(self.gate_storage, self.gate_scale,
                               self.gate_zp)

    # Types ----------------------------------------------------------------

    def out_type(self):
        if self.activation != "relu":
            return super().out_type()
        # The relu: saturation at the zero point.
        _, ohi, _ = rm.STORAGE[self.out_storage]
        dims = self.shape(self.out_dims())
        zo = self.zo[0]
        return (f"tensor<{dims}x!quant.uniform<{self.out_storage}<{zo}:{ohi}>"
                f":f32, {rm.fmt(self.so[0])}:{zo}>>")

    def quant_type(self, storage, scale, zp):
        if self.result == "f32":
            return f"tensor<{self.shape(self.out_dims())}xf32>"
        return (f"tensor<{self.shape(self.out_dims())}x!quant.uniform<"
                f"{storage}:f32, {rm.fmt(scale)}:{zp}>>")

    def final_type(self):
        if self.result == "f32":
            return self.quant_type(None, None, None)
        if self.residual:
            return self.quant_type(self.sum_storage, self.sum_scale,
                                   self.sum_zp)
        if self.gate:
            return self.gated_type()
        if self.activation in ("gelu", "gelu_tanh", "silu"):
            return self.quant_type(self.act_storage, self.act_scale,
                                   self.act_zp)
        return self.out_type()

    def mlir(self):
        text = super().mlir()
        matmul_type = self.out_type()
        tail = f"  return %y : {matmul_type}\n}}\n"
        assert text.endswith(tail)
        body, value, value_type = [], "%y", matmul_type
        if self.activation in ("gelu", "gelu_tanh", "silu"):
            act_type = (self.quant_type(None, None, None)
                        if self.result == "f32" else
                        self.quant_type(self.act_storage, self.act_scale,
                                        self.act_zp))
            op = "qlow.silu" if self.activation == "silu" else "qlow.gelu"
            attr = (" {approximate = #qlow.gelu_approximation<tanh>}"
                    if self.activation == "gelu_tanh" else "")
            body.append(f"  %act = {op} {value}{attr} : {value_type} -> "
                        f"{act_type}")
            value, value_type = "%act", act_type
        if self.gate:
            raw = f"tensor<{self.shape(self.rhs_dims())}xi8>"
            hexw = self.gate_weights().tobytes().hex().upper()
            y2_type = rm.Case.out_type(self)
            attr = (" {rounding = #qlow.rounding<float>}"
                    if self.result == "q" and self.rounding == "float" else "")
            body.append(f'  %w2 = arith.constant dense<"0x{hexw}"> : {raw}')
            body.append(f"  %wq2 = quant.scast %w2 : {raw} to "
                        f"{self.rhs_type()}")
            body.append(f"  %y2 = qlow.matmul %a, %wq2{attr} : "
                        f"({self.lhs_type()}, {self.rhs_type()}) -> {y2_type}")
            attr = (" {rounding = #qlow.rounding<float>}"
                    if self.result != "f32" and self.mul_rounding == "float"
                    else "")
            body.append(f"  %gated = qlow.mul {value}, %y2{attr} : "
                        f"({value_type}, {y2_type}) -> {self.gated_type()}")
            value, value_type = "%gated", self.gated_type()
        if self.residual:
            res_type = self.residual_type()
            attr = (" {rounding = #qlow.rounding<float>}"
                    if self.result != "f32" and self.add_rounding == "float"
                    else "")
            body.append(f"  %sum = qlow.add {value}, %res{attr} : "
                        f"({value_type}, {res_type}) -> {self.final_type()}")
            value, value_type = "%sum", self.final_type()
        body.append(f"  return {value} : {value_type}")
        text = text[:-len(tail)] + "\n".join(body) + "\n}\n"
        header_end = text.index(f") -> {matmul_type} {{")
        args = text[:header_end]
        if self.residual:
            args += ", %res: " + self.residual_type()
        return (args + f") -> {self.final_type()} {{" +
                text[header_end + len(f") -> {matmul_type} {{"):])

    def residual_type(self):
        if self.result == "f32":
            return self.final_type()
        return self.quant_type(self.res_storage, self.res_scale, self.res_zp)

    def inputs(self, nprng):
        arrays = super().inputs(nprng)
        if self.residual and self.result == "f32":
            arrays.append(nprng.normal(0.0, 1.0, size=self.out_dims())
                          .astype(np.float32))
        elif self.residual:
            lo, hi, dtype = rm.STORAGE[self.res_storage]
            arrays.append(nprng.integers(lo, hi, size=self.out_dims(),
                                         endpoint=True).astype(dtype))
        return arrays

    def describe(self):
        extra = []
        if self.activation != "none":
            extra.append(f"{self.activation} activation")
        if self.gate:
            extra.append("f32 gate" if self.result == "f32" else
                         f"gate ({self.mul_rounding} rounding)")
        if self.residual:
            extra.append("f32 residual add" if self.result == "f32" else
                         f"residual add ({self.add_rounding} rounding)")
        return super().describe() + (", " + ", ".join(extra) if extra else "")

    # The numpy model covers the matmul alone; check_case reports it only
    # for cases without an activation or residual.
    def model(self, lhs, bias):
        if self.activation not in ("none", "relu") or self.residual or \
                self.gate or self.tolerance > 0.0:
            return None
        out = super().model(lhs, bias)
        if self.activation == "relu":
            out = np.maximum(out, self.zo[0]).astype(out.dtype)
        return out


if __name__ == "__main__":
    sys.exit(rm.main(EpilogueCase))
