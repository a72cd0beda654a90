// Temporaries of compiled code go through the buffer cache that qlow's
// emitters define in every module (lib/Emit/BufferCache.cpp): the lowered
// code calls _mlir_memref_to_llvm_alloc/_free, the object defines both with
// internal linkage (no new symbol, no runtime library to link), and a C
// program calling the model again faults in almost none of a 40 MB
// temporary's pages, also with four threads calling at once; a module
// destructor frees the cached blocks.
// RUN: rm -rf %t && mkdir -p %t
// RUN: qlow-compile %s --cpu=host --emit=llvm -o - | FileCheck %s --check-prefix=IR
// RUN: qlow-compile %s --cpu=host -o %t/model.o
// RUN: llvm-nm %t/model.o | FileCheck %s --check-prefix=SYMS
// RUN: clang-22 -O1 -I %t %S/Inputs/buffer_cache_main.c %t/model.o -o %t/main \
// RUN:   -L/usr/lib/llvm-22/lib -Wl,-rpath,/usr/lib/llvm-22/lib -lomp -lpthread
// RUN: %t/main | FileCheck %s

// IR:       @qlow.buffer_cache.blocks = internal {{.*}}global [64 x ptr] zeroinitializer
// IR:       @llvm.global_dtors = appending global {{.*}}@qlow.buffer_cache.release
// IR-LABEL: define void @twice_transposed(
// IR:         call {{.*}}ptr @malloc(
// IR:         call void @free(
// IR-NOT:   declare {{.*}}@_mlir_memref_to_llvm

// SYMS-NOT: _mlir_memref_to_llvm
// SYMS:     T twice_transposed
// SYMS-NOT: _mlir_memref_to_llvm

// CHECK: buffer-cache: {{[0-9]+}} minor faults per call, temporary of 10000 pages
// CHECK: buffer-cache: 4 threads x 5 calls, 0 wrong values

func.func @twice_transposed(%x: tensor<3200x3200xf32>) -> tensor<3200x3200xf32> {
  %s = qlow.add %x, %x : (tensor<3200x3200xf32>, tensor<3200x3200xf32>) -> tensor<3200x3200xf32>
  %e = tensor.empty() : tensor<3200x3200xf32>
  %t = linalg.transpose ins(%s : tensor<3200x3200xf32>) outs(%e : tensor<3200x3200xf32>) permutation = [1, 0]
  return %t : tensor<3200x3200xf32>
}
