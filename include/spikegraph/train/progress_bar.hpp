#pragma once
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

#include <unistd.h>

#include <spikegraph/train/callback.hpp>

namespace spikegraph {

// A one-line progress bar with running metrics on stderr (or another FILE*),
// redrawn in place on a terminal; elsewhere (logs, CI) it prints only the
// final line of each run (one line per training epoch), as Keras's verbose=2.
class ProgressBar {
public:
    explicit ProgressBar(std::FILE* stream = stderr, int width = 30) : stream_(stream), width_(width) {}

    void on_run_begin(const RunInfo& info) {
        info_ = info;
        phase_ = std::string(info.phase);
        start_ = std::chrono::steady_clock::now();
        interactive_ = isatty(fileno(stream_)) != 0;
        examples_done_ = 0;
        draw(0, {}, false);
    }
    template <class Simulator>
    void on_batch_end(std::size_t batch, const BatchResult<Simulator>& result) {
        examples_done_ = result.first_example + result.lanes;
        if (batch + 1 < info_.num_batches) draw(batch + 1, result.metrics_so_far, false);  // the last: on_run_end
    }
    void on_run_end(const Metrics& metrics) { draw(info_.num_batches, metrics, true); }

private:
    void draw(std::size_t done, const Metrics& metrics, bool final) {
        const std::size_t total = info_.num_batches == 0 ? 1 : info_.num_batches;
        if (!interactive_ && !final) return;
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        const int filled = int(double(done) / double(total) * width_);
        std::string bar(std::size_t(width_), ' ');
        for (int i = 0; i < filled && i < width_; ++i) bar[std::size_t(i)] = '=';
        if (filled < width_) bar[std::size_t(filled)] = '>';
        std::string text = phase_ + " [" + bar + "] " + std::to_string(done) + "/" + std::to_string(total);
        char buffer[96];
        std::snprintf(buffer, sizeof buffer, " %.1fs", seconds);
        text += buffer;
        if (seconds > 0.0 && examples_done_ > 0) {
            std::snprintf(buffer, sizeof buffer, " %.0f examples/s", double(examples_done_) / seconds);
            text += buffer;
        }
        for (const auto& [name, value] : metrics) {
            std::snprintf(buffer, sizeof buffer, "  %s %.4f", name.c_str(), value);
            text += buffer;
        }
        std::fprintf(stream_, interactive_ ? "\r%s%s" : "%s%s", text.c_str(),
                     final || !interactive_ ? "\n" : "");
        std::fflush(stream_);
    }

    std::FILE* stream_;
    int width_;
    RunInfo info_{};
    std::string phase_;
    std::chrono::steady_clock::time_point start_{};
    bool interactive_ = false;
    std::size_t examples_done_ = 0;
};

}  // namespace spikegraph
