// RUN: qlow-opt %s --qlow-emit-c-interface --split-input-file | FileCheck %s

// A public definition gets the attribute; private functions and declarations
// do not.
// CHECK-LABEL: func.func @public_definition
// CHECK-SAME:    attributes {llvm.emit_c_interface}
func.func @public_definition(%x: memref<4xf32>) {
  return
}

// CHECK-LABEL: func.func private @private_definition
// CHECK-NOT:     llvm.emit_c_interface
func.func private @private_definition(%x: memref<4xf32>) {
  return
}

// CHECK-LABEL: func.func private @declaration
// CHECK-NOT:     llvm.emit_c_interface
func.func private @declaration(%x: memref<4xf32>)

// -----

// Already marked: unchanged.
// CHECK-LABEL: func.func @already_marked
// CHECK-SAME:    attributes {llvm.emit_c_interface}
func.func @already_marked() attributes {llvm.emit_c_interface} {
  return
}
