#pragma once
#include <cstddef>
#include <tuple>
#include <utility>

#include <boost/hana/tuple.hpp>

#include <spikegraph/graph/network.hpp>

namespace spikegraph::cpu_backend {

// A simulator's per-population and per-connection buffers as std::tuples
// built from the network's type, and compile-time loops over them.
template <class Net, template <class, std::size_t> class PopulationBuffers>
struct PopulationBuffersOf;
template <class... Pops, class C, template <class, std::size_t> class PopulationBuffers>
struct PopulationBuffersOf<Network<boost::hana::tuple<Pops...>, C>, PopulationBuffers> {
    template <std::size_t... I>
    static auto make(std::index_sequence<I...>) -> std::tuple<PopulationBuffers<Pops, I>...>;
    using type = decltype(make(std::index_sequence_for<Pops...>{}));
};

template <class Net, template <class> class ConnectionBuffers>
struct ConnectionBuffersOf;
template <class P, class... Conns, template <class> class ConnectionBuffers>
struct ConnectionBuffersOf<Network<P, boost::hana::tuple<Conns...>>, ConnectionBuffers> {
    using type = std::tuple<ConnectionBuffers<Conns>...>;
};

// f.template operator()<I>(std::get<I>(tuple)) for every element, in order.
template <class Tuple, class F>
void for_each_buffer(Tuple& tuple, F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (f.template operator()<I>(std::get<I>(tuple)), ...);
    }(std::make_index_sequence<std::tuple_size_v<std::remove_const_t<Tuple>>>{});
}

}  // namespace spikegraph::cpu_backend
