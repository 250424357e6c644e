// IDX reader against the real MNIST test set (checked byte for byte against
// zlib's own gz* reader and against numbers printed by Python's gzip module)
// and against small files this test writes with its own encoder, plain and
// gzip'd through zlib's gz* API: round trips of every element type, and every
// kind of bad file (wrong magic, type, dimensions, truncation at every length,
// trailing bytes, corrupt gzip, labels out of range, count mismatch).
#include <catch2/catch.hpp>

#include "test_files.hpp"

#include <zlib.h>

#include <array>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <spikegraph/data/idx.hpp>

namespace sg = spikegraph;
namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

using reader_test::invalid_message;
using reader_test::quoted;
using reader_test::read_raw;
using reader_test::write_plain;

// The test's own IDX encoder, independent of the reader.
void put_be(Bytes& out, std::uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

Bytes idx_header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
    Bytes out{0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (auto d : dims) put_be(out, d, 4);
    return out;
}

Bytes idx_u8(const std::vector<std::uint32_t>& dims, const Bytes& payload) {
    Bytes out = idx_header(0x08, dims);
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

fs::path test_dir() { return reader_test::test_dir("idx_test_files"); }

// mode "wb" starts a file, "ab" appends a second gzip member to it.
void write_gzip(const fs::path& path, const Bytes& bytes, const char* mode = "wb") {
    gzFile file = gzopen(path.string().c_str(), mode);
    REQUIRE(file != nullptr);
    if (!bytes.empty()) REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) == int(bytes.size()));
    REQUIRE(gzclose(file) == Z_OK);
}

// zlib's own reader: an independent decoder of the real files.
Bytes gunzip_with_gzread(const fs::path& path) {
    gzFile file = gzopen(path.string().c_str(), "rb");
    REQUIRE(file != nullptr);
    Bytes out;
    std::array<std::uint8_t, 1 << 16> buffer{};
    int got = 0;
    while ((got = gzread(file, buffer.data(), buffer.size())) > 0) out.insert(out.end(), buffer.begin(), buffer.begin() + got);
    REQUIRE(got == 0);
    gzclose(file);
    return out;
}

std::optional<fs::path> shared_mnist() {
    const auto root = reader_test::shared_data({"mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz"},
                                               "real-MNIST checks");
    return root ? std::optional<fs::path>(*root / "mnist") : std::nullopt;
}

}  // namespace

