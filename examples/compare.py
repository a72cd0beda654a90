#!/usr/bin/env python3
"""Compares an output tensor with a reference tensor (both .npy files).

    python3 examples/compare.py out.npy expected_float.npy [--min-sqnr 25]

Prints the SQNR in dB (10 log10(sum ref^2 / sum (ref - out)^2)), the cosine
similarity, the largest and mean absolute error, and the first few values of
both tensors.

Exit status: 0 after a comparison, whatever the numbers; 2 when a file cannot
be read, holds no numeric array, or the two shapes differ; 1 when --min-sqnr
is given and the SQNR is below it (or is not a number).
"""

import argparse
import math
import sys

import numpy as np


def sqnr_db(out, ref):
    """10 log10(sum ref^2 / sum (ref - out)^2), computed in float64.

    inf when the two are identical, -inf when the reference is all zeros but
    the output is not, nan when either holds a NaN or infinity.
    """
    out = np.asarray(out, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    signal = float(np.sum(ref * ref))
    noise = float(np.sum((ref - out) ** 2))
    if not (math.isfinite(signal) and math.isfinite(noise)):
        return float("nan")
    if noise == 0.0:
        return float("inf") if signal > 0.0 or out.size else float("nan")
    if signal == 0.0:
        return float("-inf")
    return 10.0 * math.log10(signal / noise)


def cosine(out, ref):
    """Cosine similarity of the flattened tensors (nan when a norm is 0)."""
    out = np.asarray(out, dtype=np.float64).ravel()
    ref = np.asarray(ref, dtype=np.float64).ravel()
    denom = float(np.linalg.norm(out)) * float(np.linalg.norm(ref))
    if denom == 0.0 or not math.isfinite(denom):
        return float("nan")
    return float(np.dot(out, ref)) / denom


def _load(path, role):
    try:
        with open(path, "rb") as fh:
            magic = fh.read(6)
    except FileNotFoundError:
        raise SystemExit(_fail(f"{role} file '{path}' does not exist"))
    except OSError as err:
        raise SystemExit(_fail(f"cannot read {role} file '{path}': {err}"))
    if magic != b"\x93NUMPY" and not magic.startswith(b"PK"):
        raise SystemExit(_fail(
            f"{role} file '{path}' is not a .npy file (no NUMPY header)"))
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise SystemExit(_fail(f"{role} file '{path}' does not exist"))
    except (OSError, ValueError) as err:
        raise SystemExit(
            _fail(f"cannot read {role} file '{path}' as a .npy array: {err}"))
    if isinstance(arr, np.lib.npyio.NpzFile):
        names = ", ".join(arr.files)
        arr.close()
        raise SystemExit(_fail(
            f"{role} file '{path}' is an .npz archive ({names}); "
            "pass a single-array .npy file"))
    if not (np.issubdtype(arr.dtype, np.integer)
            or np.issubdtype(arr.dtype, np.floating) or arr.dtype == np.bool_):
        raise SystemExit(_fail(
            f"{role} file '{path}' holds dtype {arr.dtype}, not real numbers"))
    return arr


def _fail(message):
    print(f"compare.py: error: {message}", file=sys.stderr)
    return 2


def _fmt(values):
    return "[" + ", ".join(f"{v: .6g}" for v in values) + "]"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Compare an output .npy with a reference .npy (SQNR, "
        "cosine similarity, max abs error).")
    parser.add_argument("out", help="output to judge (.npy)")
    parser.add_argument("ref", help="reference, e.g. expected_float.npy")
    parser.add_argument("--min-sqnr", type=float, default=None, metavar="DB",
                        help="exit 1 when the SQNR is below DB")
    parser.add_argument("-n", "--show", type=int, default=8, metavar="N",
                        help="how many leading values to print (default 8)")
    args = parser.parse_args(argv)

    out = _load(args.out, "output")
    ref = _load(args.ref, "reference")
    if out.shape != ref.shape:
        hint = ""
        if out.size == ref.size:
            hint = " (same number of elements: a reshape or squeeze missing?)"
        return _fail(f"shape mismatch: '{args.out}' has shape {out.shape} but "
                     f"'{args.ref}' has shape {ref.shape}{hint}")

    o = out.astype(np.float64)
    r = ref.astype(np.float64)
    print(f"shape       : {out.shape}   (out {out.dtype}, ref {ref.dtype})")
    for name, a in (("out", o), ("ref", r)):
        bad = int(a.size - np.count_nonzero(np.isfinite(a)))
        if bad:
            print(f"warning     : {name} has {bad} NaN/inf values")
    s = sqnr_db(o, r)
    print(f"SQNR        : {s:.2f} dB")
    print(f"cosine      : {cosine(o, r):.6f}")
    if out.size:
        err = np.abs(o - r)
        if np.all(np.isnan(err)):
            print("max |err|   : nan")
        else:
            i = int(np.nanargmax(err))
            where = np.unravel_index(i, out.shape) if out.ndim else ()
            print(f"max |err|   : {err.flat[i]:.6g} at {tuple(int(k) for k in where)}"
                  f" (out {o.flat[i]:.6g}, ref {r.flat[i]:.6g})")
            print(f"mean |err|  : {np.nanmean(err):.6g}   "
                  f"(ref rms {math.sqrt(float(np.mean(r * r))):.6g})")
    n = max(0, args.show)
    print(f"out[:{n}]     : {_fmt(o.ravel()[:n])}")
    print(f"ref[:{n}]     : {_fmt(r.ravel()[:n])}")

    if args.min_sqnr is not None and not s >= args.min_sqnr:
        print(f"FAIL: SQNR {s:.2f} dB is below --min-sqnr {args.min_sqnr} dB",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
