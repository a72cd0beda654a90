#!/usr/bin/env python3
"""Fits the polynomial of qlow-approximate-math's f32 erfc.

The coefficients are kQ in lib/Pipelines/ApproximateMath.cpp.

    python3 scripts/fit_erfc.py

erfc(a) = t * Q(t) * exp(-a^2) with t = 1 / (1 + a / 2), a in [0, 10]: Q is
fitted to erfc(a) exp(a^2) / t as a degree-8 polynomial in t, minimizing the
largest relative error (Lawson's iteratively reweighted least squares on
Chebyshev points), with Q(1) = 1 built in. Its coefficients are rounded to
f32 one at a time from the highest, the lower ones refitted after each, so
that the rounding costs little; the constant term is then moved by ulps
until the f32 Horner steps give Q(1) = 1, so that erfc(0) is exactly 1.
Prints the C++ array and the relative error of t * Q(t) * exp(-a^2) in
double with the rounded coefficients.
"""

import math

import numpy as np

DEGREE = 8
P = 0.5
A_MAX = 10.0
POINTS = 3000


def target(t):
    a = (1.0 / t - 1.0) / P
    return math.erfc(a) * math.exp(a * a) / t


def main():
    t_min = 1.0 / (1.0 + P * A_MAX)
    k = np.arange(POINTS)
    t = (t_min + 1) / 2 + (1 - t_min) / 2 * np.cos(np.pi * (k + 0.5) / POINTS)
    y = np.array([target(v) for v in t])
    # Q(1) = 1 (erfc(0) = 1) is built in: Q(t) = 1 + sum_i c_i (t^i - 1).
    fixed = {}
    for top in range(DEGREE, 0, -1):
        rest = y - 1 - sum(c * (t ** i - 1) for i, c in fixed.items())
        basis = np.vstack([t ** i - 1 for i in range(1, top + 1)]).T
        w = np.ones_like(t)
        for _ in range(80):
            root = np.sqrt(w) / y
            c, *_ = np.linalg.lstsq(basis * root[:, None], rest * root,
                                    rcond=None)
            r = (basis @ c - rest) / y
            w = w * np.abs(r) + 1e-30
            w /= w.sum()
        fixed[top] = float(np.float32(c[top - 1]))
    fixed[0] = float(np.float32(1 - sum(fixed.values())))
    coef = [fixed[i] for i in range(DEGREE + 1)]
    # erfc(0) = 1 exactly (so that erf(0) = 1 - erfc(0) is 0): step the
    # constant term until the f32 Horner steps give 1 at t = 1.
    while True:
        q = np.float32(coef[-1])
        for c in coef[-2::-1]:
            q = np.float32(np.float64(q) + np.float64(np.float32(c)))
        if q == 1.0:
            break
        step = np.float32(np.inf if q < 1.0 else -np.inf)
        coef[0] = float(np.nextafter(np.float32(coef[0]), step))
    worst = 0.0
    for a in np.linspace(0.0, A_MAX, 20001):
        tt = 1.0 / (1.0 + P * a)
        q = sum(c * tt ** i for i, c in enumerate(coef))
        got = tt * q * math.exp(-a * a)
        worst = max(worst, abs(got - math.erfc(a)) / math.erfc(a))
    print("  static constexpr float kQ[] = {")
    print("      " + ", ".join(f"{np.float32(c)!r:}".replace("np.float32(", "")
                               .replace(")", "") + "f" for c in coef) + "};")
    print(f"// largest relative error over [0, {A_MAX:g}]: {worst:.2g}")


if __name__ == "__main__":
    main()
