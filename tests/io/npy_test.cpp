// .npy reading and writing against real numpy files (npy_fixtures.hpp: bytes
// numpy 2.4.6 wrote), hand-written headers in every legal spelling, byte-exact
// agreement of our writer with numpy's, round trips of every dtype, and
// truncated/corrupt inputs at every length.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <spikegraph/io/npy.hpp>

#include "npy_fixtures.hpp"

namespace sg = spikegraph;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using npy_fixtures::from_hex;

namespace {

sg::NpyArray parse_hex(std::string_view hex, std::string_view name = "fixture.npy") {
    return sg::parse_npy(from_hex(hex), name);
}

// A .npy file built by hand: magic, version, little-endian header length, the
// header text exactly as given and the data bytes.
std::vector<std::uint8_t> make_npy(std::string_view header, const std::vector<std::uint8_t>& data = {}, int major = 1) {
    const std::size_t prefix = major >= 2 ? 12 : 10, n = header.size();
    std::vector<std::uint8_t> out(prefix + n + data.size());
    const std::uint8_t magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', std::uint8_t(major), 0};
    std::copy(magic, magic + 8, out.begin());
    for (std::size_t k = 8; k < prefix; ++k) out[k] = std::uint8_t(n >> (8 * (k - 8)));
    std::copy(header.begin(), header.end(), out.begin() + std::ptrdiff_t(prefix));
    std::copy(data.begin(), data.end(), out.begin() + std::ptrdiff_t(prefix + n));
    return out;
}

std::vector<std::uint8_t> le_floats(std::initializer_list<float> values) {
    std::vector<std::uint8_t> out;
    for (float v : values) {
        std::uint32_t bits;
        std::memcpy(&bits, &v, 4);
        for (int k = 0; k < 4; ++k) out.push_back(std::uint8_t(bits >> (8 * k)));
    }
    return out;
}

std::string error_of(const std::vector<std::uint8_t>& bytes, std::string_view name = "hand.npy") {
    try {
        (void)sg::parse_npy(bytes, name);
    } catch (const sg::InvalidArgument& e) {
        return e.what();
    }
    return "";
}

template <class T>
std::string conversion_error(const sg::NpyArray& a) {
    try {
        (void)a.as<T>();
    } catch (const sg::InvalidArgument& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("npy: real numpy files of every dtype, byte order and layout", "[npy]") {
    SECTION("float32 (2, 3)") {
        const auto a = parse_hex(npy_fixtures::f4_2x3_hex);
        CHECK(a.shape == std::vector<std::size_t>{2, 3});
        CHECK(a.descr == "<f4");
        CHECK(a.itemsize == 4);
        CHECK_FALSE(a.structured());
        CHECK(a.as<float>() == std::vector<float>{-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f});
        CHECK(a.as<double>() == std::vector<double>{-1.0, -0.5, 0.0, 0.5, 1.0, 1.5});
        // -0.5 is not an integer.
        CHECK_THAT(conversion_error<std::int32_t>(a),
                   Contains("fixture.npy: element 1 has value -0.5 (float32), which int32 cannot hold"));
    }
    SECTION("big-endian float64 is byte-swapped; float32 cannot hold 1e300") {
        const auto a = parse_hex(npy_fixtures::f8_be_hex);
        CHECK(a.descr == "<f8");  // normalised: the data is now little-endian
        CHECK(a.as<double>() == std::vector<double>{1.5, -2.25, 1e300});
        CHECK_THAT(conversion_error<float>(a), Contains("element 2 has value 1e+300 (float64), which float32 cannot hold"));
    }
    SECTION("big-endian int32") {
        CHECK(parse_hex(npy_fixtures::i4_be_hex).as<std::int32_t>() == std::vector<std::int32_t>{-2, 100000});
    }
    SECTION("fortran_order True is transposed to C order") {
        const auto a = parse_hex(npy_fixtures::i2_fortran_hex);
        CHECK(a.shape == std::vector<std::size_t>{2, 3});
        CHECK(a.as<std::int16_t>() == std::vector<std::int16_t>{1, 2, 3, 4, 5, 6});
        const auto b = parse_hex(npy_fixtures::f8_fortran3d_hex);
        CHECK(b.shape == std::vector<std::size_t>{2, 3, 4});
        std::vector<double> expected(24);
        for (int i = 0; i < 24; ++i) expected[std::size_t(i)] = i;
        CHECK(b.as<double>() == expected);
    }
    SECTION("a scalar has shape ()") {
        const auto a = parse_hex(npy_fixtures::i8_scalar_hex);
        CHECK(a.shape.empty());
        CHECK(a.size() == 1);
        CHECK(a.as<std::int64_t>() == std::vector<std::int64_t>{-5});
        CHECK_THAT(conversion_error<std::uint8_t>(a), Contains("element 0 has value -5 (int64), which uint8 cannot hold"));
    }
    SECTION("format versions 2.0 and 3.0") {
        for (auto hex : {npy_fixtures::u2_v2_hex, npy_fixtures::u2_v3_hex}) {
            const auto a = parse_hex(hex);
            CHECK(a.descr == "<u2");
            CHECK(a.as<std::uint16_t>() == std::vector<std::uint16_t>{1, 65535, 7});
            CHECK_THAT(conversion_error<std::int16_t>(a), Contains("element 1 has value 65535 (uint16), which int16 cannot hold"));
        }
    }
    SECTION("bool, uint8, int8, uint32, uint64, int64 3-D, empty") {
        const auto b = parse_hex(npy_fixtures::b1_hex);
        CHECK(b.descr == "|b1");
        CHECK(b.as<bool>() == std::vector<bool>{true, false, true});
        CHECK(b.as<float>() == std::vector<float>{1.0f, 0.0f, 1.0f});
        CHECK(parse_hex(npy_fixtures::u1_hex).as<std::uint8_t>() == std::vector<std::uint8_t>{0, 200, 255});
        CHECK_THAT(conversion_error<std::int8_t>(parse_hex(npy_fixtures::u1_hex)), Contains("element 1 has value 200"));
        CHECK(parse_hex(npy_fixtures::i1_hex).as<std::int8_t>() == std::vector<std::int8_t>{-128, 0, 127});
        CHECK(parse_hex(npy_fixtures::i1_hex).descr == "|i1");
        CHECK(parse_hex(npy_fixtures::u4_hex).as<std::int64_t>() == std::vector<std::int64_t>{4000000000, 1});
        CHECK_THAT(conversion_error<std::int32_t>(parse_hex(npy_fixtures::u4_hex)), Contains("element 0 has value 4000000000"));
        const auto u8 = parse_hex(npy_fixtures::u8_hex);
        CHECK(u8.as<std::uint64_t>() == std::vector<std::uint64_t>{UINT64_MAX, 3});
        CHECK_THAT(conversion_error<std::int64_t>(u8), Contains("element 0 has value 18446744073709551615 (uint64), which int64 cannot hold"));
        CHECK_THAT(conversion_error<bool>(u8), Contains("which bool cannot hold"));
        const auto i3 = parse_hex(npy_fixtures::i8_3d_hex);
        CHECK(i3.shape == std::vector<std::size_t>{2, 2, 2});
        CHECK(i3.as<std::int64_t>() == std::vector<std::int64_t>{-4, -3, -2, -1, 0, 1, 2, 3});
        const auto e = parse_hex(npy_fixtures::f4_empty_hex);
        CHECK(e.shape == std::vector<std::size_t>{0, 3});
        CHECK(e.size() == 0);
        CHECK(e.as<float>().empty());
    }
    SECTION("structured arrays: fields, padding of aligned structs") {
        const auto a = parse_hex(npy_fixtures::brief_events_hex);
        REQUIRE(a.structured());
        CHECK(a.descr == "[('x', '<i2'), ('y', '<i2'), ('t', '<i8'), ('p', '|i1')]");
        CHECK(a.itemsize == 13);
        CHECK(a.field<std::int16_t>("x") == std::vector<std::int16_t>{1, 4});
        CHECK(a.field<std::int64_t>("t") == std::vector<std::int64_t>{3, 6});
        CHECK(a.field<double>("p") == std::vector<double>{1.0, 0.0});
        CHECK_THROWS_WITH(a.as<float>(), Contains("structured array"));
        CHECK_THROWS_WITH(a.field<float>("q"), Contains("field 'q': expected one of the fields 'x', 'y', 't', 'p'"));

        const auto b = parse_hex(npy_fixtures::aligned_events_hex);
        REQUIRE(b.fields.size() == 4);  // the two '|V' padding fields are skipped
        CHECK(b.itemsize == 24);
        CHECK(b.fields[2].name == "t");
        CHECK(b.fields[2].offset == 8);
        CHECK(b.fields[3].offset == 16);
        CHECK(b.field<std::int64_t>("t") == std::vector<std::int64_t>{3, 6});
        CHECK(b.field<std::int8_t>("p") == std::vector<std::int8_t>{1, 0});
    }
}

TEST_CASE("npy: our writer produces numpy's exact bytes", "[npy]") {
    // numpy pads the header to 64 bytes with spaces and '\n', as we do.
    CHECK(sg::encode_npy<float>(std::vector<float>{-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f}, {2, 3}) ==
          from_hex(npy_fixtures::f4_2x3_hex));
    const bool flags[] = {true, false, true};
    CHECK(sg::encode_npy<bool>(flags, {3}) == from_hex(npy_fixtures::b1_hex));
    CHECK(sg::encode_npy<std::uint8_t>(std::vector<std::uint8_t>{0, 200, 255}, {3}) == from_hex(npy_fixtures::u1_hex));
    CHECK(sg::encode_npy<std::int8_t>(std::vector<std::int8_t>{-128, 0, 127}, {3}) == from_hex(npy_fixtures::i1_hex));
    CHECK(sg::encode_npy<std::int64_t>(std::vector<std::int64_t>{-5}, {}) == from_hex(npy_fixtures::i8_scalar_hex));
    CHECK(sg::encode_npy<std::int64_t>(std::vector<std::int64_t>{-4, -3, -2, -1, 0, 1, 2, 3}, {2, 2, 2}) ==
          from_hex(npy_fixtures::i8_3d_hex));
    CHECK(sg::encode_npy<float>(std::vector<float>{}, {0, 3}) == from_hex(npy_fixtures::f4_empty_hex));
    CHECK(sg::encode_npy<std::uint32_t>(std::vector<std::uint32_t>{4000000000u, 1}, {2}) == from_hex(npy_fixtures::u4_hex));
    CHECK(sg::encode_npy<std::uint64_t>(std::vector<std::uint64_t>{UINT64_MAX, 3}, {2}) == from_hex(npy_fixtures::u8_hex));
}

namespace {
template <class T>
void check_round_trip(const std::vector<T>& values, std::vector<std::size_t> shape) {
    // A plain array, since std::vector<bool> has no contiguous storage.
    std::unique_ptr<T[]> buffer(new T[values.size() + 1]);
    std::copy(values.begin(), values.end(), buffer.get());
    const auto bytes = sg::encode_npy<T>(std::span<const T>(buffer.get(), values.size()), shape);
    // numpy's layout: magic, version 1.0, header padded to a multiple of 64 ending in '\n'.
    REQUIRE(bytes.size() >= 10);
    CHECK(bytes[6] == 1);
    const std::size_t header_len = bytes[8] | (bytes[9] << 8);
    CHECK((10 + header_len) % 64 == 0);
    CHECK(bytes[10 + header_len - 1] == '\n');
    const auto a = sg::parse_npy(bytes, "round trip");
    CHECK(a.shape == shape);
    CHECK(a.descr == sg::npy_type_of<T>().descr());
    CHECK(a.template as<T>() == values);
}
}  // namespace

TEST_CASE("npy: round trips of every dtype and shape", "[npy]") {
    check_round_trip<float>({1.0f, -0.0f, std::numeric_limits<float>::infinity(), 3.25e-41f, -7.5f, 1e38f}, {2, 3});
    check_round_trip<double>({0.1, -1e-300, 1e300}, {3});
    check_round_trip<std::int8_t>({-128, 127}, {2, 1});
    check_round_trip<std::int16_t>({-32768, 32767, 0}, {3});
    check_round_trip<std::int32_t>({INT32_MIN, INT32_MAX}, {1, 2});
    check_round_trip<std::int64_t>({INT64_MIN, INT64_MAX, 0, 1}, {2, 2});
    check_round_trip<std::uint8_t>({0, 255}, {2});
    check_round_trip<std::uint16_t>({0, 65535}, {2});
    check_round_trip<std::uint32_t>({0, UINT32_MAX}, {2});
    check_round_trip<std::uint64_t>({0, UINT64_MAX}, {2});
    check_round_trip<bool>({true, true, false}, {3});
    check_round_trip<float>({}, {0});
    check_round_trip<float>({}, {4, 0, 2});
    check_round_trip<double>({2.5}, {});
    std::vector<float> cube(24);
    for (std::size_t i = 0; i < cube.size(); ++i) cube[i] = float(i) * 0.25f;
    check_round_trip<float>(cube, {2, 3, 4});
    // NaN compares unequal, so check its bits.
    const auto nan = sg::parse_npy(sg::encode_npy<float>(std::vector<float>{std::nanf("")}, {1})).as<float>();
    CHECK(std::isnan(nan[0]));

    SECTION("a header over 65535 bytes is written as version 2.0") {
        std::vector<std::size_t> shape(30000, 1);
        const auto bytes = sg::encode_npy<float>(std::vector<float>{2.5f}, shape);
        CHECK(bytes[6] == 2);
        const std::size_t header_len = bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (std::size_t(bytes[11]) << 24);
        CHECK(header_len > 65535);
        CHECK((12 + header_len) % 64 == 0);
        const auto a = sg::parse_npy(bytes);
        CHECK(a.shape == shape);
        CHECK(a.as<float>() == std::vector<float>{2.5f});
    }
    SECTION("shape and data must agree") {
        CHECK_THROWS_WITH(sg::encode_npy<float>(std::vector<float>{1, 2, 3}, {2, 2}),
                          Contains("shape (2, 2) holds 4 elements, got 3 values"));
    }
}

TEST_CASE("npy: files on disk, written atomically", "[npy]") {
    const fs::path dir = fs::current_path() / "npy_files";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::vector<std::int32_t> values{1, -2, 3, -4, 5, -6};
    sg::write_npy(dir / "a.npy", values, {3, 2});
    const auto a = sg::read_npy(dir / "a.npy");
    CHECK(a.shape == std::vector<std::size_t>{3, 2});
    CHECK(a.as<std::int32_t>() == values);
    CHECK(a.source == (dir / "a.npy").string());
    sg::write_npy(dir / "a.npy", std::vector<double>{0.5}, {1});  // replaces the file
    CHECK(sg::read_npy(dir / "a.npy").as<double>() == std::vector<double>{0.5});

    CHECK_THROWS_WITH(sg::read_npy(dir / "missing.npy"), Contains("missing.npy") && Contains("cannot open"));
    CHECK_THROWS_AS(sg::write_npy(dir / "no_such_dir" / "b.npy", values, {6}), sg::InvalidArgument);
    // A directory in the way: the rename fails, the directory survives, no temp file remains.
    fs::create_directories(dir / "blocked" / "inside");
    CHECK_THROWS_WITH(sg::write_npy(dir / "blocked", values, {6}), Contains("blocked") && Contains("rename"));
    CHECK(fs::is_directory(dir / "blocked" / "inside"));
    for (const auto& entry : fs::directory_iterator(dir))
        CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
    CHECK_THROWS_WITH(sg::write_npy(dir / "shape.npy", values, {4}), Contains("shape (4,) holds 4 elements, got 6 values"));
    fs::remove_all(dir);
}

TEST_CASE("npy: every legal header spelling", "[npy]") {
    const auto data = le_floats({1.0f, 2.0f, 3.0f});
    const std::vector<std::string> headers = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
        "{'shape': (3,), 'descr': '<f4', 'fortran_order': False}",           // any order, no trailing comma
        "{ 'fortran_order' :False ,'shape':( 3 , ) ,'descr':'<f4' , }   \n",  // spaces everywhere
        "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3,)}",     // double quotes
        "{'descr': u'<f4', 'fortran_order': False, 'shape': (3L,), }\n",      // Python 2 numpy
        "{'descr': 'f4', 'fortran_order': False, 'shape': (3,)}",             // native byte order
        "{'descr': '=f4', 'fortran_order': True, 'shape': (3,)}\t\n",         // 1-D Fortran is C
    };
    for (const auto& h : headers) {
        INFO(h);
        const auto a = sg::parse_npy(make_npy(h, data));
        CHECK(a.shape == std::vector<std::size_t>{3});
        CHECK(a.as<float>() == std::vector<float>{1.0f, 2.0f, 3.0f});
    }
    // Structured descr written with a trailing comma and mixed quotes.
    std::vector<std::uint8_t> records = {1, 0, 5, 2, 0, 6};
    const auto s = sg::parse_npy(make_npy("{'descr': [(\"x\", '<i2'), ('p', '|u1'),], 'fortran_order': False, 'shape': (2,)}", records));
    CHECK(s.field<int>("x") == std::vector<int>{1, 2});
    CHECK(s.field<int>("p") == std::vector<int>{5, 6});
    // Big-endian fields are swapped one by one.
    const auto be = sg::parse_npy(make_npy("{'descr': [('a', '>u2'), ('b', '<u2')], 'fortran_order': False, 'shape': (1,)}", {0x01, 0x02, 0x01, 0x02}));
    CHECK(be.field<std::uint16_t>("a") == std::vector<std::uint16_t>{0x0102});
    CHECK(be.field<std::uint16_t>("b") == std::vector<std::uint16_t>{0x0201});
}

TEST_CASE("npy: header errors name the file, offset, field, expected and got", "[npy]") {
    const auto data = le_floats({1.0f, 2.0f, 3.0f});
    struct Case {
        std::string header;
        std::string message;
    };
    const std::vector<Case> cases = {
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3), }",
         "hand.npy: byte 61: field 'shape': expected a tuple of non-negative integers, got an integer"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }",
         "hand.npy: byte 61: field 'shape': expected a tuple of non-negative integers, got -3"},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }",
         "hand.npy: byte 44: field 'fortran_order': expected True or False, got an integer"},
        {"{'descr': '<f4', 'shape': (3,), }", "hand.npy: byte 10: header: field 'fortran_order': expected, got none"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}",
         "hand.npy: byte 66: header: expected keys 'descr', 'fortran_order', 'shape', got 'extra'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}",
         "hand.npy: byte 27: header: field 'descr': expected once, got twice"},
        {"{'descr': '<c8', 'fortran_order': False, 'shape': (3,)}", "hand.npy: byte 20: field 'descr': expected a dtype"},
        {"{'descr': '<U3', 'fortran_order': False, 'shape': (3,)}", "got '<U3'"},
        {"{'descr': '|O', 'fortran_order': False, 'shape': (3,)}", "got '|O'"},
        {"{'descr': '<f2', 'fortran_order': False, 'shape': (3,)}", "got '<f2'"},
        {"{'descr': [('x', '<i4', (3,))], 'fortran_order': False, 'shape': (1,)}", "subarray fields are not supported"},
        {"{'descr': [('x', [('a', '<i4')])], 'fortran_order': False, 'shape': (1,)}", "nested structured fields are not supported"},
        {"{'descr': [(('title', 'x'), '<i4')], 'fortran_order': False, 'shape': (1,)}", "titled fields are not supported"},
        {"{'descr': [('x', '<i4'), ('x', '<i4')], 'fortran_order': False, 'shape': (1,)}", "expected unique field names, got 'x' twice"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), ", "hand.npy: byte 66: header: expected a key or '}', got end of header"},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (3,)}", "hand.npy: byte"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3.0,)}", "hand.npy: byte 61: header: expected an integer, got '3.0,)}'"},
        {"['descr', '<f4']", "hand.npy: byte 10: header: expected a dict literal {...}, got a list"},
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (3,)}", "hand.npy: byte 44: header: expected a value"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} junk", "hand.npy: byte 66: header: expected end of the literal, got 'junk'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", "hand.npy: byte 65: data: expected 4 x 4 = 16 bytes for shape (4,) and dtype <f4, got 12 bytes"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", "expected 2 x 4 = 8 bytes for shape (2,) and dtype <f4, got 12 bytes"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16)}",
         "data: expected an impossible size (the shape overflows)"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "expected an integer below 2^64"},
        {std::string(40, '(') + std::string(40, ')'), "expected literals nested at most 32 deep"},
    };
    for (const auto& c : cases) {
        INFO(c.header);
        CHECK_THAT(error_of(make_npy(c.header, data)), Contains(c.message));
    }
    CHECK_THAT(error_of({0x89, 'P', 'N', 'G', '\r', '\n', 0, 0, 0, 0}),
               Contains("hand.npy: byte 0: magic: expected '\\x93NUMPY', got '\\x89PNG\\r\\n'"));
    auto v4 = make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", data);
    v4[6] = 4;
    CHECK_THAT(error_of(v4), Contains("hand.npy: byte 6: version: expected 1.0, 2.0 or 3.0, got 4.0"));
    auto long_header = make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", data);
    long_header[9] = 0x40;  // header length 0x40xx, beyond the file
    CHECK_THAT(error_of(long_header), Contains("hand.npy: byte 8: header length: expected at most"));
}

