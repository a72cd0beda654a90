//===- Machine.cpp - machine figures measured by qlow-bench ---------------===//
//
// A measuring instrument, not a kernel: the peak loop is written with
// intrinsics on purpose, to find the ceiling qlow's generated code is held to.
//
//===----------------------------------------------------------------------===//

#include "Machine.h"

#include "qlow/JIT/HugePageMapper.h"

#include <immintrin.h>
#include <atomic>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include <sys/mman.h>

using namespace qlow::bench;

namespace {
double seconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// 12 independent accumulator chains, enough to cover vpdpbusd's latency.
__attribute__((target("avx512f,avx512vnni"), noinline)) int64_t
vnniLoop(int64_t iterations) {
  __m512i acc[12];
  for (auto &a : acc)
    a = _mm512_set1_epi32(1);
  __m512i x = _mm512_set1_epi32(0x01020304), y = _mm512_set1_epi32(0x05060708);
  for (int64_t i = 0; i < iterations; ++i) {
    for (auto &a : acc)
      a = _mm512_dpbusd_epi32(a, x, y);
    asm volatile("" : "+v"(x), "+v"(y));
  }
  __m512i sum = acc[0];
  for (int j = 1; j < 12; ++j)
    sum = _mm512_add_epi32(sum, acc[j]);
  return _mm512_reduce_add_epi32(sum);
}

/// The sum of the 8 i32 lanes of `v` (what keeps a peak loop's work alive).
__attribute__((target("avx2"))) int64_t laneSum(__m256i v) {
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i *>(lanes), v);
  int64_t total = 0;
  for (int32_t lane : lanes)
    total += lane;
  return total;
}

/// The AVX2 int8 dot product of 4 without VNNI, as qlow's and oneDNN's
/// AVX2 kernels issue it: vpmaddubsw, vpmaddwd by ones, vpaddd (32 MACs per
/// three instructions, two of them multiplies). Six chains on distinct
/// operands (identical ones would let the compiler share the multiplies);
/// the multiplies are off the accumulators' chains, so six cover the
/// latency.
__attribute__((target("avx2"), noinline)) int64_t avx2Loop(int64_t iterations) {
  constexpr int kChains = 6;
  __m256i acc[kChains], x[kChains];
  for (int j = 0; j < kChains; ++j) {
    acc[j] = _mm256_set1_epi32(1);
    x[j] = _mm256_set1_epi32(0x01020304 + j);
  }
  __m256i y = _mm256_set1_epi32(0x05060708), ones = _mm256_set1_epi16(1);
  for (int64_t i = 0; i < iterations; ++i) {
    for (int j = 0; j < kChains; ++j)
      acc[j] = _mm256_add_epi32(
          acc[j], _mm256_madd_epi16(_mm256_maddubs_epi16(x[j], y), ones));
    asm volatile(""
                 : "+x"(x[0]), "+x"(x[1]), "+x"(x[2]), "+x"(x[3]), "+x"(x[4]),
                   "+x"(x[5]), "+x"(y));
  }
  __m256i sum = acc[0];
  for (int j = 1; j < kChains; ++j)
    sum = _mm256_add_epi32(sum, acc[j]);
  return laneSum(sum);
}

