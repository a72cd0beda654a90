#!/usr/bin/env python3
# ===- compare_ort.py - qlow against ONNX Runtime on one ONNX model --------===#
#
# Runs MODEL under ONNX Runtime (CPU) and under qlow (`qlow-run MODEL`:
# imported, compiled and run) on the same random inputs and checks each output:
# cosine similarity >= --min-cosine, and with --max-steps S, where the output
# comes from DequantizeLinear (both paths end in integers), a max abs error
# within S steps of that output's scale. Prints one line of measurements per
# output; exits 1 when a check fails.
#
# The checks are against ONNX Runtime with its graph optimizations disabled,
# which computes what the ONNX graph says (QDQ: float ops between exact
# QuantizeLinear/DequantizeLinear). With them enabled (the default session),
# ORT fuses QDQ groups into its own integer kernels, whose rounding differs
# from the graph's; that comparison is printed as `ort_optimized` and checked
# against --min-cosine-optimized.
#
# ===-----------------------------------------------------------------------===#

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper


def output_scale(model, name):
    """The scale of the DequantizeLinear that produces `name`, or None."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if name in node.output and node.op_type == "DequantizeLinear":
            s = inits.get(node.input[1])
            return None if s is None else float(np.max(s))
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--qlow-run", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--min-cosine", type=float, default=0.9999)
    p.add_argument("--max-steps", type=float, default=None)
    p.add_argument("--max-rel", type=float, default=None,
                   help="also require max abs error <= REL * max |ORT output|")
    p.add_argument("--min-cosine-optimized", type=float, default=None)
    p.add_argument("--mlir", default=None,
                   help="run this qlow MLIR (MODEL imported and transformed, "
                        "e.g. by qlow-quantize) instead of MODEL")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--int-high", type=int, default=8,
                   help="integer inputs are drawn uniformly from [0, N)")
    a = p.parse_args()

    import onnxruntime as ort

    model = onnx.load(a.model)
    rng = np.random.default_rng(a.seed)
    init_names = {t.name for t in model.graph.initializer}
    feeds = {}
    for vi in model.graph.input:
        if vi.name in init_names:
            continue
        shape = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        elem = vi.type.tensor_type.elem_type
        if elem in (onnx.TensorProto.INT64, onnx.TensorProto.INT32):
            # Integer inputs (positions, indices): uniform in [0, int-high).
            dtype = np.int64 if elem == onnx.TensorProto.INT64 else np.int32
            feeds[vi.name] = rng.integers(0, a.int_high, shape).astype(dtype)
        else:
            feeds[vi.name] = rng.standard_normal(shape).astype(np.float32)

    def run_ort(optimize):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = a.threads
        if not optimize:
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        sess = ort.InferenceSession(a.model, opts,
                                    providers=["CPUExecutionProvider"])
        names = [o.name for o in sess.get_outputs()]
        return names, dict(zip(names, sess.run(names, feeds)))

    names, expected = run_ort(False)
    _, optimized = run_ort(True)

    def cosine(g, w):
        g, w = g.astype(np.float64).ravel(), w.astype(np.float64).ravel()
        return float(g @ w / (np.linalg.norm(g) * np.linalg.norm(w) + 1e-30))

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [a.qlow_run, a.mlir or a.model, "--output-dir", os.path.join(tmp, "out"),
               "--num-threads", str(a.threads), "--repeat", str(a.repeat)]
        for name, value in feeds.items():
            path = os.path.join(tmp, name + ".npy")
            np.save(path, value)
            cmd += ["--input", path if a.mlir else f"{name}={path}"]
        run = subprocess.run(cmd, capture_output=True, text=True)
        sys.stdout.write(run.stdout)
        if run.returncode != 0:
            sys.stderr.write(run.stderr)
            sys.exit(f"qlow-run failed with exit code {run.returncode}")
        ok = True
        for name in names:
            index = names.index(name)
            got = np.load(os.path.join(tmp, "out", f"model.{index}.npy" if a.mlir
                                       else name + ".npy"))
            want = expected[name].astype(np.float32)
            if got.shape != want.shape:
                print(f"output={name} shape {got.shape} != {want.shape}")
                ok = False
                continue
            cos = cosine(got, want)
            err = float(np.max(np.abs(got.astype(np.float64) - want)))
            line = f"output={name} cosine={cos:.7f} max_abs={err:.3e}"
            checks = cos >= a.min_cosine
            if a.max_steps is not None:
                scale = output_scale(model, name)
                if scale is None:
                    print(f"output={name}: not produced by DequantizeLinear")
                    ok = False
                    continue
                line += f" steps={err / scale:.3f}"
                checks &= err <= a.max_steps * scale * (1 + 1e-6)
            if a.max_rel is not None:
                rel = err / float(np.max(np.abs(want)))
                line += f" rel={rel:.3e}"
                checks &= rel <= a.max_rel
            cos_opt = cosine(got, optimized[name])
            line += f" ort_optimized_cosine={cos_opt:.7f}"
            if a.min_cosine_optimized is not None:
                checks &= cos_opt >= a.min_cosine_optimized
            print(line + (" ok" if checks else " FAIL"))
            ok &= checks
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
