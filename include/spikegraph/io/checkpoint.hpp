#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <spikegraph/connection_storage.hpp>
#include <spikegraph/connection_storage_check.hpp>
#include <spikegraph/error.hpp>
#include <spikegraph/file_io.hpp>
#include <spikegraph/fixed_string.hpp>
#include <spikegraph/io/npy.hpp>
#include <spikegraph/io/npz.hpp>
#include <spikegraph/mini_json.hpp>
#include <spikegraph/model/connectivity.hpp>
#include <spikegraph/model/neuron_bias.hpp>
#include <spikegraph/neuron_biases.hpp>

// Weights of a compiled network to and from NumPy files, named as mlGeNN
// names them so weights move between the two. Needs zlib (spikegraph::zlib).
//
//   save_weights(model, "weights.npz");          // one .npz, written atomically
//   load_weights(model, "weights.npz");          // checks the graph, restores every connection
//   save_checkpoint(model, "ckpt", "epoch-3");   // ckpt/epoch-3.npz
//   if (auto p = latest_checkpoint("ckpt")) load_weights(model, *p);
//   save_weights_npy(model, "dir", "3");         // mlGeNN Numpy serialiser layout: dir/3-<connection>-g.npy
//   load_weights_npy(model, "dir", "3");
//
// Array names. mlGeNN's Numpy serialiser (ml_genn/serialisers/numpy.py) saves
// each variable to "<path>/" + "-".join(keys) + ".npy"; its Checkpoint callback
// saves with keys (epoch, connection, "g") (CompiledNetwork.save with the
// compilers' checkpoint_connection_vars (conn, "g"), "g" being GeNN's weight
// variable), and CompiledNetwork.save_connectivity saves a sparse connection's
// structure as (connection, "pre_ind") and (connection, "post_ind") (GeNN's
// get_sparse_pre_inds / get_sparse_post_inds: one entry per synapse, in the
// same order as "g"). So for a connection named c:
//   c-g         float32: dense (num_pre, num_post) row-major; one-to-one (n,);
//               sparse (num_synapses,) in CSR order (by pre, then post)
//   c-pre_ind   int32 (num_synapses,), sparse only
//   c-post_ind  int32 (num_synapses,), sparse only
// (int64 instead of int32 when a population exceeds 2^31 - 1 neurons.)
// A .npz holds them as members "c-g.npy", ...; a directory holds files
// "<prefix>-c-g.npy" (prefix = mlGeNN's first key, e.g. the epoch; none when
// empty). np.load("weights.npz")["c-g"] reads them in Python; mlGeNN's
// Network.load((epoch,), Numpy(dir)) reads a dense or one-to-one connection's
// "<epoch>-<c>-g.npy" (name connections as in mlGeNN, e.g. named<"Conn_input_hidden">).
// On load, dense weights may also be flat (num_pre * num_post,) as GeNN's
// get_var_values returns them; index arrays may be any integer dtype and in any
// order (they are sorted into CSR order, weights alongside); duplicate
// synapses are rejected.
//
// Manifest. Every save also writes "manifest.json" (a raw member of the .npz,
// or "<prefix>-manifest.json" in a directory; in Python:
// json.loads(np.load(path)["manifest.json"])) naming the graph:
//   {"format": "spikegraph-checkpoint", "version": 1,
//    "populations": [{"name": "hidden", "size": 256, "model": "LeakyIntegrateFire"}, ...],
//    "connections": [{"name": "input_hidden", "pre": "input", "post": "hidden",
//                     "connectivity": "Dense", "synapse": "Exponential",
//                     "num_weights": 179200, "arrays": ["input_hidden-g"]}, ...]}
// Loading compares it with the network and fails (InvalidArgument) naming
// every difference, e.g. "checkpoint 'x.npz': population 'hidden' has 128
// neurons in the checkpoint, 256 in the network". Files without a manifest
// (written by numpy or mlGeNN) load with shape checks only.
//
// Loading is all or nothing: every array is read and checked before any
// connection changes. A sparse (FixedProbability) connection gets the
// checkpoint's structure as well as its weights.
//
// Writes are atomic: "<path>.tmp-<pid>-<random>" in the same directory,
// fsync, rename over the target, fsync of the directory; on failure the
// previous file is untouched and the temp file removed. (A directory of .npy
// files is written file by file, each atomically; use .npz for an atomic
// whole.)

