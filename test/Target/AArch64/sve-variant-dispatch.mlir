// One object with an SVE variant (Neoverse-V1: 256-bit SVE kernels), a
// NEON i8mm variant and the baseline. The SVE variant's functions are
// compiled for exactly 256-bit vectors (vscale_range(2,2)); the NEON
// variant's are not. The dispatcher calls the SVE variant only where the
// CPU has SVE (AT_HWCAP bit 22), SVE i8mm (AT_HWCAP2 bit 9) and i8mm
// (AT_HWCAP2 bit 13), and prctl(PR_SVE_GET_VL = 51) says 32 bytes; else the
// next variant (HWCAP levels as before).
// RUN: qlow-compile %s --target=aarch64 --cpu=neoverse-v1,neoverse-n2,generic --emit=llvm -o %t.ll
// RUN: FileCheck %s < %t.ll
// RUN: grep -B1 "^define internal fastcc void @_mlir_ciface_f__neoverse_n2(" %t.ll | FileCheck %s --check-prefix=N2
// RUN: not qlow-compile %s --target=aarch64 --cpu=neoverse-n2,neoverse-v1 -o /dev/null 2>&1 | FileCheck %s --check-prefix=LAST

// CHECK: ; Function Attrs: {{.*}}vscale_range(2,2)
// CHECK-NEXT: define internal fastcc void @_mlir_ciface_f__neoverse_v1(
// CHECK: @llvm.aarch64.sve.usmmla.nxv4i32(
// CHECK-LABEL: define void @_mlir_ciface_f(
// CHECK-DAG: and i64 %{{.*}}, 8192
// CHECK-DAG: and i64 %{{.*}}, 4194304
// CHECK-DAG: and i64 %{{.*}}, 512
// CHECK: call i32 (i32, ...) @prctl(i32 51)
// CHECK: and i32 %{{.*}}, 65535
// CHECK: icmp eq i32 %{{.*}}, 32
// CHECK: call fastcc void @_mlir_ciface_f__neoverse_v1(
// CHECK: call fastcc void @_mlir_ciface_f__neoverse_n2(

// N2-NOT: vscale_range
// N2: define internal fastcc void @_mlir_ciface_f__neoverse_n2(

// The last variant must still run everywhere.
// LAST: error: the last of several --cpu variants must run on every AArch64 CPU (no dotprod or i8mm, e.g. generic or cortex-a57); 'neoverse-v1' needs i8mm

func.func @f(%a: tensor<8x64x!quant.uniform<u8:f32, 0.02:128>>) -> tensor<8x8xi32> {
  %w = arith.constant dense<"0x81A6657B623A95F3794A018F0EFE5861C65DA9A43C2C85F0687362242966E027336CA82C30EC28368BE33EB31CCE7E70F1CE46C406111AFD14B7DD3C83FA1CF1304B982F08F8B4D4001FF64A0D047A2DEE3AC7F334457A856B2C52544C0C1977C2D5FA8934F1D4978D93E86009F924120948042E37682AD95437C491EBFACD63DB80912CA5A1638FBCF4C9CD82C19E288C344A46B8196C1D0B3D418A52AF1EC02C9928B8E80218E64CFDCF27DC023810C040138582592C2317C6245BF668A5A6F07561F8DFC564CD316C9DA9ADDB61B46D82B57350B04A87E4959AFC7A30F5228E94580497D6DDD8CC34E1B6F2FAC356C5C6DB850C9C91E0E20A27C6A9BF8838B3B64A3FE4495418FC96AFB62F834658A8DA0CF233DD766612F736D90B2E0F1DB7F9EF8ECF2763B97610545B6D8EB39B1A2C60BBE6F57D3AF5E5C4D2EC31BD563EFE7791A086A8F4BBA1750F160D7F0CD82E69DA74F97E9CA9783BAAFAFE5CCCF7D14D5F0F12195708BBFB82EF2E8FD831EF1245BCEC5D355389973ABC8307519489E272D381AE5803F75F100FDFC56CCA423F9E36AD9E6FEE7E8BC935410D3B0E469DD738E68C427A4DFD2CAC73DDCCC2CB0C666B1369C9DA38304EB74E549AE74622202400D489C9974A76E808D1E9D0CE82B8143D769E1D319A9530E1DE6FDCA2260E91DBA294980E9C8EB72B6709FEF33EAFC51FC19E79527006C8F811DC"> : tensor<64x8xi8>
  %wq = quant.scast %w : tensor<64x8xi8> to tensor<64x8x!quant.uniform<i8:f32, 0.01>>
  %y = qlow.matmul %a, %wq : (tensor<8x64x!quant.uniform<u8:f32, 0.02:128>>, tensor<64x8x!quant.uniform<i8:f32, 0.01>>) -> tensor<8x8xi32>
  return %y : tensor<8x8xi32>
}
