#pragma once
// File helpers shared by the reader tests: each test writes its own small
// files under its working directory and names them as the readers do.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <optional>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <spikegraph/error.hpp>

namespace reader_test {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

// "'<path>'", as the readers name files.
inline std::string quoted(const fs::path& path) {
    std::string text = "'";
    text += path.string();
    text += "'";
    return text;
}

// A folder of this test's own files (ctest gives each test its own working directory).
inline fs::path test_dir(const char* name) {
    const fs::path dir = fs::current_path() / name;
    fs::create_directories(dir);
    return dir;
}

inline void write_plain(const fs::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

inline Bytes read_raw(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The message of the InvalidArgument `f` must throw.
inline std::string invalid_message(const std::function<void()>& f) {
    try {
        f();
    } catch (const spikegraph::InvalidArgument& e) {
        return e.what();
    }
    FAIL("expected spikegraph::InvalidArgument");
    return {};
}

// `relative` paths inside ../shared/data (SPIKEGRAPH_SHARED_DATA); with a loud
// warning and nullopt when the folder or a file is absent, so the real-data
// checks skip where the data is not available.
inline std::optional<fs::path> shared_data(std::initializer_list<fs::path> relative, const char* checks) {
    const char* env = std::getenv("SPIKEGRAPH_SHARED_DATA");
    if (env == nullptr || *env == '\0') {
        WARN("SKIPPED: SPIKEGRAPH_SHARED_DATA is not set; the " << checks << " did not run");
        return std::nullopt;
    }
    for (const fs::path& file : relative)
        if (!fs::exists(fs::path(env) / file)) {
            WARN("SKIPPED: " << (fs::path(env) / file).string() << " is absent; the " << checks << " did not run");
            return std::nullopt;
        }
    return fs::path(env);
}

}  // namespace reader_test
