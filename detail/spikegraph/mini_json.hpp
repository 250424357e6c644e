#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <spikegraph/error.hpp>
#include <spikegraph/python_literal.hpp>

// The small JSON subset checkpoint manifests need: objects, arrays, strings,
// non-negative integers, true/false/null. Strict (RFC 8259 syntax for what it
// accepts), depth-limited, and every error names the source and byte offset.

namespace spikegraph::detail {

struct JsonValue {
    enum class Kind { null, boolean, integer, string, array, object };
    Kind kind = Kind::null;
    std::size_t offset = 0;
    bool boolean = false;
    std::uint64_t integer = 0;
    std::string text;
    std::vector<JsonValue> items;    // array
    std::vector<std::string> keys;   // object: keys[i] names values[i], in order
    std::vector<JsonValue> values;   // (parallel vectors: a pair would need JsonValue complete here)

    const JsonValue* find(std::string_view key) const {
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (keys[i] == key) return &values[i];
        return nullptr;
    }
    std::string_view kind_name() const {
        switch (kind) {
            case Kind::null: return "null";
            case Kind::boolean: return "a boolean";
            case Kind::integer: return "an integer";
            case Kind::string: return "a string";
            case Kind::array: return "an array";
            case Kind::object: return "an object";
        }
        return "a value";
    }
};

inline std::string json_quote(std::string_view s) {
    std::string out = "\"";
    static const char digits[] = "0123456789abcdef";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"') out += "\\\"";
        else if (c == '\\') out += "\\\\";
        else if (u < 0x20) {
            out += "\\u00";
            out.push_back(digits[u >> 4]);
            out.push_back(digits[u & 15]);
        } else out.push_back(c);
    }
    return out + "\"";
}

class JsonParser {
public:
    JsonParser(std::string_view text, std::string_view source) : text_(text), source_(source) {}

    JsonValue parse() {
        JsonValue v = value(0);
        space();
        if (pos_ != text_.size()) fail(pos_, "the end of the JSON text");
        return v;
    }

private:
    [[noreturn]] void fail(std::size_t at, std::string_view expected) const {
        const std::string got = at >= text_.size() ? std::string("end of text") : "'" + escape_excerpt(text_.substr(at)) + "'";
        throw_invalid(source_, ": byte ", at, ": expected ", expected, ", got ", got);
    }
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    void space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
            ++pos_;
    }
    void expect_word(std::string_view word) {
        if (text_.substr(pos_, word.size()) != word) fail(pos_, "a JSON value");
        pos_ += word.size();
    }

    JsonValue value(int depth) {
        space();
        if (depth > 32) fail(pos_, "JSON nested at most 32 deep");
        JsonValue v;
        v.offset = pos_;
        const char c = peek();
        if (c == '{') {
            v.kind = JsonValue::Kind::object;
            ++pos_;
            space();
            if (peek() == '}') {
                ++pos_;
                return v;
            }
            for (;;) {
                space();
                if (peek() != '"') fail(pos_, "a string key");
                std::string key = string();
                space();
                if (peek() != ':') fail(pos_, "':'");
                ++pos_;
                for (const auto& k : v.keys)
                    if (k == key) fail(pos_, "unique keys (\"" + key + "\" repeats)");
                v.keys.push_back(std::move(key));
                v.values.push_back(value(depth + 1));
                space();
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                if (peek() == '}') {
                    ++pos_;
                    return v;
                }
                fail(pos_, "',' or '}'");
            }
        }
        if (c == '[') {
            v.kind = JsonValue::Kind::array;
            ++pos_;
            space();
            if (peek() == ']') {
                ++pos_;
                return v;
            }
            for (;;) {
                v.items.push_back(value(depth + 1));
                space();
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                if (peek() == ']') {
                    ++pos_;
                    return v;
                }
                fail(pos_, "',' or ']'");
            }
        }
        if (c == '"') {
            v.kind = JsonValue::Kind::string;
            v.text = string();
            return v;
        }
        if (c >= '0' && c <= '9') {
            v.kind = JsonValue::Kind::integer;
            if (c == '0' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' && text_[pos_ + 1] <= '9')
                fail(pos_, "an integer without leading zeros");
            while (peek() >= '0' && peek() <= '9') {
                const std::uint64_t digit = std::uint64_t(peek() - '0');
                if (v.integer > (UINT64_MAX - digit) / 10) fail(v.offset, "an integer below 2^64");
                v.integer = v.integer * 10 + digit;
                ++pos_;
            }
            if (peek() == '.' || peek() == 'e' || peek() == 'E') fail(v.offset, "an integer");
            return v;
        }
        if (c == 't' || c == 'f') {
            v.kind = JsonValue::Kind::boolean;
            v.boolean = c == 't';
            expect_word(c == 't' ? "true" : "false");
            return v;
        }
        if (c == 'n') {
            expect_word("null");
            return v;
        }
        fail(pos_, c == '-' ? "a non-negative integer" : "a JSON value");
    }

    std::string string() {
        const std::size_t start = pos_;
        ++pos_;
        std::string out;
        for (;;) {
            if (pos_ >= text_.size()) fail(start, "a string closed by '\"'");
            const char c = text_[pos_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) fail(pos_ - 1, "no control characters in a string");
            if (c != '\\') {
                out.push_back(c);
                continue;
            }
            const char e = peek();
            ++pos_;
            switch (e) {
                case '"': out.push_back('"'); break;
                case '\\': out.push_back('\\'); break;
                case '/': out.push_back('/'); break;
                case 'b': out.push_back('\b'); break;
                case 'f': out.push_back('\f'); break;
                case 'n': out.push_back('\n'); break;
                case 'r': out.push_back('\r'); break;
                case 't': out.push_back('\t'); break;
                case 'u': {
                    unsigned code = 0;
                    for (int k = 0; k < 4; ++k) {
                        const char h = peek();
                        const int d = (h >= '0' && h <= '9') ? h - '0'
                                      : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                                      : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                                               : -1;
                        if (d < 0) fail(pos_, "four hex digits after \\u");
                        code = code * 16 + unsigned(d);
                        ++pos_;
                    }
                    // Basic Multilingual Plane only: names are plain words; surrogates are rejected.
                    if (code >= 0xd800 && code < 0xe000) fail(pos_ - 6, "a \\u escape outside the surrogate range");
                    if (code < 0x80) out.push_back(char(code));
                    else if (code < 0x800) {
                        out.push_back(char(0xc0 | (code >> 6)));
                        out.push_back(char(0x80 | (code & 0x3f)));
                    } else {
                        out.push_back(char(0xe0 | (code >> 12)));
                        out.push_back(char(0x80 | ((code >> 6) & 0x3f)));
                        out.push_back(char(0x80 | (code & 0x3f)));
                    }
                    break;
                }
                default:
                    fail(pos_ - 1, "a JSON escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
            }
        }
    }

    std::string_view text_;
    std::string_view source_;
    std::size_t pos_ = 0;
};

inline JsonValue parse_json(std::string_view text, std::string_view source) { return JsonParser(text, source).parse(); }

}  // namespace spikegraph::detail
