// Building blocks of the CPU training simulators against plain references
// written here: compaction of the neurons that crossed, the row sums in
// InterleavedSum order, row adds with their targets in registers, the
// one-pass adjoint of short rows, readout dynamics bound to a step, and the
// thread pool.
#include <catch2/catch.hpp>

#include <spikegraph/spikegraph.hpp>
#include <spikegraph/cpu/crossed_neurons.hpp>
#include <spikegraph/cpu/register_row.hpp>
#include <spikegraph/cpu/short_row_adjoint.hpp>
#include <spikegraph/cpu/synapse_rows.hpp>
#include <spikegraph/cpu/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

namespace sg = spikegraph;
namespace cpu = spikegraph::cpu_backend;

namespace {

std::vector<std::uint32_t> ids_of_set_flags(const std::vector<std::uint32_t>& flags) {
    std::vector<std::uint32_t> ids;
    for (std::size_t i = 0; i < flags.size(); ++i)
        if (flags[i] != 0) ids.push_back(std::uint32_t(i));
    return ids;
}

// Position p of the row goes to partial p % 8; partials combined as InterleavedSum::total documents.
float interleaved_reference(const std::vector<float>& terms) {
    float partial[8] = {};
    for (std::size_t p = 0; p < terms.size(); ++p) partial[p % 8] += terms[p];
    return ((partial[0] + partial[4]) + (partial[2] + partial[6])) + ((partial[1] + partial[5]) + (partial[3] + partial[7]));
}

}  // namespace

TEST_CASE("compacting the crossed neurons gives their ids in ascending order, both ways", "[cpu][crossed]") {
    std::mt19937 random(7);
    for (std::size_t count : {0u, 1u, 15u, 16u, 17u, 63u, 64u, 65u, 256u, 300u}) {
        for (double density : {0.0, 0.02, 0.3, 1.0}) {
            std::vector<std::uint32_t> flags(count);
            std::bernoulli_distribution crossed(density);
            // Any non-zero value means crossed, as a bool stored in a uint32_t.
            for (auto& flag : flags) flag = crossed(random) ? 1u + std::uint32_t(random() % 3u) : 0u;
            const auto expected = ids_of_set_flags(flags);
            for (auto compact : {&cpu::compact_crossed_by_masks, &cpu::compact_crossed_by_blocks, &cpu::compact_crossed}) {
                auto work = flags;
                const std::uint32_t n = compact(work.data(), work.size());
                INFO("count " << count << ", density " << density);
                REQUIRE(n == expected.size());
                CHECK(std::vector<std::uint32_t>(work.begin(), work.begin() + n) == expected);
            }
        }
    }
}

TEST_CASE("row sums add in InterleavedSum order for dense, sparse and one-to-one rows", "[cpu][row_sum]") {
    std::mt19937 random(11);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    auto g = [](std::size_t post) { return 0.25f + 0.01f * float(post); };

    SECTION("dense rows of 20 and of 37 targets") {
        constexpr std::size_t pre = 5;
        auto check = [&]<std::size_t NumPost>() {
            sg::detail::ConnectionStorage storage;
            storage.weights.resize(pre * NumPost);
            for (auto& w : storage.weights) w = normal(random);
            for (std::uint32_t id = 0; id < pre; ++id) {
                std::vector<float> terms;
                for (std::size_t k = 0; k < NumPost; ++k) terms.push_back(storage.weights[id * NumPost + k] * g(k));
                const float sum = cpu::weighted_row_sum<sg::ConnectivityKind::dense, NumPost>(storage, id, g);
                CHECK(sum == interleaved_reference(terms));
                double plain = 0.0;
                for (float t : terms) plain += t;
                CHECK(sum == Approx(plain).margin(1e-5));
            }
        };
        check.template operator()<20>();
        check.template operator()<37>();
    }
    SECTION("sparse rows, some empty, some longer than eight") {
        constexpr std::size_t num_post = 50;
        sg::detail::ConnectionStorage storage;
        storage.row_start = {0};
        for (std::size_t row = 0; row < 6; ++row) {
            const std::size_t length = row == 2 ? 0 : 3 + 7 * row;
            for (std::size_t j = 0; j < length; ++j) {
                storage.columns.push_back(std::uint32_t((j * 7 + row) % num_post));
                storage.weights.push_back(normal(random));
            }
            storage.row_start.push_back(std::uint32_t(storage.columns.size()));
        }
        for (std::uint32_t id = 0; id < 6; ++id) {
            std::vector<float> terms;
            for (std::uint32_t e = storage.row_start[id]; e < storage.row_start[id + 1]; ++e)
                terms.push_back(storage.weights[e] * g(storage.columns[e]));
            CHECK(cpu::weighted_row_sum<sg::ConnectivityKind::sparse, num_post>(storage, id, g) == interleaved_reference(terms));
        }
    }
    SECTION("one-to-one: the single synapse") {
        sg::detail::ConnectionStorage storage;
        storage.weights = {0.5f, -2.0f, 3.0f};
        CHECK(cpu::weighted_row_sum<sg::ConnectivityKind::one_to_one, 3>(storage, 1, g) == -2.0f * g(1));
    }
}

