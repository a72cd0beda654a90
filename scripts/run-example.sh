#!/usr/bin/env bash
#===- scripts/run-example.sh - the main job: compile and run the example -===#
#
# Sets up and builds qlow, generates the example quantized encoder block
# (examples/encoder_block.py), parses, verifies and canonicalizes it with
# qlow-opt, evaluates it on a sample input with the reference semantics and
# compiled to native code (qlow-run: qlow-cpu-pipeline, JIT), and prints the
# compiled output next to the reference's and the float model's.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
OUT="$BUILD_DIR/example"
mkdir -p "$OUT"

echo "== 1. generate the quantized encoder block (int8 weights per channel, u8 activations)"
python3 examples/encoder_block.py --out-dir "$OUT" --qlow-opt "$BUILD_DIR/bin/qlow-opt"

echo "== 2. qlow-opt: verify and canonicalize the graph"
"$BUILD_DIR/bin/qlow-opt" --canonicalize "$OUT/encoder_block.mlir" -o "$OUT/encoder_block.canon.mlir"
grep -oE 'qlow\.[a-z_]+' "$OUT/encoder_block.canon.mlir" | sort | uniq -c

echo "== 3. qlow-run --reference: evaluate on the sample input with the reference semantics"
"$BUILD_DIR/bin/qlow-run" --reference "$OUT/encoder_block.canon.mlir" \
  --input "$OUT/x.npy" --output "$OUT/out_reference.npy" --print

echo "== 4. qlow-run: compile (qlow-cpu-pipeline, JIT for this CPU) and run on the same input"
"$BUILD_DIR/bin/qlow-run" "$OUT/encoder_block.canon.mlir" \
  --input "$OUT/x.npy" --output "$OUT/out.npy" --print

echo "== 5. compiled output against the reference semantics"
python3 examples/compare.py "$OUT/out.npy" "$OUT/out_reference.npy" --min-sqnr 60

echo "== 6. compiled quantized output against the float model"
python3 examples/compare.py "$OUT/out.npy" "$OUT/expected_float.npy" --min-sqnr 25
