#!/usr/bin/env python3
"""Checks that two sets of .npy outputs are bit-for-bit identical.

    compare_exact.py expected.npy actual.npy
    compare_exact.py expected_dir/ actual_dir/

With two directories, every .npy file of either must exist in both. Arrays
must agree in dtype, shape and every bit: integers by value, floats by their
bit patterns (so -0.0 differs from 0.0, and a NaN matches only the same NaN).

Prints "N of N outputs identical" and exits 0, or describes each mismatch (the
file, the first differing elements with their indices, expected and actual
values and bit patterns, and how many differ) and exits 1. Exits 2 when a file
cannot be read.
"""

import argparse
import os
import sys

import numpy as np

MAX_SHOWN = 8


def load(path):
    try:
        return np.load(path, allow_pickle=False)
    except Exception as e:  # numpy raises several types for a bad file
        print(f"error: cannot read {path}: {e}", file=sys.stderr)
        sys.exit(2)


def bits(array):
    """The array's elements as unsigned integers of the same width."""
    if array.dtype == np.bool_:
        return array.astype(np.uint8)
    return array.view(f"u{array.dtype.itemsize}")


def describe(array, index):
    value = array[index]
    if np.issubdtype(array.dtype, np.floating):
        pattern = int(bits(array)[index])
        return f"{value!r} (0x{pattern:0{2 * array.dtype.itemsize}x})"
    return repr(value.item())


def compare(expected_path, actual_path):
    """Returns a list of lines describing the differences (empty if none)."""
    expected, actual = load(expected_path), load(actual_path)
    name = os.path.basename(actual_path)
    if expected.dtype != actual.dtype:
        return [f"{name}: dtype {actual.dtype}, expected {expected.dtype}"]
    if expected.shape != actual.shape:
        return [f"{name}: shape {actual.shape}, expected {expected.shape}"]
    differ = bits(expected) != bits(actual)
    count = int(np.count_nonzero(differ))
    if count == 0:
        return []
    lines = [
        f"{name}: {count} of {expected.size} elements differ "
        f"({expected.dtype}, shape {expected.shape})"
    ]
    for flat in np.flatnonzero(differ)[:MAX_SHOWN]:
        index = np.unravel_index(flat, expected.shape)
        lines.append(
            f"  at {tuple(int(i) for i in index)}: expected "
            f"{describe(expected, index)}, got {describe(actual, index)}"
        )
    if count > MAX_SHOWN:
        lines.append(f"  ... and {count - MAX_SHOWN} more")
    return lines


def pairs(expected, actual):
    """(expected file, actual file) pairs, or an error message."""
    if os.path.isdir(expected) != os.path.isdir(actual):
        return None, "give two files or two directories"
    if not os.path.isdir(expected):
        return [(expected, actual)], None
    names = {n for n in os.listdir(expected) if n.endswith(".npy")}
    other = {n for n in os.listdir(actual) if n.endswith(".npy")}
    missing = sorted(names - other) + sorted(other - names)
    if missing:
        where = [
            f"{n} only in {expected if n in names else actual}" for n in missing
        ]
        return None, "; ".join(where)
    if not names:
        return None, f"no .npy files in {expected}"
    return [(os.path.join(expected, n), os.path.join(actual, n))
            for n in sorted(names)], None


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("expected", help="reference .npy file or directory")
    parser.add_argument("actual", help="compiled .npy file or directory")
    args = parser.parse_args()

    files, error = pairs(args.expected, args.actual)
    if error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    failed = 0
    for expected, actual in files:
        lines = compare(expected, actual)
        if lines:
            failed += 1
            print("MISMATCH " + "\n".join(lines))
    if failed:
        print(f"{failed} of {len(files)} outputs differ")
        return 1
    print(f"{len(files)} of {len(files)} outputs identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
