// EventProp gradients against finite differences of the same loss computed by
// an independent reference: a plain double-precision simulation of the model
// of docs/event_prop.md written in this file (dense loops, no events), whose
// spikes and loss are first checked against the library's forward pass. In
// double precision a step of 1e-6 gives clean central differences; a weight is
// compared only where no spike appears, disappears or changes step between
// w - eps and w + eps (the condition under which a finite difference is a
// derivative), and every network below keeps almost all of its weights there.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

namespace {

// ---- the reference ----------------------------------------------------------

enum class Kind { input, lif, li };
enum class ReadoutKind { none, sum_var, avg_var, avg_var_exp_weight, max_var, var, first_spike_time };
enum class LossKind { cross_entropy, mean_square_error };

struct RefPopulation {
    Kind kind;
    std::size_t size;
    double tau_mem = 20.0, v_thresh = 1.0, input_scale = 1.0;  // input_scale: 1 - alpha with scale_i
    ReadoutKind readout = ReadoutKind::none;
};
struct RefConnection {
    std::size_t pre, post;
    double tau_syn = 5.0, scale = 1.0;
    std::vector<std::vector<double>> weights;  // [pre][post]; absent synapses stay 0 and are never perturbed
};
struct RefNetwork {
    std::vector<RefPopulation> populations;
    std::vector<RefConnection> connections;
    double dt = 1.0;
    int steps = 0;
    LossKind loss = LossKind::cross_entropy;
    double temperature = 1.0, ttfs_alpha = 0.01;
};
using Raster = std::vector<std::pair<int, int>>;  // (step, population * 1000 + neuron), per example in order

// Simulates one example; returns the output readouts and appends the raster.
std::vector<double> reference_example(const RefNetwork& net, const sg::SpikeEvents& events, Raster& raster) {
    const double h = net.dt;
    std::vector<std::vector<double>> v(net.populations.size()), readout(net.populations.size());
    std::vector<std::vector<double>> j(net.connections.size());
    std::vector<std::vector<int>> max_step(net.populations.size());
    std::size_t out = 0;
    for (std::size_t p = 0; p < net.populations.size(); ++p) {
        v[p].assign(net.populations[p].size, 0.0);
        const bool first_spike = net.populations[p].readout == ReadoutKind::first_spike_time;
        readout[p].assign(net.populations[p].size, first_spike ? -std::numeric_limits<double>::max() : 0.0);
        max_step[p].assign(net.populations[p].size, -1);
        if (net.populations[p].readout != ReadoutKind::none) out = p;
    }
    for (std::size_t c = 0; c < net.connections.size(); ++c) j[c].assign(net.populations[net.connections[c].post].size, 0.0);
    for (int n = 0; n < net.steps; ++n) {
        std::vector<std::vector<std::pair<std::size_t, double>>> spikes(net.populations.size());  // (neuron, offset)
        for (std::size_t p = 0; p < net.populations.size(); ++p) {
            const RefPopulation& pop = net.populations[p];
            if (pop.kind == Kind::input) {
                for (std::size_t e = 0; e < events.size(); ++e)
                    if (std::lround(events.times[e] / h) == n) spikes[p].push_back({events.ids[e], h});
                continue;
            }
            const double alpha = std::exp(-h / pop.tau_mem);
            for (std::size_t i = 0; i < pop.size; ++i) {
                double current = 0.0;
                for (std::size_t c = 0; c < net.connections.size(); ++c)
                    if (net.connections[c].post == p) {
                        current += net.connections[c].scale * j[c][i];
                        j[c][i] *= std::exp(-h / net.connections[c].tau_syn);
                    }
                const double start = v[p][i];
                v[p][i] = alpha * v[p][i] + pop.input_scale * current;
                const double value = v[p][i];
                switch (pop.readout) {
                    case ReadoutKind::sum_var: readout[p][i] += value; break;
                    case ReadoutKind::avg_var: readout[p][i] += value / net.steps; break;
                    case ReadoutKind::avg_var_exp_weight:
                        readout[p][i] += std::exp(-double(n) / net.steps) / net.steps * value;
                        break;
                    case ReadoutKind::max_var:
                        if (value > readout[p][i]) readout[p][i] = value, max_step[p][i] = n;
                        break;
                    case ReadoutKind::var: readout[p][i] = value; break;
                    default: break;
                }
                if (pop.kind == Kind::lif && value >= pop.v_thresh) {
                    // linear interpolation inside the step; the reset decays for the rest of it
                    const double offset = start < pop.v_thresh ? h * (pop.v_thresh - start) / (value - start) : 0.0;
                    v[p][i] -= pop.v_thresh * std::exp(-(h - offset) / pop.tau_mem);
                    spikes[p].push_back({i, offset});
                    raster.push_back({n, int(p * 1000 + i)});
                    if (pop.readout == ReadoutKind::first_spike_time && readout[p][i] < -1e300)
                        readout[p][i] = -(n * h + offset);
                }
            }
        }
        for (const RefConnection& c : net.connections) {
            const RefPopulation& post = net.populations[c.post];
            const double alpha = std::exp(-h / post.tau_mem), beta = std::exp(-h / c.tau_syn);
            const double k = post.input_scale * c.scale;
            for (const auto& [i, offset] : spikes[c.pre]) {
                const double r = h - offset;
                const double current = std::exp(-r / c.tau_syn);
                const double voltage = std::abs(post.tau_mem - c.tau_syn) < 1e-9
                                           ? k * (r / h) * std::exp(-(r - h) / post.tau_mem)  // the limit for equal taus
                                           : k * (std::exp(-r / post.tau_mem) - current) / (alpha - beta);
                for (std::size_t q = 0; q < post.size; ++q) {
                    j[&c - net.connections.data()][q] += c.weights[i][q] * current;
                    v[c.post][q] += c.weights[i][q] * voltage;
                }
            }
        }
    }
    return readout[out];
}

double reference_loss(const RefNetwork& net, const sg::SpikeDataset& data, Raster& raster) {
    raster.clear();
    double total = 0.0;
    for (std::size_t e = 0; e < data.size(); ++e) {
        const std::vector<double> y = reference_example(net, data.examples[e], raster);
        const auto label = std::size_t(data.labels[e]);
        if (net.loss == LossKind::mean_square_error) {
            for (std::size_t k = 0; k < y.size(); ++k) total += std::pow(y[k] - (k == label), 2) / double(y.size());
            continue;
        }
        const bool first_spike = std::any_of(net.populations.begin(), net.populations.end(),
                                             [](const RefPopulation& p) { return p.readout == ReadoutKind::first_spike_time; });
        std::vector<double> z(y.size());
        const double window = net.steps * net.dt;
        for (std::size_t k = 0; k < y.size(); ++k) {
            const double t = y[k] < -1e300 ? window : -y[k];
            z[k] = first_spike ? -t / net.temperature : y[k];
        }
        const double top = *std::max_element(z.begin(), z.end());
        double sum = 0.0;
        for (double x : z) sum += std::exp(x - top);
        total += top + std::log(sum) - z[label];
        if (first_spike) total += net.ttfs_alpha / (1.01 * window - (y[label] < -1e300 ? window : -y[label]));
    }
    return total / double(data.size());
}

// ---- the comparison ---------------------------------------------------------

struct GradientCheck {
    double relative_error = 0.0;  // |g - fd| / |fd| over the compared weights (Euclidean norms)
    double gradient_norm = 0.0;
    std::size_t compared = 0;
    std::size_t total = 0;
};

// The library's EventProp gradient of the whole dataset (one batch).
template <std::size_t C, class Model>
std::vector<float> library_gradient(Model& model, const sg::SpikeDataset& data, double& loss) {
    auto& sim = model.simulator();
    sim.template set_input<Model::input_index>(sg::make_input_batch(data, 0, data.size()));
    sim.run();
    std::vector<float> outputs(data.size() * Model::num_outputs), dloss(outputs.size());
    sim.template readout<Model::output_population>(outputs);
    loss = sg::loss_and_gradient(model.settings().loss, model.settings().loss_context, outputs, Model::num_outputs,
                                 data.labels, data.size(), dloss) /
           double(data.size());
    sim.zero_gradients();
    sim.template backward<Model::output_population>(dloss);
    return std::vector<float>(sim.template gradient<C>().begin(), sim.template gradient<C>().end());
}

// Copies the library's weights (dense [pre][post] or CSR) into the reference.
template <std::size_t C, class Model>
void copy_weights(const Model& model, RefConnection& c) {
    const auto& storage = model.simulator().template connection_storage<C>();
    const std::size_t pre = c.weights.size(), post = c.weights[0].size();
    for (auto& row : c.weights) std::fill(row.begin(), row.end(), 0.0);
    if (storage.row_start.empty()) {
        for (std::size_t i = 0; i < pre; ++i)
            for (std::size_t k = 0; k < post; ++k) c.weights[i][k] = storage.weights[i * post + k];
    } else {
        for (std::size_t i = 0; i < pre; ++i)
            for (std::uint32_t e = storage.row_start[i]; e < storage.row_start[i + 1]; ++e)
                c.weights[i][storage.columns[e]] = storage.weights[e];
    }
}

// Checks connection C of model against central differences of the reference, and the forward passes against each other.
template <std::size_t C, class Model>
GradientCheck check_connection(Model& model, RefNetwork reference, const sg::SpikeDataset& data) {
    double library_loss = 0.0;
    const std::vector<float> analytic = library_gradient<C>(model, data, library_loss);
    Raster raster, plus, minus;
    const double loss = reference_loss(reference, data, raster);
    INFO("library loss " << library_loss << ", reference loss " << loss);
    REQUIRE(std::abs(library_loss - loss) <= 1e-4 * std::max(1.0, std::abs(loss)));

    const auto& storage = model.simulator().template connection_storage<C>();
    const std::size_t post = reference.connections[C].weights[0].size();
    GradientCheck check;
    check.total = analytic.size();
    double difference = 0.0, norm = 0.0;
    constexpr double eps = 1e-6;
    for (std::size_t e = 0; e < analytic.size(); ++e) {
        std::size_t i = e / post, k = e % post;
        if (!storage.row_start.empty()) {
            i = std::size_t(std::upper_bound(storage.row_start.begin(), storage.row_start.end(), std::uint32_t(e)) -
                            storage.row_start.begin() - 1);
            k = storage.columns[e];
        }
        double& w = reference.connections[C].weights[i][k];
        const double original = w;
        w = original + eps;
        const double up = reference_loss(reference, data, plus);
        w = original - eps;
        const double down = reference_loss(reference, data, minus);
        w = original;
        if (plus != raster || minus != raster) continue;
        const double finite = (up - down) / (2.0 * eps);
        difference += (finite - analytic[e]) * (finite - analytic[e]);
        norm += finite * finite;
        ++check.compared;
    }
    check.relative_error = norm > 0.0 ? std::sqrt(difference / norm) : 0.0;
    check.gradient_norm = std::sqrt(norm);
    return check;
}

// A few spikes on three input neurons per example.
sg::SpikeDataset small_spike_data(std::size_t inputs, std::size_t classes, int examples = 3) {
    sg::SpikeDataset data;
    data.num_inputs = inputs;
    data.num_classes = classes;
    for (int e = 0; e < examples; ++e) {
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        for (int k = 0; k < 6; ++k) {
            times.push_back(float(k * 7 + 2 * e));
            ids.push_back(std::uint32_t((k + e) % int(inputs)));
        }
        data.examples.push_back(sg::make_spike_events(times, ids, inputs));
        data.labels.push_back(std::int32_t(e % int(classes)));
    }
    return data;
}

// The compiler is built in a plain function: GCC 12 cannot take a designated
// initialiser of it inside a function template.
sg::EventPropCompiler compiler(int steps, float dt, std::size_t batch, unsigned threads,
                               sg::Loss loss = sg::SparseCategoricalCrossentropy{}) {
    sg::EventPropCompiler c;
    c.example_timesteps = steps;
    c.dt = dt;
    c.batch_size = batch;
    c.num_threads = threads;
    c.seed = 3;
    c.loss = loss;
    c.verbose = false;
    return c;
}

void require_exact(const GradientCheck& check, const std::string& what) {
    INFO(what << ": compared " << check.compared << " of " << check.total << " weights, |dL/dw| "
              << check.gradient_norm << ", relative error " << check.relative_error);
    std::printf("%-36s compared %3zu/%3zu  |dL/dw| %9.3g  relative error %.2e\n", what.c_str(), check.compared,
                check.total, check.gradient_norm, check.relative_error);
    REQUIRE(check.compared * 10 >= check.total * 9);  // nearly every weight is comparable
    REQUIRE(check.gradient_norm > 1e-3);                // and the gradient is not trivially zero
    REQUIRE(check.relative_error <= 1e-3);
}

// input (3) -> hidden LIF (4, recurrent) -> output (2)
template <class OutputModel, class Readout>
auto recurrent_net(OutputModel output_model, Readout readout, float output_mean = 0.3f) {
    const sg::LeakyIntegrateFire lif{.tau_mem = 20.0f};
    auto input = sg::population<"input", 3>(sg::SpikeInput{});
    auto hidden = sg::population<"hidden", 4>(lif);
    auto output = sg::population<"output", 2>(output_model, readout);
    return sg::network(input >> sg::Dense{sg::Normal{0.3f, 0.1f}} >> sg::Exponential{5.0f} >> hidden,
                       hidden >> sg::Dense{sg::Normal{0.0f, 0.1f}} >> sg::Exponential{5.0f} >> hidden,
                       hidden >> sg::Dense{sg::Normal{output_mean, 0.5f}} >> sg::Exponential{5.0f} >> output);
}
RefNetwork recurrent_reference(Kind output_kind, ReadoutKind readout, LossKind loss) {
    RefNetwork r;
    r.steps = 60;
    r.loss = loss;
    r.populations = {{Kind::input, 3}, {Kind::lif, 4}, {output_kind, 2, 20.0, 1.0, 1.0, readout}};
    auto dense = [](std::size_t pre, std::size_t post, std::size_t m, std::size_t n) {
        return RefConnection{pre, post, 5.0, 1.0, std::vector<std::vector<double>>(m, std::vector<double>(n))};
    };
    r.connections = {dense(0, 1, 3, 4), dense(1, 1, 4, 4), dense(1, 2, 4, 2)};
    return r;
}
template <class Model>
RefNetwork with_weights(const Model& model, RefNetwork r) {
    copy_weights<0>(model, r.connections[0]);
    copy_weights<1>(model, r.connections[1]);
    if (r.connections.size() > 2) copy_weights<2 % Model::Simulator::num_connections>(model, r.connections[2]);
    return r;
}

}  // namespace

