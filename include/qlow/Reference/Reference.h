//===- Reference.h - The qlow reference semantics, all of it ----*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// Umbrella header of the QlowReference library, the plain C++ oracle that
// defines what every qlow op computes (namespace qlow::ref). It has no MLIR or
// LLVM dependency and reports errors through Status/Expected, never through
// exceptions. See docs/Reference.md for the semantics in prose.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_REFERENCE_REFERENCE_H
#define QLOW_REFERENCE_REFERENCE_H

#include "qlow/Reference/Arithmetic.h"
#include "qlow/Reference/IntegerOnly.h"
#include "qlow/Reference/Npy.h"
#include "qlow/Reference/Ops.h"
#include "qlow/Reference/Status.h"
#include "qlow/Reference/Types.h"

#endif // QLOW_REFERENCE_REFERENCE_H
