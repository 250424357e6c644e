#pragma once
// Spiking Heidelberg Digits (Cramer et al. 2020) reader. Needs HDF5's C
// library: link spikegraph::hdf5 (Debian: libhdf5-dev). Not included by
// <spikegraph/spikegraph.hpp>, so the core library stays dependency-free.
#include <hdf5.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include <spikegraph/data/dataset.hpp>
#include <spikegraph/error.hpp>
#include <spikegraph/hdf5_support.hpp>

namespace spikegraph::datasets {

// File layout: `spikes/times` (1-D, one variable-length float array per
// example, seconds; float16/32/64), `spikes/units` (1-D, variable-length
// integers, the input channel of each spike) and `labels` (1-D integers).
// Anything else in the file (`extra/...`) is ignored.
struct ShdOptions {
    std::size_t num_inputs = 700;   // channels; every unit id must be below this
    std::size_t num_classes = 20;   // every label must be below this
    double time_scale = 1000.0;     // file time unit -> ms (SHD stores seconds)
    std::size_t max_examples = std::numeric_limits<std::size_t>::max();  // read the first N only
};

namespace detail {

using spikegraph::detail::concat_message;
using spikegraph::detail::throw_invalid;
using spikegraph::detail::hdf5::ByteSource;
using spikegraph::detail::hdf5::Hid;
using spikegraph::detail::hdf5::VlenStorageCheck;
inline std::string hdf5_error_text() { return spikegraph::detail::hdf5::error_text(); }

inline const char* type_class_name(H5T_class_t type_class) {
    switch (type_class) {
        case H5T_INTEGER: return "integer";
        case H5T_FLOAT: return "float";
        case H5T_TIME: return "time";
        case H5T_STRING: return "string";
        case H5T_BITFIELD: return "bitfield";
        case H5T_OPAQUE: return "opaque";
        case H5T_COMPOUND: return "compound";
        case H5T_REFERENCE: return "reference";
        case H5T_ENUM: return "enum";
        case H5T_VLEN: return "variable-length";
        case H5T_ARRAY: return "array";
        default: return "unknown";
    }
}

// One open SHD file: `name` is what error messages call it; `source` its
// bytes, whose HDF5 data start at `base` (after any user block).
class ShdReader {
public:
    ShdReader(hid_t file, std::string name, const ByteSource& source, std::uint64_t base)
        : file_(file), name_(std::move(name)), source_(source), base_(base), size_(source.size()) {}

    SpikeDataset read(const ShdOptions& options) {
        check_options(options);
        const char* const names[3] = {"spikes/times", "spikes/units", "labels"};
        std::string missing, why;
        for (const char* name : names)
            if (!exists(name, why)) missing += missing.empty() ? name : concat_message(", ", name);
        if (!missing.empty())
            fail("missing dataset ", missing, " (an SHD file has spikes/times, spikes/units and labels", why, ")");

        Hid times = open_dataset(names[0]), units = open_dataset(names[1]), labels = open_dataset(names[2]);
        const hsize_t n_times = length(times, names[0]), n_units = length(units, names[1]),
                      n_labels = length(labels, names[2]);
        if (n_times != n_units || n_times != n_labels)
            fail("spikes/times has ", n_times, " examples, spikes/units ", n_units, " and labels ", n_labels,
                 "; expected the same number in all three");
        // Guards against corrupt dimensions before anything is allocated: a
        // real file stores far more than a byte per example.
        if (n_times > size_)
            fail("the datasets claim ", n_times, " examples but the file has only ", size_, " bytes (corrupt file?)");
        const std::size_t time_size = check_type(times, names[0], true, H5T_FLOAT);
        const std::size_t unit_size = check_type(units, names[1], true, H5T_INTEGER);
        check_type(labels, names[2], false, H5T_INTEGER);
        check_storage(times, names[0]);
        check_storage(units, names[1]);
        check_storage(labels, names[2]);

        const std::size_t count = n_times < options.max_examples ? std::size_t(n_times) : options.max_examples;
        VlenStorageCheck heap_check(file_, source_, base_);
        for (const auto& [dataset, name, size] : {std::tuple{&times, names[0], time_size}, std::tuple{&units, names[1], unit_size}})
            if (const std::string problem = heap_check.check(dataset->get(), count, size); !problem.empty())
                fail("dataset ", name, ": ", problem);
        SpikeDataset out;
        out.num_inputs = options.num_inputs;
        out.num_classes = options.num_classes;
        out.labels = read_labels(labels, count, options);
        out.examples.reserve(count);
        // Variable-length data comes in batches so the HDF5 buffers stay small.
        constexpr std::size_t batch = 1024;
        for (std::size_t first = 0; first < count; first += batch)
            read_spikes(times, units, first, std::min(batch, count - first), options, out.examples);
        return out;
    }

private:
    template <class... Parts>
    [[noreturn]] void fail(Parts&&... parts) const {
        throw_invalid("SHD file '", name_, "': ", std::forward<Parts>(parts)...);
    }

