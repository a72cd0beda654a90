//===- TabulateByteFunctions.cpp - byte functions as tables ---------------===//
//
// qlow-tabulate-byte-functions: an elementwise linalg.generic whose only
// varying input is one tensor of at most 8-bit integers and whose result has
// at most 8 bits becomes a lookup in a constant table of its values for every
// input bit pattern, evaluated at compile time through the same arithmetic
// the compiled body would perform.
//
//===----------------------------------------------------------------------===//

#include "qlow/Pipelines/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "qlow-tabulate-byte-functions"

namespace mlir::qlow {
#define GEN_PASS_DEF_QLOWTABULATEBYTEFUNCTIONSPASS
#include "qlow/Pipelines/Passes.h.inc"
} // namespace mlir::qlow

using namespace mlir;

namespace {

/// The widest varying input and result a table is built for (256 entries).
constexpr unsigned kMaxTableBits = 8;

/// What a generic computes, seen as a function of one varying value.
struct ByteFunction {
  linalg::GenericOp op;
  /// The varying tensor and the first input operand that reads it (its
  /// indexing map is the new generic's input map).
  Value varying;
  OpOperand *varyingOperand = nullptr;
  /// The value every other used block argument holds at every point.
  DenseMap<BlockArgument, TypedAttr> constants;
  /// Constants defined above the generic that its body reads.
  SmallVector<Value> captured;
};

/// The single value `operand` gives its block argument at every point of the
/// loops, or null: a splat constant, or any constant read at constant
/// indices (a 0-d tensor, or a broadcast element).
TypedAttr constantAtEveryPoint(linalg::GenericOp op, OpOperand &operand) {
  DenseElementsAttr values;
  if (!matchPattern(operand.get(), m_Constant(&values)))
    return nullptr;
  if (values.isSplat())
    return dyn_cast<TypedAttr>(values.getSplatValue<Attribute>());
  AffineMap map = op.getMatchingIndexingMap(&operand);
  SmallVector<uint64_t> index;
  for (AffineExpr expr : map.getResults()) {
    auto constant = dyn_cast<AffineConstantExpr>(expr);
    if (!constant || constant.getValue() < 0)
      return nullptr;
    index.push_back(static_cast<uint64_t>(constant.getValue()));
  }
  ArrayRef<int64_t> shape = values.getType().getShape();
  if (index.size() != shape.size())
    return nullptr;
  for (auto [i, size] : llvm::zip_equal(index, shape))
    if (static_cast<int64_t>(i) >= size)
      return nullptr;
  return dyn_cast<TypedAttr>(values.getValues<Attribute>()[index]);
}

/// Whether `type` is a signless integer of 1 to kMaxTableBits bits.
bool isByteInteger(Type type) {
  auto integer = dyn_cast<IntegerType>(type);
  return integer && integer.isSignless() && integer.getWidth() <= kMaxTableBits;
}

/// Matches a generic that is a function of one byte tensor; the reason it is
/// not otherwise.
FailureOr<ByteFunction> matchByteFunction(linalg::GenericOp op,
                                          std::string &reason) {
  auto fail = [&](StringRef why) {
    reason = why.str();
    return failure();
  };
  if (op.getNumDpsInits() != 1 || op->getNumResults() != 1 ||
      !op.hasPureTensorSemantics())
    return fail("not one tensor result");
  if (op.getNumLoops() != op.getNumParallelLoops())
    return fail("has reduction loops");
  Block &body = op.getRegion().front();
  OpOperand *init = op.getDpsInitOperand(0);
  if (!isByteInteger(getElementTypeOrSelf(init->get().getType())))
    return fail("the result is not an integer of at most 8 bits");
  if (!op.getMatchingBlockArgument(init).use_empty())
    return fail("the body reads its output");

  ByteFunction f;
  f.op = op;
  for (OpOperand *input : op.getDpsInputOperands()) {
    BlockArgument arg = op.getMatchingBlockArgument(input);
    if (arg.use_empty())
      continue;
    if (TypedAttr constant = constantAtEveryPoint(op, *input)) {
      f.constants[arg] = constant;
      continue;
    }
    if (!f.varyingOperand) {
      if (!isByteInteger(arg.getType()))
        return fail("the varying input is not an integer of at most 8 bits");
      f.varying = input->get();
      f.varyingOperand = input;
      continue;
    }
    // The same tensor read at the same points is the same value.
    if (input->get() != f.varying ||
        op.getMatchingIndexingMap(input) !=
            op.getMatchingIndexingMap(f.varyingOperand))
      return fail("more than one varying input");
  }
  if (!f.varyingOperand)
    return fail("no varying input");
  // Values the body captures from above must be constants too.
  SetVector<Value> captured;
  getUsedValuesDefinedAbove(op.getRegion(), captured);
  for (Value v : captured) {
    Attribute constant;
    if (!matchPattern(v, m_Constant(&constant)))
      return fail("the body reads a value defined above that is not a "
                  "constant");
    f.captured.push_back(v);
  }

  // Worth a table: float work (conversions, arithmetic, math) in the body.
  // Integer-only bodies (a requantization with a multiplier) are as cheap
  // as the lookup and stay; so do tables already built.
  bool hasFloat = false;
  for (Operation &inner : body.without_terminator()) {
    if (inner.getNumRegions() != 0 || !isPure(&inner))
      return fail("the body has an op with regions or side effects");
    if (isa<linalg::IndexOp>(inner))
      return fail("the body reads loop indices");
    hasFloat |= llvm::any_of(inner.getResultTypes(),
                             [](Type t) { return isa<FloatType>(t); });
  }
  if (!hasFloat)
    return fail("no float arithmetic in the body");
  return f;
}

/// Folds `op` on constant operands; the results' attributes, or failure.
/// math.fma is evaluated here in case its folder is missing (the
/// approximations use it, and compiled code fuses it).
LogicalResult foldOnConstants(Operation *op, ArrayRef<Attribute> operands,
                              SmallVectorImpl<Attribute> &results,
                              const DenseMap<Value, Attribute> &known) {
  SmallVector<OpFoldResult> folded;
  if (succeeded(op->fold(operands, folded)) &&
      folded.size() == op->getNumResults()) {
    for (OpFoldResult r : folded) {
      if (auto attr = dyn_cast<Attribute>(r)) {
        results.push_back(attr);
        continue;
      }
      // Folded to one of its operands (or another known value).
      Attribute attr = known.lookup(cast<Value>(r));
      if (!attr)
        return failure();
      results.push_back(attr);
    }
    return success();
  }
  if (auto fma = dyn_cast<math::FmaOp>(op)) {
    auto a = dyn_cast_or_null<FloatAttr>(operands[0]);
    auto b = dyn_cast_or_null<FloatAttr>(operands[1]);
    auto c = dyn_cast_or_null<FloatAttr>(operands[2]);
    if (!a || !b || !c)
      return failure();
    APFloat r = a.getValue();
    r.fusedMultiplyAdd(b.getValue(), c.getValue(),
                       APFloat::rmNearestTiesToEven);
    results.push_back(FloatAttr::get(fma.getType(), r));
    return success();
  }
  return failure();
}

/// The folded value of a scratch function `(byte) -> byte` for every bit
/// pattern of its argument, after the pipeline's polynomial approximations
/// are applied to it (as they will be to the generic's code).
FailureOr<SmallVector<APInt>> tabulateScratch(func::FuncOp func,
                                              std::string &reason) {
  MLIRContext *ctx = func.getContext();
  {
    RewritePatternSet patterns(ctx);
    qlow::populateQlowApproximateMathPatterns(patterns);
    // Rewrites only: folding here would use the folders' arithmetic before
    // the approximations are in place.
    GreedyRewriteConfig config;
    config.enableFolding(false);
    config.enableConstantCSE(false);
    if (failed(applyPatternsGreedily(func, std::move(patterns), config))) {
      reason = "the approximations did not converge";
      return failure();
    }
  }
  Block *entry = &func.getBody().front();
  Type inType = entry->getArgument(0).getType();
  unsigned inBits = inType.getIntOrFloatBitWidth();
  unsigned outBits =
      func.getFunctionType().getResult(0).getIntOrFloatBitWidth();
  SmallVector<APInt> table;
  table.reserve(size_t(1) << inBits);
  for (uint64_t pattern = 0; pattern < (uint64_t(1) << inBits); ++pattern) {
    DenseMap<Value, Attribute> known;
    known[entry->getArgument(0)] =
        IntegerAttr::get(inType, APInt(inBits, pattern));
    for (Operation &inner : entry->without_terminator()) {
      SmallVector<Attribute> operands;
      for (Value v : inner.getOperands())
        operands.push_back(known.lookup(v));
      SmallVector<Attribute> results;
      if (failed(foldOnConstants(&inner, operands, results, known))) {
        reason =
            ("'" + inner.getName().getStringRef() + "' does not fold").str();
        return failure();
      }
      for (auto [value, attr] : llvm::zip_equal(inner.getResults(), results))
        known[value] = attr;
    }
    auto r = dyn_cast_or_null<IntegerAttr>(
        known.lookup(entry->getTerminator()->getOperand(0)));
    if (!r || r.getValue().getBitWidth() != outBits) {
      reason = "the result did not fold to an integer";
      return failure();
    }
    table.push_back(r.getValue());
  }
  return table;
}

/// The generic's result for every bit pattern of the varying input (entry
/// `i` for the pattern `i`), computed as compiled code computes it; failure
/// where some op of the body does not fold.
FailureOr<SmallVector<APInt>> evaluateTable(const ByteFunction &f,
                                            std::string &reason) {
  linalg::GenericOp op = f.op;
  MLIRContext *ctx = op.getContext();
  Block &body = op.getRegion().front();
  Type inType = op.getMatchingBlockArgument(f.varyingOperand).getType();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Type outType = yield.getOperand(0).getType();

  // A scratch function holding the body: `(varying) -> result`, constants
  // materialized, with the polynomial approximations of the pipeline
  // applied as they will be to the generic's code.
  Location loc = op.getLoc();
  OwningOpRef<ModuleOp> scratch = ModuleOp::create(loc);
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(scratch->getBody());
  auto func = func::FuncOp::create(b, loc, "byte_function",
                                   b.getFunctionType({inType}, {outType}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  IRMapping mapping;
  for (OpOperand *input : op.getDpsInputOperands()) {
    BlockArgument arg = op.getMatchingBlockArgument(input);
    if (arg.use_empty())
      continue;
    auto it = f.constants.find(arg);
    if (it != f.constants.end())
      mapping.map(arg, arith::ConstantOp::create(b, loc, it->second));
    else
      mapping.map(arg, entry->getArgument(0));
  }
  for (Value v : f.captured)
    mapping.map(v, b.clone(*v.getDefiningOp())->getResult(0));
  for (Operation &inner : body.without_terminator())
    b.clone(inner, mapping);
  func::ReturnOp::create(b, loc, mapping.lookup(yield.getOperand(0)));
  return tabulateScratch(func, reason);
}

/// A byte value computed in a generic's body from which the rest of the body
/// (up to the yielded result) is a function of it alone: the requantization
/// that an epilogue fused after its matmul's (attention's Q * K^T scores
/// rounded to u8, then multiplied by a quantized constant and rounded
/// again), which the whole-generic form cannot take (its input is the i32
/// accumulator).
struct ByteSuffix {
  linalg::GenericOp op;
  /// The cut: a byte integer the body computes.
  Value cut;
  /// The ops after the cut that compute the result from it, in body order.
  SmallVector<Operation *> ops;
  /// Values the suffix reads besides the cut and its own results: constants
  /// (ops in the body or above, or block arguments constant at every point).
  DenseMap<Value, TypedAttr> constants;
};

/// The first byte value of `op`'s body whose suffix is a function of it
/// alone, with float work in the suffix (else it is no cheaper as a table).
FailureOr<ByteSuffix> matchByteSuffix(linalg::GenericOp op,
                                      std::string &reason) {
  if (op.getNumDpsInits() != 1 || op->getNumResults() != 1 ||
      !op.hasPureTensorSemantics() ||
      op.getNumLoops() != op.getNumParallelLoops() ||
      !isByteInteger(
          getElementTypeOrSelf(op.getDpsInitOperand(0)->get().getType())) ||
      !op.getMatchingBlockArgument(op.getDpsInitOperand(0)).use_empty()) {
    reason = "not an elementwise generic with a byte result";
    return failure();
  }
  Block &body = op.getRegion().front();
  Value result = body.getTerminator()->getOperand(0);
  for (Operation &inner : body.without_terminator()) {
    if (inner.getNumRegions() != 0 || !isPure(&inner) ||
        isa<linalg::IndexOp>(inner)) {
      reason = "the body has an op with regions, side effects or indices";
      return failure();
    }
  }
  // The constant a value holds at every point, if any.
  auto constantOf = [&](Value v) -> TypedAttr {
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (arg.getOwner() != &body)
        return nullptr;
      OpOperand *operand = op.getMatchingOpOperand(arg);
      return op.isDpsInput(operand) ? constantAtEveryPoint(op, *operand)
                                    : nullptr;
    }
    Attribute attr;
    if (matchPattern(v, m_Constant(&attr)))
      return dyn_cast<TypedAttr>(attr);
    return nullptr;
  };
  for (Operation &def : body.without_terminator()) {
    // A byte or a nibble: a comparison's i1 would make a 2-entry table, no
    // cheaper than the select it feeds.
    if (def.getNumResults() != 1 ||
        !isByteInteger(def.getResult(0).getType()) ||
        def.getResult(0).getType().getIntOrFloatBitWidth() < 4)
      continue;
    Value cut = def.getResult(0);
    if (cut == result)
      break; // Nothing after it.
    // The backward slice of the result, stopped at the cut: every other
    // leaf must be a constant.
    ByteSuffix s;
    s.op = op;
    s.cut = cut;
    llvm::SmallPtrSet<Operation *, 16> inSuffix;
    SmallVector<Value> worklist = {result};
    bool ok = true, hasFloat = false;
    llvm::DenseSet<Value> seen;
    while (ok && !worklist.empty()) {
      Value v = worklist.pop_back_val();
      if (v == cut || !seen.insert(v).second)
        continue;
      if (TypedAttr constant = constantOf(v)) {
        s.constants[v] = constant;
        continue;
      }
      Operation *producer = v.getDefiningOp();
      if (!producer || producer->getBlock() != &body ||
          !producer->isBeforeInBlock(body.getTerminator()) ||
          !def.isBeforeInBlock(producer)) {
        ok = false; // Another varying value, or one computed before the cut.
        break;
      }
      if (inSuffix.insert(producer).second) {
        hasFloat |= llvm::any_of(producer->getResultTypes(),
                                 [](Type t) { return isa<FloatType>(t); });
        llvm::append_range(worklist, producer->getOperands());
      }
    }
    // Worth a lookup (an extension, an index cast and the lookup itself):
    // float work and more ops than that.
    if (!ok || !hasFloat || inSuffix.size() < 4)
      continue;
    for (Operation &inner : body.without_terminator())
      if (inSuffix.contains(&inner))
        s.ops.push_back(&inner);
    return s;
  }
  reason = "no byte value in the body of which the result is a function";
  return failure();
}

/// The suffix's result for every bit pattern of the cut.
FailureOr<SmallVector<APInt>> evaluateSuffixTable(const ByteSuffix &s,
                                                  std::string &reason) {
  linalg::GenericOp op = s.op;
  MLIRContext *ctx = op.getContext();
  Location loc = op.getLoc();
  Block &body = op.getRegion().front();
  Value result = body.getTerminator()->getOperand(0);
  OwningOpRef<ModuleOp> scratch = ModuleOp::create(loc);
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(scratch->getBody());
  auto func = func::FuncOp::create(
      b, loc, "byte_suffix",
      b.getFunctionType({s.cut.getType()}, {result.getType()}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  IRMapping mapping;
  mapping.map(s.cut, entry->getArgument(0));
  for (auto [value, attr] : s.constants)
    mapping.map(value, arith::ConstantOp::create(b, loc, attr));
  for (Operation *inner : s.ops)
    b.clone(*inner, mapping);
  func::ReturnOp::create(b, loc, mapping.lookup(result));
  return tabulateScratch(func, reason);
}

/// The table as a 1-D constant of `element`s, built at `b`'s insertion point
/// (outside the generic: the kernels' epilogues look up tables defined
/// above them).
Value buildTableConstant(OpBuilder &b, Location loc, ArrayRef<APInt> table,
                         Type element) {
  auto type =
      RankedTensorType::get({static_cast<int64_t>(table.size())}, element);
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, table));
}

/// `table[zext(byte)]`, with i32 indices: the form the kernels' gathers read
/// (vpgatherdd).
Value buildTableLookup(OpBuilder &b, Location loc, Value table, Value byte) {
  Value index = arith::ExtUIOp::create(b, loc, b.getI32Type(), byte);
  index = arith::IndexCastOp::create(b, loc, b.getIndexType(), index);
  return tensor::ExtractOp::create(b, loc, table, ValueRange{index});
}

/// Replaces the suffix by a lookup: `table[zext(cut)]` yielded instead.
void replaceSuffixByTable(const ByteSuffix &s, ArrayRef<APInt> table,
                          RewriterBase &rewriter) {
  linalg::GenericOp op = s.op;
  Location loc = op.getLoc();
  Block &body = op.getRegion().front();
  Operation *yield = body.getTerminator();
  rewriter.setInsertionPoint(op);
  Value tableValue =
      buildTableConstant(rewriter, loc, table, yield->getOperand(0).getType());
  rewriter.setInsertionPoint(yield);
  Value looked = buildTableLookup(rewriter, loc, tableValue, s.cut);
  rewriter.modifyOpInPlace(yield, [&] { yield->setOperand(0, looked); });
  // The suffix is dead now (its ops were read by the result only, or by
  // each other): erased last to first.
  for (Operation *inner : llvm::reverse(s.ops))
    if (inner->use_empty())
      rewriter.eraseOp(inner);
}

/// Replaces the generic by a lookup: `table[zext(varying)]`.
void replaceByTable(const ByteFunction &f, ArrayRef<APInt> table,
                    RewriterBase &rewriter) {
  linalg::GenericOp op = f.op;
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  OpOperand *init = op.getDpsInitOperand(0);
  Value tableValue = buildTableConstant(
      rewriter, loc, table, getElementTypeOrSelf(init->get().getType()));
  SmallVector<AffineMap> maps = {op.getMatchingIndexingMap(f.varyingOperand),
                                 op.getMatchingIndexingMap(init)};
  auto lookup = linalg::GenericOp::create(
      rewriter, loc, op->getResultTypes(), ValueRange{f.varying},
      ValueRange{init->get()}, maps, op.getIteratorTypesArray(),
      [&](OpBuilder &b, Location l, ValueRange args) {
        linalg::YieldOp::create(b, l,
                                buildTableLookup(b, l, tableValue, args[0]));
      });
  rewriter.replaceOp(op, lookup->getResults());
}

struct QlowTabulateByteFunctionsPass
    : qlow::impl::QlowTabulateByteFunctionsPassBase<
          QlowTabulateByteFunctionsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> generics;
    getOperation().walk([&](linalg::GenericOp op) { generics.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : generics) {
      std::string reason;
      FailureOr<ByteFunction> f = matchByteFunction(op, reason);
      FailureOr<SmallVector<APInt>> table = failure();
      if (succeeded(f))
        table = evaluateTable(*f, reason);
      if (failed(table)) {
        // A function of a byte the body computes (the generic's tail)?
        std::string suffixReason;
        FailureOr<ByteSuffix> suffix = matchByteSuffix(op, suffixReason);
        FailureOr<SmallVector<APInt>> suffixTable = failure();
        if (succeeded(suffix))
          suffixTable = evaluateSuffixTable(*suffix, suffixReason);
        if (succeeded(suffixTable)) {
          if (report)
            op.emitRemark() << "tabulated its tail after a byte value: "
                            << suffixTable->size() << " entries";
          replaceSuffixByTable(*suffix, *suffixTable, rewriter);
          continue;
        }
        LLVM_DEBUG(llvm::dbgs() << DEBUG_TYPE ": not tabulated (" << reason
                                << "): " << op.getLoc() << "\n");
        if (report)
          op.emitRemark() << "not tabulated: " << reason;
        continue;
      }
      if (report)
        op.emitRemark() << "tabulated: " << table->size() << " entries";
      replaceByTable(*f, *table, rewriter);
    }
  }
};

} // namespace
