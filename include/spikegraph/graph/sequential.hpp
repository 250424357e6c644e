#pragma once
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include <spikegraph/graph/network.hpp>

namespace spikegraph {

// Keras-style layers for sequential(...). A Layer's connectivity and synapse
// describe the connection INTO it from the previous layer. Arguments may come
// in any order; each kind is optional except the neuron model:
//   Layer<256>(LeakyIntegrateFire{}, Dense{Normal{0, 0.1f}}, Exponential{5.0f})
//   Layer<10, "output">(LeakyIntegrate{}, AvgVar{})
// Unnamed layers are called "input" (the InputLayer) and "layer1", "layer2", ...
template <std::size_t Size, FixedString Name, class Neuron, class Conn, class Syn, class R>
struct LayerSpec {
    Neuron neuron;
    Conn connectivity;
    Syn synapse;
    R readout;
};

namespace detail {

template <template <class> class Predicate, class Default, class... Args>
constexpr auto pick(Default fallback, const Args&... args) {
    constexpr std::size_t matches = (std::size_t{Predicate<Args>::value} + ... + 0);
    static_assert(matches <= 1, "spikegraph: a Layer was given two arguments of the same kind "
                                "(two neuron models, connectivities, synapses or readouts)");
    if constexpr (matches == 0) {
        return fallback;
    } else {
        std::tuple<const Args&...> all{args...};
        constexpr std::size_t index = [] {
            constexpr bool flags[] = {Predicate<Args>::value...};
            std::size_t i = 0;
            while (!flags[i]) ++i;
            return i;
        }();
        return std::get<index>(all);
    }
}

template <class T> struct IsNeuron : std::bool_constant<NeuronModel<T>> {};
template <class T> struct IsConnectivity : std::bool_constant<Connectivity<T>> {};
template <class T> struct IsSynapse : std::bool_constant<SynapseModel<T>> {};
template <class T> struct IsReadout : std::bool_constant<Readout<T>> {};
template <class T> struct IsLayerArgument
    : std::bool_constant<NeuronModel<T> || Connectivity<T> || SynapseModel<T> || Readout<T>> {};

struct NoNeuronGiven {};

}  // namespace detail

template <std::size_t Size, FixedString Name = "", class... Args>
constexpr auto Layer(const Args&... args) {
    static_assert((detail::IsLayerArgument<Args>::value && ...),
                  "spikegraph: Layer takes a neuron model, and optionally a connectivity, a synapse model and a readout");
    static_assert((std::size_t{NeuronModel<Args>} + ... + 0) == 1, "spikegraph: a Layer needs exactly one neuron model");
    auto neuron = detail::pick<detail::IsNeuron>(detail::NoNeuronGiven{}, args...);
    auto conn = detail::pick<detail::IsConnectivity>(Dense<Normal>{}, args...);
    auto syn = detail::pick<detail::IsSynapse>(Delta{}, args...);
    auto readout = detail::pick<detail::IsReadout>(NoReadout{}, args...);
    return LayerSpec<Size, Name, decltype(neuron), decltype(conn), decltype(syn), decltype(readout)>{neuron, conn, syn,
                                                                                                      readout};
}

template <std::size_t Size, FixedString Name = "input", NeuronModel Neuron>
constexpr auto InputLayer(const Neuron& neuron) {
    static_assert(is_input_model<Neuron>, "spikegraph: InputLayer needs an input model (SpikeInput, PoissonInput, BinarySpikeInput)");
    return LayerSpec<Size, Name, Neuron, Dense<Normal>, Delta, NoReadout>{neuron, {}, {}, {}};
}

namespace detail {

template <std::size_t Index, std::size_t Size, FixedString Name, class Neuron, class Conn, class Syn, class R>
constexpr auto layer_population(const LayerSpec<Size, Name, Neuron, Conn, Syn, R>& spec) {
    constexpr auto chosen = [] {
        if constexpr (Name.empty()) return indexed_name(FixedString("layer"), Index);
        else return Name;
    }();
    return population<chosen, Size>(spec.neuron, spec.readout);
}

template <class... Specs, std::size_t... I>
constexpr auto sequential_network(const std::tuple<Specs...>& specs, std::index_sequence<I...>) {
    auto populations = std::make_tuple(layer_population<I>(std::get<I>(specs))...);
    // Connection i joins population i to population i + 1, described by layer i + 1.
    auto connect = [&]<std::size_t K>(std::integral_constant<std::size_t, K>) {
        const auto& into = std::get<K + 1>(specs);
        return std::get<K>(populations) >> into.connectivity >> into.synapse >> std::get<K + 1>(populations);
    };
    return [&]<std::size_t... K>(std::index_sequence<K...>) {
        return network(std::get<I>(populations)..., connect(std::integral_constant<std::size_t, K>{})...);
    }(std::make_index_sequence<sizeof...(Specs) - 1>{});
}

}  // namespace detail

// sequential(InputLayer<700>(SpikeInput{}), Layer<256>(LeakyIntegrateFire{}), Layer<20>(LeakyIntegrate{}, AvgVar{}))
// builds the same Network type network(...) would.
template <class... Specs>
constexpr auto sequential(const Specs&... layers) {
    static_assert(sizeof...(Specs) >= 2, "spikegraph: sequential needs an input layer and at least one more layer");
    return detail::sequential_network(std::tuple<Specs...>{layers...}, std::make_index_sequence<sizeof...(Specs)>{});
}

}  // namespace spikegraph
