#pragma once
// Captured CUDA Graphs of a time loop, kept by the bytes of the kernel
// parameters baked into them (a description of the network's buffers), so a
// run with the same buffers replays its graph instead of capturing again.
#include <array>
#include <cstddef>
#include <cstring>
#include <vector>

#include <spikegraph/cuda/runtime.hpp>

#include <spikegraph/cuda/cuda_error.hpp>

namespace spikegraph::cuda_backend {

// At most this many steps are captured in one graph; a run launches its graph
// ceil(T / steps_per_launch) times.
inline constexpr int steps_per_launch = 256;

// ceil(T / steps_per_launch) launches of equal length, so at most launches - 1
// captured steps overrun the example's end (the kernels skip them).
inline int graph_launches(int timesteps) { return (timesteps + steps_per_launch - 1) / steps_per_launch; }
inline int steps_per_graph(int timesteps) { return (timesteps + graph_launches(timesteps) - 1) / graph_launches(timesteps); }

template <class Key>
class GraphCache {
public:
    static constexpr std::size_t capacity = 4;

    GraphCache() { graphs_.reserve(capacity); }
    GraphCache(const GraphCache&) = delete;
    GraphCache& operator=(const GraphCache&) = delete;
    ~GraphCache() { release(); }

    // The graph for `key`, captured on `stream` by capture(stream) the first time.
    template <class Capture>
    cudaGraphExec_t get(const Key& key, cudaStream_t stream, const char* what, Capture&& capture) {
        std::array<unsigned char, sizeof(Key)> bytes;
        std::memcpy(bytes.data(), &key, sizeof key);
        for (auto& cached : graphs_)
            if (cached.key == bytes) return cached.exec;
        cudaGraph_t graph = nullptr;
        // The launches' errors are read after the capture: none from before may remain.
        (void)cudaGetLastError();
        check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), std::string("cudaStreamBeginCapture of ") + what);
        capture(stream);
        const cudaError_t launched = cudaGetLastError();
        const cudaError_t captured = cudaStreamEndCapture(stream, &graph);
        cudaGraphExec_t exec = nullptr;
        cudaError_t instantiated = cudaErrorStreamCaptureInvalidated;
        if (launched == cudaSuccess && captured == cudaSuccess) instantiated = cudaGraphInstantiate(&exec, graph, 0);
        if (graph) cudaGraphDestroy(graph);
        check(launched, std::string("launching the kernels of ") + what + " for capture");
        check(captured, std::string("cudaStreamEndCapture of ") + what);
        check(instantiated, std::string("cudaGraphInstantiate of ") + what);
        if (graphs_.size() == capacity) {
            cudaGraphExecDestroy(graphs_.front().exec);
            graphs_.erase(graphs_.begin());
        }
        graphs_.push_back({bytes, exec});
        return exec;
    }

    void release() noexcept {
        for (auto& cached : graphs_) cudaGraphExecDestroy(cached.exec);
        graphs_.clear();
    }

private:
    struct Cached {
        std::array<unsigned char, sizeof(Key)> key;
        cudaGraphExec_t exec;
    };
    std::vector<Cached> graphs_;
};

}  // namespace spikegraph::cuda_backend
