#pragma once
// Plots as standalone SVG text (no dependency): spike rasters and training
// curves, and write_svg to save them atomically.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <spikegraph/data/dataset.hpp>
#include <spikegraph/error.hpp>
#include <spikegraph/file_io.hpp>
#include <spikegraph/fixed_string.hpp>
#include <spikegraph/train/spike_recorder.hpp>

namespace spikegraph {

namespace detail::svg {

inline constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD

// Text for XML content and attribute values: markup characters become
// entities; what XML 1.0 forbids (control characters, invalid UTF-8,
// U+FFFE/U+FFFF) becomes U+FFFD, so any user string gives well-formed XML.
inline std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            switch (c) {
                case '&': out += "&amp;"; break;
                case '<': out += "&lt;"; break;
                case '>': out += "&gt;"; break;
                case '"': out += "&quot;"; break;
                case '\'': out += "&apos;"; break;
                default:
                    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                        out += replacement_character;
                    else
                        out += char(c);
            }
            ++i;
            continue;
        }
        std::size_t length = 0;
        std::uint32_t code = 0;
        if (c >= 0xC2 && c <= 0xDF) length = 2, code = c & 0x1Fu;
        else if (c >= 0xE0 && c <= 0xEF) length = 3, code = c & 0x0Fu;
        else if (c >= 0xF0 && c <= 0xF4) length = 4, code = c & 0x07u;
        bool valid = length != 0 && i + length <= text.size();
        for (std::size_t k = 1; valid && k < length; ++k) {
            const auto b = static_cast<unsigned char>(text[i + k]);
            valid = (b & 0xC0u) == 0x80u;
            code = (code << 6) | (b & 0x3Fu);
        }
        valid = valid && !(length == 3 && code < 0x800) && !(length == 4 && code < 0x10000) && code <= 0x10FFFF &&
                !(code >= 0xD800 && code <= 0xDFFF) && code != 0xFFFE && code != 0xFFFF;
        if (valid) {
            out.append(text.substr(i, length));
            i += length;
        } else {
            out += replacement_character;
            ++i;
        }
    }
    return out;
}

// Characters (code points) of UTF-8 text, to estimate how wide it is drawn.
inline std::size_t text_length(std::string_view text) {
    return std::size_t(std::count_if(text.begin(), text.end(),
                                     [](char c) { return (static_cast<unsigned char>(c) & 0xC0u) != 0x80u; }));
}
// Generous average glyph width of sans-serif text (DejaVu Sans is wide), as
// a fraction of the font size: layout reserves at least this much.
inline double text_width(std::string_view text, double font_size) {
    return double(text_length(text)) * font_size * 0.68;
}

// Locale-independent fixed notation, by default without trailing zeros
// ("12.5", "3"); tick labels keep them so a column reads 0.8, 0.9, 1.0.
inline std::string number(double value, int decimals = 2, bool trim = true) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, decimals);
    std::string text(buffer, result.ptr);
    if (trim && text.find('.') != std::string::npos) {
        while (text.back() == '0') text.pop_back();
        if (text.back() == '.') text.pop_back();
    }
    if (text.find_first_not_of("-0.") == std::string::npos && text[0] == '-') text.erase(0, 1);  // no "-0.0"
    return text;
}

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `target`
// intervals over `span` (> 0).
inline double nice_step(double span, double target) {
    const double raw = span / target;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double scaled = raw / magnitude;
    const double mantissa = scaled <= 1.0 ? 1.0 : scaled <= 2.0 ? 2.0 : scaled <= 5.0 ? 5.0 : 10.0;
    return mantissa * magnitude;
}
// Decimals that print every multiple of step exactly (step from nice_step).
inline int step_decimals(double step) { return std::max(0, int(-std::floor(std::log10(step) + 1e-9))); }

struct Tick {
    double value;
    std::string label;
};

// Multiples of step within [lo, hi] (with a little slack for rounding).
inline std::vector<Tick> ticks_between(double lo, double hi, double step) {
    std::vector<Tick> ticks;
    const int decimals = step_decimals(step);
    const double first = std::ceil(lo / step - 1e-9);
    for (double k = first; k * step <= hi + step * 1e-9; k += 1.0) ticks.push_back({k * step, number(k * step, decimals, false)});
    return ticks;
}

