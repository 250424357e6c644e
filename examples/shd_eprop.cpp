// A recurrent ALIF network trained with e-prop on Spiking Heidelberg Digits
// (Cramer et al. 2020) files, set up after mlGeNN's SHD e-prop example:
// 700 spike inputs -> 256 ALIF neurons (v_thresh 0.6, tau_refrac 5 ms,
// recurrent) -> 20 leaky integrators read out by their summed voltage, Delta
// synapses, weights Normal(0, 1/sqrt(fan-in)), Adam(1e-3), steps of 1 ms,
// as many steps as the latest spike in the data needs.
//
// Without --train/--test the example first writes a small dataset in SHD's
// HDF5 layout (spikes/times in seconds, spikes/units, labels) into a temporary
// folder, reads it back with datasets::load_shd and trains on that: 10
// synthetic "spoken digits" of two syllables each, a syllable being two
// formant-like bands of spikes sweeping across the 700 channels, varied per
// example by speaking rate, pitch (a channel shift) and onset, with sparse,
// jittered spikes over background noise. With the defaults it reaches about
// 90% test accuracy (chance: 10%; training accuracy ~100%: like SHD, the task
// overfits) in 20-40 s on 2 cores.
//
//   shd_eprop [--train FILE --test FILE] [--epochs N] [--batch B] [--threads T]
#include <hdf5.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <spikegraph/data/shd.hpp>
#include <spikegraph/spikegraph.hpp>

namespace sg = spikegraph;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t num_channels = 700;  // SHD's cochlea model channels
constexpr std::size_t num_classes = 20;    // SHD: digits 0-9 in English and German
constexpr std::size_t num_hidden = 256;
constexpr float dt = 1.0f;

constexpr sg::AdaptiveLeakyIntegrateFire alif{.v_thresh = 0.6f, .tau_refrac = 5.0f};
constexpr auto input = sg::population<"input", num_channels>(sg::SpikeInput{});
constexpr auto hidden = sg::population<"hidden", num_hidden>(alif);
constexpr auto output = sg::population<"output", num_classes>(sg::LeakyIntegrate{.tau_mem = 20.0f}, sg::SumVar{});
constexpr float input_sd = 0.0377964473f;  // 1/sqrt(700)
constexpr float hidden_sd = 0.0625f;        // 1/sqrt(256)
constexpr auto net = sg::network(input >> sg::Dense{sg::Normal{0.0f, input_sd}} >> sg::Delta{} >> hidden,
                                 hidden >> sg::Dense{sg::Normal{0.0f, hidden_sd}} >> sg::Delta{} >> hidden,
                                 hidden >> sg::Dense{sg::Normal{0.0f, hidden_sd}} >> sg::Delta{} >> output);

// ---- the synthetic SHD-layout dataset ---------------------------------------

constexpr std::size_t synthetic_classes = 10;
constexpr std::size_t synthetic_train_per_class = 100;
constexpr std::size_t synthetic_test_per_class = 30;

// A syllable: two formant-like bands of channels whose centres sweep linearly
// from `from` to `to` over `length` ms.
struct Syllable {
    std::array<float, 2> from, to;
    float length;
};
// A word: two different syllables with a pause between them. Every word
// shares each of its syllables with other words (as digits share phonemes).
struct Word {
    std::size_t first, second;
    float pause;
};
constexpr std::size_t num_syllables = 5;
constexpr std::array<std::array<std::size_t, 2>, synthetic_classes> word_syllables{
    {{0, 1}, {2, 0}, {0, 3}, {4, 0}, {1, 2}, {3, 1}, {1, 4}, {2, 3}, {4, 2}, {3, 4}}};

struct Vocabulary {
    std::vector<Syllable> syllables;
    std::vector<Word> words;
};

