#!/usr/bin/env python3
"""Checks the ahead-of-time path end to end: qlow-compile writes an object and
a C header, a C program built with clang-22 calls the function through the
header, and its output must equal `qlow-run --reference` bit for bit.

usage: c_abi.py MODEL.mlir FUNC WORK_DIR   (qlow-compile, qlow-run on PATH)
Prints 'c-abi: N outputs identical' on success; exits non-zero otherwise.
"""
import os
import subprocess
import sys

import numpy as np


def run(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"c-abi: {' '.join(cmd)} failed ({done.returncode}):\n"
                 f"{done.stdout}{done.stderr}")
    return done.stdout


def main():
    model, func, work = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(work, exist_ok=True)
    obj = os.path.join(work, "model.o")
    run(["qlow-compile", model, "--cpu=host", "-o", obj])
    header = os.path.join(work, "model.h")

    # Deterministic inputs for the function's arguments, read from the header.
    rng = np.random.default_rng(7)
    ctypes = {"uint8_t": np.uint8, "int8_t": np.int8, "int16_t": np.int16,
              "uint16_t": np.uint16, "int32_t": np.int32, "float": np.float32}
    text = open(header).read()
    line = [l for l in text.splitlines()
            if l.startswith(f"/* {func}: in0") or l.startswith(f"/* {func}: out0")][0]
    params = []
    written = set()
    for item in line[len(f"/* {func}:"):].rstrip(". */").split(","):
        if item.endswith(" (written by the call)"):
            item = item[:-len(" (written by the call)")]
            written.add(item.split()[0])
        name, ctype, dims = item.split()[0], item.split()[1].split("[")[0], item.split("[", 1)[1]
        shape = [int(d) for d in dims.rstrip("]").split("][")]
        params.append((name, ctype, shape))
    # The wrapper's prototype: const exactly for the inputs not written.
    proto = [l for l in text.splitlines()
             if l.startswith(f"static inline void qlow_{func}(")][0]
    for name, ctype, _ in params:
        if name.startswith("in"):
            const = f"const {ctype} *{name}" in proto
            if const == (name in written):
                sys.exit(f"c-abi: {name} is {'' if const else 'not '}const in "
                         f"'{proto}'")
    inputs = []
    for name, ctype, shape in params:
        if name.startswith("in"):
            dt = ctypes[ctype]
            if dt == np.float32:
                a = rng.standard_normal(shape).astype(np.float32)
            else:
                info = np.iinfo(dt)
                lo, hi = max(info.min, -3000), min(info.max, 3000)
                a = rng.integers(lo, hi + 1, size=shape).astype(dt)
            path = os.path.join(work, f"{name}.npy")
            np.save(path, a)
            a.tofile(os.path.join(work, f"{name}.bin"))
            inputs.append(path)

    # The C consumer: read each input's raw bytes, call qlow_<func>, write
    # each output's raw bytes.
    c = ["#include <stdio.h>", "#include <stdlib.h>", '#include "model.h"',
         "static void *slurp(const char *p, size_t n) { void *b = malloc(n);",
         "  FILE *f = fopen(p, \"rb\"); if (!f || fread(b, 1, n, f) != n) exit(2);",
         "  fclose(f); return b; }", "int main(void) {"]
    args = []
    for name, ctype, shape in params:
        count = int(np.prod(shape))
        if name.startswith("in"):
            c.append(f'  {ctype} *{name} = slurp("{work}/{name}.bin", {count} * sizeof({ctype}));')
        else:
            c.append(f"  {ctype} *{name} = malloc({count} * sizeof({ctype}));")
        args.append(name)
    c.append(f"  qlow_{func}({', '.join(args)});")
    # Outputs, and the inputs as the call left them.
    for name, ctype, shape in params:
        count = int(np.prod(shape))
        path = f"{work}/{name}{'_after' if name.startswith('in') else ''}.bin"
        c.append(f'  {{ FILE *f = fopen("{path}", "wb"); '
                 f"fwrite({name}, sizeof({ctype}), {count}, f); fclose(f); }}")
    c.append("  return 0;\n}")
    src = os.path.join(work, "main.c")
    open(src, "w").write("\n".join(c) + "\n")
    exe = os.path.join(work, "main")
    run(["clang-22", "-O1", "-I", work, src, obj, "-o", exe,
         "-L/usr/lib/llvm-22/lib", "-Wl,-rpath,/usr/lib/llvm-22/lib", "-lomp"])
    run([exe])

    outs = [(n, ctypes[t], s) for n, t, s in params if n.startswith("out")]
    ref_paths = [os.path.join(work, f"ref_{n}.npy") for n, _, _ in outs]
    cmd = ["qlow-run", "--reference", model, "--entry", func]
    for p in inputs:
        cmd += ["-i", p]
    for p in ref_paths:
        cmd += ["-o", p]
    run(cmd)
    for (name, dt, shape), ref_path in zip(outs, ref_paths):
        got = np.fromfile(os.path.join(work, f"{name}.bin"), dtype=dt).reshape(shape)
        ref = np.load(ref_path).astype(dt)
        if got.tobytes() != ref.tobytes():
            bad = np.argwhere(got != ref)[:5]
            sys.exit(f"c-abi: {name} differs from the reference at {bad.tolist()}")
    # A const input must be as the caller wrote it.
    unchanged = 0
    for name, ctype, shape in params:
        if name.startswith("in") and name not in written:
            before = open(os.path.join(work, f"{name}.bin"), "rb").read()
            after = open(os.path.join(work, f"{name}_after.bin"), "rb").read()
            if before != after:
                sys.exit(f"c-abi: the call wrote into read-only input {name}")
            unchanged += 1
    print(f"c-abi: {len(outs)} outputs identical; {unchanged} read-only inputs "
          f"unchanged, {len(written)} written by the call")


if __name__ == "__main__":
    main()
