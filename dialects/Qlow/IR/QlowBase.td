//===- QlowBase.td - qlow dialect definition ---------------*- tablegen -*-===//
//
// The qlow dialect: graph-level ops of quantized transformer models on ranked
// tensors whose element types are upstream !quant.uniform types.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_DIALECT_QLOWBASE_TD
#define QLOW_DIALECT_QLOWBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Qlow_Dialect : Dialect {
  let name = "qlow";
  let cppNamespace = "::mlir::qlow";
  let summary = "Graph-level ops of quantized transformer models";
  let description = [{
    The qlow dialect represents a quantized transformer graph. Its ops work on
    ranked tensors whose element types are `f32`, signless integers, or the
    upstream quantized types of the `quant` dialect:

    * per tensor: `!quant.uniform<u8:f32, 0.05:128>`
    * per axis: `!quant.uniform<i8:f32:1, {0.1, 0.2}>`
    * sub-channel (blockwise): `!quant.uniform<i4:f32:{0:32}, {{...}}>`

    A quantized value `q` of scale `s` and zero point `z` means the real number
    `s * (q - z)`. Every op's description states its exact integer semantics
    (accumulation width, rounding, saturation); lib/Reference implements them
    in plain C++ and is the oracle that every code generator is tested against.

    Constant quantized tensors are written with upstream ops: an integer
    `arith.constant` of the storage type reinterpreted by `quant.scast`.
  }];
  let dependentDialects = ["::mlir::quant::QuantDialect"];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 0;
}

class Qlow_Op<string mnemonic, list<Trait> traits = []>
    : Op<Qlow_Dialect, mnemonic, traits>;

#endif // QLOW_DIALECT_QLOWBASE_TD
