#pragma once
// Host emulation of the CUDA runtime and device built-ins the backend uses,
// for tests only (define SPIKEGRAPH_CUDA_HOST_EMULATION and compile the CUDA
// backend as plain C++). Every thread of a block runs as a fiber (ucontext) on
// the calling OS thread; __syncthreads switches to the next fiber, so a block's
// threads interleave exactly at barriers, as on a GPU; __syncwarp (and
// __shfl_sync and __ballot_sync, built on it) waits only for the 32 threads of
// its warp. Blocks run one after another, so `__shared__` variables can be
// function statics. A barrier that some threads of a block (or warp) reach
// while others have returned is reported as an error (undefined behaviour on a
// GPU). Denormals are flushed, as with nvcc's -ftz=true. Streams run their
// work when it is issued; a stream being captured records launches into a
// graph instead.
//
// Nothing about order is promised on a GPU, so the emulation varies it: the
// threads between two barriers run in ascending order in one round and
// descending in the next, and every other launch of a kernel runs its blocks
// from the last to the first. Code that leans on an order (a read of shared memory
// another thread writes without a barrier between, one block reading what
// another writes) then gives different results in different places and the
// comparison with the CPU fails. As on a GPU, a launch with an invalid
// configuration does not run and leaves cudaErrorInvalidConfiguration for
// cudaGetLastError, failing runtime calls leave their error there too, and
// allocation, copies and synchronisation are refused while a stream is
// being captured (cudaErrorStreamCaptureUnsupported).
//
// It checks the kernels' indexing, ordering and barriers, and the simulator's
// host logic; it says nothing about real device behaviour or speed, and it
// cannot see a block read `__shared__` memory it never wrote (the statics
// keep the previous block's values, a GPU gives garbage).
#include <ucontext.h>

#include <spikegraph/cpu/denormals.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