Vocabulary make_vocabulary(std::mt19937& rng) {
    std::uniform_real_distribution<float> channel(100.0f, float(num_channels) - 100.0f);
    std::uniform_real_distribution<float> length(30.0f, 50.0f), pause(5.0f, 15.0f);
    Vocabulary v;
    for (std::size_t s = 0; s < num_syllables; ++s) {
        Syllable syllable{};
        for (std::size_t f = 0; f < 2; ++f) syllable.from[f] = channel(rng), syllable.to[f] = channel(rng);
        syllable.length = length(rng);
        v.syllables.push_back(syllable);
    }
    for (const auto& [first, second] : word_syllables) v.words.push_back(Word{first, second, pause(rng)});
    return v;
}

struct Utterance {
    std::vector<float> times_s;  // seconds, as SHD stores them
    std::vector<std::uint16_t> units;
};

// One spoken instance of a word: stretched in time by a speaking rate, shifted
// in channels by a pitch, delayed, with jittered spikes and background noise
// on every channel.
Utterance speak(const Vocabulary& vocabulary, std::size_t label, std::mt19937& rng) {
    constexpr float band_half_width = 10.0f;   // channels either side of a formant's centre
    constexpr float peak_probability = 0.15f;  // per channel and ms at the centre of a band
    constexpr float noise_hz = 1.0f;
    std::uniform_real_distribution<float> rate(0.75f, 1.35f), pitch(-8.0f, 8.0f), delay(0.0f, 15.0f), unit(0.0f, 1.0f);
    std::normal_distribution<float> jitter(0.0f, 2.0f);
    const float stretch = rate(rng), shift = pitch(rng);
    const Word& word = vocabulary.words[label];
    Utterance u;
    auto add = [&](float ms, float channel) {
        const long c = std::lround(channel);
        if (ms < 0.0f || c < 0 || c >= long(num_channels)) return;
        u.times_s.push_back(ms / 1000.0f);
        u.units.push_back(std::uint16_t(c));
    };
    float onset = delay(rng);
    for (std::size_t index : {word.first, word.second}) {
        const Syllable& syllable = vocabulary.syllables[index];
        const float length = syllable.length * stretch;
        for (float t = 0.0f; t < length; t += 1.0f)
            for (std::size_t f = 0; f < 2; ++f) {
                const float centre = syllable.from[f] + (syllable.to[f] - syllable.from[f]) * t / length + shift;
                for (float c = std::ceil(centre - band_half_width); c <= centre + band_half_width; c += 1.0f) {
                    const float p = peak_probability * (1.0f - std::abs(c - centre) / (band_half_width + 1.0f));
                    if (unit(rng) < p) add(onset + t + unit(rng) + jitter(rng), c);
                }
            }
        onset += length + word.pause * stretch;
    }
    const float end = onset + delay(rng);
    std::poisson_distribution<int> noise_count(double(noise_hz) * 1e-3 * double(end) * double(num_channels));
    std::uniform_int_distribution<int> any_channel(0, int(num_channels) - 1);
    for (int n = noise_count(rng); n > 0; --n) add(unit(rng) * end, float(any_channel(rng)));
    return u;
}

