// SHD reader against files this test writes itself with HDF5's C API in the
// real layout (spikes/times vlen float seconds, spikes/units vlen uint16,
// labels), read back spike by spike; bad files of every kind must give
// spikegraph::InvalidArgument naming the file and the dataset, never a crash.
#include <catch2/catch.hpp>

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <spikegraph/data/shd.hpp>
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;
namespace fs = std::filesystem;
using sg::datasets::load_shd;
using sg::datasets::load_shd_from_memory;
using sg::datasets::ShdOptions;

namespace {

// ---------------------------------------------------------------------------
// Writing SHD-layout files (independent of the reader: plain HDF5 C calls)
// ---------------------------------------------------------------------------

// Closes an HDF5 id at scope exit; REQUIREs it to be valid.
struct Id {
    hid_t id;
    herr_t (*close)(hid_t);
    Id(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) { REQUIRE(id >= 0); }
    Id(const Id&) = delete;
    Id& operator=(const Id&) = delete;
    ~Id() { close(id); }
    operator hid_t() const { return id; }
};

// IEEE half precision as h5py defines it (numpy float16 datasets).
hid_t float16_type() {
    static const hid_t type = [] {
        hid_t t = H5Tcopy(H5T_IEEE_F32LE);
        H5Tset_fields(t, 15, 10, 5, 0, 10);
        H5Tset_size(t, 2);
        H5Tset_ebias(t, 15);
        return t;
    }();
    return type;
}

// A 1-D (or `dims`-shaped) dataset of variable-length sequences stored as
// `file_base`, written from `memory_base` values (HDF5 converts).
template <class T>
void write_vlen(hid_t loc, const char* name, hid_t file_base, hid_t memory_base,
                const std::vector<std::vector<T>>& data, std::vector<hsize_t> dims = {}, hid_t dcpl = H5P_DEFAULT) {
    if (dims.empty()) dims = {hsize_t(data.size())};
    std::vector<hvl_t> elements(data.size());
    for (std::size_t i = 0; i < data.size(); ++i)
        elements[i] = hvl_t{data[i].size(), const_cast<T*>(data[i].data())};
    Id file_type(H5Tvlen_create(file_base), H5Tclose);
    Id memory_type(H5Tvlen_create(memory_base), H5Tclose);
    Id space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
    Id dataset(H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose);
    if (!data.empty()) REQUIRE(H5Dwrite(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, elements.data()) >= 0);
}

template <class T>
void write_plain(hid_t loc, const char* name, hid_t file_type, hid_t memory_type, const std::vector<T>& data,
                 std::vector<hsize_t> dims = {}, hid_t dcpl = H5P_DEFAULT) {
    if (dims.empty()) dims = {hsize_t(data.size())};
    Id space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
    Id dataset(H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose);
    if (!data.empty()) REQUIRE(H5Dwrite(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) >= 0);
}

struct ShdSpec {
    std::vector<std::vector<double>> times;  // seconds
    std::vector<std::vector<long long>> units;
    std::vector<long long> labels;
    hid_t time_type = H5T_IEEE_F32LE;  // base type of spikes/times in the file
    hid_t unit_type = H5T_STD_U16LE;
    hid_t label_type = H5T_STD_U8LE;
    bool latest_format = false;     // h5py's default is the earliest (as the real SHD files)
    hsize_t user_block = 0;         // bytes before the HDF5 data (all addresses shift)
    bool compressed = false;        // chunks of 16 examples, gzip (h5py compression="gzip")
    std::set<std::string> omit;     // datasets left out
};

// Writes `spec` like the SHD release: groups spikes/ and extra/ (ignored by
// the reader) next to labels. `custom` may add or replace datasets.
template <class Custom>
void write_shd(const fs::path& path, const ShdSpec& spec, Custom&& custom) {
    Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (spec.latest_format) H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
    // No modification times in object headers (as h5py): the same spec gives
    // the same bytes, so the committed fuzz seed is reproducible.
    REQUIRE(H5Pset_obj_track_times(fcpl, false) >= 0);
    if (spec.user_block > 0) REQUIRE(H5Pset_userblock(fcpl, spec.user_block) >= 0);
    Id file(H5Fcreate(path.string().c_str(), H5F_ACC_TRUNC, fcpl, fapl), H5Fclose);
    Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    Id gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
    REQUIRE(H5Pset_obj_track_times(dcpl, false) >= 0);
    REQUIRE(H5Pset_obj_track_times(gcpl, false) >= 0);
    if (spec.compressed) {
        const hsize_t chunk = 16;
        REQUIRE(H5Pset_chunk(dcpl, 1, &chunk) >= 0);
        REQUIRE(H5Pset_deflate(dcpl, 4) >= 0);
    }
    Id spikes(H5Gcreate2(file, "spikes", H5P_DEFAULT, gcpl, H5P_DEFAULT), H5Gclose);
    if (!spec.omit.count("spikes/times"))
        write_vlen(spikes, "times", spec.time_type, H5T_NATIVE_DOUBLE, spec.times, {}, dcpl);
    if (!spec.omit.count("spikes/units"))
        write_vlen(spikes, "units", spec.unit_type, H5T_NATIVE_LLONG, spec.units, {}, dcpl);
    if (!spec.omit.count("labels")) write_plain(file, "labels", spec.label_type, H5T_NATIVE_LLONG, spec.labels, {}, dcpl);
    Id extra(H5Gcreate2(file, "extra", H5P_DEFAULT, gcpl, H5P_DEFAULT), H5Gclose);
    write_plain(extra, "speaker", H5T_STD_U8LE, H5T_NATIVE_LLONG, std::vector<long long>(spec.labels.size(), 3), {}, dcpl);
    custom(hid_t(file), hid_t(spikes));
}

void write_shd(const fs::path& path, const ShdSpec& spec) {
    write_shd(path, spec, [](hid_t, hid_t) {});
}

std::vector<std::byte> read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(chars.size());
    std::transform(chars.begin(), chars.end(), bytes.begin(), [](char c) { return std::byte(c); });
    return bytes;
}

