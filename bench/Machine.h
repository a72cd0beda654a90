//===- Machine.h - machine figures measured by qlow-bench -------*- C++ -*-===//
//
// The ceilings that kernel figures are judged against, measured in the same
// run: the vpdpbusd issue rate and the streaming-read bandwidth.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_BENCH_MACHINE_H
#define QLOW_BENCH_MACHINE_H

#include <cstddef>
#include <cstdint>

namespace qlow::bench {

/// Measured peak of `vpdpbusd zmm` on one core in GOPS (2 ops per MAC, 64
/// MACs per instruction), or 0 when the CPU lacks AVX-512 VNNI.
double measureVnniPeakGops();

/// Measured peak on one core, in GOPS, of the AVX2 int8 dot product that
/// CPUs without VNNI use (vpmaddubsw + vpmaddwd by ones + vpaddd on ymm: 32
/// MACs), or 0 without AVX2.
double measureAvx2Int8PeakGops();

/// Measured rate on one core, in GOPS (2 ops per multiply-add), of the AVX2
/// int8 sequence issued beside f32 FMAs, two int8 multiplies per FMA (see
/// avx2FmaMixLoop in Machine.cpp), or 0 without AVX2 and FMA. Above
/// measureAvx2Int8PeakGops where the two kinds of multiply share only some
/// pipes: the headroom of a mixed int8 / exact-f32 kernel.
double measureAvx2FmaMixGops();

/// Whether this CPU has an int8 dot product with i32 accumulation (AVX-512
/// VNNI or AVX-VNNI). Without one, oneDNN 2.6 and ONNX Runtime multiply
/// u8 x s8 with vpmaddubsw, which saturates pairs of full-range products.
bool hostHasVnni();

/// Memory for a streaming read: `bytes` bytes (rounded up to whole pages,
/// and to whole 2 MiB pages with `hugePages`) from mmap, each 64-bit word 1.
/// With `hugePages` the range is 2 MiB-aligned and advised MADV_HUGEPAGE
/// before it is filled, as the JIT places a kernel's large constants
/// (qlow/JIT/HugePageMapper.h); without, it is on 4 KB pages
/// (MADV_NOHUGEPAGE, whatever the THP mode).
class PageBuffer {
public:
  PageBuffer(size_t bytes, bool hugePages);
  ~PageBuffer();
  PageBuffer(const PageBuffer &) = delete;
  PageBuffer &operator=(const PageBuffer &) = delete;

  int64_t *data() const { return words; }
  /// "2m" when /proc/self/smaps reports at least 90% of the buffer's
  /// whole 2 MB pages as AnonHugePages, else "4k".
  const char *pages() const;

private:
  int64_t *words = nullptr;
  void *mapping = nullptr;
  size_t mappedBytes = 0;
};

/// "2m" when /proc/self/smaps reports at least 90% of the whole 2 MB pages
/// inside [`data`, `data` + `bytes`) as AnonHugePages, else "4k".
const char *pageKind(const void *data, size_t bytes);

/// Measured streaming-read bandwidth from DRAM in GB/s with `threads` threads
/// (a 512 MiB buffer, much larger than the last-level cache, summed; the best
/// of three sweeps), on 2 MB pages when `hugePages`. `pages`, when given,
/// receives the page size the buffer really had ("2m" or "4k").
double measureReadBandwidthGBs(int threads, bool hugePages = true,
                               const char **pages = nullptr);

/// Evicts the caches: reads a buffer several times the size of any
/// last-level cache, so that the next kernel reads its data from DRAM and
/// finds the caches full of clean lines (no write-back competes with it).
void evictCaches();

/// Seconds to read `bytes` bytes (a multiple of 256, 64-byte aligned) at
/// `data` once with `threads` OpenMP threads, each summing a contiguous
/// share with zmm loads (64-bit scalar loads without AVX-512); the sum of
/// the 64-bit words goes to `sum`, which keeps the loads alive. Timed with
/// caches evicted before it, this is the streaming read of exactly the
/// bytes a kernel streams, under the kernel's protocol.
double timeRead(const void *data, size_t bytes, int threads, int64_t *sum);

/// Wakes the OpenMP thread pool with an empty parallel region of `threads`
/// threads, so that the next parallel region finds its threads awake rather
/// than asleep in the kernel. qlow's kernels and oneDNN share one pool here:
/// libomp precedes libgomp in qlow-bench's search order and exports GOMP's
/// entry points too, so oneDNN's `GOMP_parallel` calls bind to libomp.
void wakeOpenMpThreads(int threads);

} // namespace qlow::bench

#endif // QLOW_BENCH_MACHINE_H
