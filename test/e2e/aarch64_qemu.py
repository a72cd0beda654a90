#!/usr/bin/env python3
"""Random matmuls compiled for AArch64, run under qemu, against the reference.

    aarch64_qemu.py --cases 24 --seed 1 --work-dir /tmp/aq \\
        [--variants max:neoverse-n2,cortex-a76:neoverse-n1,cortex-a57:cortex-a57]

Draws random qlow.matmul functions from random_matmul.py (plain results),
random_epilogue_matmul.py (fused relu, gelu/silu tables, residual adds) and
random_dynamic_matmul.py (activations quantized at run time, i8 and int4
weights), with M, N, K up to --max-dim (primes and odd sizes included), or
with --kind the attention, float-op, f32 matmul or integer-only-op cases of
random_attention.py, random_float_ops.py, random_float_matmul.py or
random_integer_only_ops.py, and
writes them in batches of several functions per MLIR file with .npy inputs.
Every batch runs once with `qlow-run --reference` on the host; then, for each
variant QEMU_CPU:QLOW_CPU, it is compiled with
`qlow-compile --target=aarch64 --cpu=QLOW_CPU` into an object and a C header,
linked with a generated C harness (Inputs/npy_io.h reads and writes the
.npy files; the harness calls each function through the header) by
`clang-22 --target=aarch64-linux-gnu -fuse-ld=lld`, and run with
`qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu QEMU_CPU`. The outputs must equal
the reference bit for bit (f32 gelu/silu within the tolerance of
random_epilogue_matmul.py). One compile, link and qemu run per batch and
variant keeps the cost small.

The default variants: i8mm kernels (smmla/usmmla) on qemu's `max` CPU, the
dotprod kernels (sdot) on a Cortex-A76 (dotprod, no i8mm), and the generic
lowering on a Cortex-A57 (neither). QLOW_CPU may be CPU+CPU+...: one object
holding a variant per CPU, dispatched at run time from HWCAP (and, for SVE
variants, the vector length); QEMU_CPU may carry qemu's CPU properties after
slashes (`max/sve-default-vector-length=32`: 256-bit SVE). Prints "N passed, M failed" per variant,
and exits 1 if any case failed; with --check-tools, only says whether the
tools are there (exit 0) or which is missing (exit 1).
"""

import argparse
import math
import os
import random
import shutil
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import random_matmul as rm  # noqa: E402
import random_attention as ra  # noqa: E402
import random_dynamic_matmul as rdm  # noqa: E402
import random_epilogue_matmul as rem  # noqa: E402
import random_float_matmul as rfm  # noqa: E402
import random_float_ops as rfo  # noqa: E402
import random_integer_only_ops as rio  # noqa: E402

SYSROOT = "/usr/aarch64-linux-gnu"
CTYPES = {"uint8_t": "|u1", "int8_t": "|i1", "uint16_t": "<u2",
          "int16_t": "<i2", "int32_t": "<i4", "uint32_t": "<u4",
          "int64_t": "<i8", "float": "<f4", "double": "<f8"}
CSIZE = {"|u1": 1, "|i1": 1, "<u2": 2, "<i2": 2, "<i4": 4, "<u4": 4,
         "<i8": 8, "<f4": 4, "<f8": 8}


def missing_tools(clang, qemu):
    """What the cross build and emulation need and this machine lacks."""
    missing = []
    for tool in (clang, qemu, "ld.lld-22" if shutil.which("ld.lld-22")
                 else "ld.lld"):
        if not shutil.which(tool):
            missing.append(tool)
    if not os.path.exists(os.path.join(SYSROOT, "lib", "crt1.o")):
        missing.append(f"the aarch64 sysroot ({SYSROOT}: libc6-dev-arm64-cross)")
    if not os.path.isdir("/usr/lib/gcc-cross/aarch64-linux-gnu"):
        missing.append("libgcc for aarch64 (gcc-aarch64-linux-gnu)")
    return missing


def small_dim(rng):
    """M, N or K: a prime, a small size, or log-uniform up to MAX_DIM."""
    r = rng.random()
    if r < 0.3:
        return rng.choice([p for p in rm.PRIMES if p <= MAX_DIM] or [1])
    if r < 0.5:
        return rng.randint(1, 16)
    return int(round(math.exp(rng.uniform(0.0, math.log(MAX_DIM)))))


MAX_DIM = 96