// Device qualifiers and built-ins.
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __grid_constant__
#define __launch_bounds__(...)

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace spikegraph::cuda_emulation {

struct BlockState {
    dim3 block_index, grid_dim, block_dim;
    unsigned current = 0;  // the fiber running now
    std::vector<std::uint64_t> shuffle;  // per thread
};
inline BlockState& block_state() {
    static BlockState state;
    return state;
}

// Switches stacks: saves the callee-saved registers and the stack pointer of
// the running context in *save, resumes the context whose stack pointer is
// `load`. glibc's swapcontext also saves the signal mask, a system call per
// switch, which made emulated tests a hundred times slower.
#if defined(__x86_64__)
extern "C" void spikegraph_emulation_switch(void** save, void* load);
asm(R"(
    .text
    .weak spikegraph_emulation_switch
    .type spikegraph_emulation_switch, @function
spikegraph_emulation_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size spikegraph_emulation_switch, .-spikegraph_emulation_switch
)");
#endif

// The fibers of one block and the scheduler that interleaves them at barriers.
class BlockScheduler {
public:
    static BlockScheduler& instance() {
        static BlockScheduler scheduler;
        return scheduler;
    }

    // Runs every ready fiber until it waits or returns; then releases each
    // warp whose threads all wait at __syncwarp, or else, once every thread
    // waits at __syncthreads, the block.
    void run(unsigned threads, const std::function<void()>& body) {
        body_ = &body;
        if (fibers_.size() < threads) fibers_.resize(threads);
        for (unsigned t = 0; t < threads; ++t) start(fibers_[t]);
        for (bool descending = false;; descending = !descending) {
            for (unsigned n = 0; n < threads; ++n) {
                const unsigned t = descending ? threads - 1 - n : n;
                if (fibers_[t].state != State::ready) continue;
                block_state().current = t;
                resume(fibers_[t]);
            }
            if (release_warps(threads)) continue;
            unsigned waiting = 0, done = 0;
            for (unsigned t = 0; t < threads; ++t) (fibers_[t].state == State::done ? done : waiting) += 1;
            if (waiting == 0) return;
            if (done != 0)
                throw std::logic_error("cuda host emulation: __syncthreads reached by " + std::to_string(waiting) +
                                       " threads of a block while " + std::to_string(done) + " had returned");
            for (unsigned t = 0; t < threads; ++t) fibers_[t].state = State::ready;
        }
    }

    void barrier() { wait(State::at_barrier); }
    void warp_barrier() { wait(State::at_warp_barrier); }

private:
    enum class State { ready, at_barrier, at_warp_barrier, done };

    void wait(State state) {
        Fiber& fiber = fibers_[block_state().current];
        fiber.state = state;
        suspend(fiber);
    }
    // Readies each warp all of whose threads wait at __syncwarp; a warp where
    // some do while others wait at __syncthreads or have returned is an error.
    bool release_warps(unsigned threads) {
        bool released = false;
        for (unsigned first = 0; first < threads; first += 32) {
            const unsigned last = first + 32 < threads ? first + 32 : threads;
            unsigned at_warp = 0;
            for (unsigned t = first; t < last; ++t) at_warp += fibers_[t].state == State::at_warp_barrier;
            if (at_warp == 0) continue;
            if (at_warp != last - first)
                throw std::logic_error("cuda host emulation: __syncwarp reached by " + std::to_string(at_warp) + " of the " +
                                       std::to_string(last - first) + " threads of warp " + std::to_string(first / 32));
            for (unsigned t = first; t < last; ++t) fibers_[t].state = State::ready;
            released = true;
        }
        return released;
    }
    static constexpr std::size_t stack_size = 256 * 1024;
    struct Fiber {
        std::unique_ptr<char[]> stack;
        State state = State::done;
#if defined(__x86_64__)
        void* stack_pointer = nullptr;
#else
        ucontext_t context{};
#endif
    };

    static void entry() {
        BlockScheduler& self = instance();
        (*self.body_)();
        Fiber& fiber = self.fibers_[block_state().current];
        fiber.state = State::done;
        self.suspend(fiber);  // never resumed
    }

#if defined(__x86_64__)
    void start(Fiber& fiber) {
        if (!fiber.stack) fiber.stack = std::make_unique<char[]>(stack_size);
        // The first switch pops six zeroed registers and returns into entry()
        // with the stack aligned as after a call (rsp = 8 mod 16).
        auto top = reinterpret_cast<std::uintptr_t>(fiber.stack.get() + stack_size) & ~std::uintptr_t{15};
        auto* slots = reinterpret_cast<void**>(top);
        slots[-1] = nullptr;                                   // entry()'s return address: never used
        slots[-2] = reinterpret_cast<void*>(&BlockScheduler::entry);
        for (int r = 3; r <= 8; ++r) slots[-r] = nullptr;      // rbp rbx r12 r13 r14 r15
        fiber.stack_pointer = slots - 8;
        fiber.state = State::ready;
    }
    void resume(Fiber& fiber) { spikegraph_emulation_switch(&scheduler_, fiber.stack_pointer); }
    void suspend(Fiber& fiber) { spikegraph_emulation_switch(&fiber.stack_pointer, scheduler_); }
    void* scheduler_ = nullptr;
#else
    void start(Fiber& fiber) {
        if (!fiber.stack) fiber.stack = std::make_unique<char[]>(stack_size);
        getcontext(&fiber.context);
        fiber.context.uc_stack.ss_sp = fiber.stack.get();
        fiber.context.uc_stack.ss_size = stack_size;
        fiber.context.uc_link = &scheduler_;
        makecontext(&fiber.context, &BlockScheduler::entry, 0);
        fiber.state = State::ready;
    }
    void resume(Fiber& fiber) { swapcontext(&scheduler_, &fiber.context); }
    void suspend(Fiber& fiber) { swapcontext(&fiber.context, &scheduler_); }
    ucontext_t scheduler_{};
#endif

    std::vector<Fiber> fibers_;
    const std::function<void()>* body_ = nullptr;
};

struct Index {
    unsigned x, y, z;
};

}  // namespace spikegraph::cuda_emulation

#define threadIdx (::spikegraph::cuda_emulation::Index{::spikegraph::cuda_emulation::block_state().current, 0u, 0u})
#define blockIdx (::spikegraph::cuda_emulation::block_state().block_index)
#define gridDim (::spikegraph::cuda_emulation::block_state().grid_dim)
#define blockDim (::spikegraph::cuda_emulation::block_state().block_dim)

inline void __syncthreads() { ::spikegraph::cuda_emulation::BlockScheduler::instance().barrier(); }

inline void __syncwarp(unsigned = 0xffffffffu) { ::spikegraph::cuda_emulation::BlockScheduler::instance().warp_barrier(); }

// Every thread of the warp posts its value, then reads the source thread's.
template <class T>
T __shfl_sync(unsigned, T value, int source) {
    static_assert(sizeof(T) <= sizeof(std::uint64_t) && std::is_trivially_copyable_v<T>);
    auto& state = ::spikegraph::cuda_emulation::block_state();
    const unsigned thread = state.current;
    std::memcpy(&state.shuffle[thread], &value, sizeof value);
    __syncwarp();
    T result;
    std::memcpy(&result, &state.shuffle[thread / 32 * 32 + unsigned(source) % 32], sizeof result);
    __syncwarp();  // every thread has read before any posts again
    return result;
}

