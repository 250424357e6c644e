// Compile-time graph properties (static_assert) and the same tables at run
// time: names, sizes, indices, default connection names, named<>, recurrent
// connections, sequential(...) vs network(...), listed vs deduced populations.
#include <catch2/catch.hpp>

#include <spikegraph/spikegraph.hpp>

#include <cstddef>
#include <string_view>
#include <type_traits>

namespace sg = spikegraph;

namespace {

constexpr auto input = sg::population<"input", 10>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", 20>(sg::LeakyIntegrateFire{.tau_mem = 15.0f});
constexpr auto output = sg::population<"output", 5>(sg::LeakyIntegrate{}, sg::AvgVar{});

// Populations deduced from the connections, in order of first appearance.
constexpr auto deduced = sg::network(
    input >> sg::Dense{sg::Normal{0.0f, 0.1f}} >> sg::Exponential{5.0f} >> hidden,
    sg::named<"recurrent">(hidden >> sg::FixedProbability{0.1f, sg::Normal{0.0f, 0.1f}} >> hidden),
    hidden >> sg::Dense{sg::Normal{0.0f, 0.1f}} >> output);
using Deduced = std::remove_cvref_t<decltype(deduced)>;

static_assert(Deduced::num_populations == 3);
static_assert(Deduced::num_connections == 3);
static_assert(Deduced::population_names[0] == "input");
static_assert(Deduced::population_names[1] == "hidden");
static_assert(Deduced::population_names[2] == "output");
static_assert(Deduced::population_sizes[0] == 10 && Deduced::population_sizes[1] == 20 &&
              Deduced::population_sizes[2] == 5);
static_assert(Deduced::population_index("hidden") == 1);
static_assert(Deduced::population_index("missing") == -1);
static_assert(Deduced::connection_names[0] == "input_hidden");  // default "<pre>_<post>"
static_assert(Deduced::connection_names[1] == "recurrent");     // named<>
static_assert(Deduced::connection_names[2] == "hidden_output");
static_assert(Deduced::connection_index("recurrent") == 1);
static_assert(Deduced::connection_index("hidden_hidden") == -1);  // renamed away
static_assert(Deduced::connection_pre[1] == 1 && Deduced::connection_post[1] == 1);  // recurrent
static_assert(Deduced::connection_pre[0] == 0 && Deduced::connection_post[0] == 1);
static_assert(Deduced::connection_pre[2] == 1 && Deduced::connection_post[2] == 2);
static_assert(Deduced::num_inputs == 1 && Deduced::first_input() == 0);
static_assert(Deduced::num_readouts == 1 && Deduced::first_readout() == 2);
static_assert(std::is_same_v<Deduced::connection_type<0>::synapse_type, sg::Exponential>);
static_assert(std::is_same_v<Deduced::connection_type<1>::synapse_type, sg::Delta>);  // default synapse
static_assert(Deduced::connection_type<1>::connectivity_type::kind == sg::ConnectivityKind::sparse);
static_assert(std::is_same_v<Deduced::population_type<1>::neuron_type, sg::LeakyIntegrateFire>);
static_assert(Deduced::population_type<2>::has_readout && !Deduced::population_type<1>::has_readout);

// The same populations listed explicitly, in another order: listing order wins.
constexpr auto listed = sg::network(
    output, hidden, input,
    input >> sg::Dense{sg::Normal{0.0f, 0.1f}} >> sg::Exponential{5.0f} >> hidden,
    sg::named<"recurrent">(hidden >> sg::FixedProbability{0.1f, sg::Normal{0.0f, 0.1f}} >> hidden),
    hidden >> sg::Dense{sg::Normal{0.0f, 0.1f}} >> output);
using Listed = std::remove_cvref_t<decltype(listed)>;
static_assert(Listed::population_names[0] == "output" && Listed::population_names[1] == "hidden" &&
              Listed::population_names[2] == "input");
static_assert(Listed::connection_pre[0] == 2 && Listed::connection_post[0] == 1);
static_assert(Listed::connection_pre[1] == 1 && Listed::connection_post[1] == 1);
static_assert(Listed::connection_pre[2] == 1 && Listed::connection_post[2] == 0);
static_assert(Listed::first_input() == 2 && Listed::first_readout() == 0);

// Multi-dimensional populations: the size is the product of the dimensions.
constexpr auto image = sg::population<"img", 28, 28>(sg::SpikeInput{});
constexpr auto volume = sg::population<"vol", 2, 3, 4>(sg::LeakyIntegrateFire{});
static_assert(decltype(image)::size == 784);
static_assert(decltype(volume)::size == 24);

// sequential(...) and the equivalent network(...).
constexpr auto seq = sg::sequential(
    sg::InputLayer<10>(sg::SpikeInput{}),
    sg::Layer<20>(sg::LeakyIntegrateFire{.tau_mem = 15.0f}, sg::Dense{sg::Normal{0.0f, 0.1f}}, sg::Exponential{5.0f}),
    sg::Layer<30>(sg::Exponential{2.0f}, sg::LeakyIntegrateFire{}),  // any argument order, default Dense<Normal>
    sg::Layer<5, "out">(sg::LeakyIntegrate{}, sg::AvgVar{}, sg::FixedProbability{0.5f}));
using Seq = std::remove_cvref_t<decltype(seq)>;

constexpr auto seq_in = sg::population<"input", 10>(sg::SpikeInput{});
constexpr auto seq_l1 = sg::population<"layer1", 20>(sg::LeakyIntegrateFire{.tau_mem = 15.0f});
constexpr auto seq_l2 = sg::population<"layer2", 30>(sg::LeakyIntegrateFire{});
constexpr auto seq_out = sg::population<"out", 5>(sg::LeakyIntegrate{}, sg::AvgVar{});
constexpr auto equivalent = sg::network(
    seq_in >> sg::Dense{sg::Normal{0.0f, 0.1f}} >> sg::Exponential{5.0f} >> seq_l1,
    seq_l1 >> sg::Dense<sg::Normal>{} >> sg::Exponential{2.0f} >> seq_l2,
    seq_l2 >> sg::FixedProbability{0.5f} >> seq_out);
using Equivalent = std::remove_cvref_t<decltype(equivalent)>;

// With every layer named, sequential builds exactly the Network type network(...) builds.
constexpr auto seq_named = sg::sequential(
    sg::InputLayer<10>(sg::SpikeInput{}),
    sg::Layer<20, "layer1">(sg::LeakyIntegrateFire{.tau_mem = 15.0f}, sg::Dense{sg::Normal{0.0f, 0.1f}},
                            sg::Exponential{5.0f}),
    sg::Layer<30, "layer2">(sg::Exponential{2.0f}, sg::LeakyIntegrateFire{}),
    sg::Layer<5, "out">(sg::LeakyIntegrate{}, sg::AvgVar{}, sg::FixedProbability{0.5f}));
static_assert(std::is_same_v<std::remove_cvref_t<decltype(seq_named)>, Equivalent>);
static_assert(Seq::population_names[0] == "input" && Seq::population_names[1] == "layer1" &&
              Seq::population_names[2] == "layer2" && Seq::population_names[3] == "out");
static_assert(Seq::connection_names[0] == "input_layer1" && Seq::connection_names[1] == "layer1_layer2" &&
              Seq::connection_names[2] == "layer2_out");

}  // namespace