    void check_options(const ShdOptions& options) const {
        if (options.num_inputs == 0 || options.num_inputs > std::numeric_limits<std::uint32_t>::max())
            fail("ShdOptions::num_inputs must be in 1..2^32-1, got ", options.num_inputs);
        if (options.num_classes == 0 || options.num_classes > std::size_t(std::numeric_limits<std::int32_t>::max()))
            fail("ShdOptions::num_classes must be in 1..2^31-1, got ", options.num_classes);
        if (!(std::isfinite(options.time_scale) && options.time_scale > 0.0))
            fail("ShdOptions::time_scale must be finite and > 0, got ", options.time_scale);
    }

    // H5Lexists fails (< 0) rather than answering 0 when a parent group is
    // missing, so the path is checked one component at a time. A parent that
    // is not a group counts as missing and is noted in `why`.
    bool exists(const std::string& path, std::string& why) const {
        for (std::size_t slash = path.find('/');; slash = path.find('/', slash + 1)) {
            const std::string prefix = path.substr(0, slash);
            const htri_t found = H5Lexists(file_, prefix.c_str(), H5P_DEFAULT);
            if (found < 0) fail("cannot look up '", prefix, "' while looking for dataset ", path, hdf5_error_text());
            if (found == 0) return false;
            if (slash == std::string::npos) return true;
            if (!Hid(H5Gopen2(file_, prefix.c_str(), H5P_DEFAULT), H5Gclose).valid()) {
                hdf5_error_text();  // clears the stack
                if (why.find(prefix) == std::string::npos) why += concat_message("; '", prefix, "' is not a group");
                return false;
            }
        }
    }

    Hid open_dataset(const char* path) const {
        Hid dataset(H5Dopen2(file_, path, H5P_DEFAULT), H5Dclose);
        if (!dataset.valid()) fail("cannot open dataset ", path, " (not a dataset, or a corrupt file)", hdf5_error_text());
        return dataset;
    }

    hsize_t length(const Hid& dataset, const char* path) const {
        Hid space(H5Dget_space(dataset.get()), H5Sclose);
        if (!space.valid()) fail("cannot read the dataspace of dataset ", path, hdf5_error_text());
        const int rank = H5Sget_simple_extent_ndims(space.get());
        if (rank < 0) fail("cannot read the rank of dataset ", path, hdf5_error_text());
        if (rank != 1) {
            std::string shape = "scalar";
            if (rank > 0 && rank <= H5S_MAX_RANK) {
                std::vector<hsize_t> dims(std::size_t(rank), 0);
                H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
                shape.clear();
                for (hsize_t d : dims) shape += concat_message(shape.empty() ? "" : " x ", d);
            }
            fail("dataset ", path, " has rank ", rank, " (shape ", shape, "), expected a 1-D dataset (one entry per example)");
        }
        hsize_t dim = 0;
        if (H5Sget_simple_extent_dims(space.get(), &dim, nullptr) < 0)
            fail("cannot read the length of dataset ", path, hdf5_error_text());
        return dim;
    }