TEST_CASE("EventProp gradients equal finite differences: recurrent LIF, LI with AvgVarExpWeight", "[event_prop]") {
    const auto data = small_spike_data(3, 2);
    auto model = compiler(60, 1.0f, 3, 1).compile<sg::cpu>(recurrent_net(sg::LeakyIntegrate{}, sg::AvgVarExpWeight{}));
    const RefNetwork reference =
        with_weights(model, recurrent_reference(Kind::li, ReadoutKind::avg_var_exp_weight, LossKind::cross_entropy));
    require_exact(check_connection<0>(model, reference, data), "input -> hidden");
    require_exact(check_connection<1>(model, reference, data), "hidden -> hidden (recurrent)");
    require_exact(check_connection<2>(model, reference, data), "hidden -> output");
}

TEST_CASE("EventProp gradients equal finite differences for each variable readout", "[event_prop]") {
    const auto data = small_spike_data(3, 2);
    SECTION("SumVar") {
        auto model = compiler(60, 1.0f, 3, 1).compile<sg::cpu>(recurrent_net(sg::LeakyIntegrate{}, sg::SumVar{}));
        const RefNetwork reference =
            with_weights(model, recurrent_reference(Kind::li, ReadoutKind::sum_var, LossKind::cross_entropy));
        require_exact(check_connection<0>(model, reference, data), "SumVar: input -> hidden");
        require_exact(check_connection<1>(model, reference, data), "SumVar: hidden -> hidden");
    }
    SECTION("MaxVar") {
        auto model = compiler(60, 1.0f, 3, 1).compile<sg::cpu>(recurrent_net(sg::LeakyIntegrate{}, sg::MaxVar{}));
        const RefNetwork reference =
            with_weights(model, recurrent_reference(Kind::li, ReadoutKind::max_var, LossKind::cross_entropy));
        require_exact(check_connection<0>(model, reference, data), "MaxVar: input -> hidden");
        require_exact(check_connection<2>(model, reference, data), "MaxVar: hidden -> output");
    }
    SECTION("Var with the mean square error") {
        auto model = compiler(60, 1.0f, 3, 1, sg::MeanSquareError{})
                         .compile<sg::cpu>(recurrent_net(sg::LeakyIntegrate{}, sg::Var{}));
        const RefNetwork reference =
            with_weights(model, recurrent_reference(Kind::li, ReadoutKind::var, LossKind::mean_square_error));
        require_exact(check_connection<0>(model, reference, data), "Var + MSE: input -> hidden");
        require_exact(check_connection<2>(model, reference, data), "Var + MSE: hidden -> output");
    }
}

