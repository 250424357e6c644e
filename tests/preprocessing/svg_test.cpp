// SVG plots: checked with a small XML parser written here (well-formedness,
// escaping), and by mapping drawn coordinates back to data through the axes'
// own tick labels.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <spikegraph/io/svg.hpp>

namespace sg = spikegraph;
namespace fs = std::filesystem;

namespace {

using Catch::Matchers::Contains;

// ---------------------------------------------------------------------------
// A strict little XML 1.0 parser: elements, attributes, text, the five named
// entities and character references, comments, one XML declaration.
// Anything else (unbalanced tags, bare '&' or '<', bad UTF-8, control
// characters, duplicate attributes) throws.
// ---------------------------------------------------------------------------
struct Element {
    std::string name;
    std::map<std::string, std::string> attributes;
    std::vector<Element> children;
    std::string text;  // unescaped character data directly inside

    std::string attr(const std::string& key) const {
        const auto it = attributes.find(key);
        if (it == attributes.end()) throw std::runtime_error("<" + name + "> has no attribute " + key);
        return it->second;
    }
    double number(const std::string& key) const { return std::stod(attr(key)); }
    bool has_class(const std::string& c) const {
        const auto it = attributes.find("class");
        return it != attributes.end() && it->second == c;
    }
};

void check_characters(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::uint32_t code = 0;
        std::size_t length = 1;
        if (c < 0x80) code = c;
        else if ((c & 0xE0) == 0xC0) length = 2, code = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) length = 3, code = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) length = 4, code = c & 0x07;
        else throw std::runtime_error("bad UTF-8 lead byte at " + std::to_string(i));
        if (i + length > s.size()) throw std::runtime_error("truncated UTF-8 at " + std::to_string(i));
        for (std::size_t k = 1; k < length; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xC0) != 0x80) throw std::runtime_error("bad UTF-8 continuation at " + std::to_string(i + k));
            code = (code << 6) | (b & 0x3F);
        }
        const std::uint32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
        if (code < minimum[length]) throw std::runtime_error("overlong UTF-8 at " + std::to_string(i));
        const bool allowed = code == 0x9 || code == 0xA || code == 0xD || (code >= 0x20 && code <= 0xD7FF) ||
                             (code >= 0xE000 && code <= 0xFFFD) || (code >= 0x10000 && code <= 0x10FFFF);
        if (!allowed) throw std::runtime_error("character U+" + std::to_string(code) + " not allowed in XML");
        i += length;
    }
}

class XmlParser {
public:
    explicit XmlParser(std::string_view text) : s_(text) {}