    // spikes/* (vlen): variable-length sequences of `base`; labels: `base`
    // itself. Returns the size in bytes of the stored `base` values.
    std::size_t check_type(const Hid& dataset, const char* path, bool vlen, H5T_class_t base) const {
        Hid type(H5Dget_type(dataset.get()), H5Tclose);
        if (!type.valid()) fail("cannot read the datatype of dataset ", path, hdf5_error_text());
        const H5T_class_t type_class = H5Tget_class(type.get());
        if (!vlen) {
            if (type_class != base)
                fail("dataset ", path, " has ", type_class_name(type_class), " elements, expected ", type_class_name(base),
                     " class indices");
            return H5Tget_size(type.get());
        }
        const char* expected = base == H5T_FLOAT ? "variable-length float (spike times)" : "variable-length integer (unit ids)";
        if (type_class != H5T_VLEN)
            fail("dataset ", path, " has ", type_class_name(type_class), " elements, expected ", expected);
        Hid super(H5Tget_super(type.get()), H5Tclose);
        if (!super.valid()) fail("cannot read the element type of dataset ", path, hdf5_error_text());
        const H5T_class_t super_class = H5Tget_class(super.get());
        if (super_class != base)
            fail("dataset ", path, " has variable-length ", type_class_name(super_class), " elements, expected ", expected);
        const std::size_t size = H5Tget_size(super.get());
        if (size == 0) fail("cannot read the element size of dataset ", path, hdf5_error_text());
        return size;
    }

    // Data in other files (HDF5 "external storage") would make HDF5 open
    // paths named inside the file; SHD never uses it.
    void check_storage(const Hid& dataset, const char* path) const {
        Hid dcpl(H5Dget_create_plist(dataset.get()), H5Pclose);
        if (!dcpl.valid()) fail("cannot read the creation properties of dataset ", path, hdf5_error_text());
        const int external = H5Pget_external_count(dcpl.get());
        if (external != 0)
            fail("dataset ", path, " keeps its data in ", external, " external file(s), which this reader does not follow");
    }

    // Selects [first, first + count) of `dataset` and reads it as `memory_type`.
    void read_range(const Hid& dataset, const char* path, hid_t memory_type, std::size_t first, std::size_t count,
                    void* buffer, hid_t memory_space) const {
        Hid file_space(H5Dget_space(dataset.get()), H5Sclose);
        const hsize_t start = first, length = count;
        if (!file_space.valid() ||
            H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &length, nullptr) < 0)
            fail("cannot select examples ", first, "..", first + count - 1, " of dataset ", path, hdf5_error_text());
        if (H5Dread(dataset.get(), memory_type, memory_space, file_space.get(), H5P_DEFAULT, buffer) < 0)
            fail("cannot read examples ", first, "..", first + count - 1, " of dataset ", path,
                 " (corrupt or truncated file?)", hdf5_error_text());
    }

    std::vector<std::int32_t> read_labels(const Hid& dataset, std::size_t count, const ShdOptions& options) const {
        std::vector<std::int32_t> labels;
        if (count == 0) return labels;
        // Any integer type converts exactly to long long, except uint64 values
        // above 2^63 - 1, which HDF5 clamps: still out of range below.
        std::vector<long long> raw(count, 0);
        const hsize_t length = count;
        Hid memory_space(H5Screate_simple(1, &length, nullptr), H5Sclose);
        if (!memory_space.valid()) fail("cannot create a dataspace for labels", hdf5_error_text());
        read_range(dataset, "labels", H5T_NATIVE_LLONG, 0, count, raw.data(), memory_space.get());
        labels.reserve(count);
        for (std::size_t e = 0; e < count; ++e) {
            if (raw[e] < 0 || static_cast<unsigned long long>(raw[e]) >= options.num_classes)
                fail("labels, example ", e, ": label ", raw[e], " is out of range, expected 0..", options.num_classes - 1);
            labels.push_back(static_cast<std::int32_t>(raw[e]));
        }
        return labels;
    }

