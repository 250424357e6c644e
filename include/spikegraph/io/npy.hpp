#pragma once
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <spikegraph/error.hpp>
#include <spikegraph/file_io.hpp>
#include <spikegraph/python_literal.hpp>

// NumPy .npy files (format versions 1.0, 2.0 and 3.0), without numpy.
//
//   NpyArray a = read_npy("w.npy");          // any shape; dtype '<f4' ... '|b1', '>f8', ...
//   std::vector<float> w = a.as<float>();    // converted with range checks
//   write_npy("w.npy", std::span<const float>(w), {128, 10});
//
// Read: dtypes bool ('|b1'), int8..int64, uint8..uint64, float32, float64 in
// either byte order ('<', '>', '|', '='; big-endian data is byte-swapped on
// load), any shape (including () for a scalar), fortran_order True (the data
// is transposed to C order on load, so NpyArray is always C order), and
// structured dtypes whose fields are such scalars, e.g. tonic's event arrays
// [('x', '<i8'), ('y', '<i8'), ('t', '<i8'), ('p', '<i8')]; padding fields
// ('', '|V<n>') of aligned structs are skipped. Not supported (clear error):
// strings, objects, complex, float16, subarray and nested fields.
// Write: C order, little-endian, version 1.0 (2.0 when the header exceeds
// 65535 bytes), header padded to a multiple of 64 bytes as numpy does.
// Errors (spikegraph::InvalidArgument) name the source, the byte offset, the
// header field, what was expected and what was found.

namespace spikegraph {

enum class NpyKind : std::uint8_t { boolean, signed_integer, unsigned_integer, floating, padding };

// One scalar element type of an array or of a structured field.
struct NpyType {
    NpyKind kind = NpyKind::floating;
    std::size_t size = 4;  // bytes