    Element document() {
        check_characters(s_);
        if (s_.substr(0, 5) == "<?xml") {
            const auto end = s_.find("?>");
            if (end == std::string_view::npos) fail("unterminated XML declaration");
            pos_ = end + 2;
        }
        skip_misc();
        Element root = element();
        skip_misc();
        if (pos_ != s_.size()) fail("content after the root element");
        return root;
    }

private:
    [[noreturn]] void fail(const std::string& why) const {
        throw std::runtime_error("XML error at offset " + std::to_string(pos_) + ": " + why);
    }
    bool starts(std::string_view p) const { return s_.substr(pos_, p.size()) == p; }
    void skip_space() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r'))
            ++pos_;
    }
    void skip_misc() {
        for (;;) {
            skip_space();
            if (!starts("<!--")) return;
            comment();
        }
    }
    void comment() {
        const auto end = s_.find("-->", pos_ + 4);
        if (end == std::string_view::npos) fail("unterminated comment");
        if (s_.substr(pos_ + 4, end - pos_ - 4).find("--") != std::string_view::npos) fail("'--' inside a comment");
        pos_ = end + 3;
    }
    std::string name() {
        auto first = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; };
        auto rest = [&](char c) { return first(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.'; };
        if (pos_ >= s_.size() || !first(s_[pos_])) fail("expected a name");
        const std::size_t begin = pos_;
        while (pos_ < s_.size() && rest(s_[pos_])) ++pos_;
        return std::string(s_.substr(begin, pos_ - begin));
    }
    // After '&': a reference, appended to out as UTF-8.
    void reference(std::string& out) {
        const auto end = s_.find(';', pos_);
        if (end == std::string_view::npos || end - pos_ > 10) fail("unterminated entity reference");
        const std::string_view ref = s_.substr(pos_, end - pos_);
        static const std::map<std::string_view, char> named{
            {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
        if (const auto it = named.find(ref); it != named.end()) {
            out += it->second;
        } else if (ref.size() > 1 && ref[0] == '#') {
            const bool hex = ref[1] == 'x';
            const std::string digits(ref.substr(hex ? 2 : 1));
            if (digits.empty() || digits.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") != std::string::npos)
                fail("bad character reference &" + std::string(ref) + ";");
            const unsigned long code = std::stoul(digits, nullptr, hex ? 16 : 10);
            if (code > 0x10FFFF) fail("character reference out of range");
            std::string encoded;
            if (code < 0x80) encoded = char(code);
            else if (code < 0x800) encoded = {char(0xC0 | (code >> 6)), char(0x80 | (code & 0x3F))};
            else if (code < 0x10000)
                encoded = {char(0xE0 | (code >> 12)), char(0x80 | ((code >> 6) & 0x3F)), char(0x80 | (code & 0x3F))};
            else
                encoded = {char(0xF0 | (code >> 18)), char(0x80 | ((code >> 12) & 0x3F)),
                           char(0x80 | ((code >> 6) & 0x3F)), char(0x80 | (code & 0x3F))};
            check_characters(encoded);
            out += encoded;
        } else {
            fail("unknown entity &" + std::string(ref) + ";");
        }
        pos_ = end + 1;
    }
    Element element() {
        if (!starts("<")) fail("expected '<'");
        ++pos_;
        Element e;
        e.name = name();
        for (;;) {
            const std::size_t before = pos_;
            skip_space();
            if (starts("/>")) {
                pos_ += 2;
                return e;
            }
            if (starts(">")) {
                ++pos_;
                break;
            }
            if (pos_ == before) fail("expected whitespace before an attribute");
            const std::string key = name();
            skip_space();
            if (!starts("=")) fail("expected '=' after attribute " + key);
            ++pos_;
            skip_space();
            if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) fail("unquoted attribute " + key);
            const char quote = s_[pos_++];
            std::string value;
            while (pos_ < s_.size() && s_[pos_] != quote) {
                if (s_[pos_] == '<') fail("'<' in attribute " + key);
                if (s_[pos_] == '&') {
                    ++pos_;
                    reference(value);
                } else {
                    value += s_[pos_++];
                }
            }
            if (pos_ >= s_.size()) fail("unterminated attribute " + key);
            ++pos_;
            if (!e.attributes.emplace(key, value).second) fail("duplicate attribute " + key);
        }
        for (;;) {
            if (pos_ >= s_.size()) fail("unclosed <" + e.name + ">");
            if (starts("</")) {
                pos_ += 2;
                const std::string closing = name();
                skip_space();
                if (!starts(">")) fail("expected '>'");
                ++pos_;
                if (closing != e.name) fail("</" + closing + "> closes <" + e.name + ">");
                return e;
            }
            if (starts("<!--")) {
                comment();
            } else if (starts("<")) {
                e.children.push_back(element());
            } else if (starts("&")) {
                ++pos_;
                reference(e.text);
            } else {
                if (starts("]]>")) fail("']]>' in text");
                e.text += s_[pos_++];
            }
        }
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

Element parse(const std::string& svg) {
    try {
        return XmlParser(svg).document();
    } catch (const std::exception& e) {
        FAIL(e.what() << "\n--- document ---\n" << svg);
        throw;
    }
}

template <class Pred>
void collect(const Element& e, Pred&& pred, std::vector<const Element*>& out) {
    if (pred(e)) out.push_back(&e);
    for (const Element& child : e.children) collect(child, pred, out);
}
std::vector<const Element*> with_class(const Element& root, const std::string& c) {
    std::vector<const Element*> out;
    collect(root, [&](const Element& e) { return e.has_class(c); }, out);
    return out;
}
std::vector<const Element*> named(const Element& root, const std::string& n) {
    std::vector<const Element*> out;
    collect(root, [&](const Element& e) { return e.name == n; }, out);
    return out;
}
const Element& only(const std::vector<const Element*>& found, const std::string& what) {
    if (found.size() != 1) throw std::runtime_error(what + ": expected one element, found " + std::to_string(found.size()));
    return *found[0];
}

// Path data as commands with their numbers.
struct Command {
    char op;
    std::vector<double> args;
};
std::vector<Command> path_commands(const std::string& d) {
    std::vector<Command> out;
    std::size_t i = 0;
    while (i < d.size()) {
        const char c = d[i];
        if (std::isalpha(static_cast<unsigned char>(c))) {
            out.push_back({c, {}});
            ++i;
        } else if (c == ' ' || c == ',') {
            ++i;
        } else {
            if (out.empty()) throw std::runtime_error("path data starts with a number: " + d);
            char* end = nullptr;
            const double v = std::strtod(d.c_str() + i, &end);
            if (end == d.c_str() + i) throw std::runtime_error("bad path data at " + std::to_string(i) + ": " + d);
            out.back().args.push_back(v);
            i = std::size_t(end - d.c_str());
        }
    }
    return out;
}
struct Point {
    double x, y;
};
// Absolute points of a path made of M, L, H, V, h, v commands (what the plots use).
std::vector<std::vector<Point>> subpaths(const std::string& d) {
    std::vector<std::vector<Point>> out;
    Point at{0, 0};
    for (const Command& c : path_commands(d)) {
        const std::size_t expected = (c.op == 'M' || c.op == 'L') ? 2 : 1;
        if (c.args.size() != expected) throw std::runtime_error(std::string("command ") + c.op + " with wrong arguments");
        switch (c.op) {
            case 'M': at = {c.args[0], c.args[1]}; out.emplace_back(); break;
            case 'L': at = {c.args[0], c.args[1]}; break;
            case 'H': at.x = c.args[0]; break;
            case 'V': at.y = c.args[0]; break;
            case 'h': at.x += c.args[0]; break;
            case 'v': at.y += c.args[0]; break;
            default: throw std::runtime_error(std::string("unexpected path command ") + c.op);
        }
        if (out.empty()) throw std::runtime_error("path does not start with M");
        out.back().push_back(at);
    }
    return out;
}

// Every coordinate drawn lies inside the viewBox.
void check_inside_viewbox(const Element& root) {
    std::istringstream box(root.attr("viewBox"));
    double x0, y0, w, h;
    box >> x0 >> y0 >> w >> h;
    REQUIRE(x0 == 0);
    REQUIRE(y0 == 0);
    CHECK(root.number("width") == w);
    CHECK(root.number("height") == h);
    std::vector<const Element*> all;
    collect(root, [](const Element&) { return true; }, all);
    for (const Element* e : all) {
        for (const char* key : {"x", "x1", "x2", "cx"})
            if (e->attributes.count(key)) CHECK((e->number(key) >= 0 && e->number(key) <= w));
        for (const char* key : {"y", "y1", "y2", "cy"})
            if (e->attributes.count(key)) CHECK((e->number(key) >= 0 && e->number(key) <= h));
        if (e->name == "rect") {
            CHECK(e->number("x") + e->number("width") <= w + 1e-9);
            CHECK(e->number("y") + e->number("height") <= h + 1e-9);
        }
        if (e->name == "path")
            for (const auto& sub : subpaths(e->attr("d")))
                for (const Point& p : sub) {
                    INFO("point " << p.x << ", " << p.y);
                    CHECK((p.x >= 0 && p.x <= w && p.y >= 0 && p.y <= h));
                }
    }
}

// Tick labels of an axis group as (position, value): x of each label for
// the x axis, y (baseline - 4, the label's centre) for y axes.
std::vector<std::pair<double, double>> ticks(const Element& axis, bool vertical) {
    std::vector<std::pair<double, double>> out;
    for (const Element& child : axis.children)
        if (child.name == "text" && !child.has_class("axis-label"))
            out.emplace_back(vertical ? child.number("y") - 4.0 : child.number("x"), std::stod(child.text));
    return out;
}

// Ticks are equally spaced by 1, 2 or 5 times a power of ten, their labels
// exact multiples of that step, and positions linear in value.
double check_nice(const std::vector<std::pair<double, double>>& t) {
    REQUIRE(t.size() >= 2);
    const double step = t[1].second - t[0].second;
    REQUIRE(step > 0);
    const double magnitude = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    const double mantissa = step / magnitude;
    INFO("tick step " << step);
    CHECK((std::fabs(mantissa - 1) < 1e-9 || std::fabs(mantissa - 2) < 1e-9 || std::fabs(mantissa - 5) < 1e-9));
    const double px_per_unit = (t.back().first - t.front().first) / (t.back().second - t.front().second);
    for (std::size_t k = 0; k < t.size(); ++k) {
        CHECK(std::fabs(t[k].second - (t[0].second + double(k) * step)) < 1e-9 * std::max(1.0, std::fabs(t[k].second)));
        CHECK(std::fabs(t[k].second / step - std::round(t[k].second / step)) < 1e-6);
        CHECK(std::fabs(t[k].first - (t[0].first + (t[k].second - t[0].second) * px_per_unit)) < 0.02);
    }
    return step;
}

// Maps a pixel position back to a value through an axis' ticks.
double value_at(const std::vector<std::pair<double, double>>& t, double px) {
    const auto& a = t.front();
    const auto& b = t.back();
    return a.second + (px - a.first) * (b.second - a.second) / (b.first - a.first);
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("The XML checker rejects what it should", "[svg]") {
    for (const char* bad : {"<a>", "<a></b>", "<a x=1/>", "<a>&</a>", "<a>&bogus;</a>", "<a x=\"<\"/>",
                            "<a/><b/>", "<a x=\"1\" x=\"2\"/>", "<a>\x01</a>", "<a>\xff</a>", "<a>x]]>y</a>"}) {
        INFO(bad);
        CHECK_THROWS(XmlParser(bad).document());
    }
    const Element ok = XmlParser("<?xml version=\"1.0\"?>\n<a k='&lt;&amp;&#x41;'><!-- c --><b/>t&gt;</a>").document();
    CHECK(ok.attr("k") == "<&A");
    CHECK(ok.text == "t>");
    CHECK(ok.children.size() == 1);
}

TEST_CASE("spike_raster_svg draws one mark per spike where it belongs", "[svg]") {
    const std::vector<float> times{0.0f, 10.0f, 20.5f, 99.0f, 100.0f, 50.0f};
    const std::vector<std::uint32_t> ids{0, 4, 2, 3, 1, 2};
    sg::RasterOptions options;
    options.title = "Raster <&> \"test\"";
    const std::string svg = sg::spike_raster_svg(times, ids, 5, 100.0, options);
    const Element root = parse(svg);
    REQUIRE(root.name == "svg");
    CHECK(root.attr("xmlns") == "http://www.w3.org/2000/svg");
    CHECK(root.attr("viewBox") == "0 0 800 400");
    check_inside_viewbox(root);

    // The title, escaped in the file and intact once parsed.
    CHECK(svg.find("Raster &lt;&amp;&gt; &quot;test&quot;") != std::string::npos);
    CHECK(only(named(root, "title"), "title").text == options.title);
    CHECK(only(with_class(root, "title"), "title text").text == options.title);

    const Element& frame = only(with_class(root, "frame"), "frame");
    const double left = frame.number("x"), top = frame.number("y");
    const double right = left + frame.number("width"), bottom = top + frame.number("height");
    const double row = (bottom - top) / 5.0;

    const Element& spikes = only(with_class(root, "spikes"), "spike path");
    const auto marks = subpaths(spikes.attr("d"));
    REQUIRE(marks.size() == times.size());
    for (std::size_t i = 0; i < marks.size(); ++i) {
        INFO("spike " << i << " at " << times[i] << " ms on neuron " << ids[i]);
        REQUIRE(marks[i].size() == 2);  // M x y v length: a vertical mark
        const Point a = marks[i][0], b = marks[i][1];
        CHECK(a.x == Approx(left + times[i] / 100.0 * (right - left)).margin(0.01));
        CHECK(b.x == a.x);
        CHECK(b.y > a.y);
        // Neuron 0 is the bottom row.
        CHECK(a.y >= bottom - (ids[i] + 1) * row - 0.01);
        CHECK(b.y <= bottom - ids[i] * row + 0.01);
    }

    // Axes: nice time ticks from 0 over the whole duration, neuron ticks at row centres.
    const auto x_ticks = ticks(only(with_class(root, "x-axis"), "x axis"), false);
    const double step = check_nice(x_ticks);
    CHECK(x_ticks.front().second == 0.0);
    CHECK(x_ticks.back().second <= 100.0);
    CHECK(x_ticks.back().second + step > 100.0);
    for (const auto& [x, value] : x_ticks) CHECK(x == Approx(left + value / 100.0 * (right - left)).margin(0.01));
    const auto y_ticks = ticks(only(with_class(root, "y-axis"), "y axis"), true);
    for (const auto& [y, value] : y_ticks) {
        CHECK(value == std::round(value));
        CHECK((value >= 0 && value <= 4));
        CHECK(y == Approx(bottom - (value + 0.5) * row).margin(0.01));
    }
    CHECK(y_ticks.size() >= 2);

    std::vector<std::string> labels;
    for (const Element* e : with_class(root, "axis-label")) labels.push_back(e->text);
    CHECK(labels == std::vector<std::string>{"time [ms]", "neuron"});
    CHECK(only(with_class(root, "note"), "note").text == "6 spikes");
}

TEST_CASE("spike_raster_svg: SpikeRecorder and SpikeEvents overloads", "[svg]") {
    sg::SpikeRecorder<"hidden"> recorder;
    recorder.recorded_examples = {3, 7};
    recorder.spike_times = {{1.0f, 2.0f}, {5.0f, 6.0f, 7.0f}};
    recorder.spike_ids = {{0, 1}, {2, 2, 9}};
    const Element root = parse(sg::spike_raster_svg(recorder, 7, 10, 20.0));
    CHECK(only(named(root, "title"), "title").text == "hidden spikes, example 7");
    CHECK(subpaths(only(with_class(root, "spikes"), "spikes").attr("d")).size() == 3);
    check_inside_viewbox(root);

    sg::RasterOptions titled;
    titled.title = "mine";
    CHECK(only(named(parse(sg::spike_raster_svg(recorder, 3, 10, 20.0, titled)), "title"), "title").text == "mine");
    CHECK_THROWS_WITH(sg::spike_raster_svg(recorder, 5, 10, 20.0),
                      Contains("example 5") && Contains("hidden") && Contains("3, 7"));

    const sg::SpikeEvents events{{0.5f, 0.5f, 3.0f}, {1, 2, 0}};
    const Element from_events = parse(sg::spike_raster_svg(events, 3, 4.0));
    CHECK(subpaths(only(with_class(from_events, "spikes"), "spikes").attr("d")).size() == 3);
    CHECK(named(from_events, "title").empty());
}

TEST_CASE("spike_raster_svg: late spikes, many neurons, no spikes, size", "[svg]") {
    // Spikes after the duration are left out and counted in the note.
    const Element clipped = parse(sg::spike_raster_svg(std::vector<float>{1.0f, 30.0f, 31.0f},
                                                       std::vector<std::uint32_t>{0, 0, 1}, 2, 10.0));
    CHECK(subpaths(only(with_class(clipped, "spikes"), "spikes").attr("d")).size() == 1);
    CHECK(only(with_class(clipped, "note"), "note").text == "1 spike, 2 after 10 ms not shown");

    // No spikes: no spike path, still a valid plot.
    const Element empty = parse(sg::spike_raster_svg(std::vector<float>{}, std::vector<std::uint32_t>{}, 3, 10.0));
    CHECK(with_class(empty, "spikes").empty());
    CHECK(only(with_class(empty, "note"), "note").text == "0 spikes");

    // 1000 neurons in 336 px: rows under a pixel, marks stay inside the frame.
    std::vector<float> times;
    std::vector<std::uint32_t> ids;
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> time(0.0f, 250.0f);
    std::uniform_int_distribution<std::uint32_t> neuron(0, 999);
    for (int i = 0; i < 20000; ++i) {
        times.push_back(time(rng));
        ids.push_back(neuron(rng));
    }
    ids[0] = 0, ids[1] = 999;
    const std::string big = sg::spike_raster_svg(std::span(times).first(10000), std::span(ids).first(10000), 1000, 250.0);
    const Element big_root = parse(big);
    check_inside_viewbox(big_root);
    CHECK(subpaths(only(with_class(big_root, "spikes"), "spikes").attr("d")).size() == 10000);
    const std::string bigger = sg::spike_raster_svg(times, ids, 1000, 250.0);
    CHECK(subpaths(only(with_class(parse(bigger), "spikes"), "spikes").attr("d")).size() == 20000);
    // One path for all spikes: the file grows by a few bytes per spike.
    const double per_spike = double(bigger.size() - big.size()) / 10000.0;
    CHECK(per_spike < 24.0);
    CHECK(big.size() < 10000 * 24 + 6000);
}

TEST_CASE("spike_raster_svg escapes any text into well-formed XML", "[svg]") {
    sg::RasterOptions options;
    options.title = std::string("a\x01" "b\xff" "c\xe2\x82" "d \xe2\x82\xac & <tag>");
    options.x_label = "t'ime\"";
    options.color = "red\" onload=\"alert(1)";
    const std::string svg = sg::spike_raster_svg(std::vector<float>{1.0f}, std::vector<std::uint32_t>{0}, 1, 2.0, options);
    const Element root = parse(svg);
    // Control characters and broken UTF-8 become U+FFFD, valid characters stay.
    CHECK(only(named(root, "title"), "title").text ==
          "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD" "d \xe2\x82\xac & <tag>");
    const Element& spikes = only(with_class(root, "spikes"), "spikes");
    CHECK(spikes.attr("stroke") == options.color);
    CHECK(spikes.attributes.count("onload") == 0);
    std::vector<std::string> labels;
    for (const Element* e : with_class(root, "axis-label")) labels.push_back(e->text);
    CHECK(labels.front() == "t'ime\"");
}

TEST_CASE("spike_raster_svg errors", "[svg]") {
    const std::vector<float> times{1.0f, 2.0f};
    const std::vector<std::uint32_t> ids{0, 1};
    CHECK_THROWS_WITH(sg::spike_raster_svg(times, std::vector<std::uint32_t>{0}, 2, 5.0), Contains("2 spike times but 1"));
    CHECK_THROWS_WITH(sg::spike_raster_svg(times, ids, 1, 5.0), Contains("spike 1 has neuron id 1"));
    CHECK_THROWS_WITH(sg::spike_raster_svg(std::vector<float>{1.0f, -1.0f}, ids, 2, 5.0), Contains("spike 1 has time -1"));
    CHECK_THROWS_WITH(sg::spike_raster_svg(std::vector<float>{std::nanf(""), 1.0f}, ids, 2, 5.0), Contains("spike 0"));
    CHECK_THROWS_WITH(sg::spike_raster_svg(times, ids, 0, 5.0), Contains("num_neurons"));
    for (double bad : {0.0, -5.0, std::nan(""), std::numeric_limits<double>::infinity()})
        CHECK_THROWS_WITH(sg::spike_raster_svg(times, ids, 2, bad), Contains("duration_ms"));
    sg::RasterOptions narrow;
    narrow.width = 50;
    CHECK_THROWS_WITH(sg::spike_raster_svg(times, ids, 2, 5.0, narrow), Contains("width"));
    sg::RasterOptions thin;
    thin.spike_width = 0;
    CHECK_THROWS_WITH(sg::spike_raster_svg(times, ids, 2, 5.0, thin), Contains("spike_width"));
}

TEST_CASE("training_curve_svg: points, gaps, two axes and a legend", "[svg]") {
    const double nan = std::nan("");
    const std::vector<sg::TrainingSeries> series{
        {"train accuracy", {0.52, 0.61, 0.74, 0.83}},
        {"validation <acc> & co", {0.45, 0.58, nan, 0.71}},
        {"loss", {2.3, 1.4, 1.1, 0.92}, true},
    };
    sg::TrainingCurveOptions options;
    options.title = "Yin-Yang & friends";
    options.y_label = "accuracy";
    options.right_y_label = "loss";
    const std::string svg = sg::training_curve_svg(series, options);
    const Element root = parse(svg);
    check_inside_viewbox(root);
    CHECK(only(named(root, "title"), "title").text == "Yin-Yang & friends");

    const auto x_ticks = ticks(only(with_class(root, "x-axis"), "x axis"), false);
    const auto left_ticks = ticks(only(with_class(root, "y-axis"), "left axis"), true);
    const auto right_ticks = ticks(only(with_class(root, "y-axis-right"), "right axis"), true);
    CHECK(check_nice(x_ticks) >= 1.0);
    for (const auto& [x, epoch] : x_ticks) CHECK(epoch == std::round(epoch));
    CHECK(x_ticks.front().second == 1.0);
    CHECK(x_ticks.back().second == 4.0);
    // The axes cover their series.
    check_nice(left_ticks);
    check_nice(right_ticks);
    CHECK(left_ticks.front().second <= 0.45);
    CHECK(left_ticks.back().second >= 0.83);
    CHECK(right_ticks.front().second <= 0.92);
    CHECK(right_ticks.back().second >= 2.3);

    // Every drawn point maps back to (epoch, value) through the tick labels.
    const auto groups = with_class(root, "series");
    REQUIRE(groups.size() == 3);
    for (std::size_t k = 0; k < 3; ++k) {
        INFO("series " << series[k].name);
        const Element* line = nullptr;
        const Element* markers = nullptr;
        for (const Element& child : groups[k]->children) {
            if (child.has_class("line")) line = &child;
            if (child.has_class("markers")) markers = &child;
        }
        REQUIRE(line);
        REQUIRE(markers);
        const auto& y_ticks = series[k].right_axis ? right_ticks : left_ticks;
        std::vector<std::pair<double, double>> drawn;
        const auto parts = subpaths(line->attr("d"));
        for (const auto& part : parts)
            for (const Point& p : part) drawn.emplace_back(value_at(x_ticks, p.x), value_at(y_ticks, p.y));
        std::vector<std::pair<double, double>> expected;
        for (std::size_t e = 0; e < series[k].values.size(); ++e)
            if (std::isfinite(series[k].values[e])) expected.emplace_back(1.0 + double(e), series[k].values[e]);
        REQUIRE(drawn.size() == expected.size());
        for (std::size_t i = 0; i < drawn.size(); ++i) {
            CHECK(drawn[i].first == Approx(expected[i].first).margin(0.01));
            CHECK(drawn[i].second == Approx(expected[i].second).margin(0.002 * (y_ticks.back().second - y_ticks.front().second)));
        }
        // NaN breaks the line; one marker per finite value.
        CHECK(parts.size() == (k == 1 ? 2u : 1u));
        CHECK(subpaths(markers->attr("d")).size() == expected.size());
        CHECK(line->attributes.count("stroke-dasharray") == (series[k].right_axis ? 1u : 0u));
    }

    std::vector<std::string> legend;
    for (const Element& child : only(with_class(root, "legend"), "legend").children)
        if (child.name == "text") legend.push_back(child.text);
    CHECK(legend == std::vector<std::string>{"train accuracy", "validation <acc> & co", "loss (right)"});
    CHECK(svg.find("validation &lt;acc&gt; &amp; co") != std::string::npos);
    std::vector<std::string> labels;
    for (const Element* e : with_class(root, "axis-label")) labels.push_back(e->text);
    CHECK(labels == std::vector<std::string>{"epoch", "accuracy", "loss"});
}

TEST_CASE("training_curve_svg: one epoch, constant values, many epochs, errors", "[svg]") {
    sg::TrainingCurveOptions from_zero;
    from_zero.first_epoch = 0;
    const Element single = parse(sg::training_curve_svg({{"acc", {0.5}}}, from_zero));
    check_inside_viewbox(single);
    const auto x_ticks = ticks(only(with_class(single, "x-axis"), "x axis"), false);
    REQUIRE(x_ticks.size() == 1);
    CHECK(x_ticks[0].second == 0.0);
    CHECK(with_class(single, "line").size() == 1);

    const Element constant = parse(sg::training_curve_svg({{"acc", {1.0, 1.0, 1.0}}}));
    const auto y_ticks = ticks(only(with_class(constant, "y-axis"), "y axis"), true);
    check_nice(y_ticks);
    CHECK(y_ticks.front().second < 1.0);
    CHECK(y_ticks.back().second > 1.0);

    std::vector<double> long_run(300);
    for (std::size_t e = 0; e < long_run.size(); ++e) long_run[e] = 1.0 / double(e + 1);
    const std::vector<sg::TrainingSeries> only_right{{"loss", long_run, true}};
    const Element many = parse(sg::training_curve_svg(only_right));
    check_inside_viewbox(many);
    CHECK(with_class(many, "markers").empty());  // too many epochs for dots
    CHECK(with_class(many, "y-axis").empty());
    check_nice(ticks(only(with_class(many, "x-axis"), "x axis"), false));
    std::vector<std::string> legend;
    for (const Element& child : only(with_class(many, "legend"), "legend").children)
        if (child.name == "text") legend.push_back(child.text);
    CHECK(legend == std::vector<std::string>{"loss"});  // "(right)" only when both axes are used

    CHECK_THROWS_WITH(sg::training_curve_svg({}), Contains("no series"));
    CHECK_THROWS_WITH(sg::training_curve_svg({{"a", {}}, {"b", {}}}), Contains("every series is empty"));
    sg::TrainingCurveOptions narrow;
    narrow.width = 220;
    CHECK_THROWS_WITH(sg::training_curve_svg({{std::string(60, 'x'), {1.0, 2.0}}}, narrow), Contains("no room"));
    // All values non-finite: axes still drawn, no line.
    const Element all_nan = parse(sg::training_curve_svg({{"nan", {std::nan(""), std::nan("")}}}));
    CHECK(with_class(all_nan, "line").empty());
}

TEST_CASE("write_svg writes atomically and reports failures", "[svg]") {
    const fs::path dir = fs::absolute("write_svg_test");
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string svg = sg::spike_raster_svg(std::vector<float>{1.0f}, std::vector<std::uint32_t>{0}, 1, 2.0);

    const fs::path target = dir / "raster.svg";
    sg::write_svg(target, svg);
    CHECK(read_file(target) == svg);
    sg::write_svg(target, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");  // replaces the old file
    CHECK(read_file(target) == "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");

    CHECK_THROWS_WITH(sg::write_svg(dir / "missing" / "x.svg", svg),
                      Contains("write_svg") && Contains((dir / "missing").string()));
    fs::create_directories(dir / "occupied.svg");
    CHECK_THROWS_WITH(sg::write_svg(dir / "occupied.svg", svg), Contains("cannot replace") && Contains("occupied.svg"));
    CHECK_THROWS_WITH(sg::write_svg(fs::path(), svg), Contains("empty"));

    // No temporary files are left behind, whether writing worked or not.
    std::vector<std::string> left;
    for (const auto& entry : fs::directory_iterator(dir)) left.push_back(entry.path().filename().string());
    std::sort(left.begin(), left.end());
    CHECK(left == std::vector<std::string>{"occupied.svg", "raster.svg"});
    fs::remove_all(dir);
}