    // Frees what HDF5 allocated for variable-length elements, on every path.
    struct VlenBuffer {
        std::vector<hvl_t> elements;
        hid_t type, space;

        VlenBuffer(std::size_t count, hid_t type_, hid_t space_) : elements(count, hvl_t{0, nullptr}), type(type_), space(space_) {}
        VlenBuffer(const VlenBuffer&) = delete;
        VlenBuffer& operator=(const VlenBuffer&) = delete;
        ~VlenBuffer() {
#if H5_VERSION_GE(1, 12, 0)
            H5Treclaim(type, space, H5P_DEFAULT, elements.data());
#else
            H5Dvlen_reclaim(type, space, H5P_DEFAULT, elements.data());
#endif
        }
    };

    void read_spikes(const Hid& times, const Hid& units, std::size_t first, std::size_t count, const ShdOptions& options,
                     std::vector<SpikeEvents>& out) const {
        // Times of any float precision are converted by HDF5 to double (exact
        // for float16/32/64), then scaled and rounded to float once; unit ids
        // of any integer type to long long, so negative ids stay visible.
        Hid time_type(H5Tvlen_create(H5T_NATIVE_DOUBLE), H5Tclose);
        Hid unit_type(H5Tvlen_create(H5T_NATIVE_LLONG), H5Tclose);
        const hsize_t length = count;
        Hid memory_space(H5Screate_simple(1, &length, nullptr), H5Sclose);
        if (!time_type.valid() || !unit_type.valid() || !memory_space.valid())
            fail("cannot create HDF5 memory types", hdf5_error_text());
        VlenBuffer time_buffer(count, time_type.get(), memory_space.get());
        VlenBuffer unit_buffer(count, unit_type.get(), memory_space.get());
        read_range(times, "spikes/times", time_type.get(), first, count, time_buffer.elements.data(), memory_space.get());
        read_range(units, "spikes/units", unit_type.get(), first, count, unit_buffer.elements.data(), memory_space.get());

        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t e = first + i;
            const hvl_t& t = time_buffer.elements[i];
            const hvl_t& u = unit_buffer.elements[i];
            if (t.len != u.len)
                fail("example ", e, ": spikes/times has ", t.len, " spikes but spikes/units has ", u.len,
                     "; expected the same number");
            if (t.len > 0 && (t.p == nullptr || u.p == nullptr))
                fail("example ", e, ": HDF5 returned no data for ", t.len, " spikes (corrupt file?)");
            const auto* seconds = static_cast<const double*>(t.p);
            const auto* ids = static_cast<const long long*>(u.p);
            std::vector<float> ms(t.len);
            std::vector<std::uint32_t> channels(t.len);
            for (std::size_t s = 0; s < t.len; ++s) {
                if (!std::isfinite(seconds[s]) || seconds[s] < 0.0)
                    fail("spikes/times, example ", e, ", spike ", s, ": time ", seconds[s],
                         " is not a finite time >= 0");
                const double scaled = seconds[s] * options.time_scale;
                // Also keeps the conversion to float defined.
                if (!(scaled <= double(std::numeric_limits<float>::max())))
                    fail("spikes/times, example ", e, ", spike ", s, ": time ", seconds[s], " x time_scale ",
                         options.time_scale, " = ", scaled, " ms does not fit a float");
                ms[s] = static_cast<float>(scaled);
                if (ids[s] < 0 || static_cast<unsigned long long>(ids[s]) > std::numeric_limits<std::uint32_t>::max())
                    fail("spikes/units, example ", e, ", spike ", s, ": unit id ", ids[s], " is out of range, expected 0..",
                         options.num_inputs - 1);
                channels[s] = static_cast<std::uint32_t>(ids[s]);
            }
            // make_spike_events checks ids against num_inputs and sorts
            // (stable, by time then id); its messages name `where`.
            out.push_back(make_spike_events(std::move(ms), std::move(channels), options.num_inputs,
                                            concat_message("SHD file '", name_, "': example ", e, " (spikes/times, spikes/units)")));
        }
    }