void write_bytes(const fs::path& path, const std::vector<std::byte>& bytes, std::size_t size) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(size));
    REQUIRE(out);
}

// SHD-like random data: 700 channels, times sorted within [0, 1.4) s, ids
// unsorted among equal times; `time_of` rounds a time to what the file stores.
template <class TimeOf>
ShdSpec random_spec(std::size_t examples, std::uint32_t seed, TimeOf&& time_of) {
    std::mt19937 rng(seed);
    ShdSpec spec;
    for (std::size_t e = 0; e < examples; ++e) {
        const std::size_t n = rng() % 60;  // some examples have no spikes at all
        std::vector<double> times(n);
        std::vector<long long> units(n);
        for (std::size_t s = 0; s < n; ++s) {
            times[s] = time_of(std::uniform_real_distribution<double>(0.0, 1.4)(rng));
            units[s] = rng() % 700;
        }
        std::sort(times.begin(), times.end());
        if (n >= 2) times[1] = times[0];  // a tie, with ids in file order
        spec.times.push_back(times);
        spec.units.push_back(units);
        spec.labels.push_back(rng() % 20);
    }
    return spec;
}

// Expected events: each stored time t (seconds, exactly as in the file)
// becomes the float nearest to t * 1000 ms; events ordered by (time, id).
void check_dataset(const sg::SpikeDataset& data, const ShdSpec& spec, std::size_t count) {
    REQUIRE(data.size() == count);
    REQUIRE(data.labels.size() == count);
    CHECK(data.num_inputs == 700);
    CHECK(data.num_classes == 20);
    for (std::size_t e = 0; e < count; ++e) {
        INFO("example " << e);
        CHECK(data.labels[e] == spec.labels[e]);
        std::vector<std::pair<float, std::uint32_t>> expected;
        for (std::size_t s = 0; s < spec.times[e].size(); ++s)
            expected.emplace_back(float(spec.times[e][s] * 1000.0), std::uint32_t(spec.units[e][s]));
        std::sort(expected.begin(), expected.end());
        const sg::SpikeEvents& events = data.examples[e];
        REQUIRE(events.times.size() == expected.size());
        REQUIRE(events.ids.size() == expected.size());
        for (std::size_t s = 0; s < expected.size(); ++s) {
            INFO("spike " << s);
            CHECK(events.times[s] == expected[s].first);  // exact
            CHECK(events.ids[s] == expected[s].second);
        }
    }
}

// The message of the InvalidArgument that `load` throws; fails the test if
// it throws anything else or nothing.
template <class Load>
std::string error_of(Load&& load) {
    try {
        load();
    } catch (const sg::InvalidArgument& error) {
        return error.what();
    }
    FAIL("expected spikegraph::InvalidArgument, but loading succeeded");
    return {};
}

std::string load_error(const fs::path& path, const ShdOptions& options = {}) {
    return error_of([&] { load_shd(path, options); });
}

using Catch::Matchers::Contains;

// Open HDF5 files, groups, datasets, named datatypes and attributes (of all
// files), to prove the reader closes them on every path. (HDF5 has no public
// count of dataspaces and property lists: H5Inmembers refuses library types.)
std::vector<ssize_t> open_objects() {
    std::vector<ssize_t> counts;
    for (unsigned type : {H5F_OBJ_FILE, H5F_OBJ_DATASET, H5F_OBJ_GROUP, H5F_OBJ_DATATYPE, H5F_OBJ_ATTR})
        counts.push_back(H5Fget_obj_count(hid_t(H5F_OBJ_ALL), type));
    return counts;
}

// A valid 3-example file with hand-picked values (float32 exact in binary).
ShdSpec small_spec() {
    ShdSpec spec;
    spec.times = {{0.0, 0.25, 0.5, 0.5}, {}, {0.125, 1.0, 1.25}};
    spec.units = {{3, 699, 10, 2}, {}, {0, 1, 2}};
    spec.labels = {19, 0, 7};
    return spec;
}

}  // namespace

// ---------------------------------------------------------------------------
// Valid files
// ---------------------------------------------------------------------------

