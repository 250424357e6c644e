#pragma once
#include <cstddef>
#include <string>

#include <spikegraph/cuda/runtime.hpp>

#include <spikegraph/error.hpp>

namespace spikegraph {

// A failure of the CUDA runtime: no device, out of device memory, a failed
// launch. The message names the operation that failed and CUDA's own reason.
class CudaError : public Error {
public:
    CudaError(const std::string& operation, cudaError_t status)
        : Error("spikegraph cuda backend: " + operation + " failed: " + cudaGetErrorName(status) + " (" +
                cudaGetErrorString(status) + ")"),
          status_(status) {}
    explicit CudaError(const std::string& message) : Error("spikegraph cuda backend: " + message) {}
    cudaError_t status() const { return status_; }

private:
    cudaError_t status_ = cudaErrorUnknown;
};

namespace cuda_backend {

// Throws CudaError naming `operation` unless status is cudaSuccess. The
// runtime also keeps a failed call's error as the thread's last error; it is
// cleared here, so that a later cudaGetLastError() after a launch does not
// report this failure again, under that launch's name, once a caller has
// caught it.
inline void check(cudaError_t status, const std::string& operation) {
    if (status != cudaSuccess) {
        (void)cudaGetLastError();
        throw CudaError(operation, status);
    }
}

// The device the simulator will use; throws a CudaError that says so when
// there is none (or no driver), before any allocation is attempted.
inline int require_device() {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
        (void)cudaGetLastError();  // clear the sticky error so later calls are not confused by it
        throw CudaError("no usable CUDA device: cudaGetDeviceCount failed: " + std::string(cudaGetErrorName(status)) +
                        " (" + cudaGetErrorString(status) + "); use the cpu backend on machines without a GPU");
    }
    if (count == 0) throw CudaError("no CUDA device found; use the cpu backend on machines without a GPU");
    int device = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    return device;
}

// Makes `device` current for a scope and restores the caller's device after,
// so a simulator keeps working when the calling thread switches devices.
class DeviceGuard {
public:
    explicit DeviceGuard(int device) {
        check(cudaGetDevice(&previous_), "cudaGetDevice");
        if (previous_ != device) check(cudaSetDevice(device), "cudaSetDevice(" + std::to_string(device) + ")");
    }
    DeviceGuard(const DeviceGuard&) = delete;
    DeviceGuard& operator=(const DeviceGuard&) = delete;
    ~DeviceGuard() {
        int current = previous_;
        if (cudaGetDevice(&current) == cudaSuccess && current != previous_) cudaSetDevice(previous_);
    }

private:
    int previous_ = 0;
};

}  // namespace cuda_backend
}  // namespace spikegraph
