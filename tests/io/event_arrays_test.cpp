// tonic-style event arrays: real numpy files of tonic's dtypes (NMNIST,
// DVSGesture, SHD), expected neuron ids from tonic's ToFrame layout computed
// here by hand, the real N-MNIST recording re-packed as tonic would save it,
// and every kind of bad event.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <spikegraph/data/event_arrays.hpp>

#include "npy_fixtures.hpp"

namespace sg = spikegraph;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using npy_fixtures::from_hex;

namespace {

sg::NpyArray fixture(std::string_view hex, std::string_view name) { return sg::parse_npy(from_hex(hex), name); }

// id of tonic's flattened ToFrame frame (polarity, height, width).
std::uint32_t frame_index(std::uint64_t x, std::uint64_t y, std::uint64_t p, std::uint64_t width, std::uint64_t height) {
    return std::uint32_t((p * height + y) * width + x);
}

// A structured array of int64 x, y, t, p records, as tonic's NMNIST dtype.
struct Event {
    std::int64_t x, y, t, p;
};
std::vector<std::uint8_t> tonic_npy(const std::vector<Event>& events) {
    std::string header = "{'descr': [('x', '<i8'), ('y', '<i8'), ('t', '<i8'), ('p', '<i8')], 'fortran_order': False, 'shape': (" +
                         std::to_string(events.size()) + ",), }";
    std::vector<std::uint8_t> out(10 + header.size() + 32 * events.size());
    const std::uint8_t prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, std::uint8_t(header.size()), std::uint8_t(header.size() >> 8)};
    std::copy(prefix, prefix + 10, out.begin());
    std::copy(header.begin(), header.end(), out.begin() + 10);
    std::size_t at = 10 + header.size();
    for (const Event& e : events)
        for (std::int64_t v : {e.x, e.y, e.t, e.p})
            for (int k = 0; k < 8; ++k) out[at++] = std::uint8_t(std::uint64_t(v) >> (8 * k));
    return out;
}

