# -*- Python -*-
# lit configuration of the qlow test suite.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "QLOW"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qlow_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit", "Inputs", "mutate.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%qlow_src_root", config.qlow_src_root))
config.substitutions.append(("%python", config.python_executable))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.qlow_tools_dir, config.llvm_tools_dir]
tools = ["qlow-opt", "qlow-run", "qlow-compile", "qlow-calibrate", "qlow-error-report", "qlow-mixed-precision", "qlow-bench", "qlow-import-onnx"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.qlow_tools_dir, append_path=True)

# CPU features of this machine, for tests that run code compiled for a given
# CPU (REQUIRES: avxvnni, ...).
try:
    with open("/proc/cpuinfo") as cpuinfo:
        flags = set()
        for line in cpuinfo:
            if line.startswith("flags"):
                flags.update(line.split(":", 1)[1].split())
    for flag, feature in [("avx2", "avx2"), ("avx_vnni", "avxvnni"),
                          ("avx512_vnni", "avx512vnni"),
                          ("avx512vbmi", "avx512vbmi")]:
        if flag in flags:
            config.available_features.add(feature)
except OSError:
    pass

# AArch64 cross build and emulation (REQUIRES: aarch64-qemu): clang-22 and lld
# link against the arm64 cross sysroot, qemu-aarch64 runs the result. Tests
# that need them are UNSUPPORTED without them (scripts/setup.sh installs them).
import shutil as _shutil
if (_shutil.which("qemu-aarch64") and _shutil.which("clang-22") and
        (_shutil.which("ld.lld-22") or _shutil.which("ld.lld")) and
        os.path.exists("/usr/aarch64-linux-gnu/lib/crt1.o") and
        os.path.isdir("/usr/lib/gcc-cross/aarch64-linux-gnu")):
    config.available_features.add("aarch64-qemu")

# ONNX import tests build their models with the `onnx` Python package and
# compare with ONNX Runtime (REQUIRES: onnx, onnxruntime; both pinned in
# requirements.txt), in the Python that runs the tests' scripts (%python).
import subprocess as _subprocess
for _module in ("onnx", "onnxruntime"):
    try:
        if _subprocess.run([config.python_executable, "-c", "import " + _module],
                           capture_output=True, timeout=60).returncode == 0:
            config.available_features.add(_module)
    except (OSError, _subprocess.TimeoutExpired):
        pass

# The importer's libFuzzer target (tools/qlow-onnx-fuzz, built with clang).
if os.path.exists(os.path.join(config.qlow_tools_dir, "qlow-onnx-fuzz")):
    config.available_features.add("onnx-fuzzer")
    llvm_config.add_tool_substitutions(["qlow-onnx-fuzz"], [config.qlow_tools_dir])
