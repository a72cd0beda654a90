// RUN: qlow-opt %s --qlow-round-to-int --split-input-file | FileCheck %s
// RUN: qlow-opt %s --qlow-round-to-int --split-input-file | qlow-opt --split-input-file | FileCheck %s

// Vector roundeven + fptosi: one llvm.intr.lrint, the roundeven gone.
// CHECK-LABEL: func.func @vector
// CHECK-NOT: math.roundeven
// CHECK: %[[I:.+]] = llvm.intr.lrint(%{{.+}}) : (vector<16xf32>) -> vector<16xi32>
// CHECK-NOT: arith.fptosi
// CHECK: return %[[I]]
func.func @vector(%x: vector<16xf32>) -> vector<16xi32> {
  %r = math.roundeven %x : vector<16xf32>
  %i = arith.fptosi %r : vector<16xf32> to vector<16xi32>
  return %i : vector<16xi32>
}

// -----

// Scalars too, and other widths (f64 to i64).
// CHECK-LABEL: func.func @scalar
// CHECK: llvm.intr.lrint(%{{.+}}) : (f64) -> i64
// CHECK-NOT: math.roundeven
func.func @scalar(%x: f64) -> i64 {
  %r = math.roundeven %x : f64
  %i = arith.fptosi %r : f64 to i64
  return %i : i64
}

// -----

// A roundeven with another user stays for it; the conversion still fuses.
// CHECK-LABEL: func.func @shared_round
// CHECK: %[[R:.+]] = math.roundeven %[[X:.+]] : vector<8xf32>
// CHECK: llvm.intr.lrint(%[[X]])
// CHECK: return %{{.+}}, %[[R]]
func.func @shared_round(%x: vector<8xf32>) -> (vector<8xi32>, vector<8xf32>) {
  %r = math.roundeven %x : vector<8xf32>
  %i = arith.fptosi %r : vector<8xf32> to vector<8xi32>
  return %i, %r : vector<8xi32>, vector<8xf32>
}

// -----

// Not rewritten: fptosi of anything but roundeven (truncation is what fptosi
// means), and fptoui of roundeven (lrint is signed).
// CHECK-LABEL: func.func @untouched
// CHECK-NOT: llvm.intr.lrint
// CHECK: math.floor
// CHECK: arith.fptosi
// CHECK: math.roundeven
// CHECK: arith.fptoui
// CHECK-NOT: llvm.intr.lrint
func.func @untouched(%x: vector<8xf32>) -> (vector<8xi32>, vector<8xi32>) {
  %f = math.floor %x : vector<8xf32>
  %a = arith.fptosi %f : vector<8xf32> to vector<8xi32>
  %r = math.roundeven %x : vector<8xf32>
  %b = arith.fptoui %r : vector<8xf32> to vector<8xi32>
  return %a, %b : vector<8xi32>, vector<8xi32>
}

// -----

// The conversion may sit in another block than its roundeven.
// CHECK-LABEL: func.func @other_block
// CHECK: ^bb1:
// CHECK-NEXT: llvm.intr.lrint
func.func @other_block(%x: f32, %c: i1) -> i32 {
  %r = math.roundeven %x : f32
  cf.cond_br %c, ^a, ^b
^a:
  %i = arith.fptosi %r : f32 to i32
  return %i : i32
^b:
  %z = arith.constant 0 : i32
  return %z : i32
}
