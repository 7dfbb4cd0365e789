#include "agent/fleet/result_outbox.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include "common/util/errors.h"
#include "common/wire/strict_json.h"

namespace tailsweep::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kPrefix = "job-";
constexpr std::string_view kSuffix = ".json";
constexpr std::string_view kTempSuffix = ".tmp";

// Closes a descriptor on every path out (RAII).
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting the error close() may carry for a written file.
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

// Removes a temporary file unless it was renamed into place: a write that
// failed part way (a full disk) leaves nothing behind to keep the disk full.
class TempFile {
 public:
  explicit TempFile(fs::path path) : path_(std::move(path)) {}
  ~TempFile() {
    std::error_code ignored;
    if (!kept_) fs::remove(path_, ignored);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const fs::path& path() const { return path_; }
  void keep() { kept_ = true; }

 private:
  fs::path path_;
  bool kept_ = false;
};

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

void write_all(int fd, std::string_view bytes, const fs::path& path) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_errno(fmt::format("cannot write {}", path.string()));
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

// A rename is durable only once the folder's entry is on disk too.
void sync_folder(const fs::path& folder) {
  const FileDescriptor fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    throw_errno(fmt::format("cannot sync {}", folder.string()));
  }
}

bool is_outbox_file(const fs::path& path) {
  const std::string name = path.filename().string();
  return name.starts_with(kPrefix) && name.ends_with(kSuffix);
}

PendingResult read_pending(const fs::path& path) {
  std::ifstream stream(path);
  if (!stream) throw std::runtime_error("cannot open it");
  std::ostringstream text;
  text << stream.rdbuf();
  const json body = parse_strict_json(text.str(), "the file");  // InputError
  PendingResult entry;
  entry.job_id = body.at("job_id").get<int64_t>();
  entry.lease_id = body.at("lease_id").get<std::string>();
  entry.result = body.at("result");
  if (!entry.result.is_object()) throw std::runtime_error("its result is not an object");
  entry.file = path;
  return entry;
}

void move_into(const fs::path& file, const fs::path& folder) {
  fs::create_directories(folder);
  fs::rename(file, folder / file.filename());
}

}  // namespace

std::string outbox_file_name(int64_t job_id, const std::string& lease_id) {
  std::string safe = lease_id;
  for (char& c : safe) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_';
    if (!keep) c = '_';
  }
  return fmt::format("{}{}-{}{}", kPrefix, job_id, safe.substr(0, 100), kSuffix);
}

ResultOutbox::ResultOutbox(fs::path folder) : folder_(std::move(folder)) {
  std::error_code error;
  fs::create_directories(folder_, error);
  if (error || !fs::is_directory(folder_)) {
    throw InputError(fmt::format("cannot create the outbox {}: {}", folder_.string(),
                                 error ? error.message() : "not a folder"));
  }
  // Results may carry file paths and host facts: keep them to the owner.
  fs::permissions(folder_, fs::perms::owner_all, fs::perm_options::replace, error);
  for (const fs::directory_entry& entry : fs::directory_iterator(folder_)) {
    if (entry.path().filename().string().ends_with(kTempSuffix)) fs::remove(entry.path(), error);
  }
}

fs::path ResultOutbox::put(int64_t job_id, const std::string& lease_id, const json& result) {
  const fs::path final_path = folder_ / outbox_file_name(job_id, lease_id);
  // A dot name: never listed as pending, even if the rename never happens.
  TempFile temp(folder_ / fmt::format(".{}{}", final_path.filename().string(), kTempSuffix));
  const fs::path& temp_path = temp.path();
  const std::string text =
      json{{"job_id", job_id}, {"lease_id", lease_id}, {"result", result}}.dump() + "\n";
  {
    FileDescriptor fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd.get() < 0) throw_errno(fmt::format("cannot create {}", temp_path.string()));
    write_all(fd.get(), text, temp_path);
    if (::fsync(fd.get()) != 0) throw_errno(fmt::format("cannot sync {}", temp_path.string()));
    if (fd.close() != 0) throw_errno(fmt::format("cannot close {}", temp_path.string()));
  }
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    throw_errno(fmt::format("cannot rename {} to {}", temp_path.string(), final_path.string()));
  }
  temp.keep();
  sync_folder(folder_);
  return final_path;
}

OutboxScan ResultOutbox::pending() {
  OutboxScan scan;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder_)) {
    if (!entry.is_regular_file() || !is_outbox_file(entry.path())) continue;
    try {
      scan.results.push_back(read_pending(entry.path()));
    } catch (const std::exception& error) {
      std::string where = "moved to " + rejected_folder().string();
      try {
        move_into(entry.path(), rejected_folder());
      } catch (const fs::filesystem_error& move_error) {
        where = fmt::format("left in place: {}", move_error.what());
      }
      scan.problems.push_back(fmt::format("{} is not a pending result ({}); {}",
                                          entry.path().string(), error.what(), where));
    }
  }
  std::sort(scan.results.begin(), scan.results.end(),
            [](const PendingResult& a, const PendingResult& b) {
              return a.job_id != b.job_id ? a.job_id < b.job_id : a.file < b.file;
            });
  return scan;
}

void ResultOutbox::remove(const PendingResult& entry) {
  fs::remove(entry.file);
  sync_folder(folder_);
}

void ResultOutbox::set_aside(const PendingResult& entry) {
  move_into(entry.file, rejected_folder());
  sync_folder(folder_);
}

fs::path default_state_root() {
  if (const char* state_home = std::getenv("XDG_STATE_HOME");
      state_home != nullptr && *state_home == '/') {
    return fs::path(state_home) / "tailsweep-agent";
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    throw InputError("HOME is not set: pass --state-dir for the agent's outbox");
  }
  return fs::path(home) / ".local" / "state" / "tailsweep-agent";
}

StateDirLock::StateDirLock(const fs::path& state_dir) {
  std::error_code error;
  fs::create_directories(state_dir, error);
  if (error) {
    throw InputError(
        fmt::format("cannot create the state folder {}: {}", state_dir.string(), error.message()));
  }
  const fs::path lock_path = state_dir / "agent.lock";
  fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw InputError(fmt::format("cannot open {}: {}", lock_path.string(), std::strerror(errno)));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int reason = errno;
    ::close(fd_);
    fd_ = -1;
    throw InputError(
        reason == EWOULDBLOCK
            ? fmt::format("another agent is using the state folder {}: is one already "
                          "running as this device? Give each agent its own --name (or "
                          "--state-dir)",
                          state_dir.string())
            : fmt::format("cannot lock {}: {}", lock_path.string(), std::strerror(reason)));
  }
}

StateDirLock::~StateDirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace tailsweep::agent
