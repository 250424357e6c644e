// libFuzzer target: .npz (ZIP) parsing with stored and deflated members,
// ZIP64 records, CRC and size checks, every member's .npy, and the JSON
// manifest of checkpoints. Bad input must end in spikegraph::InvalidArgument.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <spikegraph/io/checkpoint.hpp>
#include <spikegraph/io/npz.hpp>

namespace sg = spikegraph;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const sg::Npz npz = sg::Npz::parse(std::span<const std::uint8_t>(data, size), "fuzz.npz");
        for (const auto& name : npz.names()) {
            const sg::NpyArray& array = npz.array(name);
            if (array.data.size() != array.size() * array.itemsize) __builtin_trap();
            if (!array.structured()) {
                try {
                    (void)array.as<float>();
                } catch (const sg::InvalidArgument&) {
                }
            }
        }
        if (const auto* manifest = npz.raw("manifest.json")) {
            try {
                (void)sg::detail::parse_manifest(std::string(manifest->begin(), manifest->end()), "fuzz manifest");
            } catch (const sg::InvalidArgument&) {
            }
        }
    } catch (const sg::InvalidArgument&) {
    }
    return 0;
}
