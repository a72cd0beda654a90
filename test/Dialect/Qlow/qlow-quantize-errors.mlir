// Bad input to qlow-quantize: each case is an error with a message that names
// the file, probe, layer or option, a non-zero exit, and no output file.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: cp %S/Inputs/qlow-quantize-ranges.json %t/ranges.json
//
// Static mode needs ranges.
// RUN: not qlow-opt %s --qlow-quantize -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NORANGES
// RUN: not test -e %t/out.mlir
// NORANGES: error: qlow-quantize: mode=static needs ranges=<qlow-calibrate JSON file> (or use mode=dynamic)
//
// A missing calibration file.
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/missing.json" -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not test -e %t/out.mlir
// MISSING: error: qlow-quantize: cannot read the ranges file '{{.*}}missing.json': No such file or directory
//
// Not JSON, and JSON of another format (a precision file).
// RUN: echo '{"format": "qlow-calibration", "version": 1,' > %t/truncated.json
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/truncated.json" -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=MALFORMED
// RUN: not test -e %t/out.mlir
// MALFORMED: error: qlow-quantize: ranges file '{{.*}}truncated.json' is not valid JSON
// RUN: not qlow-opt %s --qlow-quantize="ranges=%S/Inputs/qlow-quantize-precision.json" 2>&1 | FileCheck %s --check-prefix=FORMAT
// FORMAT: error: qlow-quantize: ranges file '{{.*}}qlow-quantize-precision.json' is not a qlow-calibrate file: "format" is not "qlow-calibration"
// RUN: echo '{"format": "qlow-calibration", "version": 1, "function": "mlp", "probes": {"fc1": {"shape": [4, 4], "clip_min": 3, "clip_max": -3}}}' > %t/inverted.json
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/inverted.json" 2>&1 | FileCheck %s --check-prefix=INVERTED
// INVERTED: error: qlow-quantize: ranges file '{{.*}}inverted.json' is not a qlow-calibrate file: probe 'fc1' has no finite "clip_min" <= "clip_max"
//
// Ranges of another function, a probe the graph needs that the file lacks,
// and a probe of another shape (ranges of another graph).
// RUN: echo '{"format": "qlow-calibration", "version": 1, "function": "encoder", "probes": {}}' > %t/other.json
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/other.json" 2>&1 | FileCheck %s --check-prefix=FUNCTION
// FUNCTION: error: qlow-quantize: the ranges in '{{.*}}other.json' were calibrated for function 'encoder', which this module does not define
// RUN: grep -v '"act"' %t/ranges.json > %t/noact.json
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/noact.json" -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=PROBE
// RUN: not test -e %t/out.mlir
// PROBE: error: loc("fc2"): qlow-quantize: no range for probe 'act' in '{{.*}}noact.json' (needed by qlow.matmul 'fc2'); calibrate this graph with qlow-calibrate
// RUN: sed -e 's/"fc1": {"shape": \[4, 4\]/"fc1": {"shape": [4, 5]/' %t/ranges.json > %t/shape.json
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/shape.json ops=full" -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not test -e %t/out.mlir
// SHAPE: error: loc("fc1"): qlow-quantize: probe 'fc1' in '{{.*}}shape.json' was calibrated with shape [4, 5] but the value has shape [4, 4]; the ranges are for another graph
//
// Precision files: an unknown layer, a pattern that matches nothing, an
// unknown field, bits for an op without quantized form (silu) or without
// weights,
// and bits an op does not support.
// RUN: echo '{"format": "qlow-precision", "version": 1, "layers": [{"match": "fc3", "weight_bits": 4}]}' > %t/unknown.json
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/ranges.json precision-file=%t/unknown.json" -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not test -e %t/out.mlir
// UNKNOWN: error: qlow-quantize: precision rule 0 ('fc3') names an unknown layer; the layers are: fc1 res act fc2
// RUN: echo '{"format": "qlow-precision", "version": 1, "layers": [{"match": "enc.*", "skip": true}]}' > %t/glob.json
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/ranges.json precision-file=%t/glob.json" 2>&1 | FileCheck %s --check-prefix=GLOB
// GLOB: error: qlow-quantize: precision rule 0 ('enc.*') matches no layer; the layers are: fc1 res act fc2
// RUN: echo '{"format": "qlow-precision", "version": 1, "layers": [{"match": "fc1", "bits": 4}]}' > %t/field.json
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/ranges.json precision-file=%t/field.json" 2>&1 | FileCheck %s --check-prefix=FIELD
// FIELD: error: qlow-quantize: precision file '{{.*}}field.json': layers[0] ('fc1'): unknown field "bits" (expected match, skip, activation_bits, scheme, weight_bits, granularity, group_size, comment)
// RUN: echo '{"format": "qlow-precision", "version": 1, "layers": [{"match": "swish", "activation_bits": 16}]}' > %t/silu.json
// RUN: not qlow-opt %s --qlow-quantize="mode=dynamic precision-file=%t/silu.json" 2>&1 | FileCheck %s --check-prefix=SILU
// SILU: error: loc("swish"): qlow-quantize: precision rule 0 sets bits for qlow.silu 'swish', which qlow-quantize keeps in float (no integer-only form); only "skip" applies to it
// RUN: echo '{"format": "qlow-precision", "version": 1, "layers": [{"match": "res", "weight_bits": 4}]}' > %t/addw.json
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/ranges.json ops=full precision-file=%t/addw.json" 2>&1 | FileCheck %s --check-prefix=ADDW
// ADDW: error: loc("res"): qlow-quantize: precision rule 0 sets weight bits/granularity for qlow.add 'res', which has no weights
// RUN: echo '{"format": "qlow-precision", "version": 1, "layers": [{"match": "res", "activation_bits": 4}]}' > %t/add4.json
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/ranges.json ops=full precision-file=%t/add4.json" -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=ADD4
// RUN: not test -e %t/out.mlir
// ADD4: error: loc("res"): qlow-quantize: qlow.add 'res': 4-bit activations are not supported; a quantized add/mul takes 8 or 16 bits per tensor
// RUN: echo '{"format": "qlow-precision", "version": 1, "layers": [{"match": "fc1", "activation_bits": 4}]}' > %t/act4.json
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/ranges.json precision-file=%t/act4.json" 2>&1 | FileCheck %s --check-prefix=ACT4
// ACT4: error: loc("fc1"): qlow-quantize: qlow.matmul 'fc1': 4-bit activations are not supported; activations take 8 or 16 bits
//
// Options: weight bits, 16-bit dynamic activations, a group size that does
// not divide K, ranges with mode=dynamic, an unknown mode.
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/ranges.json weight-bits=2" 2>&1 | FileCheck %s --check-prefix=WBITS
// WBITS: error: loc("fc1"): qlow-quantize: qlow.matmul 'fc1': 2-bit weights are not supported; weights take 8 or 4 bits
// RUN: not qlow-opt %s --qlow-quantize="mode=dynamic activation-bits=16" 2>&1 | FileCheck %s --check-prefix=DYN16
// DYN16: error: loc("fc1"): qlow-quantize: qlow.matmul 'fc1': mode=dynamic quantizes activations to 8 bits at run time; 16-bit activations need mode=static
// RUN: not qlow-opt %s --qlow-quantize="mode=dynamic weight-granularity=per-group group-size=3" 2>&1 | FileCheck %s --check-prefix=GROUP
// GROUP: error: loc("fc1"): qlow-quantize: qlow.matmul 'fc1': group size 3 does not divide K = 8
// RUN: not qlow-opt %s --qlow-quantize="mode=dynamic ranges=%t/ranges.json" 2>&1 | FileCheck %s --check-prefix=DYNRANGES
// DYNRANGES: error: qlow-quantize: ranges= is for mode=static; mode=dynamic computes scales at run time
// RUN: not qlow-opt %s --qlow-quantize="mode=online" 2>&1 | FileCheck %s --check-prefix=BADOPT
// BADOPT: Cannot find option named 'online'!
//
// 16-bit activations times 8-bit weights over K = 600 can overflow the i32
// accumulator (600 * 32768 * 128 > 2^31 - 1).
// RUN: echo '{"format": "qlow-calibration", "version": 1, "function": "wide", "probes": {"wide.arg0": {"shape": [1, 600], "clip_min": -1, "clip_max": 1}}}' > %t/wide.json
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/wide.json activation-bits=16 activation-scheme=symmetric" 2>&1 | FileCheck %s --check-prefix=ACC
// ACC: error: qlow-quantize: qlow.matmul 'wide.matmul_0': 16-bit activations times 8-bit weights over K = 600 can overflow the i32 accumulator (K * 32768 * 128 > 2^31 - 1); use 8-bit activations for this layer
// RUN: qlow-opt %s --qlow-quantize="ranges=%t/wide.json activation-bits=8" | FileCheck %s --check-prefix=WIDE8
//
// A dynamic shape has no static range (the probe's shape cannot match).
// RUN: echo '{"format": "qlow-calibration", "version": 1, "function": "dyn", "probes": {"dyn.arg0": {"shape": [4, 8], "clip_min": -1, "clip_max": 1}}}' > %t/dyn.json
// RUN: not qlow-opt %s --qlow-quantize="ranges=%t/dyn.json" 2>&1 | FileCheck %s --check-prefix=DYNSHAPE
// DYNSHAPE: error: {{.*}}qlow-quantize: probe 'dyn.arg0' has a dynamic shape 'tensor<?x8xf32>'; static quantization needs static shapes (or use mode=dynamic)
// WIDE8: qlow.matmul {{.*}}tensor<1x600x!quant.uniform<u8:f32

