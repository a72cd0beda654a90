#!/usr/bin/env python3
# ===- gen_malformed.py - deterministic malformed inputs for qlow-opt ------===#
#
# Writes one generated input to stdout, so that lit RUN lines can build
# malformed or extreme inputs without committing binary fixtures:
#
#   random --seed S --size N [--alphabet bytes|printable|mlir]
#       N pseudo-random bytes from a fixed seed. `mlir` draws from the
#       characters of MLIR syntax, which gets further into the parser.
#   nested --kind array|dict|type|unterminated --depth D
#       A function whose qlow.observe carries an attribute nested D deep
#       (array, dictionary), a type nested D deep (an invalid tensor of
#       tensors), or D opening brackets and then end of file.
#   long-string --size N
#       A valid function with a string attribute of N characters.
#
# ===----------------------------------------------------------------------===#

import argparse
import random
import sys

MLIR_ALPHABET = (b"%@#!^{}[]()<>:,=-+.*\"\n x0123456789"
                 b"abcdefiu_qlowtensorquantuniformfuncreturnmatmul")


def gen_random(args):
    rng = random.Random(args.seed)
    if args.alphabet == "bytes":
        return bytes(rng.getrandbits(8) for _ in range(args.size))
    if args.alphabet == "printable":
        return bytes(32 + rng.randrange(95) for _ in range(args.size))
    return bytes(MLIR_ALPHABET[rng.randrange(len(MLIR_ALPHABET))]
                 for _ in range(args.size))


def wrap_observe(attr):
    return ("func.func @f(%x: tensor<8xf32>) -> tensor<8xf32> {\n"
            f"  %y = qlow.observe %x {{name = \"deep\", extra = {attr}}} : tensor<8xf32>\n"
            "  return %y : tensor<8xf32>\n"
            "}\n").encode()


def gen_nested(args):
    d = args.depth
    if args.kind == "array":
        return wrap_observe("[" * d + "1 : i32" + "]" * d)
    if args.kind == "dict":
        return wrap_observe("{a = " * d + "1 : i32" + "}" * d)
    if args.kind == "type":
        ty = "tensor<" * d + "f32" + ">" * d
        return f"func.func @f(%x: {ty}) {{\n  return\n}}\n".encode()
    # Cut off inside the attribute: d brackets open, none closed.
    return wrap_observe("[" * d + "@CUT@").split(b"@CUT@")[0]


def gen_long_string(args):
    return wrap_observe('"' + "ab" * (args.size // 2) + '"')


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("random")
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--size", type=int, required=True)
    r.add_argument("--alphabet", choices=["bytes", "printable", "mlir"], default="bytes")
    n = sub.add_parser("nested")
    n.add_argument("--kind", choices=["array", "dict", "type", "unterminated"], required=True)
    n.add_argument("--depth", type=int, required=True)
    s = sub.add_parser("long-string")
    s.add_argument("--size", type=int, required=True)
    args = parser.parse_args()
    generate = {"random": gen_random, "nested": gen_nested,
                "long-string": gen_long_string}[args.command]
    sys.stdout.buffer.write(generate(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