TEST_CASE("SHD: hand-picked file reads back exactly, in ms, sorted by (time, id)", "[shd]") {
    write_shd("small.h5", small_spec());
    const sg::SpikeDataset data = load_shd("small.h5");
    REQUIRE(data.size() == 3);
    CHECK(data.labels == std::vector<std::int32_t>{19, 0, 7});
    CHECK(data.examples[0].times == std::vector<float>{0.0f, 250.0f, 500.0f, 500.0f});
    CHECK(data.examples[0].ids == std::vector<std::uint32_t>{3, 699, 2, 10});  // tie at 500 ms: by id
    CHECK(data.examples[1].size() == 0);
    CHECK(data.examples[2].times == std::vector<float>{125.0f, 1000.0f, 1250.0f});
    CHECK(data.examples[2].ids == std::vector<std::uint32_t>{0, 1, 2});
    check_dataset(data, small_spec(), 3);
}

TEST_CASE("SHD: float32, float64 and float16 times; uint16/int32 units; uint8/int64 labels", "[shd]") {
    SECTION("float32 times, uint16 units, uint8 labels (the SHD release)") {
        const ShdSpec spec = random_spec(50, 1, [](double t) { return double(float(t)); });
        write_shd("f32.h5", spec);
        check_dataset(load_shd("f32.h5"), spec, 50);
    }
    SECTION("float64 times, int64 labels, newest HDF5 format") {
        ShdSpec spec = random_spec(50, 2, [](double t) { return t; });
        spec.time_type = H5T_IEEE_F64LE;
        spec.label_type = H5T_STD_I64LE;
        spec.latest_format = true;
        write_shd("f64.h5", spec);
        const sg::SpikeDataset data = load_shd("f64.h5");
        check_dataset(data, spec, 50);
        // float64 seconds are rounded once, to the float nearest t * 1000.
        for (std::size_t e = 0; e < spec.times.size(); ++e)
            for (std::size_t s = 0; s < spec.times[e].size(); ++s) {
                const float ms = float(spec.times[e][s] * 1000.0);
                CHECK(std::abs(double(ms) - spec.times[e][s] * 1000.0) <= 0.5 * (std::nextafter(ms, 2e4f) - ms));
            }
    }
    SECTION("float16 times (k / 1024 s, exact in half precision), big-endian int32 units, uint16 labels") {
        ShdSpec spec = random_spec(20, 3, [](double t) { return std::floor(t * 1024.0) / 1024.0; });
        spec.time_type = float16_type();
        spec.unit_type = H5T_STD_I32BE;
        spec.label_type = H5T_STD_U16LE;
        write_shd("f16.h5", spec);
        check_dataset(load_shd("f16.h5"), spec, 20);
    }
}

TEST_CASE("SHD: chunked, gzip-compressed datasets (as h5py writes with compression=\"gzip\")", "[shd]") {
    ShdSpec spec = random_spec(100, 8, [](double t) { return double(float(t)); });
    spec.compressed = true;
    write_shd("gzip.h5", spec);
    check_dataset(load_shd("gzip.h5"), spec, 100);
    check_dataset(load_shd_from_memory(read_bytes("gzip.h5"), "gzip.h5"), spec, 100);
    check_dataset(load_shd("gzip.h5", {.max_examples = 37}), spec, 37);
}

TEST_CASE("SHD: more examples than one read batch, max_examples, time_scale", "[shd]") {
    const ShdSpec spec = random_spec(2500, 4, [](double t) { return double(float(t)); });
    write_shd("big.h5", spec);
    check_dataset(load_shd("big.h5"), spec, 2500);
    check_dataset(load_shd("big.h5", {.max_examples = 1030}), spec, 1030);
    CHECK(load_shd("big.h5", {.max_examples = 0}).size() == 0);
    CHECK(load_shd("big.h5", {.max_examples = 100000}).size() == 2500);

    const sg::SpikeDataset seconds = load_shd("big.h5", {.time_scale = 1.0, .max_examples = 10});
    for (std::size_t e = 0; e < 10; ++e) {
        std::vector<double> sorted = spec.times[e];
        std::sort(sorted.begin(), sorted.end());
        REQUIRE(seconds.examples[e].times.size() == sorted.size());
        for (std::size_t s = 0; s < sorted.size(); ++s) CHECK(seconds.examples[e].times[s] == float(sorted[s]));
    }
}

TEST_CASE("SHD: unsorted times are sorted; num_inputs and num_classes are honoured", "[shd]") {
    ShdSpec spec;
    spec.times = {{0.5, 0.1, 0.3}};
    spec.units = {{1, 2, 3}};
    spec.labels = {4};
    write_shd("unsorted.h5", spec);
    const sg::SpikeDataset data = load_shd("unsorted.h5", {.num_inputs = 4, .num_classes = 5});
    CHECK(data.num_inputs == 4);
    CHECK(data.num_classes == 5);
    CHECK(data.examples[0].times == std::vector<float>{float(0.1f * 1000.0), float(0.3f * 1000.0), 500.0f});
    CHECK(data.examples[0].ids == std::vector<std::uint32_t>{2, 3, 1});
    CHECK_THAT(load_error("unsorted.h5", {.num_inputs = 3}), Contains("neuron id 3") && Contains("expected < 3"));
    CHECK_THAT(load_error("unsorted.h5", {.num_classes = 4}), Contains("label 4") && Contains("0..3"));
}

