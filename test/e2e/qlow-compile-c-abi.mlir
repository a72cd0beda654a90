// qlow-compile's object and header, called from C, against the reference.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/c_abi.py %s requant %t | FileCheck %s
// RUN: %python %S/c_abi.py %s dequant %t/dq | FileCheck %s
// RUN: %python %S/c_abi.py %s append %t/append | FileCheck %s --check-prefix=APPEND
// RUN: %python %S/c_abi.py %s append_in_place %t/in_place | FileCheck %s --check-prefix=IN-PLACE
// CHECK: c-abi: 1 outputs identical; {{[12]}} read-only inputs unchanged, 0 written by the call

// An insert into an argument (a step appending to its cache) writes into a
// copy: the caller's buffer, declared const, is left as it was
// (qlow-read-only-arguments). Marked bufferization.writable = true, the
// cache is written in place, and the header says so.
// APPEND: c-abi: 1 outputs identical; 2 read-only inputs unchanged, 0 written by the call
// IN-PLACE: c-abi: 1 outputs identical; 1 read-only inputs unchanged, 1 written by the call

func.func @requant(%a: tensor<37x24x!quant.uniform<u8:f32, 0.02:128>>, %b: tensor<20xi32>) -> tensor<37x20x!quant.uniform<i8:f32, 0.3:-5>> {
  %w = arith.constant dense<"0x4F95ADBCAE4D5E158A98D5EE1FFAC3A8313C889DF3E46304EBEE2A16AC3C417449C8D12626325ECA7080937971CCA3D08B642915BEF8B045F987C13405DFC0971B29056E6DB51B21BFCCFC3DCA3827B7E3545728812EB95169ED7442D360E29A175928E466FAE2A5B6324CCA205FA5C6060FE5E6A11C6EB24CAE8B3FAE40D411706BF9B4C05916AB6276781F791B00781A49D64A798D09DE8D95C4B137B6205BFEA091CBE9FECE5911776F3587B63F0B7134518DCB2E22DEA816962B4D2B9005CD0E2EB289FE1EA06CFB77093A46FFE42A851E07A6B4883D2FE374E1CE6895E486D939D9FEFB8F97CC0B926B5A103B3E82728C57553EA250755131C00DFB5ED7E8C3FD12F5D10C1EAA15349A1EF16EE3D0345E969BABD70311E7612AAAD5B2B2586EEEBE55A5A3C7DDD6C7B92009286F6FA04AEA512B8E626D7F8FA421099861BC8D5C1686AC61445D70CC09DE82BC909EEA6A5824BCA02B3CE7A2C37C3410CE5CDFF243EAFE8748C8040CA8BDF1995FD810A576F880D8D7BC447B2FAF0FF62956604E2EF40CAD0F032AF7D2022BB11DD94917FA8986BD09F95BA023E42497E4A3DBB1382D93CC5D66609D76EAA2369D89649DE660C5C7E14328CDA9EEFCEB289A380A832B4FDCEF14EF040F18C79B63F4B67F0AD3AB821D1E6679618FA2171F"> : tensor<24x20xi8>
  %wq = quant.scast %w : tensor<24x20xi8> to tensor<24x20x!quant.uniform<i8:f32:1, {0.01, 0.02, 0.03, 0.04, 0.05, 0.01, 0.02, 0.03, 0.04, 0.05, 0.01, 0.02, 0.03, 0.04, 0.05, 0.01, 0.02, 0.03, 0.04, 0.05}>>
  %y = qlow.matmul %a, %wq, %b : (tensor<37x24x!quant.uniform<u8:f32, 0.02:128>>, tensor<24x20x!quant.uniform<i8:f32:1, {0.01, 0.02, 0.03, 0.04, 0.05, 0.01, 0.02, 0.03, 0.04, 0.05, 0.01, 0.02, 0.03, 0.04, 0.05, 0.01, 0.02, 0.03, 0.04, 0.05}>>, tensor<20xi32>) -> tensor<37x20x!quant.uniform<i8:f32, 0.3:-5>>
  return %y : tensor<37x20x!quant.uniform<i8:f32, 0.3:-5>>
}

func.func @dequant(%a: tensor<5x33x!quant.uniform<i8:f32, 0.5:3>>) -> tensor<5x33xf32> {
  %x = qlow.dequantize %a : tensor<5x33x!quant.uniform<i8:f32, 0.5:3>> -> tensor<5x33xf32>
  return %x : tensor<5x33xf32>
}

func.func @append(%row: tensor<1x40xf32>, %cache: tensor<9x40xf32>) -> tensor<9x40xf32> {
  %r = qlow.add %row, %row : (tensor<1x40xf32>, tensor<1x40xf32>) -> tensor<1x40xf32>
  %c = tensor.insert_slice %r into %cache[8, 0] [1, 40] [1, 1] : tensor<1x40xf32> into tensor<9x40xf32>
  %s = qlow.add %c, %c : (tensor<9x40xf32>, tensor<9x40xf32>) -> tensor<9x40xf32>
  return %s : tensor<9x40xf32>
}

func.func @append_in_place(%row: tensor<1x40xf32>, %cache: tensor<9x40xf32> {bufferization.writable = true}) -> tensor<9x40xf32> {
  %r = qlow.add %row, %row : (tensor<1x40xf32>, tensor<1x40xf32>) -> tensor<1x40xf32>
  %c = tensor.insert_slice %r into %cache[8, 0] [1, 40] [1, 1] : tensor<1x40xf32> into tensor<9x40xf32>
  %s = qlow.add %c, %c : (tensor<9x40xf32>, tensor<9x40xf32>) -> tensor<9x40xf32>
  return %s : tensor<9x40xf32>
}
