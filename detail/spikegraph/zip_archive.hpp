#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <zlib.h>

#include <spikegraph/error.hpp>
#include <spikegraph/python_literal.hpp>

// ZIP archives as .npz uses them (PKWARE APPNOTE 6.3): reading stored and
// deflated members, with ZIP64 sizes/offsets and data descriptors, validating
// sizes and CRC-32; writing stored members (no compression) with ZIP64 records
// for members or offsets past 4 GiB. Needs zlib (link spikegraph::zlib).

namespace spikegraph::detail {

inline constexpr std::uint32_t zip_local_signature = 0x04034b50;
inline constexpr std::uint32_t zip_central_signature = 0x02014b50;
inline constexpr std::uint32_t zip_end_signature = 0x06054b50;
inline constexpr std::uint32_t zip64_end_signature = 0x06064b50;
inline constexpr std::uint32_t zip64_locator_signature = 0x07064b50;
inline constexpr std::uint64_t zip32_limit = 0xffffffffu;

// zlib's crc32 takes 32-bit lengths: feed large buffers in pieces.
inline std::uint32_t zip_crc32(std::span<const std::uint8_t> data, std::uint32_t crc = 0) {
    uLong value = crc;
    const std::uint8_t* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
        const std::size_t piece = std::min<std::size_t>(left, std::size_t(1) << 30);
        value = ::crc32(value, p, static_cast<uInt>(piece));
        p += piece;
        left -= piece;
    }
    return static_cast<std::uint32_t>(value);
}

struct ZipMember {
    std::string name;
    std::vector<std::uint8_t> data;  // uncompressed
};

class ZipReader {
public:
    ZipReader(std::span<const std::uint8_t> bytes, std::string_view source) : bytes_(bytes), source_(source) {}

    std::vector<ZipMember> read() {
        const std::size_t end = find_end_record();
        std::uint64_t entries = u16(end + 10);
        std::uint64_t cd_size = u32(end + 12);
        std::uint64_t cd_offset = u32(end + 16);
        if (u16(end + 4) != 0 || u16(end + 6) != 0 || u16(end + 8) != u16(end + 10))
            fail(end, "", "end of central directory: expected a single-disk archive, got disk numbers ",
                 u16(end + 4), "/", u16(end + 6));
        std::size_t directory_limit = end;  // the central directory ends before this
        if (end >= 20 && u32(end - 20) == zip64_locator_signature) {
            const std::size_t locator = end - 20;
            const std::uint64_t record = u64(locator + 8);
            if (record > locator || locator - record < 56)
                fail(locator + 8, "", "ZIP64 locator: expected the offset of a ZIP64 end record before byte ",
                     locator, ", got ", record);
            const std::size_t r = std::size_t(record);
            if (u32(r) != zip64_end_signature)
                fail(r, "", "ZIP64 end record: expected signature 0x06064b50, got ", hex(u32(r)));
            if (u32(r + 16) != 0 || u32(r + 20) != 0)
                fail(r + 16, "", "ZIP64 end record: expected a single-disk archive, got disk numbers ", u32(r + 16),
                     "/", u32(r + 20));
            entries = u64(r + 32);
            cd_size = u64(r + 40);
            cd_offset = u64(r + 48);
            directory_limit = r;
        }
        if (cd_offset > directory_limit || cd_size > directory_limit - cd_offset)
            fail(end + 16, "", "central directory: expected it to lie before byte ", directory_limit, ", got offset ",
                 cd_offset, " and size ", cd_size);
        if (entries > cd_size / 46)
            fail(end + 10, "", "central directory: ", entries, " entries cannot fit in ", cd_size, " bytes");

        std::vector<ZipMember> members;
        std::set<std::string> names;
        std::size_t at = std::size_t(cd_offset);
        const std::size_t cd_end = std::size_t(cd_offset + cd_size);
        for (std::uint64_t e = 0; e < entries; ++e) {
            const std::size_t entry = at;
            members.push_back(read_member(at, cd_end, std::size_t(cd_offset)));
            if (!names.insert(members.back().name).second)
                fail(entry, members.back().name, "central directory: expected unique member names, got a duplicate");
        }
        return members;
    }

private:
    template <class... Parts>
    [[noreturn]] void fail(std::size_t offset, std::string_view member, Parts&&... parts) const {
        if (member.empty()) throw_invalid(source_, ": byte ", offset, ": ", std::forward<Parts>(parts)...);
        throw_invalid(source_, ": member '", escape_excerpt(member, 80), "': byte ", offset, ": ",
                      std::forward<Parts>(parts)...);
    }
    static std::string hex(std::uint64_t v) {
        static const char digits[] = "0123456789abcdef";
        std::string s;
        do {
            s.insert(s.begin(), digits[v & 15]);
            v >>= 4;
        } while (v);
        return "0x" + s;
    }
    void need(std::size_t offset, std::size_t size, std::string_view what, std::string_view member = "") const {
        if (offset > bytes_.size() || size > bytes_.size() - offset)
            fail(offset, member, what, ": expected ", size, " bytes, got ",
                 offset > bytes_.size() ? 0 : bytes_.size() - offset, " (truncated archive)");
    }
    std::uint16_t u16(std::size_t at) const {
        need(at, 2, "field");
        return std::uint16_t(bytes_[at] | (bytes_[at + 1] << 8));
    }
    std::uint32_t u32(std::size_t at) const {
        need(at, 4, "field");
        return std::uint32_t(bytes_[at]) | (std::uint32_t(bytes_[at + 1]) << 8) | (std::uint32_t(bytes_[at + 2]) << 16) |
               (std::uint32_t(bytes_[at + 3]) << 24);
    }
    std::uint64_t u64(std::size_t at) const { return std::uint64_t(u32(at)) | (std::uint64_t(u32(at + 4)) << 32); }

