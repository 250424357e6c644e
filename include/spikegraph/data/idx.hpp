#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <spikegraph/byte_cursor.hpp>
#include <spikegraph/data/dataset.hpp>
#include <spikegraph/error.hpp>
#include <spikegraph/file_io.hpp>
#include <spikegraph/gzip.hpp>

// IDX files (LeCun's format of MNIST, Fashion-MNIST, EMNIST, KMNIST), plain or
// gzip'd. Needs zlib: link spikegraph::zlib; not part of spikegraph.hpp.
//
// Layout: bytes 0-1 are zero, byte 2 the element type, byte 3 the number of
// dimensions d; then d big-endian uint32 sizes; then the elements, big-endian,
// row-major (last dimension fastest), and nothing after them.

namespace spikegraph {

enum class IdxType : std::uint8_t {
    uint8 = 0x08,
    int8 = 0x09,
    int16 = 0x0B,
    int32 = 0x0C,
    float32 = 0x0D,
    float64 = 0x0E,
};

constexpr std::string_view idx_type_name(IdxType type) {
    switch (type) {
        case IdxType::uint8: return "uint8";
        case IdxType::int8: return "int8";
        case IdxType::int16: return "int16";
        case IdxType::int32: return "int32";
        case IdxType::float32: return "float32";
        case IdxType::float64: return "float64";
    }
    return "unknown";
}

constexpr std::size_t idx_type_size(IdxType type) {
    switch (type) {
        case IdxType::uint8:
        case IdxType::int8: return 1;
        case IdxType::int16: return 2;
        case IdxType::int32:
        case IdxType::float32: return 4;
        case IdxType::float64: return 8;
    }
    return 0;
}

// One IDX array with its elements in host byte order. The alternative held
// by `values` is the element type (see type()).
struct IdxArray {
    using Values = std::variant<std::vector<std::uint8_t>, std::vector<std::int8_t>, std::vector<std::int16_t>,
                                std::vector<std::int32_t>, std::vector<float>, std::vector<double>>;

    std::vector<std::size_t> dims;  // e.g. {10000, 28, 28}
    Values values;
    std::string source;           // how errors name the data: "'file'" or "'file.gz' (gunzipped)"
    std::size_t data_offset = 0;  // byte offset of the first element (after a gunzip: in the inflated data)

