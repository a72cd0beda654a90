#!/usr/bin/env python3
# ===- onnx_peers.py - the ONNX models of qlow-bench onnx and their peers ---===#
#
# qlow-bench onnx drives this script; it is not meant to be run by hand,
# though every subcommand works alone:
#
#   build --out-dir D --models a,b --seq S --d-model D ...
#       Builds each model with the generators of the ONNX tests
#       (test/Import/ONNX/Inputs/onnx_models.py; ORT's quantize_static,
#       quantize_dynamic and 4-bit quantizer) at the given sizes, and writes
#       D/<model>.onnx and one random input per graph input,
#       D/<model>.<input>.npy (normal, seeded).
#   ort --model M.onnx --inputs-prefix P --threads 1,2 --repeat R --out O
#       Times ONNX Runtime (CPU; intra_op_num_threads=t, inter_op 1,
#       sequential execution, all graph optimizations) on the inputs and
#       writes its outputs to O.<k>.npy (output index k).
#   iree --model M.onnx --inputs-prefix P --threads 1,2 --repeat R --out O
#       Imports M with iree-import-onnx, compiles it for this CPU (llvm-cpu,
#       data tiling and ukernels on) and times it on the task driver with t
#       worker threads, one Python process per thread count (the runtime's
#       flags are process-wide). Where IREE cannot compile or run the model,
#       prints why.
#
# Each timing is the median of R calls after 0.2 s of warm-up calls; each printed
# line is `peer=<p> threads=<t> ms=<median>` or
# `peer=<p> threads=<t> status=unsupported reason="<first error line>"`.
#
# ===-----------------------------------------------------------------------===#

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "Import", "ONNX", "Inputs"))

# The flags of the IREE peer: the llvm-cpu backend for this CPU, with data
# tiling and the ukernels (IREE 3.13's spelling).
IREE_COMPILE_FLAGS = [
    "--iree-hal-target-device=local",
    "--iree-hal-local-target-device-backends=llvm-cpu",
    "--iree-llvmcpu-target-cpu=host",
    "--iree-opt-data-tiling",
    "--iree-llvmcpu-enable-ukernels=all",
]

MODELS = ("encoder_qdq", "decoder_dynamic", "mlp_int4", "mlp_int4_qdq",
          "mlp_int8", "encoder_float_qlow")
# Built on request only (--models).
EXTRA_MODELS = ("encoder12_qdq",)


def build(a):
    import onnx
    import onnx_models as om

    os.makedirs(a.out_dir, exist_ok=True)
    for name in a.models.split(","):
        out = os.path.join(a.out_dir, name + ".onnx")
        if name == "encoder_qdq":
            # BERT-style encoder layer, quantize_static (QDQ, u8 activations,
            # s8 weights per channel, MinMax calibration).
            om.quantize_with_ort("static", om.encoder_float(
                a.seed, s=a.seq, d=a.d_model, heads=a.heads,
                ffn=a.encoder_ffn), out, a.seed)
        elif name == "encoder12_qdq":
            # Twelve such layers one after the other (BERT-base's encoder at
            # the default sizes: 85M weights), quantized as one model. Not
            # in the default list: it takes about a minute to build and
            # compile.
            om.quantize_with_ort("static", om.encoder_stack_float(
                a.seed, 12, s=a.seq, d=a.d_model, heads=a.heads,
                ffn=a.encoder_ffn), out, a.seed)
        elif name == "decoder_dynamic":
            # Llama-style decoder layer, quantize_dynamic
            # (DynamicQuantizeLinear + MatMulInteger on the projections).
            om.quantize_with_ort("dynamic", om.decoder_layer_float(
                a.seed, s=a.seq, d=a.d_model, heads=a.heads,
                ffn=a.decoder_ffn), out, a.seed)
        elif name == "mlp_int4":
            # Llama-style MLP block (RMSNorm, SiLU-gated FFN) with its three
            # weights quantized to 4 bits by ORT's MatMulNBits quantizer
            # (symmetric, blocks of 32).
            om.matmul_nbits(om.decoder_mlp_float(
                a.seed, s=a.seq, d=a.d_model, ffn=a.decoder_ffn), out)
        elif name == "mlp_int4_qdq":
            # The same MLP and quantizer in QDQ form: DequantizeLinear with
            # block_size of int4 weights, then MatMul (opset 21). ONNX
            # Runtime fuses each pair into MatMulNBits at its default
            # session.qdq_matmulnbits_accuracy_level, 4: int8 activations,
            # as qlow computes.
            om.matmul_nbits_qdq(om.decoder_mlp_float(
                a.seed, s=a.seq, d=a.d_model, ffn=a.decoder_ffn), out)
        elif name == "mlp_int8":
            # The same MLP with 8-bit weights from ORT's quantizer
            # (MatMulNBits with bits = 8, symmetric, blocks of 32) at
            # accuracy level 4: int8 activations, as qlow computes.
            om.matmul_nbits(om.decoder_mlp_float(
                a.seed, s=a.seq, d=a.d_model, ffn=a.decoder_ffn), out, bits=8,
                accuracy_level=4)
        elif name == "encoder_float_qlow":
            # The float encoder layer; qlow quantizes it with its own passes,
            # the peers run it in f32.
            onnx.save(om.encoder_float(a.seed, s=a.seq, d=a.d_model,
                                       heads=a.heads, ffn=a.encoder_ffn), out)
        else:
            sys.exit(f"onnx_peers.py: unknown model '{name}'; known: "
                     + ", ".join(MODELS + EXTRA_MODELS))
        model = onnx.load(out, load_external_data=False)
        inits = {t.name for t in model.graph.initializer}
        rng = np.random.default_rng(a.seed + 7)
        for vi in model.graph.input:
            if vi.name in inits:
                continue
            shape = [d.dim_value for d in vi.type.tensor_type.shape.dim]
            np.save(os.path.join(a.out_dir, f"{name}.{vi.name}.npy"),
                    rng.standard_normal(shape).astype(np.float32))
        print(f"built model={name} path={out}", flush=True)