namespace spikegraph {

inline constexpr std::uint64_t checkpoint_format_version = 1;

namespace detail {

// create_directories with the library's error type.
inline void make_directories(const std::filesystem::path& directory, std::string_view what) {
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    if (ec) throw_invalid(what, " '", directory.string(), "': cannot create it: ", ec.message());
}

// A CompiledNetwork's simulator, or the simulator itself.
template <class Model>
auto& checkpoint_simulator(Model& model) {
    if constexpr (requires { model.simulator(); }) return model.simulator();
    else return model;
}
template <class Model>
using checkpoint_network_t =
    std::remove_cvref_t<decltype(checkpoint_simulator(std::declval<Model&>()).network())>;

template <class Net, class F>
void for_each_connection_index(F&& f) {
    [&]<std::size_t... C>(std::index_sequence<C...>) {
        (f.template operator()<C>(), ...);
    }(std::make_index_sequence<Net::num_connections>{});
}
template <class Net, class F>
void for_each_population_index(F&& f) {
    [&]<std::size_t... P>(std::index_sequence<P...>) {
        (f.template operator()<P>(), ...);
    }(std::make_index_sequence<Net::num_populations>{});
}

struct ManifestPopulation {
    std::string name;
    std::uint64_t size = 0;
    std::string model;
    std::vector<std::string> arrays;  // "<name>-Bias" when it has per-neuron biases
};
struct ManifestConnection {
    std::string name, pre, post, connectivity, synapse;
    std::uint64_t num_weights = 0;
    std::vector<std::string> arrays;
};
struct Manifest {
    std::uint64_t version = checkpoint_format_version;
    std::vector<ManifestPopulation> populations;
    std::vector<ManifestConnection> connections;
};

inline std::string weights_array_name(std::string_view connection) { return std::string(connection) + "-g"; }
inline std::string pre_index_array_name(std::string_view connection) { return std::string(connection) + "-pre_ind"; }
inline std::string post_index_array_name(std::string_view connection) { return std::string(connection) + "-post_ind"; }

template <class Sim>
Manifest manifest_of(const Sim& sim) {
    using Net = std::remove_cvref_t<decltype(sim.network())>;
    Manifest m;
    for_each_population_index<Net>([&]<std::size_t P>() {
        using Pop = typename Net::template population_type<P>;
        m.populations.push_back({std::string(name_view<Pop::name>), Pop::size, std::string(Pop::neuron_type::type_name), {}});
        if constexpr (has_neuron_bias<typename Pop::neuron_type>)
            if (sim.template has_neuron_biases<P>()) m.populations.back().arrays.push_back(bias_array_name(name_view<Pop::name>));
    });
    for_each_connection_index<Net>([&]<std::size_t C>() {
        using Conn = typename Net::template connection_type<C>;
        ManifestConnection c;
        c.name = std::string(name_view<Conn::name>);
        c.pre = std::string(name_view<Conn::pre_type::name>);
        c.post = std::string(name_view<Conn::post_type::name>);
        c.connectivity = std::string(Conn::connectivity_type::type_name);
        c.synapse = std::string(Conn::synapse_type::type_name);
        c.num_weights = sim.template connection_storage<C>().weights.size();
        c.arrays.push_back(weights_array_name(c.name));
        if constexpr (Conn::connectivity_type::kind == ConnectivityKind::sparse) {
            c.arrays.push_back(pre_index_array_name(c.name));
            c.arrays.push_back(post_index_array_name(c.name));
        }
        m.connections.push_back(std::move(c));
    });
    return m;
}

inline std::string manifest_json(const Manifest& m) {
    std::string s = "{\n  \"format\": \"spikegraph-checkpoint\",\n  \"version\": " + std::to_string(m.version) +
                    ",\n  \"populations\": [";
    for (std::size_t i = 0; i < m.populations.size(); ++i) {
        const auto& p = m.populations[i];
        s += (i ? ",\n    " : "\n    ");
        s += "{\"name\": " + json_quote(p.name) + ", \"size\": " + std::to_string(p.size) +
             ", \"model\": " + json_quote(p.model);
        if (!p.arrays.empty()) {
            s += ", \"arrays\": [";
            for (std::size_t k = 0; k < p.arrays.size(); ++k) s += (k ? ", " : "") + json_quote(p.arrays[k]);
            s += "]";
        }
        s += "}";
    }
    s += m.populations.empty() ? "],\n  \"connections\": [" : "\n  ],\n  \"connections\": [";
    for (std::size_t i = 0; i < m.connections.size(); ++i) {
        const auto& c = m.connections[i];
        s += (i ? ",\n    " : "\n    ");
        s += "{\"name\": " + json_quote(c.name) + ", \"pre\": " + json_quote(c.pre) + ", \"post\": " + json_quote(c.post) +
             ", \"connectivity\": " + json_quote(c.connectivity) + ", \"synapse\": " + json_quote(c.synapse) +
             ", \"num_weights\": " + std::to_string(c.num_weights) + ", \"arrays\": [";
        for (std::size_t k = 0; k < c.arrays.size(); ++k) s += (k ? ", " : "") + json_quote(c.arrays[k]);
        s += "]}";
    }
    s += m.connections.empty() ? "]\n}\n" : "\n  ]\n}\n";
    return s;
}

inline Manifest parse_manifest(std::string_view text, const std::string& where) {
    const JsonValue root = parse_json(text, where);
    using Kind = JsonValue::Kind;
    auto field = [&](const JsonValue& object, std::string_view key, Kind kind, const std::string& path) -> const JsonValue& {
        const JsonValue* v = object.find(key);
        if (!v) throw_invalid(where, ": byte ", object.offset, ": ", path, ": expected a key \"", key, "\", got none");
        if (v->kind != kind) {
            JsonValue expected;
            expected.kind = kind;
            throw_invalid(where, ": byte ", v->offset, ": ", path, ".", key, ": expected ", expected.kind_name(), ", got ",
                          v->kind_name());
        }
        return *v;
    };
    if (root.kind != Kind::object) throw_invalid(where, ": byte ", root.offset, ": expected an object, got ", root.kind_name());
    const JsonValue& format = field(root, "format", Kind::string, "manifest");
    if (format.text != "spikegraph-checkpoint")
        throw_invalid(where, ": byte ", format.offset, ": manifest.format: expected \"spikegraph-checkpoint\", got ",
                      json_quote(format.text));
    Manifest m;
    const JsonValue& version = field(root, "version", Kind::integer, "manifest");
    m.version = version.integer;
    if (m.version == 0 || m.version > checkpoint_format_version)
        throw_invalid(where, ": byte ", version.offset, ": manifest.version: expected 1..", checkpoint_format_version,
                      " (versions this library reads), got ", m.version);
    const JsonValue& pops = field(root, "populations", Kind::array, "manifest");
    for (std::size_t i = 0; i < pops.items.size(); ++i) {
        const JsonValue& p = pops.items[i];
        const std::string path = "populations[" + std::to_string(i) + "]";
        if (p.kind != Kind::object) throw_invalid(where, ": byte ", p.offset, ": ", path, ": expected an object, got ", p.kind_name());
        m.populations.push_back({field(p, "name", Kind::string, path).text, field(p, "size", Kind::integer, path).integer,
                                 field(p, "model", Kind::string, path).text, {}});
        if (p.find("arrays")) {  // optional: absent before per-neuron biases existed
            const JsonValue& arrays = field(p, "arrays", Kind::array, path);
            for (std::size_t k = 0; k < arrays.items.size(); ++k) {
                if (arrays.items[k].kind != Kind::string)
                    throw_invalid(where, ": byte ", arrays.items[k].offset, ": ", path, ".arrays[", k, "]: expected a string, got ",
                                  arrays.items[k].kind_name());
                m.populations.back().arrays.push_back(arrays.items[k].text);
            }
        }
    }
    const JsonValue& conns = field(root, "connections", Kind::array, "manifest");
    for (std::size_t i = 0; i < conns.items.size(); ++i) {
        const JsonValue& c = conns.items[i];
        const std::string path = "connections[" + std::to_string(i) + "]";
        if (c.kind != Kind::object) throw_invalid(where, ": byte ", c.offset, ": ", path, ": expected an object, got ", c.kind_name());
        ManifestConnection mc;
        mc.name = field(c, "name", Kind::string, path).text;
        mc.pre = field(c, "pre", Kind::string, path).text;
        mc.post = field(c, "post", Kind::string, path).text;
        mc.connectivity = field(c, "connectivity", Kind::string, path).text;
        mc.synapse = field(c, "synapse", Kind::string, path).text;
        mc.num_weights = field(c, "num_weights", Kind::integer, path).integer;
        m.connections.push_back(std::move(mc));
    }
    return m;
}

// Every way the checkpoint's graph differs from the network's, or "".
inline std::string manifest_differences(const Manifest& file, const Manifest& net) {
    std::vector<std::string> out;
    for (const auto& p : net.populations) {
        const auto it = std::find_if(file.populations.begin(), file.populations.end(), [&](const auto& q) { return q.name == p.name; });
        if (it == file.populations.end()) {
            out.push_back("population '" + p.name + "' is in the network but not in the checkpoint");
            continue;
        }
        if (it->size != p.size)
            out.push_back("population '" + p.name + "' has " + std::to_string(it->size) + " neurons in the checkpoint, " +
                          std::to_string(p.size) + " in the network");
        if (it->model != p.model)
            out.push_back("population '" + p.name + "' has model '" + it->model + "' in the checkpoint, '" + p.model +
                          "' in the network");
    }
    for (const auto& q : file.populations)
        if (std::none_of(net.populations.begin(), net.populations.end(), [&](const auto& p) { return p.name == q.name; }))
            out.push_back("population '" + q.name + "' is in the checkpoint but not in the network");
    for (const auto& c : net.connections) {
        const auto it = std::find_if(file.connections.begin(), file.connections.end(), [&](const auto& d) { return d.name == c.name; });
        if (it == file.connections.end()) {
            out.push_back("connection '" + c.name + "' is in the network but not in the checkpoint");
            continue;
        }
        if (it->pre != c.pre || it->post != c.post)
            out.push_back("connection '" + c.name + "' goes from '" + it->pre + "' to '" + it->post +
                          "' in the checkpoint, from '" + c.pre + "' to '" + c.post + "' in the network");
        if (it->connectivity != c.connectivity)
            out.push_back("connection '" + c.name + "' has connectivity '" + it->connectivity + "' in the checkpoint, '" +
                          c.connectivity + "' in the network");
        if (it->synapse != c.synapse)
            out.push_back("connection '" + c.name + "' has synapse '" + it->synapse + "' in the checkpoint, '" + c.synapse +
                          "' in the network");
        // Sparse connections bring their own synapse count; the others' follow from the sizes.
        if (c.connectivity != FixedProbability<>::type_name && it->connectivity == c.connectivity &&
            it->num_weights != c.num_weights)
            out.push_back("connection '" + c.name + "' has " + std::to_string(it->num_weights) +
                          " weights in the checkpoint, " + std::to_string(c.num_weights) + " in the network");
    }
    for (const auto& d : file.connections)
        if (std::none_of(net.connections.begin(), net.connections.end(), [&](const auto& c) { return c.name == d.name; }))
            out.push_back("connection '" + d.name + "' is in the checkpoint but not in the network");
    std::string joined;
    for (const auto& s : out) joined += (joined.empty() ? "" : "; ") + s;
    return joined;
}

// Indices that fit int32 are written as int32 (as the docs promise), else int64.
template <class Write>
void with_index_arrays(const ConnectionStorage& storage, std::size_t num_pre, std::size_t num_post, Write&& write) {
    const std::size_t n = storage.columns.size();
    if (num_pre <= std::size_t(std::numeric_limits<std::int32_t>::max()) &&
        num_post <= std::size_t(std::numeric_limits<std::int32_t>::max())) {
        std::vector<std::int32_t> pre(n), post(n);
        for (std::size_t i = 0; i < num_pre; ++i)
            for (std::uint32_t k = storage.row_start[i]; k < storage.row_start[i + 1]; ++k) pre[k] = std::int32_t(i);
        for (std::size_t k = 0; k < n; ++k) post[k] = std::int32_t(storage.columns[k]);
        write(pre, post);
    } else {
        std::vector<std::int64_t> pre(n), post(n);
        for (std::size_t i = 0; i < num_pre; ++i)
            for (std::uint32_t k = storage.row_start[i]; k < storage.row_start[i + 1]; ++k) pre[k] = std::int64_t(i);
        for (std::size_t k = 0; k < n; ++k) post[k] = std::int64_t(storage.columns[k]);
        write(pre, post);
    }
}

// Calls add(name, data, shape) for every array of the network's weights and
// per-neuron biases.
template <class Sim, class Add>
void checkpoint_arrays(const Sim& sim, Add&& add) {
    using Net = std::remove_cvref_t<decltype(sim.network())>;
    for_each_population_index<Net>([&]<std::size_t P>() {
        using Pop = typename Net::template population_type<P>;
        if constexpr (has_neuron_bias<typename Pop::neuron_type>)
            if (sim.template has_neuron_biases<P>())
                add(bias_array_name(name_view<Pop::name>), sim.template biases<P>(), std::vector<std::size_t>{Pop::size});
    });
    for_each_connection_index<Net>([&]<std::size_t C>() {
        using Conn = typename Net::template connection_type<C>;
        const std::string name(name_view<Conn::name>);
        const ConnectionStorage& storage = sim.template connection_storage<C>();
        constexpr ConnectivityKind kind = Conn::connectivity_type::kind;
        if constexpr (kind == ConnectivityKind::dense) {
            add(weights_array_name(name), storage.weights, std::vector<std::size_t>{Conn::pre_type::size, Conn::post_type::size});
        } else {
            add(weights_array_name(name), storage.weights, std::vector<std::size_t>{storage.weights.size()});
        }
        if constexpr (kind == ConnectivityKind::sparse) {
            with_index_arrays(storage, Conn::pre_type::size, Conn::post_type::size, [&](const auto& pre, const auto& post) {
                add(pre_index_array_name(name), pre, std::vector<std::size_t>{pre.size()});
                add(post_index_array_name(name), post, std::vector<std::size_t>{post.size()});
            });
        }
    });
}

// Where load_weights finds arrays: by name ("c-g"), and the manifest if any.
struct CheckpointSource {
    std::string label;  // "checkpoint 'x.npz'"
    std::function<const NpyArray*(const std::string&)> find;
    std::function<std::vector<std::string>()> weight_array_names;  // every "*-g" array, when listable
    std::optional<std::string> manifest_text;
    std::string manifest_label;
};

inline std::string describe_shape(const NpyArray& a) { return shape_literal(a.shape); }

// Reads the integer index arrays of a sparse connection (any integer dtype).
inline std::vector<std::uint64_t> read_indices(const NpyArray& a, std::size_t limit, std::string_view role,
                                               std::string_view connection) {
    if (a.structured() || a.type.kind == NpyKind::floating || a.type.kind == NpyKind::boolean)
        throw_invalid(a.source, " (", connection, "): expected an integer dtype for ", role, ", got ", a.descr);
    std::vector<std::uint64_t> out;
    if (a.type.kind == NpyKind::unsigned_integer) {
        out = a.as<std::uint64_t>();
    } else {
        const std::vector<std::int64_t> v = a.as<std::int64_t>();
        out.resize(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (v[i] < 0)
                throw_invalid(a.source, " (", connection, "): synapse ", i, " has ", role, " ", v[i],
                              ", expected 0 <= ", role, " < ", limit);
            out[i] = std::uint64_t(v[i]);
        }
    }
    for (std::size_t i = 0; i < out.size(); ++i)
        if (out[i] >= limit)
            throw_invalid(a.source, " (", connection, "): synapse ", i, " has ", role, " ", out[i],
                          ", expected 0 <= ", role, " < ", limit);
    return out;
}

template <class Sim>
void load_from_source(Sim& sim, const CheckpointSource& source) {
    using Net = std::remove_cvref_t<decltype(sim.network())>;
    const Manifest network_manifest = manifest_of(sim);
    std::optional<Manifest> file_manifest;
    if (source.manifest_text) {
        file_manifest = parse_manifest(*source.manifest_text, source.manifest_label);
        const std::string differences = manifest_differences(*file_manifest, network_manifest);
        if (!differences.empty()) throw_invalid(source.label, ": ", differences);
    } else if (source.weight_array_names) {
        // No manifest: at least every weight array must belong to a connection of the network.
        for (const std::string& array : source.weight_array_names()) {
            const std::string connection = array.substr(0, array.size() - 2);
            if (Net::connection_index(connection) < 0)
                throw_invalid(source.label, ": array '", array, "' holds the weights of connection '", connection,
                              "', which the network lacks");
        }
    }

    std::vector<ConnectionStorage> storages(Net::num_connections);
    for_each_connection_index<Net>([&]<std::size_t C>() {
        using Conn = typename Net::template connection_type<C>;
        constexpr ConnectivityKind kind = Conn::connectivity_type::kind;
        constexpr std::size_t num_pre = Conn::pre_type::size, num_post = Conn::post_type::size;
        const std::string name(name_view<Conn::name>);
        const std::string where = source.label + ": connection '" + name + "'";
        auto need = [&](const std::string& array) -> const NpyArray& {
            const NpyArray* a = source.find(array);
            if (!a) throw_invalid(where, ": expected array '", array, "', got none");
            return *a;
        };
        const NpyArray& g = need(weights_array_name(name));
        if (g.structured()) throw_invalid(g.source, " (connection '", name, "'): expected float weights, got dtype ", g.descr);
        ConnectionStorage storage;
        if constexpr (kind == ConnectivityKind::dense) {
            const bool matrix = g.shape.size() == 2 && g.shape[0] == num_pre && g.shape[1] == num_post;
            const bool flat = g.shape.size() == 1 && g.shape[0] == num_pre * num_post;
            if (!matrix && !flat)
                throw_invalid(g.source, " (connection '", name, "'): expected dense weights of shape (", num_pre, ", ", num_post,
                              ") (pre, post) or (", num_pre * num_post, ",), got ", describe_shape(g));
            storage.weights = g.as<float>();
        } else if constexpr (kind == ConnectivityKind::one_to_one) {
            if (!(g.shape.size() == 1 && g.shape[0] == num_pre))
                throw_invalid(g.source, " (connection '", name, "'): expected one-to-one weights of shape (", num_pre, ",), got ",
                              describe_shape(g));
            storage.weights = g.as<float>();
        } else {
            const NpyArray& pre_array = need(pre_index_array_name(name));
            const NpyArray& post_array = need(post_index_array_name(name));
            for (const NpyArray* a : {&g, &pre_array, &post_array})
                if (a->shape.size() != 1)
                    throw_invalid(a->source, " (connection '", name, "'): expected one value per synapse, shape (n,), got ",
                                  describe_shape(*a));
            const std::size_t n = g.shape[0];
            if (pre_array.shape[0] != n || post_array.shape[0] != n)
                throw_invalid(where, ": expected ", n, " synapses in every array (as in '", weights_array_name(name), "'), got ",
                              pre_array.shape[0], " pre and ", post_array.shape[0], " post indices");
            if (file_manifest) {
                const auto& entries = file_manifest->connections;
                const auto it = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.name == name; });
                if (it != entries.end() && it->num_weights != n)
                    throw_invalid(where, ": the manifest lists ", it->num_weights, " synapses, the arrays hold ", n);
            }
            if (n > std::numeric_limits<std::uint32_t>::max())
                throw_invalid(where, ": ", n, " synapses exceed the 2^32 - 1 a connection can hold");
            const std::vector<float> weights = g.as<float>();
            const std::vector<std::uint64_t> pre = read_indices(pre_array, num_pre, "pre index", "connection '" + name + "'");
            const std::vector<std::uint64_t> post = read_indices(post_array, num_post, "post index", "connection '" + name + "'");
            // CSR order: by pre, then post (stable, so GeNN's own order is kept where it already is).
            std::vector<std::size_t> order(n);
            std::iota(order.begin(), order.end(), std::size_t{0});
            std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
                return pre[a] < pre[b] || (pre[a] == pre[b] && post[a] < post[b]);
            });
            storage.row_start.assign(num_pre + 1, 0);
            storage.columns.resize(n);
            storage.weights.resize(n);
            for (std::size_t k = 0; k < n; ++k) {
                const std::size_t s = order[k];
                if (k > 0 && pre[s] == pre[order[k - 1]] && post[s] == post[order[k - 1]])
                    throw_invalid(where, ": synapses ", order[k - 1], " and ", s, " both connect pre ", pre[s], " to post ",
                                  post[s], "; expected each pair at most once");
                storage.columns[k] = std::uint32_t(post[s]);
                storage.weights[k] = weights[s];
                ++storage.row_start[pre[s] + 1];
            }
            for (std::size_t i = 0; i < num_pre; ++i) storage.row_start[i + 1] += storage.row_start[i];
        }
        check_connection_storage(storage, kind, num_pre, num_post, where);
        storages[C] = std::move(storage);
    });
    // Per-neuron biases: restored where the file has them (a file without them
    // leaves the network's as they are), required where its manifest lists them.
    std::vector<std::vector<float>> biases(Net::num_populations);
    for_each_population_index<Net>([&]<std::size_t P>() {
        using Pop = typename Net::template population_type<P>;
        const std::string name(name_view<Pop::name>);
        const std::string array = bias_array_name(name);
        const NpyArray* a = source.find(array);
        bool listed = false;
        if (file_manifest)
            for (const auto& p : file_manifest->populations)
                if (p.name == name) listed = std::find(p.arrays.begin(), p.arrays.end(), array) != p.arrays.end();
        if (!a) {
            if (listed) throw_invalid(source.label, ": population '", name, "': expected array '", array, "' (the manifest lists it), got none");
            return;
        }
        if constexpr (!has_neuron_bias<typename Pop::neuron_type>) {
            throw_invalid(source.label, ": array '", array, "' holds biases of population '", name, "', whose model ",
                          Pop::neuron_type::type_name, " has no bias");
        } else {
            if (a->structured() || a->type.kind != NpyKind::floating)
                throw_invalid(a->source, " (population '", name, "'): expected float biases, got dtype ", a->descr);
            if (!(a->shape.size() == 1 && a->shape[0] == Pop::size))
                throw_invalid(a->source, " (population '", name, "'): expected biases of shape (", Pop::size, ",), got ",
                              describe_shape(*a));
            biases[P] = NeuronBiases::checked(a->template as<float>(), Pop::size, name);
        }
    });
    // Everything is valid: now change the network.
    for_each_connection_index<Net>([&]<std::size_t C>() { sim.template set_connection_storage<C>(std::move(storages[C])); });
    for_each_population_index<Net>([&]<std::size_t P>() {
        if constexpr (has_neuron_bias<typename Net::template population_type<P>::neuron_type>)
            if (!biases[P].empty()) sim.template set_biases<P>(biases[P]);
    });
}