    IdxType type() const {
        constexpr IdxType types[] = {IdxType::uint8, IdxType::int8,    IdxType::int16,
                                     IdxType::int32, IdxType::float32, IdxType::float64};
        return types[values.index()];
    }
    // Number of elements (the product of dims).
    std::size_t size() const {
        return std::visit([](const auto& v) { return v.size(); }, values);
    }
    // The elements as T, which must match type(): no silent conversion.
    template <class T>
    const std::vector<T>& as() const {
        if (const auto* v = std::get_if<std::vector<T>>(&values)) return *v;
        detail::throw_invalid(source, ": data type at byte 2: expected ", type_name_of<T>(), ", got ",
                              idx_type_name(type()), " (", detail::hex_byte(static_cast<std::uint8_t>(type())), ")");
    }

private:
    template <class T>
    static constexpr std::string_view type_name_of() {
        if constexpr (std::is_same_v<T, std::uint8_t>) return "uint8";
        else if constexpr (std::is_same_v<T, std::int8_t>) return "int8";
        else if constexpr (std::is_same_v<T, std::int16_t>) return "int16";
        else if constexpr (std::is_same_v<T, std::int32_t>) return "int32";
        else if constexpr (std::is_same_v<T, float>) return "float32";
        else if constexpr (std::is_same_v<T, double>) return "float64";
        else static_assert(!sizeof(T), "IDX elements are uint8, int8, int16, int32, float or double");
    }
};

namespace detail {

inline bool is_idx_type(std::uint8_t code) {
    return code == 0x08 || code == 0x09 || code == 0x0B || code == 0x0C || code == 0x0D || code == 0x0E;
}

// "10000 x 28 x 28 uint8", for messages.
inline std::string describe_idx_shape(const std::vector<std::size_t>& dims, IdxType type) {
    std::string text;
    for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? " x " : "") + std::to_string(dims[i]);
    return text + " " + std::string(idx_type_name(type));
}

// Big-endian elements of Unsigned's width, reinterpreted as T.
template <class T, class Unsigned>
std::vector<T> decode_big_endian(std::span<const std::uint8_t> payload) {
    static_assert(sizeof(T) == sizeof(Unsigned));
    std::vector<T> out(payload.size() / sizeof(T));
    for (std::size_t i = 0; i < out.size(); ++i) {
        Unsigned bits = 0;
        for (std::size_t b = 0; b < sizeof(T); ++b) bits = static_cast<Unsigned>((bits << 8) | payload[i * sizeof(T) + b]);
        out[i] = std::bit_cast<T>(bits);
    }
    return out;
}

// Parses an uncompressed IDX array; `source` names it in errors.
inline IdxArray parse_idx_uncompressed(std::span<const std::uint8_t> bytes, std::string source) {
    ByteCursor cursor(bytes, std::move(source));
    const auto magic = cursor.take(2, "magic number");
    if (magic[0] != 0 || magic[1] != 0)
        cursor.fail_at(0, "magic number", "expected 0x00 0x00 (an IDX file), got ", hex_byte(magic[0]), " ",
                       hex_byte(magic[1]));
    const std::uint8_t code = cursor.u8("data type code");
    if (!is_idx_type(code))
        cursor.fail_at(2, "data type code",
                       "expected 0x08 (uint8), 0x09 (int8), 0x0B (int16), 0x0C (int32), 0x0D (float32) "
                       "or 0x0E (float64), got ",
                       hex_byte(code));
    const auto type = static_cast<IdxType>(code);
    const std::uint8_t ndims = cursor.u8("number of dimensions");
    if (ndims == 0) cursor.fail_at(3, "number of dimensions", "expected at least 1, got 0");

    IdxArray array;
    array.dims.reserve(ndims);
    for (std::uint8_t d = 0; d < ndims; ++d)
        array.dims.push_back(cursor.be_u32(concat_message("size of dimension ", int(d))));

    // Element and byte counts without overflow: a zero dimension makes the
    // array empty whatever the others say.
    constexpr std::size_t max_size = std::numeric_limits<std::size_t>::max();
    std::size_t count = 1;
    bool overflow = false;
    for (std::size_t dim : array.dims) {
        if (dim == 0) {
            count = 0;
            overflow = false;
            break;
        }
        if (count > max_size / dim) overflow = true;
        else count *= dim;
    }
    const std::size_t element_size = idx_type_size(type);
    if (overflow || count > max_size / element_size)
        cursor.fail_at(4, "dimensions", describe_idx_shape(array.dims, type),
                       " describe more bytes than this machine can address");
    const std::size_t payload_bytes = count * element_size;
    const std::size_t header_bytes = cursor.offset();
    if (cursor.remaining() < payload_bytes)
        throw_invalid(cursor.source(), ": truncated at byte ", cursor.size(), ": the header (", header_bytes,
                      " bytes) declares ", describe_idx_shape(array.dims, type), ", expected ", payload_bytes,
                      " bytes of data after it, got ", cursor.remaining());
    if (cursor.remaining() > payload_bytes)
        throw_invalid(cursor.source(), ": trailing data at byte ", header_bytes + payload_bytes,
                      ": the header declares ", describe_idx_shape(array.dims, type), ", expected ", payload_bytes,
                      " bytes of data (the data to end at byte ", header_bytes + payload_bytes, "), got ",
                      cursor.remaining() - payload_bytes, " more");
    const auto payload = cursor.take(payload_bytes, "data");

    switch (type) {
        case IdxType::uint8: array.values = std::vector<std::uint8_t>(payload.begin(), payload.end()); break;
        case IdxType::int8: array.values = decode_big_endian<std::int8_t, std::uint8_t>(payload); break;
        case IdxType::int16: array.values = decode_big_endian<std::int16_t, std::uint16_t>(payload); break;
        case IdxType::int32: array.values = decode_big_endian<std::int32_t, std::uint32_t>(payload); break;
        case IdxType::float32: array.values = decode_big_endian<float, std::uint32_t>(payload); break;
        case IdxType::float64: array.values = decode_big_endian<double, std::uint64_t>(payload); break;
    }
    array.source = cursor.source();
    array.data_offset = header_bytes;
    return array;
}

}  // namespace detail

// Parses an IDX array held in memory, gunzipping it first when it starts
// with the gzip magic (1F 8B). `source` names the data in errors (offsets of
// IDX fields are then in the inflated data, and the name says "(gunzipped)").
// Every malformation throws InvalidArgument; nothing is read past the buffer.
inline IdxArray parse_idx(std::span<const std::uint8_t> bytes, std::string_view source = "IDX data",
                          std::size_t max_decompressed_bytes = detail::default_max_decompressed_bytes) {
    if (detail::has_gzip_magic(bytes)) {
        const std::vector<std::uint8_t> inflated = detail::gunzip(bytes, source, max_decompressed_bytes);
        return detail::parse_idx_uncompressed(inflated, std::string(source) + " (gunzipped)");
    }
    return detail::parse_idx_uncompressed(bytes, std::string(source));
}

// Reads an IDX file, plain or gzip'd (decided by its first two bytes, not by
// its name). Errors name the file.
inline IdxArray read_idx(const std::filesystem::path& path,
                         std::size_t max_decompressed_bytes = detail::default_max_decompressed_bytes) {
    return parse_idx(detail::read_file_bytes(path), detail::quoted_path(path), max_decompressed_bytes);
}