/// The AVX2 int8 sequence above beside f32 FMAs, two of its multiplies per
/// FMA: four vpmaddubsw + vpmaddwd + vpaddd chains and four FMA chains
/// (four cover the FMA's latency at one per cycle), 14 ymm registers. Were
/// integer multiplies and FMAs to share only some of their pipes, the mix
/// would issue more multiply-adds per cycle than the int8 sequence alone,
/// and a kernel could compute part of an int8 matmul's columns exactly in
/// f32 (products of 8-bit integers, and their sums below 2^24, are exact).
/// On Zen 3 it does not: without the vpaddd, 16 multiplies and 8 FMAs issue
/// in 8 cycles, but with it the FP side sustains about 3 operations per
/// cycle, and the mix measures about 0.94 of the int8 sequence's rate.
__attribute__((target("avx2,fma"), noinline)) int64_t
avx2FmaMixLoop(int64_t iterations) {
  constexpr int kChains = 4;
  __m256i acc[kChains], x[2];
  __m256 facc[kChains];
  for (int j = 0; j < kChains; ++j) {
    acc[j] = _mm256_set1_epi32(1);
    facc[j] = _mm256_set1_ps(1.0f);
  }
  x[0] = _mm256_set1_epi32(0x01020304);
  x[1] = _mm256_set1_epi32(0x01020305);
  __m256i y = _mm256_set1_epi32(0x05060708), ones = _mm256_set1_epi16(1);
  __m256 a = _mm256_set1_ps(1.0f), b = _mm256_set1_ps(0.0f);
  for (int64_t i = 0; i < iterations; ++i) {
    for (int j = 0; j < kChains; ++j) {
      acc[j] = _mm256_add_epi32(
          acc[j], _mm256_madd_epi16(_mm256_maddubs_epi16(x[j & 1], y), ones));
      facc[j] = _mm256_fmadd_ps(a, b, facc[j]);
      // x[j & 1] "changes": chains 0 and 2 (1 and 3) must not share their
      // multiplies.
      asm volatile("" : "+x"(x[j & 1]));
    }
    asm volatile("" : "+x"(x[0]), "+x"(x[1]), "+x"(y), "+x"(a), "+x"(b));
  }
  __m256i sum = acc[0];
  __m256 fsum = facc[0];
  for (int j = 1; j < kChains; ++j) {
    sum = _mm256_add_epi32(sum, acc[j]);
    fsum = _mm256_add_ps(fsum, facc[j]);
  }
  return laneSum(sum) + laneSum(_mm256_cvttps_epi32(fsum));
}

/// The fastest of many short runs of `loop` (about 0.3 ms each): a run that
/// another process preempts is simply not the best, where three 0.3 s runs
/// on a shared machine all lost time to others (454 instead of ~1070 GOPS
/// under load, and a best share of peak above 1).
template <typename Loop>
double bestGops(Loop loop, int64_t iterations, double opsPerIteration) {
  double best = 0.0;
  for (int rep = 0; rep < 400; ++rep) {
    double start = seconds();
    volatile int64_t sink = loop(iterations);
    (void)sink;
    double elapsed = seconds() - start;
    best = std::max(best, iterations * opsPerIteration / elapsed / 1e9);
  }
  return best;
}
} // namespace

bool qlow::bench::hostHasVnni() {
  return __builtin_cpu_supports("avx512vnni") ||
         __builtin_cpu_supports("avxvnni");
}

