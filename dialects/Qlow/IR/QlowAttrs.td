//===- QlowAttrs.td - qlow attributes ----------------------*- tablegen -*-===//
//
// Enumerated attributes of the qlow dialect.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_DIALECT_QLOWATTRS_TD
#define QLOW_DIALECT_QLOWATTRS_TD

include "dialects/Qlow/IR/QlowBase.td"
include "mlir/IR/EnumAttr.td"

def Qlow_RoundingFixedPoint : I32EnumAttrCase<"FixedPoint", 0, "fixedpoint">;
def Qlow_RoundingFloat : I32EnumAttrCase<"Float", 1, "float">;

def Qlow_RoundingMode : I32EnumAttr<"RoundingMode",
    "how a real multiplier is applied when requantizing", [
      Qlow_RoundingFixedPoint, Qlow_RoundingFloat]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::qlow";
  let description = [{
    `fixedpoint`: the real multiplier M is converted to an int32 multiplier and
    a power-of-two shift as gemmlowp/TFLite do (QuantizeMultiplier); the value is
    multiplied with a saturating rounding doubling high multiply, then shifted
    right with round-half-away-from-zero. Exact and reproducible on every target.

    `float`: the value is converted to f32, multiplied by M rounded to f32, and
    rounded half to even (as ONNX QuantizeLinear rounds).

    Both then add the output zero point and saturate to the storage range.
  }];
}

def Qlow_RoundingModeAttr : EnumAttr<Qlow_Dialect, Qlow_RoundingMode,
                                     "rounding"> {
  let assemblyFormat = "`<` $value `>`";
}

def Qlow_GeluNone : I32EnumAttrCase<"None", 0, "none">;
def Qlow_GeluTanh : I32EnumAttrCase<"Tanh", 1, "tanh">;

def Qlow_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "which formula a GELU uses", [Qlow_GeluNone, Qlow_GeluTanh]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::qlow";
}

def Qlow_GeluApproximationAttr : EnumAttr<Qlow_Dialect, Qlow_GeluApproximation,
                                          "gelu_approximation"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // QLOW_DIALECT_QLOWATTRS_TD