    // numpy's spelling in our normalised (little-endian) byte order: '<f4', '|u1', '|V2'.
    std::string descr() const {
        const bool single = size == 1 || kind == NpyKind::padding;
        char code = 'f';
        switch (kind) {
            case NpyKind::boolean: code = 'b'; break;
            case NpyKind::signed_integer: code = 'i'; break;
            case NpyKind::unsigned_integer: code = 'u'; break;
            case NpyKind::floating: code = 'f'; break;
            case NpyKind::padding: code = 'V'; break;
        }
        return std::string(1, single ? '|' : '<') + code + std::to_string(size);
    }
    // numpy's dtype name: 'float32', 'int16', 'bool', ...
    std::string name() const {
        switch (kind) {
            case NpyKind::boolean: return "bool";
            case NpyKind::signed_integer: return "int" + std::to_string(8 * size);
            case NpyKind::unsigned_integer: return "uint" + std::to_string(8 * size);
            case NpyKind::floating: return "float" + std::to_string(8 * size);
            case NpyKind::padding: return "void" + std::to_string(8 * size);
        }
        return "?";
    }
    friend bool operator==(const NpyType&, const NpyType&) = default;
};

// A named field of a structured dtype at a byte offset within each item.
struct NpyField {
    std::string name;
    NpyType type;
    std::size_t offset = 0;
};

// Element types the typed API reads and writes.
template <class T>
concept NpyValue = std::same_as<T, bool> || std::same_as<T, float> || std::same_as<T, double> ||
                   (std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char> &&
                    !std::same_as<T, wchar_t> && !std::same_as<T, char8_t> && !std::same_as<T, char16_t> &&
                    !std::same_as<T, char32_t> && (sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8));

template <NpyValue T>
constexpr NpyType npy_type_of() {
    if constexpr (std::same_as<T, bool>) return {NpyKind::boolean, 1};
    else if constexpr (std::floating_point<T>) return {NpyKind::floating, sizeof(T)};
    else if constexpr (std::is_signed_v<T>) return {NpyKind::signed_integer, sizeof(T)};
    else return {NpyKind::unsigned_integer, sizeof(T)};
}

namespace detail {

// Little-endian loads and stores, correct on any host.
template <class U>
U load_le(const std::uint8_t* p) {
    std::uint8_t b[sizeof(U)];
    std::memcpy(b, p, sizeof(U));
    if constexpr (std::endian::native == std::endian::big) std::reverse(b, b + sizeof(U));
    U v;
    std::memcpy(&v, b, sizeof(U));
    return v;
}
template <class U>
void store_le(std::uint8_t* p, U v) {
    std::memcpy(p, &v, sizeof(U));
    if constexpr (std::endian::native == std::endian::big) std::reverse(p, p + sizeof(U));
}
template <class U>
void append_le(std::vector<std::uint8_t>& out, U v) {
    const std::size_t at = out.size();
    out.resize(at + sizeof(U));
    store_le(out.data() + at, v);
}

// Calls f(std::type_identity<S>{}) with S the C++ type stored for `type`.
template <class F>
decltype(auto) visit_npy_type(const NpyType& type, F&& f) {
    switch (type.kind) {
        case NpyKind::boolean: return f(std::type_identity<bool>{});
        case NpyKind::signed_integer:
            if (type.size == 1) return f(std::type_identity<std::int8_t>{});
            if (type.size == 2) return f(std::type_identity<std::int16_t>{});
            if (type.size == 4) return f(std::type_identity<std::int32_t>{});
            return f(std::type_identity<std::int64_t>{});
        case NpyKind::unsigned_integer:
            if (type.size == 1) return f(std::type_identity<std::uint8_t>{});
            if (type.size == 2) return f(std::type_identity<std::uint16_t>{});
            if (type.size == 4) return f(std::type_identity<std::uint32_t>{});
            return f(std::type_identity<std::uint64_t>{});
        case NpyKind::floating:
        case NpyKind::padding:
            if (type.size == 4) return f(std::type_identity<float>{});
            return f(std::type_identity<double>{});
    }
    return f(std::type_identity<double>{});
}

template <class S>
S load_element(const std::uint8_t* p) {
    if constexpr (std::same_as<S, bool>) return *p != 0;
    else return load_le<S>(p);
}

// Converts v to T when T can hold it: integers exactly in range, floats to
// integers only when integral and in range, double to float when finite values
// stay finite, and to bool only from 0 or 1. NaN and infinities pass between
// floating types.
template <class T, class S>
bool checked_convert(S v, T& out) {
    if constexpr (std::same_as<T, S>) {
        out = v;
        return true;
    } else if constexpr (std::same_as<T, bool>) {
        if constexpr (std::same_as<S, bool>) {
            out = v;
            return true;
        } else {
            if (!(v == S(0) || v == S(1))) return false;
            out = v == S(1);
            return true;
        }
    } else if constexpr (std::same_as<S, bool>) {
        out = v ? T(1) : T(0);
        return true;
    } else if constexpr (std::floating_point<T>) {
        if constexpr (std::floating_point<S>) {
            if (std::isfinite(v) && std::fabs(double(v)) > double(std::numeric_limits<T>::max())) return false;
        }
        out = static_cast<T>(v);
        return true;
    } else if constexpr (std::integral<S>) {
        if (!std::in_range<T>(v)) return false;
        out = static_cast<T>(v);
        return true;
    } else {  // floating S to integral T
        if (!std::isfinite(v) || std::trunc(v) != v) return false;
        // Bounds are powers of two (or 0), exact in any floating type.
        const long double lo = static_cast<long double>(std::numeric_limits<T>::min());
        const long double hi = std::ldexp(1.0L, std::numeric_limits<T>::digits);
        const long double x = v;
        if (x < lo || x >= hi) return false;
        out = static_cast<T>(v);
        return true;
    }
}

template <class S>
std::string format_value(S v) {
    if constexpr (std::same_as<S, bool>) {
        return v ? "True" : "False";
    } else if constexpr (std::floating_point<S>) {
        char buffer[64];
        const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
        return std::string(buffer, result.ptr);
    } else {
        return std::to_string(v);
    }
}

template <class T>
std::string_view value_type_name() {
    if constexpr (std::same_as<T, bool>) return "bool";
    else if constexpr (std::same_as<T, float>) return "float32";
    else if constexpr (std::same_as<T, double>) return "float64";
    else if constexpr (std::is_signed_v<T>) {
        if constexpr (sizeof(T) == 1) return "int8";
        else if constexpr (sizeof(T) == 2) return "int16";
        else if constexpr (sizeof(T) == 4) return "int32";
        else return "int64";
    } else {
        if constexpr (sizeof(T) == 1) return "uint8";
        else if constexpr (sizeof(T) == 2) return "uint16";
        else if constexpr (sizeof(T) == 4) return "uint32";
        else return "uint64";
    }
}

inline std::string shape_literal(std::span<const std::size_t> shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    if (shape.size() == 1) s += ",";
    return s + ")";
}

}  // namespace detail

// An array read from a .npy file: shape, dtype and the raw bytes, always in C
// order and little-endian (converted on load when the file was otherwise).
struct NpyArray {
    std::vector<std::size_t> shape;    // () for a scalar
    std::string descr;                 // normalised: '<f4', '|b1', or "[('x', '<i2'), ('t', '<i8')]"
    NpyType type;                      // element type (when not structured)
    std::vector<NpyField> fields;      // structured dtype: named fields (padding omitted)
    std::size_t itemsize = 0;          // bytes per element (structured: per record)
    std::vector<std::uint8_t> data;    // size() * itemsize bytes
    std::string source;                // file (and member) name, for errors