TEST_CASE("real MNIST t10k: shape, labels and every pixel", "[idx][real]") {
    const auto dir = shared_mnist();
    if (!dir) return;
    const fs::path images_path = *dir / "t10k-images-idx3-ubyte.gz";
    const fs::path labels_path = *dir / "t10k-labels-idx1-ubyte.gz";

    const sg::IdxArray images = sg::read_idx(images_path);
    CHECK(images.type() == sg::IdxType::uint8);
    CHECK(images.dims == std::vector<std::size_t>{10000, 28, 28});
    CHECK(images.data_offset == 16);
    const sg::IdxArray labels = sg::read_idx(labels_path);
    CHECK(labels.dims == std::vector<std::size_t>{10000});
    CHECK(labels.data_offset == 8);

    const sg::ValueDataset data = sg::load_idx_dataset(images_path, labels_path);
    REQUIRE(data.size() == 10000);
    REQUIRE(data.num_inputs == 784);
    CHECK(data.num_classes == 10);
    REQUIRE(data.labels.size() == 10000);

    // Class counts of the MNIST test set (shared/data/README.md).
    std::array<int, 10> counts{};
    for (auto label : data.labels) ++counts.at(static_cast<std::size_t>(label));
    CHECK(counts == std::array<int, 10>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009});

    // Python: d = gzip.open(path).read(); sum(d[16:]) == 264923200, and the
    // first labels list(gzip.open(labels).read()[8:18]).
    double pixel_sum = 0.0;
    for (float v : data.values) pixel_sum += v;
    CHECK(pixel_sum == 264923200.0);
    CHECK(std::vector<std::int32_t>(data.labels.begin(), data.labels.begin() + 10) ==
          std::vector<std::int32_t>{7, 2, 1, 0, 4, 1, 4, 9, 5, 9});
    CHECK(data.labels.back() == 6);

    // Byte for byte against zlib's gzread: header, every pixel, every label.
    const Bytes raw_images = gunzip_with_gzread(images_path);
    const Bytes raw_labels = gunzip_with_gzread(labels_path);
    REQUIRE(raw_images.size() == 16 + 10000u * 784u);
    REQUIRE(raw_labels.size() == 8 + 10000u);
    CHECK(Bytes(raw_images.begin(), raw_images.begin() + 16) ==
          Bytes{0, 0, 8, 3, 0, 0, 0x27, 0x10, 0, 0, 0, 28, 0, 0, 0, 28});
    std::size_t pixel_mismatches = 0;
    for (std::size_t i = 0; i < data.values.size(); ++i) pixel_mismatches += data.values[i] != float(raw_images[16 + i]);
    CHECK(pixel_mismatches == 0);
    std::size_t label_mismatches = 0;
    for (std::size_t i = 0; i < 10000; ++i) label_mismatches += data.labels[i] != raw_labels[8 + i];
    CHECK(label_mismatches == 0);
    // Values are intensities in [0, 255] (what mlGeNN's latency encoders take).
    const auto [lo, hi] = std::minmax_element(data.values.begin(), data.values.end());
    CHECK(*lo == 0.0f);
    CHECK(*hi == 255.0f);

    // The directory helper finds the same files; no training files there.
    const sg::ValueDataset via_helper = sg::load_mnist(*dir, "t10k");
    CHECK(via_helper.values == data.values);
    CHECK(via_helper.labels == data.labels);
    const std::string missing = invalid_message([&] { sg::load_mnist(*dir, "train"); });
    CHECK_THAT(missing, Catch::Contains("train-images-idx3-ubyte'") && Catch::Contains("train-images-idx3-ubyte.gz'"));
}

TEST_CASE("Fashion-MNIST from Debian's dataset-fashion-mnist, when installed", "[idx][real]") {
    const fs::path dir{sg::fashion_mnist_debian_directory};
    if (!fs::exists(dir / "t10k-labels-idx1-ubyte.gz")) {
        WARN("SKIPPED: " << dir.string() << " is absent (apt-get install dataset-fashion-mnist)");
        return;
    }
    // Fashion-MNIST is balanced: 6000 training and 1000 test examples a class.
    for (const auto& [split, per_class] : {std::pair{"train", 6000}, std::pair{"t10k", 1000}}) {
        INFO(split);
        const sg::ValueDataset data = sg::load_mnist(dir, split);
        CHECK(data.size() == std::size_t(per_class) * 10);
        CHECK(data.num_inputs == 784);
        std::array<int, 10> counts{};
        for (auto label : data.labels) ++counts.at(static_cast<std::size_t>(label));
        for (int c : counts) CHECK(c == per_class);
    }
}

