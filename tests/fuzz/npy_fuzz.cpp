// libFuzzer target: .npy parsing (header literal, dtypes, shapes, byte order,
// Fortran order), typed conversion and tonic event arrays on arbitrary bytes.
// Bad input must end in spikegraph::InvalidArgument, never a crash, a
// sanitizer report or an allocation beyond what the input implies.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include <spikegraph/data/event_arrays.hpp>
#include <spikegraph/io/npy.hpp>

namespace sg = spikegraph;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    sg::NpyArray array;
    try {
        array = sg::parse_npy(std::span<const std::uint8_t>(data, size), "fuzz.npy");
    } catch (const sg::InvalidArgument&) {
        return 0;
    }
    if (array.data.size() != array.size() * array.itemsize) __builtin_trap();
    if (!array.structured()) {
        try {
            // Every value converts to double; re-encoding as float64 must read back bit-exactly.
            const auto values = array.as<double>();
            const auto again = sg::parse_npy(sg::encode_npy<double>(values, array.shape), "again").as<double>();
            if (again.size() != values.size() ||
                (!values.empty() && std::memcmp(again.data(), values.data(), values.size() * sizeof(double)) != 0))
                __builtin_trap();
        } catch (const sg::InvalidArgument&) {
        }
        try {
            (void)array.as<std::int32_t>();
        } catch (const sg::InvalidArgument&) {
        }
        try {
            (void)array.as<float>();
        } catch (const sg::InvalidArgument&) {
        }
    } else {
        for (const auto& field : array.fields) {
            try {
                (void)array.field<std::int64_t>(field.name, "event");
            } catch (const sg::InvalidArgument&) {
            }
        }
        try {
            const auto events = sg::events_from_array(array, sg::SensorSize{64, 64, 2});
            if (events.times.size() != events.ids.size()) __builtin_trap();
        } catch (const sg::InvalidArgument&) {
        }
    }
    return 0;
}