// Images and labels as a ValueDataset. images: uint8 [n][d1][d2]... (at least
// two dimensions; each example is the row-major rest, 784 values for MNIST);
// values are the pixel intensities as floats in [0, 255], the form mlGeNN
// passes to its latency encoders. labels: uint8 [n], each < num_classes.
inline ValueDataset make_idx_dataset(const IdxArray& images, const IdxArray& labels, std::size_t num_classes = 10) {
    if (num_classes == 0) detail::throw_invalid("IDX dataset from ", images.source, ": num_classes must be >= 1, got 0");
    const auto& pixels = images.as<std::uint8_t>();
    const auto& classes = labels.as<std::uint8_t>();
    if (images.dims.size() < 2)
        detail::throw_invalid(images.source, ": number of dimensions at byte 3: expected at least 2 for images "
                              "(count, then the size of each example), got ", images.dims.size());
    if (labels.dims.size() != 1)
        detail::throw_invalid(labels.source, ": number of dimensions at byte 3: expected 1 for labels (count), got ",
                              labels.dims.size());
    const std::size_t count = images.dims[0];
    if (labels.dims[0] != count)
        detail::throw_invalid("IDX dataset: ", images.source, " has ", count, " images but ", labels.source, " has ",
                              labels.dims[0], " labels");
    // Checked: with a count of 0 the other sizes were never bounded by the data.
    std::size_t per_example = 1;
    for (std::size_t i = 1; i < images.dims.size(); ++i) {
        if (images.dims[i] != 0 && per_example > std::numeric_limits<std::size_t>::max() / images.dims[i])
            detail::throw_invalid(images.source, ": dimensions at byte 8: ",
                                  detail::describe_idx_shape(images.dims, IdxType::uint8),
                                  " describe more values per example than this machine can address");
        per_example *= images.dims[i];
    }
    if (per_example == 0)
        detail::throw_invalid(images.source, ": dimensions at byte 8: expected every example to have at least one "
                              "value, got ", detail::describe_idx_shape(images.dims, IdxType::uint8));

    ValueDataset data;
    data.num_classes = num_classes;
    data.num_inputs = per_example;
    data.labels.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        if (classes[i] >= num_classes)
            detail::throw_invalid(labels.source, ": label of example ", i, " at byte ", labels.data_offset + i,
                                  ": expected 0..", num_classes - 1, " (num_classes = ", num_classes, "), got ",
                                  int(classes[i]));
        data.labels[i] = classes[i];
    }
    data.values.assign(pixels.begin(), pixels.end());
    return data;
}

// Reads an images file and a labels file (plain or gzip'd) into a ValueDataset.
inline ValueDataset load_idx_dataset(const std::filesystem::path& images_path, const std::filesystem::path& labels_path,
                                     std::size_t num_classes = 10) {
    return make_idx_dataset(read_idx(images_path), read_idx(labels_path), num_classes);
}

namespace detail {

// `<directory>/<name>`, or `<name>.gz` when only that exists.
inline std::filesystem::path find_plain_or_gzip(const std::filesystem::path& directory, const std::string& name,
                                                std::string_view caller) {
    const std::filesystem::path plain = directory / name;
    const std::filesystem::path gzipped = directory / (name + ".gz");
    std::error_code ec;
    if (std::filesystem::exists(plain, ec)) return plain;
    if (std::filesystem::exists(gzipped, ec)) return gzipped;
    throw_invalid(caller, ": neither ", quoted_path(plain), " nor ", quoted_path(gzipped), " exists");
}

}  // namespace detail

// MNIST-layout directories: `<split>-images-idx3-ubyte` and
// `<split>-labels-idx1-ubyte`, each plain or with `.gz` (the plain file wins
// when both exist), split "train" or "t10k". The file names of MNIST's
// distribution, also used by Fashion-MNIST (see fashion_mnist_debian_directory).
inline ValueDataset load_mnist(const std::filesystem::path& directory, std::string_view split,
                               std::size_t num_classes = 10) {
    if (split != "train" && split != "t10k")
        detail::throw_invalid("load_mnist: split must be \"train\" or \"t10k\", got \"", split, "\"");
    const std::string prefix(split);
    // Images first, so a missing file is always reported in the same order.
    const auto images = detail::find_plain_or_gzip(directory, prefix + "-images-idx3-ubyte", "load_mnist");
    const auto labels = detail::find_plain_or_gzip(directory, prefix + "-labels-idx1-ubyte", "load_mnist");
    return load_idx_dataset(images, labels, num_classes);
}

// Where Debian's dataset-fashion-mnist package installs Fashion-MNIST
// (train/t10k, gzip'd): load_mnist(fashion_mnist_debian_directory, "train").
inline constexpr std::string_view fashion_mnist_debian_directory = "/usr/share/datasets/fashion-mnist";

}  // namespace spikegraph
