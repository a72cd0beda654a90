#!/usr/bin/env bash
#===- scripts/setup.sh - install what qlow needs on Debian 12 -------------===#
#
# Installs every Debian package and pinned Python package that the build, the
# tests, the examples and the benchmarks need. Idempotent: when everything is
# installed it only checks, in a second or two.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # LLVM/MLIR 22 (bookworm-security): shared libMLIR.so/libLLVM.so, mlir-tblgen,
  # lit, FileCheck, not, clang-22 and lld for building and for later targets.
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 lld-22 libomp-22-dev
  # Build tools.
  cmake ninja-build ccache
  # Unit tests.
  libgtest-dev
  # oneDNN, the x86 int8 peer of qlow-bench, and OpenMP for its thread counts.
  libdnnl-dev
  # Python for lit (Debian's python3 runs /usr/lib/llvm-22/bin/lit).
  python3 python3-pip
  # AArch64 tests: the cross sysroot (libc, crt files, libgcc) that clang-22
  # links aarch64-linux-gnu executables against, and qemu-aarch64 to run them.
  qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  # ONNX import (lib/Import/ONNX): onnx.proto's C++ classes and protobuf.
  libonnx-dev libprotobuf-dev protobuf-compiler
  # libFuzzer and the sanitizer runtimes of clang-22 (tools/qlow-onnx-fuzz).
  libclang-rt-22-dev
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# Pinned Python packages, into the python3 found on PATH (the one the scripts
# and tests run). Skip pip entirely when the pins are already satisfied.
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" - <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for line in open("requirements.txt"):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, pin = line.split("==")
    if version(name) != pin:
        sys.exit(1)
PY
then
  echo "setup: installing Python packages from requirements.txt"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check -r requirements.txt
fi
echo "setup: all dependencies present"