TEST_CASE("population names, sizes and indices", "[graph]") {
    CHECK(Deduced::population_names[0] == "input");
    CHECK(Deduced::population_names[1] == "hidden");
    CHECK(Deduced::population_names[2] == "output");
    CHECK(Deduced::population_sizes[0] == 10);
    CHECK(Deduced::population_sizes[1] == 20);
    CHECK(Deduced::population_sizes[2] == 5);
    for (std::size_t i = 0; i < Deduced::num_populations; ++i)
        CHECK(Deduced::population_index(Deduced::population_names[i]) == int(i));
    // The populations keep their runtime parameters.
    CHECK(deduced.population<1>().neuron.tau_mem == 15.0f);
    CHECK(deduced.connection<0>().synapse.tau == 5.0f);
    CHECK(deduced.connection<1>().connectivity.p == 0.1f);
    CHECK(image.size == 784);
    CHECK(volume.size == 24);
}

TEST_CASE("connection names, endpoints and recurrent connections", "[graph]") {
    CHECK(Deduced::connection_names[0] == "input_hidden");
    CHECK(Deduced::connection_names[1] == "recurrent");
    CHECK(Deduced::connection_names[2] == "hidden_output");
    CHECK(Deduced::connection_pre[1] == Deduced::connection_post[1]);
    CHECK(Deduced::connection_index("hidden_output") == 2);
    CHECK(Deduced::connection_index("nope") == -1);

    // An unnamed recurrent connection is called "<name>_<name>".
    constexpr auto net = sg::network(input >> sg::Dense{} >> hidden, hidden >> sg::Dense{} >> hidden);
    using Net = std::remove_cvref_t<decltype(net)>;
    static_assert(Net::connection_names[1] == "hidden_hidden");
    CHECK(Net::connection_names[1] == "hidden_hidden");
    CHECK(Net::num_populations == 2);

    // The compiled model finds weights by those names, with the right sizes.
    auto model = sg::InferenceCompiler{.example_timesteps = 1, .num_threads = 1, .verbose = false}.compile<sg::cpu>(deduced);
    CHECK(model.weights<"input_hidden">().size() == 10 * 20);
    CHECK(model.weights<"hidden_output">().size() == 20 * 5);
    CHECK(model.weights<"recurrent">().size() == model.simulator().connection_storage<1>().columns.size());
    CHECK(model.simulator().connection_storage<1>().row_start.size() == 21);
}

