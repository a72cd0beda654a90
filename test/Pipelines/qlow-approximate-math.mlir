// RUN: qlow-opt %s --qlow-approximate-math | FileCheck %s
// RUN: qlow-opt %s --qlow-approximate-math | qlow-opt | FileCheck %s

// f32 exp on vectors becomes a polynomial: range reduction with floor, fma
// steps, and 2^n built from exponent bits; no math.exp is left to call libm.
// CHECK-LABEL: func.func @exp_vector
// CHECK-NOT: math.exp
// CHECK: math.floor %{{.+}} : vector<16xf32>
// CHECK: math.fma
// CHECK: arith.fptosi %{{.+}} : vector<16xf32> to vector<16xi32>
// CHECK: arith.shli
// CHECK: arith.bitcast %{{.+}} : vector<16xi32> to vector<16xf32>
// CHECK-NOT: math.exp
func.func @exp_vector(%x: vector<16xf32>) -> vector<16xf32> {
  %y = math.exp %x : vector<16xf32>
  return %y : vector<16xf32>
}

// erfc (scalar here) is rewritten too, and the exp it uses as well.
// CHECK-LABEL: func.func @erfc_scalar
// CHECK-NOT: math.erfc
// CHECK-NOT: math.exp
// CHECK: math.fma
// CHECK-NOT: math.erfc
// CHECK-NOT: math.exp
func.func @erfc_scalar(%x: f32) -> f32 {
  %y = math.erfc %x : f32
  return %y : f32
}

// Only exp and erfc: tanh, erf and f64 exp keep their intrinsics or libm.
// CHECK-LABEL: func.func @others_untouched
// CHECK: math.tanh
// CHECK: math.erf
// CHECK: math.exp %{{.+}} : f64
func.func @others_untouched(%x: f32, %d: f64) -> (f32, f32, f64) {
  %t = math.tanh %x : f32
  %e = math.erf %x : f32
  %x64 = math.exp %d : f64
  return %t, %e, %x64 : f32, f32, f64
}