    bool structured() const { return !fields.empty(); }
    std::size_t size() const {
        std::size_t n = 1;
        for (std::size_t d : shape) n *= d;
        return n;
    }
    bool has_field(std::string_view name) const { return find_field(name) != nullptr; }
    const NpyField* find_field(std::string_view name) const {
        for (const auto& f : fields)
            if (f.name == name) return &f;
        return nullptr;
    }

    // All elements converted to T (see detail::checked_convert); a value T cannot
    // hold is an error naming the element and its value.
    template <NpyValue T>
    std::vector<T> as() const {
        if (structured())
            detail::throw_invalid(source, ": structured array with dtype ", descr,
                                  "; read one field with field<T>(name)");
        return convert<T>(type, 0, "element", "");
    }

    // One field of a structured array, converted to T; `noun` names a record in
    // errors ("event 12: field 'x' has value ...").
    template <NpyValue T>
    std::vector<T> field(std::string_view name, std::string_view noun = "record") const {
        const NpyField* f = find_field(name);
        if (!f) {
            std::string names;
            for (const auto& g : fields) names += (names.empty() ? "'" : ", '") + g.name + "'";
            if (names.empty())
                detail::throw_invalid(source, ": field '", name, "': expected a structured array, got dtype ", descr);
            detail::throw_invalid(source, ": field '", name, "': expected one of the fields ", names,
                                  ", got no such field");
        }
        return convert<T>(f->type, f->offset, noun, f->name);
    }

private:
    template <NpyValue T>
    std::vector<T> convert(const NpyType& from, std::size_t offset, std::string_view noun,
                           std::string_view field_name) const {
        const std::size_t n = size();
        std::vector<T> out(n);
        detail::visit_npy_type(from, [&]<class S>(std::type_identity<S>) {
            for (std::size_t i = 0; i < n; ++i) {
                const S v = detail::load_element<S>(data.data() + i * itemsize + offset);
                T converted{};
                if (!detail::checked_convert(v, converted)) {
                    if (field_name.empty())
                        detail::throw_invalid(source, ": ", noun, " ", i, " has value ", detail::format_value(v),
                                              " (", from.name(), "), which ", detail::value_type_name<T>(),
                                              " cannot hold");
                    detail::throw_invalid(source, ": ", noun, " ", i, ": field '", field_name, "' has value ",
                                          detail::format_value(v), " (", from.name(), "), which ",
                                          detail::value_type_name<T>(), " cannot hold");
                }
                out[i] = converted;
            }
        });
        return out;
    }
};

namespace detail {

inline constexpr std::uint8_t npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

// Parses a scalar type string such as '<f4', '>i8', '|b1', 'u2', '|V4'.
// Returns the type and whether its data is big-endian.
inline std::pair<NpyType, bool> parse_npy_scalar_type(const PyLiteral& literal, std::string_view source,
                                                      std::string_view field) {
    const std::string& s = literal.text;
    auto fail = [&]() -> std::pair<NpyType, bool> {
        throw_invalid(source, ": byte ", literal.offset, ": ", field,
                      ": expected a dtype '<f4', '<f8', '|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4', '<u8' or "
                      "'|b1' (either byte order), got '",
                      escape_excerpt(s, 40), "'");
    };
    std::size_t i = 0;
    bool big = std::endian::native == std::endian::big;
    if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) {
        if (s[0] == '<') big = false;
        if (s[0] == '>') big = true;
        i = 1;
    }
    if (i >= s.size()) return fail();
    const char code = s[i++];
    std::size_t size = 0;
    if (i >= s.size() || s.size() - i > 6) return fail();
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') return fail();
        size = size * 10 + std::size_t(s[i] - '0');
    }
    NpyType type;
    type.size = size;
    switch (code) {
        case 'b':
            if (size != 1) return fail();
            type.kind = NpyKind::boolean;
            break;
        case 'i':
        case 'u':
            if (size != 1 && size != 2 && size != 4 && size != 8) return fail();
            type.kind = code == 'i' ? NpyKind::signed_integer : NpyKind::unsigned_integer;
            break;
        case 'f':
            if (size != 4 && size != 8) return fail();
            type.kind = NpyKind::floating;
            break;
        case 'V':
            if (size == 0) return fail();
            type.kind = NpyKind::padding;
            break;
        default:
            return fail();
    }
    return {type, big};
}