TEST_CASE("listed populations keep their listing order; deduced ones follow the connections", "[graph]") {
    // Same populations and connections either way; only the population order differs.
    REQUIRE(Listed::num_populations == Deduced::num_populations);
    REQUIRE(Listed::num_connections == Deduced::num_connections);
    for (std::size_t c = 0; c < Deduced::num_connections; ++c) {
        INFO("connection " << c);
        CHECK(Listed::connection_names[c] == Deduced::connection_names[c]);
        const auto d_pre = Deduced::population_names[std::size_t(Deduced::connection_pre[c])];
        const auto d_post = Deduced::population_names[std::size_t(Deduced::connection_post[c])];
        const auto l_pre = Listed::population_names[std::size_t(Listed::connection_pre[c])];
        const auto l_post = Listed::population_names[std::size_t(Listed::connection_post[c])];
        CHECK(d_pre == l_pre);
        CHECK(d_post == l_post);
    }
    for (std::size_t p = 0; p < Listed::num_populations; ++p) {
        const int d = Deduced::population_index(Listed::population_names[p]);
        REQUIRE(d >= 0);
        CHECK(Deduced::population_sizes[std::size_t(d)] == Listed::population_sizes[p]);
    }
    CHECK(Listed::population_index("input") == 2);

    // A population listed without connections is part of the network.
    constexpr auto lonely = sg::population<"lonely", 3>(sg::LeakyIntegrateFire{});
    constexpr auto with_lonely = sg::network(input, hidden, lonely, input >> sg::Dense{} >> hidden);
    using WithLonely = std::remove_cvref_t<decltype(with_lonely)>;
    static_assert(WithLonely::num_populations == 3 && WithLonely::population_index("lonely") == 2);
    CHECK(WithLonely::population_sizes[2] == 3);

    // Listing a population twice keeps one copy.
    constexpr auto twice = sg::network(input, input, hidden, input >> sg::Dense{} >> hidden);
    static_assert(std::remove_cvref_t<decltype(twice)>::num_populations == 2);
}

TEST_CASE("sequential builds the same populations and connections as network", "[graph]") {
    REQUIRE(Seq::num_populations == Equivalent::num_populations);
    REQUIRE(Seq::num_connections == Equivalent::num_connections);
    for (std::size_t p = 0; p < Seq::num_populations; ++p) {
        CHECK(Seq::population_names[p] == Equivalent::population_names[p]);
        CHECK(Seq::population_sizes[p] == Equivalent::population_sizes[p]);
    }
    for (std::size_t c = 0; c < Seq::num_connections; ++c) {
        CHECK(Seq::connection_names[c] == Equivalent::connection_names[c]);
        CHECK(Seq::connection_pre[c] == int(c));
        CHECK(Seq::connection_post[c] == int(c) + 1);
        CHECK(Seq::connection_pre[c] == Equivalent::connection_pre[c]);
        CHECK(Seq::connection_post[c] == Equivalent::connection_post[c]);
    }
    CHECK(Seq::population_sizes[0] == 10);
    CHECK(Seq::population_sizes[3] == 5);
    // Runtime parameters travel through the layers.
    CHECK(seq.population<1>().neuron.tau_mem == 15.0f);
    CHECK(seq.connection<0>().synapse.tau == 5.0f);
    CHECK(seq.connection<1>().synapse.tau == 2.0f);
    CHECK(seq.connection<2>().connectivity.p == 0.5f);
    CHECK(seq.connection<0>().connectivity.weight.sd == 0.1f);

    // Both compile to models with identical weights for the same seed.
    const auto options = sg::InferenceCompiler{.example_timesteps = 1, .seed = 9, .num_threads = 1, .verbose = false};
    auto a = options.compile<sg::cpu>(seq);
    auto b = options.compile<sg::cpu>(equivalent);
    CHECK(a.weights<"input_layer1">() == b.weights<"input_layer1">());
    CHECK(a.weights<"layer1_layer2">() == b.weights<"layer1_layer2">());
    CHECK(a.weights<"layer2_out">() == b.weights<"layer2_out">());
}

TEST_CASE("sequential with generated layer names builds the same Network type as network", "[graph]") {
    // sequential.hpp promises "the same Network type network(...) would", also
    // for generated names ("layer1"): a generated name must be the same
    // template argument as the literal, or a hand-written population<"layer1">
    // could not be joined to a sequential one.
    CHECK(std::is_same_v<Seq::population_type<1>, std::remove_cvref_t<decltype(seq_l1)>>);
    CHECK(std::is_same_v<Seq, Equivalent>);
}

TEST_CASE("multi-dimensional populations in a network", "[graph]") {
    constexpr auto net = sg::network(image >> sg::Dense{} >> volume);
    using Net = std::remove_cvref_t<decltype(net)>;
    static_assert(Net::population_sizes[0] == 784);
    CHECK(Net::population_sizes[0] == 784);
    CHECK(Net::population_sizes[1] == 24);
    CHECK(Net::connection_names[0] == "img_vol");
    auto model = sg::InferenceCompiler{.example_timesteps = 1, .num_threads = 1, .verbose = false}.compile<sg::cpu>(net);
    CHECK(model.weights<"img_vol">().size() == 784u * 24u);
}
