#pragma once
// A few threads of their own for slow, bounded work: the admin's SQL
// queries. A query may take its whole time limit (10 s); on these threads it
// never holds one of the HTTP worker threads that every agent request needs.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tailsweep::coordinator {

class TaskQueue {
 public:
  TaskQueue(int threads, std::size_t max_waiting);
  ~TaskQueue();  // runs what is already queued, then joins
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  // False, and the task dropped, when max_waiting tasks wait already (the
  // caller answers "busy, retry"). A task must not throw.
  bool post(std::function<void()> task);

 private:
  void run();

  std::size_t max_waiting_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tailsweep::coordinator