TEST_CASE("SHD: load_shd_from_memory gives the same data as load_shd", "[shd]") {
    const ShdSpec spec = random_spec(30, 5, [](double t) { return double(float(t)); });
    write_shd("memory.h5", spec);
    const std::vector<std::byte> bytes = read_bytes("memory.h5");
    check_dataset(load_shd_from_memory(bytes, "memory.h5"), spec, 30);
    // The name only labels messages, even when it names an existing file.
    CHECK_THAT(error_of([&] { load_shd_from_memory(bytes, "memory.h5", {.num_classes = 2}); }),
               Contains("SHD file 'memory.h5'") && Contains("labels"));
}

TEST_CASE("SHD: a file with a user block (HDF5 data from offset 512)", "[shd]") {
    const ShdSpec base = random_spec(20, 7, [](double t) { return double(float(t)); });
    for (hsize_t user_block : {512, 2048}) {
        ShdSpec spec = base;
        spec.user_block = user_block;
        write_shd("user_block.h5", spec);
        INFO("user block of " << user_block << " bytes");
        check_dataset(load_shd("user_block.h5"), spec, 20);
        check_dataset(load_shd_from_memory(read_bytes("user_block.h5"), "user_block.h5"), spec, 20);
    }
}

TEST_CASE("SHD: examples drive a 700 -> LIF -> LI network through evaluate", "[shd]") {
    // Class k spikes only on channels c with c % 20 == k; channel c drives
    // hidden LIF neuron c % 20 hard enough to fire it; hidden k drives readout
    // k only. So the readout's argmax is the label: accuracy exactly 1.
    std::mt19937 rng(6);
    ShdSpec spec;
    for (int e = 0; e < 40; ++e) {
        const int label = e % 20;
        std::vector<double> times;
        std::vector<long long> units;
        for (int s = 0; s < 5; ++s) {
            times.push_back(double(float(0.001 * double(2 + rng() % 30))));
            units.push_back(label + 20 * static_cast<long long>(rng() % 35));
        }
        std::sort(times.begin(), times.end());
        spec.times.push_back(times);
        spec.units.push_back(units);
        spec.labels.push_back(label);
    }
    write_shd("network.h5", spec);
    const sg::SpikeDataset data = load_shd("network.h5");

    std::vector<float> in_hidden(700 * 20, 0.0f), hidden_out(20 * 20, 0.0f);
    for (std::size_t c = 0; c < 700; ++c) in_hidden[c * 20 + c % 20] = 2.0f;
    for (std::size_t k = 0; k < 20; ++k) hidden_out[k * 20 + k] = 1.0f;
    const auto input = sg::population<"input", 700>(sg::SpikeInput{});
    const auto hidden = sg::population<"hidden", 20>(
        sg::LeakyIntegrateFire{.v_thresh = 1.0f, .tau_mem = 20.0f, .relative_reset = false});
    const auto output = sg::population<"output", 20>(sg::LeakyIntegrate{.tau_mem = 20.0f}, sg::SumVar{});
    const auto net = sg::network(input >> sg::Dense{sg::FromArray{in_hidden}} >> sg::Delta{} >> hidden,
                                 hidden >> sg::Dense{sg::FromArray{hidden_out}} >> sg::Delta{} >> output);
    auto model = sg::InferenceCompiler{.example_timesteps = 40, .batch_size = 8, .verbose = false}.compile<sg::cpu>(net);
    CHECK(model.evaluate(data).at("sparse_categorical_accuracy") == 1.0);
}

TEST_CASE("SHD: the committed fuzz seed is a valid SHD file", "[shd]") {
    const char* source = std::getenv("SPIKEGRAPH_TEST_SOURCE_DIR");
    REQUIRE(source != nullptr);
    const fs::path seed = fs::path(source) / ".." / "fuzz" / "seeds" / "shd" / "tiny.h5";
    REQUIRE(fs::exists(seed));
    CHECK(fs::file_size(seed) < 8 * 1024);
    check_dataset(load_shd(seed), small_spec(), 3);
}

// Regenerates tests/fuzz/seeds/shd/tiny.h5 (hidden: run explicitly, see
// tests/shd/CMakeLists.txt).
TEST_CASE("SHD: write the fuzz seed", "[.write-shd-seed]") {
    ShdSpec spec = small_spec();
    spec.latest_format = true;  // compact groups: the smallest file
    const char* out = std::getenv("SPIKEGRAPH_SHD_SEED");
    write_shd(out != nullptr ? out : "tiny.h5", spec);
}

// ---------------------------------------------------------------------------
// Bad files
// ---------------------------------------------------------------------------