struct NpyLayout {
    NpyType type;
    bool big_endian = false;
    std::vector<NpyField> fields;
    std::vector<bool> field_big_endian;
    std::size_t itemsize = 0;
    std::string descr;
};

inline NpyLayout parse_npy_descr(const PyLiteral& descr, std::string_view source) {
    NpyLayout layout;
    if (descr.kind == PyLiteral::Kind::string) {
        auto [type, big] = parse_npy_scalar_type(descr, source, "field 'descr'");
        if (type.kind == NpyKind::padding)
            throw_invalid(source, ": byte ", descr.offset,
                          ": field 'descr': expected a numeric or bool dtype, got a void dtype '", descr.text, "'");
        layout.type = type;
        layout.big_endian = big;
        layout.itemsize = type.size;
        layout.descr = type.descr();
        return layout;
    }
    if (descr.kind != PyLiteral::Kind::list)
        throw_invalid(source, ": byte ", descr.offset,
                      ": field 'descr': expected a dtype string such as '<f4' or a list of (name, dtype) fields, got ",
                      descr.kind_name());
    if (descr.items.empty())
        throw_invalid(source, ": byte ", descr.offset,
                      ": field 'descr': expected at least one (name, dtype) field, got an empty list");
    std::size_t offset = 0;
    layout.descr = "[";
    for (const PyLiteral& item : descr.items) {
        if (item.kind != PyLiteral::Kind::tuple || item.items.size() < 2)
            throw_invalid(source, ": byte ", item.offset,
                          ": field 'descr': expected a (name, dtype) tuple, got ", item.kind_name(),
                          item.kind == PyLiteral::Kind::tuple ? " of " + std::to_string(item.items.size()) + " items"
                                                             : std::string());
        if (item.items.size() != 2)
            throw_invalid(source, ": byte ", item.offset,
                          ": field 'descr': expected a (name, dtype) tuple, got a tuple of ", item.items.size(),
                          " items (subarray fields are not supported)");
        const PyLiteral& name = item.items[0];
        const PyLiteral& type = item.items[1];
        if (name.kind != PyLiteral::Kind::string)
            throw_invalid(source, ": byte ", name.offset, ": field 'descr': expected a field name string, got ",
                          name.kind_name(), name.kind == PyLiteral::Kind::tuple ? " (titled fields are not supported)" : "");
        if (type.kind != PyLiteral::Kind::string)
            throw_invalid(source, ": byte ", type.offset, ": field 'descr': field '", escape_excerpt(name.text, 40),
                          "': expected a scalar dtype string, got ", type.kind_name(),
                          type.kind == PyLiteral::Kind::list ? " (nested structured fields are not supported)" : "");
        auto [scalar, big] = parse_npy_scalar_type(type, source, "field 'descr'");
        if (scalar.kind == NpyKind::padding) {
            if (!name.text.empty())
                throw_invalid(source, ": byte ", type.offset, ": field 'descr': field '", escape_excerpt(name.text, 40),
                              "': expected a numeric or bool dtype, got void '", type.text, "' (only unnamed padding may be void)");
        } else {
            if (name.text.empty())
                throw_invalid(source, ": byte ", name.offset, ": field 'descr': expected a non-empty field name, got ''");
            for (const auto& f : layout.fields)
                if (f.name == name.text)
                    throw_invalid(source, ": byte ", name.offset, ": field 'descr': expected unique field names, got '",
                                  escape_excerpt(name.text, 40), "' twice");
            layout.fields.push_back({name.text, scalar, offset});
            layout.field_big_endian.push_back(big);
        }
        if (layout.descr.size() > 1) layout.descr += ", ";
        layout.descr += "('" + escape_excerpt(name.text, 64) + "', '" + scalar.descr() + "')";
        offset += scalar.size;
    }
    if (layout.fields.empty())
        throw_invalid(source, ": byte ", descr.offset, ": field 'descr': expected at least one named field, got only padding");
    layout.descr += "]";
    layout.itemsize = offset;
    return layout;
}

