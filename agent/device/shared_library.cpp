#include "agent/device/shared_library.h"

#include <dlfcn.h>

namespace tailsweep {

std::shared_ptr<const SharedLibrary> SharedLibrary::open(const std::string& name,
                                                         std::string* error) {
  // RTLD_LOCAL: the vendor's symbols stay out of the global namespace.
  void* handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    if (error != nullptr) *error = why != nullptr ? why : name + ": cannot be loaded";
    return nullptr;
  }
  return std::shared_ptr<const SharedLibrary>(new SharedLibrary(name, handle));
}

SharedLibrary::~SharedLibrary() { ::dlclose(handle_); }

void* SharedLibrary::address(const char* symbol) const { return ::dlsym(handle_, symbol); }

}  // namespace tailsweep
