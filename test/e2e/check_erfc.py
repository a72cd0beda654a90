#!/usr/bin/env python3
"""Writes erfc/gelu test inputs, or checks compiled results against math.erfc.

    check_erfc.py write X.npy
    check_erfc.py check X.npy OUT_DIR
    check_erfc.py write-gelu X.npy
    check_erfc.py check-gelu X.npy OUT_DIR

The inputs: 4000 points over [-10.5, 10.5], then +-0, +-inf, NaN, +-1e38,
+-1e-30 and 90 points over [9, 10] (where erfc falls below the smallest
normal f32). `check`: relative error of erfc(x) at most 2^-21 (4.8e-7)
wherever erfc(x) >= 2^-120 (qlow's approximation measures 3.2e-7), a result
below 2^-120 in magnitude where erfc(x) is, erfc(0) = 1 exactly,
erfc(+inf) = 0, erfc(-inf) = 2 and NaN for NaN. `check-gelu`, for the same
inputs scaled by sqrt 2 (x over [-14.8, 14.8]): gelu(x) = x erfc(-x /
sqrt 2) / 2 in double, the same relative error wherever |gelu(x)| >= 2^-120
(the negative tail too, where one element can be the largest of a tensor),
below 2^-120 elsewhere, gelu(+inf) = inf, gelu(-inf) and gelu(NaN) NaN.
Prints the largest relative error and "ok".
"""

import glob
import math
import sys

import numpy as np

# Results below this count as tiny: they are checked for being tiny, not
# for their relative error (exp's polynomial loses bits as its result
# nears 2^-126).
TINY = 2.0 ** -120
LIMIT = 2.0 ** -21


def inputs():
    specials = [0.0, -0.0, math.inf, -math.inf, math.nan, 1e38, -1e38, 1e-30,
                -1e-30]
    return np.concatenate([np.linspace(-10.5, 10.5, 4000), specials,
                           np.linspace(9.0, 10.0, 90)]).astype(np.float32)


def gelu(x):
    if math.isinf(x):
        return x if x > 0 else math.nan
    return x * math.erfc(-x / math.sqrt(2.0)) / 2


def check(x, y, name, function, exact):
    problems = []
    worst = 0.0
    for xi, yi in zip(x.astype(np.float64).tolist(),
                      y.astype(np.float64).tolist()):
        expected = function(xi)
        if math.isnan(expected) or math.isinf(expected):
            if not (yi == expected or math.isnan(expected) and math.isnan(yi)):
                problems.append(f"{name}({xi!r}) = {yi!r}, expected "
                                f"{expected!r}")
            continue
        if abs(expected) >= TINY:
            rel = abs(yi - expected) / abs(expected)
            worst = max(worst, rel)
            if rel > LIMIT:
                problems.append(f"{name}({xi!r}) = {yi!r}, expected "
                                f"{expected!r} (relative error {rel:.3g})")
        elif not abs(yi) < TINY:
            problems.append(f"{name}({xi!r}) = {yi!r}, expected {expected!r}")
    for xi, want in exact:
        got = y[np.flatnonzero(x == np.float32(xi))[0]]
        if got != want:
            problems.append(f"{name}({xi!r}) = {float(got)!r}, expected "
                            f"{want!r}")
    for p in problems[:20]:
        print(p)
    print(f"max relative error {worst:.3g}")
    return not problems


def main():
    if sys.argv[1] == "write":
        np.save(sys.argv[2], inputs())
        return 0
    if sys.argv[1] == "write-gelu":
        np.save(sys.argv[2], inputs() * np.float32(math.sqrt(2.0)))
        return 0
    x = np.load(sys.argv[2])
    outputs = glob.glob(sys.argv[3] + "/*.npy")
    if len(outputs) != 1:
        print(f"expected one output in {sys.argv[3]}, found {len(outputs)}")
        return 1
    y = np.load(outputs[0])
    if y.shape != x.shape or y.dtype != np.float32:
        print(f"output is {y.dtype} {y.shape}")
        return 1
    if sys.argv[1] == "check-gelu":
        ok = check(x, y, "gelu", gelu, ((0.0, 0.0),))
    else:
        ok = check(x, y, "erfc", math.erfc,
                   ((0.0, 1.0), (math.inf, 0.0), (-math.inf, 2.0)))
    if not ok:
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
