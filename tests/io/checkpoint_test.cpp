// Checkpoints: bit-exact save/load of dense, sparse (structure included) and
// one-to-one connections; mlGeNN's array names and layout, checked against
// arrays built here as mlGeNN/GeNN would write them; graph mismatches named;
// atomic writes under a failing rename and a failing write; truncated files.
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <sys/resource.h>

#include <spikegraph/io/checkpoint.hpp>
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

constexpr auto input = sg::population<"input", 6>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 5>(sg::LeakyIntegrateFire{});
constexpr auto output = sg::population<"output", 5>(sg::LeakyIntegrate{}, sg::AvgVar{});
constexpr auto net = sg::network(input >> sg::Dense{sg::Normal{0.0f, 1.0f}} >> sg::Exponential{5.0f} >> hidden,
                                 sg::named<"recurrent">(hidden >> sg::FixedProbability{0.5f, sg::Normal{0.0f, 1.0f}} >> hidden),
                                 hidden >> sg::OneToOne{sg::Uniform{-1.0f, 1.0f}} >> output);

// Differs in sizes (hidden/output 4) and input_hidden's synapse (Delta).
constexpr auto hidden4 = sg::population<"hidden", 4>(sg::LeakyIntegrateFire{});
constexpr auto output4 = sg::population<"output", 4>(sg::LeakyIntegrate{}, sg::AvgVar{});
constexpr auto net_sizes = sg::network(input >> sg::Dense{sg::Normal{0.0f, 1.0f}} >> hidden4,
                                       sg::named<"recurrent">(hidden4 >> sg::FixedProbability{0.5f, sg::Normal{0.0f, 1.0f}} >> hidden4),
                                       hidden4 >> sg::OneToOne{sg::Uniform{-1.0f, 1.0f}} >> output4);

// Differs in hidden's model, recurrent's connectivity and the readout connection's name.
constexpr auto hidden_alif = sg::population<"hidden", 5>(sg::AdaptiveLeakyIntegrateFire{});
constexpr auto net_models = sg::network(input >> sg::Dense{sg::Normal{0.0f, 1.0f}} >> sg::Exponential{5.0f} >> hidden_alif,
                                        sg::named<"recurrent">(hidden_alif >> sg::Dense{sg::Normal{0.0f, 1.0f}} >> hidden_alif),
                                        sg::named<"readout_conn">(hidden_alif >> sg::OneToOne{sg::Uniform{-1.0f, 1.0f}} >> output));

sg::InferenceCompiler compiler(std::uint64_t seed) {
    sg::InferenceCompiler c;
    c.example_timesteps = 4;
    c.batch_size = 1;
    c.seed = seed;
    c.num_threads = 1;
    c.verbose = false;
    return c;
}
template <class Net>
sg::CompiledNetwork<Net, sg::cpu> compile(const Net& n, std::uint64_t seed) {
    return compiler(seed).compile<sg::cpu>(n);
}
using Model = decltype(compile(net, 0));

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// Every connection's storage of a model, for whole-model comparisons.
template <class M>
std::vector<sg::detail::ConnectionStorage> storages(M& model) {
    auto& sim = model.simulator();
    using Net = std::remove_cvref_t<decltype(sim.network())>;
    std::vector<sg::detail::ConnectionStorage> out;
    [&]<std::size_t... C>(std::index_sequence<C...>) {
        (out.push_back(sim.template connection_storage<C>()), ...);
    }(std::make_index_sequence<Net::num_connections>{});
    return out;
}
bool same_storages(const std::vector<sg::detail::ConnectionStorage>& a, const std::vector<sg::detail::ConnectionStorage>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t c = 0; c < a.size(); ++c)
        if (!same_bits(a[c].weights, b[c].weights) || a[c].row_start != b[c].row_start || a[c].columns != b[c].columns)
            return false;
    return true;
}

fs::path fresh_dir(const std::string& name) {
    const fs::path dir = fs::current_path() / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::vector<std::uint8_t> file_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool no_temp_files(const fs::path& dir) {
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename().string().find(".tmp-") != std::string::npos) return false;
    return true;
}