def make_case(kind, i, rng):
    """Case i of `kind` (--kind)."""
    name = f"mm_{i}"
    if kind == "attention":
        return ra.Case(name, rng)
    if kind == "float-ops":
        return rfo.Case(name, rng, rfo.OPS[i % len(rfo.OPS)])
    if kind == "float-matmul":
        return rfm.Case(name, rng)
    if kind == "int-ops":
        return rio.Case(name, rng, rio.OPS[i % len(rio.OPS)])
    if kind == "int4":
        # Weight-only matmuls that qlow-aarch64-int4-matmul takes: groups
        # of a multiple of 32 rows (32, 64, 128), symmetric activations,
        # 2-D; i4 and u4 with one zero point or one per group and column,
        # i8 in ORT's blocks of 16 values, i8 and u8 of any range (the rest
        # of the int4 cases are drawn by the default kind and lowered
        # generically).
        while True:
            case = rdm.DynamicCase(name, rng)
            if (case.int4 and case.group % 32 == 0 and
                    case.scheme == "symmetric" and not case.batch):
                # Every third case: one zero point other than the usual (0
                # for i4, 8 for u4), which the kernel corrects with the
                # activations' group sums (its own generator, so that the
                # cases drawn above stay the same).
                if (i % 3 == 2 and case.w_storage in ("i4", "u4") and
                        case.uniform_zp):
                    lo, hi = (-8, 7) if case.w_storage == "i4" else (0, 15)
                    zp = random.Random(1000 + i).randint(lo, hi)
                    case.zw = np.full((case.groups, case.n), zp,
                                      dtype=np.int64)
                return case
    if rm.SHAPE_CLASS != "random":
        return rm.Case(name, rng)
    return rng.choice([rm.Case, rem.EpilogueCase, rdm.DynamicCase])(name, rng)


def check(kind, case, vdir, ref_err, jit_err):
    """None when `case` passed on the variant in `vdir`, else the problem:
    bit-exact for integer results, and the tolerances of the random_*.py
    script the case comes from for float ones."""
    if kind in ("matmul", "int4"):
        return rm.check_case(case, vdir, ref_err, jit_err)
    if ref_err or jit_err:
        return "\n  ".join(f"{what} failed:\n    " + "\n    ".join(
            err.splitlines()[:6]) for what, err in
            (("reference", ref_err), ("compiled", jit_err)) if err)
    expected = np.load(os.path.join(vdir, "ref", f"{case.name}.0.npy"))
    actual = np.load(os.path.join(vdir, "jit", f"{case.name}.0.npy"))
    inputs = []
    while os.path.exists(path := os.path.join(
            vdir, "in", f"{case.name}.{len(inputs)}.npy")):
        inputs.append(np.load(path))
    if kind == "attention":
        return ra.compare(case, expected, actual, *inputs[:3])[0]
    if kind == "float-ops":
        return rfo.compare(case, expected, actual, inputs[0])[0]
    if kind == "float-matmul":
        case.a = inputs[0]
        return rfm.compare(case, expected, actual)
    if expected.dtype != actual.dtype or expected.shape != actual.shape:
        return (f"result is {actual.dtype} {actual.shape}, the reference "
                f"gives {expected.dtype} {expected.shape}")
    differ = int((expected != actual).sum())
    return f"{differ} of {expected.size} values differ" if differ else None


def parse_header(path):
    """{function: [(param, ctype, dims)]} from the header's comment lines
    `/* f: in0 uint8_t[37][24], out1 int8_t[37][20]. */`."""
    functions = {}
    for line in open(path):
        if not line.startswith("/* ") or " in" not in line and " out" not in line:
            continue
        name, _, rest = line[3:].partition(":")
        rest = rest.strip().rstrip("*/").strip().rstrip(".")
        if rest.startswith("exported") or not rest:
            continue
        params = []
        for item in rest.split(","):
            param, ctype = item.split()[0], item.split()[1]
            base = ctype.split("[")[0]
            dims = [int(d) for d in ctype[len(base):].strip("[]").split("][")
                    if d]
            params.append((param, base, dims))
        functions[name] = params
    return functions


def write_harness(path, header, functions, names):
    """A C program that runs `names` through the header on .npy files:
    argv[1] the input directory, argv[2] the output directory."""
    c = ["#include <stdio.h>", "#include <stdlib.h>",
         '#include "npy_io.h"', f'#include "{os.path.basename(header)}"', "",
         "int main(int argc, char **argv) {",
         "  char path[4096];", "  (void)argc;"]
    for name in names:
        params = functions[name]
        args = []
        c.append("  {")
        for i, (param, ctype, dims) in enumerate(params):
            descr = CTYPES[ctype]
            count = 1
            for d in dims:
                count *= d
            nbytes = count * CSIZE[descr]
            var = f"p{i}"
            index = int(param[2:] if param.startswith("in") else param[3:])
            if param.startswith("in"):
                c.append(f'    snprintf(path, sizeof path, "%s/{name}.{index}.npy", argv[1]);')
                c.append(f"    {ctype} *{var} = npy_load(path, {nbytes});")
            else:
                c.append(f"    {ctype} *{var} = malloc({max(nbytes, 1)});")
            args.append(var)
        c.append(f"    qlow_{name}({', '.join(args)});")
        out = 0
        for i, (param, ctype, dims) in enumerate(params):
            if not param.startswith("out"):
                continue
            descr = CTYPES[ctype]
            count = 1
            for d in dims:
                count *= d
            dims_c = ", ".join(str(d) for d in dims) or "0"
            c.append(f"    {{ const int64_t dims[] = {{{dims_c}}};")
            c.append(f'      snprintf(path, sizeof path, "%s/{name}.{out}.npy", argv[2]);')
            c.append(f'      npy_save(path, p{i}, "{descr}", dims, {len(dims)}, '
                     f"{count * CSIZE[descr]}); }}")
            out += 1
        for i in range(len(params)):
            c.append(f"    free(p{i});")
        c.append("  }")
    c += ["  return 0;", "}"]
    with open(path, "w") as f:
        f.write("\n".join(c) + "\n")


