#pragma once
// File helpers shared by the reader tests: each test writes its own small
// files under its working directory and names them as the readers do.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

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

}  // namespace reader_test
