// RUN: qlow-opt %s --qlow-insert-observers=targets=weights -verify-diagnostics
// RUN: not qlow-opt %s --qlow-insert-observers="ops=qlow.quantize" 2>&1 | FileCheck %s --check-prefix=OPS
// RUN: not qlow-opt %s --qlow-insert-observers="targets=all ops=qlow.matmul" 2>&1 | FileCheck %s --check-prefix=BOTH
//
// Bad qlow-insert-observers options are errors at the function, and nothing
// is inserted.

// `weights` is not a target: weights are constants, whose ranges are known
// at compile time (first RUN line).
// expected-error @below {{qlow-insert-observers: unknown targets='weights'; expected 'activations' (the data operands and results of the ops in ops=) or 'all' (every f32 value that depends on an argument)}}
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %g = qlow.gelu %x : tensor<4xf32> -> tensor<4xf32>
  return %g : tensor<4xf32>
}

// qlow.quantize is not a compute op with data operands to observe.
// OPS: error: qlow-insert-observers: cannot observe 'qlow.quantize'; ops= accepts qlow.matmul qlow.add qlow.mul qlow.gelu qlow.silu qlow.softmax qlow.layer_norm qlow.rms_norm qlow.attention qlow.rope qlow.embedding

// targets=all already observes every op; an op list would be ignored.
// BOTH: error: qlow-insert-observers: ops= selects the ops of targets=activations; targets=all observes every f32 value, so drop one of the two options