std::string load_error(Model& model, const fs::path& p) {
    try {
        sg::load_weights(model, p);
    } catch (const sg::InvalidArgument& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("checkpoint: save, change, load restores every connection bit-exactly", "[checkpoint]") {
    const fs::path dir = fresh_dir("ckpt_roundtrip");
    Model a = compile(net, 1);
    Model b = compile(net, 2);
    // Awkward values must survive bit for bit: -0, a subnormal, infinities, a NaN payload.
    std::vector<float> w = a.weights<"input_hidden">();
    w[0] = -0.0f;
    w[1] = std::numeric_limits<float>::denorm_min();
    w[2] = std::numeric_limits<float>::infinity();
    std::uint32_t nan_bits = 0x7fc01234u;
    std::memcpy(&w[3], &nan_bits, 4);
    a.set_weights<"input_hidden">(w);
    // The two seeds give different sparse structures, so loading must replace the structure.
    REQUIRE(a.simulator().connection_storage<1>().columns != b.simulator().connection_storage<1>().columns);
    REQUIRE_FALSE(same_storages(storages(a), storages(b)));

    sg::save_weights(a, dir / "a.npz");
    sg::load_weights(b, dir / "a.npz");
    CHECK(same_storages(storages(a), storages(b)));

    // Change a's weights, load its old checkpoint back: the old values return.
    const auto saved = storages(a);
    a.set_weights<"hidden_output">(std::vector<float>(5, 9.0f));
    a.set_weights<"recurrent">(std::vector<float>(a.weights<"recurrent">().size(), -3.0f));
    REQUIRE_FALSE(same_storages(saved, storages(a)));
    sg::load_weights(a, dir / "a.npz");
    CHECK(same_storages(saved, storages(a)));
    CHECK(no_temp_files(dir));
    fs::remove_all(dir);
}

TEST_CASE("checkpoint: arrays carry mlGeNN's names and layout, with a manifest", "[checkpoint]") {
    const fs::path dir = fresh_dir("ckpt_layout");
    Model a = compile(net, 3);
    sg::save_weights(a, dir / "a.npz");
    const sg::Npz npz = sg::read_npz(dir / "a.npz");
    CHECK(npz.names() == std::vector<std::string>{"hidden_output-g", "input_hidden-g", "recurrent-g", "recurrent-post_ind",
                                                  "recurrent-pre_ind"});
    const auto& dense = npz.array("input_hidden-g");
    CHECK(dense.descr == "<f4");
    CHECK(dense.shape == std::vector<std::size_t>{6, 5});  // (pre, post)
    CHECK(same_bits(dense.as<float>(), a.weights<"input_hidden">()));
    CHECK(npz.array("hidden_output-g").shape == std::vector<std::size_t>{5});

    // Sparse: one entry per synapse, pre/post indices as int32, row by row.
    const auto& storage = a.simulator().connection_storage<1>();
    std::vector<std::int32_t> pre, post;
    for (std::size_t i = 0; i < 5; ++i)
        for (std::uint32_t k = storage.row_start[i]; k < storage.row_start[i + 1]; ++k) {
            pre.push_back(std::int32_t(i));
            post.push_back(std::int32_t(storage.columns[k]));
        }
    const std::size_t n = pre.size();
    CHECK(npz.array("recurrent-g").shape == std::vector<std::size_t>{n});
    CHECK(same_bits(npz.array("recurrent-g").as<float>(), storage.weights));
    CHECK(npz.array("recurrent-pre_ind").descr == "<i4");
    CHECK(npz.array("recurrent-pre_ind").as<std::int32_t>() == pre);
    CHECK(npz.array("recurrent-post_ind").as<std::int32_t>() == post);

    const auto* manifest = npz.raw("manifest.json");
    REQUIRE(manifest != nullptr);
    const std::string expected =
        "{\n"
        "  \"format\": \"spikegraph-checkpoint\",\n"
        "  \"version\": 1,\n"
        "  \"populations\": [\n"
        "    {\"name\": \"input\", \"size\": 6, \"model\": \"SpikeInput\"},\n"
        "    {\"name\": \"hidden\", \"size\": 5, \"model\": \"LeakyIntegrateFire\"},\n"
        "    {\"name\": \"output\", \"size\": 5, \"model\": \"LeakyIntegrate\"}\n"
        "  ],\n"
        "  \"connections\": [\n"
        "    {\"name\": \"input_hidden\", \"pre\": \"input\", \"post\": \"hidden\", \"connectivity\": \"Dense\", "
        "\"synapse\": \"Exponential\", \"num_weights\": 30, \"arrays\": [\"input_hidden-g\"]},\n"
        "    {\"name\": \"recurrent\", \"pre\": \"hidden\", \"post\": \"hidden\", \"connectivity\": \"FixedProbability\", "
        "\"synapse\": \"Delta\", \"num_weights\": " + std::to_string(n) +
        ", \"arrays\": [\"recurrent-g\", \"recurrent-pre_ind\", \"recurrent-post_ind\"]},\n"
        "    {\"name\": \"hidden_output\", \"pre\": \"hidden\", \"post\": \"output\", \"connectivity\": \"OneToOne\", "
        "\"synapse\": \"Delta\", \"num_weights\": 5, \"arrays\": [\"hidden_output-g\"]}\n"
        "  ]\n"
        "}\n";
    CHECK(std::string(manifest->begin(), manifest->end()) == expected);
    fs::remove_all(dir);
}

TEST_CASE("checkpoint: a directory of .npy files as mlGeNN's Numpy serialiser writes them", "[checkpoint]") {
    const fs::path dir = fresh_dir("ckpt_mlgenn");
    // Files as mlGeNN's Checkpoint callback names them for epoch 7:
    // "-".join((7, connection, "g")) + ".npy"; GeNN hands back dense weights
    // flat, pre indices as int64 and post indices as uint32, rows in pre order
    // but (after structural plasticity, say) not sorted within a row.
    std::vector<float> dense(30);
    for (std::size_t i = 0; i < dense.size(); ++i) dense[i] = 0.25f * float(i) - 3.0f;
    sg::write_npy(dir / "7-input_hidden-g.npy", dense, {30});
    const std::vector<std::int64_t> pre{0, 0, 2, 4, 4, 4};
    const std::vector<std::uint32_t> post{3, 1, 2, 4, 0, 2};
    const std::vector<float> g{0.3f, 0.1f, 2.2f, 4.4f, 4.0f, 4.2f};
    sg::write_npy(dir / "7-recurrent-g.npy", g, {6});
    sg::write_npy(dir / "7-recurrent-pre_ind.npy", pre, {6});
    sg::write_npy(dir / "7-recurrent-post_ind.npy", post, {6});
    sg::write_npy(dir / "7-hidden_output-g.npy", std::vector<double>{1, 2, 3, 4, 5}, {5});

    Model m = compile(net, 4);
    sg::load_weights_npy(m, dir, "7");
    CHECK(same_bits(m.weights<"input_hidden">(), dense));
    const auto& s = m.simulator().connection_storage<1>();
    // CSR by pre then post, weights moved with their synapses.
    CHECK(s.row_start == std::vector<std::uint32_t>{0, 2, 2, 3, 3, 6});
    CHECK(s.columns == std::vector<std::uint32_t>{1, 3, 2, 0, 2, 4});
    CHECK(same_bits(s.weights, {0.1f, 0.3f, 2.2f, 4.0f, 4.2f, 4.4f}));
    CHECK(same_bits(m.weights<"hidden_output">(), {1, 2, 3, 4, 5}));

    // Our own directory layout round-trips and uses the same names.
    const fs::path out = dir / "ours";
    sg::save_weights_npy(m, out, "3");
    for (const char* file : {"3-input_hidden-g.npy", "3-recurrent-g.npy", "3-recurrent-pre_ind.npy", "3-recurrent-post_ind.npy",
                             "3-hidden_output-g.npy", "3-manifest.json"})
        CHECK(fs::exists(out / file));
    CHECK(sg::read_npy(out / "3-input_hidden-g.npy").shape == std::vector<std::size_t>{6, 5});
    Model other = compile(net, 5);
    sg::load_weights_npy(other, out, "3");
    CHECK(same_storages(storages(m), storages(other)));

    // Missing or inconsistent arrays name the connection and the array.
    fs::remove(dir / "7-recurrent-pre_ind.npy");
    CHECK_THROWS_WITH(sg::load_weights_npy(m, dir, "7"),
                      Contains("connection 'recurrent': expected array 'recurrent-pre_ind', got none"));
    sg::write_npy(dir / "7-recurrent-pre_ind.npy", std::vector<std::int64_t>{0, 0, 2, 4, 4, 5}, {6});
    CHECK_THROWS_WITH(sg::load_weights_npy(m, dir, "7"),
                      Contains("7-recurrent-pre_ind.npy (connection 'recurrent'): synapse 5 has pre index 5, expected 0 <= pre index < 5"));
    sg::write_npy(dir / "7-recurrent-pre_ind.npy", std::vector<std::int64_t>{0, 0, 2, 4, 4, 0}, {6});
    sg::write_npy(dir / "7-recurrent-post_ind.npy", std::vector<std::uint32_t>{3, 1, 2, 4, 0, 3}, {6});
    CHECK_THROWS_WITH(sg::load_weights_npy(m, dir, "7"),
                      Contains("connection 'recurrent': synapses 0 and 5 both connect pre 0 to post 3"));
    sg::write_npy(dir / "7-input_hidden-g.npy", dense, {5, 6});
    CHECK_THROWS_WITH(sg::load_weights_npy(m, dir, "7"),
                      Contains("7-input_hidden-g.npy (connection 'input_hidden'): expected dense weights of shape (6, 5) (pre, post) or (30,), got (5, 6)"));
    CHECK_THROWS_WITH(sg::load_weights_npy(m, dir / "absent", "7"), Contains("expected a directory, got nothing"));
    fs::remove_all(dir);
}

TEST_CASE("checkpoint: loading into a different graph names every difference", "[checkpoint]") {
    const fs::path dir = fresh_dir("ckpt_graph");
    Model a = compile(net, 1);
    const fs::path file = dir / "x.npz";
    sg::save_weights(a, file);

    auto sizes = compile(net_sizes, 1);
    const auto before_sizes = storages(sizes);
    const std::string prefix = "checkpoint '" + file.string() + "': ";
    CHECK_THROWS_WITH(sg::load_weights(sizes, file),
                      Contains(prefix + "population 'hidden' has 5 neurons in the checkpoint, 4 in the network") &&
                          Contains("population 'output' has 5 neurons in the checkpoint, 4 in the network") &&
                          Contains("connection 'input_hidden' has synapse 'Exponential' in the checkpoint, 'Delta' in the network") &&
                          Contains("connection 'input_hidden' has 30 weights in the checkpoint, 24 in the network"));
    CHECK(same_storages(before_sizes, storages(sizes)));  // nothing changed

    auto models = compile(net_models, 1);
    const auto before_models = storages(models);
    CHECK_THROWS_WITH(
        sg::load_weights(models, file),
        Contains(prefix + "population 'hidden' has model 'LeakyIntegrateFire' in the checkpoint, 'AdaptiveLeakyIntegrateFire' in the network") &&
            Contains("connection 'recurrent' has connectivity 'FixedProbability' in the checkpoint, 'Dense' in the network") &&
            Contains("connection 'readout_conn' is in the network but not in the checkpoint") &&
            Contains("connection 'hidden_output' is in the checkpoint but not in the network"));
    CHECK(same_storages(before_models, storages(models)));

    // Without a manifest (a plain np.savez), an array of an unknown connection is still caught.
    sg::NpzWriter plain;
    plain.add("input_hidden-g", a.weights<"input_hidden">(), {6, 5});
    plain.add("ghost-g", std::vector<float>{1}, {1});
    plain.write(dir / "plain.npz");
    CHECK_THAT(load_error(a, dir / "plain.npz"), Contains("array 'ghost-g' holds the weights of connection 'ghost', which the network lacks"));

    // A manifest from a newer format, or not JSON at all.
    auto with_manifest = [&](std::string_view text) {
        sg::NpzWriter w;
        w.add("input_hidden-g", a.weights<"input_hidden">(), {6, 5});
        w.add_raw("manifest.json", text);
        w.write(dir / "m.npz");
        return load_error(a, dir / "m.npz");
    };
    CHECK_THAT(with_manifest(R"({"format": "spikegraph-checkpoint", "version": 2, "populations": [], "connections": []})"),
               Contains("member 'manifest.json': byte 47: manifest.version: expected 1..1 (versions this library reads), got 2"));
    CHECK_THAT(with_manifest("{\"format\": \"spikegraph-checkpoint\", \"version\": 1,"),
               Contains("member 'manifest.json': byte 49: expected a string key, got end of text"));
    CHECK_THAT(with_manifest(R"({"format": "spikegraph-checkpoint", "version": 1, "populations": [{"name": 3}], "connections": []})"),
               Contains("populations[0].name: expected a string, got an integer"));
    fs::remove_all(dir);
}

TEST_CASE("checkpoint: writes are atomic", "[checkpoint]") {
    const fs::path dir = fresh_dir("ckpt_atomic");
    Model a = compile(net, 1);

    SECTION("the target is a non-empty directory: the rename fails, nothing is left behind") {
        fs::create_directories(dir / "target.npz" / "keep");
        std::ofstream(dir / "target.npz" / "keep" / "file.txt") << "precious";
        CHECK_THROWS_WITH(sg::save_weights(a, dir / "target.npz"),
                          Contains("checkpoint '" + (dir / "target.npz").string() + "'") && Contains("rename"));
        CHECK(file_bytes(dir / "target.npz" / "keep" / "file.txt") == std::vector<std::uint8_t>{'p', 'r', 'e', 'c', 'i', 'o', 'u', 's'});
        CHECK(no_temp_files(dir));
    }
    SECTION("a write that fails half way leaves the previous checkpoint intact") {
        const fs::path file = dir / "ckpt.npz";
        sg::save_weights(a, file);
        const auto old_bytes = file_bytes(file);
        const auto old_storages = storages(a);
        a.set_weights<"input_hidden">(std::vector<float>(30, 7.0f));
        {
            // The file-size limit makes write() fail with EFBIG part way through the temp file.
            struct LimitGuard {
                rlimit saved{};
                void (*handler)(int) = nullptr;
                LimitGuard(rlim_t limit) {
                    getrlimit(RLIMIT_FSIZE, &saved);
                    handler = std::signal(SIGXFSZ, SIG_IGN);
                    rlimit lowered = saved;
                    lowered.rlim_cur = limit;
                    setrlimit(RLIMIT_FSIZE, &lowered);
                }
                ~LimitGuard() {
                    setrlimit(RLIMIT_FSIZE, &saved);
                    std::signal(SIGXFSZ, handler);
                }
            } guard(old_bytes.size() / 2);
            CHECK_THROWS_WITH(sg::save_weights(a, file), Contains("checkpoint '" + file.string() + "'") && Contains("failed"));
        }
        CHECK(file_bytes(file) == old_bytes);
        CHECK(no_temp_files(dir));
        sg::load_weights(a, file);
        CHECK(same_storages(old_storages, storages(a)));
    }
    fs::remove_all(dir);
}

TEST_CASE("checkpoint: a truncated checkpoint fails cleanly and changes nothing", "[checkpoint]") {
    const fs::path dir = fresh_dir("ckpt_truncated");
    Model a = compile(net, 1);
    Model b = compile(net, 2);
    sg::save_weights(a, dir / "full.npz");
    const auto full = file_bytes(dir / "full.npz");
    const auto before = storages(b);
    for (std::size_t n = 0; n < full.size(); ++n) {
        // A new file each time: rewriting one file in place makes ext4 flush it on every close.
        const fs::path cut = dir / ("cut-" + std::to_string(n) + ".npz");
        {
            std::ofstream out(cut, std::ios::binary);
            out.write(reinterpret_cast<const char*>(full.data()), std::streamsize(n));
        }
        INFO("length " << n);
        CHECK_THAT(load_error(b, cut), Contains("checkpoint '" + cut.string() + "'") && Contains("byte "));
        fs::remove(cut);
    }
    CHECK(same_storages(before, storages(b)));
    CHECK_THAT(load_error(b, dir / "none.npz"), Contains("none.npz") && Contains("cannot open"));
    fs::remove_all(dir);
}

TEST_CASE("checkpoint: save_checkpoint and latest_checkpoint", "[checkpoint]") {
    const fs::path dir = fs::current_path() / "ckpt_latest";
    fs::remove_all(dir);
    CHECK_FALSE(sg::latest_checkpoint(dir).has_value());  // no directory yet
    Model a = compile(net, 1);
    const fs::path p9 = sg::save_checkpoint(a, dir, "epoch-9");
    CHECK(p9 == dir / "epoch-9.npz");
    const fs::path p10 = sg::save_checkpoint(a, dir, "epoch-10");
    std::ofstream(dir / "epoch-11.npz.tmp-1-abc") << "unfinished";
    std::ofstream(dir / "notes.txt") << "not a checkpoint";
    // Same modification time: the natural order of the tags decides (10 after 9).
    const auto t = fs::last_write_time(p9);
    fs::last_write_time(p10, t);
    CHECK(sg::latest_checkpoint(dir) == p10);
    // A later write wins.
    fs::last_write_time(p9, t + std::chrono::seconds(5));
    CHECK(sg::latest_checkpoint(dir) == p9);
    Model b = compile(net, 2);
    sg::load_weights(b, *sg::latest_checkpoint(dir));
    CHECK(same_storages(storages(a), storages(b)));
    CHECK_THROWS_WITH(sg::save_checkpoint(a, dir, "a/b"), Contains("checkpoint tag 'a/b': expected a file name"));
    CHECK_THROWS_WITH(sg::save_checkpoint(a, dir, ""), Contains("expected a file name"));
    CHECK_THROWS_WITH(sg::latest_checkpoint(p9), Contains("expected a directory, got a file"));
    CHECK(sg::detail::natural_less("epoch-9", "epoch-10"));
    CHECK_FALSE(sg::detail::natural_less("epoch-10", "epoch-9"));
    CHECK(sg::detail::natural_less("a", "b"));
    fs::remove_all(dir);
}
