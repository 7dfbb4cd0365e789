#pragma once
// Finished results on disk until the coordinator has them. A result is
// written here (atomically: temp file, fsync, rename, fsync of the folder)
// before it is posted, and removed only once the coordinator answered for
// good, so an hour of measurement survives an agent crash, a reboot and a
// coordinator outage. One file per (job, lease): job-<id>-<lease>.json,
// holding {"job_id", "lease_id", "result"}; the file's content, not its
// name, is what gets posted.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tailsweep::agent {

struct PendingResult {
  int64_t job_id = 0;
  std::string lease_id;
  nlohmann::json result;
  std::filesystem::path file;
};

struct OutboxScan {
  std::vector<PendingResult> results;  // oldest job first
  // Files that could not be read as a pending result; each was moved to
  // rejected/ and is named here with the reason, for the log.
  std::vector<std::string> problems;
};

class ResultOutbox {
 public:
  // Creates the folder (owner-only) if needed and removes temp files left by
  // a write that was cut short (their rename never happened, so they never
  // counted). Throws InputError when the folder cannot be created.
  explicit ResultOutbox(std::filesystem::path folder);

  // Writes the result durably and returns its file. Throws std::runtime_error
  // when the disk refuses (full, read-only): the caller must not post a
  // result it could not keep.
  std::filesystem::path put(int64_t job_id, const std::string& lease_id,
                            const nlohmann::json& result);

  OutboxScan pending();

  // The coordinator has it (or refused it for good): forget it.
  void remove(const PendingResult& entry);
  // The coordinator refused its content: keep it for a person under
  // rejected/, out of the way of later scans.
  void set_aside(const PendingResult& entry);

  const std::filesystem::path& folder() const { return folder_; }
  std::filesystem::path rejected_folder() const { return folder_ / "rejected"; }

 private:
  std::filesystem::path folder_;
};

// "job-12-<lease>.json"; characters of the lease id that do not belong in a
// file name become '_' (the file's content keeps the real id).
std::string outbox_file_name(int64_t job_id, const std::string& lease_id);

// $XDG_STATE_HOME/tailsweep-agent, or ~/.local/state/tailsweep-agent.
// Throws InputError when neither variable is set (pass --state-dir).
std::filesystem::path default_state_root();

// Holds an exclusive lock (flock) on <state dir>/agent.lock for its lifetime,
// so two agents never share one outbox: each would post, and then delete,
// results leased to the other. Throws InputError when another process holds it.
class StateDirLock {
 public:
  explicit StateDirLock(const std::filesystem::path& state_dir);
  ~StateDirLock();
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace tailsweep::agent
