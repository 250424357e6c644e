#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <utility>

#include <spikegraph/cuda/runtime.hpp>

#include <spikegraph/cuda/cuda_error.hpp>

namespace spikegraph::cuda_backend {

// An owning device array of T. Allocation failure (out of device memory)
// throws a CudaError naming the buffer and its size. It is freed on the
// device it was allocated on, whichever device is current then (a
// simulator's members are destroyed after its destructor has given the
// caller's device back).
template <class T>
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(std::size_t count, const std::string& what) { allocate(count, what); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    DeviceBuffer(DeviceBuffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), count_(std::exchange(other.count_, 0)), device_(other.device_) {}
    DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
        if (this != &other) {
            release();
            data_ = std::exchange(other.data_, nullptr);
            count_ = std::exchange(other.count_, 0);
            device_ = other.device_;
        }
        return *this;
    }
    ~DeviceBuffer() { release(); }

    // Replaces the contents with `count` uninitialised elements.
    void allocate(std::size_t count, const std::string& what) {
        release();
        if (count == 0) return;
        void* memory = nullptr;
        const cudaError_t status = cudaMalloc(&memory, count * sizeof(T));
        if (status != cudaSuccess) {
            (void)cudaGetLastError();
            throw CudaError("cudaMalloc of " + std::to_string(count * sizeof(T)) + " bytes for " + what, status);
        }
        data_ = static_cast<T*>(memory);
        count_ = count;
        if (cudaGetDevice(&device_) != cudaSuccess) {
            (void)cudaGetLastError();
            device_ = -1;  // unknown: freed on whichever device is current
        }
    }
    // Grows (never shrinks) to at least `count` elements, by half again to
    // amortise; returns whether the address changed. Contents are not kept.
    bool reserve(std::size_t count, const std::string& what) {
        if (count <= count_) return false;
        allocate(count_ == 0 ? count : count + count / 2, what);
        return true;
    }

    // Copies on `stream` and waits for the copy, so the host buffer may change
    // afterwards and work queued on `stream` before it is ordered with it.
    void upload(std::span<const T> host, const std::string& what, cudaStream_t stream, std::size_t offset = 0) {
        if (host.empty()) return;
        if (offset + host.size() > count_)
            throw CudaError("upload of " + what + " overflows its device buffer (" + std::to_string(offset + host.size()) +
                            " > " + std::to_string(count_) + " elements)");
        check(cudaMemcpyAsync(data_ + offset, host.data(), host.size_bytes(), cudaMemcpyHostToDevice, stream),
              "cudaMemcpyAsync to the device of " + what);
        check(cudaStreamSynchronize(stream), "copying " + what + " to the device");
    }
    void download(std::span<T> host, const std::string& what, cudaStream_t stream, std::size_t offset = 0) const {
        if (host.empty()) return;
        if (offset + host.size() > count_)
            throw CudaError("download of " + what + " reads past its device buffer (" +
                            std::to_string(offset + host.size()) + " > " + std::to_string(count_) + " elements)");
        check(cudaMemcpyAsync(host.data(), data_ + offset, host.size_bytes(), cudaMemcpyDeviceToHost, stream),
              "cudaMemcpyAsync from the device of " + what);
        check(cudaStreamSynchronize(stream), "copying " + what + " from the device");
    }

    T* data() const { return data_; }
    std::size_t size() const { return count_; }

private:
    void release() noexcept {
        if (data_) {
            int current = device_;
            const bool switch_device = device_ >= 0 && cudaGetDevice(&current) == cudaSuccess && current != device_ &&
                                       cudaSetDevice(device_) == cudaSuccess;
            cudaFree(data_);
            if (switch_device) cudaSetDevice(current);
        }
        data_ = nullptr;
        count_ = 0;
    }
    T* data_ = nullptr;
    std::size_t count_ = 0;
    int device_ = -1;  // where data_ was allocated
};

}  // namespace spikegraph::cuda_backend
