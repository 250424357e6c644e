// N-MNIST .bin reader against the real sample recording (fields decoded by
// hand from its bytes, totals printed by Python) and against small files this
// test writes with its own encoder: round trips, tonic's timestamp-overflow
// markers, neuron id layouts, and bad files (size not a multiple of 5 at every
// length, events outside the sensor, missing files).
#include <catch2/catch.hpp>

#include "test_files.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <spikegraph/data/nmnist.hpp>

namespace sg = spikegraph;
namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

using reader_test::invalid_message;
using reader_test::quoted;
using reader_test::read_raw;
using reader_test::write_plain;

// The test's own encoder of the 5-byte records.
void put_event(Bytes& out, std::uint32_t x, std::uint32_t y, std::uint32_t p, std::uint32_t t_us) {
    out.push_back(static_cast<std::uint8_t>(x));
    out.push_back(static_cast<std::uint8_t>(y));
    out.push_back(static_cast<std::uint8_t>((p << 7) | ((t_us >> 16) & 0x7F)));
    out.push_back(static_cast<std::uint8_t>(t_us >> 8));
    out.push_back(static_cast<std::uint8_t>(t_us));
}

fs::path test_dir() { return reader_test::test_dir("nmnist_test_files"); }

std::optional<fs::path> shared_sample() {
    const auto root = reader_test::shared_data({"events/sample_nmnist.bin"}, "real N-MNIST checks");
    return root ? std::optional<fs::path>(*root / "events" / "sample_nmnist.bin") : std::nullopt;
}

// Reference conversion written out here: (time, id) pairs sorted by time,
// then id, as the SpikeInput contract requires.
std::vector<std::pair<float, std::uint32_t>> reference_spikes(const std::vector<sg::NmnistEvent>& events,
                                                              std::uint32_t (*id_of)(const sg::NmnistEvent&)) {
    std::vector<std::pair<float, std::uint32_t>> out;
    for (const auto& e : events) out.emplace_back(static_cast<float>(double(e.t_us) / 1000.0), id_of(e));
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::pair<float, std::uint32_t>> pairs_of(const sg::SpikeEvents& s) {
    std::vector<std::pair<float, std::uint32_t>> out;
    for (std::size_t i = 0; i < s.size(); ++i) out.emplace_back(s.times[i], s.ids[i]);
    return out;
}

}  // namespace

TEST_CASE("real N-MNIST sample", "[nmnist][real]") {
    const auto path = shared_sample();
    if (!path) return;
    const Bytes raw = read_raw(*path);
    REQUIRE(raw.size() == 21625);
    // The first record, 07 0F 80 02 8E, decoded by hand: x = 0x07, y = 0x0F,
    // p = 0x80 >> 7 = 1, t = (0x00 << 16) | (0x02 << 8) | 0x8E = 654 us.
    REQUIRE(Bytes(raw.begin(), raw.begin() + 5) == Bytes{0x07, 0x0F, 0x80, 0x02, 0x8E});

    const auto events = sg::read_nmnist_events(*path);
    REQUIRE(events.size() == 4325);
    CHECK(events[0].x == 7);
    CHECK(events[0].y == 15);
    CHECK(events[0].p == 1);
    CHECK(events[0].t_us == 654);
    // Python (plain byte arithmetic over the file): the last event, sums and
    // counts, which check every record.
    CHECK(events.back().x == 21);
    CHECK(events.back().y == 14);
    CHECK(events.back().p == 1);
    CHECK(events.back().t_us == 311175);
    std::uint64_t sum_x = 0, sum_y = 0, sum_t = 0, on = 0, max_t = 0;
    bool sorted = true;
    for (std::size_t i = 0; i < events.size(); ++i) {
        const auto& e = events[i];
        CHECK(e.x < 34);
        CHECK(e.y < 34);
        sum_x += e.x;
        sum_y += e.y;
        sum_t += e.t_us;
        on += e.p;
        max_t = std::max(max_t, e.t_us);
        if (i > 0 && e.t_us < events[i - 1].t_us) sorted = false;
    }
    CHECK(sum_x == 74457);
    CHECK(sum_y == 71931);
    CHECK(sum_t == 690487405);
    CHECK(on == 2145);
    CHECK(max_t == 311175);  // shared/data/README.md: t <= 311 ms (311.175 ms)
    CHECK(sorted);

    const sg::SpikeEvents spikes = sg::load_nmnist_spike_events(*path);
    REQUIRE(spikes.size() == 4325);
    CHECK(sg::nmnist_num_neurons() == 2312);
    CHECK(spikes.times.back() <= 312.0f);
    CHECK(spikes.times.back() == static_cast<float>(311.175));
    CHECK(pairs_of(spikes) ==
          reference_spikes(events, [](const sg::NmnistEvent& e) { return (e.p * 34 + e.y) * 34 + e.x; }));
    for (auto id : spikes.ids) CHECK(id < 2312);
}