TEST_CASE("EventProp gradients equal finite differences: first-spike-time loss on a LIF output", "[event_prop]") {
    const auto data = small_spike_data(3, 2);
    auto c = compiler(60, 1.0f, 3, 1);
    c.softmax_temperature = 2.0f;
    c.ttfs_alpha = 0.1f;
    auto model = c.compile<sg::cpu>(recurrent_net(sg::LeakyIntegrateFire{.tau_mem = 20.0f}, sg::FirstSpikeTime{}, 1.0f));
    // Every output fires in every example, so the loss depends on spike times only
    // (a silent output gets the loss's heuristic push, which is not a derivative).
    model.simulator().set_input<0>(sg::make_input_batch(data, 0, data.size()));
    model.simulator().run();
    std::vector<float> first_spike(data.size() * 2);
    model.simulator().readout<2>(first_spike);
    for (float y : first_spike) REQUIRE(y > -60.0f);
    RefNetwork reference = with_weights(model, recurrent_reference(Kind::lif, ReadoutKind::first_spike_time, LossKind::cross_entropy));
    reference.temperature = 2.0;
    reference.ttfs_alpha = 0.1;
    require_exact(check_connection<0>(model, reference, data), "TTFS: input -> hidden");
    require_exact(check_connection<1>(model, reference, data), "TTFS: hidden -> hidden");
    require_exact(check_connection<2>(model, reference, data), "TTFS: hidden -> output");
}

