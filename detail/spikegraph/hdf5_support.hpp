#pragma once
// Helpers for readers built on HDF5's C library: identifier ownership, quiet
// error handling, and checks of stored variable-length data that HDF5 1.10
// itself does not make before trusting it (see check_vlen_storage).
#include <hdf5.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <spikegraph/error.hpp>

namespace spikegraph::detail::hdf5 {

// Owns one HDF5 identifier and closes it on every path, exceptions included.
class Hid {
public:
    using Closer = herr_t (*)(hid_t);

    Hid() = default;
    Hid(hid_t id, Closer close) : id_(id), close_(close) {}
    Hid(Hid&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)), close_(other.close_) {}
    Hid& operator=(Hid&& other) noexcept {
        if (this != &other) {
            reset();
            id_ = std::exchange(other.id_, H5I_INVALID_HID);
            close_ = other.close_;
        }
        return *this;
    }
    Hid(const Hid&) = delete;
    Hid& operator=(const Hid&) = delete;
    ~Hid() { reset(); }

    hid_t get() const { return id_; }
    bool valid() const { return id_ >= 0; }

private:
    void reset() {
        if (id_ >= 0 && close_ != nullptr) close_(id_);
        id_ = H5I_INVALID_HID;
    }

    hid_t id_ = H5I_INVALID_HID;
    Closer close_ = nullptr;
};

// HDF5 prints every error stack to stderr by default; readers report failures
// as exceptions instead, so printing is off while they run and the caller's
// handler is restored afterwards.
class QuietErrors {
public:
    QuietErrors() {
        if (H5Eget_auto2(H5E_DEFAULT, &func_, &data_) >= 0) {
            saved_ = true;
            H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        }
    }
    ~QuietErrors() {
        if (saved_) H5Eset_auto2(H5E_DEFAULT, func_, data_);
    }
    QuietErrors(const QuietErrors&) = delete;
    QuietErrors& operator=(const QuietErrors&) = delete;

private:
    H5E_auto2_t func_ = nullptr;
    void* data_ = nullptr;
    bool saved_ = false;
};

// " (HDF5: <innermost message>)" from HDF5's current error stack (the most
// specific cause, e.g. "truncated file: eof = ..."), or "" if it is empty;
// clears the stack.
inline std::string error_text() {
    std::string text;
    H5Ewalk2(
        H5E_DEFAULT, H5E_WALK_UPWARD,
        [](unsigned n, const H5E_error2_t* error, void* out) -> herr_t {
            if (n == 0 && error != nullptr && error->desc != nullptr) *static_cast<std::string*>(out) = error->desc;
            return 0;
        },
        &text);
    H5Eclear2(H5E_DEFAULT);
    return text.empty() ? std::string{} : concat_message(" (HDF5: ", text, ")");
}

// The bytes of an HDF5 file, in memory or on disk, for the checks below.
class ByteSource {
public:
    explicit ByteSource(std::span<const std::byte> memory) : memory_(memory), size_(memory.size()) {}
    ByteSource(std::ifstream& stream, std::uint64_t size) : stream_(&stream), size_(size) {}

    std::uint64_t size() const { return size_; }

    // Reads [offset, offset + count) into `out`; false if it is not all in the file.
    bool read(std::uint64_t offset, std::size_t count, unsigned char* out) const {
        if (offset > size_ || count > size_ - offset) return false;
        if (stream_ == nullptr) {
            if (count > 0) std::memcpy(out, memory_.data() + offset, count);
            return true;
        }
        stream_->clear();
        stream_->seekg(std::streamoff(offset));
        return bool(stream_->read(reinterpret_cast<char*>(out), std::streamsize(count)));
    }

private:
    std::span<const std::byte> memory_;
    std::ifstream* stream_ = nullptr;
    std::uint64_t size_ = 0;
};

// HDF5 looks for its superblock at offset 0, then 512, 1024, 2048, ... (after
// a user block) and takes the first match as the base of all file addresses.
inline std::optional<std::uint64_t> find_signature(const ByteSource& source) {
    static constexpr unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    for (std::uint64_t offset = 0; offset < source.size(); offset = offset == 0 ? 512 : offset * 2) {
        unsigned char bytes[8];
        if (source.read(offset, 8, bytes) && std::memcmp(bytes, signature, 8) == 0) return offset;
    }
    return std::nullopt;
}

// Little-endian unsigned integer of `width` bytes; values that do not fit 64
// bits (HDF5 allows 16- and 32-byte addresses) saturate, which every range
// check below then rejects.
inline std::uint64_t decode_le(const unsigned char* p, std::size_t width) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < width; ++i) {
        if (i >= 8) {
            if (p[i] != 0) return UINT64_MAX;
            continue;
        }
        value |= std::uint64_t(p[i]) << (8 * i);
    }
    return value;
}

// HDF5 1.10 reads variable-length data through references into "global heap
// collections" without checking them: a corrupt sequence length, heap
// address, object index or collection makes H5Dread allocate gigabytes, loop
// forever, or read and write out of bounds (found by fuzzing libhdf5 1.10.8).
// So before H5Dread, the stored elements [0, count) of a contiguous vlen
// dataset and the collections they reference are checked here against the
// file format: every reference must name an object of exactly
// length x base_size bytes inside a well-formed collection inside the file.
// Returns "" if all is well, else what is wrong. Other layouts (chunked,
// compact) are left to HDF5; SHD files are contiguous.
class VlenStorageCheck {
public:
    VlenStorageCheck(hid_t file, const ByteSource& source, std::uint64_t base) : source_(source), base_(base) {
        Hid fcpl(H5Fget_create_plist(file), H5Pclose);
        std::size_t sizeof_addr = 0, sizeof_size = 0;
        if (fcpl.valid() && H5Pget_sizes(fcpl.get(), &sizeof_addr, &sizeof_size) >= 0) {
            sizeof_addr_ = sizeof_addr;
            sizeof_size_ = sizeof_size;
        }
    }