    hid_t file_;
    std::string name_;
    const ByteSource& source_;
    std::uint64_t base_;
    std::uint64_t size_;
};

inline Hid open_file_access() {
    Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (!fapl.valid()) throw_invalid("SHD reader: cannot create an HDF5 file access property list", hdf5_error_text());
    return fapl;
}

// Opens `source` with HDF5 (the file `path`, or with `in_memory` the image
// `bytes`) and reads it; `name` labels error messages.
inline SpikeDataset load_shd(const std::string& name, const std::string& path, const ByteSource& source, bool in_memory,
                             const ShdOptions& options, std::span<const std::byte> bytes = {}) {
    const auto base = spikegraph::detail::hdf5::find_signature(source);
    if (!base)
        throw_invalid("SHD file '", name, "': not an HDF5 file (", source.size(),
                      " bytes, no HDF5 signature at offset 0, 512, 1024, ...)");

    spikegraph::detail::hdf5::QuietErrors quiet;
    Hid fapl = open_file_access();
    Hid file;
    if (in_memory) {
        // No backing store: nothing is ever written to or read from disk.
        if (H5Pset_fapl_core(fapl.get(), 64 * 1024, false) < 0 ||
            H5Pset_file_image(fapl.get(), const_cast<std::byte*>(bytes.data()), bytes.size()) < 0)
            throw_invalid("SHD file '", name, "': cannot set up HDF5's in-memory file driver", hdf5_error_text());
        // With an image, the core driver refuses a name that exists on disk,
        // so HDF5 gets a path that cannot exist (below /dev/null), never `name`.
        file = Hid(H5Fopen("/dev/null/spikegraph-shd-image", H5F_ACC_RDONLY, fapl.get()), H5Fclose);
    } else {
        file = Hid(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
    }
    if (!file.valid())
        throw_invalid("SHD file '", name, "': cannot open as HDF5 (corrupt or truncated file?)", hdf5_error_text());
    return ShdReader(file.get(), name, source, *base).read(options);
}

}  // namespace detail

// Reads an SHD file. Every problem (missing or malformed dataset, bad type,
// label or unit out of range, negative or non-finite time, corrupt or
// truncated file) throws spikegraph::InvalidArgument naming the file, the
// dataset and the example. Spike times are scaled by options.time_scale (s ->
// ms) and each example's events sorted by time, then unit. Debian's HDF5 is
// not thread-safe: do not call HDF5 from other threads meanwhile.
inline SpikeDataset load_shd(const std::filesystem::path& path, const ShdOptions& options = {}) {
    const std::string name = path.string();
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (!std::filesystem::exists(status)) spikegraph::detail::throw_invalid("SHD file '", name, "': cannot open: no such file");
    if (std::filesystem::is_directory(status))
        spikegraph::detail::throw_invalid("SHD file '", name, "': cannot open: it is a directory");
    const std::uintmax_t size = std::filesystem::file_size(path, error);
    std::ifstream stream(path, std::ios::binary);
    if (error || !stream) spikegraph::detail::throw_invalid("SHD file '", name, "': cannot open for reading");
    const detail::ByteSource source(stream, size);
    return detail::load_shd(name, name, source, /*in_memory=*/false, options);
}

// Reads an SHD file from memory (HDF5's core driver with a file image: the
// bytes are copied once); `name` only labels error messages.
inline SpikeDataset load_shd_from_memory(std::span<const std::byte> bytes, std::string_view name = "<memory>",
                                         const ShdOptions& options = {}) {
    const detail::ByteSource source(bytes);
    return detail::load_shd(std::string(name), {}, source, /*in_memory=*/true, options, bytes);
}

}  // namespace spikegraph::datasets
