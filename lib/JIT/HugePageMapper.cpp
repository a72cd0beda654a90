//===- HugePageMapper.cpp - JIT memory for large constants on 2 MB pages --===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// A decode-shaped kernel (M = 1) reads each weight byte once per call, from
// DRAM, and is bound by how fast memory streams. On 4 KB pages it also walks
// one page table entry per 4 KB and the hardware prefetchers stop at every
// 4 KB boundary; a 2 MB page removes both (on this workplace's Zen machines
// a plain read went from 29-31 to 39-40 GB/s). Transparent huge pages in
// `madvise` mode need a 2 MiB-aligned range and madvise(MADV_HUGEPAGE)
// before its first touch, which the default section mapper does not give.
//
//===----------------------------------------------------------------------===//

#include "qlow/JIT/HugePageMapper.h"

#include "llvm/Support/Memory.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#if defined(__linux__)
#include <sys/mman.h>
#endif

using namespace mlir;
using namespace mlir::qlow;
using llvm::sys::Memory;
using llvm::sys::MemoryBlock;

bool mlir::qlow::transparentHugePagesAvailable() {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  static const bool available = [] {
    std::ifstream file("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string line;
    if (!file || !std::getline(file, line))
      return false;
    return line.find("[always]") != std::string::npos ||
           line.find("[madvise]") != std::string::npos;
  }();
  return available;
#else
  return false;
#endif
}

size_t mlir::qlow::residentHugePageBytes(const void *data, size_t bytes) {
#if defined(__linux__)
  std::ifstream smaps("/proc/self/smaps");
  if (!smaps)
    return 0;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data);
  const uintptr_t end = begin + bytes;
  size_t total = 0, overlap = 0;
  std::string line;
  while (std::getline(smaps, line)) {
    uintptr_t low = 0, high = 0;
    // A mapping's header: "low-high perms offset dev inode [path]".
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR " ", &low, &high) ==
            2 &&
        line.find(':') > line.find(' ')) {
      uintptr_t from = std::max(low, begin), to = std::min(high, end);
      overlap = from < to ? to - from : 0;
      continue;
    }
    unsigned long long kb = 0;
    if (overlap &&
        std::sscanf(line.c_str(), "AnonHugePages: %llu kB", &kb) == 1)
      total += std::min<size_t>(static_cast<size_t>(kb) * 1024, overlap);
  }
  return total;
#else
  (void)data;
  (void)bytes;
  return 0;
#endif
}

void *mlir::qlow::mapHugePageAligned(size_t bytes, int protection,
                                     void *hint, size_t &size,
                                     bool &advised) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  size = (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  // One spare page of address space aligns the start; it goes back at once.
  const size_t reserved = size + kHugePageBytes;
  void *raw = ::mmap(hint, reserved, protection, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
  if (raw == MAP_FAILED)
    return nullptr;
  char *start = static_cast<char *>(raw);
  char *aligned = reinterpret_cast<char *>(
      (reinterpret_cast<uintptr_t>(start) + kHugePageBytes - 1) &
      ~uintptr_t(kHugePageBytes - 1));
  if (aligned != start)
    ::munmap(start, aligned - start);
  if (size_t tail = start + reserved - (aligned + size))
    ::munmap(aligned + size, tail);
  advised = ::madvise(aligned, size, MADV_HUGEPAGE) == 0;
  return aligned;
#else
  (void)bytes;
  (void)protection;
  (void)hint;
  size = 0;
  advised = false;
  return nullptr;
#endif
}

HugePageSectionMapper::HugePageSectionMapper(size_t threshold, bool enabled)
    : threshold(threshold),
      isActive(enabled && transparentHugePagesAvailable()) {}

HugePageSectionMapper::~HugePageSectionMapper() {
  // The section memory managers release their blocks before the mapper goes;
  // whatever is left (a JIT that was leaked after a crash) stays mapped.
}

#if defined(__linux__)
/// PROT_* bits for llvm::sys::Memory's MF_* flags.
static int protectionOf(unsigned flags) {
  int prot = PROT_NONE;
  if (flags & Memory::MF_READ)
    prot |= PROT_READ;
  if (flags & Memory::MF_WRITE)
    prot |= PROT_WRITE;
  if (flags & Memory::MF_EXEC)
    prot |= PROT_EXEC;
  return prot;
}
#endif

MemoryBlock HugePageSectionMapper::allocateMappedMemory(
    llvm::SectionMemoryManager::AllocationPurpose purpose, size_t numBytes,
    const MemoryBlock *const nearBlock, unsigned flags, std::error_code &ec) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (isActive && numBytes >= threshold &&
      purpose == llvm::SectionMemoryManager::AllocationPurpose::ROData) {
    // Whole 2 MB pages, so that no other data shares the mapping; near the
    // manager's other blocks, as the default mapper asks, in case the code
    // model wants data within 2 GB of code. madvise before the first touch:
    // the JIT's copy of the section then faults in 2 MB pages (a failure
    // leaves an ordinary mapping, which still works).
    void *hint = nullptr;
    if (nearBlock && nearBlock->base())
      hint = reinterpret_cast<void *>(
          (reinterpret_cast<uintptr_t>(nearBlock->base()) +
           nearBlock->allocatedSize() + kHugePageBytes - 1) &
          ~uintptr_t(kHugePageBytes - 1));
    size_t size = 0;
    bool advised = false;
    if (void *aligned = mapHugePageAligned(numBytes, protectionOf(flags), hint,
                                           size, advised)) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        mappings[static_cast<const char *>(aligned)] =
            Mapping{aligned, size, numBytes, advised};
      }
      ec = std::error_code();
      // Exactly the bytes asked for: the manager hands out what it is told
      // is there, and must not place anything after finalization in a range
      // this mapper protects as a whole.
      return MemoryBlock(aligned, numBytes);
    }
    // No address space for the aligned mapping: an ordinary one below.
  }
#else
  (void)purpose;
#endif
  return Memory::allocateMappedMemory(numBytes, nearBlock, flags, ec);
}

std::error_code
HugePageSectionMapper::protectMappedMemory(const MemoryBlock &block,
                                           unsigned flags) {
#if defined(__linux__)
  {
    std::lock_guard<std::mutex> lock(mutex);
    const char *base = static_cast<const char *>(block.base());
    auto it = mappings.upper_bound(base);
    if (it != mappings.begin()) {
      --it;
      const Mapping &mapping = it->second;
      if (base < static_cast<const char *>(mapping.base) + mapping.size) {
        // The whole mapping: a partial mprotect would split its 2 MB pages.
        if (::mprotect(mapping.base, mapping.size, protectionOf(flags)) != 0)
          return std::error_code(errno, std::generic_category());
        return std::error_code();
      }
    }
  }
#endif
  return Memory::protectMappedMemory(block, flags);
}

std::error_code HugePageSectionMapper::releaseMappedMemory(MemoryBlock &block) {
#if defined(__linux__)
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = mappings.find(static_cast<const char *>(block.base()));
    if (it != mappings.end()) {
      int rc = ::munmap(it->second.base, it->second.size);
      mappings.erase(it);
      block = MemoryBlock();
      if (rc != 0)
        return std::error_code(errno, std::generic_category());
      return std::error_code();
    }
  }
#endif
  return Memory::releaseMappedMemory(block);
}

std::vector<HugePageSectionMapper::Mapping>
HugePageSectionMapper::largeMappings() const {
  std::lock_guard<std::mutex> lock(mutex);
  std::vector<Mapping> result;
  for (const auto &entry : mappings)
    result.push_back(entry.second);
  return result;
}
