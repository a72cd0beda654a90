#!/usr/bin/env python3
# ===- mutate.py - mutation fuzzing of qlow-opt's parser and verifiers -----===#
#
# Applies deterministic random mutations to a valid input (delete, duplicate,
# swap or replace a token or a line, flip a byte, insert a byte, truncate,
# swap in an extreme number or another dimension size, or change a tensor type
# everywhere it occurs, which keeps the IR parseable and exercises the
# verifiers) and runs qlow-opt on each mutant. A mutant may be rejected with a diagnostic (exit 1) or, if it happens to stay valid, accepted
# (exit 0; its output is then parsed again, and canonicalized, to check the
# printer's output round-trips). Fails if any run dies from a signal, exits
# with another code, or takes longer than the timeout; the mutant is saved for
# reproduction.
#
# Comment lines of the input are dropped first: mutating them proves nothing.
#
# Usage (from lit):
#   %python mutate.py qlow-opt path/to/ops.mlir [--count N] [--seed S]
#
# ===----------------------------------------------------------------------===#

import argparse
import concurrent.futures
import os
import random
import re
import subprocess
import sys
import tempfile

# Tokens of MLIR's textual form that mutations operate on: identifiers with
# sigils, numbers (hex, float, int), strings, punctuation and whitespace.
TOKEN_RE = re.compile(
    rb'"(?:[^"\\\n]|\\.)*"'
    rb"|0x[0-9a-fA-F]+"
    rb"|[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?"
    rb"|x(?=[0-9?])"  # the `x` between dimensions: 16x64xf32 -> 16 x 64 xf32
    rb"|\?"
    rb"|[%@#!^]?[A-Za-z_][A-Za-z0-9_.$-]*"
    rb"|\s+"
    rb"|."
)

# Values that probe the verifiers' arithmetic and the quant type parser.
EXTREME_NUMBERS = [
    b"0", b"-1", b"1", b"2147483647", b"-2147483648", b"4294967296",
    b"9223372036854775807", b"-9223372036854775808",
    b"99999999999999999999999", b"0x7FF8000000000000", b"0x7FF0000000000000",
    b"0x7FC00000", b"0x7F800000", b"0.0", b"-0.0", b"1.0e-45", b"3.5e38",
    b"1.0e309",
]


# Dimension sizes that probe the verifiers' shape logic (empty, unit, odd,
# dynamic).
DIM_VALUES = [b"0", b"1", b"2", b"3", b"5", b"7", b"64", b"?"]


# Element types swapped into a tensor type by the "retype" mutation.
ELEMENT_TYPES = [
    b"f32", b"f16", b"i1", b"i8", b"i32", b"i64",
    b"!quant.uniform<i8:f32, 0.1>", b"!quant.uniform<u8:f32, 0.05:128>",
    b"!quant.uniform<i32:f32, 1.0e-4>", b"!quant.uniform<i4:f32:0, {0.1, 0.2}>",
    b"!quant.uniform<i8:f32:1, {0.1, 0.2}>", b"!quant.uniform<i4:f32:{0:2}, {{0.1}, {0.2}}>",
    b"!quant.uniform<i4:f32:{0:32, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}>",
]


def tokenize(data):
    return TOKEN_RE.findall(data)


def tensor_types(data):
    """The distinct `tensor<...>` types in `data` (with nested brackets)."""
    found = set()
    for m in re.finditer(rb"tensor<", data):
        depth, i = 0, m.start() + len(b"tensor")
        while i < len(data):
            c = data[i:i + 1]
            depth += c == b"<"
            depth -= c == b">"
            i += 1
            if depth == 0:
                found.add(data[m.start():i])
                break
    return sorted(found)


def retype(ty, rng):
    """A variant of tensor type `ty`: one dimension changed, added or dropped,
    or another element type."""
    body = ty[len(b"tensor<"):-1]
    m = re.match(rb"((?:(?:[0-9]+|\?)x)*)(.*)", body, re.S)
    dims = [d for d in m.group(1).split(b"x") if d]
    element = m.group(2)
    choice = rng.randrange(4)
    if choice == 0 and dims:
        dims[rng.randrange(len(dims))] = rng.choice(DIM_VALUES)
    elif choice == 1:
        dims.insert(rng.randrange(len(dims) + 1), rng.choice(DIM_VALUES))
    elif choice == 2 and dims:
        del dims[rng.randrange(len(dims))]
    else:
        element = rng.choice(ELEMENT_TYPES)
    return b"tensor<" + b"".join(d + b"x" for d in dims) + element + b">"


