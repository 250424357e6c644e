// e-prop against an independent reference: the e-prop equations of Bellec et
// al. 2020 written out online, per synapse, in double precision (eligibility
// traces, the adaptation trace of ALIF, the kappa-filtered trace, symmetric
// feedback, the rate regulariser), on small networks over a few dozen steps.
// The library accumulates the same sums at presynaptic spikes instead; both
// must give the same weight updates. Then a learning test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;

namespace {

using Matrix = std::vector<std::vector<double>>;  // [pre][post]

struct Reference {
    // input (ni) -> hidden (nh, recurrent) -> output (no)
    std::size_t ni, nh, no;
    int steps;
    double dt = 1.0, tau_mem = 20.0, tau_out = 20.0, v_thresh = 1.0, tau_refrac = 0.0;
    double beta = 0.0, tau_adapt = 2000.0;  // beta = 0: LIF
    double c_reg = 0.0, tau_reg = 500.0, f_target = 10.0;
    Matrix w_in, w_rec, w_out;
    Matrix mask_in;  // 1 where an input synapse exists
};

Reference make_reference(std::size_t ni, std::size_t nh, std::size_t no, int steps) {
    Reference r{};
    r.ni = ni, r.nh = nh, r.no = no, r.steps = steps;
    return r;
}

struct Gradients {
    Matrix in, rec, out;
};

// One example's e-prop updates, added to g (mean over `batch` examples, as the library).
void reference_example(const Reference& r, const sg::SpikeEvents& events, int label, std::size_t batch, Gradients& g) {
    const double alpha = std::exp(-r.dt / r.tau_mem), kappa = std::exp(-r.dt / r.tau_out);
    const double rho = std::exp(-r.dt / r.tau_adapt), rate_decay = std::exp(-r.dt / r.tau_reg);
    const double target = r.f_target * r.dt / 1000.0;
    auto zeros = [](std::size_t a, std::size_t b) { return Matrix(a, std::vector<double>(b, 0.0)); };
    std::vector<double> v(r.nh, 0.0), a(r.nh, 0.0), refrac(r.nh, 0.0), rate(r.nh, target), vo(r.no, 0.0);
    std::vector<double> zbar_in(r.ni, 0.0), zbar_h(r.nh, 0.0), zbar_kappa(r.nh, 0.0);
    std::vector<double> z_in(r.ni, 0.0), z_h(r.nh, 0.0);  // spikes of the previous step
    Matrix eps_in = zeros(r.ni, r.nh), eps_rec = zeros(r.nh, r.nh), ebar_in = zeros(r.ni, r.nh), ebar_rec = zeros(r.nh, r.nh);
    const double scale = 1.0 / (double(r.steps) * double(batch));
    for (int t = 0; t < r.steps; ++t) {
        // hidden: integrate the previous step's spikes, then psi before the reset
        std::vector<double> psi(r.nh), z_new(r.nh, 0.0);
        for (std::size_t j = 0; j < r.nh; ++j) {
            double input = 0.0;
            for (std::size_t i = 0; i < r.ni; ++i) input += r.w_in[i][j] * z_in[i];
            for (std::size_t i = 0; i < r.nh; ++i) input += r.w_rec[i][j] * z_h[i];
            const bool refractory = refrac[j] > 0.0;
            v[j] = alpha * v[j] + input;
            a[j] *= rho;
            if (refractory) refrac[j] -= r.dt;
            const double threshold = r.v_thresh + r.beta * a[j];
            psi[j] = refrac[j] > 0.0 ? 0.0 : 0.3 / r.v_thresh * std::max(0.0, 1.0 - std::abs(v[j] - threshold) / r.v_thresh);
            if (v[j] >= threshold && refrac[j] <= 0.0) {
                z_new[j] = 1.0;
                v[j] -= r.v_thresh;
                a[j] += 1.0;
                refrac[j] = r.tau_refrac;
            }
            rate[j] = rate_decay * rate[j] + (1.0 - rate_decay) * z_new[j];
        }
        // output and its error
        std::vector<double> e_out(r.no), p(r.no);
        for (std::size_t k = 0; k < r.no; ++k) {
            double input = 0.0;
            for (std::size_t j = 0; j < r.nh; ++j) input += r.w_out[j][k] * z_h[j];
            vo[k] = kappa * vo[k] + input;
        }
        const double top = *std::max_element(vo.begin(), vo.end());
        double sum = 0.0;
        for (std::size_t k = 0; k < r.no; ++k) sum += p[k] = std::exp(vo[k] - top);
        for (std::size_t k = 0; k < r.no; ++k) e_out[k] = (p[k] / sum - (int(k) == label ? 1.0 : 0.0)) * scale;
        // learning signal, eligibility traces and updates
        for (std::size_t j = 0; j < r.nh; ++j) {
            double learning = 0.0;
            for (std::size_t k = 0; k < r.no; ++k) learning += r.w_out[j][k] * e_out[k];
            const double reg = r.c_reg * (rate[j] - target);
            auto synapse = [&](double x, double& eps, double& ebar, double& grad) {
                const double e = psi[j] * (x - r.beta * eps);
                eps = psi[j] * x + (rho - psi[j] * r.beta) * eps;
                grad += learning * ebar + reg * e;  // ebar still holds step t-1
                ebar = kappa * ebar + e;
            };
            for (std::size_t i = 0; i < r.ni; ++i)
                if (r.mask_in[i][j] != 0.0) synapse(zbar_in[i], eps_in[i][j], ebar_in[i][j], g.in[i][j]);
            for (std::size_t i = 0; i < r.nh; ++i) synapse(zbar_h[i], eps_rec[i][j], ebar_rec[i][j], g.rec[i][j]);
        }
        for (std::size_t j = 0; j < r.nh; ++j)
            for (std::size_t k = 0; k < r.no; ++k) g.out[j][k] += e_out[k] * zbar_kappa[j];
        // this step's spikes: traces, then delivery in the next step
        std::vector<double> z_in_new(r.ni, 0.0);
        for (std::size_t s = 0; s < events.size(); ++s)
            if (std::lround(events.times[s] / r.dt) == t) z_in_new[events.ids[s]] = 1.0;
        for (std::size_t i = 0; i < r.ni; ++i) zbar_in[i] = alpha * zbar_in[i] + z_in_new[i];
        for (std::size_t j = 0; j < r.nh; ++j) {
            zbar_h[j] = alpha * zbar_h[j] + z_new[j];
            zbar_kappa[j] = kappa * zbar_kappa[j] + z_new[j];
        }
        z_in = z_in_new;
        z_h = z_new;
    }
}

sg::SpikeDataset pattern_data(std::size_t inputs, int examples, int steps, std::uint64_t seed) {
    sg::SpikeDataset data;
    data.num_inputs = inputs;
    data.num_classes = 2;
    std::uint64_t state = seed;
    auto next = [&] {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return double(state >> 11) / double(1ULL << 53);
    };
    for (int e = 0; e < examples; ++e) {
        const int label = e % 2;
        std::vector<float> times;
        std::vector<std::uint32_t> ids;
        for (int t = 0; t < steps - 1; ++t)
            for (std::uint32_t i = 0; i < inputs; ++i) {
                // class 0 drives the first half of the inputs early, class 1 the second half late
                const bool preferred = (i < inputs / 2) == (label == 0) && ((t < steps / 2) == (label == 0));
                if (next() < (preferred ? 0.25 : 0.03)) {
                    times.push_back(float(t));
                    ids.push_back(i);
                }
            }
        data.examples.push_back(sg::make_spike_events(times, ids, inputs));
        data.labels.push_back(label);
    }
    return data;
}

template <std::size_t C, class Model>
void copy_into(const Model& model, Matrix& m, Matrix* mask = nullptr) {
    const auto& s = model.simulator().template connection_storage<C>();
    const std::size_t post = m[0].size();
    for (auto& row : m) std::fill(row.begin(), row.end(), 0.0);
    if (s.row_start.empty()) {
        for (std::size_t i = 0; i < m.size(); ++i)
            for (std::size_t k = 0; k < post; ++k) m[i][k] = s.weights[i * post + k];
        if (mask)
            for (auto& row : *mask) std::fill(row.begin(), row.end(), 1.0);
    } else {
        if (mask)
            for (auto& row : *mask) std::fill(row.begin(), row.end(), 0.0);
        for (std::size_t i = 0; i < m.size(); ++i)
            for (std::uint32_t e = s.row_start[i]; e < s.row_start[i + 1]; ++e) {
                m[i][s.columns[e]] = s.weights[e];
                if (mask) (*mask)[i][s.columns[e]] = 1.0;
            }
    }
}

// max |library - reference| / max |reference| over a connection's synapses.
template <std::size_t C, class Model>
double relative_difference(const Model& model, const Matrix& reference) {
    const auto& s = model.simulator().template connection_storage<C>();
    const auto gradient = model.simulator().template gradient<C>();
    const std::size_t post = reference[0].size();
    double largest = 0.0, difference = 0.0;
    for (std::size_t i = 0; i < reference.size(); ++i)
        for (std::size_t k = 0; k < post; ++k) largest = std::max(largest, std::abs(reference[i][k]));
    for (std::size_t e = 0; e < gradient.size(); ++e) {
        std::size_t i = e / post, k = e % post;
        if (!s.row_start.empty()) {
            i = std::size_t(std::upper_bound(s.row_start.begin(), s.row_start.end(), std::uint32_t(e)) - s.row_start.begin() - 1);
            k = s.columns[e];
        }
        difference = std::max(difference, std::abs(double(gradient[e]) - reference[i][k]));
    }
    REQUIRE(largest > 1e-6);  // something was learned
    return difference / largest;
}

sg::EPropCompiler compiler(int steps, std::size_t batch, unsigned threads, float c_reg) {
    sg::EPropCompiler c;
    c.example_timesteps = steps;
    c.batch_size = batch;
    c.num_threads = threads;
    c.seed = 5;
    c.c_reg = c_reg;
    c.verbose = false;
    return c;
}

template <class Model>
Gradients reference_gradients(const Model& model, Reference r, const sg::SpikeDataset& data, bool sparse_input) {
    auto zeros = [](std::size_t a, std::size_t b) { return Matrix(a, std::vector<double>(b, 0.0)); };
    r.w_in = zeros(r.ni, r.nh), r.w_rec = zeros(r.nh, r.nh), r.w_out = zeros(r.nh, r.no), r.mask_in = zeros(r.ni, r.nh);
    copy_into<0>(model, r.w_in, &r.mask_in);
    copy_into<1>(model, r.w_rec);
    copy_into<2>(model, r.w_out);
    (void)sparse_input;
    Gradients g{zeros(r.ni, r.nh), zeros(r.nh, r.nh), zeros(r.nh, r.no)};
    for (std::size_t e = 0; e < data.size(); ++e) reference_example(r, data.examples[e], data.labels[e], data.size(), g);
    return g;
}

template <class Model>
void library_gradients(Model& model, const sg::SpikeDataset& data) {
    auto& sim = model.simulator();
    sim.template set_input<0>(sg::make_input_batch(data, 0, data.size()));
    sim.run();
    sim.zero_gradients();
    sim.learn(sg::SparseCategoricalCrossentropy{}, data.labels, data.size());
}

}  // namespace

