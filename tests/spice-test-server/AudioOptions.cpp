#include "AudioOptions.h"

#include <cstdlib>
#include <string_view>

namespace saffron::testserver {

namespace {

std::optional<double> parseDouble(const std::string& s, double min, double max) {
    if (s.empty())
        return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !(v >= min && v <= max))
        return std::nullopt;
    return v;
}

} // namespace

bool parseAudioOption(const std::vector<std::string>& args, size_t& i, AudioOptions& o, std::string& error) {
    const std::string& a = args[i];
    if (a == "--audio-record") {
        o.record = true;
        return true;
    }
    if (a.rfind("--audio-", 0) != 0)
        return false;
    if (i + 1 >= args.size()) {
        error = "missing value for " + a;
        return true;
    }
    const std::string& v = args[++i];
    if (a == "--audio-playback") {
        if (v == "none") {
            o.playback = AudioOptions::Playback::None;
        } else if (v == "marker") {
            o.playback = AudioOptions::Playback::Marker;
        } else if (v.rfind("sine:", 0) == 0) {
            const auto hz = parseDouble(v.substr(5), 20, 20000);
            if (!hz) {
                error = "bad sine frequency (20..20000): " + v;
                return true;
            }
            o.playback = AudioOptions::Playback::Sine;
            o.sineHz = *hz;
        } else {
            error = "bad --audio-playback (none|sine:HZ|marker): " + v;
        }
    } else if (a == "--audio-clock-scale") {
        const auto f = parseDouble(v, 0.9, 1.1);
        if (!f)
            error = "bad clock scale (0.9..1.1): " + v;
        else
            o.clockScale = *f;
    } else if (a == "--audio-amplitude") {
        const auto f = parseDouble(v, 0, 1);
        if (!f)
            error = "bad amplitude (0..1): " + v;
        else
            o.amplitude = *f;
    } else if (a == "--audio-marker-ms") {
        const auto f = parseDouble(v, 100, 10000);
        if (!f)
            error = "bad marker interval (100..10000 ms): " + v;
        else
            o.markerIntervalMs = int(*f);
    } else if (a == "--audio-marker-log") {
        o.markerLog = v;
    } else if (a == "--audio-opus") {
        if (v != "on" && v != "off")
            error = "bad --audio-opus (on|off): " + v;
        else
            o.opus = v == "on";
    } else if (a == "--audio-rate") {
        const auto f = parseDouble(v, 8000, 96000);
        if (!f || *f != double(int(*f)))
            error = "bad audio rate (8000..96000): " + v;
        else
            o.rate = int(*f);
    } else {
        error = "unknown option: " + a;
    }
    return true;
}

} // namespace saffron::testserver