// The plot area in px: x grows rightwards, y downwards.
struct Frame {
    double left, right, top, bottom;
};

inline void open_document(std::string& out, double width, double height, std::string_view title) {
    const std::string w = number(width), h = number(height);
    out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h + "\" viewBox=\"0 0 " + w +
           " " + h + "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n";
    if (!title.empty()) out += "<title>" + escape(title) + "</title>\n";
    out += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" + w + "\" height=\"" + h + "\" fill=\"#ffffff\"/>\n";
    if (!title.empty())
        out += "<text class=\"title\" x=\"" + number(width / 2) +
               "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\" fill=\"#222222\">" +
               escape(title) + "</text>\n";
}

// Light grid lines, then tick marks and labels for the x axis (below the
// frame) and the y axis (left or right of it); positions already in px.
inline void vertical_grid(std::string& out, const Frame& f, const std::vector<double>& xs) {
    if (xs.empty()) return;
    out += "<path class=\"grid\" fill=\"none\" stroke=\"#e6e6e6\" stroke-width=\"1\" d=\"";
    for (double x : xs) out += "M" + number(x) + " " + number(f.top) + "V" + number(f.bottom);
    out += "\"/>\n";
}
inline void horizontal_grid(std::string& out, const Frame& f, const std::vector<double>& ys) {
    if (ys.empty()) return;
    out += "<path class=\"grid\" fill=\"none\" stroke=\"#e6e6e6\" stroke-width=\"1\" d=\"";
    for (double y : ys) out += "M" + number(f.left) + " " + number(y) + "H" + number(f.right);
    out += "\"/>\n";
}
inline void x_axis(std::string& out, const Frame& f, const std::vector<std::pair<double, std::string>>& ticks,
                   std::string_view label) {
    out += "<g class=\"x-axis\" fill=\"#333333\">\n<path fill=\"none\" stroke=\"#333333\" stroke-width=\"1\" d=\"";
    for (const auto& [x, text] : ticks) out += "M" + number(x) + " " + number(f.bottom) + "v5";
    out += "\"/>\n";
    for (const auto& [x, text] : ticks)
        out += "<text x=\"" + number(x) + "\" y=\"" + number(f.bottom + 18) + "\" text-anchor=\"middle\">" +
               escape(text) + "</text>\n";
    if (!label.empty())
        out += "<text class=\"axis-label\" x=\"" + number((f.left + f.right) / 2) + "\" y=\"" +
               number(f.bottom + 36) + "\" text-anchor=\"middle\" font-size=\"13\">" + escape(label) + "</text>\n";
    out += "</g>\n";
}
inline void y_axis(std::string& out, const Frame& f, const std::vector<std::pair<double, std::string>>& ticks,
                   std::string_view label, bool right, double label_x) {
    const double edge = right ? f.right : f.left;
    out += std::string("<g class=\"") + (right ? "y-axis-right" : "y-axis") +
           "\" fill=\"#333333\">\n<path fill=\"none\" stroke=\"#333333\" stroke-width=\"1\" d=\"";
    for (const auto& [y, text] : ticks) out += "M" + number(edge) + " " + number(y) + "h" + (right ? "5" : "-5");
    out += "\"/>\n";
    for (const auto& [y, text] : ticks)
        out += "<text x=\"" + number(right ? edge + 8 : edge - 8) + "\" y=\"" + number(y + 4) + "\" text-anchor=\"" +
               (right ? "start" : "end") + "\">" + escape(text) + "</text>\n";
    if (!label.empty()) {
        const std::string x = number(label_x), y = number((f.top + f.bottom) / 2);
        out += "<text class=\"axis-label\" x=\"" + x + "\" y=\"" + y + "\" text-anchor=\"middle\" font-size=\"13\" "
               "transform=\"rotate(-90 " + x + " " + y + ")\">" + escape(label) + "</text>\n";
    }
    out += "</g>\n";
}
inline void frame_box(std::string& out, const Frame& f) {
    out += "<rect class=\"frame\" x=\"" + number(f.left) + "\" y=\"" + number(f.top) + "\" width=\"" +
           number(f.right - f.left) + "\" height=\"" + number(f.bottom - f.top) +
           "\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>\n";
}