TEST_CASE("e-prop updates equal the online reference: recurrent LIF", "[eprop]") {
    const auto data = pattern_data(6, 3, 40, 1);
    auto input = sg::population<"input", 6>(sg::SpikeInput{});
    auto hidden = sg::population<"hidden", 5>(sg::LeakyIntegrateFire{.v_thresh = 0.6f, .tau_refrac = 3.0f});
    auto output = sg::population<"output", 2>(sg::LeakyIntegrate{}, sg::SumVar{});
    auto net = sg::network(input >> sg::Dense{sg::Normal{0.3f, 0.3f}} >> sg::Delta{} >> hidden,
                           hidden >> sg::Dense{sg::Normal{0.0f, 0.3f}} >> sg::Delta{} >> hidden,
                           hidden >> sg::Dense{sg::Normal{0.0f, 0.5f}} >> sg::Delta{} >> output);
    auto model = compiler(40, 3, 2, 0.01f).compile<sg::cpu>(net);
    library_gradients(model, data);
    Reference r = make_reference(6, 5, 2, 40);
    r.v_thresh = 0.6, r.tau_refrac = 3.0, r.c_reg = 0.01;
    const Gradients g = reference_gradients(model, r, data, false);
    std::uint64_t hidden_spikes = 0;
    for (auto n : model.simulator().spike_totals<1>()) hidden_spikes += n;
    INFO("hidden spikes " << hidden_spikes);
    REQUIRE(hidden_spikes > 5);
    CHECK(relative_difference<0>(model, g.in) < 1e-4);
    CHECK(relative_difference<1>(model, g.rec) < 1e-4);
    CHECK(relative_difference<2>(model, g.out) < 1e-4);
}