TEST_CASE("round trip, overflow markers and id layouts", "[nmnist]") {
    const fs::path path = test_dir() / "roundtrip.bin";
    Bytes file;
    put_event(file, 0, 0, 0, 0);
    put_event(file, 33, 33, 1, (1u << 23) - 1);  // largest 23-bit time
    put_event(file, 5, 7, 1, 1000);              // out of time order: kept in file order here
    put_event(file, 0, 240, 0, 0);               // overflow marker: +8192 us from here on
    put_event(file, 12, 3, 0, 50);
    put_event(file, 0, 240, 1, 123);             // a second marker (its own fields are ignored)
    put_event(file, 1, 2, 1, 7);
    write_plain(path, file);

    const auto events = sg::read_nmnist_events(path);
    REQUIRE(events.size() == 5);
    const std::vector<std::vector<std::uint64_t>> expected{
        {0, 0, 0, 0}, {33, 33, 1, (1u << 23) - 1}, {5, 7, 1, 1000}, {12, 3, 0, 8192 + 50}, {1, 2, 1, 2 * 8192 + 7}};
    for (std::size_t i = 0; i < events.size(); ++i) {
        INFO("event " << i);
        CHECK(events[i].x == expected[i][0]);
        CHECK(events[i].y == expected[i][1]);
        CHECK(events[i].p == expected[i][2]);
        CHECK(events[i].t_us == expected[i][3]);
    }
    CHECK(sg::parse_nmnist_events(file, "buffer").size() == 5);

    // Unsorted input is sorted, not rejected.
    const sg::SpikeEvents major = sg::nmnist_to_spike_events(events);
    CHECK(std::is_sorted(major.times.begin(), major.times.end()));
    CHECK(pairs_of(major) ==
          reference_spikes(events, [](const sg::NmnistEvent& e) { return (e.p * 34 + e.y) * 34 + e.x; }));
    CHECK(major.ids.front() == 0);
    CHECK(major.ids.back() == 1156 + 33 * 34 + 33);  // the 8388.607 ms event, last after sorting
    CHECK(major.times.back() == static_cast<float>(8388.607));

    sg::NmnistEncoding ml_genn;
    ml_genn.layout = sg::NmnistLayout::ml_genn;
    CHECK(pairs_of(sg::nmnist_to_spike_events(events, ml_genn)) ==
          reference_spikes(events, [](const sg::NmnistEvent& e) { return (e.y * 34 + e.x) * 2 + e.p; }));
    CHECK(sg::nmnist_num_neurons(ml_genn) == 2312);

    sg::NmnistEncoding merged;
    merged.polarity_channels = false;
    CHECK(pairs_of(sg::nmnist_to_spike_events(events, merged)) ==
          reference_spikes(events, [](const sg::NmnistEvent& e) { return e.y * 34 + e.x; }));
    CHECK(sg::nmnist_num_neurons(merged) == 1156);

    // Other time scales: microseconds kept as they are.
    sg::NmnistEncoding micro;
    micro.time_scale = 1.0;
    CHECK(sg::nmnist_to_spike_events(events, micro).times.back() == float((1u << 23) - 1));

    // An empty file is an empty recording.
    write_plain(test_dir() / "empty.bin", {});
    CHECK(sg::read_nmnist_events(test_dir() / "empty.bin").empty());
    CHECK(sg::load_nmnist_spike_events(test_dir() / "empty.bin").size() == 0);
}