def mutate(data, rng):
    """Returns one mutant of `data` and a short description of the change."""
    tokens = tokenize(data)
    significant = [i for i, t in enumerate(tokens) if not t.isspace()]
    lines = data.split(b"\n")
    kind = rng.choice([
        "delete-token", "duplicate-token", "swap-tokens", "replace-token",
        "extreme-number", "change-dim", "retype", "retype", "retype", "delete-line", "duplicate-line", "swap-lines",
        "flip-byte", "insert-byte", "truncate",
    ])
    if kind == "retype" and not tensor_types(data):
        # Nothing to retype (an input of memrefs only, say).
        kind = "replace-token"
    if kind == "delete-token":
        i = rng.choice(significant)
        return b"".join(tokens[:i] + tokens[i + 1:]), f"{kind} #{i} {tokens[i]!r}"
    if kind == "duplicate-token":
        i = rng.choice(significant)
        return b"".join(tokens[:i + 1] + tokens[i:]), f"{kind} #{i} {tokens[i]!r}"
    if kind == "swap-tokens":
        i, j = sorted(rng.sample(significant, 2))
        t = list(tokens)
        t[i], t[j] = t[j], t[i]
        return b"".join(t), f"{kind} #{i} {tokens[i]!r} <-> #{j} {tokens[j]!r}"
    if kind == "replace-token":
        i = rng.choice(significant)
        other = tokens[rng.choice(significant)]
        return (b"".join(tokens[:i] + [other] + tokens[i + 1:]),
                f"{kind} #{i} {tokens[i]!r} -> {other!r}")
    if kind == "extreme-number":
        numbers = [i for i in significant if re.fullmatch(rb"[-+0-9.eEx]+|0x[0-9a-fA-F]+", tokens[i])
                   and any(c in b"0123456789" for c in tokens[i])]
        i = rng.choice(numbers or significant)
        value = rng.choice(EXTREME_NUMBERS)
        return (b"".join(tokens[:i] + [value] + tokens[i + 1:]),
                f"{kind} #{i} {tokens[i]!r} -> {value!r}")
    if kind == "change-dim":
        dims = [i for i in significant if re.fullmatch(rb"[0-9]+|\?", tokens[i])
                and i + 1 < len(tokens) and tokens[i + 1].startswith(b"x")]
        i = rng.choice(dims or significant)
        value = rng.choice(DIM_VALUES)
        return (b"".join(tokens[:i] + [value] + tokens[i + 1:]),
                f"{kind} #{i} {tokens[i]!r} -> {value!r}")
    if kind == "retype":
        old = rng.choice(tensor_types(data))
        new = retype(old, rng)
        return data.replace(old, new), f"{kind} {old!r} -> {new!r}"
    if kind == "delete-line":
        i = rng.randrange(len(lines))
        return b"\n".join(lines[:i] + lines[i + 1:]), f"{kind} {i + 1}"
    if kind == "duplicate-line":
        i = rng.randrange(len(lines))
        return b"\n".join(lines[:i + 1] + lines[i:]), f"{kind} {i + 1}"
    if kind == "swap-lines":
        i, j = rng.sample(range(len(lines)), 2)
        l = list(lines)
        l[i], l[j] = l[j], l[i]
        return b"\n".join(l), f"{kind} {i + 1} <-> {j + 1}"
    if kind == "flip-byte":
        i = rng.randrange(len(data))
        bit = 1 << rng.randrange(8)
        return data[:i] + bytes([data[i] ^ bit]) + data[i + 1:], f"{kind} @{i} ^{bit:#x}"
    if kind == "insert-byte":
        i = rng.randrange(len(data) + 1)
        b = rng.randrange(256)
        return data[:i] + bytes([b]) + data[i:], f"{kind} @{i} {b:#x}"
    i = rng.randrange(len(data))
    return data[:i], f"truncate @{i}"


def run(cmd, data, timeout):
    """Runs `cmd` on `data`; returns (returncode or 'timeout', stdout, stderr)."""
    try:
        p = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", b"", b""


def check(tool, data, timeout):
    """Returns ("accepted", None), ("rejected", None) when qlow-opt handled
    `data` gracefully, else ("fail", (reason, stderr))."""
    rc, out, err = run([tool, "-"], data, timeout)
    if rc == 0:
        # Accepted: its printed form must parse again, in both printed forms,
        # and survive the canonicalizer.
        for name, extra in (("reparse", []),
                            ("reparse-generic", ["--mlir-print-op-generic"]),
                            ("canonicalize", ["-canonicalize"])):
            rc2, _, err2 = run([tool, "-"] + extra, out, timeout)
            if rc2 != 0:
                return "fail", (f"{name} of accepted output: exit {rc2}", err2)
        return "accepted", None
    if rc == 1:
        if b"error" not in err:
            return "fail", ("exit 1 without a diagnostic", err)
        return "rejected", None
    if rc == "timeout":
        return "fail", (f"timeout after {timeout} s", err)
    if isinstance(rc, int) and rc < 0:
        return "fail", (f"killed by signal {-rc}", err)
    return "fail", (f"unexpected exit code {rc}", err)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tool", help="qlow-opt binary")
    parser.add_argument("input", help="valid .mlir file to mutate")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    parser.add_argument("--save-dir", default=None,
                        help="where failing mutants are written (default: a temp dir)")
    args = parser.parse_args()

    with open(args.input, "rb") as f:
        data = f.read()
    # Mutations of comments (RUN and CHECK lines) would be wasted runs.
    data = b"\n".join(l for l in data.split(b"\n") if not l.lstrip().startswith(b"//"))
    status, detail = check(args.tool, data, args.timeout)
    if status != "accepted":
        print(f"error: the unmutated input is not valid: {status} {detail}")
        return 1

    rng = random.Random(args.seed)
    mutants = [mutate(data, rng) for _ in range(args.count)]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda m: check(args.tool, m[0], args.timeout), mutants))

    failures = [(i, m, detail) for i, (m, (status, detail))
                in enumerate(zip(mutants, results)) if status == "fail"]
    save_dir = args.save_dir or tempfile.mkdtemp(prefix="qlow-mutants-")
    for i, (mutant, change), (reason, err) in failures:
        os.makedirs(save_dir, exist_ok=True)
        path = os.path.join(save_dir, f"mutant-{i}.mlir")
        with open(path, "wb") as f:
            f.write(mutant)
        print(f"FAIL mutant {i} ({change}): {reason}; saved to {path}")
        sys.stdout.write(err.decode(errors="replace")[-4000:])
    accepted = sum(1 for status, _ in results if status == "accepted")
    print(f"{len(mutants)} mutants: {len(failures)} failures, "
          f"{accepted} still valid, {len(mutants) - accepted - len(failures)} rejected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
