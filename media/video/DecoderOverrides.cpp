#include "DecoderOverrides.h"

#include "MediaLog.h"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>

namespace saffron {

namespace {

// Joins message parts. Not `"'" + std::string(x) + "'"`: GCC 12 at -O3 reports a false
// -Wrestrict inside std::string's operator+ for that (GCC bug 105329), and we build with -Werror.
std::string concat(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (std::string_view p : parts)
        out.append(p);
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// GStreamer factory names are made of letters, digits, '-' and '_'; anything else (spaces, '!')
// would be a pipeline description, which we never build from text.
bool plausibleFactoryName(std::string_view name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '_';
    });
}

} // namespace

DecoderOverrides DecoderOverrides::parse(std::string_view text, std::vector<std::string>* problems) {
    DecoderOverrides result;
    auto complain = [&](std::string what) {
        if (problems) {
            problems->push_back(std::move(what));
        }
    };
    while (!text.empty()) {
        const size_t comma = text.find(',');
        const std::string_view item = trim(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (item.empty()) {
            continue;
        }
        const size_t eq = item.find('=');
        if (eq == std::string_view::npos) {
            complain(concat({"'", item, "' is not codec=element"}));
            continue;
        }
        const std::string_view codecName = trim(item.substr(0, eq));
        const std::string_view element = trim(item.substr(eq + 1));
        const auto codec = videoCodecFromName(codecName);
        if (!codec) {
            complain(concat({"unknown codec '", codecName, "'"}));
            continue;
        }
        if (!plausibleFactoryName(element)) {
            complain(concat({"'", element, "' is not an element name"}));
            continue;
        }
        result.forced[*codec] = std::string(element);
    }
    return result;
}

DecoderOverrides DecoderOverrides::merge(const DecoderOverrides& config,
                                         const DecoderOverrides& environment) {
    DecoderOverrides result = config;
    for (const auto& [codec, element] : environment.forced) {
        result.forced[codec] = element;
    }
    return result;
}

DecoderOverrides DecoderOverrides::fromConfigAndEnvironment(std::string_view config) {
    std::vector<std::string> problems;
    const DecoderOverrides fromConfig = parse(config, &problems);
    for (const auto& p : problems) {
        qCWarning(lcMedia) << "video decoder config override ignored:" << p.c_str();
    }
    problems.clear();
    const char* env = std::getenv(kDecoderOverrideEnv);
    const DecoderOverrides fromEnv = parse(env ? env : "", &problems);
    for (const auto& p : problems) {
        qCWarning(lcMedia) << kDecoderOverrideEnv << "entry ignored:" << p.c_str();
    }
    return merge(fromConfig, fromEnv);
}

} // namespace saffron
