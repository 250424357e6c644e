// libFuzzer target for the IDX reader: the input is parsed as one IDX array
// (plain or gzip'd), and split into an images and a labels array (first two
// bytes: the images part's length) for make_idx_dataset. The only accepted
// failure is spikegraph::InvalidArgument; any other exception, a crash, a
// sanitizer report or a broken invariant (trap) is a bug.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <spikegraph/data/idx.hpp>

namespace sg = spikegraph;

namespace {

// Far below the library default, so a small hostile gzip member cannot make
// one run take seconds; still larger than any input inflates to by accident.
constexpr std::size_t max_inflated = std::size_t{16} << 20;

void require(bool ok) {
    if (!ok) __builtin_trap();
}

void check_array(const sg::IdxArray& a) {
    std::size_t count = 1;
    for (std::size_t d : a.dims) count *= d;  // cannot overflow: the parser checked
    require(!a.dims.empty());
    require(a.size() == count);
    require(a.data_offset == 4 + 4 * a.dims.size());
    require(sg::idx_type_size(a.type()) != 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    try {
        check_array(sg::parse_idx(bytes, "fuzz input", max_inflated));
    } catch (const sg::InvalidArgument&) {
    }

    if (size >= 2) {
        const std::size_t images_size = std::min<std::size_t>((std::size_t{data[0]} << 8) | data[1], size - 2);
        try {
            const sg::IdxArray images = sg::parse_idx(bytes.subspan(2, images_size), "fuzz images", max_inflated);
            const sg::IdxArray labels = sg::parse_idx(bytes.subspan(2 + images_size), "fuzz labels", max_inflated);
            check_array(images);
            check_array(labels);
            const sg::ValueDataset dataset = sg::make_idx_dataset(images, labels, 10);
            require(dataset.num_inputs > 0 && dataset.size() == images.dims[0]);
            require(dataset.labels.size() == images.dims[0]);
            require(dataset.values.size() == images.size());
            for (auto label : dataset.labels) require(label >= 0 && label < 10);
            for (float v : dataset.values) require(v >= 0.0f && v <= 255.0f);
        } catch (const sg::InvalidArgument&) {
        }
    }
    return 0;
}