def run(cmd, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    return proc.returncode, proc.stdout + proc.stderr


def main():
    global MAX_DIM
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work-dir")
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--max-dim", type=int, default=96)
    parser.add_argument("--kind", default="matmul",
                        choices=["matmul", "int4", "attention", "float-ops",
                                 "float-matmul", "int-ops"],
                        help="matmul (plain, fused epilogues, dynamic, int4), "
                             "int4 (only the int4 weight-only matmuls that "
                             "the int4 kernel takes), "
                             "or the cases of random_attention.py, "
                             "random_float_ops.py, random_float_matmul.py or "
                             "random_integer_only_ops.py")
    parser.add_argument("--shape-class", choices=["random", "row-blocked"],
                        default="random",
                        help="random (up to --max-dim), or random_matmul.py's "
                             "row-blocked shapes (M 620..1100, K 860..1024, "
                             "N <= 32: activations beyond half of L2)")
    parser.add_argument("--m-values",
                        help="matmul kinds: M of the cases in turn from this "
                             "comma-separated list (N, K and the rest as "
                             "drawn), e.g. the row counts of a tile shape")
    parser.add_argument("--k-values",
                        help="matmul kinds: K of the cases in turn from this "
                             "comma-separated list (every third dimension "
                             "the generators draw, M, N, K in that order), "
                             "e.g. K in whole iterations of a kernel's loop")
    parser.add_argument("--tiny-rows", action="store_true",
                        help="int4: every third row of the activations "
                             "scaled by 2^-118, so that its scale times a "
                             "weight scale over 16 is subnormal (the int4 "
                             "kernel's exact fallback for such row tiles), "
                             "and no bias")
    parser.add_argument("--edge-rows", action="store_true",
                        help="int4: rows that test the activations' "
                             "quantization's rounding: every third row "
                             "halves up to 8 in magnitude with one +-127 "
                             "(scale 1, so x / scale ties at .5 and rounds "
                             "to even)")
    parser.add_argument("--variants",
                        default="max:neoverse-n2,cortex-a76:neoverse-n1,"
                                "cortex-a57:cortex-a57",
                        help="QEMU_CPU:QLOW_CPU,... (qemu's -cpu, qlow-compile's --cpu)")
    parser.add_argument("--qlow-run", default=shutil.which("qlow-run"))
    parser.add_argument("--qlow-compile", default=shutil.which("qlow-compile"))
    parser.add_argument("--clang", default="clang-22")
    parser.add_argument("--qemu", default="qemu-aarch64")
    parser.add_argument("--check-tools", action="store_true")
    args = parser.parse_args()
    missing = missing_tools(args.clang, args.qemu)
    if args.check_tools:
        if missing:
            print("missing: " + "; ".join(missing))
            return 1
        print("aarch64 cross tools present")
        return 0
    if missing:
        print("aarch64_qemu.py: cannot run: missing " + "; ".join(missing) +
              " (scripts/setup.sh installs them)")
        return 1
    if not args.work_dir or not args.qlow_run or not args.qlow_compile:
        parser.error("--work-dir, qlow-run and qlow-compile are needed")
    MAX_DIM = args.max_dim
    rm.Case.dim = staticmethod(small_dim)
    rm.SHAPE_CLASS = args.shape_class

    start = time.time()
    work = args.work_dir
    shutil.rmtree(work, ignore_errors=True)
    for sub in ("in", "ref"):
        os.makedirs(os.path.join(work, sub))
    rng = random.Random(args.seed)
    nprng = np.random.default_rng(args.seed)
    if args.k_values:
        if args.kind not in ("matmul", "int4"):
            parser.error("--k-values is for --kind matmul or int4")
        k_values = [int(v) for v in args.k_values.split(",")]
        draw_dim, drawn = rm.Case.dim, [0]

        def dim(rng):
            d = draw_dim(rng)
            drawn[0] += 1
            if drawn[0] % 3 == 0:
                d = k_values[(drawn[0] // 3 - 1) % len(k_values)]
            return d
        rm.Case.dim = staticmethod(dim)
    cases = [make_case(args.kind, i, rng) for i in range(args.cases)]
    if args.m_values:
        if args.kind not in ("matmul", "int4"):
            parser.error("--m-values is for --kind matmul or int4")
        values = [int(v) for v in args.m_values.split(",")]
        for i, case in enumerate(cases):
            case.m = values[i % len(values)]
    if args.edge_rows and args.kind != "int4":
        parser.error("--edge-rows is for --kind int4")
    if args.tiny_rows and args.kind != "int4":
        parser.error("--tiny-rows is for --kind int4")
    if args.tiny_rows:
        # No bias: it would absorb the tiny rows' results.
        for case in cases:
            case.bias = None
    batches = [cases[i:i + args.batch]
               for i in range(0, len(cases), args.batch)]
    files = []
    for b, batch in enumerate(batches):
        path = os.path.join(work, f"batch_{b}.mlir")
        with open(path, "w") as f:
            f.write(f"// aarch64_qemu.py --seed {args.seed}: batch {b}\n")
            for case in batch:
                f.write(f"// {case.name}: {case.describe()}\n{case.mlir()}\n")
                for i, array in enumerate(case.inputs(nprng)):
                    if args.tiny_rows and i == 0:
                        array = array.copy()
                        array[..., ::3, :] *= np.float32(2.0 ** -118)
                    if args.edge_rows and i == 0:
                        array = array.copy()
                        ties = np.clip(np.round(array[..., ::3, :] * 4.0)
                                       / 2.0, -8.0, 8.0)
                        ties[..., 0] = np.where(
                            np.arange(ties.shape[-2]) % 2 == 0, 127.0,
                            -127.0)
                        array[..., ::3, :] = ties
                    np.save(os.path.join(work, "in", f"{case.name}.{i}.npy"),
                            array)
        files.append(path)
    in_dir = os.path.join(work, "in")
    ref_errors = {}
    for path, batch in zip(files, batches):
        ref_errors.update(rm.run_mode(args.qlow_run, path,
                                      [c.name for c in batch], in_dir,
                                      os.path.join(work, "ref"), True, 2))

    harness_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "Inputs")
    failed_total = 0
    for variant in args.variants.split(","):
        qemu_cpu, qlow_cpu = variant.split(":")
        # CPU/prop=value/...: qemu's CPU properties (-cpu CPU,prop=value),
        # e.g. max/sve-default-vector-length=32 for 256-bit SVE.
        qemu_cpu = qemu_cpu.replace("/", ",")
        # CPU+CPU+...: one object with a variant per CPU, chosen at run time.
        qlow_cpu = qlow_cpu.replace("+", ",")
        vdir = os.path.join(work, "".join(
            ch if ch.isalnum() or ch in "-_." else "-" for ch in variant))
        os.makedirs(os.path.join(vdir, "jit"))
        for sub in ("in", "ref"):
            os.symlink(os.path.join(work, sub), os.path.join(vdir, sub))
        errors = {}
        for b, (path, batch) in enumerate(zip(files, batches)):
            names = [c.name for c in batch]
            obj = os.path.join(vdir, f"batch_{b}.o")
            header = os.path.join(vdir, f"batch_{b}.h")
            exe = os.path.join(vdir, f"batch_{b}")
            code, out = run([args.qlow_compile, path, "--target=aarch64",
                             f"--cpu={qlow_cpu}", "-o", obj])
            if code == 0:
                harness = os.path.join(vdir, f"batch_{b}_main.c")
                write_harness(harness, header, parse_header(header), names)
                code, out = run([args.clang, "--target=aarch64-linux-gnu",
                                 "-fuse-ld=lld", "-O1", "-I", harness_dir,
                                 "-I", vdir, harness, obj, "-lm", "-o", exe])
            if code == 0:
                code, out = run([args.qemu, "-L", SYSROOT, "-cpu", qemu_cpu,
                                 exe, in_dir, os.path.join(vdir, "jit")])
            for name in names:
                errors[name] = (None if code == 0 else
                                f"batch {b} failed ({code}):\n" +
                                out.strip()[:2000])
        passed = failed = 0
        for b, batch in enumerate(batches):
            for case in batch:
                problem = check(args.kind, case, vdir, ref_errors[case.name],
                                errors[case.name])
                if problem is None:
                    passed += 1
                    continue
                failed += 1
                print(f"FAIL {variant} @{case.name} in {files[b]}: "
                      f"{case.describe()}\n  {problem}\n")
        print(f"{variant}: {passed} passed, {failed} failed")
        failed_total += failed
    print(f"done ({time.time() - start:.1f} s)")
    return 1 if failed_total else 0


if __name__ == "__main__":
    sys.exit(main())