inline void check_size(std::string_view name, double width, double height) {
    if (!(std::isfinite(width) && width >= 200.0 && width <= 1e5))
        throw_invalid(name, ": width must be in [200, 100000] px, got ", width);
    if (!(std::isfinite(height) && height >= 150.0 && height <= 1e5))
        throw_invalid(name, ": height must be in [150, 100000] px, got ", height);
}

}  // namespace detail::svg

struct RasterOptions {
    std::string title;
    double width = 800.0;   // px
    double height = 400.0;  // px
    std::string x_label = "time [ms]";
    std::string y_label = "neuron";
    std::string color = "#1f4e79";  // of the spike marks (any SVG colour)
    double spike_width = 1.5;       // px, stroke width of a spike mark
};

// A spike raster: one short vertical mark per spike at (time, neuron), time
// on x from 0 to duration_ms, neuron 0 at the bottom. All marks are one <path
// class="spikes">, so the file grows by about 20 bytes a spike. Spikes after
// duration_ms are not drawn (a note says how many), so a window of a long
// recording can be plotted; negative or non-finite times and ids >=
// num_neurons are errors.
inline std::string spike_raster_svg(std::span<const float> times, std::span<const std::uint32_t> ids,
                                    std::size_t num_neurons, double duration_ms, const RasterOptions& options = {}) {
    namespace svg = detail::svg;
    constexpr std::string_view name = "spike_raster_svg";
    svg::check_size(name, options.width, options.height);
    if (times.size() != ids.size())
        detail::throw_invalid(name, ": ", times.size(), " spike times but ", ids.size(), " neuron ids");
    if (num_neurons == 0) detail::throw_invalid(name, ": num_neurons must be > 0");
    if (!(std::isfinite(duration_ms) && duration_ms > 0.0))
        detail::throw_invalid(name, ": duration_ms must be finite and > 0, got ", duration_ms);
    if (!(std::isfinite(options.spike_width) && options.spike_width > 0.0))
        detail::throw_invalid(name, ": spike_width must be finite and > 0 px, got ", options.spike_width);

    // Room on the left for the longest neuron label and the rotated axis label.
    const double label_width = svg::text_width(std::to_string(num_neurons - 1), 12);
    const svg::Frame f{32.0 + label_width, options.width - 20.0, options.title.empty() ? 16.0 : 40.0,
                       options.height - 48.0};
    const double plot_width = f.right - f.left, plot_height = f.bottom - f.top;

    std::string out;
    svg::open_document(out, options.width, options.height, options.title);

    const double x_step = svg::nice_step(duration_ms, std::clamp(plot_width / 90.0, 2.0, 10.0));
    std::vector<std::pair<double, std::string>> x_ticks;
    std::vector<double> grid;
    for (const auto& tick : svg::ticks_between(0.0, duration_ms, x_step)) {
        const double x = f.left + tick.value / duration_ms * plot_width;
        x_ticks.emplace_back(x, tick.label);
        if (tick.value > 0.0 && tick.value < duration_ms * (1 - 1e-9)) grid.push_back(x);
    }
    svg::vertical_grid(out, f, grid);

    const double row = plot_height / double(num_neurons);  // px per neuron
    const double y_step = std::max(1.0, svg::nice_step(double(num_neurons), std::clamp(plot_height / 45.0, 2.0, 10.0)));
    std::vector<std::pair<double, std::string>> y_ticks;
    for (const auto& tick : svg::ticks_between(0.0, double(num_neurons - 1), y_step))
        y_ticks.emplace_back(f.bottom - (tick.value + 0.5) * row, tick.label);

    // A mark spans 80% of its row; thin rows are filled up to 2.5 px to stay
    // visible, and marks are at least 1 px (neighbouring rows may then overlap).
    const double mark = std::max({0.8 * row, std::min(row, 2.5), 1.0});
    std::string path;
    path.reserve(times.size() * 20);
    std::size_t drawn = 0, late = 0;
    for (std::size_t i = 0; i < times.size(); ++i) {
        const float t = times[i];
        if (!(std::isfinite(t) && t >= 0.0f))
            detail::throw_invalid(name, ": spike ", i, " has time ", t, " ms, expected a finite time >= 0");
        if (ids[i] >= num_neurons)
            detail::throw_invalid(name, ": spike ", i, " has neuron id ", ids[i], ", expected < ", num_neurons);
        if (double(t) > duration_ms) {
            ++late;
            continue;
        }
        const double x = f.left + double(t) / duration_ms * plot_width;
        const double centre = f.bottom - (double(ids[i]) + 0.5) * row;
        const double top = std::clamp(centre - mark / 2, f.top, f.bottom - mark);
        path += "M" + svg::number(x) + " " + svg::number(top) + "v" + svg::number(mark);
        ++drawn;
    }
    if (!path.empty())
        out += "<path class=\"spikes\" fill=\"none\" stroke=\"" + svg::escape(options.color) + "\" stroke-width=\"" +
               svg::number(options.spike_width) + "\" d=\"" + path + "\"/>\n";

    svg::frame_box(out, f);
    svg::x_axis(out, f, x_ticks, options.x_label);
    svg::y_axis(out, f, y_ticks, options.y_label, false, 14.0);
    std::string note = std::to_string(drawn) + (drawn == 1 ? " spike" : " spikes");
    if (late > 0) note += ", " + std::to_string(late) + " after " + svg::number(duration_ms) + " ms not shown";
    out += "<text class=\"note\" x=\"" + svg::number(f.right) + "\" y=\"" + svg::number(options.height - 8) +
           "\" text-anchor=\"end\" font-size=\"11\" fill=\"#666666\">" + svg::escape(note) + "</text>\n";
    out += "</svg>\n";
    return out;
}