inline void swap_bytes_in_place(std::uint8_t* p, std::size_t size) { std::reverse(p, p + size); }

}  // namespace detail

// Parses a whole .npy file held in memory. `source` names it in errors. Safe on
// arbitrary bytes (fuzzed): never reads out of bounds or allocates more than
// the input implies.
inline NpyArray parse_npy(std::span<const std::uint8_t> bytes, std::string_view source = "<npy buffer>") {
    using detail::throw_invalid;
    using Kind = detail::PyLiteral::Kind;
    const std::size_t n = bytes.size();
    if (n < 6 || std::memcmp(bytes.data(), detail::npy_magic, 6) != 0) {
        const std::string_view head(reinterpret_cast<const char*>(bytes.data()), std::min<std::size_t>(n, 6));
        throw_invalid(source, ": byte 0: magic: expected '\\x93NUMPY', got '", detail::escape_excerpt(head), "'",
                      n < 6 ? " (file too short)" : "");
    }
    if (n < 8) throw_invalid(source, ": byte 6: version: expected 2 bytes, got end of file");
    const unsigned major = bytes[6], minor = bytes[7];
    if (major < 1 || major > 3 || minor != 0)
        throw_invalid(source, ": byte 6: version: expected 1.0, 2.0 or 3.0, got ", major, ".", minor);
    const std::size_t length_bytes = major == 1 ? 2 : 4;
    if (n < 8 + length_bytes)
        throw_invalid(source, ": byte 8: header length: expected ", length_bytes, " bytes, got end of file");
    const std::size_t header_len = major == 1 ? std::size_t(detail::load_le<std::uint16_t>(bytes.data() + 8))
                                              : std::size_t(detail::load_le<std::uint32_t>(bytes.data() + 8));
    const std::size_t header_start = 8 + length_bytes;
    if (header_len > n - header_start)
        throw_invalid(source, ": byte 8: header length: expected at most ", n - header_start,
                      " (the rest of the file), got ", header_len);
    const std::string_view header(reinterpret_cast<const char*>(bytes.data() + header_start), header_len);
    const detail::PyLiteral dict = detail::parse_python_literal(header, header_start, source, "header", major < 3);
    if (dict.kind != Kind::dict)
        throw_invalid(source, ": byte ", dict.offset, ": header: expected a dict literal {...}, got ", dict.kind_name());

    const detail::PyLiteral* descr = nullptr;
    const detail::PyLiteral* fortran = nullptr;
    const detail::PyLiteral* shape = nullptr;
    for (std::size_t i = 0; i + 1 < dict.items.size(); i += 2) {
        const detail::PyLiteral& key = dict.items[i];
        if (key.kind != Kind::string)
            throw_invalid(source, ": byte ", key.offset, ": header: expected keys 'descr', 'fortran_order', 'shape', got ",
                          key.kind_name());
        const detail::PyLiteral** slot = key.text == "descr"           ? &descr
                                         : key.text == "fortran_order" ? &fortran
                                         : key.text == "shape"         ? &shape
                                                                       : nullptr;
        if (!slot)
            throw_invalid(source, ": byte ", key.offset, ": header: expected keys 'descr', 'fortran_order', 'shape', got '",
                          detail::escape_excerpt(key.text, 40), "'");
        if (*slot) throw_invalid(source, ": byte ", key.offset, ": header: field '", key.text, "': expected once, got twice");
        *slot = &dict.items[i + 1];
    }
    for (auto [slot, name] : {std::pair{descr, "descr"}, std::pair{fortran, "fortran_order"}, std::pair{shape, "shape"}})
        if (!slot) throw_invalid(source, ": byte ", dict.offset, ": header: field '", name, "': expected, got none");

    if (fortran->kind != Kind::boolean)
        throw_invalid(source, ": byte ", fortran->offset, ": field 'fortran_order': expected True or False, got ",
                      fortran->kind_name());
    if (shape->kind != Kind::tuple)
        throw_invalid(source, ": byte ", shape->offset, ": field 'shape': expected a tuple of non-negative integers, got ",
                      shape->kind_name());

    NpyArray array;
    array.source = std::string(source);
    detail::NpyLayout layout = detail::parse_npy_descr(*descr, source);
    array.type = layout.type;
    array.fields = layout.fields;
    array.itemsize = layout.itemsize;
    array.descr = layout.descr;

    // Element count and byte size with overflow checks before any allocation.
    std::size_t count = 1;
    bool overflow = false;
    for (const detail::PyLiteral& d : shape->items) {
        if (d.kind != Kind::integer || d.negative)
            throw_invalid(source, ": byte ", d.offset, ": field 'shape': expected a tuple of non-negative integers, got ",
                          d.kind == Kind::integer ? "-" + std::to_string(d.magnitude) : std::string(d.kind_name()));
        if (d.magnitude > std::numeric_limits<std::size_t>::max())
            throw_invalid(source, ": byte ", d.offset, ": field 'shape': dimension ", d.magnitude, " is too large");
        array.shape.push_back(std::size_t(d.magnitude));
        if (d.magnitude != 0 && count > std::numeric_limits<std::size_t>::max() / d.magnitude) overflow = true;
        else count *= std::size_t(d.magnitude);
    }
    for (std::size_t d : array.shape)
        if (d == 0) overflow = false, count = 0;
    const std::size_t data_start = header_start + header_len;
    const std::size_t available = n - data_start;
    if (overflow || (array.itemsize != 0 && count > available / array.itemsize) ||
        count * array.itemsize != available)
        throw_invalid(source, ": byte ", data_start, ": data: expected ",
                      overflow ? std::string("an impossible size (the shape overflows)")
                               : std::to_string(count) + " x " + std::to_string(array.itemsize) + " = " +
                                     std::to_string(count * array.itemsize) + " bytes",
                      " for shape ", detail::shape_literal(array.shape), " and dtype ", array.descr, ", got ", available,
                      " bytes");

    const std::uint8_t* raw = bytes.data() + data_start;
    array.data.assign(raw, raw + available);

    // Byte order: normalise to little-endian.
    constexpr bool host_little = std::endian::native == std::endian::little;
    if (!array.structured()) {
        if (array.type.size > 1 && layout.big_endian == host_little)
            for (std::size_t i = 0; i < count; ++i) detail::swap_bytes_in_place(array.data.data() + i * array.itemsize, array.itemsize);
    } else {
        for (std::size_t f = 0; f < array.fields.size(); ++f) {
            const NpyField& field = array.fields[f];
            if (field.type.size > 1 && layout.field_big_endian[f] == host_little)
                for (std::size_t i = 0; i < count; ++i)
                    detail::swap_bytes_in_place(array.data.data() + i * array.itemsize + field.offset, field.type.size);
        }
    }

    // Fortran order: element (i0, i1, ..., ik) lives at i0 + d0*(i1 + d1*(...)); copy into C order.
    if (fortran->boolean && array.shape.size() > 1 && count > 1) {
        std::vector<std::uint8_t> c_order(array.data.size());
        const std::size_t rank = array.shape.size();
        std::vector<std::size_t> index(rank, 0), fortran_stride(rank, 1);
        for (std::size_t k = 1; k < rank; ++k) fortran_stride[k] = fortran_stride[k - 1] * array.shape[k - 1];
        for (std::size_t c = 0; c < count; ++c) {
            std::size_t f = 0;
            for (std::size_t k = 0; k < rank; ++k) f += index[k] * fortran_stride[k];
            std::memcpy(c_order.data() + c * array.itemsize, array.data.data() + f * array.itemsize, array.itemsize);
            for (std::size_t k = rank; k-- > 0;) {  // next C-order index: last axis fastest
                if (++index[k] < array.shape[k]) break;
                index[k] = 0;
            }
        }
        array.data = std::move(c_order);
    }
    return array;
}