TEST_CASE("npy: float-to-integer and narrowing conversions are range checked", "[npy]") {
    const auto a = sg::parse_npy(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (5,)}", [] {
        std::vector<std::uint8_t> out;
        for (double v : {3.0, -2.0, 2.5, std::nan(""), 1e39}) {
            std::uint64_t bits;
            std::memcpy(&bits, &v, 8);
            for (int k = 0; k < 8; ++k) out.push_back(std::uint8_t(bits >> (8 * k)));
        }
        return out;
    }()), "conv.npy");
    CHECK_THAT(conversion_error<std::int64_t>(a), Contains("conv.npy: element 2 has value 2.5 (float64), which int64 cannot hold"));
    CHECK_THAT(conversion_error<float>(a), Contains("element 4 has value 1e+39"));
    const auto d = a.as<double>();
    CHECK(std::isnan(d[3]));
    const auto ints = sg::parse_npy(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", le_floats({3.0f, -2.0f})));
    CHECK(ints.as<std::int8_t>() == std::vector<std::int8_t>{3, -2});
    CHECK_THAT(conversion_error<std::uint32_t>(ints), Contains("element 1 has value -2"));
    const auto big = sg::parse_npy(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", le_floats({2147483648.0f})));
    CHECK_THAT(conversion_error<std::int32_t>(big), Contains("which int32 cannot hold"));
    CHECK(big.as<std::int64_t>() == std::vector<std::int64_t>{2147483648LL});
    const auto inf = sg::parse_npy(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}",
                                            {0, 0, 0, 0, 0, 0, 0xf0, 0x7f}));
    CHECK(std::isinf(inf.as<float>()[0]));  // infinities stay infinite
}