TEST_CASE("SHD: missing datasets are named", "[shd][errors]") {
    for (const char* name : {"spikes/times", "spikes/units", "labels"}) {
        ShdSpec spec = small_spec();
        spec.omit = {name};
        write_shd("missing.h5", spec);
        CHECK_THAT(load_error("missing.h5"),
                   Contains("SHD file 'missing.h5'") && Contains(std::string("missing dataset ") + name));
    }
    ShdSpec spec = small_spec();
    spec.omit = {"spikes/times", "labels"};
    write_shd("missing2.h5", spec);
    CHECK_THAT(load_error("missing2.h5"), Contains("missing dataset spikes/times, labels"));
}

TEST_CASE("SHD: a group where a dataset belongs, and spikes as a dataset", "[shd][errors]") {
    ShdSpec spec = small_spec();
    spec.omit = {"labels"};
    write_shd("group.h5", spec, [](hid_t file, hid_t) {
        Id group(H5Gcreate2(file, "labels", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    });
    CHECK_THAT(load_error("group.h5"), Contains("cannot open dataset labels"));

    {
        Id file(H5Fcreate("flat.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
        write_plain(file, "spikes", H5T_STD_U8LE, H5T_NATIVE_LLONG, std::vector<long long>{1, 2});
        write_plain(file, "labels", H5T_STD_U8LE, H5T_NATIVE_LLONG, std::vector<long long>{1, 2});
    }
    CHECK_THAT(load_error("flat.h5"),
               Contains("missing dataset spikes/times, spikes/units") && Contains("'spikes' is not a group"));
}

TEST_CASE("SHD: datasets must be 1-D", "[shd][errors]") {
    SECTION("labels 3 x 1") {
        ShdSpec spec = small_spec();
        spec.omit = {"labels"};
        write_shd("rank.h5", spec, [](hid_t file, hid_t) {
            write_plain(file, "labels", H5T_STD_U8LE, H5T_NATIVE_LLONG, std::vector<long long>{1, 2, 3}, {3, 1});
        });
        CHECK_THAT(load_error("rank.h5"), Contains("dataset labels has rank 2 (shape 3 x 1)") && Contains("1-D"));
    }
    SECTION("spikes/times 1 x 3") {
        ShdSpec spec = small_spec();
        spec.omit = {"spikes/times"};
        write_shd("rank.h5", spec, [&](hid_t, hid_t spikes) {
            write_vlen(spikes, "times", H5T_IEEE_F32LE, H5T_NATIVE_DOUBLE, small_spec().times, {1, 3});
        });
        CHECK_THAT(load_error("rank.h5"), Contains("dataset spikes/times has rank 2 (shape 1 x 3)"));
    }
    SECTION("scalar labels") {
        ShdSpec spec = small_spec();
        spec.omit = {"labels"};
        write_shd("rank.h5", spec, [](hid_t file, hid_t) {
            Id space(H5Screate(H5S_SCALAR), H5Sclose);
            Id dataset(H5Dcreate2(file, "labels", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
        });
        CHECK_THAT(load_error("rank.h5"), Contains("dataset labels has rank 0 (shape scalar)"));
    }
}

TEST_CASE("SHD: lengths of times, units and labels must agree", "[shd][errors]") {
    ShdSpec spec = small_spec();
    spec.units.pop_back();
    write_shd("length.h5", spec);
    CHECK_THAT(load_error("length.h5"), Contains("SHD file 'length.h5'") &&
                                            Contains("spikes/times has 3 examples, spikes/units 2 and labels 3"));
    spec = small_spec();
    spec.labels.push_back(1);
    write_shd("length.h5", spec);
    CHECK_THAT(load_error("length.h5"), Contains("spikes/times has 3 examples, spikes/units 3 and labels 4"));
    spec = small_spec();
    spec.times.push_back({});
    write_shd("length.h5", spec);
    CHECK_THAT(load_error("length.h5"), Contains("spikes/times has 4 examples, spikes/units 3 and labels 3"));
}

TEST_CASE("SHD: per-example spike counts of times and units must agree", "[shd][errors]") {
    ShdSpec spec = small_spec();
    spec.units[2].pop_back();
    write_shd("count.h5", spec);
    CHECK_THAT(load_error("count.h5"), Contains("SHD file 'count.h5'") &&
                                           Contains("example 2: spikes/times has 3 spikes but spikes/units has 2"));
}

TEST_CASE("SHD: unit ids, labels and times out of range", "[shd][errors]") {
    SECTION("unit id 700") {
        ShdSpec spec = small_spec();
        spec.units[2][1] = 700;
        write_shd("bad.h5", spec);
        CHECK_THAT(load_error("bad.h5"), Contains("SHD file 'bad.h5'") && Contains("example 2") &&
                                             Contains("spikes/units") && Contains("spike 1 has neuron id 700") &&
                                             Contains("expected < 700"));
    }
    SECTION("negative unit id (signed file type)") {
        ShdSpec spec = small_spec();
        spec.unit_type = H5T_STD_I16LE;
        spec.units[0][2] = -1;
        write_shd("bad.h5", spec);
        CHECK_THAT(load_error("bad.h5"), Contains("spikes/units, example 0, spike 2: unit id -1 is out of range"));
    }
    SECTION("label 20") {
        ShdSpec spec = small_spec();
        spec.labels[1] = 20;
        write_shd("bad.h5", spec);
        CHECK_THAT(load_error("bad.h5"), Contains("SHD file 'bad.h5'") &&
                                             Contains("labels, example 1: label 20 is out of range, expected 0..19"));
    }
    SECTION("label -1 (int64 labels)") {
        ShdSpec spec = small_spec();
        spec.label_type = H5T_STD_I64LE;
        spec.labels[2] = -1;
        write_shd("bad.h5", spec);
        CHECK_THAT(load_error("bad.h5"), Contains("labels, example 2: label -1 is out of range"));
    }
    SECTION("negative time") {
        ShdSpec spec = small_spec();
        spec.times[2][1] = -0.5;
        write_shd("bad.h5", spec);
        CHECK_THAT(load_error("bad.h5"), Contains("SHD file 'bad.h5'") &&
                                             Contains("spikes/times, example 2, spike 1: time -0.5 is not a finite time >= 0"));
    }
    SECTION("NaN and infinite times, float32 and float64") {
        for (hid_t type : {H5T_IEEE_F32LE, H5T_IEEE_F64LE})
            for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
                ShdSpec spec = small_spec();
                spec.time_type = type;
                spec.times[0][3] = bad;
                write_shd("bad.h5", spec);
                CHECK_THAT(load_error("bad.h5"),
                           Contains("spikes/times, example 0, spike 3: time") && Contains("is not a finite time >= 0"));
            }
    }
    SECTION("float64 time too large for float ms") {
        ShdSpec spec = small_spec();
        spec.time_type = H5T_IEEE_F64LE;
        spec.times[0][0] = 1e300;
        write_shd("bad.h5", spec);
        CHECK_THAT(load_error("bad.h5"), Contains("example 0, spike 0") && Contains("does not fit a float"));
    }
}

TEST_CASE("SHD: element types are checked", "[shd][errors]") {
    SECTION("integer times") {
        ShdSpec spec = small_spec();
        spec.time_type = H5T_STD_U32LE;
        write_shd("type.h5", spec);
        CHECK_THAT(load_error("type.h5"), Contains("dataset spikes/times has variable-length integer elements") &&
                                              Contains("expected variable-length float"));
    }
    SECTION("float units") {
        ShdSpec spec = small_spec();
        spec.unit_type = H5T_IEEE_F32LE;
        write_shd("type.h5", spec);
        CHECK_THAT(load_error("type.h5"), Contains("dataset spikes/units has variable-length float elements"));
    }
    SECTION("float labels") {
        ShdSpec spec = small_spec();
        spec.label_type = H5T_IEEE_F32LE;
        write_shd("type.h5", spec);
        CHECK_THAT(load_error("type.h5"), Contains("dataset labels has float elements, expected integer"));
    }
    SECTION("times stored as plain floats, not per-example sequences") {
        ShdSpec spec = small_spec();
        spec.omit = {"spikes/times"};
        write_shd("type.h5", spec, [](hid_t, hid_t spikes) {
            write_plain(spikes, "times", H5T_IEEE_F32LE, H5T_NATIVE_DOUBLE, std::vector<double>{0.1, 0.2, 0.3});
        });
        CHECK_THAT(load_error("type.h5"), Contains("dataset spikes/times has float elements, expected variable-length float"));
    }
}

TEST_CASE("SHD: options are validated", "[shd][errors]") {
    write_shd("options.h5", small_spec());
    CHECK_THAT(load_error("options.h5", {.num_inputs = 0}), Contains("num_inputs"));
    CHECK_THAT(load_error("options.h5", {.num_classes = 0}), Contains("num_classes"));
    CHECK_THAT(load_error("options.h5", {.time_scale = 0.0}), Contains("time_scale"));
    CHECK_THAT(load_error("options.h5", {.time_scale = std::numeric_limits<double>::quiet_NaN()}), Contains("time_scale"));
}

TEST_CASE("SHD: nonexistent path, directory, not an HDF5 file, empty file", "[shd][errors]") {
    CHECK_THAT(load_error("no_such_file.h5"), Contains("SHD file 'no_such_file.h5': cannot open: no such file"));
    fs::create_directories("a_directory.h5");
    CHECK_THAT(load_error("a_directory.h5"), Contains("cannot open: it is a directory"));
    {
        std::ofstream("text.h5") << "labels,spikes\n1,2\n";
    }
    CHECK_THAT(load_error("text.h5"), Contains("SHD file 'text.h5': not an HDF5 file"));
    { std::ofstream empty("empty.h5"); }
    CHECK_THAT(load_error("empty.h5"), Contains("not an HDF5 file (0 bytes"));
    CHECK_THAT(error_of([] { load_shd_from_memory({}, "nothing"); }), Contains("SHD file 'nothing': not an HDF5 file"));
    const std::string text = "not hdf5 at all, but long enough to be searched for a signature";
    CHECK_THAT(error_of([&] { load_shd_from_memory(std::as_bytes(std::span(text)), "text"); }),
               Contains("not an HDF5 file"));
}

TEST_CASE("SHD: a real HDF5 file from elsewhere (NIR graph) opens and is reported as not SHD", "[shd][errors]") {
    const char* shared = std::getenv("SPIKEGRAPH_SHARED_DATA");
    const fs::path nir = shared != nullptr ? fs::path(shared) / "nir" / "lif_norse.nir" : fs::path();
    if (shared == nullptr || !fs::exists(nir)) {
        WARN("SKIPPED: " << (shared ? nir.string() : "SPIKEGRAPH_SHARED_DATA") << " not available");
        return;
    }
    const std::string message = load_error(nir);
    CHECK_THAT(message, Contains(nir.string()) && Contains("missing dataset spikes/times, spikes/units, labels"));
    CHECK_THAT(error_of([&] { load_shd_from_memory(read_bytes(nir), "lif_norse.nir"); }),
               Contains("SHD file 'lif_norse.nir': missing dataset spikes/times"));
}

namespace {

// Offset in the file of the stored elements of spikes/times (each: uint32
// length, 8-byte global heap address, uint32 object index, little-endian).
std::uint64_t times_offset(const fs::path& path) {
    Id file(H5Fopen(path.string().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    Id dataset(H5Dopen2(file, "spikes/times", H5P_DEFAULT), H5Dclose);
    const haddr_t offset = H5Dget_offset(dataset);
    REQUIRE(offset != HADDR_UNDEF);
    return offset;
}

void put_le(std::vector<std::byte>& bytes, std::uint64_t offset, std::uint64_t value, int width) {
    for (int i = 0; i < width; ++i) bytes[offset + i] = std::byte((value >> (8 * i)) & 0xFF);
}

std::uint64_t get_le(const std::vector<std::byte>& bytes, std::uint64_t offset, int width) {
    std::uint64_t value = 0;
    for (int i = 0; i < width; ++i) value |= std::uint64_t(bytes[offset + i]) << (8 * i);
    return value;
}

// Both entry points must reject `bytes` with a message containing `expected`.
void check_rejected(const std::vector<std::byte>& bytes, const std::string& expected) {
    write_bytes("corrupt.h5", bytes, bytes.size());
    CHECK_THAT(load_error("corrupt.h5"), Contains("SHD file 'corrupt.h5'") && Contains(expected));
    CHECK_THAT(error_of([&] { load_shd_from_memory(bytes, "corrupt"); }), Contains(expected));
}

}  // namespace

// HDF5 1.10 follows these references unchecked (a huge length made it
// allocate gigabytes, a bad index or address crashed it): the reader checks
// them first.
TEST_CASE("SHD: corrupt variable-length references are rejected before HDF5 follows them", "[shd][errors]") {
    write_shd("heap.h5", small_spec());
    const std::vector<std::byte> good = read_bytes("heap.h5");
    const std::uint64_t element = times_offset("heap.h5");  // example 0: 4 float32 spikes
    REQUIRE(get_le(good, element, 4) == 4);
    const std::uint64_t address = get_le(good, element + 4, 8);
    REQUIRE(get_le(good, element + 12, 4) > 0);  // object index
    REQUIRE(address > 0);
    REQUIRE(address + 4 <= good.size());
    REQUIRE(std::memcmp(&good[address], "GCOL", 4) == 0);

    std::vector<std::byte> bytes = good;
    SECTION("length 5 for a 4-value (16-byte) object") {
        put_le(bytes, element, 5, 4);
        check_rejected(bytes, "dataset spikes/times: example 0 has 5 values of 4 bytes but its global heap object");
    }
    SECTION("length 2^32 - 1") {
        put_le(bytes, element, 0xFFFFFFFFu, 4);
        check_rejected(bytes, "example 0 has 4294967295 values of 4 bytes");
    }
    SECTION("object index that the collection does not have") {
        put_le(bytes, element + 12, 999, 4);
        check_rejected(bytes, "example 0 refers to object 999 of the global heap collection at address " +
                                  std::to_string(address) + ", which has no such object");
    }
    SECTION("object index 0 (the free space)") {
        put_le(bytes, element + 12, 0, 4);
        check_rejected(bytes, "refers to object 0");
    }
    SECTION("address of something that is not a collection") {
        put_le(bytes, element + 4, 8, 8);
        check_rejected(bytes, "example 0 refers to global heap collection at address 8, which is not a valid collection");
    }
    SECTION("address beyond the end of the file") {
        put_le(bytes, element + 4, 1u << 30, 8);
        check_rejected(bytes, "which is not a valid collection");
    }
    SECTION("collection size beyond the file") {
        put_le(bytes, address + 8, std::uint64_t(1) << 40, 8);
        check_rejected(bytes, "which is not a valid collection");
    }
    SECTION("collection size below HDF5's minimum of 4096") {
        put_le(bytes, address + 8, 64, 8);
        check_rejected(bytes, "which is not a valid collection");
    }
    SECTION("first object overrunning the collection") {
        put_le(bytes, address + 16 + 8, std::uint64_t(1) << 32, 8);  // after the 16-byte collection header
        check_rejected(bytes, "which is not a valid collection");
    }
    SECTION("free space of size 0 (HDF5 1.10 would loop forever)") {
        // Objects follow the 16-byte header, each a 16-byte header and data
        // padded to 8 bytes, up to the free space (index 0).
        const std::uint64_t size = get_le(good, address + 8, 8);
        std::uint64_t p = address + 16;
        while (get_le(good, p, 2) != 0) {
            p += 16 + (get_le(good, p + 8, 8) + 7) / 8 * 8;
            REQUIRE(p + 16 <= address + size);
        }
        put_le(bytes, p + 8, 0, 8);
        check_rejected(bytes, "which is not a valid collection");
    }
}

TEST_CASE("SHD: every truncation of a valid file is an error, never a crash", "[shd][errors]") {
    const std::vector<ssize_t> baseline = open_objects();
    for (bool latest : {false, true}) {
        ShdSpec spec = small_spec();
        spec.latest_format = latest;
        write_shd("whole.h5", spec);
        const std::vector<std::byte> bytes = read_bytes("whole.h5");
        INFO("file of " << bytes.size() << " bytes, latest format " << latest);
        REQUIRE(bytes.size() > 1000);
        std::set<std::size_t> lengths = {0, 1, 7, 8, 9, 16, 40, 95, 96, 200, 511, 512, 513, 800, 1024, 2047, 2048};
        for (std::size_t k = 1; k <= 24; ++k) lengths.insert(bytes.size() * k / 25);
        for (std::size_t k = 1; k <= 8; ++k) lengths.insert(bytes.size() - k);
        for (std::size_t length : lengths) {
            if (length >= bytes.size()) continue;
            INFO("truncated to " << length << " bytes");
            write_bytes("truncated.h5", bytes, length);
            CHECK_THAT(load_error("truncated.h5"), Contains("SHD file 'truncated.h5'"));
            CHECK_THAT(error_of([&] { load_shd_from_memory(std::span(bytes).first(length), "cut"); }),
                       Contains("SHD file 'cut'"));
            REQUIRE(open_objects() == baseline);
        }
    }
}

TEST_CASE("SHD: corrupted bytes give InvalidArgument or a dataset, never a crash", "[shd][errors]") {
    // HDF5's earliest format has no checksums, so a flipped byte in unused
    // space may load fine; only a crash or a different exception type fails.
    write_shd("whole.h5", small_spec());
    const std::vector<std::byte> bytes = read_bytes("whole.h5");
    const std::vector<ssize_t> baseline = open_objects();
    std::size_t errors = 0, loads = 0;
    for (std::size_t position = 0; position < bytes.size(); position += 7) {
        std::vector<std::byte> corrupt = bytes;
        corrupt[position] ^= std::byte{0xFF};
        try {
            const sg::SpikeDataset data = load_shd_from_memory(corrupt, "corrupt");
            ++loads;
            for (const auto& events : data.examples)
                for (std::size_t s = 0; s < events.size(); ++s) {
                    REQUIRE(events.ids[s] < 700);
                    REQUIRE(std::isfinite(events.times[s]));
                    REQUIRE(events.times[s] >= 0.0f);
                }
        } catch (const sg::InvalidArgument& error) {
            ++errors;
            REQUIRE_THAT(std::string(error.what()), Contains("SHD file 'corrupt'"));
        }
        REQUIRE(open_objects() == baseline);
    }
    CHECK(errors > 0);
    CHECK(loads > 0);
}

TEST_CASE("SHD: HDF5 error printing is off while reading and restored; no identifier leaks", "[shd][errors]") {
    write_shd("valid.h5", small_spec());
    ShdSpec spec = small_spec();
    spec.labels[0] = 20;
    write_shd("invalid.h5", spec);
    { std::ofstream("garbage.h5") << "\x89HDF\r\n\x1a\n but then garbage follows, so opening fails"; }

    static int printed = 0;
    H5E_auto2_t previous_func = nullptr;
    void* previous_data = nullptr;
    REQUIRE(H5Eget_auto2(H5E_DEFAULT, &previous_func, &previous_data) >= 0);
    const H5E_auto2_t mine = [](hid_t, void*) -> herr_t { return ++printed, 0; };
    int marker = 0;
    REQUIRE(H5Eset_auto2(H5E_DEFAULT, mine, &marker) >= 0);

    const std::vector<ssize_t> before = open_objects();
    CHECK(before[0] == 0);  // no file open
    CHECK(load_shd("valid.h5").size() == 3);
    CHECK_THAT(load_error("invalid.h5"), Contains("label 20"));
    CHECK_THAT(load_error("garbage.h5"), Contains("cannot open as HDF5"));
    CHECK_THAT(error_of([] { load_shd_from_memory(read_bytes("garbage.h5"), "garbage"); }),
               Contains("cannot open as HDF5"));
    CHECK(open_objects() == before);
    CHECK(printed == 0);

    H5E_auto2_t func = nullptr;
    void* data = nullptr;
    REQUIRE(H5Eget_auto2(H5E_DEFAULT, &func, &data) >= 0);
    CHECK(func == mine);
    CHECK(data == &marker);
    H5Eset_auto2(H5E_DEFAULT, previous_func, previous_data);
}
