// RUN: qlow-opt %s --qlow-set-target-cpu="cpu=neoverse-n2 features=+neon,sve" --verify-diagnostics

// A feature without its + or - is refused (LLVM would ignore it silently).
// expected-error @below {{qlow-set-target-cpu: feature 'sve' must start with '+' or '-'}}
func.func @f() {
  return
}
