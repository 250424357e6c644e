#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace spikegraph {

// A name usable as a template argument (a C++20 class-type NTTP), so that
// population, connection and variable names are part of a type:
//   population<"hidden", 256>(...),  SumVar<"A">{},  SpikeRecorder<"hidden">
//
// Why words and not `char[N]`: nvcc (13.0) can neither deduce a class-template
// NTTP such as FixedString<N> in partial specialisations, nor print an NTTP
// holding an array into its kernel launch stubs. A non-template class of
// scalar members passes both, so graph types can flow into CUDA kernels.
// Capacity: 64 characters, checked at compile time.
class FixedString {
public:
    static constexpr std::size_t capacity = 64;

    // Packed little-endian, 8 characters a word; unused characters are 0.
    std::uint64_t w0 = 0, w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0, w6 = 0, w7 = 0;

    constexpr FixedString() = default;
    // The form nvcc's generated host code uses to spell a FixedString template argument.
    constexpr FixedString(std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d, std::uint64_t e,
                          std::uint64_t f, std::uint64_t g, std::uint64_t h)
        : w0(a), w1(b), w2(c), w3(d), w4(e), w5(f), w6(g), w7(h) {}

    template <std::size_t N>
    constexpr FixedString(const char (&text)[N]) {  // NOLINT: implicit from string literals by design
        static_assert(N - 1 <= capacity, "spikegraph: names are limited to 64 characters");
        for (std::size_t i = 0; i + 1 < N && text[i] != '\0'; ++i) set(i, text[i]);
    }

    constexpr char operator[](std::size_t i) const {
        return static_cast<char>((word(i / 8) >> (8 * (i % 8))) & 0xffu);
    }
    constexpr std::size_t size() const {
        std::size_t n = 0;
        while (n < capacity && (*this)[n] != '\0') ++n;
        return n;
    }
    constexpr bool empty() const { return w0 == 0; }
    std::string str() const {
        std::string out;
        for (std::size_t i = 0, n = size(); i < n; ++i) out.push_back((*this)[i]);
        return out;
    }
    constexpr bool operator==(const FixedString&) const = default;

    // Sets character i (i < capacity); used to build generated names.
    constexpr void set(std::size_t i, char c) {
        const std::uint64_t bits = std::uint64_t(static_cast<unsigned char>(c)) << (8 * (i % 8));
        const std::uint64_t mask = ~(std::uint64_t(0xffu) << (8 * (i % 8)));
        std::uint64_t& w = word_ref(i / 8);
        w = (w & mask) | bits;
    }

private:
    // Word k of a FixedString, const or not.
    template <class Self>
    static constexpr auto& word_of(Self& self, std::size_t k) {
        switch (k) {
            case 0: return self.w0;
            case 1: return self.w1;
            case 2: return self.w2;
            case 3: return self.w3;
            case 4: return self.w4;
            case 5: return self.w5;
            case 6: return self.w6;
            default: return self.w7;
        }
    }
    constexpr std::uint64_t word(std::size_t k) const { return word_of(*this, k); }
    constexpr std::uint64_t& word_ref(std::size_t k) { return word_of(*this, k); }
};

namespace detail {
// The characters of a name in static storage, so a string_view can point at them.
struct NameChars {
    char chars[FixedString::capacity + 1]{};
    std::size_t size = 0;
};
constexpr NameChars name_chars(const FixedString& name) {
    NameChars out;
    out.size = name.size();
    for (std::size_t i = 0; i < out.size; ++i) out.chars[i] = name[i];
    return out;
}
template <FixedString Name>
inline constexpr NameChars name_storage = name_chars(Name);
}  // namespace detail

// The text of a name: name_view<Population::name> == "hidden".
template <FixedString Name>
inline constexpr std::string_view name_view{detail::name_storage<Name>.chars, detail::name_storage<Name>.size};

// a followed by b; a compile error (in constant evaluation) past 64 characters.
constexpr FixedString concat(const FixedString& a, const FixedString& b) {
    FixedString out = a;
    const std::size_t left = a.size(), right = b.size();
    if (left + right > FixedString::capacity) throw "spikegraph: a generated name exceeds 64 characters";
    for (std::size_t i = 0; i < right; ++i) out.set(left + i, b[i]);
    return out;
}

// prefix followed by the decimal digits of index.
constexpr FixedString indexed_name(const FixedString& prefix, std::size_t index) {
    char digits[21]{};
    std::size_t count = 0;
    do {
        digits[count++] = static_cast<char>('0' + index % 10);
        index /= 10;
    } while (index != 0);
    FixedString suffix;
    for (std::size_t i = 0; i < count; ++i) suffix.set(i, digits[count - 1 - i]);
    return concat(prefix, suffix);
}

}  // namespace spikegraph
