#!/usr/bin/env python3
# ===- aot_c.py - an ONNX model compiled ahead of time, called from C -------===#
#
# qlow-compile MODEL.onnx writes an object and a C header; a C program built
# with clang-22 calls the model through the header's qlow_model on an input
# read from a file, and its output is compared with ONNX Runtime's. With
# --library, `qlow-compile MODEL.onnx -o DIR/` writes lib<name>.a and
# <name>.h, and examples/onnx/run_model.c runs it through the model API
# (<name>_create/_run/_destroy), every input and output; with --aarch64
# CPUS the library is compiled for aarch64-linux-gnu (one variant per CPU,
# picked at run time from HWCAP), the program cross-linked with clang-22 and
# lld against the arm64 sysroot and run under qemu-aarch64 with each
# --qemu-cpu. Prints
# `max_rel=<error relative to max |ORT output|>` per output; exits 1 above
# --max-rel (and, with --same-across-cpus, where a CPU's outputs differ from
# the first CPU's in any bit).
#
# ===-----------------------------------------------------------------------===#

import argparse
import os
import subprocess
import sys

import numpy as np
import onnx

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include "model.h"

int main(int argc, char **argv) {
  static float x[IN_SIZE], y[OUT_SIZE];
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(x, sizeof(float), IN_SIZE, f) != IN_SIZE) return 2;
  fclose(f);
  qlow_model(x, y);
  f = fopen(argv[2], "wb");
  if (!f || fwrite(y, sizeof(float), OUT_SIZE, f) != OUT_SIZE) return 3;
  fclose(f);
  return 0;
}
"""


def run(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        sys.exit(f"failed: {' '.join(cmd)}")


def run_library(a, m):
    import onnxruntime as ort
    name = os.path.splitext(os.path.basename(a.model))[0].replace("-", "_")
    lib = os.path.join(a.work, "lib") + "/"
    example = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..",
                           "examples", "onnx", "run_model.c")
    exe = os.path.join(a.work, "run_model")
    if a.aarch64:
        # No OpenMP on aarch64: the kernels run on the calling thread.
        run(["qlow-compile", a.model, "--target=aarch64",
             f"--cpu={a.aarch64}", "-o", lib])
        run(["clang-22", "--target=aarch64-linux-gnu", "-fuse-ld=lld", "-O1",
             f"-DMODEL={name}", "-I", lib, example,
             os.path.join(lib, f"lib{name}.a"), "-o", exe, "-lm"])
        launchers = [["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", "-cpu",
                      cpu] for cpu in a.qemu_cpu.split(",")]
    else:
        run(["qlow-compile", a.model, "--cpu=host", "-o", lib])
        run(["clang-22", "-O1", f"-DMODEL={name}", "-I", lib, example,
             os.path.join(lib, f"lib{name}.a"), "-o", exe,
             "-L/usr/lib/llvm-22/lib", "-Wl,-rpath,/usr/lib/llvm-22/lib",
             "-lomp", "-lm"])
        launchers = [[]]
    rng = np.random.default_rng(0)
    feeds, args = {}, [exe]
    for vi in m.graph.input:
        shape = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        elem = vi.type.tensor_type.elem_type
        if elem in (onnx.TensorProto.INT64, onnx.TensorProto.INT32):
            # Integer inputs (positions): uniform in [0, 64).
            dtype = np.int64 if elem == onnx.TensorProto.INT64 else np.int32
            feeds[vi.name] = rng.integers(0, 64, shape).astype(dtype)
        else:
            feeds[vi.name] = rng.standard_normal(shape).astype(np.float32)
        path = os.path.join(a.work, vi.name + ".bin")
        feeds[vi.name].tofile(path)
        args.append(path)
    outs = [o.name for o in m.graph.output]
    args += [os.path.join(a.work, o + ".out.bin") for o in outs]
    sess = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    wants = sess.run(outs, feeds)
    ok = True
    first = {}  # The first launcher's outputs, for --same-across-cpus.
    for launcher in launchers:
        for o in outs:  # No stale output can pass for this run's.
            path = os.path.join(a.work, o + ".out.bin")
            if os.path.exists(path):
                os.remove(path)
        run(launcher + args)
        where = f"qemu_cpu={launcher[4]} " if launcher else ""
        for name_, want in zip(outs, wants):
            got = np.fromfile(os.path.join(a.work, name_ + ".out.bin"),
                              np.float32).reshape(want.shape)
            rel = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
            same = ""
            if a.same_across_cpus:
                if name_ not in first:
                    first[name_] = got
                else:
                    identical = bool(np.array_equal(
                        got.view(np.uint32), first[name_].view(np.uint32)))
                    same = f" identical_to_first={int(identical)}"
                    ok &= identical
            print(f"{where}output={name_} max_rel={rel:.3e}{same}")
            ok &= rel <= a.max_rel
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("work")
    p.add_argument("--max-rel", type=float, default=1e-5)
    p.add_argument("--same-across-cpus", action="store_true",
                   help="with --qemu-cpu: every CPU's outputs must equal the "
                        "first CPU's bit for bit (integer kernels on one, "
                        "the generic lowering on another)")
    p.add_argument("--library", action="store_true")
    p.add_argument("--aarch64", metavar="CPUS",
                   help="with --library: qlow-compile --target=aarch64 "
                        "--cpu=CPUS, run under qemu-aarch64")
    p.add_argument("--qemu-cpu", default="max",
                   help="with --aarch64: comma-separated qemu -cpu models")
    a = p.parse_args()
    import onnxruntime as ort

    os.makedirs(a.work, exist_ok=True)
    m = onnx.load(a.model)
    if a.library:
        sys.exit(run_library(a, m))
    in_shape = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    out_shape = [d.dim_value for d in m.graph.output[0].type.tensor_type.shape.dim]
    obj = os.path.join(a.work, "model.o")
    run(["qlow-compile", a.model, "--cpu=host", "-o", obj])
    src = os.path.join(a.work, "main.c")
    with open(src, "w") as f:
        f.write(f"#define IN_SIZE {int(np.prod(in_shape))}\n"
                f"#define OUT_SIZE {int(np.prod(out_shape))}\n" + PROGRAM)
    exe = os.path.join(a.work, "main")
    run(["clang-22", "-O1", "-I", a.work, src, obj, "-o", exe,
         "-L/usr/lib/llvm-22/lib", "-Wl,-rpath,/usr/lib/llvm-22/lib", "-lomp",
         "-lm"])
    x = np.random.default_rng(0).standard_normal(in_shape).astype(np.float32)
    x.tofile(os.path.join(a.work, "x.bin"))
    run([exe, os.path.join(a.work, "x.bin"), os.path.join(a.work, "y.bin")])
    got = np.fromfile(os.path.join(a.work, "y.bin"), np.float32).reshape(out_shape)
    sess = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    want = sess.run(None, {m.graph.input[0].name: x})[0]
    rel = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
    print(f"max_rel={rel:.3e}")
    sys.exit(0 if rel <= a.max_rel else 1)


if __name__ == "__main__":
    main()
