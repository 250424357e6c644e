#pragma once
#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <zlib.h>

#include <spikegraph/byte_cursor.hpp>
#include <spikegraph/error.hpp>

// gzip decompression through zlib. Only headers that read gzip'd files include
// this, so only their users link zlib (CMake target spikegraph::zlib).

namespace spikegraph::detail {

// Decompressed data larger than this is refused: a corrupt or hostile file
// must fail with a message, not exhaust memory (a 64 KiB gzip member can
// inflate to 64 MiB). The full Fashion-MNIST training images are 47 MB.
inline constexpr std::size_t default_max_decompressed_bytes = std::size_t{1} << 31;  // 2 GiB

inline bool has_gzip_magic(std::span<const std::uint8_t> bytes) {
    return bytes.size() >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B;
}

// Inflates a gzip file held in memory: one or more concatenated gzip members
// (as `cat a.gz b.gz` or gzopen(..., "ab") produce; gunzip(1) reads them as one
// stream), each checked against its CRC-32 and length. `source` names the
// data in errors; offsets in errors are in the compressed bytes. Anything
// after the last member other than another member is an error (gunzip(1)
// would warn and ignore it; silently dropping data is worse here).
inline std::vector<std::uint8_t> gunzip(std::span<const std::uint8_t> in, std::string_view source,
                                        std::size_t max_bytes = default_max_decompressed_bytes) {
    if (!has_gzip_magic(in)) {
        std::string got = in.empty() ? std::string("the end of the data") : hex_byte(in[0]);
        if (in.size() >= 2) got.append(" ").append(hex_byte(in[1]));
        throw_invalid(source, ": not gzip data: expected the gzip magic 0x1F 0x8B at byte 0, got ", got);
    }
    z_stream stream{};
    // 15 + 32: the largest window, with automatic gzip/zlib header detection.
    if (const int status = inflateInit2(&stream, 15 + 32); status != Z_OK) {
        if (status == Z_MEM_ERROR) throw std::bad_alloc();
        throw Error(concat_message(source, ": zlib inflateInit2 failed (", status, ")"));
    }
    struct End {
        z_stream* stream;
        ~End() { inflateEnd(stream); }
    } end{&stream};

    // The buffer grows to at most one byte past the cap, which detects "too large".
    const std::size_t limit = max_bytes == SIZE_MAX ? SIZE_MAX : max_bytes + 1;
    std::vector<std::uint8_t> out(std::min(limit, std::max<std::size_t>(std::size_t{1} << 16, in.size() * 4)));
    std::size_t in_pos = 0;
    std::size_t out_pos = 0;
    std::size_t member_start = 0;
    for (;;) {
        // out_pos <= max_bytes < limit here, so a full buffer can always grow.
        if (out_pos == out.size()) out.resize(out.size() > limit / 2 ? limit : out.size() * 2);
        const std::size_t give_in = std::min<std::size_t>(in.size() - in_pos, UINT_MAX);
        const std::size_t give_out = std::min<std::size_t>(out.size() - out_pos, UINT_MAX);
        // zlib's API is not const-correct; inflate never writes to its input.
        stream.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(in.data() + in_pos));
        stream.avail_in = static_cast<uInt>(give_in);
        stream.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
        stream.avail_out = static_cast<uInt>(give_out);
        const int status = inflate(&stream, Z_NO_FLUSH);
        in_pos += give_in - stream.avail_in;
        out_pos += give_out - stream.avail_out;
        if (out_pos > max_bytes)
            throw_invalid(source, ": gzip data decompresses to more than ", max_bytes,
                          " bytes, the limit (reached at compressed byte ", in_pos, ")");

        if (status == Z_STREAM_END) {
            if (in_pos == in.size()) break;
            if (!has_gzip_magic(in.subspan(in_pos)))
                throw_invalid(source, ": trailing data after the gzip member that ends at byte ", in_pos,
                              ": expected another gzip member (0x1F 0x8B) or the end of the file, got ",
                              in.size() - in_pos, in.size() - in_pos == 1 ? " byte" : " bytes", " starting with ",
                              hex_byte(in[in_pos]));
            member_start = in_pos;
            if (inflateReset(&stream) != Z_OK) throw Error(concat_message(source, ": zlib inflateReset failed"));
            continue;
        }
        if (status == Z_DATA_ERROR || status == Z_NEED_DICT)
            throw_invalid(source, ": corrupt gzip data: ", stream.msg ? stream.msg : "invalid data",
                          " (at compressed byte ", in_pos, ", in the member starting at byte ", member_start, ")");
        if (status == Z_MEM_ERROR) throw std::bad_alloc();
        // Z_BUF_ERROR: no progress possible. Output space is never zero here,
        // so the input ran out before the member's end.
        if (status == Z_BUF_ERROR && in_pos == in.size())
            throw_invalid(source, ": truncated gzip stream at byte ", in_pos,
                          ": the data ends inside the gzip member that starts at byte ", member_start);
        if (status != Z_OK) throw Error(concat_message(source, ": zlib inflate failed (", status, ")"));
    }
    out.resize(out_pos);
    out.shrink_to_fit();
    return out;
}

}  // namespace spikegraph::detail
