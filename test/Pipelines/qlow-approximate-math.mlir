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

// erfc is qlow's own approximation: a = min(|x|, 10) keeping NaN,
// t = 1 / (1 + a / 2) (the one division), a degree-8 polynomial in t by
// fma steps, exp(-a^2) (upstream's polynomial: no math.exp left) corrected
// by the fma residual of a^2, and 2 - E for negative x.
// CHECK-LABEL: func.func @erfc_vector
// CHECK-DAG: %[[TEN:.+]] = arith.constant dense<1.000000e+01> : vector<8xf32>
// CHECK-DAG: %[[ONE:.+]] = arith.constant dense<1.000000e+00> : vector<8xf32>
// CHECK-DAG: %[[HALF:.+]] = arith.constant dense<5.000000e-01> : vector<8xf32>
// CHECK-DAG: %[[TWO:.+]] = arith.constant dense<2.000000e+00> : vector<8xf32>
// CHECK: %[[ABS:.+]] = math.absf %[[X:.+]] : vector<8xf32>
// CHECK: %[[LT:.+]] = arith.cmpf ult, %[[ABS]], %[[TEN]]
// CHECK: %[[A:.+]] = arith.select %[[LT]], %[[ABS]], %[[TEN]]
// CHECK: %[[D:.+]] = math.fma %[[A]], %[[HALF]], %[[ONE]]
// CHECK: %[[T:.+]] = arith.divf %[[ONE]], %[[D]]
// CHECK: %[[HI:.+]] = arith.mulf %[[A]], %[[A]]
// CHECK: %[[NEGHI:.+]] = arith.negf %[[HI]]
// CHECK: %[[LO:.+]] = math.fma %[[A]], %[[A]], %[[NEGHI]]
// Q(t) = 1 + (t - 1) R(t), R by Estrin's scheme: its pairs in t, then t^2
// and t^4.
// CHECK: %[[T2:.+]] = arith.mulf %[[T]], %[[T]]
// CHECK: arith.mulf %[[T2]], %[[T2]]
// CHECK-COUNT-4: math.fma %{{.+}}, %[[T]], %{{.+}} : vector<8xf32>
// CHECK: %[[TM1:.+]] = arith.subf %[[T]], %{{.+}} : vector<8xf32>
// CHECK: math.fma %[[TM1]], %{{.+}}, %{{.+}} : vector<8xf32>
// exp(-hi) inline: 2^n e^r, 2^n from the exponent bits.
// CHECK-NOT: math.exp
// CHECK: math.roundeven %{{.+}} : vector<8xf32>
// CHECK-NOT: math.exp
// CHECK: arith.bitcast %{{.+}} : vector<8xi32> to vector<8xf32>
// CHECK: %[[NEGLO:.+]] = arith.negf %[[LO]]
// CHECK: %[[E:.+]] = math.fma %[[NEGLO]], %[[M:.+]], %[[M]]
// CHECK: %[[NEG:.+]] = arith.cmpf olt, %[[X]], %{{.+}}
// CHECK: %[[REFLECT:.+]] = arith.subf %[[TWO]], %[[E]]
// CHECK: arith.select %[[NEG]], %[[REFLECT]], %[[E]]
// CHECK-NOT: math.erfc
// CHECK-NOT: math.exp
func.func @erfc_vector(%x: vector<8xf32>) -> vector<8xf32> {
  %y = math.erfc %x : vector<8xf32>
  return %y : vector<8xf32>
}

// The scalar form is the same sequence.
// CHECK-LABEL: func.func @erfc_scalar
// CHECK-NOT: math.erfc
// CHECK-NOT: math.exp
// CHECK: arith.divf %{{.+}} : f32
// CHECK-COUNT-8: math.fma
// CHECK-NOT: math.erfc
// CHECK-NOT: math.exp
func.func @erfc_scalar(%x: f32) -> f32 {
  %y = math.erfc %x : f32
  return %y : f32
}

// Only f32 exp and erfc: tanh, erf, f64 exp and f64 erfc keep their
// intrinsics or libm.
// CHECK-LABEL: func.func @others_untouched
// CHECK: math.tanh
// CHECK: math.erf
// CHECK: math.exp %{{.+}} : f64
// CHECK: math.erfc %{{.+}} : f64
func.func @others_untouched(%x: f32, %d: f64) -> (f32, f32, f64, f64) {
  %t = math.tanh %x : f32
  %e = math.erf %x : f32
  %x64 = math.exp %d : f64
  %c64 = math.erfc %d : f64
  return %t, %e, %x64, %c64 : f32, f32, f64, f64
}