TEST_CASE("round trip of every element type, plain and gzip'd", "[idx]") {
    const fs::path dir = test_dir();
    const std::vector<std::uint32_t> dims{2, 3};
    struct Case {
        std::uint8_t code;
        sg::IdxType type;
        int width;
        std::vector<std::uint64_t> bits;  // big-endian element bit patterns
    };
    const std::vector<std::uint64_t> bytes_u8{0, 1, 127, 128, 200, 255};
    // int16 -1, -32768, 32767, 0x1234, 2, -2 as two's complement bits.
    const std::vector<std::uint64_t> bits_i16{0xFFFF, 0x8000, 0x7FFF, 0x1234, 0x0002, 0xFFFE};
    const std::vector<std::uint64_t> bits_i32{0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 0x12345678, 0, 0xFFFFFF9C};
    // float32 1.0, -2.5, 0.1f, +inf, NaN, -0.0; float64 1.0, -2.5, 0.1, 1e300, smallest subnormal, -0.0.
    const std::vector<std::uint64_t> bits_f32{0x3F800000, 0xC0200000, 0x3DCCCCCD, 0x7F800000, 0x7FC00000, 0x80000000};
    const std::vector<std::uint64_t> bits_f64{0x3FF0000000000000, 0xC004000000000000, 0x3FB999999999999A,
                                              0x7E37E43C8800759C, 0x0000000000000001, 0x8000000000000000};
    const std::vector<Case> cases{{0x08, sg::IdxType::uint8, 1, bytes_u8},   {0x09, sg::IdxType::int8, 1, bytes_u8},
                                  {0x0B, sg::IdxType::int16, 2, bits_i16},   {0x0C, sg::IdxType::int32, 4, bits_i32},
                                  {0x0D, sg::IdxType::float32, 4, bits_f32}, {0x0E, sg::IdxType::float64, 8, bits_f64}};
    for (const Case& c : cases) {
        INFO("type code " << int(c.code));
        Bytes file = idx_header(c.code, dims);
        for (auto b : c.bits) put_be(file, b, c.width);
        for (const bool gzipped : {false, true}) {
            INFO("gzipped " << gzipped);
            const fs::path path = dir / ("roundtrip_" + std::to_string(c.code) + (gzipped ? ".gz" : ""));
            if (gzipped) write_gzip(path, file);
            else write_plain(path, file);
            const sg::IdxArray a = sg::read_idx(path);
            CHECK(a.type() == c.type);
            CHECK(sg::idx_type_size(a.type()) == std::size_t(c.width));
            CHECK(a.dims == std::vector<std::size_t>{2, 3});
            CHECK(a.size() == 6);
            CHECK(a.data_offset == 12);
            CHECK_THAT(a.source, Catch::Contains(path.string()));
            for (std::size_t i = 0; i < 6; ++i) {
                INFO("element " << i);
                switch (c.type) {
                    case sg::IdxType::uint8: CHECK(a.as<std::uint8_t>()[i] == c.bits[i]); break;
                    case sg::IdxType::int8:
                        CHECK(a.as<std::int8_t>()[i] == std::int8_t(std::uint8_t(c.bits[i]))); break;
                    case sg::IdxType::int16:
                        CHECK(a.as<std::int16_t>()[i] == std::int16_t(std::uint16_t(c.bits[i]))); break;
                    case sg::IdxType::int32:
                        CHECK(a.as<std::int32_t>()[i] == std::int32_t(std::uint32_t(c.bits[i]))); break;
                    case sg::IdxType::float32:
                        CHECK(std::bit_cast<std::uint32_t>(a.as<float>()[i]) == c.bits[i]); break;
                    case sg::IdxType::float64:
                        CHECK(std::bit_cast<std::uint64_t>(a.as<double>()[i]) == c.bits[i]); break;
                }
            }
        }
    }
    // Spot checks of the decoded values themselves.
    write_plain(dir / "f32", [&] { Bytes b = idx_header(0x0D, {6}); for (auto x : bits_f32) put_be(b, x, 4); return b; }());
    const auto f = sg::read_idx(dir / "f32").as<float>();
    CHECK(f[0] == 1.0f);
    CHECK(f[1] == -2.5f);
    CHECK(f[2] == 0.1f);
    write_plain(dir / "i16", [&] { Bytes b = idx_header(0x0B, {6}); for (auto x : bits_i16) put_be(b, x, 2); return b; }());
    CHECK(sg::read_idx(dir / "i16").as<std::int16_t>() == std::vector<std::int16_t>{-1, -32768, 32767, 0x1234, 2, -2});
    // as<T>() refuses the wrong type instead of converting.
    CHECK_THAT(invalid_message([&] { (void)sg::read_idx(dir / "f32").as<std::uint8_t>(); }),
               Catch::Contains("expected uint8") && Catch::Contains("got float32"));
}