inline std::filesystem::path npy_directory_file(const std::filesystem::path& directory, std::string_view prefix,
                                                std::string_view name, std::string_view extension) {
    std::string file = prefix.empty() ? std::string(name) : std::string(prefix) + "-" + std::string(name);
    return directory / (file + std::string(extension));
}

}  // namespace detail

// Saves every connection's weights (and sparse structure) with a manifest to
// one .npz at `path`, atomically. `model`: a CompiledNetwork (or its simulator).
template <class Model>
void save_weights(const Model& model, const std::filesystem::path& path) {
    const auto& sim = detail::checkpoint_simulator(model);
    NpzWriter writer;
    detail::checkpoint_arrays(sim, [&](const std::string& name, const auto& data, std::vector<std::size_t> shape) {
        writer.add(name, data, std::move(shape));
    });
    writer.add_raw("manifest.json", detail::manifest_json(detail::manifest_of(sim)));
    writer.write(path, "checkpoint");
}

// Restores weights saved by save_weights (or any .npz with mlGeNN-named
// arrays); see the top of this header for the checks.
template <class Model>
void load_weights(Model& model, const std::filesystem::path& path) {
    auto& sim = detail::checkpoint_simulator(model);
    const std::string label = "checkpoint '" + path.string() + "'";
    const std::vector<std::uint8_t> bytes = detail::read_file_bytes(path, "checkpoint");
    const Npz npz = Npz::parse(bytes, label);
    detail::CheckpointSource source;
    source.label = label;
    source.find = [&](const std::string& name) { return npz.find(name); };
    source.weight_array_names = [&] {
        std::vector<std::string> out;
        for (const std::string& name : npz.names())
            if (name.size() > 2 && name.compare(name.size() - 2, 2, "-g") == 0) out.push_back(name);
        return out;
    };
    if (const auto* manifest = npz.raw("manifest.json"))
        source.manifest_text = std::string(manifest->begin(), manifest->end());
    source.manifest_label = label + ": member 'manifest.json'";
    detail::load_from_source(sim, source);
}