    // The end-of-central-directory record: 22 bytes plus a comment ending the file.
    std::size_t find_end_record() const {
        const std::size_t n = bytes_.size();
        if (n < 22) fail(0, "", "end of central directory: expected at least 22 bytes, got ", n, " (not a ZIP/.npz archive or truncated)");
        const std::size_t lowest = n - 22 > 0xffff ? n - 22 - 0xffff : 0;
        for (std::size_t at = n - 22 + 1; at-- > lowest;) {
            if (u32(at) == zip_end_signature && std::size_t(u16(at + 20)) == n - 22 - at) return at;
        }
        fail(n - 22, "", "end of central directory: expected signature 0x06054b50 (PK\\5\\6), got none",
             " (not a ZIP/.npz archive or truncated)");
    }

    ZipMember read_member(std::size_t& at, std::size_t cd_end, std::size_t cd_start) {
        const std::size_t entry = at;
        if (at > cd_end || cd_end - at < 46) fail(at, "", "central directory entry: expected 46 bytes, got ", cd_end - std::min(at, cd_end));
        if (u32(at) != zip_central_signature)
            fail(at, "", "central directory entry: expected signature 0x02014b50, got ", hex(u32(at)));
        const std::uint16_t flags = u16(at + 8);
        const std::uint16_t method = u16(at + 10);
        const std::uint32_t crc = u32(at + 16);
        std::uint64_t compressed = u32(at + 20);
        std::uint64_t uncompressed = u32(at + 24);
        const std::size_t name_len = u16(at + 28), extra_len = u16(at + 30), comment_len = u16(at + 32);
        const std::uint16_t disk = u16(at + 34);
        std::uint64_t local = u32(at + 42);
        const std::size_t variable = name_len + extra_len + comment_len;
        if (cd_end - at - 46 < variable)
            fail(at, "", "central directory entry: expected ", variable, " bytes of name/extra/comment, got ",
                 cd_end - at - 46);
        ZipMember member;
        member.name.assign(reinterpret_cast<const char*>(bytes_.data() + at + 46), name_len);
        const std::string& name = member.name;
        if (name.empty()) fail(at + 46, "", "central directory entry: expected a member name, got an empty one");
        // ZIP64 extended information: the 8-byte values replace those stored as 0xffffffff, in this order.
        std::size_t x = at + 46 + name_len;
        const std::size_t x_end = x + extra_len;
        while (x + 4 <= x_end) {
            const std::uint16_t tag = u16(x), size = u16(x + 2);
            if (size > x_end - x - 4) fail(x, name, "extra field: expected ", size, " bytes, got ", x_end - x - 4);
            if (tag == 0x0001) {
                std::size_t y = x + 4;
                auto take = [&](std::uint64_t& value, std::string_view what) {
                    if (value != zip32_limit) return;
                    if (y + 8 > x + 4 + size) fail(y, name, "ZIP64 extra field: expected the 8-byte ", what, ", got end of field");
                    value = u64(y);
                    y += 8;
                };
                take(uncompressed, "uncompressed size");
                take(compressed, "compressed size");
                take(local, "local header offset");
            }
            x += 4 + size;
        }
        at += 46 + variable;

        if (disk != 0) fail(entry + 34, name, "central directory entry: expected disk 0, got ", disk);
        if (flags & 0x0001) fail(entry + 8, name, "flags: expected an unencrypted member, got an encrypted one");
        if (method != 0 && method != 8)
            fail(entry + 10, name, "compression method: expected 0 (stored) or 8 (deflate), got ", method);

        // Local header: its own name and extra lengths decide where the data starts.
        if (local > cd_start || cd_start - local < 30)
            fail(entry + 42, name, "local header offset: expected a header before the central directory at byte ",
                 cd_start, ", got ", local);
        const std::size_t lh = std::size_t(local);
        if (u32(lh) != zip_local_signature)
            fail(lh, name, "local header: expected signature 0x04034b50, got ", hex(u32(lh)));
        const std::size_t local_name_len = u16(lh + 26), local_extra_len = u16(lh + 28);
        if (local_name_len != name_len ||
            (cd_start - lh - 30 >= name_len &&
             std::memcmp(bytes_.data() + lh + 30, name.data(), name_len) != 0))
            fail(lh + 26, name, "local header: expected the central directory's name, got a different one");
        if (u16(lh + 8) != method)
            fail(lh + 8, name, "local header: expected compression method ", method, ", got ", u16(lh + 8));
        const std::uint64_t data_start = std::uint64_t(lh) + 30 + local_name_len + local_extra_len;
        if (data_start > cd_start || compressed > cd_start - data_start)
            fail(lh, name, "data: expected ", compressed, " bytes from byte ", data_start,
                 " before the central directory at byte ", cd_start, ", got ",
                 data_start > cd_start ? 0 : cd_start - data_start);
        const std::span<const std::uint8_t> stored = bytes_.subspan(std::size_t(data_start), std::size_t(compressed));

        if (method == 0) {
            if (compressed != uncompressed)
                fail(entry + 20, name, "stored member: expected equal compressed and uncompressed sizes, got ",
                     compressed, " and ", uncompressed);
            member.data.assign(stored.begin(), stored.end());
        } else {
            member.data = inflate_member(stored, uncompressed, std::size_t(data_start), name);
        }
        const std::uint32_t actual = zip_crc32(member.data);
        if (actual != crc)
            fail(std::size_t(data_start), name, "CRC-32: expected ", hex(crc), " (central directory), got ", hex(actual));
        return member;
    }