// One example's input events.
inline std::string spike_raster_svg(const SpikeEvents& events, std::size_t num_neurons, double duration_ms,
                                    const RasterOptions& options = {}) {
    return spike_raster_svg(events.times, events.ids, num_neurons, duration_ms, options);
}

// The spikes a SpikeRecorder recorded for dataset example `example`; without
// a title, "<population> spikes, example <example>".
template <FixedString Population>
std::string spike_raster_svg(const SpikeRecorder<Population>& recorder, std::size_t example, std::size_t num_neurons,
                             double duration_ms, RasterOptions options = {}) {
    const auto& recorded = recorder.recorded_examples;
    const auto found = std::find(recorded.begin(), recorded.end(), example);
    if (found == recorded.end() || recorder.spike_times.size() != recorded.size() ||
        recorder.spike_ids.size() != recorded.size()) {
        std::string held;
        for (std::size_t k = 0; k < recorded.size() && k < 5; ++k) held += (k ? ", " : "") + std::to_string(recorded[k]);
        if (recorded.size() > 5) held += ", ...";
        detail::throw_invalid("spike_raster_svg: SpikeRecorder<\"", name_view<Population>, "\"> has no spikes of example ",
                              example, " (it recorded ", recorded.size(), " examples",
                              recorded.empty() ? std::string() : ": " + held, ")");
    }
    const auto k = std::size_t(found - recorded.begin());
    if (options.title.empty())
        options.title = std::string(name_view<Population>) + " spikes, example " + std::to_string(example);
    return spike_raster_svg(recorder.spike_times[k], recorder.spike_ids[k], num_neurons, duration_ms, options);
}

// One curve of a training plot: a value per epoch (NaN or inf leaves a gap).
struct TrainingSeries {
    std::string name;
    std::vector<double> values;
    bool right_axis = false;  // plot against a second y axis on the right (e.g. loss next to accuracy)
};

struct TrainingCurveOptions {
    std::string title;
    double width = 800.0;   // px
    double height = 420.0;  // px
    std::string x_label = "epoch";
    std::string y_label;        // left axis
    std::string right_y_label;  // right axis, when a series uses it
    std::size_t first_epoch = 1;  // the epoch number of values[0]
    bool markers = true;          // dots at the values, for up to 60 epochs
};