TEST_CASE("concatenated gzip members read as one stream", "[idx][gzip]") {
    const fs::path dir = test_dir();
    Bytes pixels(2 * 3 * 4);
    std::iota(pixels.begin(), pixels.end(), std::uint8_t{1});
    const Bytes file = idx_u8({2, 3, 4}, pixels);
    const fs::path path = dir / "two_members.gz";
    write_gzip(path, Bytes(file.begin(), file.begin() + 10));
    write_gzip(path, Bytes(file.begin() + 10, file.end()), "ab");
    const Bytes raw = read_raw(path);
    // Really two members: a second gzip header after the first member.
    std::size_t magics = 0;
    for (std::size_t i = 0; i + 2 < raw.size(); ++i) magics += raw[i] == 0x1F && raw[i + 1] == 0x8B && raw[i + 2] == 8;
    REQUIRE(magics >= 2);
    const auto a = sg::read_idx(path);
    CHECK(a.dims == std::vector<std::size_t>{2, 3, 4});
    CHECK(a.as<std::uint8_t>() == pixels);
    CHECK_THAT(a.source, Catch::Contains("(gunzipped)"));
}

TEST_CASE("in-memory parse equals the file reader", "[idx]") {
    const Bytes file = idx_u8({3, 2}, {9, 8, 7, 6, 5, 4});
    const auto a = sg::parse_idx(file, "buffer");
    CHECK(a.as<std::uint8_t>() == Bytes{9, 8, 7, 6, 5, 4});
    CHECK(a.source == "buffer");
    const fs::path gz = test_dir() / "memory.gz";
    write_gzip(gz, file);
    const auto b = sg::parse_idx(read_raw(gz), "gz buffer");
    CHECK(b.as<std::uint8_t>() == a.as<std::uint8_t>());
    CHECK(b.source == "gz buffer (gunzipped)");
    // The decompression cap: a 12-byte header and 6 elements inflate to 18 bytes.
    CHECK_THAT(invalid_message([&] { sg::parse_idx(read_raw(gz), "gz buffer", 17); }),
               Catch::Contains("gz buffer") && Catch::Contains("more than 17 bytes"));
    CHECK(sg::parse_idx(read_raw(gz), "gz buffer", 18).size() == 6);
}

