#!/usr/bin/env python3
"""Checks that two directories of quantized .npy outputs agree within N steps.

    compare_steps.py expected_dir/ actual_dir/ [--max-steps 1]

Every .npy file of either directory must exist in both, with the same dtype
(an integer storage type) and shape. Prints, per file, "NAME: max_steps=K
differing=D of N" and then "all within M steps" and exits 0, or "OUTSIDE"
lines for the files with a stored value more than --max-steps away from the
expected one and exits 1. Exits 2 when a file cannot be read or the files do
not correspond.
"""

import argparse
import os
import sys

import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("expected")
    p.add_argument("actual")
    p.add_argument("--max-steps", type=int, default=1)
    a = p.parse_args()
    names = sorted(set(f for d in (a.expected, a.actual)
                       for f in os.listdir(d) if f.endswith(".npy")))
    bad = False
    for name in names:
        try:
            e = np.load(os.path.join(a.expected, name), allow_pickle=False)
            x = np.load(os.path.join(a.actual, name), allow_pickle=False)
        except Exception as err:  # a missing or unreadable file
            print(f"error: {name}: {err}", file=sys.stderr)
            sys.exit(2)
        if e.dtype != x.dtype or e.shape != x.shape or e.dtype.kind not in "iu":
            print(f"error: {name}: {e.dtype}{e.shape} against "
                  f"{x.dtype}{x.shape}", file=sys.stderr)
            sys.exit(2)
        diff = np.abs(e.astype(np.int64) - x.astype(np.int64))
        steps = int(diff.max()) if diff.size else 0
        print(f"{name}: max_steps={steps} differing={int((diff != 0).sum())} "
              f"of {diff.size}")
        if steps > a.max_steps:
            print(f"OUTSIDE {name}: {steps} steps at "
                  f"{np.unravel_index(int(diff.argmax()), diff.shape)}")
            bad = True
    if bad:
        sys.exit(1)
    print(f"all within {a.max_steps} steps")


if __name__ == "__main__":
    main()
