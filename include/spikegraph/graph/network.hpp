#pragma once
#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/hana/append.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/size.hpp>
#include <boost/hana/tuple.hpp>

#include <spikegraph/graph/connection.hpp>
#include <spikegraph/graph/population.hpp>

namespace spikegraph {

namespace hana = boost::hana;

template <class Populations, class Connections>
struct Network;

// The whole model graph as a type: every population and connection, with the
// compile-time tables (indices, fan-in lists) the compilers and backends use.
template <class... Pops, class... Conns>
struct Network<hana::tuple<Pops...>, hana::tuple<Conns...>> {
    hana::tuple<Pops...> populations;
    hana::tuple<Conns...> connections;

    static constexpr std::size_t num_populations = sizeof...(Pops);
    static constexpr std::size_t num_connections = sizeof...(Conns);
    static constexpr std::array<std::string_view, sizeof...(Pops)> population_names{name_view<Pops::name>...};
    static constexpr std::array<std::string_view, sizeof...(Conns)> connection_names{name_view<Conns::name>...};
    static constexpr std::array<std::size_t, sizeof...(Pops)> population_sizes{Pops::size...};

    static constexpr int population_index(std::string_view name) {
        for (std::size_t i = 0; i < num_populations; ++i)
            if (population_names[i] == name) return static_cast<int>(i);
        return -1;
    }
    static constexpr int connection_index(std::string_view name) {
        for (std::size_t i = 0; i < num_connections; ++i)
            if (connection_names[i] == name) return static_cast<int>(i);
        return -1;
    }
    static constexpr std::array<int, sizeof...(Conns)> connection_pre{population_index(name_view<Conns::pre_type::name>)...};
    static constexpr std::array<int, sizeof...(Conns)> connection_post{
        population_index(name_view<Conns::post_type::name>)...};

    template <std::size_t P>
    using population_type = std::tuple_element_t<P, std::tuple<Pops...>>;
    template <std::size_t C>
    using connection_type = std::tuple_element_t<C, std::tuple<Conns...>>;

    // Number of populations of each role.
    static constexpr std::size_t num_inputs = (std::size_t{is_input_model<typename Pops::neuron_type>} + ... + 0);
    static constexpr std::size_t num_readouts = (std::size_t{Pops::has_readout} + ... + 0);

    // Index of the first population satisfying a role, or -1.
    static constexpr int first_input() {
        constexpr std::array<bool, sizeof...(Pops)> flags{is_input_model<typename Pops::neuron_type>...};
        for (std::size_t i = 0; i < flags.size(); ++i)
            if (flags[i]) return static_cast<int>(i);
        return -1;
    }
    static constexpr int first_readout() {
        constexpr std::array<bool, sizeof...(Pops)> flags{Pops::has_readout...};
        for (std::size_t i = 0; i < flags.size(); ++i)
            if (flags[i]) return static_cast<int>(i);
        return -1;
    }

    template <std::size_t P>
    constexpr const auto& population() const {
        return hana::at_c<P>(populations);
    }
    template <std::size_t C>
    constexpr const auto& connection() const {
        return hana::at_c<C>(connections);
    }
};

namespace detail {

template <class A, class B>
constexpr void check_same_population() {
    static_assert(std::is_same_v<A, B>,
                  "spikegraph: two different populations share one name (sizes or models differ); "
                  "give each population its own name");
}

// Adds p to the tuple unless a population of that name is already there.
template <class Tuple, class P>
constexpr auto add_population(Tuple tuple, const P& p) {
    constexpr bool present = hana::fold_left(tuple, false, [](bool found, const auto& q) {
        return found || std::remove_cvref_t<decltype(q)>::name == P::name;
    });
    if constexpr (present) {
        hana::for_each(tuple, [](const auto& q) {
            using Q = std::remove_cvref_t<decltype(q)>;
            if constexpr (Q::name == P::name) check_same_population<Q, P>();
        });
        return tuple;
    } else {
        return hana::append(tuple, p);
    }
}

template <class Listed, class Conn>
constexpr void check_endpoint_listed() {
    constexpr bool pre_listed = Listed::template contains<typename Conn::pre_type>();
    constexpr bool post_listed = Listed::template contains<typename Conn::post_type>();
    static_assert(pre_listed && post_listed,
                  "spikegraph: a connection refers to a population that is not in the network "
                  "(list it among network(...)'s populations)");
}

template <class... Listed>
struct ListedPopulations {
    template <class P>
    static constexpr bool contains() {
        return ((Listed::name == P::name && std::is_same_v<Listed, P>) || ...);
    }
};

template <std::size_t N>
constexpr bool names_unique(const std::array<std::string_view, N>& names) {
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t j = i + 1; j < N; ++j)
            if (names[i] == names[j]) return false;
    return true;
}

}  // namespace detail

// network(populations..., connections...) in any order. Populations that are
// not listed are taken from the connections; when any population is listed,
// every connection must join listed populations.
template <class... Parts>
    requires((PopulationType<Parts> || ConnectionType<Parts>) && ...)
constexpr auto network(const Parts&... parts) {
    auto all = hana::make_tuple(parts...);
    auto listed = hana::fold_left(all, hana::make_tuple(), [](auto acc, const auto& part) {
        if constexpr (PopulationType<decltype(part)>) return detail::add_population(acc, part);
        else return acc;
    });
    constexpr bool any_listed = (PopulationType<Parts> || ...);
    if constexpr (any_listed) {
        using Listed = decltype(hana::unpack(listed, [](const auto&... p) {
            return detail::ListedPopulations<std::remove_cvref_t<decltype(p)>...>{};
        }));
        (
            [] {
                if constexpr (ConnectionType<Parts>) detail::check_endpoint_listed<Listed, Parts>();
            }(),
            ...);
    }
    auto populations = hana::fold_left(all, listed, [](auto acc, const auto& part) {
        if constexpr (ConnectionType<decltype(part)>)
            return detail::add_population(detail::add_population(acc, part.pre), part.post);
        else return acc;
    });
    auto connections = hana::fold_left(all, hana::make_tuple(), [](auto acc, const auto& part) {
        if constexpr (ConnectionType<decltype(part)>) return hana::append(acc, part);
        else return acc;
    });
    using Result = Network<decltype(populations), decltype(connections)>;
    static_assert(Result::num_populations > 0, "spikegraph: a network needs at least one population");
    static_assert(detail::names_unique(Result::connection_names),
                  "spikegraph: two connections share one name; rename one with named<\"...\">(connection)");
    return Result{populations, connections};
}

template <class T>
inline constexpr bool is_network = false;
template <class P, class C>
inline constexpr bool is_network<Network<P, C>> = true;
template <class T>
concept NetworkType = is_network<std::remove_cvref_t<T>>;

}  // namespace spikegraph