TEST_CASE("bad headers name the file, the byte and expected vs got", "[idx][errors]") {
    const fs::path dir = test_dir();
    const Bytes good = idx_u8({5, 3, 4}, Bytes(60, 7));
    auto message_for = [&](const std::string& name, const Bytes& bytes) {
        const fs::path path = dir / name;
        write_plain(path, bytes);
        const std::string m = invalid_message([&] { sg::read_idx(path); });
        CHECK_THAT(m, Catch::Contains(quoted(path)));
        return m;
    };
    SECTION("wrong magic") {
        Bytes b = good;
        b[1] = 0x08;  // e.g. a file missing its first byte
        CHECK_THAT(message_for("magic", b), Catch::Contains("magic number at byte 0") &&
                                                Catch::Contains("expected 0x00 0x00") && Catch::Contains("got 0x00 0x08"));
    }
    SECTION("unknown type code") {
        Bytes b = good;
        b[2] = 0x0A;
        CHECK_THAT(message_for("type", b), Catch::Contains("data type code at byte 2") && Catch::Contains("got 0x0A"));
    }
    SECTION("zero dimensions") {
        CHECK_THAT(message_for("ndims0", Bytes{0, 0, 8, 0}),
                   Catch::Contains("number of dimensions at byte 3") && Catch::Contains("got 0"));
    }
    SECTION("dims product larger than the payload") {
        Bytes b = good;
        b[15] = 6;  // 5 x 3 x 4 -> 5 x 3 x 6 = 90 bytes, 60 present
        CHECK_THAT(message_for("dims_big", b), Catch::Contains("truncated at byte 76") &&
                                                   Catch::Contains("5 x 3 x 6 uint8") &&
                                                   Catch::Contains("expected 90 bytes") && Catch::Contains("got 60"));
    }
    SECTION("dims product smaller than the payload") {
        Bytes b = good;
        b[15] = 2;  // 5 x 3 x 2 = 30 bytes, 60 present
        CHECK_THAT(message_for("dims_small", b), Catch::Contains("trailing data at byte 46") &&
                                                     Catch::Contains("expected 30 bytes") && Catch::Contains("got 30 more"));
    }
    SECTION("trailing bytes") {
        Bytes b = good;
        b.push_back(0);
        CHECK_THAT(message_for("trailing", b),
                   Catch::Contains("trailing data at byte 76") && Catch::Contains("got 1 more"));
    }
    SECTION("element count overflowing size_t") {
        Bytes b = idx_header(0x0E, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF});
        b.resize(b.size() + 64, 0);
        CHECK_THAT(message_for("overflow", b), Catch::Contains("dimensions at byte 4") &&
                                                   Catch::Contains("4294967295 x 4294967295 x 4294967295 float64"));
        // Byte count overflow alone: 2^61 float64 elements are 2^64 bytes.
        Bytes c = idx_header(0x0E, {0x20000000, 0x20000000, 8});
        CHECK_THAT(message_for("overflow_bytes", c), Catch::Contains("dimensions at byte 4"));
    }
    SECTION("a zero dimension makes an empty array whatever the others say") {
        const fs::path path = dir / "empty";
        write_plain(path, idx_header(0x0C, {0xFFFFFFFF, 0, 0xFFFFFFFF}));
        const auto a = sg::read_idx(path);
        CHECK(a.size() == 0);
        CHECK(a.dims == std::vector<std::size_t>{0xFFFFFFFF, 0, 0xFFFFFFFF});
        CHECK(a.type() == sg::IdxType::int32);
    }
}

TEST_CASE("truncation at every length: plain and gzip'd", "[idx][errors]") {
    const fs::path dir = test_dir();
    Bytes pixels(3 * 4 * 5);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 37 + 11);
    const Bytes file = idx_u8({3, 4, 5}, pixels);
    const fs::path full_gz = dir / "full.gz";
    write_gzip(full_gz, file);
    const Bytes gz = read_raw(full_gz);

    for (const bool gzipped : {false, true}) {
        const Bytes& whole = gzipped ? gz : file;
        REQUIRE(sg::read_idx(full_gz).as<std::uint8_t>() == pixels);
        for (std::size_t length = 0; length < whole.size(); ++length) {
            INFO((gzipped ? "gzip'd" : "plain") << " file cut to " << length << " of " << whole.size() << " bytes");
            const fs::path path = dir / (gzipped ? "cut.gz" : "cut");
            write_plain(path, Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(length)));
            const std::string m = invalid_message([&] { sg::read_idx(path); });
            CHECK_THAT(m, Catch::Contains(quoted(path)) && Catch::Contains("at byte "));
            if (!gzipped) {
                // The offset is where reading stopped: the start of the header
                // field that is cut (magic 0, type 2, count 3, sizes 4, 8, 12),
                // or the end of the data when the elements are cut.
                const std::size_t expected_at = length < 2    ? 0
                                                : length < 4  ? length
                                                : length < 16 ? 4 + (length - 4) / 4 * 4
                                                              : length;
                CHECK_THAT(m, Catch::Contains("truncated at byte " + std::to_string(expected_at) + ":") ||
                                  Catch::Contains("truncated at byte " + std::to_string(expected_at) + " reading"));
            }
            if (gzipped && length >= 2) CHECK_THAT(m, Catch::Contains("truncated gzip stream at byte " + std::to_string(length)));
        }
    }
}

