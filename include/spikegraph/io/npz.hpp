#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spikegraph/error.hpp>
#include <spikegraph/file_io.hpp>
#include <spikegraph/io/npy.hpp>
#include <spikegraph/zip_archive.hpp>

// NumPy .npz archives: a ZIP of .npy members, as np.savez / np.savez_compressed
// write them. Needs zlib (link spikegraph::zlib).
//
//   Npz file = read_npz("weights.npz");
//   std::vector<float> w = file.array("input_hidden-g").as<float>();
//
//   NpzWriter out;
//   out.add("input_hidden-g", std::span<const float>(w), {700, 256});
//   out.add_raw("manifest.json", text);          // any other member, raw bytes
//   out.write("weights.npz");                    // atomic: temp file + rename
//
// Read: stored and deflated members (with ZIP64 fields and data
// descriptors), every size and CRC-32 checked. Members whose name ends in
// ".npy" are parsed as arrays and looked up without the suffix, as numpy's
// NpzFile does; other members are kept as raw bytes (raw()).
// Write: stored (uncompressed) members; ZIP64 records when a member or an
// offset reaches 4 GiB, so arrays of any size can be written.
// Errors (InvalidArgument) name the file, the member and the byte offset.

namespace spikegraph {

class Npz {
public:
    // Parses an archive held in memory; `source` names it in errors.
    static Npz parse(std::span<const std::uint8_t> bytes, std::string_view source = "<npz buffer>") {
        Npz npz;
        npz.source_ = std::string(source);
        for (detail::ZipMember& member : detail::read_zip(bytes, source)) {
            const std::string& name = member.name;
            if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) {
                const std::string label = npz.source_ + ": member '" + detail::escape_excerpt(name, 80) + "'";
                npz.arrays_.emplace(name.substr(0, name.size() - 4), parse_npy(member.data, label));
            } else {
                npz.raw_.emplace(name, std::move(member.data));
            }
        }
        return npz;
    }

    const std::string& source() const { return source_; }

    // Arrays by name without ".npy", sorted by name.
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& [name, array] : arrays_) out.push_back(name);
        return out;
    }
    bool contains(std::string_view name) const { return arrays_.find(std::string(name)) != arrays_.end(); }
    const NpyArray& array(std::string_view name) const {
        const auto it = arrays_.find(std::string(name));
        if (it == arrays_.end())
            detail::throw_invalid(source_, ": member '", name, ".npy': expected it in the archive, got none (",
                                  arrays_.size(), " arrays: ", list(arrays_), ")");
        return it->second;
    }
    const NpyArray* find(std::string_view name) const {
        const auto it = arrays_.find(std::string(name));
        return it == arrays_.end() ? nullptr : &it->second;
    }

    // Members that are not .npy files (e.g. "manifest.json"), by full name.
    const std::vector<std::uint8_t>* raw(std::string_view member) const {
        const auto it = raw_.find(std::string(member));
        return it == raw_.end() ? nullptr : &it->second;
    }

private:
    template <class Map>
    static std::string list(const Map& map) {
        std::string s;
        for (const auto& [name, value] : map) {
            if (!s.empty()) s += ", ";
            s += "'" + name + "'";
            if (s.size() > 200) return s + ", ...";
        }
        return s;
    }

    std::string source_;
    std::map<std::string, NpyArray, std::less<>> arrays_;
    std::map<std::string, std::vector<std::uint8_t>, std::less<>> raw_;
};

inline Npz read_npz(const std::filesystem::path& path) {
    const std::vector<std::uint8_t> bytes = detail::read_file_bytes(path, "npz file");
    return Npz::parse(bytes, path.string());
}

// Collects arrays (and raw members) and writes them as one stored .npz.
class NpzWriter {
public:
    // Adds "<name>.npy" holding data with shape (C order).
    template <std::ranges::contiguous_range R>
        requires NpyValue<std::remove_cv_t<std::ranges::range_value_t<R>>>
    void add(std::string_view name, const R& data, std::vector<std::size_t> shape) {
        using T = std::remove_cv_t<std::ranges::range_value_t<R>>;
        const std::span<const T> values(std::ranges::data(data), std::ranges::size(data));
        detail::checked_count(shape, values.size(), "npz member '" + std::string(name) + ".npy'");
        add_member(std::string(name) + ".npy", encode_npy<T>(values, std::move(shape)));
    }
    // Adds a member with exactly these bytes (its full name, e.g. "manifest.json").
    void add_raw(std::string_view member, std::span<const std::uint8_t> bytes) {
        add_member(std::string(member), std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    }
    void add_raw(std::string_view member, std::string_view text) {
        add_raw(member, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    }

    // The archive's bytes.
    std::vector<std::uint8_t> encode() const {
        std::vector<std::uint8_t> out;
        detail::write_zip([&](const void* p, std::size_t n) {
            const auto* b = static_cast<const std::uint8_t*>(p);
            out.insert(out.end(), b, b + n);
        }, views(), zip64_threshold_);
        return out;
    }
    // Writes the archive to `path` atomically (temp file + fsync + rename).
    void write(const std::filesystem::path& path, std::string_view what = "npz file") const {
        const std::vector<detail::ZipEntryView> entries = views();
        detail::write_file_atomically(path, [&](auto& sink) { detail::write_zip(sink, entries, zip64_threshold_); }, what);
    }

    // Testing hook: values at or above this use ZIP64 records (default 4 GiB - 1).
    void set_zip64_threshold(std::uint64_t threshold) { zip64_threshold_ = threshold; }

private:
    void add_member(std::string name, std::vector<std::uint8_t> bytes) {
        for (const auto& [existing, data] : members_)
            if (existing == name) detail::throw_invalid("npz: member '", name, "' added twice");
        members_.emplace_back(std::move(name), std::move(bytes));
    }
    std::vector<detail::ZipEntryView> views() const {
        std::vector<detail::ZipEntryView> out;
        for (const auto& [name, data] : members_) out.push_back({name, data});
        return out;
    }

    std::vector<std::pair<std::string, std::vector<std::uint8_t>>> members_;
    std::uint64_t zip64_threshold_ = detail::zip32_limit;
};

}  // namespace spikegraph