func.func @mlp(%x: tensor<4x8xf32>, %r: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %w1 = arith.constant dense<[[0.5, -0.25, 0.125, 1.0], [0.1, 0.2, -0.3, 0.4], [-0.5, 0.6, 0.7, -0.8], [0.9, -1.0, 0.05, 0.15], [0.25, 0.35, -0.45, 0.55], [-0.65, 0.75, 0.85, -0.95], [0.3, -0.2, 0.1, 0.0], [0.4, 0.5, -0.6, 0.7]]> : tensor<8x4xf32>
  %b1 = arith.constant dense<[0.1, -0.2, 0.3, -0.4]> : tensor<4xf32>
  %y = qlow.matmul %x, %w1, %b1 : (tensor<4x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<4x4xf32> loc("fc1")
  %s = qlow.add %y, %r : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> loc("res")
  %g = qlow.gelu %s : tensor<4x4xf32> -> tensor<4x4xf32> loc("act")
  %w2 = arith.constant dense<[[0.5, -0.5, 0.25, -0.25], [1.0, 0.5, -1.0, 0.75], [0.2, 0.4, 0.6, 0.8], [-0.1, -0.3, 0.5, 0.7]]> : tensor<4x4xf32>
  %z = qlow.matmul %g, %w2 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> loc("fc2")
  return %z : tensor<4x4xf32>
}

func.func @wide(%x: tensor<1x600xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<0.5> : tensor<600x2xf32>
  %y = qlow.matmul %x, %w : (tensor<1x600xf32>, tensor<600x2xf32>) -> tensor<1x2xf32>
  %s = qlow.silu %y : tensor<1x2xf32> -> tensor<1x2xf32> loc("swish")
  return %s : tensor<1x2xf32>
}

func.func @dyn(%x: tensor<?x8xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<0.5> : tensor<8x2xf32>
  %y = qlow.matmul %x, %w : (tensor<?x8xf32>, tensor<8x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