double qlow::bench::measureVnniPeakGops() {
  if (!__builtin_cpu_supports("avx512vnni"))
    return 0.0;
  return bestGops(vnniLoop, 200'000, 12.0 * 64 * 2);
}

double qlow::bench::measureAvx2Int8PeakGops() {
  if (!__builtin_cpu_supports("avx2"))
    return 0.0;
  return bestGops(avx2Loop, 200'000, 6.0 * 32 * 2);
}

double qlow::bench::measureAvx2FmaMixGops() {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    return 0.0;
  // Per iteration: 4 x 32 int8 MACs and 4 x 8 f32 FMAs, 2 ops each.
  return bestGops(avx2FmaMixLoop, 200'000, 4.0 * 32 * 2 + 4.0 * 8 * 2);
}

qlow::bench::PageBuffer::PageBuffer(size_t bytes, bool hugePages) {
  bool advised = false;
  if (hugePages)
    mapping = mlir::qlow::mapHugePageAligned(bytes, PROT_READ | PROT_WRITE,
                                             nullptr, mappedBytes, advised);
  if (!mapping) {
    // 4 KB pages, asked for explicitly (MADV_NOHUGEPAGE), or the fallback
    // where no aligned mapping was to be had; pages() says which it got.
    mappedBytes = (bytes + 4095) / 4096 * 4096;
    mapping = ::mmap(nullptr, mappedBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) {
      mapping = nullptr;
      throw std::bad_alloc();
    }
#ifdef MADV_NOHUGEPAGE
    if (!hugePages)
      (void)::madvise(mapping, mappedBytes, MADV_NOHUGEPAGE);
#endif
  }
  words = static_cast<int64_t *>(mapping);
  std::fill_n(words, mappedBytes / sizeof(int64_t), int64_t(1));
}

qlow::bench::PageBuffer::~PageBuffer() { ::munmap(mapping, mappedBytes); }

const char *qlow::bench::PageBuffer::pages() const {
  // The whole mapping: on 2 MB pages it is whole pages even where the
  // buffer is smaller than one.
  return pageKind(mapping, mappedBytes);
}

const char *qlow::bench::pageKind(const void *data, size_t bytes) {
  const uintptr_t huge = mlir::qlow::kHugePageBytes;
  uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + huge - 1) & ~(huge - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(huge - 1);
  if (end <= begin)
    return "4k";
  size_t resident = mlir::qlow::residentHugePageBytes(
      reinterpret_cast<const void *>(begin), end - begin);
  return resident >= 0.9 * (end - begin) ? "2m" : "4k";
}

double qlow::bench::measureReadBandwidthGBs(int threads, bool hugePages,
                                            const char **pages) {
  const size_t count = size_t(512) << 20 >> 3; // 512 MiB of int64
  PageBuffer storage(count * sizeof(int64_t), hugePages);
  const int64_t *buffer = storage.data();
  if (pages)
    *pages = storage.pages();
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    int64_t total = 0;
    double start = seconds();
#pragma omp parallel for num_threads(threads) reduction(+ : total) schedule(static)
    for (size_t i = 0; i < count; ++i)
      total += buffer[i];
    double elapsed = seconds() - start;
    // The sum is what keeps the loads alive; a wrong one means no figure.
    if (total != static_cast<int64_t>(count))
      return 0.0;
    best = std::max(best, count * sizeof(int64_t) / elapsed / 1e9);
  }
  return best;
}

void qlow::bench::evictCaches() {
  // Read, not written: a written buffer leaves the caches full of dirty
  // lines, and the next call's reads then share DRAM with their write-back
  // (up to the 34 MB of L2 and L3 here). A decoder's caches hold the clean
  // weights of the layers before. The buffer is filled once, so that its
  // pages are real ones and not the shared zero page.
  static std::vector<int64_t> buffer(size_t(256) << 20 >> 3, 1);
  static volatile int64_t sink = 0;
  int64_t total = 0;
  for (size_t i = 0; i < buffer.size(); i += 8)
    total += buffer[i];
  sink = sink + total;
}

namespace {
/// Sums `bytes` (a multiple of 256) from `data` (64-byte aligned) with four
/// independent chains of zmm loads.
__attribute__((target("avx512f"), noinline)) int64_t
sumAvx512(const char *data, size_t bytes) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < bytes; i += 256) {
    a0 = _mm512_add_epi64(a0, _mm512_load_si512(data + i));
    a1 = _mm512_add_epi64(a1, _mm512_load_si512(data + i + 64));
    a2 = _mm512_add_epi64(a2, _mm512_load_si512(data + i + 128));
    a3 = _mm512_add_epi64(a3, _mm512_load_si512(data + i + 192));
  }
  return _mm512_reduce_add_epi64(
      _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)));
}

int64_t sumScalar(const char *data, size_t bytes) {
  const int64_t *words = reinterpret_cast<const int64_t *>(data);
  int64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (size_t i = 0; i < bytes / 8; i += 4) {
    a0 += words[i];
    a1 += words[i + 1];
    a2 += words[i + 2];
    a3 += words[i + 3];
  }
  return a0 + a1 + a2 + a3;
}
} // namespace

double qlow::bench::timeRead(const void *data, size_t bytes, int threads,
                             int64_t *sum) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  const char *base = static_cast<const char *>(data);
  const size_t blocks = bytes / 256;
  int64_t total = 0;
  double start = seconds();
#pragma omp parallel num_threads(threads) reduction(+ : total)
  {
    // Contiguous shares, as the int4 kernel's static schedule over column
    // panels gives each thread.
    size_t n = omp_get_num_threads(), id = omp_get_thread_num();
    size_t begin = blocks * id / n, end = blocks * (id + 1) / n;
    const char *from = base + 256 * begin;
    size_t length = 256 * (end - begin);
    total += avx512 ? sumAvx512(from, length) : sumScalar(from, length);
  }
  double elapsed = seconds() - start;
  *sum = total;
  return elapsed;
}

void qlow::bench::wakeOpenMpThreads(int threads) {
  static std::atomic<int> arrived{0};
#pragma omp parallel num_threads(threads)
  arrived.fetch_add(1, std::memory_order_relaxed);
}
