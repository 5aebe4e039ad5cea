// The kernel's large buffers, from a cache of freed blocks.
//
// Shapes: T steps, B rows, G gates, H hidden units. A call's buffers (per-step states, gates and their
// gradients: several (T, B, G*H) arrays) fresh from the system allocator had every page faulted in anew: at
// (T, B, I, H) = (100, 32, 64, 128) with layer norm that was ~10k page faults and over half the time of a
// training step. Training repeats the same shapes, so freed blocks are kept, keyed by exact size, and reused as
// they are; the cache holds at most kCacheBytes and is emptied when a block does not fit, so a change of shapes
// does not strand memory.
// Header-only (one cache for the whole extension: a function-local static of an inline function), so that it
// costs no translation unit of its own.
#pragma once

#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace lstmkit {

class BlockCache {
 public:
  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* block = it->second.back();
        it->second.pop_back();
        cached_ -= bytes;
        return block;
      }
    }
    void* block = nullptr;
    if (posix_memalign(&block, 64, bytes) != 0) throw std::bad_alloc();
    return block;
  }

  void give(void* block, size_t bytes) {
    std::vector<void*> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_ + bytes > kCacheBytes) {  // full: let everything cached go, keep the newest
        for (auto& [size, blocks] : free_) dropped.insert(dropped.end(), blocks.begin(), blocks.end());
        free_.clear();
        cached_ = 0;
      }
      if (bytes <= kCacheBytes) {
        free_[bytes].push_back(block);
        cached_ += bytes;
        block = nullptr;
      }
    }
    for (void* old : dropped) std::free(old);
    std::free(block);
  }

 private:
  static constexpr size_t kCacheBytes = size_t(1) << 30;
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;  // bytes -> free blocks of that size
  size_t cached_ = 0;
};

inline BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache();  // never destroyed: tensors may be freed after static destructors
  return *cache;
}

// at::empty, with blocks from 64 KiB up taken from (and returned to) the cache
inline at::Tensor buffer(at::IntArrayRef sizes, const at::TensorOptions& options) {
  const size_t bytes =
      size_t(c10::multiply_integers(sizes)) * c10::elementSize(c10::typeMetaToScalarType(options.dtype()));
  if (bytes < (size_t(1) << 16)) return at::empty(sizes, options);
  void* block = block_cache().take(bytes);
  return at::from_blob(block, sizes, [bytes](void* freed) { block_cache().give(freed, bytes); }, options);
}

}  // namespace lstmkit