TEST_CASE("EventProp gradients equal finite differences: sparse connectivity, scaled inputs, dt 0.5, 2 threads",
          "[event_prop]") {
    const auto data = small_spike_data(3, 2, 4);
    // mlGeNN's EventProp defaults: scale_i on neurons and synapses.
    const sg::LeakyIntegrateFire lif{.tau_mem = 20.0f, .scale_i = true};
    const sg::Exponential synapse{.tau = 5.0f, .scale_i = true};
    auto input = sg::population<"input", 3>(sg::SpikeInput{});
    auto hidden = sg::population<"hidden", 6>(lif);
    auto output = sg::population<"output", 2>(sg::LeakyIntegrate{.tau_mem = 10.0f, .scale_i = true}, sg::AvgVar{});
    auto net = sg::network(input >> sg::FixedProbability{0.7f, sg::Normal{3.0f, 0.5f}} >> synapse >> hidden,
                           hidden >> sg::Dense{sg::Normal{0.5f, 1.0f}} >> synapse >> output);
    auto model = compiler(100, 0.5f, 4, 2).compile<sg::cpu>(net);
    RefNetwork r;
    r.steps = 100;
    r.dt = 0.5;
    const double synapse_scale = (5.0 / 0.5) * (1.0 - std::exp(-0.5 / 5.0));
    r.populations = {{Kind::input, 3}, {Kind::lif, 6, 20.0, 1.0, 1.0 - std::exp(-0.5 / 20.0)},
                     {Kind::li, 2, 10.0, 1.0, 1.0 - std::exp(-0.5 / 10.0), ReadoutKind::avg_var}};
    r.connections = {RefConnection{0, 1, 5.0, synapse_scale, std::vector<std::vector<double>>(3, std::vector<double>(6))},
                     RefConnection{1, 2, 5.0, synapse_scale, std::vector<std::vector<double>>(6, std::vector<double>(2))}};
    copy_weights<0>(model, r.connections[0]);
    copy_weights<1>(model, r.connections[1]);
    require_exact(check_connection<0>(model, r, data), "sparse input -> hidden");
    require_exact(check_connection<1>(model, r, data), "hidden -> output, dt 0.5");
}

