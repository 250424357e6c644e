#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <spikegraph/cpu/denormals.hpp>

namespace spikegraph::cpu_backend {

// A fixed set of worker threads running parallel_for jobs; the calling thread
// takes part, so a pool of one thread runs everything inline. Workers run with
// denormals flushed to zero for their whole life.
//
// Between jobs a worker spins for a short while (spin_time) before it sleeps
// on the condition variable, and so does the caller waiting for the workers:
// a training step runs several short jobs back to back (the lanes, then the
// optimiser's blocks), and waking a sleeping thread costs tens of
// microseconds on a virtual machine. Spinning took 5 % off an EventProp
// training step of the benchmark net at T = 100 on two cores.
class ThreadPool {
public:
    explicit ThreadPool(unsigned threads = 0) {
        if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
        for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
    }
    ~ThreadPool() {
        {
            std::lock_guard lock(mutex_);
            stopping_.store(true, std::memory_order_release);
        }
        wake_.notify_all();
        for (auto& worker : workers_) worker.join();
    }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }

    // Calls body(i) for i in [0, count), spread over the threads; returns when
    // all calls are done. The first exception thrown by a call is rethrown here.
    // Threads claim runs of consecutive indices (about four runs per thread),
    // not single ones: neighbouring indices are usually neighbouring lanes,
    // whose small per-lane arrays share cache lines, and two threads writing
    // the same line in turn (false sharing) cost a forward pass up to a third
    // of its time on two cores.
    template <class Body>
    void parallel_for(std::size_t count, Body&& body) {
        if (count == 0) return;
        if (workers_.empty() || count == 1) {
            for (std::size_t i = 0; i < count; ++i) body(i);
            return;
        }
        Job job;
        using Callable = std::remove_reference_t<Body>;  // Body is a reference type for an lvalue argument
        job.body = const_cast<void*>(static_cast<const void*>(&body));
        job.invoke = [](void* b, std::size_t i) { (*static_cast<Callable*>(b))(i); };
        job.count = count;
        job.grain = std::max<std::size_t>(1, count / (4 * size()));
        {
            std::lock_guard lock(mutex_);
            job_ = &job;
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        run_job(job);
        const auto all_finished = [&] { return job.finished_threads.load(std::memory_order_acquire) == workers_.size(); };
        if (!spin_until(all_finished)) {
            std::unique_lock lock(mutex_);
            done_.wait(lock, all_finished);
        }
        {
            std::lock_guard lock(mutex_);
            job_ = nullptr;
        }
        if (job.error) std::rethrow_exception(job.error);
    }

private:
    struct Job {
        void* body = nullptr;
        void (*invoke)(void*, std::size_t) = nullptr;
        std::size_t count = 0;
        std::size_t grain = 1;  // indices claimed at a time
        std::atomic<std::size_t> next{0};
        std::atomic<std::size_t> finished_threads{0};  // changed under mutex_, so that a waiter on done_ misses no change
        std::exception_ptr error;          // guarded by error_mutex
        std::mutex error_mutex;
    };

    static constexpr auto spin_time = std::chrono::microseconds(200);

    // Whether ready() became true within spin_time of polling.
    template <class Ready>
    static bool spin_until(Ready&& ready) {
        const auto deadline = std::chrono::steady_clock::now() + spin_time;
        for (unsigned i = 1;; ++i) {
            if (ready()) return true;
            if (i % 64 == 0 && std::chrono::steady_clock::now() > deadline) return false;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
    }

    static void run_job(Job& job) {
        for (std::size_t first = job.next.fetch_add(job.grain); first < job.count; first = job.next.fetch_add(job.grain)) {
            const std::size_t end = std::min(job.count, first + job.grain);
            for (std::size_t i = first; i < end; ++i) {
                try {
                    job.invoke(job.body, i);
                } catch (...) {
                    std::lock_guard lock(job.error_mutex);
                    if (!job.error) job.error = std::current_exception();
                }
            }
        }
    }

    void work() {
        FlushDenormalsGuard flush;
        std::size_t seen = 0;
        for (;;) {
            const auto woken = [&] {
                return stopping_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
            };
            spin_until(woken);
            Job* job;
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, woken);
                if (stopping_.load(std::memory_order_relaxed)) return;
                seen = generation_.load(std::memory_order_relaxed);
                job = job_;
            }
            run_job(*job);
            {
                std::lock_guard lock(mutex_);
                job->finished_threads.fetch_add(1, std::memory_order_release);
            }
            done_.notify_one();
        }
    }

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    Job* job_ = nullptr;
    std::atomic<std::size_t> generation_{0};  // jobs posted; changed under mutex_
    std::atomic<bool> stopping_{false};       // changed under mutex_
};

}  // namespace spikegraph::cpu_backend
