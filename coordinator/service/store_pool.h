#pragma once
// One SQLite connection per thread on the same database file: a Store is not
// thread-safe, and WAL mode lets the readers of several connections run
// alongside one writer (busy_timeout queues the writers).
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "coordinator/store/store.h"

namespace tailsweep::coordinator {

class StorePool {
 public:
  explicit StorePool(std::string path) : path_(std::move(path)) {}
  StorePool(const StorePool&) = delete;
  StorePool& operator=(const StorePool&) = delete;

  // This thread's connection, opened on first use.
  store::Store& local() {
    const std::lock_guard lock(mutex_);
    auto& slot = stores_[std::this_thread::get_id()];
    if (!slot) slot = std::make_unique<store::Store>(store::Store::open(path_));
    return *slot;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mutex_;
  std::unordered_map<std::thread::id, std::unique_ptr<store::Store>> stores_;
};

}  // namespace tailsweep::coordinator
