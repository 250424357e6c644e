// libFuzzer target: arbitrary bytes -> load_shd_from_memory. Any outcome but
// a SpikeDataset or spikegraph::InvalidArgument (a crash, a sanitizer report,
// another exception type, a leak, a hang) is a bug.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include <spikegraph/data/shd.hpp>

// libhdf5 1.10 (Debian 12) leaks the object header that its metadata cache
// fails to load from a corrupt file (HDFGroup/hdf5#3790, fixed upstream by
// PR #4445), within a second of fuzzing; after that, its shutdown at exit
// gives up ("infinite loop closing library") and leaves the library's own
// start-up allocations. Only those two libhdf5-internal kinds are suppressed:
// metadata loads (H5C_protect) and library start-up (H5_init_library).
// Leaked variable-length buffers, which the reader must reclaim, are still
// reported.
extern "C" const char* __lsan_default_suppressions() { return "leak:H5C_protect\nleak:H5_init_library\n"; }
// libhdf5 has no frame pointers: only full unwinding sees H5C_protect.
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const spikegraph::SpikeDataset dataset =
            spikegraph::datasets::load_shd_from_memory(std::as_bytes(std::span(data, size)), "fuzz");
        // What the reader accepts must satisfy what it promises.
        if (dataset.labels.size() != dataset.size()) __builtin_trap();
        for (std::int32_t label : dataset.labels)
            if (label < 0 || std::size_t(label) >= dataset.num_classes) __builtin_trap();
        for (const auto& events : dataset.examples)
            for (std::size_t s = 0; s < events.size(); ++s)
                if (events.ids[s] >= dataset.num_inputs || !std::isfinite(events.times[s]) || events.times[s] < 0.0f ||
                    (s > 0 && events.times[s] < events.times[s - 1]))
                    __builtin_trap();
    } catch (const spikegraph::InvalidArgument&) {
    }
    return 0;
}
