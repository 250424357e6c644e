#pragma once
#include <type_traits>

#include <spikegraph/fixed_string.hpp>
#include <spikegraph/graph/population.hpp>
#include <spikegraph/model/connectivity.hpp>
#include <spikegraph/model/synapse.hpp>

namespace spikegraph {

// A connection from Pre to Post, written  pre >> Dense{...} >> Exponential{...} >> post.
// Its default name is "<pre>_<post>"; named<"w_rec">(connection) renames it.
template <FixedString Name, PopulationType Pre, PopulationType Post, Connectivity Conn, SynapseModel Syn>
struct Connection {
    static constexpr FixedString name = Name;
    using pre_type = Pre;
    using post_type = Post;
    using connectivity_type = Conn;
    using synapse_type = Syn;

    Pre pre;
    Post post;
    Conn connectivity;
    Syn synapse;
};

template <class T>
inline constexpr bool is_connection = false;
template <FixedString Name, class Pre, class Post, class Conn, class Syn>
inline constexpr bool is_connection<Connection<Name, Pre, Post, Conn, Syn>> = true;

template <class T>
concept ConnectionType = is_connection<std::remove_cvref_t<T>>;

// The half-written expression  pre >> connectivity [>> synapse].
template <PopulationType Pre, Connectivity Conn, class Syn>
struct PendingConnection {
    Pre pre;
    Conn connectivity;
    Syn synapse;  // void-like NoSynapse until one is given
};

struct NoSynapseGiven {};

template <FixedString Pre, FixedString Post>
inline constexpr auto default_connection_name = concat(concat(Pre, FixedString("_")), Post);

template <PopulationType Pre, Connectivity Conn>
constexpr auto operator>>(const Pre& pre, const Conn& connectivity) {
    return PendingConnection<Pre, Conn, NoSynapseGiven>{pre, connectivity, {}};
}

template <PopulationType Pre, Connectivity Conn, SynapseModel Syn>
constexpr auto operator>>(const PendingConnection<Pre, Conn, NoSynapseGiven>& pending, const Syn& synapse) {
    return PendingConnection<Pre, Conn, Syn>{pending.pre, pending.connectivity, synapse};
}

template <PopulationType Pre, PopulationType Post, Connectivity Conn>
constexpr void check_connection_shapes() {
    static_assert(Conn::kind != ConnectivityKind::one_to_one || Pre::size == Post::size,
                  "spikegraph: OneToOne connectivity needs the pre and post populations to have the same size");
    static_assert(!is_input_model<typename Post::neuron_type>,
                  "spikegraph: a connection cannot target an input population");
}

template <PopulationType Pre, Connectivity Conn, class Syn, PopulationType Post>
constexpr auto operator>>(const PendingConnection<Pre, Conn, Syn>& pending, const Post& post) {
    check_connection_shapes<Pre, Post, Conn>();
    using SynapseChosen = std::conditional_t<std::is_same_v<Syn, NoSynapseGiven>, Delta, Syn>;
    SynapseChosen synapse{};
    if constexpr (!std::is_same_v<Syn, NoSynapseGiven>) synapse = pending.synapse;
    return Connection<default_connection_name<Pre::name, Post::name>, Pre, Post, Conn, SynapseChosen>{
        pending.pre, post, pending.connectivity, synapse};
}

// Gives a connection an explicit name (used by checkpoints, recorders, errors).
template <FixedString NewName, FixedString Name, class Pre, class Post, class Conn, class Syn>
constexpr auto named(const Connection<Name, Pre, Post, Conn, Syn>& c) {
    static_assert(!NewName.empty(), "spikegraph: a connection name must not be empty");
    return Connection<NewName, Pre, Post, Conn, Syn>{c.pre, c.post, c.connectivity, c.synapse};
}

}  // namespace spikegraph
