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


//===----------------------------------------------------------------------===//
// Dynamic (run-time) quantization of a matmul's activations
//===----------------------------------------------------------------------===//

def Qlow_PerTensor : I32EnumAttrCase<"PerTensor", 0, "per_tensor">;
def Qlow_PerRow : I32EnumAttrCase<"PerRow", 1, "per_row">;

def Qlow_DynamicGranularity : I32EnumAttr<"DynamicGranularity",
    "which values share one run-time scale", [Qlow_PerTensor, Qlow_PerRow]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::qlow";
}

def Qlow_StorageI8 : I32EnumAttrCase<"I8", 0, "i8">;
def Qlow_StorageU8 : I32EnumAttrCase<"U8", 1, "u8">;

def Qlow_DynamicStorage : I32EnumAttr<"DynamicStorage",
    "the 8-bit storage type of run-time quantized values",
    [Qlow_StorageI8, Qlow_StorageU8]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::qlow";
}

def Qlow_Symmetric : I32EnumAttrCase<"Symmetric", 0, "symmetric">;
def Qlow_Asymmetric : I32EnumAttrCase<"Asymmetric", 1, "asymmetric">;

def Qlow_QuantScheme : I32EnumAttr<"QuantScheme",
    "whether the zero point is fixed at 0", [Qlow_Symmetric, Qlow_Asymmetric]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::qlow";
}

def Qlow_DynamicQuantAttr : AttrDef<Qlow_Dialect, "DynamicQuant"> {
  let mnemonic = "dynamic";
  let summary = "How an f32 operand is quantized at run time";
  let description = [{
    `#qlow.dynamic<granularity, storage, scheme>` describes run-time (dynamic,
    online) quantization of an f32 tensor `x` of shape `[..., M, K]`. The
    values that share one scale are the whole tensor (`per_tensor`) or each
    row `x[..., m, :]` (`per_row`). For each such set `V`, in f32 arithmetic:

    ```
    lo = min(0, min(V)),  hi = max(0, max(V))
    symmetric  (i8 only): scale = max(-lo, hi) / 127,         zp = 0
    asymmetric:           scale = (hi - lo) / (qmax - qmin),
                          zp = saturate(round_half_even(qmin - lo / scale))
    scale = 1 where the formula gives 0 (V is all zeros)
    q = saturate(round_half_even(x / scale) + zp)    over [qmin, qmax]
    ```

    with `[qmin, qmax]` = [-128, 127] for `i8` and [0, 255] for `u8`. The
    asymmetric form is ONNX DynamicQuantizeLinear's (which is `u8`). `x` must
    be finite; a non-finite value makes the result unspecified (the
    reference evaluator reports an error).
  }];
  let parameters = (ins
    EnumParameter<Qlow_DynamicGranularity>:$granularity,
    EnumParameter<Qlow_DynamicStorage>:$storage,
    EnumParameter<Qlow_QuantScheme>:$scheme);
  let assemblyFormat = "`<` $granularity `,` $storage `,` $scheme `>`";
  let genVerifyDecl = 1;
}

#endif // QLOW_DIALECT_QLOWATTRS_TD
