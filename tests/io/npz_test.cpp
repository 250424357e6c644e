// .npz archives: real np.savez (stored, with numpy's ZIP64 local headers) and
// np.savez_compressed (deflate) files, our writer checked field by field
// against the ZIP specification (APPNOTE 6.3) with a CRC-32 written here,
// ZIP64 records, and truncated/corrupted archives at every length.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <spikegraph/io/npz.hpp>

#include "npy_fixtures.hpp"

namespace sg = spikegraph;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using npy_fixtures::from_hex;

namespace {

// Bitwise CRC-32 (reflected polynomial 0xEDB88320), independent of zlib.
std::uint32_t reference_crc32(const std::uint8_t* p, std::size_t n) {
    std::uint32_t crc = 0xffffffffu;
    for (std::size_t i = 0; i < n; ++i) {
        crc ^= p[i];
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

std::uint32_t u32(const std::vector<std::uint8_t>& b, std::size_t at) {
    return std::uint32_t(b[at]) | (std::uint32_t(b[at + 1]) << 8) | (std::uint32_t(b[at + 2]) << 16) | (std::uint32_t(b[at + 3]) << 24);
}
std::uint16_t u16(const std::vector<std::uint8_t>& b, std::size_t at) { return std::uint16_t(b[at] | (b[at + 1] << 8)); }
std::uint64_t u64(const std::vector<std::uint8_t>& b, std::size_t at) { return u32(b, at) | (std::uint64_t(u32(b, at + 4)) << 32); }

std::string npz_error(const std::vector<std::uint8_t>& bytes, std::string_view name = "bad.npz") {
    try {
        (void)sg::Npz::parse(bytes, name);
    } catch (const sg::InvalidArgument& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("npz: real np.savez and np.savez_compressed files", "[npz]") {
    for (auto hex : {npy_fixtures::savez_hex, npy_fixtures::savez_compressed_hex}) {
        const auto npz = sg::Npz::parse(from_hex(hex), "numpy.npz");
        CHECK(npz.contains("w"));
        CHECK(npz.contains("labels"));
        CHECK(npz.array("w").shape == std::vector<std::size_t>{2, 2});
        CHECK(npz.array("w").as<float>() == std::vector<float>{0.5f, -1.0f, 2.0f, 3.5f});
        CHECK(npz.array("labels").as<std::int64_t>() == std::vector<std::int64_t>{1, 0, 2});
        CHECK(npz.array("w").source == "numpy.npz: member 'w.npy'");
        CHECK_THROWS_WITH(npz.array("nope"), Contains("numpy.npz: member 'nope.npy': expected it in the archive, got none"));
    }
    const auto compressed = sg::Npz::parse(from_hex(npy_fixtures::savez_compressed_hex), "numpy.npz");
    CHECK(compressed.names() == std::vector<std::string>{"labels", "w", "zeros"});
    CHECK(compressed.array("zeros").as<float>() == std::vector<float>(200, 0.0f));
}

TEST_CASE("npz: our archives follow the ZIP specification", "[npz]") {
    sg::NpzWriter writer;
    const std::vector<float> w{1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
    const std::vector<std::int32_t> idx{0, 1, 2};
    writer.add("a-g", w, {2, 3});
    writer.add("a-pre_ind", idx, {3});
    writer.add_raw("manifest.json", std::string_view("{\"x\": 1}"));
    const auto bytes = writer.encode();

    // Walk the archive by the specification, independently of the reader.
    std::size_t at = 0;
    std::vector<std::pair<std::string, std::size_t>> locals;
    while (u32(bytes, at) == 0x04034b50) {
        const std::uint32_t crc = u32(bytes, at + 14), size = u32(bytes, at + 18);
        const std::size_t name_len = u16(bytes, at + 26), extra_len = u16(bytes, at + 28);
        CHECK(u16(bytes, at + 8) == 0);              // stored
        CHECK(u32(bytes, at + 22) == size);          // uncompressed == compressed
        const std::string name(bytes.begin() + std::ptrdiff_t(at + 30), bytes.begin() + std::ptrdiff_t(at + 30 + name_len));
        const std::size_t data = at + 30 + name_len + extra_len;
        CHECK(reference_crc32(bytes.data() + data, size) == crc);
        locals.emplace_back(name, at);
        at = data + size;
    }
    REQUIRE(locals.size() == 3);
    CHECK(locals[0].first == "a-g.npy");
    CHECK(locals[2].first == "manifest.json");
    // Central directory: one entry per member pointing at its local header; then the end record.
    const std::size_t cd = at;
    for (const auto& [name, offset] : locals) {
        REQUIRE(u32(bytes, at) == 0x02014b50);
        CHECK(u32(bytes, at + 42) == offset);
        const std::size_t n = u16(bytes, at + 28);
        CHECK(std::string(bytes.begin() + std::ptrdiff_t(at + 46), bytes.begin() + std::ptrdiff_t(at + 46 + n)) == name);
        at += 46 + n + u16(bytes, at + 30) + u16(bytes, at + 32);
    }
    REQUIRE(u32(bytes, at) == 0x06054b50);
    CHECK(u16(bytes, at + 10) == 3);
    CHECK(u32(bytes, at + 12) == at - cd);
    CHECK(u32(bytes, at + 16) == cd);
    CHECK(at + 22 == bytes.size());

    const auto npz = sg::Npz::parse(bytes, "ours.npz");
    CHECK(npz.array("a-g").as<float>() == w);
    CHECK(npz.array("a-pre_ind").as<std::int32_t>() == idx);
    REQUIRE(npz.raw("manifest.json") != nullptr);
    CHECK(std::string(npz.raw("manifest.json")->begin(), npz.raw("manifest.json")->end()) == "{\"x\": 1}");
    CHECK_THROWS_WITH(writer.add("a-g", w, {6}), Contains("member 'a-g.npy' added twice"));
}

TEST_CASE("npz: round trips of every dtype, with and without ZIP64 records", "[npz]") {
    for (std::uint64_t threshold : {std::uint64_t(0xffffffffu), std::uint64_t(0), std::uint64_t(200)}) {
        INFO("ZIP64 threshold " << threshold);
        sg::NpzWriter writer;
        writer.set_zip64_threshold(threshold);
        writer.add("f4", std::vector<float>{1.5f, -2.0f}, {2});
        writer.add("f8", std::vector<double>{1e300}, {});
        writer.add("i1", std::vector<std::int8_t>{-1, 2}, {2, 1});
        writer.add("i2", std::vector<std::int16_t>{-300}, {1});
        writer.add("i8", std::vector<std::int64_t>(100, -7), {10, 10});
        writer.add("u1", std::vector<std::uint8_t>{255}, {1});
        writer.add("u2", std::vector<std::uint16_t>{65535}, {1});
        writer.add("u4", std::vector<std::uint32_t>{7}, {1});
        writer.add("u8", std::vector<std::uint64_t>{UINT64_MAX}, {1});
        const bool flags[] = {true, false};
        writer.add("b1", std::span<const bool>(flags), {2});
        writer.add("empty", std::vector<float>{}, {0});
        const auto bytes = writer.encode();
        if (threshold == 0) {
            // A ZIP64 end record and locator precede the classic end record.
            CHECK(u32(bytes, bytes.size() - 22 - 20) == 0x07064b50);
            const std::uint64_t record = u64(bytes, bytes.size() - 22 - 20 + 8);
            CHECK(u32(bytes, std::size_t(record)) == 0x06064b50);
            CHECK(u64(bytes, std::size_t(record) + 32) == 11);  // entries
            CHECK(u32(bytes, bytes.size() - 22 + 16) == 0xffffffffu);
            CHECK(u32(bytes, 18) == 0xffffffffu);  // first local header: sizes in its ZIP64 extra field
        }
        const auto npz = sg::Npz::parse(bytes, "round.npz");
        CHECK(npz.array("f4").as<float>() == std::vector<float>{1.5f, -2.0f});
        CHECK(npz.array("f8").shape.empty());
        CHECK(npz.array("f8").as<double>() == std::vector<double>{1e300});
        CHECK(npz.array("i1").as<std::int8_t>() == std::vector<std::int8_t>{-1, 2});
        CHECK(npz.array("i2").as<std::int16_t>() == std::vector<std::int16_t>{-300});
        CHECK(npz.array("i8").as<std::int64_t>() == std::vector<std::int64_t>(100, -7));
        CHECK(npz.array("u1").as<std::uint8_t>() == std::vector<std::uint8_t>{255});
        CHECK(npz.array("u2").as<std::uint16_t>() == std::vector<std::uint16_t>{65535});
        CHECK(npz.array("u4").as<std::uint32_t>() == std::vector<std::uint32_t>{7});
        CHECK(npz.array("u8").as<std::uint64_t>() == std::vector<std::uint64_t>{UINT64_MAX});
        CHECK(npz.array("b1").as<bool>() == std::vector<bool>{true, false});
        CHECK(npz.array("empty").size() == 0);
    }
}

TEST_CASE("npz: files are written atomically", "[npz]") {
    const fs::path dir = fs::current_path() / "npz_files";
    fs::remove_all(dir);
    fs::create_directories(dir / "taken" / "child");
    sg::NpzWriter writer;
    writer.add("w", std::vector<float>{1, 2}, {2});
    writer.write(dir / "w.npz");
    CHECK(sg::read_npz(dir / "w.npz").array("w").as<float>() == std::vector<float>{1, 2});
    CHECK_THROWS_WITH(writer.write(dir / "taken"), Contains("taken") && Contains("previous contents are unchanged"));
    CHECK(fs::is_directory(dir / "taken" / "child"));
    for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
    CHECK_THROWS_WITH(sg::read_npz(dir / "absent.npz"), Contains("absent.npz") && Contains("cannot open"));
    fs::remove_all(dir);
}

TEST_CASE("npz: truncated and corrupted archives fail naming file, member and offset", "[npz]") {
    sg::NpzWriter zip64;
    zip64.set_zip64_threshold(0);
    zip64.add("w", std::vector<float>{1, 2, 3}, {3});
    for (const auto& full : {from_hex(npy_fixtures::savez_hex), from_hex(npy_fixtures::savez_compressed_hex), zip64.encode()}) {
        for (std::size_t n = 0; n < full.size(); ++n) {
            INFO("length " << n);
            const std::vector<std::uint8_t> cut(full.begin(), full.begin() + std::ptrdiff_t(n));
            CHECK_THAT(npz_error(cut), Contains("bad.npz: ") && Contains("byte "));
        }
        for (std::size_t i = 0; i < full.size(); ++i) {
            auto bad = full;
            bad[i] ^= 0xff;
            try {
                (void)sg::Npz::parse(bad, "flip.npz");  // a flip in unchecked fields (times, attributes) may pass
            } catch (const sg::InvalidArgument& e) {
                CHECK_THAT(std::string(e.what()), Contains("flip.npz: ") && Contains("byte "));
            }
        }
    }
    // A flipped data byte of a stored member: the CRC catches it, naming the member.
    auto stored = from_hex(npy_fixtures::savez_hex);
    // w.npy's local header: 30 bytes + "w.npy" + numpy's 20-byte ZIP64 extra field; then 128 bytes of npy header.
    stored[30 + 5 + 20 + 128 + 2] ^= 0x01;
    CHECK_THAT(npz_error(stored), Contains("bad.npz: member 'w.npy': byte ") && Contains("CRC-32: expected 0x"));
    CHECK_THAT(npz_error({'n', 'o', 't', ' ', 'a', ' ', 'z', 'i', 'p'}),
               Contains("bad.npz: byte 0: end of central directory: expected at least 22 bytes, got 9"));
    std::vector<std::uint8_t> junk(100, 0x41);
    CHECK_THAT(npz_error(junk), Contains("expected signature 0x06054b50"));
}
