// RUN: qlow-opt %s --qlow-set-target-cpu=cpu=sapphirerapids | FileCheck %s
// RUN: qlow-opt %s --qlow-set-target-cpu | FileCheck %s --check-prefix=HOST
// RUN: qlow-opt %s --qlow-set-target-cpu=cpu=sapphirerapids --convert-func-to-llvm | FileCheck %s --check-prefix=LLVM
// RUN: qlow-opt %s --qlow-set-target-cpu="cpu=neoverse-n2 features=+neon,+i8mm,-sve" --convert-func-to-llvm | FileCheck %s --check-prefix=FEAT

// Every definition gets the CPU, public or private; declarations do not.
// CHECK-LABEL: func.func @public_definition
// CHECK-SAME:    target_cpu = "sapphirerapids"
// CHECK-LABEL: func.func private @private_definition
// CHECK-SAME:    target_cpu = "sapphirerapids"
// CHECK-LABEL: func.func private @declaration
// CHECK-NOT:     target_cpu
// The default, host, is resolved to a CPU name.
// HOST-LABEL: func.func @public_definition
// HOST-SAME:    target_cpu = "{{[a-z0-9_-]+}}"
// HOST-NOT:     target_cpu = "host"
// func-to-llvm carries it to llvm.func.
// LLVM: llvm.func @public_definition() attributes {target_cpu = "sapphirerapids"}
// Features, when given, go with the CPU (AArch64 variants: -sve for NEON).
// FEAT: llvm.func @public_definition() attributes {target_cpu = "neoverse-n2", target_features = #llvm.target_features<["+neon", "+i8mm", "-sve"]>}
// FEAT-LABEL: llvm.func @declaration()
// FEAT-NOT: target_features
func.func @public_definition() {
  return
}

func.func private @private_definition() {
  return
}

func.func private @declaration()
