"""Checks the runs in qlow-parallel-to-openmp.mlir: element (i, j) of each
output is x[i, j] + 10 i + j + 1000 * (its thread), every element computed
once, and each thread ran a contiguous block of OpenMP's static schedule
(the first total % threads threads take one iteration more)."""
import os
import sys

import numpy as np

d = sys.argv[1]
x = np.load(os.path.join(d, "x.npy")).astype(np.int64)
i, j = np.indices(x.shape)
for threads in (1, 3, 8):
    y = np.load(os.path.join(d, f"t{threads}", "tiles.0.npy")).astype(np.int64)
    extra = (y - x - 10 * i - j).ravel()
    assert np.all(extra % 1000 == 0), extra
    owner = extra // 1000
    total = owner.size
    share, rest = divmod(total, threads)
    expected = np.concatenate([np.full(share + (t < rest), t)
                               for t in range(threads)])
    assert np.array_equal(owner, expected), (threads, owner)
    counts = ",".join(str(int(np.sum(owner == t))) for t in range(threads))
    print(f"threads={threads} iterations={total} per_thread={counts} ok")