// HDF5 handles closed on scope exit; every failed call throws.
class Handle {
public:
    Handle(hid_t id, herr_t (*close)(hid_t), const char* what) : id_(id), close_(close) {
        if (id_ < 0) throw std::runtime_error(std::string("HDF5: cannot create ") + what);
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { close_(id_); }
    operator hid_t() const { return id_; }

private:
    hid_t id_;
    herr_t (*close_)(hid_t);
};

void check(herr_t status, const char* what) {
    if (status < 0) throw std::runtime_error(std::string("HDF5: cannot write ") + what);
}

// A 1-D dataset of variable-length arrays, one per example.
template <class T>
void write_ragged(hid_t group, const char* name, hid_t file_base, hid_t memory_base, const std::vector<std::vector<T>>& rows) {
    std::vector<hvl_t> elements(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i)
        elements[i] = hvl_t{rows[i].size(), const_cast<T*>(rows[i].data())};
    const hsize_t dims[1] = {rows.size()};
    Handle file_type(H5Tvlen_create(file_base), H5Tclose, "a variable-length type");
    Handle memory_type(H5Tvlen_create(memory_base), H5Tclose, "a variable-length type");
    Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose, "a dataspace");
    Handle dataset(H5Dcreate2(group, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose, name);
    check(H5Dwrite(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, elements.data()), name);
}

// SHD's layout: spikes/times (float seconds), spikes/units (uint16), labels (uint8).
void write_shd_file(const fs::path& path, const std::vector<Utterance>& utterances, const std::vector<std::uint8_t>& labels) {
    std::vector<std::vector<float>> times;
    std::vector<std::vector<std::uint16_t>> units;
    for (const Utterance& u : utterances) {
        times.push_back(u.times_s);
        units.push_back(u.units);
    }
    Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, path.c_str());
    Handle spikes(H5Gcreate2(file, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "group spikes");
    write_ragged(spikes, "times", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, times);
    write_ragged(spikes, "units", H5T_STD_U16LE, H5T_NATIVE_UINT16, units);
    const hsize_t dims[1] = {labels.size()};
    Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose, "a dataspace");
    Handle dataset(H5Dcreate2(file, "labels", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose, "labels");
    check(H5Dwrite(dataset, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels.data()), "labels");
}

// Writes train.h5 and test.h5 into `folder`; the classes interleave.
void write_synthetic_shd(const fs::path& folder) {
    std::mt19937 rng(2020);
    const Vocabulary vocabulary = make_vocabulary(rng);
    for (const auto& [name, per_class] : {std::pair{"train.h5", synthetic_train_per_class},
                                          std::pair{"test.h5", synthetic_test_per_class}}) {
        std::vector<Utterance> utterances;
        std::vector<std::uint8_t> labels;
        for (std::size_t i = 0; i < per_class * synthetic_classes; ++i) {
            labels.push_back(std::uint8_t(i % synthetic_classes));
            utterances.push_back(speak(vocabulary, labels.back(), rng));
        }
        write_shd_file(folder / name, utterances, labels);
    }
}

// A fresh folder under the system's temporary directory, removed on scope exit.
class TemporaryFolder {
public:
    TemporaryFolder() {
        const fs::path base = fs::temp_directory_path();
        for (int attempt = 0;; ++attempt) {
            path_ = base / ("spikegraph_shd_eprop_" + std::to_string(getpid()) + "_" + std::to_string(attempt));
            if (fs::create_directory(path_)) break;
            if (attempt > 100) throw std::runtime_error("cannot create a temporary folder in " + base.string());
        }
    }
    TemporaryFolder(const TemporaryFolder&) = delete;
    TemporaryFolder& operator=(const TemporaryFolder&) = delete;
    ~TemporaryFolder() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

// ---- training ---------------------------------------------------------------

// Steps that hold every spike of the data (times in ms, rounded to a step).
int timesteps_for(const sg::SpikeDataset& a, const sg::SpikeDataset& b) {
    float latest = 0.0f;
    for (const auto* data : {&a, &b})
        for (const auto& events : data->examples)
            if (!events.times.empty()) latest = std::max(latest, events.times.back());  // sorted by time
    return int(std::lround(latest / dt)) + 1;
}

std::size_t parse_count(std::string_view option, const char* text) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0' || text[0] == '-' || value < 1) {
        std::fprintf(stderr, "shd_eprop: %.*s needs an integer >= 1, got '%s'\n", int(option.size()), option.data(), text);
        std::exit(2);
    }
    return std::size_t(value);
}

double mean_spikes(const sg::SpikeDataset& data) {
    double total = 0.0;
    for (const auto& events : data.examples) total += double(events.size());
    return data.size() == 0 ? 0.0 : total / double(data.size());
}

}  // namespace

