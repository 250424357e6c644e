#pragma once
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spikegraph/error.hpp>

namespace spikegraph::detail {

// Whole-file reads and crash-safe whole-file writes (POSIX), shared by the
// .npy/.npz writers and checkpoints.

inline std::string errno_text(int error) { return std::strerror(error); }

// How files are named in error messages: quoted, so that names with spaces
// or an empty name stay readable.
inline std::string quoted_path(const std::filesystem::path& path) {
    std::string text = path.string();
    text.insert(text.begin(), '\'');  // (not "'" + s: GCC 12 warns falsely, bug 105651)
    text.push_back('\'');
    return text;
}

// The whole content of a file, read in binary mode until end of file rather
// than trusting the reported size, so pipes and files that change size work.
// `what` says what the file is in errors ("checkpoint", "npy file"); a
// directory fails with "Is a directory".
inline std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path, std::string_view what = {}) {
    const std::string described = what.empty() ? std::string() : " (" + std::string(what) + ")";
    errno = 0;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.string().c_str(), "rb"), &std::fclose);
    if (!file) throw_invalid("cannot open ", quoted_path(path), described, ": ", errno_text(errno));
    std::error_code ignored;
    const std::uintmax_t size_hint = std::filesystem::file_size(path, ignored);
    std::size_t capacity = std::size_t{1} << 16;
    // One spare byte: a file of exactly the reported size is read in one go.
    if (!ignored && size_hint < (std::uintmax_t{1} << 40)) capacity = static_cast<std::size_t>(size_hint) + 1;
    std::vector<std::uint8_t> bytes(capacity);
    std::size_t used = 0;
    for (;;) {
        if (used == bytes.size()) bytes.resize(bytes.size() * 2);
        const std::size_t got = std::fread(bytes.data() + used, 1, bytes.size() - used, file.get());
        used += got;
        if (got == 0) {
            if (std::ferror(file.get()))
                throw_invalid("cannot read ", quoted_path(path), described, " (after ", used, " bytes): ", errno_text(errno));
            break;
        }
    }
    bytes.resize(used);
    return bytes;
}

// The temp-file name of an atomic write: "<name>.tmp-<pid>-<random>" beside the
// target, so the final rename stays within one filesystem.
inline std::filesystem::path temporary_sibling(const std::filesystem::path& target) {
    std::random_device device;
    const std::uint64_t noise = (std::uint64_t(device()) << 32) ^ std::uint64_t(device()) ^
                                std::uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
    static const char digits[] = "0123456789abcdef";
    std::string hex(16, '0');
    for (int i = 0; i < 16; ++i) hex[std::size_t(i)] = digits[(noise >> (4 * (15 - i))) & 0xf];
    std::filesystem::path name = target.filename();
    name += ".tmp-" + std::to_string(::getpid()) + "-" + hex;
    return target.parent_path() / name;
}

// Writes `target` all or nothing: `produce(sink)` streams the contents into a
// temp file in the same directory (sink(const void*, size_t)); the file is
// fsynced and renamed over the target, then the directory is fsynced. On any
// failure the temp file is removed and the previous target is left untouched.
template <class Produce>
void write_file_atomically(const std::filesystem::path& target, Produce&& produce, std::string_view what = "file") {
    if (target.filename().empty()) throw_invalid(what, " '", target.string(), "': expected a file name, got a directory path");
    const std::filesystem::path temp = temporary_sibling(target);
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) throw_invalid(what, " '", target.string(), "': cannot create '", temp.string(), "': ", errno_text(errno));
    bool open = true;
    auto fail = [&](auto&&... parts) {
        if (open) ::close(fd);
        open = false;
        ::unlink(temp.c_str());
        throw_invalid(what, " '", target.string(), "': ", parts...);
    };
    try {
        auto sink = [&](const void* data, std::size_t size) {
            const auto* bytes = static_cast<const std::uint8_t*>(data);
            while (size > 0) {
                const ssize_t written = ::write(fd, bytes, size);
                if (written < 0) {
                    if (errno == EINTR) continue;
                    fail("write to '", temp.string(), "' failed: ", errno_text(errno));
                }
                bytes += written;
                size -= std::size_t(written);
            }
        };
        produce(sink);
    } catch (...) {
        if (open) {
            ::close(fd);
            ::unlink(temp.c_str());
        }
        throw;
    }
    if (::fsync(fd) != 0) fail("fsync of '", temp.string(), "' failed: ", errno_text(errno));
    open = false;
    if (::close(fd) != 0) {
        const int error = errno;
        ::unlink(temp.c_str());
        throw_invalid(what, " '", target.string(), "': close of '", temp.string(), "' failed: ", errno_text(error));
    }
    if (::rename(temp.c_str(), target.c_str()) != 0) {
        const int error = errno;
        ::unlink(temp.c_str());
        throw_invalid(what, " '", target.string(), "': cannot replace it (rename from '", temp.string(),
                      "' failed: ", errno_text(error), "); the previous contents are unchanged");
    }
    // The rename is durable only once the directory entry is on disk.
    const std::filesystem::path dir = target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        const int synced = ::fsync(dir_fd);
        const int error = errno;
        ::close(dir_fd);
        // Some filesystems cannot sync directories (EINVAL); the data itself is synced.
        if (synced != 0 && error != EINVAL && error != EROFS)
            throw_invalid(what, " '", target.string(), "': written, but fsync of directory '", dir.string(),
                          "' failed: ", errno_text(error));
    }
}

// Convenience: one buffer, written atomically.
inline void write_bytes_atomically(const std::filesystem::path& target, const void* data, std::size_t size,
                                   std::string_view what = "file") {
    write_file_atomically(target, [&](auto& sink) { sink(data, size); }, what);
}

}  // namespace spikegraph::detail
