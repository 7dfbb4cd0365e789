#pragma once
// A shared library opened at run time (dlopen) and closed with its last
// owner. For the GPU vendors' libraries (libcuda, libnvidia-ml): nothing links
// them, so one binary runs on machines with and without a GPU, and tests load
// fake libraries that they build instead.
#include <memory>
#include <string>

namespace tailsweep {

class SharedLibrary {
 public:
  // nullptr when the library cannot be loaded; *error then says why
  // (dlerror's text, which names the file).
  static std::shared_ptr<const SharedLibrary> open(const std::string& name, std::string* error);

  ~SharedLibrary();
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  const std::string& name() const { return name_; }

  // The function `symbol`, as type Fn; nullptr when the library lacks it.
  template <typename Fn>
  Fn function(const char* symbol) const {
    return reinterpret_cast<Fn>(address(symbol));
  }

 private:
  SharedLibrary(std::string name, void* handle) : name_(std::move(name)), handle_(handle) {}
  void* address(const char* symbol) const;

  std::string name_;
  void* handle_;
};

}  // namespace tailsweep