TEST_CASE("e-prop updates equal the online reference: recurrent ALIF, sparse input", "[eprop]") {
    const auto data = pattern_data(6, 4, 50, 2);
    const sg::AdaptiveLeakyIntegrateFire alif{.v_thresh = 0.6f, .beta = 0.2f, .tau_refrac = 2.0f, .tau_adapt = 50.0f};
    auto input = sg::population<"input", 6>(sg::SpikeInput{});
    auto hidden = sg::population<"hidden", 5>(alif);
    auto output = sg::population<"output", 3>(sg::LeakyIntegrate{.tau_mem = 10.0f}, sg::AvgVar{});
    auto net = sg::network(input >> sg::FixedProbability{0.6f, sg::Normal{0.4f, 0.3f}} >> sg::Delta{} >> hidden,
                           hidden >> sg::Dense{sg::Normal{0.0f, 0.3f}} >> sg::Delta{} >> hidden,
                           hidden >> sg::Dense{sg::Normal{0.0f, 0.5f}} >> sg::Delta{} >> output);
    auto model = compiler(50, 4, 1, 0.001f).compile<sg::cpu>(net);
    library_gradients(model, data);
    Reference r = make_reference(6, 5, 3, 50);
    r.v_thresh = 0.6, r.tau_refrac = 2.0, r.beta = 0.2, r.tau_adapt = 50.0, r.tau_out = 10.0, r.c_reg = 0.001;
    const Gradients g = reference_gradients(model, r, data, true);
    CHECK(relative_difference<0>(model, g.in) < 1e-4);
    CHECK(relative_difference<1>(model, g.rec) < 1e-4);
    CHECK(relative_difference<2>(model, g.out) < 1e-4);
}