inline NpyArray read_npy(const std::filesystem::path& path) {
    const std::vector<std::uint8_t> bytes = detail::read_file_bytes(path, "npy file");
    return parse_npy(bytes, path.string());
}

namespace detail {

// The .npy header for a C-order little-endian array: version 1.0 when it fits,
// else 2.0; padded with spaces and a final newline to a multiple of 64 bytes.
inline std::vector<std::uint8_t> npy_header(std::string_view descr, std::span<const std::size_t> shape) {
    std::string dict = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + shape_literal(shape) + ", }";
    std::vector<std::uint8_t> out(npy_magic, npy_magic + 6);
    for (int version = 1; version <= 2; ++version) {
        const std::size_t prefix = version == 1 ? 10 : 12;
        const std::size_t unpadded = prefix + dict.size() + 1;
        const std::size_t total = (unpadded + 63) / 64 * 64;
        const std::size_t header_len = total - prefix;
        if (version == 1 && header_len > 0xffff) continue;
        out.push_back(std::uint8_t(version));
        out.push_back(0);
        if (version == 1) append_le(out, std::uint16_t(header_len));
        else append_le(out, std::uint32_t(header_len));
        std::string text = dict;
        text.resize(header_len - 1, ' ');
        text.push_back('\n');
        out.insert(out.end(), text.begin(), text.end());
        return out;
    }
    throw_invalid("npy: header of ", dict.size(), " bytes exceeds format 2.0's limit");
}

inline std::size_t checked_count(std::span<const std::size_t> shape, std::size_t data_size, std::string_view what) {
    std::size_t count = 1;
    for (std::size_t d : shape) {
        if (d != 0 && count > std::numeric_limits<std::size_t>::max() / d)
            throw_invalid(what, ": shape ", shape_literal(shape), " overflows");
        count *= d;
    }
    if (count != data_size)
        throw_invalid(what, ": shape ", shape_literal(shape), " holds ", count, " elements, got ", data_size, " values");
    return count;
}

}  // namespace detail