TEST_CASE("corrupt gzip: flipped bytes and trailing garbage", "[idx][errors][gzip]") {
    const fs::path dir = test_dir();
    Bytes pixels(200);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>((i * i) % 251);
    const Bytes file = idx_u8({10, 20}, pixels);
    write_gzip(dir / "flip_source.gz", file);
    const Bytes gz = read_raw(dir / "flip_source.gz");
    const fs::path path = dir / "flipped.gz";

    // zlib does not check the header's MTIME, XFL and OS bytes (4..9): those
    // flips load the same data. Every other flip must throw (the CRC-32 and
    // length in the trailer catch changed data); never a different result.
    std::size_t thrown = 0;
    for (std::size_t i = 0; i < gz.size(); ++i) {
        Bytes bad = gz;
        bad[i] ^= 0xFF;
        write_plain(path, bad);
        INFO("byte " << i << " of " << gz.size());
        try {
            const auto a = sg::read_idx(path);
            CHECK(a.as<std::uint8_t>() == pixels);
            CHECK(((i >= 4 && i <= 9)));
        } catch (const sg::InvalidArgument& e) {
            ++thrown;
            CHECK_THAT(std::string(e.what()), Catch::Contains(quoted(path)));
        }
    }
    CHECK(thrown == gz.size() - 6);

    // A flipped CRC-32 is named as corrupt data by zlib's message.
    Bytes bad_crc = gz;
    bad_crc[gz.size() - 8] ^= 0x01;
    write_plain(path, bad_crc);
    CHECK_THAT(invalid_message([&] { sg::read_idx(path); }),
               Catch::Contains("corrupt gzip data: incorrect data check"));

    // Data after the last member that is not another member.
    Bytes trailing = gz;
    trailing.insert(trailing.end(), {0x00, 0x00, 0x00});
    write_plain(path, trailing);
    CHECK_THAT(invalid_message([&] { sg::read_idx(path); }),
               Catch::Contains("trailing data after the gzip member that ends at byte " + std::to_string(gz.size())) &&
                   Catch::Contains("got 3 bytes"));
}