// mlGeNN's Numpy-serialiser layout: one file per array,
// "<directory>/<prefix>-<connection>-g.npy" etc. (no "<prefix>-" when prefix
// is empty), plus "<prefix>-manifest.json". Each file is written atomically;
// the directory is created when missing.
template <class Model>
void save_weights_npy(const Model& model, const std::filesystem::path& directory, std::string_view prefix = "") {
    const auto& sim = detail::checkpoint_simulator(model);
    detail::make_directories(directory, "checkpoint directory");
    detail::checkpoint_arrays(sim, [&](const std::string& name, const auto& data, std::vector<std::size_t> shape) {
        write_npy(detail::npy_directory_file(directory, prefix, name, ".npy"), data, std::move(shape));
    });
    const std::string json = detail::manifest_json(detail::manifest_of(sim));
    detail::write_bytes_atomically(detail::npy_directory_file(directory, prefix, "manifest", ".json"), json.data(),
                                   json.size(), "checkpoint manifest");
}

// Restores weights from a directory in that layout (e.g. written by mlGeNN's
// Checkpoint callback with prefix = the epoch); the manifest is optional.
template <class Model>
void load_weights_npy(Model& model, const std::filesystem::path& directory, std::string_view prefix = "") {
    auto& sim = detail::checkpoint_simulator(model);
    std::error_code ec;
    if (!std::filesystem::is_directory(directory, ec))
        detail::throw_invalid("checkpoint directory '", directory.string(), "': expected a directory, got ",
                              std::filesystem::exists(directory, ec) ? "a file" : "nothing");
    const std::string label = "checkpoint directory '" + directory.string() + "'";
    std::map<std::string, NpyArray, std::less<>> cache;
    detail::CheckpointSource source;
    source.label = label;
    source.find = [&](const std::string& name) -> const NpyArray* {
        if (auto it = cache.find(name); it != cache.end()) return &it->second;
        const std::filesystem::path file = detail::npy_directory_file(directory, prefix, name, ".npy");
        std::error_code exists_ec;
        if (!std::filesystem::exists(file, exists_ec)) return nullptr;
        return &cache.emplace(name, read_npy(file)).first->second;
    };
    const std::filesystem::path manifest = detail::npy_directory_file(directory, prefix, "manifest", ".json");
    if (std::filesystem::exists(manifest, ec)) {
        const std::vector<std::uint8_t> bytes = detail::read_file_bytes(manifest, "checkpoint manifest");
        source.manifest_text = std::string(bytes.begin(), bytes.end());
        source.manifest_label = "checkpoint manifest '" + manifest.string() + "'";
    }
    detail::load_from_source(sim, source);
}