TEST_CASE("npy: truncated or corrupted files fail cleanly at every length", "[npy]") {
    for (auto hex : {npy_fixtures::f4_2x3_hex, npy_fixtures::u2_v3_hex, npy_fixtures::aligned_events_hex,
                     npy_fixtures::f8_fortran3d_hex, npy_fixtures::i8_scalar_hex}) {
        const auto full = from_hex(hex);
        for (std::size_t n = 0; n < full.size(); ++n) {
            const std::vector<std::uint8_t> cut(full.begin(), full.begin() + std::ptrdiff_t(n));
            INFO("length " << n);
            const std::string message = error_of(cut, "cut.npy");
            CHECK_THAT(message, Contains("cut.npy: byte "));
        }
        // Any single corrupted header byte gives a valid array or an error, never a crash.
        const std::size_t header_end = 10 + (full[8] | (full[9] << 8));
        for (std::size_t i = 0; i < header_end; ++i) {
            for (std::uint8_t value : {std::uint8_t(0), std::uint8_t(0xff), std::uint8_t(full[i] ^ 0x20)}) {
                auto bad = full;
                bad[i] = value;
                try {
                    const auto a = sg::parse_npy(bad, "bad.npy");
                    CHECK(a.data.size() == a.size() * a.itemsize);
                } catch (const sg::InvalidArgument& e) {
                    CHECK_THAT(std::string(e.what()), Contains("bad.npy: byte "));
                }
            }
        }
    }
}
