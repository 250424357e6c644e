#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <spikegraph/error.hpp>

namespace spikegraph::detail {

// A Python literal as found in a .npy header: the dict numpy writes with
// repr(), e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3,), }.
struct PyLiteral {
    enum class Kind { string, integer, boolean, none, tuple, list, dict };
    Kind kind = Kind::none;
    std::size_t offset = 0;        // absolute byte offset of the literal (for errors)
    std::string text;              // string: value, UTF-8
    bool negative = false;         // integer: sign and magnitude
    std::uint64_t magnitude = 0;
    bool boolean = false;
    std::vector<PyLiteral> items;  // tuple/list elements; dict: key0, value0, key1, value1, ...

    std::string_view kind_name() const {
        switch (kind) {
            case Kind::string: return "a string";
            case Kind::integer: return "an integer";
            case Kind::boolean: return "a boolean";
            case Kind::none: return "None";
            case Kind::tuple: return "a tuple";
            case Kind::list: return "a list";
            case Kind::dict: return "a dict";
        }
        return "a value";
    }
};

// Printable excerpt of raw bytes for "got ..." in messages (non-printables escaped).
inline std::string escape_excerpt(std::string_view bytes, std::size_t max_chars = 24) {
    std::string out;
    static const char digits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < bytes.size() && i < max_chars; ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c >= 0x20 && c < 0x7f) out.push_back(char(c));
        else {
            out += "\\x";
            out.push_back(digits[c >> 4]);
            out.push_back(digits[c & 15]);
        }
    }
    if (bytes.size() > max_chars) out += "...";
    return out;
}

// Recursive-descent parser for the literal subset numpy headers use: strings
// ('..', "..", optional u/b prefix), integers (optional sign, Python 2 'L'
// suffix), True/False/None, tuples (incl. (3,) and ()), lists and dicts, with
// trailing commas and any whitespace. Errors name the source, the absolute
// byte offset, `what` is being parsed, what was expected and what was found.
class PyLiteralParser {
public:
    static constexpr int max_depth = 32;

    PyLiteralParser(std::string_view text, std::size_t base_offset, std::string_view source, std::string_view what,
                    bool latin1)
        : text_(text), base_(base_offset), source_(source), what_(what), latin1_(latin1) {}

    // The literal spanning all of the text (surrounding whitespace allowed).
    PyLiteral parse_all() {
        PyLiteral value = parse_value();
        skip_space();
        if (pos_ != text_.size()) fail(pos_, "end of the literal");
        return value;
    }

private:
    [[noreturn]] void fail(std::size_t at, std::string_view expected) const {
        const std::string got = at >= text_.size() ? std::string("end of header")
                                                   : "'" + escape_excerpt(text_.substr(at)) + "'";
        throw_invalid(source_, ": byte ", base_ + at, ": ", what_, ": expected ", expected, ", got ", got);
    }

    bool at_end() const { return pos_ >= text_.size(); }
    char peek(std::size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

    void skip_space() {
        while (!at_end()) {
            const char c = text_[pos_];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') ++pos_;
            else break;
        }
    }

    static bool is_identifier_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }

    PyLiteral parse_value() {
        skip_space();
        if (at_end()) fail(pos_, "a value");
        if (depth_ >= max_depth) fail(pos_, "literals nested at most 32 deep");
        const char c = peek();
        if (c == '\'' || c == '"') return parse_string();
        if ((c == 'u' || c == 'U' || c == 'b' || c == 'B') && (peek(1) == '\'' || peek(1) == '"')) {
            ++pos_;
            PyLiteral s = parse_string();
            s.offset -= 1;
            return s;
        }
        if (c == '(' || c == '[') return parse_sequence();
        if (c == '{') return parse_dict();
        if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return parse_integer();
        if (is_identifier_char(c)) return parse_name();
        fail(pos_, "a value (string, integer, True/False/None, tuple, list or dict)");
    }

    PyLiteral parse_name() {
        const std::size_t start = pos_;
        while (!at_end() && is_identifier_char(peek())) ++pos_;
        const std::string_view word = text_.substr(start, pos_ - start);
        PyLiteral v;
        v.offset = base_ + start;
        if (word == "True" || word == "False") {
            v.kind = PyLiteral::Kind::boolean;
            v.boolean = word == "True";
        } else if (word == "None") {
            v.kind = PyLiteral::Kind::none;
        } else {
            fail(start, "a value (string, integer, True/False/None, tuple, list or dict)");
        }
        return v;
    }

    void append_codepoint(std::string& out, unsigned code) const {
        if (code < 0x80) {
            out.push_back(char(code));
        } else {  // code < 0x100 here (latin-1 bytes or \xHH escapes)
            out.push_back(char(0xc0 | (code >> 6)));
            out.push_back(char(0x80 | (code & 0x3f)));
        }
    }