// Every thread of the warp posts its predicate, then reads the warp's.
inline unsigned __ballot_sync(unsigned, int predicate) {
    auto& state = ::spikegraph::cuda_emulation::block_state();
    const unsigned thread = state.current;
    state.shuffle[thread] = predicate != 0;
    __syncwarp();
    const unsigned first = thread / 32 * 32;
    const unsigned last = first + 32 < state.shuffle.size() ? first + 32 : unsigned(state.shuffle.size());
    unsigned word = 0;
    for (unsigned t = first; t < last; ++t) word |= unsigned(state.shuffle[t] != 0) << (t - first);
    __syncwarp();  // every thread has read before any posts again
    return word;
}

inline unsigned long long atomicAdd(unsigned long long* address, unsigned long long value) {
    const unsigned long long old = *address;  // one OS thread: no other writer can interleave here
    *address = old + value;
    return old;
}

inline int __ffs(int x) { return x == 0 ? 0 : __builtin_ctz(unsigned(x)) + 1; }

inline float atomicAdd(float* address, float value) {
    const float old = *address;
    *address = old + value;
    return old;
}

namespace cub {
// BlockScan's ExclusiveSum, written out with its one internal barrier. As
// with CUB, a block must pass a barrier before it reuses the TempStorage.
template <class T, int Threads>
class BlockScan {
public:
    struct TempStorage {
        T values[Threads];
    };
    explicit BlockScan(TempStorage& storage) : storage_(storage) {}
    void ExclusiveSum(T input, T& output, T& aggregate) {
        const unsigned thread = threadIdx.x;
        storage_.values[thread] = input;
        __syncthreads();
        T running{};
        for (unsigned t = 0; t < thread; ++t) running += storage_.values[t];
        output = running;
        for (unsigned t = thread; t < unsigned(Threads); ++t) running += storage_.values[t];
        aggregate = running;
    }

private:
    TempStorage& storage_;
};
}  // namespace cub

// The runtime API subset the backend calls.
enum cudaError_t {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorStreamCaptureUnsupported = 900,
    cudaErrorStreamCaptureInvalidated = 901,
    cudaErrorUnknown = 999,
};
enum cudaMemcpyKind { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2, cudaMemcpyDeviceToDevice = 3 };
enum cudaStreamCaptureMode { cudaStreamCaptureModeGlobal = 0, cudaStreamCaptureModeThreadLocal = 1 };
inline constexpr unsigned cudaStreamNonBlocking = 1;

struct EmulatedGraph {
    std::vector<std::function<void()>> work;
};
struct EmulatedStream {
    bool capturing = false;
    std::vector<std::function<void()>> captured;
};
using cudaStream_t = EmulatedStream*;
using cudaGraph_t = EmulatedGraph*;
using cudaGraphExec_t = EmulatedGraph*;

inline const char* cudaGetErrorName(cudaError_t error) {
    switch (error) {
        case cudaSuccess: return "cudaSuccess";
        case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
        case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
        case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
        case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
        case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
        default: return "cudaErrorUnknown";
    }
}
inline const char* cudaGetErrorString(cudaError_t error) { return cudaGetErrorName(error); }

namespace spikegraph::cuda_emulation {
// The runtime's per-thread last error: set by every failing call and by a
// launch that cannot run, returned and cleared by cudaGetLastError.
inline cudaError_t& last_error() {
    thread_local cudaError_t error = cudaSuccess;
    return error;
}
inline cudaError_t fail(cudaError_t error) {
    last_error() = error;
    return error;
}
// Streams being captured (the backend captures in thread-local mode; the
// emulation runs on one thread).
inline int& capturing_streams() {
    thread_local int count = 0;
    return count;
}
// Allocation, copies and synchronisation are refused while a stream is being
// captured: a GPU refuses the first and the last, and the emulation, which
// runs copies when they are issued, cannot capture the second. The error,
// or cudaSuccess when no stream is being captured.
inline cudaError_t refusal_during_capture() {
    return capturing_streams() != 0 ? fail(cudaErrorStreamCaptureUnsupported) : cudaSuccess;
}
}  // namespace spikegraph::cuda_emulation