// Saves the weights to "<directory>/<tag>.npz" atomically (creating the
// directory) and returns that path. Tags are file names: no '/', not "." or "..".
template <class Model>
std::filesystem::path save_checkpoint(const Model& model, const std::filesystem::path& directory, std::string_view tag) {
    if (tag.empty() || tag == "." || tag == ".." || tag.find('/') != std::string_view::npos ||
        tag.find('\0') != std::string_view::npos)
        detail::throw_invalid("checkpoint tag '", tag, "': expected a file name (no '/', not empty, '.' or '..')");
    detail::make_directories(directory, "checkpoint directory");
    const std::filesystem::path path = directory / (std::string(tag) + ".npz");
    save_weights(model, path);
    return path;
}

namespace detail {
// "epoch-9" < "epoch-10": digit runs compare as numbers.
inline bool natural_less(std::string_view a, std::string_view b) {
    std::size_t i = 0, j = 0;
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    while (i < a.size() && j < b.size()) {
        if (digit(a[i]) && digit(b[j])) {
            std::size_t i2 = i, j2 = j;
            while (i2 < a.size() && digit(a[i2])) ++i2;
            while (j2 < b.size() && digit(b[j2])) ++j2;
            std::string_view x = a.substr(i, i2 - i), y = b.substr(j, j2 - j);
            while (x.size() > 1 && x.front() == '0') x.remove_prefix(1);
            while (y.size() > 1 && y.front() == '0') y.remove_prefix(1);
            if (x.size() != y.size()) return x.size() < y.size();
            if (x != y) return x < y;
            i = i2;
            j = j2;
        } else {
            if (a[i] != b[j]) return a[i] < b[j];
            ++i;
            ++j;
        }
    }
    return a.size() - i < b.size() - j;
}
}  // namespace detail

// The most recently written "<tag>.npz" in `directory` (modification time;
// ties broken by natural order of the tag, so "epoch-10" beats "epoch-9"),
// ignoring temp files of unfinished writes; nullopt when there is none or the
// directory does not exist.
inline std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& directory) {
    std::error_code ec;
    if (!std::filesystem::exists(directory, ec)) return std::nullopt;
    if (!std::filesystem::is_directory(directory, ec))
        detail::throw_invalid("checkpoint directory '", directory.string(), "': expected a directory, got a file");
    std::optional<std::filesystem::path> best;
    std::filesystem::file_time_type best_time{};
    for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
        std::error_code entry_ec;
        if (!entry.is_regular_file(entry_ec)) continue;
        const std::string name = entry.path().filename().string();
        if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".npz") != 0) continue;
        if (name.find(".tmp-") != std::string::npos) continue;
        const auto time = entry.last_write_time(entry_ec);
        if (entry_ec) continue;
        if (!best || time > best_time ||
            (time == best_time && detail::natural_less(best->filename().string(), name))) {
            best = entry.path();
            best_time = time;
        }
    }
    if (ec) detail::throw_invalid("checkpoint directory '", directory.string(), "': cannot list it: ", ec.message());
    return best;
}

}  // namespace spikegraph