def load_feeds(model_path, prefix):
    import onnx
    model = onnx.load(model_path, load_external_data=False)
    inits = {t.name for t in model.graph.initializer}
    names = [vi.name for vi in model.graph.input if vi.name not in inits]
    feeds = {n: np.load(f"{prefix}.{n}.npy") for n in names}
    return model, names, feeds


# Warm-up before timing: at least one call and WARM_UP_SECONDS of calls
# (bench/OnnxBench.cpp warms qlow up the same way), so that the timed calls
# find the CPU, the caches and the threads in their steady state.
WARM_UP_SECONDS = 0.2


def median_ms(fn, repeat):
    # Warm-up: first-call allocations, lazy initialization, and the CPU's
    # (and the threads') way out of idle.
    start = time.perf_counter()
    fn()
    while time.perf_counter() - start < WARM_UP_SECONDS:
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def unsupported(peer, threads, reason):
    reason = " ".join(str(reason).split()).replace('"', "'")[:300]
    for t in threads:
        print(f'peer={peer} threads={t} status=unsupported reason="{reason}"',
              flush=True)


def ort(a):
    threads = [int(t) for t in a.threads.split(",")]
    try:
        import onnxruntime as rt
    except ImportError as e:
        return unsupported("onnxruntime", threads, e)
    _, _, feeds = load_feeds(a.model, a.inputs_prefix)
    for i, t in enumerate(threads):
        opts = rt.SessionOptions()
        opts.intra_op_num_threads = t
        opts.inter_op_num_threads = 1
        opts.execution_mode = rt.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = rt.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            sess = rt.InferenceSession(a.model, opts,
                                       providers=["CPUExecutionProvider"])
            outs = sess.run(None, feeds)
        except Exception as e:  # ORT raises its own exception types.
            return unsupported("onnxruntime", threads[i:], e)
        if i == 0:
            for k, value in enumerate(outs):
                np.save(f"{a.out}.{k}.npy", np.asarray(value, np.float32))
        ms = median_ms(lambda: sess.run(None, feeds), a.repeat)
        print(f"peer=onnxruntime threads={t} ms={ms:.4f}", flush=True)