    PyLiteral parse_string() {
        PyLiteral v;
        v.kind = PyLiteral::Kind::string;
        v.offset = base_ + pos_;
        const std::size_t start = pos_;
        const char quote = text_[pos_++];
        for (;;) {
            if (at_end()) fail(start, "a string closed by its quote");
            const char c = text_[pos_];
            if (c == quote) {
                ++pos_;
                return v;
            }
            if (c == '\n') fail(pos_, "the closing quote before the end of the line");
            if (c == '\\') {
                const char e = peek(1);
                pos_ += 2;
                switch (e) {
                    case '\\': v.text.push_back('\\'); break;
                    case '\'': v.text.push_back('\''); break;
                    case '"': v.text.push_back('"'); break;
                    case 'n': v.text.push_back('\n'); break;
                    case 't': v.text.push_back('\t'); break;
                    case 'r': v.text.push_back('\r'); break;
                    case '0': v.text.push_back('\0'); break;
                    case 'x': {
                        auto hex = [&](char h) -> int {
                            if (h >= '0' && h <= '9') return h - '0';
                            if (h >= 'a' && h <= 'f') return h - 'a' + 10;
                            if (h >= 'A' && h <= 'F') return h - 'A' + 10;
                            return -1;
                        };
                        const int hi = hex(peek()), lo = hex(peek(1));
                        if (hi < 0 || lo < 0) fail(pos_, "two hex digits after \\x");
                        pos_ += 2;
                        append_codepoint(v.text, unsigned(hi * 16 + lo));
                        break;
                    }
                    case '\0':
                        fail(pos_ - 1, "an escape sequence after the backslash");
                    default:  // Python keeps unknown escapes verbatim
                        v.text.push_back('\\');
                        v.text.push_back(e);
                }
                continue;
            }
            const auto byte = static_cast<unsigned char>(c);
            if (latin1_ && byte >= 0x80) append_codepoint(v.text, byte);
            else v.text.push_back(c);
            ++pos_;
        }
    }

    PyLiteral parse_integer() {
        PyLiteral v;
        v.kind = PyLiteral::Kind::integer;
        v.offset = base_ + pos_;
        const std::size_t start = pos_;
        if (peek() == '-' || peek() == '+') {
            v.negative = peek() == '-';
            ++pos_;
            skip_space();
        }
        if (!(peek() >= '0' && peek() <= '9')) fail(start, "an integer");
        bool last_digit = false;
        while (!at_end()) {
            const char c = peek();
            if (c >= '0' && c <= '9') {
                const std::uint64_t digit = std::uint64_t(c - '0');
                if (v.magnitude > (UINT64_MAX - digit) / 10) fail(start, "an integer below 2^64");
                v.magnitude = v.magnitude * 10 + digit;
                last_digit = true;
                ++pos_;
            } else if (c == '_' && last_digit && peek(1) >= '0' && peek(1) <= '9') {
                last_digit = false;
                ++pos_;
            } else {
                break;
            }
        }
        if (peek() == 'L' || peek() == 'l') ++pos_;  // Python 2 long, written by old numpy
        if (is_identifier_char(peek()) || peek() == '.') fail(start, "an integer");
        if (v.magnitude == 0) v.negative = false;
        return v;
    }

    PyLiteral parse_sequence() {
        PyLiteral v;
        const char open = text_[pos_];
        const char close = open == '(' ? ')' : ']';
        v.kind = open == '(' ? PyLiteral::Kind::tuple : PyLiteral::Kind::list;
        v.offset = base_ + pos_;
        ++pos_;
        ++depth_;
        bool comma = false;
        for (;;) {
            skip_space();
            if (peek() == close) {
                ++pos_;
                break;
            }
            if (!v.items.empty() && !comma) fail(pos_, open == '(' ? "',' or ')'" : "',' or ']'");
            if (at_end()) fail(pos_, open == '(' ? "a value or ')'" : "a value or ']'");
            v.items.push_back(parse_value());
            skip_space();
            comma = peek() == ',';
            if (comma) ++pos_;
            else if (peek() != close) fail(pos_, open == '(' ? "',' or ')'" : "',' or ']'");
        }
        --depth_;
        // "(x)" is x in parentheses, not a tuple; "(x,)" is a tuple.
        if (open == '(' && v.items.size() == 1 && !comma) return std::move(v.items.front());
        return v;
    }

    PyLiteral parse_dict() {
        PyLiteral v;
        v.kind = PyLiteral::Kind::dict;
        v.offset = base_ + pos_;
        ++pos_;
        ++depth_;
        bool comma = false;
        for (;;) {
            skip_space();
            if (peek() == '}') {
                ++pos_;
                break;
            }
            if (!v.items.empty() && !comma) fail(pos_, "',' or '}'");
            if (at_end()) fail(pos_, "a key or '}'");
            v.items.push_back(parse_value());
            skip_space();
            if (peek() != ':') fail(pos_, "':' after a dict key");
            ++pos_;
            v.items.push_back(parse_value());
            skip_space();
            comma = peek() == ',';
            if (comma) ++pos_;
            else if (peek() != '}') fail(pos_, "',' or '}'");
        }
        --depth_;
        return v;
    }

    std::string_view text_;
    std::size_t base_;
    std::string_view source_;
    std::string_view what_;
    bool latin1_;
    std::size_t pos_ = 0;
    int depth_ = 0;
};

// Parses `text` (found at byte base_offset of `source`) as one Python literal.
inline PyLiteral parse_python_literal(std::string_view text, std::size_t base_offset, std::string_view source,
                                      std::string_view what, bool latin1 = false) {
    return PyLiteralParser(text, base_offset, source, what, latin1).parse_all();
}

}  // namespace spikegraph::detail