    std::vector<std::uint8_t> inflate_member(std::span<const std::uint8_t> input, std::uint64_t expected,
                                             std::size_t offset, const std::string& name) const {
        // Deflate expands at most ~1032:1; a larger claim is corrupt, so never trust it for allocation.
        const std::uint64_t plausible = std::uint64_t(input.size()) * 1040 + 1024;
        if (expected > plausible)
            fail(offset, name, "deflate data: uncompressed size ", expected, " is impossible for ", input.size(),
                 " compressed bytes");
        std::vector<std::uint8_t> out(static_cast<std::size_t>(expected));
        z_stream stream{};
        if (inflateInit2(&stream, -15) != Z_OK) fail(offset, name, "deflate data: zlib inflateInit2 failed");
        std::size_t in_done = 0, out_done = 0;
        int status = Z_OK;
        std::uint8_t spill[64];
        while (status == Z_OK) {
            const std::size_t in_piece = std::min<std::size_t>(input.size() - in_done, std::size_t(1) << 30);
            const std::size_t out_piece = std::min<std::size_t>(out.size() - out_done, std::size_t(1) << 30);
            stream.next_in = const_cast<Bytef*>(input.data() + in_done);
            stream.avail_in = static_cast<uInt>(in_piece);
            // When the declared size is reached, inflate into a spill buffer so overlong streams are detected.
            stream.next_out = out_piece ? out.data() + out_done : spill;
            stream.avail_out = static_cast<uInt>(out_piece ? out_piece : sizeof spill);
            status = ::inflate(&stream, Z_NO_FLUSH);
            const std::size_t used_in = in_piece - stream.avail_in;
            const std::size_t made = (out_piece ? out_piece : sizeof spill) - stream.avail_out;
            in_done += used_in;
            if (!out_piece && made > 0) {
                inflateEnd(&stream);
                fail(offset, name, "deflate data: expected ", expected, " uncompressed bytes, got more");
            }
            out_done += made;
            if (status == Z_BUF_ERROR && used_in == 0 && made == 0) break;  // no progress: input ended early
        }
        inflateEnd(&stream);
        if (status != Z_STREAM_END) {
            const char* why = status == Z_DATA_ERROR ? "corrupt deflate stream"
                              : status == Z_BUF_ERROR ? "truncated deflate stream"
                                                      : "zlib error";
            fail(offset + in_done, name, "deflate data: expected a complete deflate stream, got a ", why,
                 stream.msg ? std::string(" (") + stream.msg + ")" : std::string());
        }
        if (out_done != expected)
            fail(offset, name, "deflate data: expected ", expected, " uncompressed bytes, got ", out_done);
        return out;
    }