// The bytes of a .npy file holding `data` with `shape` (C order); shape {} is a scalar.
template <NpyValue T>
std::vector<std::uint8_t> encode_npy(std::span<const T> data, std::vector<std::size_t> shape) {
    detail::checked_count(shape, data.size(), "encode_npy");
    std::vector<std::uint8_t> out = detail::npy_header(npy_type_of<T>().descr(), shape);
    const std::size_t start = out.size();
    out.resize(start + data.size() * sizeof(T));
    std::uint8_t* p = out.data() + start;
    for (std::size_t i = 0; i < data.size(); ++i, p += sizeof(T)) {
        if constexpr (std::same_as<T, bool>) *p = data[i] ? 1 : 0;
        else detail::store_le(p, data[i]);
    }
    return out;
}

// Writes `data` with `shape` to `path` atomically (temp file + rename).
//   write_npy("w.npy", std::span<const float>(weights), {num_pre, num_post});
template <std::ranges::contiguous_range R>
    requires NpyValue<std::remove_cv_t<std::ranges::range_value_t<R>>>
void write_npy(const std::filesystem::path& path, const R& data, std::vector<std::size_t> shape) {
    using T = std::remove_cv_t<std::ranges::range_value_t<R>>;
    const std::span<const T> values(std::ranges::data(data), std::ranges::size(data));
    detail::checked_count(shape, values.size(), "npy file '" + path.string() + "'");
    const std::vector<std::uint8_t> bytes = encode_npy<T>(values, std::move(shape));
    detail::write_bytes_atomically(path, bytes.data(), bytes.size(), "npy file");
}

}  // namespace spikegraph