std::string events_error(const sg::NpyArray& a, const sg::SensorSize& sensor, const sg::EventArrayOptions& options = {}) {
    try {
        (void)sg::events_from_array(a, sensor, options);
    } catch (const sg::InvalidArgument& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("event arrays: tonic's NMNIST dtype, ids in ToFrame order, times in ms", "[events]") {
    // Records (x, y, t us, p): (3, 4, 1000, 1), (33, 0, 1500, 0), (0, 33, 1500, 1), (10, 20, 311000, 0).
    const auto events = sg::events_from_array(fixture(npy_fixtures::tonic_nmnist_hex, "nmnist.npy"), sg::SensorSize{34, 34, 2});
    // Sorted by time, then id: the two events at 1.5 ms come out as id 33 before id 2278.
    CHECK(events.times == std::vector<float>{1.0f, 1.5f, 1.5f, 311.0f});
    CHECK(events.ids == std::vector<std::uint32_t>{frame_index(3, 4, 1, 34, 34), frame_index(33, 0, 0, 34, 34),
                                                   frame_index(0, 33, 1, 34, 34), frame_index(10, 20, 0, 34, 34)});
    CHECK(events.ids == std::vector<std::uint32_t>{1295, 33, 2278, 690});

    sg::EventArrayOptions in_ms;
    in_ms.time_unit_ms = 1.0;  // t already in ms
    CHECK(sg::events_from_array(fixture(npy_fixtures::tonic_nmnist_hex, "nmnist.npy"), {34, 34, 2}, in_ms).times ==
          std::vector<float>{1000.0f, 1500.0f, 1500.0f, 311000.0f});
    sg::EventArrayOptions merged;
    merged.merge_polarities = true;
    CHECK(sg::events_from_array(fixture(npy_fixtures::tonic_nmnist_hex, "nmnist.npy"), {34, 34, 1}, merged).ids ==
          std::vector<std::uint32_t>{frame_index(3, 4, 0, 34, 34), frame_index(33, 0, 0, 34, 34),
                                     frame_index(0, 33, 0, 34, 34), frame_index(10, 20, 0, 34, 34)});
}

TEST_CASE("event arrays: DVSGesture's int16/bool fields, SHD's t/x/p without y", "[events]") {
    // (x, y, p, t): (1, 2, True, 5), (3, 1, False, 9), sensor 4 x 3 x 2.
    const auto g = sg::events_from_array(fixture(npy_fixtures::tonic_dvsgesture_hex, "gesture.npy"), {4, 3, 2});
    CHECK(g.ids == std::vector<std::uint32_t>{frame_index(1, 2, 1, 4, 3), frame_index(3, 1, 0, 4, 3)});
    CHECK(g.times == std::vector<float>{0.005f, 0.009f});

    // (t, x, p): (10.5, 3, 0), (20.0, 699, 0); float times; no y field.
    const auto shd = fixture(npy_fixtures::shd_events_hex, "shd.npy");
    const auto s = sg::events_from_array(shd, {700, 1, 1});
    CHECK(s.ids == std::vector<std::uint32_t>{3, 699});
    CHECK(s.times == std::vector<float>{float(10.5 * 1e-3), float(20.0 * 1e-3)});
    CHECK_THAT(events_error(shd, {700, 2, 1}), Contains("shd.npy: field 'y': expected it for a sensor of height 2, got no such field"));
    CHECK_THAT(events_error(shd, {600, 1, 1}), Contains("shd.npy: event 1: field 'x' has value 699, expected 0 <= x < 600 (sensor width)"));
}

TEST_CASE("event arrays: every bad event is named by file, index, field and value", "[events]") {
    const auto nmnist = fixture(npy_fixtures::tonic_nmnist_hex, "nmnist.npy");
    CHECK_THAT(events_error(nmnist, {30, 34, 2}), Contains("nmnist.npy: event 1: field 'x' has value 33, expected 0 <= x < 30 (sensor width)"));
    CHECK_THAT(events_error(nmnist, {34, 20, 2}), Contains("nmnist.npy: event 2: field 'y' has value 33, expected 0 <= y < 20 (sensor height)"));
    CHECK_THAT(events_error(nmnist, {34, 34, 1}), Contains("nmnist.npy: event 0: field 'p' has value 1, expected 0 <= p < 1"));
    CHECK_THAT(events_error(nmnist, {0, 34, 2}), Contains("expected every dimension > 0"));

    auto parse = [](const std::vector<Event>& e) { return sg::parse_npy(tonic_npy(e), "made.npy"); };
    CHECK_THAT(events_error(parse({{1, 1, 5, 0}, {1, 1, 4, 0}}), {2, 2, 2}),
               Contains("made.npy: event 1: field 't' has value 4 after 5, expected non-decreasing times"));
    CHECK_THAT(events_error(parse({{1, 1, -3, 0}}), {2, 2, 2}),
               Contains("made.npy: event 0: field 't' has value -3, expected a finite time >= 0"));
    CHECK_THAT(events_error(parse({{-1, 1, 3, 0}}), {2, 2, 2}),
               Contains("made.npy: event 0: field 'x' has value -1, expected 0 <= x < 2"));
    CHECK_THAT(events_error(parse({{0, 0, 0, -1}}), {2, 2, 2}),
               Contains("made.npy: event 0: field 'p' has value -1, expected 0 <= p < 2"));

    // Float coordinates must be whole numbers.
    const std::string header = "{'descr': [('x', '<f4'), ('t', '<f4')], 'fortran_order': False, 'shape': (2,)}";
    std::vector<std::uint8_t> bytes(10 + header.size() + 16);
    const std::uint8_t prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, std::uint8_t(header.size()), 0};
    std::copy(prefix, prefix + 10, bytes.begin());
    std::copy(header.begin(), header.end(), bytes.begin() + 10);
    const float records[4] = {1.0f, 0.0f, 1.5f, 2.0f};  // (x, t) = (1, 0), (1.5, 2)
    for (int i = 0; i < 4; ++i) {
        std::uint32_t bits;
        std::memcpy(&bits, &records[i], 4);
        for (int k = 0; k < 4; ++k) bytes[10 + header.size() + std::size_t(4 * i + k)] = std::uint8_t(bits >> (8 * k));
    }
    CHECK_THAT(events_error(sg::parse_npy(bytes, "float.npy"), {4, 1, 1}),
               Contains("float.npy: event 1: field 'x' has value 1.5 (float32), which int64 cannot hold"));

    CHECK_THAT(events_error(fixture(npy_fixtures::f4_2x3_hex, "plain.npy"), {4, 1, 1}),
               Contains("plain.npy: dtype: expected a structured array with fields 'x', 'y', 't', 'p'"));
    CHECK_THAT(events_error(fixture(npy_fixtures::brief_events_hex, "brief.npy"), {8, 8, 2},
                            [] {
                                sg::EventArrayOptions o;
                                o.t_field = "ts";
                                return o;
                            }()),
               Contains("brief.npy: field 'ts': expected one of the fields 'x', 'y', 't', 'p', got no such field"));
    // The brief's packed dtype with int8 polarity reads too.
    const auto b = sg::events_from_array(fixture(npy_fixtures::brief_events_hex, "brief.npy"), {8, 8, 2});
    CHECK(b.ids == std::vector<std::uint32_t>{frame_index(1, 2, 1, 8, 8), frame_index(4, 5, 0, 8, 8)});
}

TEST_CASE("event arrays: truncated files fail cleanly at every length", "[events]") {
    const fs::path dir = fs::current_path() / "event_files";
    fs::create_directories(dir);
    const auto full = from_hex(npy_fixtures::tonic_nmnist_hex);
    for (std::size_t n = 0; n < full.size(); ++n) {
        // A new file each time: rewriting one file in place makes ext4 flush it on every close.
        const fs::path cut = dir / ("cut-" + std::to_string(n) + ".npy");
        {
            std::ofstream out(cut, std::ios::binary);
            out.write(reinterpret_cast<const char*>(full.data()), std::streamsize(n));
        }
        INFO("length " << n);
        CHECK_THROWS_WITH(sg::read_event_array(cut, {34, 34, 2}), Contains(cut.filename().string() + ": byte "));
        fs::remove(cut);
    }
    fs::remove_all(dir);
}

TEST_CASE("event arrays: the real N-MNIST sample, saved as tonic saves events", "[events][data]") {
    const char* root = std::getenv("SPIKEGRAPH_SHARED_DATA");
    const fs::path file = root ? fs::path(root) / "events" / "sample_nmnist.bin" : fs::path();
    if (!root || !fs::exists(file)) {
        WARN("SKIPPED: events/sample_nmnist.bin not found (set SPIKEGRAPH_SHARED_DATA to ../shared/data)");
        return;
    }
    std::ifstream in(file, std::ios::binary);
    const std::vector<std::uint8_t> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(raw.size() % 5 == 0);
    // N-MNIST .bin: 5 bytes an event (x, y, p in the top bit of byte 2, 23-bit t in us).
    std::vector<Event> events;
    std::vector<std::pair<float, std::uint32_t>> expected;
    for (std::size_t i = 0; i + 5 <= raw.size(); i += 5) {
        const Event e{raw[i], raw[i + 1], (std::int64_t(raw[i + 2] & 0x7f) << 16) | (raw[i + 3] << 8) | raw[i + 4],
                      raw[i + 2] >> 7};
        events.push_back(e);
        expected.emplace_back(float(double(e.t) * 1e-3), frame_index(std::uint64_t(e.x), std::uint64_t(e.y), std::uint64_t(e.p), 34, 34));
    }
    REQUIRE(events.size() == 4325);
    std::sort(expected.begin(), expected.end());

    const fs::path dir = fs::current_path() / "event_files_real";
    fs::create_directories(dir);
    const auto bytes = tonic_npy(events);
    {
        std::ofstream out(dir / "sample.npy", std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    }
    const sg::SpikeEvents got = sg::read_event_array(dir / "sample.npy", {34, 34, 2});
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO("event " << i);
        CHECK(got.times[i] == expected[i].first);
        CHECK(got.ids[i] == expected[i].second);
    }
    CHECK(got.times.back() <= 311.2f);
    fs::remove_all(dir);
}