TEST_CASE("EventProp gradients equal finite differences when a synapse's tau equals its target's tau_mem",
          "[event_prop]") {
    const auto data = small_spike_data(3, 2);
    const sg::LeakyIntegrateFire lif{.tau_mem = 20.0f};
    auto input = sg::population<"input", 3>(sg::SpikeInput{});
    auto hidden = sg::population<"hidden", 4>(lif);
    auto output = sg::population<"output", 2>(sg::LeakyIntegrate{.tau_mem = 20.0f}, sg::AvgVar{});
    auto net = sg::network(input >> sg::Dense{sg::Normal{0.3f, 0.1f}} >> sg::Exponential{5.0f} >> hidden,
                           hidden >> sg::Dense{sg::Normal{0.1f, 0.3f}} >> sg::Exponential{20.0f} >> output);
    auto model = compiler(60, 1.0f, 3, 1).compile<sg::cpu>(net);
    RefNetwork r;
    r.steps = 60;
    r.populations = {{Kind::input, 3}, {Kind::lif, 4}, {Kind::li, 2, 20.0, 1.0, 1.0, ReadoutKind::avg_var}};
    r.connections = {RefConnection{0, 1, 5.0, 1.0, std::vector<std::vector<double>>(3, std::vector<double>(4))},
                     RefConnection{1, 2, 20.0, 1.0, std::vector<std::vector<double>>(4, std::vector<double>(2))}};
    copy_weights<0>(model, r.connections[0]);
    copy_weights<1>(model, r.connections[1]);
    require_exact(check_connection<0>(model, r, data), "equal taus: input -> hidden");
    require_exact(check_connection<1>(model, r, data), "equal taus: hidden -> output");
}

TEST_CASE("EventProp keeps memory in proportion to spikes, not to steps", "[event_prop]") {
    const auto data = small_spike_data(3, 2);
    auto model = compiler(60, 1.0f, 3, 1).compile<sg::cpu>(recurrent_net(sg::LeakyIntegrate{}, sg::AvgVarExpWeight{}));
    auto& sim = model.simulator();
    sim.set_input<0>(sg::make_input_batch(data, 0, data.size()));
    sim.run();
    std::uint64_t spikes = 0;
    for (auto n : sim.spike_totals<0>()) spikes += n;
    for (auto n : sim.spike_totals<1>()) spikes += n;
    REQUIRE(sim.stored_spikes() == spikes);
    REQUIRE(spikes > 0);
}
