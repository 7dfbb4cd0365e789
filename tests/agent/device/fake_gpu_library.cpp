// A stand-in for libcuda.so.1 and libnvidia-ml.so.1, built by the tests and
// loaded by path, so that GPU facts and NVML power are tested on machines
// without a GPU. It answers like one H100-like GPU; FAKE_GPU_MODE (read at
// every call) makes it fail in the ways a real driver does:
//   no_device    cuInit and nvmlInit_v2 fail (driver present, no GPU usable)
//   no_energy    nvmlDeviceGetTotalEnergyConsumption is not supported (pre-Volta)
//   no_power     neither energy nor power can be read
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

std::string mode() {
  const char* value = std::getenv("FAKE_GPU_MODE");
  return value != nullptr ? value : "";
}

constexpr unsigned char kUuid[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
constexpr const char* kUuidText = "GPU-00010203-0405-0607-0809-0a0b0c0d0e0f";
int device_token = 0;  // its address is the NVML device handle

void copy_text(char* out, int length, const char* text) {
  std::strncpy(out, text, static_cast<std::size_t>(length));
  out[length - 1] = '\0';
}

}  // namespace

extern "C" {

// CUDA driver API (CUresult: 0 success, 100 CUDA_ERROR_NO_DEVICE, 101 invalid device).
int cuInit(unsigned) { return mode() == "no_device" ? 100 : 0; }
int cuGetErrorString(int status, const char** text) {
  *text = status == 100 ? "no CUDA-capable device is detected" : "invalid device ordinal";
  return 0;
}
int cuDriverGetVersion(int* version) {
  *version = 13000;
  return 0;
}
int cuDeviceGetCount(int* count) {
  *count = 1;
  return 0;
}
int cuDeviceGet(int* device, int ordinal) {
  if (ordinal != 0) return 101;
  *device = 0;
  return 0;
}
int cuDeviceGetName(char* name, int length, int) {
  copy_text(name, length, "Fake GPU H100");
  return 0;
}
int cuDeviceGetPCIBusId(char* id, int length, int) {
  copy_text(id, length, "00000000:65:00.0");
  return 0;
}
int cuDeviceGetUuid_v2(unsigned char* uuid, int) {
  std::memcpy(uuid, kUuid, sizeof kUuid);
  return 0;
}
int cuDeviceGetAttribute(int* value, int attribute, int) {
  switch (attribute) {
    case 13:
      *value = 1980000;
      return 0;  // clock rate, kHz
    case 16:
      *value = 132;
      return 0;  // SMs
    case 36:
      *value = 2619000;
      return 0;  // memory clock, kHz
    case 37:
      *value = 5120;
      return 0;  // bus width
    case 38:
      *value = 52428800;
      return 0;  // L2
    case 39:
      *value = 2048;
      return 0;  // threads per SM
    case 75:
      *value = 9;
      return 0;
    case 76:
      *value = 0;
      return 0;
    default:
      return 1;  // CUDA_ERROR_INVALID_VALUE
  }
}
int cuDeviceTotalMem_v2(std::size_t* bytes, int) {
  *bytes = 85520809984ULL;
  return 0;
}

// NVML (nvmlReturn_t: 0 success, 3 not supported, 6 not found, 9 driver not loaded).
int nvmlInit_v2() { return mode() == "no_device" ? 9 : 0; }
int nvmlShutdown() { return 0; }
const char* nvmlErrorString(int status) {
  switch (status) {
    case 3:
      return "Not Supported";
    case 6:
      return "Not Found";
    case 9:
      return "Driver Not Loaded";
    default:
      return "Unknown Error";
  }
}
int nvmlSystemGetDriverVersion(char* version, unsigned length) {
  copy_text(version, static_cast<int>(length), "580.159.04");
  return 0;
}
int nvmlDeviceGetHandleByUUID(const char* uuid, void** device) {
  if (std::strcmp(uuid, kUuidText) != 0) return 6;
  *device = &device_token;
  return 0;
}
int nvmlDeviceGetClockInfo(void*, int clock, unsigned* mhz) {
  *mhz = clock == 1 ? 345 : 2619;
  return 0;
}
int nvmlDeviceGetMaxClockInfo(void*, int clock, unsigned* mhz) {
  *mhz = clock == 1 ? 1980 : 2619;
  return 0;
}
int nvmlDeviceGetTemperature(void*, int, unsigned* celsius) {
  *celsius = 31;
  return 0;
}
int nvmlDeviceGetPerformanceState(void*, unsigned* state) {
  *state = 0;
  return 0;
}
int nvmlDeviceGetEnforcedPowerLimit(void*, unsigned* milliwatts) {
  *milliwatts = 700000;
  return 0;
}
int nvmlDeviceGetPowerUsage(void*, unsigned* milliwatts) {
  if (mode() == "no_power") return 3;
  *milliwatts = 70500;
  return 0;
}
// A steady 250 W since an arbitrary start, on the steady clock.
int nvmlDeviceGetTotalEnergyConsumption(void*, unsigned long long* millijoules) {
  if (mode() == "no_energy" || mode() == "no_power") return 3;
  const auto since = std::chrono::steady_clock::now().time_since_epoch();
  const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(since).count();
  *millijoules = 5000000000ULL + static_cast<unsigned long long>(nanoseconds) / 4000ULL;
  return 0;
}
int nvmlDeviceGetCurrentClocksEventReasons(void*, unsigned long long* reasons) {
  *reasons = 0x1 | 0x4;  // gpu_idle, sw_power_cap
  return 0;
}

}  // extern "C"