def first_error(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for line in lines:
        if "error" in line.lower():
            return line
    return lines[-1] if lines else "no message"


def iree(a):
    threads = [int(t) for t in a.threads.split(",")]
    tools = {}
    for tool in ("iree-import-onnx", "iree-compile"):
        path = os.path.join(os.path.dirname(sys.executable), tool)
        tools[tool] = path if os.path.exists(path) else tool
    try:
        import iree.compiler  # noqa: F401
        import iree.runtime  # noqa: F401
    except ImportError as e:
        return unsupported("iree", threads, f"IREE is not installed ({e}); "
                           "scripts/setup.sh installs iree-base-compiler and "
                           "iree-base-runtime")
    mlir = a.out + ".mlir"
    vmfb = a.out + ".vmfb"
    for cmd, what in (([tools["iree-import-onnx"], a.model, "-o", mlir],
                       "iree-import-onnx"),
                      ([tools["iree-compile"], *IREE_COMPILE_FLAGS, mlir, "-o",
                        vmfb], "iree-compile")):
        try:
            run = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as e:
            return unsupported("iree", threads, f"{what}: {e}")
        if run.returncode != 0:
            reason = f"{what} failed: " + first_error(run.stderr + run.stdout)
            # Name the ops outside the ONNX domain (com.microsoft's
            # MatMulNBits), which IREE's ONNX import leaves unconverted.
            import onnx
            model = onnx.load(a.model, load_external_data=False)
            custom = sorted({f"{n.domain}.{n.op_type}" for n in model.graph.node
                             if n.domain not in ("", "ai.onnx")})
            # Nor blocked DequantizeLinear (opset 21 block_size).
            if any(n.op_type == "DequantizeLinear" and
                   any(x.name == "block_size" and x.i for x in n.attribute)
                   for n in model.graph.node):
                custom.append("DequantizeLinear with block_size")
            if custom:
                reason = (f"{what} failed: IREE does not lower "
                          f"{', '.join(custom)} (first error: "
                          + reason.split(": ", 1)[1] + ")")
            return unsupported("iree", threads, reason)
    for i, t in enumerate(threads):
        cmd = [sys.executable, os.path.abspath(__file__), "iree-run",
               "--model", a.model, "--vmfb", vmfb, "--inputs-prefix",
               a.inputs_prefix, "--threads", str(t), "--repeat", str(a.repeat)]
        if i == 0:
            cmd += ["--out", a.out]
        run = subprocess.run(cmd, capture_output=True, text=True)
        line = [l for l in run.stdout.splitlines() if l.startswith("peer=")]
        if run.returncode != 0 or not line:
            unsupported("iree", [t], "iree.runtime failed: "
                        + first_error(run.stderr + run.stdout))
        else:
            print(line[-1], flush=True)


def iree_run(a):
    import iree.runtime as rt
    # The task driver's worker count: process-wide, before the device exists.
    rt.flags.parse_flags(f"--task_topology_max_group_count={a.threads}")
    model, names, feeds = load_feeds(a.model, a.inputs_prefix)
    device = rt.get_device("local-task")
    config = rt.Config(device=device)
    ctx = rt.SystemContext(config=config)
    ctx.add_vm_module(rt.VmModule.mmap(config.vm_instance, a.vmfb))
    fn = ctx.modules.module[model.graph.name]
    args = [rt.asdevicearray(device, feeds[n]) for n in names]

    def call():
        outs = fn(*args)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        # to_host waits for the results: the time includes the whole call.
        return [o.to_host() for o in outs]

    outs = call()
    if a.out:
        for k, value in enumerate(outs):
            np.save(f"{a.out}.{k}.npy", np.asarray(value, np.float32))
    ms = median_ms(call, a.repeat)
    print(f"peer=iree threads={a.threads} ms={ms:.4f}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--out-dir", required=True)
    b.add_argument("--models", default=",".join(MODELS))
    b.add_argument("--seq", type=int, default=128)
    b.add_argument("--d-model", type=int, default=768)
    b.add_argument("--heads", type=int, default=12)
    b.add_argument("--encoder-ffn", type=int, default=3072)
    b.add_argument("--decoder-ffn", type=int, default=2048)
    b.add_argument("--seed", type=int, default=0)
    for name in ("ort", "iree"):
        s = sub.add_parser(name)
        s.add_argument("--model", required=True)
        s.add_argument("--inputs-prefix", required=True)
        s.add_argument("--threads", default="1,2")
        s.add_argument("--repeat", type=int, default=20)
        s.add_argument("--out", required=True)
    r = sub.add_parser("iree-run")
    r.add_argument("--model", required=True)
    r.add_argument("--vmfb", required=True)
    r.add_argument("--inputs-prefix", required=True)
    r.add_argument("--threads", type=int, required=True)
    r.add_argument("--repeat", type=int, default=20)
    r.add_argument("--out", default=None)
    a = p.parse_args()
    {"build": build, "ort": ort, "iree": iree, "iree-run": iree_run}[a.cmd](a)


if __name__ == "__main__":
    main()
