#pragma once
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace spikegraph {

// A string usable as a template argument (C++20 class-type NTTP), so that
// population, connection and variable names are part of a type.
template <std::size_t N>
struct FixedString {
    char chars[N]{};

    constexpr FixedString() = default;
    constexpr FixedString(const char (&text)[N]) { std::copy_n(text, N, chars); }

    // Up to the first NUL, so names generated into a fixed-size buffer compare equal to literals.
    constexpr std::string_view view() const {
        std::size_t length_used = 0;
        while (length_used < N - 1 && chars[length_used] != '\0') ++length_used;
        return {chars, length_used};
    }
    std::string str() const { return std::string(view()); }
    constexpr bool empty() const { return view().empty(); }

    template <std::size_t M>
    constexpr bool operator==(const FixedString<M>& other) const {
        return view() == other.view();
    }
};

template <std::size_t N>
FixedString(const char (&)[N]) -> FixedString<N>;

template <std::size_t N, std::size_t M>
constexpr FixedString<N + M - 1> concat(const FixedString<N>& a, const FixedString<M>& b) {
    FixedString<N + M - 1> out;
    const auto left = a.view(), right = b.view();
    std::copy_n(left.data(), left.size(), out.chars);
    std::copy_n(right.data(), right.size(), out.chars + left.size());
    return out;
}

// "prefix" followed by the decimal digits of index (index < 10^6).
template <std::size_t N>
constexpr FixedString<N + 6> indexed_name(const FixedString<N>& prefix, std::size_t index) {
    FixedString<N + 6> out;
    const auto head = prefix.view();
    std::copy_n(head.data(), head.size(), out.chars);
    char digits[7]{};
    std::size_t count = 0;
    do {
        digits[count++] = static_cast<char>('0' + index % 10);
        index /= 10;
    } while (index != 0 && count < 6);
    for (std::size_t i = 0; i < count; ++i) out.chars[head.size() + i] = digits[count - 1 - i];
    return out;
}

}  // namespace spikegraph