TEST_CASE("a readout bound to a step weighs that step as the unbound one does", "[cpu][readout]") {
    const auto dynamics = sg::AvgVarExpWeight<>{}.dynamics(1.0f, 100);
    for (int step : {0, 1, 37, 99}) {
        const auto bound = sg::readout_at_step(dynamics, step);
        CHECK(bound.value_weight(step) == dynamics.value_weight(step));
        CHECK(bound.value_weight(step + 1) == dynamics.value_weight(step + 1));  // another step is computed afresh
        float a = 0.5f, b = 0.5f;
        bound.accumulate(a, 2.0f, step);
        dynamics.accumulate(b, 2.0f, step);
        CHECK(a == b);
    }
    // Readouts with nothing per step come back unchanged.
    const auto sum = sg::readout_at_step(sg::SumVar<>{}.dynamics(1.0f, 100), 5);
    CHECK(sum.value_weight(5) == 1.0f);
}

// Rows added spike by spike in memory, the plain way.
template <std::size_t N>
void check_register_rows(std::mt19937& random) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const std::size_t rows = 9;
    std::vector<float> weights(rows * N), start(N + 1), scales(rows);
    for (auto& w : weights) w = normal(random);
    for (auto& x : start) x = normal(random);
    for (auto& c : scales) c = normal(random);
    for (std::size_t count = 0; count <= rows; ++count) {
        INFO("N " << N << ", rows " << count);
        std::vector<float> scaled = start, summed = start;
        for (std::size_t r = 0; r < count; ++r)
            for (std::size_t k = 0; k < N; ++k) {
                scaled[k] += weights[r * N + k] * scales[r];
                summed[k] += weights[(rows - 1 - r) * N + k];
            }
        std::vector<float> registers = start;
        cpu::RegisterRow<N> row(registers.data());
        for (std::size_t r = 0; r < count; ++r) row.add_scaled(weights.data() + r * N, scales[r]);
        row.store(registers.data());
        CHECK(registers == scaled);  // bit for bit, the guard element N untouched
        if constexpr (N <= cpu::RegisterRow<1>::max_size) {
            std::vector<float> added = start;
            cpu::RegisterRow<N> sum(added.data());
            for (std::size_t r = 0; r < count; ++r) sum.add(weights.data() + (rows - 1 - r) * N);
            sum.store(added.data());
            CHECK(added == summed);
        }
    }
}

template <std::size_t N>
void check_add_rows(std::mt19937& random) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const std::size_t rows = 7;
    std::vector<float> weights(rows * N), start(N + 1);
    for (auto& w : weights) w = normal(random);
    for (auto& x : start) x = normal(random);
    const std::vector<std::size_t> order{4, 0, 6, 2, 5, 1, 3};
    for (std::size_t count = 0; count <= rows; ++count) {
        INFO("N " << N << ", rows " << count);
        std::vector<float> reference = start, blocks = start;
        for (std::size_t r = 0; r < count; ++r)
            for (std::size_t k = 0; k < N; ++k) reference[k] += weights[order[r] * N + k];
        cpu::add_rows<N>(blocks.data(), count, [&](std::size_t r) { return weights.data() + order[r] * N; });
        CHECK(blocks == reference);
    }
}

TEST_CASE("rows added with their targets in registers equal the plain loops bit for bit", "[cpu][register_row]") {
    std::mt19937 random(11);
    check_register_rows<1>(random);
    check_register_rows<7>(random);
    check_register_rows<8>(random);
    check_register_rows<20>(random);
    check_register_rows<33>(random);
    check_register_rows<64>(random);
    check_add_rows<5>(random);
    check_add_rows<64>(random);
    check_add_rows<256>(random);
    check_add_rows<300>(random);
}