    std::string check(hid_t dataset, std::uint64_t count, std::size_t base_size) {
        if (sizeof_addr_ == 0 || sizeof_addr_ > 32 || sizeof_size_ == 0 || sizeof_size_ > 32)
            return concat_message("cannot read the file's address and length sizes", error_text());
        Hid dcpl(H5Dget_create_plist(dataset), H5Pclose);
        if (!dcpl.valid()) return concat_message("cannot read its creation properties", error_text());
        if (H5Pget_layout(dcpl.get()) != H5D_CONTIGUOUS || count == 0) return {};
        const haddr_t offset = H5Dget_offset(dataset);  // absolute (includes the user block)
        if (offset == HADDR_UNDEF) {
            H5Eclear2(H5E_DEFAULT);
            return {};  // no storage: every element is the fill value
        }
        const std::size_t element = 4 + sizeof_addr_ + 4;  // sequence length, heap address, object index
        if (count > source_.size() / element)
            return concat_message(count, " stored elements cannot fit the file (", source_.size(), " bytes)");
        std::vector<unsigned char> raw(std::size_t(count) * element);
        if (!source_.read(offset, raw.size(), raw.data()))
            return concat_message("its data (", raw.size(), " bytes at offset ", offset, ") lies beyond the end of the file (",
                                  source_.size(), " bytes): truncated or corrupt file");
        for (std::uint64_t e = 0; e < count; ++e) {
            const unsigned char* p = raw.data() + e * element;
            const std::uint64_t length = decode_le(p, 4);
            const std::uint64_t address = decode_le(p + 4, sizeof_addr_);
            const std::uint64_t index = decode_le(p + 4 + sizeof_addr_, 4);
            if (address == 0) continue;  // HDF5 reads a null reference as an empty sequence
            const Collection* collection = load(address);
            if (collection == nullptr)
                return concat_message("example ", e, " refers to global heap collection at address ", address,
                                      ", which is not a valid collection: corrupt file");
            const auto object = collection->sizes.find(index);
            if (object == collection->sizes.end())
                return concat_message("example ", e, " refers to object ", index, " of the global heap collection at address ",
                                      address, ", which has no such object: corrupt file");
            if (object->second != length * base_size)
                return concat_message("example ", e, " has ", length, " values of ", base_size, " bytes but its global heap object (",
                                      "collection at address ", address, ", object ", index, ") has ", object->second,
                                      " bytes: corrupt file");
        }
        return {};
    }

private:
    struct Collection {
        std::map<std::uint64_t, std::uint64_t> sizes;  // object index -> bytes, as HDF5 decodes them
    };

    // Parses the collection at `address` as HDF5's decoder does (later
    // duplicates of an index win, a tail too short for an object header is
    // free space) but rejects what that decoder would mishandle: a bad
    // signature, a size below HDF5's minimum or beyond the file, a free-space
    // entry that does not advance (an endless loop), objects overrunning it.
    const Collection* load(std::uint64_t address) {
        if (const auto found = collections_.find(address); found != collections_.end())
            return found->second ? &*found->second : nullptr;
        std::optional<Collection>& slot = collections_[address];
        if (address > UINT64_MAX - base_) return nullptr;
        const std::uint64_t start = base_ + address;
        const std::size_t header = 8 + sizeof_size_;  // "GCOL", version, 3 reserved, collection size
        unsigned char head[8 + 32];
        if (!source_.read(start, header, head)) return nullptr;
        if (std::memcmp(head, "GCOL", 4) != 0 || head[4] != 1) return nullptr;
        const std::uint64_t size = decode_le(head + 8, sizeof_size_);
        constexpr std::uint64_t minimum = 4096;  // HDF5 never writes smaller collections
        if (size < minimum || size > source_.size()) return nullptr;
        std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
        if (!source_.read(start, bytes.size(), bytes.data())) return nullptr;

        Collection collection;
        const std::uint64_t object_header = 8 + sizeof_size_;  // index, reference count, reserved, size
        std::uint64_t p = header;
        while (p < size) {
            if (p + object_header > size) break;  // free space
            const std::uint64_t index = decode_le(&bytes[p], 2);
            const std::uint64_t object_size = decode_le(&bytes[p + 8], sizeof_size_);
            if (index == 0) {
                // Free space: its size includes its header.
                if (object_size < object_header || object_size > size - p) return nullptr;
                p += object_size;
                continue;
            }
            if (object_size > size - p - object_header) return nullptr;
            collection.sizes[index] = object_size;
            p += object_header + (object_size + 7) / 8 * 8;
        }
        slot = std::move(collection);
        return &*slot;
    }

    const ByteSource& source_;
    std::uint64_t base_;
    std::size_t sizeof_addr_ = 0, sizeof_size_ = 0;
    std::map<std::uint64_t, std::optional<Collection>> collections_;
};

}  // namespace spikegraph::detail::hdf5