int main(int argc, char** argv) try {
    std::size_t epochs = 10;
    std::size_t batch_size = 32;
    std::size_t threads = 0;
    fs::path train_path, test_path;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--train" && i + 1 < argc) train_path = argv[++i];
        else if (arg == "--test" && i + 1 < argc) test_path = argv[++i];
        else if (arg == "--epochs" && i + 1 < argc) epochs = parse_count(arg, argv[++i]);
        else if (arg == "--batch" && i + 1 < argc) batch_size = parse_count(arg, argv[++i]);
        else if (arg == "--threads" && i + 1 < argc) threads = parse_count(arg, argv[++i]);
        else if (arg == "--help" || arg == "-h") {
            std::printf("usage: %s [--train FILE --test FILE] [--epochs N] [--batch B] [--threads T]\n"
                        "  --train, --test  SHD HDF5 files (shd_train.h5, shd_test.h5); without them a small\n"
                        "                   synthetic dataset in SHD's layout is written and used\n"
                        "  --epochs N       training epochs (default 10)\n"
                        "  --batch B        examples per gradient step (default 32)\n"
                        "  --threads T      CPU threads (default: all)\n",
                        argv[0]);
            return 0;
        } else {
            std::fprintf(stderr, "shd_eprop: unknown or incomplete argument '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }
    if (train_path.empty() != test_path.empty()) {
        std::fprintf(stderr, "shd_eprop: give both --train and --test, or neither (synthetic data)\n");
        return 2;
    }

    const auto start = std::chrono::steady_clock::now();
    sg::SpikeDataset train, test;
    double chance = 1.0 / double(num_classes);
    const sg::datasets::ShdOptions shd{.num_inputs = num_channels, .num_classes = num_classes};
    if (train_path.empty()) {
        const TemporaryFolder folder;
        write_synthetic_shd(folder.path());
        train = sg::datasets::load_shd(folder.path() / "train.h5", shd);
        test = sg::datasets::load_shd(folder.path() / "test.h5", shd);
        chance = 1.0 / double(synthetic_classes);
        std::printf("Synthetic SHD-layout data (%zu classes of 'spoken digits' over %zu channels), written to and read "
                    "back from %s (now deleted)\n",
                    synthetic_classes, num_channels, folder.path().string().c_str());
    } else {
        train = sg::datasets::load_shd(train_path, shd);
        test = sg::datasets::load_shd(test_path, shd);
        std::printf("SHD data: %s, %s\n", train_path.string().c_str(), test_path.string().c_str());
    }
    const int timesteps = timesteps_for(train, test);
    std::printf("%zu training, %zu test examples, %.0f spikes per example on average, %d steps of %.0f ms\n",
                train.size(), test.size(), mean_spikes(train), timesteps, double(dt));

    auto model = sg::EPropCompiler{.example_timesteps = timesteps,
                                   .loss = sg::SparseCategoricalCrossentropy{},
                                   .optimiser = sg::Adam{.lr = 1e-3f},
                                   .batch_size = batch_size,
                                   .dt = dt,
                                   .seed = 1,
                                   .num_threads = unsigned(threads),
                                   .verbose = false}  // the ProgressBar below draws the bar
                     .compile<sg::cpu>(net);
    std::printf("Network: %zu spike inputs -> %zu recurrent ALIF -> %zu LI (summed voltage), Delta synapses;\n"
                "e-prop, Adam 1e-3, batch %zu, %zu epochs\n",
                num_channels, num_hidden, num_classes, batch_size, epochs);
    std::fflush(stdout);  // keep this text ahead of the progress bars on stderr

    const sg::History history = model.train(train, {.epochs = int(epochs), .shuffle_seed = 1}, sg::ProgressBar{});
    const sg::Metrics metrics = model.evaluate(test, sg::ProgressBar{});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("Training accuracy in the last epoch: %.2f%%\n",
                100.0 * history.last().at("sparse_categorical_accuracy"));
    std::printf("Test accuracy: %.2f%% on %zu examples (chance: %.2f%%), %.1f s in total\n",
                100.0 * metrics.at("sparse_categorical_accuracy"), test.size(), 100.0 * chance, seconds);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "shd_eprop: %s\n", e.what());
    return 1;
}