// Training curves (e.g. train/validation accuracy, loss on a right axis)
// against the epoch, with nice ticks and a legend to the right of the plot.
inline std::string training_curve_svg(const std::vector<TrainingSeries>& series,
                                      const TrainingCurveOptions& options = {}) {
    namespace svg = detail::svg;
    constexpr std::string_view name = "training_curve_svg";
    svg::check_size(name, options.width, options.height);
    if (series.empty()) detail::throw_invalid(name, ": no series to plot");
    if (series.size() > 64) detail::throw_invalid(name, ": ", series.size(), " series; at most 64 fit a legend");

    // Value ranges of the two axes over finite values.
    struct Range {
        double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
        bool used = false;
    } ranges[2];
    std::size_t epochs = 0;
    for (const TrainingSeries& s : series) {
        epochs = std::max(epochs, s.values.size());
        Range& r = ranges[s.right_axis];
        r.used = true;
        for (double v : s.values)
            if (std::isfinite(v)) r.lo = std::min(r.lo, v), r.hi = std::max(r.hi, v);
    }
    if (epochs == 0) detail::throw_invalid(name, ": every series is empty; nothing to plot");
    const bool has_right = ranges[1].used, has_left = ranges[0].used;

    auto series_name = [&](std::size_t k) {
        std::string text = series[k].name.empty() ? "series " + std::to_string(k + 1) : series[k].name;
        if (has_right && has_left && series[k].right_axis) text += " (right)";
        return text;
    };
    double legend_text = 0.0;
    for (std::size_t k = 0; k < series.size(); ++k) legend_text = std::max(legend_text, svg::text_width(series_name(k), 12));
    // Gap, line sample, gap, the longest name, margin.
    const double legend_width = 16.0 + 30.0 + legend_text + 12.0;

    // Nice axis ranges: extended to multiples of the tick step.
    const double top = options.title.empty() ? 16.0 : 40.0, bottom = options.height - 48.0;
    const double target = std::clamp((bottom - top) / 55.0, 2.0, 10.0);
    struct Axis {
        double lo = 0.0, hi = 1.0;
        std::vector<svg::Tick> ticks;
        double label_width = 0.0;
    } axes[2];
    for (int a = 0; a < 2; ++a) {
        if (!ranges[a].used) continue;
        double lo = ranges[a].lo, hi = ranges[a].hi;
        if (lo > hi) lo = 0.0, hi = 1.0;  // no finite value at all
        if (lo == hi) {
            const double pad = lo != 0.0 ? std::fabs(lo) * 0.1 : 1.0;
            lo -= pad, hi += pad;
        }
        const double step = svg::nice_step(hi - lo, target);
        axes[a].lo = std::floor(lo / step + 1e-9) * step;
        axes[a].hi = std::ceil(hi / step - 1e-9) * step;
        axes[a].ticks = svg::ticks_between(axes[a].lo, axes[a].hi, step);
        for (const auto& tick : axes[a].ticks)
            axes[a].label_width = std::max(axes[a].label_width, svg::text_width(tick.label, 12));
    }
    const double left = (has_left ? 38.0 + axes[0].label_width : 20.0);
    const double right_axis_room = has_right ? 36.0 + axes[1].label_width : 0.0;
    const svg::Frame f{left, options.width - legend_width - right_axis_room, top, bottom};
    if (f.right - f.left < 60.0)
        detail::throw_invalid(name, ": width ", options.width, " px leaves no room for the plot next to the legend");

    // Epochs on x, integer ticks only; a little padding keeps end markers off the frame.
    const double first = double(options.first_epoch), last = first + double(epochs - 1);
    const double x_pad = epochs == 1 ? 0.5 : (last - first) * 0.03;
    const double x_lo = first - x_pad, x_hi = last + x_pad;
    const double plot_width = f.right - f.left, plot_height = f.bottom - f.top;
    auto x_of = [&](double epoch) { return f.left + (epoch - x_lo) / (x_hi - x_lo) * plot_width; };
    auto y_of = [&](int a, double v) { return f.bottom - (v - axes[a].lo) / (axes[a].hi - axes[a].lo) * plot_height; };

    std::string out;
    svg::open_document(out, options.width, options.height, options.title);

    const double x_step =
        std::max(1.0, svg::nice_step(std::max(last - first, 1.0), std::clamp(plot_width / 60.0, 2.0, 10.0)));
    std::vector<std::pair<double, std::string>> x_ticks;
    std::vector<double> x_grid;
    for (const auto& tick : svg::ticks_between(first, last, x_step)) {
        x_ticks.emplace_back(x_of(tick.value), tick.label);
        x_grid.push_back(x_of(tick.value));
    }
    const int grid_axis = has_left ? 0 : 1;
    std::vector<std::pair<double, std::string>> y_ticks[2];
    std::vector<double> y_grid;
    for (int a = 0; a < 2; ++a)
        for (const auto& tick : axes[a].ticks) {
            y_ticks[a].emplace_back(y_of(a, tick.value), tick.label);
            if (a == grid_axis && tick.value > axes[a].lo && tick.value < axes[a].hi) y_grid.push_back(y_of(a, tick.value));
        }
    svg::vertical_grid(out, f, x_grid);
    svg::horizontal_grid(out, f, y_grid);

    static constexpr std::string_view palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    const bool draw_markers = options.markers && epochs <= 60;
    for (std::size_t k = 0; k < series.size(); ++k) {
        const TrainingSeries& s = series[k];
        const int a = s.right_axis ? 1 : 0;
        const std::string colour(palette[k % std::size(palette)]);
        std::string line, dots;
        bool pen_down = false;
        for (std::size_t e = 0; e < s.values.size(); ++e) {
            if (!std::isfinite(s.values[e])) {
                pen_down = false;
                continue;
            }
            const std::string point = svg::number(x_of(first + double(e))) + " " + svg::number(y_of(a, s.values[e]));
            line += (pen_down ? "L" : "M") + point;
            dots += "M" + point + "h0";
            pen_down = true;
        }
        out += "<g class=\"series\">\n";
        if (!line.empty())
            out += "<path class=\"line\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"2\"" +
                   (s.right_axis ? " stroke-dasharray=\"7 4\"" : "") +
                   " stroke-linejoin=\"round\" stroke-linecap=\"round\" d=\"" + line + "\"/>\n";
        if (draw_markers && !dots.empty())
            out += "<path class=\"markers\" fill=\"none\" stroke=\"" + colour +
                   "\" stroke-width=\"6\" stroke-linecap=\"round\" d=\"" + dots + "\"/>\n";
        out += "</g>\n";
    }

    svg::frame_box(out, f);
    svg::x_axis(out, f, x_ticks, options.x_label);
    if (has_left) svg::y_axis(out, f, y_ticks[0], options.y_label, false, 14.0);
    if (has_right) svg::y_axis(out, f, y_ticks[1], options.right_y_label, true, f.right + right_axis_room - 8.0);

    // Legend: a line sample and the name of each series.
    const double legend_x = f.right + right_axis_room + 16.0;
    out += "<g class=\"legend\" fill=\"#222222\">\n";
    for (std::size_t k = 0; k < series.size(); ++k) {
        const double y = f.top + 12.0 + 20.0 * double(k);
        out += "<path fill=\"none\" stroke=\"" + std::string(palette[k % std::size(palette)]) + "\" stroke-width=\"2\"" +
               (series[k].right_axis ? " stroke-dasharray=\"7 4\"" : "") + " d=\"M" + svg::number(legend_x) + " " +
               svg::number(y) + "h24\"/>\n";
        out += "<text x=\"" + svg::number(legend_x + 30.0) + "\" y=\"" + svg::number(y + 4.0) + "\">" +
               svg::escape(series_name(k)) + "</text>\n";
    }
    out += "</g>\n</svg>\n";
    return out;
}

// Writes svg to path atomically (temporary file beside it, fsync, rename;
// detail/spikegraph/file_io.hpp), so readers never see a partial plot and a
// failed write leaves any previous file untouched.
inline void write_svg(const std::filesystem::path& path, std::string_view svg) {
    if (path.empty()) detail::throw_invalid("write_svg: the path is empty");
    detail::write_bytes_atomically(path, svg.data(), svg.size(), "write_svg: SVG file");
}

}  // namespace spikegraph