TEST_CASE("e-prop learns a spatio-temporal pattern task far above chance", "[eprop]") {
    const auto train = pattern_data(20, 256, 60, 3);
    const auto test = pattern_data(20, 128, 60, 4);
    const sg::AdaptiveLeakyIntegrateFire alif{.v_thresh = 0.6f, .tau_refrac = 5.0f};
    auto net = sg::sequential(sg::InputLayer<20>(sg::SpikeInput{}),
                              sg::Layer<32, "hidden">(alif, sg::Dense{sg::Normal{0.0f, 0.22f}}, sg::Delta{}),
                              sg::Layer<2, "output">(sg::LeakyIntegrate{}, sg::Dense{sg::Normal{0.0f, 0.18f}}, sg::Delta{},
                                                     sg::SumVar{}));
    auto c = compiler(60, 32, 0, 0.001f);
    c.optimiser = sg::Adam{.lr = 0.01f};
    auto model = c.compile<sg::cpu>(net);
    const double before = model.evaluate(test).at("sparse_categorical_accuracy");
    const sg::History history = model.train(train, {.epochs = 8});
    const double after = model.evaluate(test).at("sparse_categorical_accuracy");
    std::printf("e-prop pattern task: test accuracy %.3f before, %.3f after 8 epochs; training loss %.4f -> %.4f\n", before,
                after, history.epochs.front().at("loss"), history.last().at("loss"));
    REQUIRE(history.last().at("loss") < history.epochs.front().at("loss"));
    REQUIRE(after >= 0.9);
}

