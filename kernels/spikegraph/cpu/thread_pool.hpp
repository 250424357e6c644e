#pragma once
#include <algorithm>
#include <atomic>
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
class ThreadPool {
public:
    explicit ThreadPool(unsigned threads = 0) {
        if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
        for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
    }
    ~ThreadPool() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
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
            ++generation_;
        }
        wake_.notify_all();
        run_job(job);
        std::unique_lock lock(mutex_);
        done_.wait(lock, [&] { return job.finished_threads == workers_.size(); });
        job_ = nullptr;
        if (job.error) std::rethrow_exception(job.error);
    }

private:
    struct Job {
        void* body = nullptr;
        void (*invoke)(void*, std::size_t) = nullptr;
        std::size_t count = 0;
        std::size_t grain = 1;  // indices claimed at a time
        std::atomic<std::size_t> next{0};
        std::size_t finished_threads = 0;  // guarded by mutex_
        std::exception_ptr error;          // guarded by error_mutex
        std::mutex error_mutex;
    };

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
            Job* job;
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
                if (stopping_) return;
                seen = generation_;
                job = job_;
            }
            run_job(*job);
            {
                std::lock_guard lock(mutex_);
                ++job->finished_threads;
            }
            done_.notify_one();
        }
    }

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    Job* job_ = nullptr;
    std::size_t generation_ = 0;
    bool stopping_ = false;
};

}  // namespace spikegraph::cpu_backend