    std::span<const std::uint8_t> bytes_;
    std::string_view source_;
};

// All members of a ZIP archive held in memory, decompressed and checked.
inline std::vector<ZipMember> read_zip(std::span<const std::uint8_t> bytes, std::string_view source) {
    return ZipReader(bytes, source).read();
}

// A member to write: the name and a view of its bytes (kept alive by the caller).
struct ZipEntryView {
    std::string name;
    std::span<const std::uint8_t> data;
};

// Streams a ZIP archive of stored members to sink(const void*, size_t).
// Values reaching zip64_threshold use ZIP64 fields (tests lower it to
// exercise the ZIP64 path with small members). Timestamps are fixed at
// 1980-01-01 so equal contents give equal files.
template <class Sink>
void write_zip(Sink&& sink, std::span<const ZipEntryView> entries, std::uint64_t zip64_threshold = zip32_limit) {
    constexpr std::uint16_t dos_time = 0, dos_date = (0 << 9) | (1 << 5) | 1;
    std::uint64_t offset = 0;
    auto emit = [&](const std::vector<std::uint8_t>& bytes) {
        sink(bytes.data(), bytes.size());
        offset += bytes.size();
    };
    auto put16 = [](std::vector<std::uint8_t>& b, std::uint16_t v) {
        b.push_back(std::uint8_t(v));
        b.push_back(std::uint8_t(v >> 8));
    };
    auto put32 = [&](std::vector<std::uint8_t>& b, std::uint32_t v) {
        put16(b, std::uint16_t(v));
        put16(b, std::uint16_t(v >> 16));
    };
    auto put64 = [&](std::vector<std::uint8_t>& b, std::uint64_t v) {
        put32(b, std::uint32_t(v));
        put32(b, std::uint32_t(v >> 32));
    };
    const std::uint64_t limit = std::min<std::uint64_t>(zip64_threshold, zip32_limit);
    auto ascii = [](const std::string& s) {
        return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    };

    struct Written {
        std::uint32_t crc;
        std::uint64_t size;
        std::uint64_t offset;
    };
    std::vector<Written> written;
    written.reserve(entries.size());
    for (const ZipEntryView& e : entries) {
        if (e.name.empty() || e.name.size() > 0xffff) throw_invalid("zip: member name of ", e.name.size(), " bytes");
        const std::uint32_t crc = zip_crc32(e.data);
        const std::uint64_t size = e.data.size();
        const bool big = size >= limit;
        const std::uint16_t flags = ascii(e.name) ? 0 : 0x0800;  // bit 11: UTF-8 name
        std::vector<std::uint8_t> h;
        put32(h, zip_local_signature);
        put16(h, big ? 45 : 20);
        put16(h, flags);
        put16(h, 0);  // stored
        put16(h, dos_time);
        put16(h, dos_date);
        put32(h, crc);
        put32(h, big ? std::uint32_t(zip32_limit) : std::uint32_t(size));
        put32(h, big ? std::uint32_t(zip32_limit) : std::uint32_t(size));
        put16(h, std::uint16_t(e.name.size()));
        put16(h, big ? 20 : 0);
        h.insert(h.end(), e.name.begin(), e.name.end());
        if (big) {
            put16(h, 0x0001);
            put16(h, 16);
            put64(h, size);
            put64(h, size);
        }
        written.push_back({crc, size, offset});
        emit(h);
        sink(e.data.data(), e.data.size());
        offset += size;
    }

    const std::uint64_t cd_start = offset;
    std::vector<std::uint8_t> cd;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const ZipEntryView& e = entries[i];
        const Written& w = written[i];
        const bool big_size = w.size >= limit, big_offset = w.offset >= limit;
        const std::uint16_t extra = std::uint16_t((big_size ? 16 : 0) + (big_offset ? 8 : 0));
        const bool zip64 = extra != 0;
        put32(cd, zip_central_signature);
        put16(cd, std::uint16_t((3 << 8) | (zip64 ? 45 : 20)));  // made by: UNIX, spec version
        put16(cd, zip64 ? 45 : 20);
        put16(cd, ascii(e.name) ? 0 : 0x0800);
        put16(cd, 0);
        put16(cd, dos_time);
        put16(cd, dos_date);
        put32(cd, w.crc);
        put32(cd, big_size ? std::uint32_t(zip32_limit) : std::uint32_t(w.size));
        put32(cd, big_size ? std::uint32_t(zip32_limit) : std::uint32_t(w.size));
        put16(cd, std::uint16_t(e.name.size()));
        put16(cd, std::uint16_t(zip64 ? extra + 4 : 0));
        put16(cd, 0);                    // comment
        put16(cd, 0);                    // disk
        put16(cd, 0);                    // internal attributes
        put32(cd, std::uint32_t(0100644u) << 16);  // external: regular file, rw-r--r--
        put32(cd, big_offset ? std::uint32_t(zip32_limit) : std::uint32_t(w.offset));
        cd.insert(cd.end(), e.name.begin(), e.name.end());
        if (zip64) {
            put16(cd, 0x0001);
            put16(cd, extra);
            if (big_size) {
                put64(cd, w.size);
                put64(cd, w.size);
            }
            if (big_offset) put64(cd, w.offset);
        }
    }
    emit(cd);
    const std::uint64_t cd_size = cd.size();
    const std::uint64_t count = entries.size();
    const bool zip64_end = count >= std::min<std::uint64_t>(limit, 0xffff) || cd_size >= limit || cd_start >= limit;
    std::vector<std::uint8_t> tail;
    if (zip64_end) {
        const std::uint64_t record = offset;
        put32(tail, zip64_end_signature);
        put64(tail, 44);  // size of the rest of this record
        put16(tail, (3 << 8) | 45);
        put16(tail, 45);
        put32(tail, 0);
        put32(tail, 0);
        put64(tail, count);
        put64(tail, count);
        put64(tail, cd_size);
        put64(tail, cd_start);
        put32(tail, zip64_locator_signature);
        put32(tail, 0);
        put64(tail, record);
        put32(tail, 1);
    }
    put32(tail, zip_end_signature);
    put16(tail, 0);
    put16(tail, 0);
    put16(tail, zip64_end ? 0xffff : std::uint16_t(count));
    put16(tail, zip64_end ? 0xffff : std::uint16_t(count));
    put32(tail, zip64_end ? std::uint32_t(zip32_limit) : std::uint32_t(cd_size));
    put32(tail, zip64_end ? std::uint32_t(zip32_limit) : std::uint32_t(cd_start));
    put16(tail, 0);
    emit(tail);
}

}  // namespace spikegraph::detail
