//===- Machine.h - machine figures measured by qlow-bench -------*- C++ -*-===//
//
// The ceilings that kernel figures are judged against, measured in the same
// run: the vpdpbusd issue rate and the streaming-read bandwidth.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_BENCH_MACHINE_H
#define QLOW_BENCH_MACHINE_H

namespace qlow::bench {

/// Measured peak of `vpdpbusd zmm` on one core in GOPS (2 ops per MAC, 64
/// MACs per instruction), or 0 when the CPU lacks AVX-512 VNNI.
double measureVnniPeakGops();

/// Measured streaming-read bandwidth from DRAM in GB/s with `threads` threads
/// (a buffer much larger than the last-level cache, summed).
double measureReadBandwidthGBs(int threads);

/// Evicts the caches: writes and reads a buffer several times the size of
/// any last-level cache, so that the next kernel reads its data from DRAM.
void evictCaches();

/// Wakes the OpenMP thread pool with an empty parallel region of `threads`
/// threads, so that the next parallel region finds its threads awake rather
/// than asleep in the kernel. qlow's kernels and oneDNN share one pool here:
/// libomp precedes libgomp in qlow-bench's search order and exports GOMP's
/// entry points too, so oneDNN's `GOMP_parallel` calls bind to libomp.
void wakeOpenMpThreads(int threads);

} // namespace qlow::bench

#endif // QLOW_BENCH_MACHINE_H
