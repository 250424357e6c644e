#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace spikegraph {

// Every error the library throws derives from this, so users can catch one
// type; messages name the population/connection/file and expected vs got.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Bad user input: shapes, labels, parameters, files.
class InvalidArgument : public Error {
public:
    using Error::Error;
};

namespace detail {

template <class... Parts>
std::string concat_message(Parts&&... parts) {
    std::ostringstream stream;
    (stream << ... << std::forward<Parts>(parts));
    return stream.str();
}

template <class... Parts>
[[noreturn]] void throw_invalid(Parts&&... parts) {
    throw InvalidArgument(concat_message(std::forward<Parts>(parts)...));
}

}  // namespace detail
}  // namespace spikegraph