TEST_CASE("sizes that are not whole events, at every length", "[nmnist][errors]") {
    Bytes file;
    for (std::uint32_t i = 0; i < 6; ++i) put_event(file, i, 2 * i, i % 2, 100 * i);
    const fs::path path = test_dir() / "cut.bin";
    for (std::size_t length = 0; length <= file.size(); ++length) {
        INFO("cut to " << length << " bytes");
        write_plain(path, Bytes(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(length)));
        if (length % 5 == 0) {
            // A cut at a record boundary is a valid shorter recording.
            const auto events = sg::read_nmnist_events(path);
            REQUIRE(events.size() == length / 5);
            if (!events.empty()) CHECK(events.back().t_us == 100 * (length / 5 - 1));
            continue;
        }
        const std::string m = invalid_message([&] { sg::read_nmnist_events(path); });
        CHECK_THAT(m, Catch::Contains(quoted(path)) &&
                          Catch::Contains("size " + std::to_string(length) + " bytes") &&
                          Catch::Contains(std::to_string(length % 5) + " trailing bytes at byte " +
                                          std::to_string(length - length % 5)));
    }
}

TEST_CASE("events outside the sensor and bad encodings", "[nmnist][errors]") {
    const fs::path path = test_dir() / "outside.bin";
    SECTION("x too large") {
        Bytes file;
        put_event(file, 1, 1, 0, 1);
        put_event(file, 2, 2, 0, 2);
        put_event(file, 34, 2, 0, 3);
        write_plain(path, file);
        CHECK_THAT(invalid_message([&] { sg::read_nmnist_events(path); }),
                   Catch::Contains(quoted(path)) && Catch::Contains("x of event 2 (record 2) at byte 10") &&
                       Catch::Contains("expected < 34") && Catch::Contains("got 34"));
    }
    SECTION("y too large (239; 240 is the overflow marker)") {
        Bytes file;
        put_event(file, 1, 1, 0, 1);
        put_event(file, 0, 240, 0, 0);
        put_event(file, 3, 239, 1, 3);
        write_plain(path, file);
        // The marker is not an event: the bad one is event 1, record 2, at byte 11.
        CHECK_THAT(invalid_message([&] { sg::read_nmnist_events(path); }),
                   Catch::Contains("y of event 1 (record 2) at byte 11") && Catch::Contains("got 239"));
        // N-Caltech101's larger sensor takes it.
        const auto events = sg::read_nmnist_events(path, sg::NmnistSensor{240, 240});
        REQUIRE(events.size() == 2);
        CHECK(events[1].y == 239);
        CHECK(events[1].t_us == 8192 + 3);
    }
    SECTION("sensor that cannot fit the format") {
        write_plain(path, {});
        CHECK_THAT(invalid_message([&] { sg::read_nmnist_events(path, sg::NmnistSensor{34, 241}); }),
                   Catch::Contains("height <= 240"));
        CHECK_THROWS_AS(sg::read_nmnist_events(path, sg::NmnistSensor{0, 34}), sg::InvalidArgument);
    }
    SECTION("conversion of events that do not fit the encoding") {
        std::vector<sg::NmnistEvent> events{{1, 1, 0, 10}, {2, 2, 2, 20}};
        CHECK_THAT(invalid_message([&] { sg::nmnist_to_spike_events(events); }),
                   Catch::Contains("event 1") && Catch::Contains("p = 2"));
        events[1] = {34, 2, 1, 20};
        CHECK_THAT(invalid_message([&] { sg::nmnist_to_spike_events(events, {}, "example 9"); }),
                   Catch::Contains("example 9: event 1") && Catch::Contains("x = 34"));
        events[1] = {3, 2, 1, 20};
        for (double scale : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity()}) {
            sg::NmnistEncoding bad;
            bad.time_scale = scale;
            CHECK_THROWS_AS(sg::nmnist_to_spike_events(events, bad), sg::InvalidArgument);
        }
        // Times too large for a float are rejected by make_spike_events.
        sg::NmnistEncoding huge;
        huge.time_scale = 1e300;
        CHECK_THROWS_AS(sg::nmnist_to_spike_events(events, huge), sg::InvalidArgument);
    }
    SECTION("nonexistent file") {
        const fs::path nowhere = test_dir() / "no_such.bin";
        CHECK_THAT(invalid_message([&] { sg::read_nmnist_events(nowhere); }),
                   Catch::Contains("cannot open " + quoted(nowhere)));
        CHECK_THAT(invalid_message([&] { sg::load_nmnist_spike_events(nowhere); }),
                   Catch::Contains(nowhere.string()));
    }
}