inline cudaError_t cudaGetLastError() { return std::exchange(::spikegraph::cuda_emulation::last_error(), cudaSuccess); }
inline cudaError_t cudaGetDeviceCount(int* count) {
    *count = 1;
    return cudaSuccess;
}
inline cudaError_t cudaGetDevice(int* device) {
    *device = 0;
    return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int device) {
    return device == 0 ? cudaSuccess : ::spikegraph::cuda_emulation::fail(cudaErrorInvalidValue);
}
inline cudaError_t cudaMalloc(void** pointer, std::size_t bytes) {
    *pointer = nullptr;
    if (const cudaError_t refused = ::spikegraph::cuda_emulation::refusal_during_capture()) return refused;
    *pointer = std::malloc(bytes);
    if (*pointer == nullptr) return ::spikegraph::cuda_emulation::fail(cudaErrorMemoryAllocation);
    std::memset(*pointer, 0xA5, bytes);  // garbage, as cudaMalloc gives, so unset state shows
    return cudaSuccess;
}
inline cudaError_t cudaFree(void* pointer) {
    if (const cudaError_t refused = ::spikegraph::cuda_emulation::refusal_during_capture()) return refused;
    std::free(pointer);
    return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void* target, const void* source, std::size_t bytes, cudaMemcpyKind, cudaStream_t) {
    if (const cudaError_t refused = ::spikegraph::cuda_emulation::refusal_during_capture()) return refused;
    std::memcpy(target, source, bytes);
    return cudaSuccess;
}
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
    *stream = new EmulatedStream;
    return cudaSuccess;
}
inline cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    delete stream;
    return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) {
    if (const cudaError_t refused = ::spikegraph::cuda_emulation::refusal_during_capture()) return refused;
    return cudaSuccess;
}
inline cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode) {
    if (stream->capturing) return ::spikegraph::cuda_emulation::fail(cudaErrorInvalidValue);
    stream->capturing = true;
    ++::spikegraph::cuda_emulation::capturing_streams();
    stream->captured.clear();
    return cudaSuccess;
}
inline cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
    if (!stream->capturing) return ::spikegraph::cuda_emulation::fail(cudaErrorInvalidValue);
    stream->capturing = false;
    --::spikegraph::cuda_emulation::capturing_streams();
    *graph = new EmulatedGraph{std::move(stream->captured)};
    return cudaSuccess;
}
inline cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
    *exec = new EmulatedGraph(*graph);
    return cudaSuccess;
}
inline cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
    delete graph;
    return cudaSuccess;
}
inline cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
    delete exec;
    return cudaSuccess;
}
inline cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
    if (stream->capturing) return ::spikegraph::cuda_emulation::fail(cudaErrorInvalidValue);
    for (const auto& work : exec->work) work();
    return cudaSuccess;
}

namespace spikegraph::cuda_backend {

template <class... Parameters, class... Arguments>
void launch_kernel(void (*kernel)(Parameters...), dim3 grid, dim3 block, cudaStream_t stream, Arguments&&... arguments) {
    // The emulation has one thread index (threadIdx.y and .z are 0).
    if (block.y != 1 || block.z != 1) throw std::logic_error("cuda host emulation: launches of 2-D or 3-D blocks are not emulated");
    // The limits of every device since compute capability 3.0.
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535 || block.x == 0 ||
        block.x > 1024) {
        cuda_emulation::fail(cudaErrorInvalidConfiguration);
        return;
    }
    static bool descending_blocks = false;
    auto run = [=] {
        cpu_backend::FlushDenormalsGuard flush;  // as nvcc -ftz=true, which spikegraph::cuda sets
        auto& state = cuda_emulation::block_state();
        state.grid_dim = grid;
        state.block_dim = block;
        state.shuffle.assign(block.x, 0u);
        descending_blocks = !descending_blocks;
        auto order = [](unsigned n, unsigned count) { return descending_blocks ? count - 1 - n : n; };
        for (unsigned z = 0; z < grid.z; ++z)
            for (unsigned y = 0; y < grid.y; ++y)
                for (unsigned x = 0; x < grid.x; ++x) {
                    state.block_index = dim3(order(x, grid.x), order(y, grid.y), order(z, grid.z));
                    const std::function<void()> body = [&] { kernel(arguments...); };
                    cuda_emulation::BlockScheduler::instance().run(block.x, body);
                }
    };
    if (stream != nullptr && stream->capturing) stream->captured.push_back(run);
    else run();
}

}  // namespace spikegraph::cuda_backend