// The output's trained bias (mlGeNN's train_output_bias, on by default): its
// gradient is exact, so it must equal central finite differences of the
// loss the library reports. The bias moves only the output's V, so no hidden
// spike can appear or disappear as it changes.
TEST_CASE("e-prop's output-bias gradient equals finite differences of its loss", "[eprop]") {
    const auto data = pattern_data(6, 3, 40, 1);
    auto input = sg::population<"input", 6>(sg::SpikeInput{});
    auto hidden = sg::population<"hidden", 5>(sg::LeakyIntegrateFire{.v_thresh = 0.6f});
    auto output = sg::population<"output", 3>(sg::LeakyIntegrate{.bias = 0.05f, .tau_mem = 10.0f}, sg::AvgVar{});
    auto net = sg::network(input >> sg::Dense{sg::Normal{0.3f, 0.3f}} >> sg::Delta{} >> hidden,
                           hidden >> sg::Dense{sg::Normal{0.0f, 0.5f}} >> sg::Delta{} >> output);
    for (const sg::Loss loss : {sg::Loss{sg::SparseCategoricalCrossentropy{}}, sg::Loss{sg::MeanSquareError{}}}) {
        auto model = compiler(40, 3, 1, 0.0f).compile<sg::cpu>(net);
        auto& sim = model.simulator();
        REQUIRE(model.trains_output_bias());
        CHECK(model.biases<"output">() == std::vector<float>(3, 0.05f));  // starts at the model's bias
        const std::vector<float> biases{0.1f, -0.2f, 0.3f};
        model.set_biases<"output">(biases);
        sim.set_input<0>(sg::make_input_batch(data, 0, data.size()));
        sim.run();
        sim.zero_gradients();
        sim.learn(loss, data.labels, data.size());
        const std::vector<float> gradient(sim.output_bias_gradient().begin(), sim.output_bias_gradient().end());
        auto loss_at = [&](std::size_t k, float delta) {
            std::vector<float> moved = biases;
            moved[k] += delta;
            model.set_biases<"output">(moved);
            sim.run();
            return sim.learn(loss, data.labels, data.size(), false) / double(data.size());  // the batch mean
        };
        const float h = 1e-2f;
        for (std::size_t k = 0; k < 3; ++k) {
            const double numeric = (loss_at(k, h) - loss_at(k, -h)) / (2.0 * double(h));
            INFO("output " << k << ": analytic " << gradient[k] << ", finite difference " << numeric);
            CHECK(std::abs(double(gradient[k]) - numeric) <= 1e-3 * std::max(1e-2, std::abs(numeric)));
        }
    }
}

TEST_CASE("e-prop trains the output bias by default, and leaves it alone when told", "[eprop]") {
    const auto train = pattern_data(20, 64, 60, 3);
    const sg::AdaptiveLeakyIntegrateFire alif{.v_thresh = 0.6f, .tau_refrac = 5.0f};
    auto net = sg::sequential(sg::InputLayer<20>(sg::SpikeInput{}),
                              sg::Layer<32, "hidden">(alif, sg::Dense{sg::Normal{0.0f, 0.22f}}, sg::Delta{}),
                              sg::Layer<2, "output">(sg::LeakyIntegrate{.bias = 0.25f}, sg::Dense{sg::Normal{0.0f, 0.18f}},
                                                     sg::Delta{}, sg::SumVar{}));
    auto c = compiler(60, 32, 0, 0.001f);
    c.optimiser = sg::Adam{.lr = 0.01f};
    auto trained = c.compile<sg::cpu>(net);
    CHECK(trained.parameter_names() == std::vector<std::string>{"input_hidden", "hidden_output", "output-Bias"});
    trained.train(train, {.epochs = 2});
    const std::vector<float> learned = trained.biases<"output">();
    CHECK(learned != std::vector<float>(2, 0.25f));

    c.train_output_bias = false;
    auto fixed = c.compile<sg::cpu>(net);
    CHECK_FALSE(fixed.trains_output_bias());
    CHECK(fixed.parameter_names() == std::vector<std::string>{"input_hidden", "hidden_output"});
    fixed.train(train, {.epochs = 2});
    CHECK(fixed.biases<"output">() == std::vector<float>(2, 0.25f));
}
