#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <spikegraph/error.hpp>

namespace spikegraph::detail {

// Bounds-checked reader of big-endian fields in a byte buffer, for binary
// file readers. Every error names the source (e.g. "'t10k-images.gz'
// (gunzipped)"), the byte offset, the field, what was expected and what was
// there, so a bad file can be found and fixed with a hex dump.
class ByteCursor {
public:
    ByteCursor(std::span<const std::uint8_t> bytes, std::string source)
        : bytes_(bytes), source_(std::move(source)) {}

    const std::string& source() const { return source_; }
    std::size_t offset() const { return offset_; }
    std::size_t size() const { return bytes_.size(); }
    std::size_t remaining() const { return bytes_.size() - offset_; }
    bool at_end() const { return offset_ == bytes_.size(); }

    // Throws unless `count` more bytes are there for `field`.
    void require(std::size_t count, std::string_view field) const {
        if (count > remaining())
            throw_invalid(source_, ": truncated at byte ", offset_, " reading ", field, ": expected ", count,
                          count == 1 ? " byte" : " bytes", ", got ", remaining(), " (the data ends at byte ",
                          bytes_.size(), ")");
    }

    std::uint8_t u8(std::string_view field) {
        require(1, field);
        return bytes_[offset_++];
    }

    std::uint32_t be_u32(std::string_view field) {
        require(4, field);
        std::uint32_t value = 0;
        for (std::size_t i = 0; i < 4; ++i) value = (value << 8) | bytes_[offset_ + i];
        offset_ += 4;
        return value;
    }

    // The next `count` bytes, unconverted.
    std::span<const std::uint8_t> take(std::size_t count, std::string_view field) {
        require(count, field);
        const auto out = bytes_.subspan(offset_, count);
        offset_ += count;
        return out;
    }

    // "<source>: <field> at byte <offset>: <parts...>", for a field that was
    // read but holds a bad value; `offset` is where that field starts.
    template <class... Parts>
    [[noreturn]] void fail_at(std::size_t offset, std::string_view field, Parts&&... parts) const {
        throw_invalid(source_, ": ", field, " at byte ", offset, ": ", std::forward<Parts>(parts)...);
    }

private:
    std::span<const std::uint8_t> bytes_;
    std::string source_;
    std::size_t offset_ = 0;
};

// Two hexadecimal digits, "0x0D", for type codes and magic bytes in messages.
inline std::string hex_byte(std::uint8_t value) {
    constexpr char digits[] = "0123456789ABCDEF";
    return std::string{'0', 'x', digits[value >> 4], digits[value & 0x0F]};
}

}  // namespace spikegraph::detail
