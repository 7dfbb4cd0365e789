#include "coordinator/service/write_batcher.h"

#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "coordinator/service/lease_waiters.h"
#include "coordinator/store/sqlite.h"

namespace tailsweep::coordinator {
namespace {

// Large enough to amortise a commit over many operations, small enough that
// the first answer of a batch does not wait long for the last operation.
constexpr std::size_t kMaxBatch = 256;

// Why a write failed, and what to do about it.
struct StorageTrouble {
  std::string cause;
  std::string hint;
};
StorageTrouble cause_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const store::SqliteError& sqlite) {
    return {sqlite.what(), sqlite.disk_full() ? "the disk under it is full: free space there" : ""};
  } catch (const std::exception& other) {
    return {other.what(), ""};
  } catch (...) {
    return {"an unknown error", ""};
  }
}

// The database's own trouble (a full disk, an I/O error) behind an
// operation's error, if that is what it is.
std::optional<StorageTrouble> storage_trouble(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const store::SqliteError& sqlite) {
    if (sqlite.storage_unavailable()) return cause_of(error);
  } catch (...) {
  }
  return std::nullopt;
}

}  // namespace

WriteBatcher::WriteBatcher(const std::string& db_path, std::function<void()> after_commit)
    : store_(store::Store::open(db_path)),
      health_(db_path),
      after_commit_(std::move(after_commit)),
      thread_([this] { run(); }) {}

WriteBatcher::~WriteBatcher() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void WriteBatcher::submit(Operation operation, http::Responder responder, bool may_make_work,
                          Otherwise otherwise) {
  {
    const std::lock_guard lock(mutex_);
    queue_.push_back(
        Pending{std::move(operation), std::move(responder), may_make_work, std::move(otherwise)});
  }
  wake_.notify_one();
}

void WriteBatcher::submit_task(std::function<void(store::Store&)> task, bool may_make_work) {
  Operation operation = [task = std::move(task)](store::Store& store) {
    task(store);
    return std::optional<http::Response>(http::json_response(200, nullptr));
  };
  {
    const std::lock_guard lock(mutex_);
    queue_.push_back(Pending{std::move(operation), std::nullopt, may_make_work, {}});
  }
  wake_.notify_one();
}

void WriteBatcher::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return;
    std::deque<Pending> batch;
    while (!queue_.empty() && batch.size() < kMaxBatch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    run_batch(batch);
    lock.lock();
  }
}

void WriteBatcher::run_batch(std::deque<Pending>& batch) {
  std::vector<std::optional<http::Response>> answers;
  answers.reserve(batch.size());
  const int64_t changes_before = store_.database().total_changes();
  std::optional<StorageTrouble> trouble;  // an operation's, in a batch that still commits
  try {
    store::Transaction transaction(store_.database());
    for (Pending& pending : batch) {
      try {
        answers.push_back(pending.operation(store_));
      } catch (...) {
        // Its savepoint is already rolled back; the others' work stands.
        // The database's own trouble is 503 database_unavailable, which
        // agents retry, not a 500 that reads like a bug.
        if (auto found = storage_trouble(std::current_exception())) {
          answers.push_back(http::error_response(
              ErrorCode::kDatabaseUnavailable,
              fmt::format("the database cannot store this now ({}); retry", found->cause)));
          trouble = std::move(found);
        } else {
          answers.push_back(http::error_response_for(std::current_exception()));
        }
        // Some errors (I/O, a full disk) make SQLite end the whole
        // transaction: then nothing of the batch is stored.
        if (!store_.database().in_transaction()) throw;
      }
    }
    transaction.commit();
    const double now_s = unix_now_s();
    std::optional<std::string> line;
    if (trouble) {
      line = health_.failed(trouble->cause, trouble->hint, 1, now_s);
    } else if (store_.database().total_changes() > changes_before) {
      // Only a commit that stored something shows the database takes
      // writes again: one whose every write was refused commits nothing.
      line = health_.committed(now_s);
    }
    if (line) fmt::print(stderr, "{}\n", *line);
  } catch (...) {
    // Nothing of the batch is stored: every operation is answered as failed,
    // and agents retry (their results are still on their disks).
    const auto [cause, hint] = cause_of(std::current_exception());
    if (const auto line = health_.failed(cause, hint, batch.size(), unix_now_s())) {
      fmt::print(stderr, "{}\n", *line);
    }
    answers.assign(batch.size(),
                   http::error_response(ErrorCode::kDatabaseUnavailable,
                                        fmt::format("the database could not commit ({}); retry",
                                                    cause)));
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!batch[i].responder) {
      // While commits fail, health_ speaks for the maintenance writes too.
      if (answers[i] && answers[i]->status >= 400 && !health_.failing()) {
        fmt::print(stderr, "tailsweep: a maintenance write failed: {}\n", answers[i]->body);
      }
    } else if (answers[i]) {
      batch[i].responder->send(std::move(*answers[i]));
    } else if (batch[i].otherwise) {
      batch[i].otherwise(*batch[i].responder);
    } else {
      batch[i].responder->send(
          http::error_response(ErrorCode::kInternal, "the operation gave no answer"));
    }
  }
  bool may_make_work = false;
  for (const Pending& pending : batch) may_make_work = may_make_work || pending.may_make_work;
  if (may_make_work && after_commit_) after_commit_();
}

}  // namespace tailsweep::coordinator