#if defined(__GNUC__) && !defined(__CUDACC__)
// Against the generic loop of EventPropSimulator::reverse_propagate: the
// gradient row in plain float arithmetic and dL/d(offset) by weighted_row_sum.
template <std::size_t N>
void check_short_row_adjoint(std::mt19937& random) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const std::size_t pre = 11, count = 9;
    sg::detail::ConnectionStorage storage;
    storage.weights.resize(pre * N);
    for (auto& w : storage.weights) w = normal(random);
    std::vector<float> lambda_j(N), lambda_v(N), gradient(pre * N);
    for (auto& x : lambda_j) x = normal(random);
    for (auto& x : lambda_v) x = normal(random);
    for (auto& x : gradient) x = normal(random);
    lambda_j[N / 2] = 0.0f;  // zeros and negative zeros keep their sign as in the generic loop
    lambda_v[N / 2] = -0.0f;
    std::vector<sg::EventPropSpikeRecord> spikes;
    std::vector<sg::ExponentialArrival::Factors> factors;
    const std::uint32_t ids[count] = {3, 0, 10, 7, 3, 5, 1, 9, 2};  // neuron 3 twice: its row is added twice
    for (std::size_t r = 0; r < count; ++r) {
        spikes.push_back({ids[r], 0.5f, 0.0f, 0.0f});
        factors.push_back({normal(random), normal(random), normal(random), normal(random)});
    }
    factors[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::vector<float> u_bar(count), reference_u_bar(count);
    for (std::size_t r = 0; r < count; ++r) u_bar[r] = reference_u_bar[r] = normal(random);
    std::vector<float> reference_gradient = gradient;
    for (std::size_t r = 0; r < count; ++r) {
        const auto f = factors[r];
        for (std::size_t k = 0; k < N; ++k)
            reference_gradient[ids[r] * N + k] += f.current * lambda_j[k] + f.voltage * lambda_v[k];
        reference_u_bar[r] += cpu::weighted_row_sum<sg::ConnectivityKind::dense, N>(storage, ids[r], [&](std::size_t k) {
            return f.d_current_d_u * lambda_j[k] + f.d_voltage_d_u * lambda_v[k];
        });
    }
    cpu::reverse_propagate_short_rows<N>(storage.weights.data(), gradient.data(), lambda_j.data(), lambda_v.data(),
                                         spikes.data(), count, factors.data(), u_bar.data());
    INFO("N " << N);
    CHECK(gradient == reference_gradient);
    CHECK(u_bar == reference_u_bar);
}

TEST_CASE("the one-pass adjoint of short rows equals the generic loop bit for bit", "[cpu][short_rows]") {
    STATIC_REQUIRE(cpu::short_row_adjoint_available);
    std::mt19937 random(13);
    for (int repeat = 0; repeat < 3; ++repeat) {
        check_short_row_adjoint<8>(random);
        check_short_row_adjoint<13>(random);
        check_short_row_adjoint<20>(random);
        check_short_row_adjoint<32>(random);
    }
}
#endif

// The pool's workers spin between jobs for a while and then sleep: jobs
// posted back to back reach spinning workers, jobs after a pause wake
// sleeping ones. Every index must run exactly once either way.
TEST_CASE("the thread pool runs every index once, to spinning and to sleeping workers", "[cpu][threads]") {
    for (const unsigned threads : {1u, 2u, 3u}) {
        INFO("threads " << threads);
        cpu::ThreadPool pool(threads);
        CHECK(pool.size() == threads);
        for (int round = 0; round < 300; ++round) {
            if (round % 100 == 99) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // past the spin: workers sleep
            const std::size_t count = std::size_t(round % 23);
            std::vector<std::atomic<int>> runs(count);
            pool.parallel_for(count, [&](std::size_t i) { runs[i].fetch_add(1, std::memory_order_relaxed); });
            for (std::size_t i = 0; i < count; ++i) REQUIRE(runs[i].load() == 1);
        }
        // A call that throws: the exception comes back, no index ran twice, and the pool goes on.
        std::vector<std::atomic<int>> runs(40);
        CHECK_THROWS_WITH(pool.parallel_for(40, [&](std::size_t i) {
            runs[i].fetch_add(1);
            if (i == 17) throw std::runtime_error("index 17");
        }), "index 17");
        for (auto& r : runs) CHECK(r.load() <= 1);
        CHECK(runs[17].load() == 1);
        std::atomic<std::size_t> sum{0};
        pool.parallel_for(100, [&](std::size_t i) { sum += i; });
        CHECK(sum.load() == 4950);
    }
}
