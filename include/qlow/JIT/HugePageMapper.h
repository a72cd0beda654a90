//===- HugePageMapper.h - JIT constants on 2 MB pages -----------*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// A memory mapper for the JIT's section memory manager that gives large
// read-only data sections (a kernel's packed weights are LLVM global
// constants, so they land in .rodata) memory of their own, aligned to 2 MiB
// and advised MADV_HUGEPAGE, so that the kernel streams them through 2 MB
// TLB entries instead of one 4 KB entry per page.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_JIT_HUGEPAGEMAPPER_H
#define QLOW_JIT_HUGEPAGEMAPPER_H

#include "llvm/ExecutionEngine/SectionMemoryManager.h"

#include <cstddef>
#include <map>
#include <mutex>
#include <vector>

namespace mlir {
namespace qlow {

/// Bytes of one transparent huge page on x86-64 (and AArch64 with 4 KB base
/// pages).
constexpr size_t kHugePageBytes = size_t(2) << 20;

/// How the JIT places the memory of compiled code and constants.
struct JITMemoryOptions {
  /// Read-only data sections of at least `hugePageThreshold` bytes get a
  /// mapping of their own: 2 MiB-aligned, a whole number of 2 MiB pages,
  /// madvise(MADV_HUGEPAGE). Where the OS has no transparent huge pages
  /// (not Linux, or THP `never`) this does nothing; where madvise fails the
  /// mapping stays, on 4 KB pages. The environment variable
  /// QLOW_JIT_HUGE_PAGES=0 turns it off for any tool, for A/B measurements.
  bool hugePages = true;
  /// The smallest read-only section that gets huge pages.
  size_t hugePageThreshold = kHugePageBytes;
};

/// Whether this process can ask for transparent huge pages with madvise:
/// Linux, and /sys/kernel/mm/transparent_hugepage/enabled is `always` or
/// `madvise`.
bool transparentHugePagesAvailable();

/// A private anonymous mapping of `bytes` rounded up to whole 2 MiB pages
/// (the rounded size in `size`), starting on a 2 MiB boundary, with the
/// mmap protection `protection` (PROT_* bits), near `hint` when that is
/// free, advised MADV_HUGEPAGE before its first touch (`advised`: whether
/// that worked; 4 KB pages otherwise). Null where the address space is not
/// there or the OS has no MADV_HUGEPAGE; release it with munmap(base, size).
void *mapHugePageAligned(size_t bytes, int protection, void *hint,
                         size_t &size, bool &advised);

/// Bytes of [`data`, `data` + `bytes`) that /proc/self/smaps reports as
/// AnonHugePages: for each mapping that overlaps the range, its huge-page
/// bytes, at most the overlap. 0 where smaps cannot be read.
size_t residentHugePageBytes(const void *data, size_t bytes);

/// The MemoryMapper of llvm::SectionMemoryManager (one per JIT-loaded
/// object) that places large read-only data sections on 2 MB pages; every
/// other request goes to llvm::sys::Memory as with the default mapper.
///
/// A large section's mapping is protected as a whole: mprotect of a part of
/// a 2 MB page splits it into 4 KB pages, and the section memory manager
/// protects each section's own bytes. This is sound because a mapping is
/// only ever carved into read-only sections of one object, which the
/// manager protects together once they are all loaded.
class HugePageSectionMapper final
    : public llvm::SectionMemoryManager::MemoryMapper {
public:
  /// A large section's mapping.
  struct Mapping {
    void *base;
    /// A multiple of kHugePageBytes.
    size_t size;
    /// The bytes the section memory manager asked for.
    size_t requested;
    /// Whether madvise(MADV_HUGEPAGE) succeeded on it.
    bool advised;
  };

  /// Sections of `threshold` bytes or more get huge pages when `enabled` and
  /// the OS supports them.
  explicit HugePageSectionMapper(size_t threshold = kHugePageBytes,
                                 bool enabled = true);
  ~HugePageSectionMapper() override;

  llvm::sys::MemoryBlock
  allocateMappedMemory(llvm::SectionMemoryManager::AllocationPurpose purpose,
                       size_t numBytes,
                       const llvm::sys::MemoryBlock *const nearBlock,
                       unsigned flags, std::error_code &ec) override;
  std::error_code protectMappedMemory(const llvm::sys::MemoryBlock &block,
                                      unsigned flags) override;
  std::error_code releaseMappedMemory(llvm::sys::MemoryBlock &block) override;

  /// Whether large sections get mappings of their own (enabled and
  /// supported).
  bool active() const { return isActive; }
  /// The large sections' mappings that are live now.
  std::vector<Mapping> largeMappings() const;

private:
  size_t threshold;
  bool isActive;
  mutable std::mutex mutex;
  /// Large mappings by base address.
  std::map<const char *, Mapping> mappings;
};

} // namespace qlow
} // namespace mlir

#endif // QLOW_JIT_HUGEPAGEMAPPER_H