TEST_CASE("datasets: labels out of range, count mismatch, wrong shapes", "[idx][errors]") {
    const fs::path dir = test_dir();
    Bytes pixels(4 * 2 * 3);
    std::iota(pixels.begin(), pixels.end(), std::uint8_t{100});
    write_gzip(dir / "imgs.gz", idx_u8({4, 2, 3}, pixels));
    write_plain(dir / "labels", idx_u8({4}, {3, 0, 9, 1}));

    const sg::ValueDataset data = sg::load_idx_dataset(dir / "imgs.gz", dir / "labels");
    CHECK(data.size() == 4);
    CHECK(data.num_inputs == 6);
    CHECK(data.num_classes == 10);
    CHECK(data.labels == std::vector<std::int32_t>{3, 0, 9, 1});
    CHECK(data.values == std::vector<float>(pixels.begin(), pixels.end()));

    SECTION("label out of range") {
        write_plain(dir / "labels_bad", idx_u8({4}, {3, 0, 9, 10}));
        const std::string m = invalid_message([&] { sg::load_idx_dataset(dir / "imgs.gz", dir / "labels_bad"); });
        CHECK_THAT(m, Catch::Contains(quoted(dir / "labels_bad")) && Catch::Contains("example 3") &&
                          Catch::Contains("at byte 11") && Catch::Contains("expected 0..9") && Catch::Contains("got 10"));
        // With fewer classes a smaller label is out of range too.
        CHECK_THAT(invalid_message([&] { sg::load_idx_dataset(dir / "imgs.gz", dir / "labels", 4); }),
                   Catch::Contains("example 2") && Catch::Contains("at byte 10") && Catch::Contains("got 9"));
        CHECK_THROWS_AS(sg::load_idx_dataset(dir / "imgs.gz", dir / "labels", 0), sg::InvalidArgument);
    }
    SECTION("count mismatch") {
        write_plain(dir / "labels5", idx_u8({5}, {1, 2, 3, 4, 5}));
        const std::string m = invalid_message([&] { sg::load_idx_dataset(dir / "imgs.gz", dir / "labels5"); });
        CHECK_THAT(m, Catch::Contains(quoted(dir / "imgs.gz") + " (gunzipped) has 4 images") &&
                          Catch::Contains(quoted(dir / "labels5") + " has 5 labels"));
    }
    SECTION("images and labels swapped, or not uint8") {
        CHECK_THAT(invalid_message([&] { sg::load_idx_dataset(dir / "labels", dir / "imgs.gz"); }),
                   Catch::Contains("number of dimensions") && Catch::Contains("expected at least 2"));
        Bytes floats = idx_header(0x0D, {4, 1});
        floats.resize(floats.size() + 16, 0);
        write_plain(dir / "float_images", floats);
        CHECK_THAT(invalid_message([&] { sg::load_idx_dataset(dir / "float_images", dir / "labels"); }),
                   Catch::Contains("expected uint8") && Catch::Contains("got float32 (0x0D)"));
        write_plain(dir / "zero_pixels", idx_header(0x08, {4, 0}));
        CHECK_THAT(invalid_message([&] { sg::load_idx_dataset(dir / "zero_pixels", dir / "labels"); }),
                   Catch::Contains("at least one value"));
        // No images, so the sizes of one image were never bounded by the data.
        write_plain(dir / "no_images", idx_header(0x08, {0, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}));
        write_plain(dir / "no_labels", idx_header(0x08, {0}));
        CHECK_THAT(invalid_message([&] { sg::load_idx_dataset(dir / "no_images", dir / "no_labels"); }),
                   Catch::Contains("more values per example"));
        write_plain(dir / "no_images", idx_header(0x08, {0, 28, 28}));
        const sg::ValueDataset empty = sg::load_idx_dataset(dir / "no_images", dir / "no_labels");
        CHECK(empty.size() == 0);
        CHECK(empty.num_inputs == 784);
    }
    SECTION("nonexistent files and directories") {
        const fs::path nowhere = dir / "no_such_file.gz";
        CHECK_THAT(invalid_message([&] { sg::read_idx(nowhere); }),
                   Catch::Contains("cannot open " + quoted(nowhere)));
        CHECK_THAT(invalid_message([&] { sg::load_idx_dataset(dir / "imgs.gz", nowhere); }),
                   Catch::Contains(nowhere.string()));
        CHECK_THAT(invalid_message([&] { sg::read_idx(dir); }), Catch::Contains(quoted(dir)));
    }
}

TEST_CASE("load_mnist finds plain and gzip'd files", "[idx]") {
    const fs::path dir = test_dir() / "mnist_layout";
    fs::remove_all(dir);
    fs::create_directories(dir);
    Bytes pixels(2 * 28 * 28);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i % 256);
    write_plain(dir / "train-images-idx3-ubyte", idx_u8({2, 28, 28}, pixels));
    write_gzip(dir / "train-labels-idx1-ubyte.gz", idx_u8({2}, {5, 7}));
    const sg::ValueDataset data = sg::load_mnist(dir, "train");
    CHECK(data.size() == 2);
    CHECK(data.num_inputs == 784);
    CHECK(data.labels == std::vector<std::int32_t>{5, 7});
    CHECK(data.values[300] == 300.0f - 256.0f);

    CHECK_THAT(invalid_message([&] { sg::load_mnist(dir, "test"); }), Catch::Contains("got \"test\""));
    const std::string m = invalid_message([&] { sg::load_mnist(dir, "t10k"); });
    CHECK_THAT(m, Catch::Contains((dir / "t10k-images-idx3-ubyte").string()) && Catch::Contains("neither"));
}
