#include "DecoderSelector.h"

#include "DecoderProbe.h"
#include "MediaLog.h"
#include "ProbeCache.h"
#include "SampleStreams.h"

#include <algorithm>

namespace saffron {

// Hardware decoders cost next to no CPU, so the codec with the best compression for desktop video
// wins: H.264 (what spice-server and every hardware encoder produce best), then H.265 (hardware
// encoders only on the server side, less tested), VP9, VP8, MJPEG (bandwidth hog).
const std::array<VideoCodec, 5> DecoderSelector::kHardwareOrder = {
    VideoCodec::H264, VideoCodec::H265, VideoCodec::Vp9, VideoCodec::Vp8, VideoCodec::Mjpeg};
// Software: cheapest decode first, measured by tests/bench-video (bench_video --codecs: CPU time
// per 1080p frame of the same moving content, ~10 Mbit/s for the inter codecs; figures in
// tests/bench-video/README.md). Codecs within ~10% of each other count as equal and the one that
// needs fewer bits goes first: H.264 (4.0 ms) before MJPEG (3.8 ms, but three times the bitrate);
// then VP8 (6.3 ms); VP9 and H.265 tie (~12 ms), VP9 first because spice-server encodes it in
// software, H.265 only with Intel hardware encoders.
const std::array<VideoCodec, 5> DecoderSelector::kSoftwareCostOrder = {
    VideoCodec::H264, VideoCodec::Mjpeg, VideoCodec::Vp8, VideoCodec::Vp9, VideoCodec::H265};

namespace {

std::mutex g_defaultMutex;
std::shared_ptr<DecoderSelector> g_default;

size_t codecIndex(VideoCodec codec) {
    return static_cast<size_t>(std::find(kAllVideoCodecs.begin(), kAllVideoCodecs.end(), codec) -
                               kAllVideoCodecs.begin());
}

bool usable(const CandidateStatus& c) {
    return c.state == CandidateState::Untested || c.state == CandidateState::Working;
}

// A stream that declares more chroma than 4:2:0, which many hardware decoders refuse.
bool beyond420(ChromaFormat format) {
    return format != ChromaFormat::Unknown && format != ChromaFormat::Yuv420;
}

} // namespace

DecoderSelector::DecoderSelector(std::shared_ptr<const ElementFactoryRegistry> registry, Options options)
    : m_registry(std::move(registry)), m_options(std::move(options)) {}

std::shared_ptr<DecoderSelector> DecoderSelector::processDefault() {
    std::lock_guard lock(g_defaultMutex);
    if (!g_default) {
        Options options;
        options.overrides = DecoderOverrides::fromConfigAndEnvironment({});
        options.probeCache = std::make_shared<ProbeCache>();
        g_default = std::make_shared<DecoderSelector>(std::make_shared<GstElementFactoryRegistry>(), options);
    }
    return g_default;
}

void DecoderSelector::configureProcessDefault(std::string_view configOverrides) {
    Options options;
    options.overrides = DecoderOverrides::fromConfigAndEnvironment(configOverrides);
    options.probeCache = std::make_shared<ProbeCache>();
    auto selector = std::make_shared<DecoderSelector>(std::make_shared<GstElementFactoryRegistry>(), options);
    std::lock_guard lock(g_defaultMutex);
    g_default = std::move(selector);
}

DecoderSelector::CodecState& DecoderSelector::state(VideoCodec codec) const {
    return m_states.at(codecIndex(codec));
}

void DecoderSelector::buildLocked(VideoCodec codec, CodecState& s) const {
    if (s.built) {
        return;
    }
    s.built = true;
    std::vector<DecoderCandidate> list = builtinCandidates(codec);
    if (auto forced = m_options.overrides.forced.find(codec); forced != m_options.overrides.forced.end()) {
        auto it = std::find_if(list.begin(), list.end(),
                               [&](const auto& c) { return c.element == forced->second; });
        DecoderCandidate candidate;
        if (it != list.end()) {
            candidate = *it;
            list.erase(it);
        } else {
            candidate = {forced->second, m_registry->isHardware(forced->second)};
        }
        candidate.forced = true;
        list.insert(list.begin(), candidate);
    }
    for (const auto& candidate : list) {
        CandidateStatus status;
        status.candidate = candidate;
        // Presence is a cheap registry lookup, so it is known for every candidate up front (and
        // the log can say which hardware decoders are absent); probing waits until needed.
        if (!m_registry->exists(candidate.element)) {
            status.state = CandidateState::Absent;
            status.detail = "absent";
        }
        s.list.push_back(std::move(status));
    }
}

ProbeResult DecoderSelector::cachedProbeLocked(VideoCodec codec, const std::string& element,
                                               ChromaFormat format, bool* fromCache) {
    // 4:2:0 results are cached under the element's name, 4:4:4 ones beside them.
    const std::string key = format == ChromaFormat::Yuv444 ? element + " 4:4:4" : element;
    const auto cached = m_options.probeCache ? m_options.probeCache->find(codec, key) : std::nullopt;
    *fromCache = cached && m_registry->exists(element);
    if (*fromCache)
        return {cached->ok, cached->ok ? "probe ok (cached)" : cached->detail};
    ProbeResult result = probeDecoder(*m_registry, codec, element, m_options.probeTimeout, format);
    // "absent" is a registry lookup, not worth remembering; a timeout may be a busy machine.
    if (m_options.probeCache && result.detail != "absent" &&
        result.detail.find("timeout") == std::string::npos)
        m_options.probeCache->store(codec, key, {result.ok, result.detail});
    return result;
}

bool DecoderSelector::ensureProbedLocked(VideoCodec codec, CodecState& s, size_t index) {
    CandidateStatus& c = s.list.at(index);
    if (c.state != CandidateState::Untested) {
        return c.state == CandidateState::Working;
    }
    bool cached = false;
    const ProbeResult result = cachedProbeLocked(codec, c.candidate.element, ChromaFormat::Yuv420, &cached);
    c.state = result.ok ? CandidateState::Working
                        : (result.detail == "absent" ? CandidateState::Absent : CandidateState::Failed);
    c.detail = result.ok ? (cached ? "probe ok (cached)" : "probe ok") : result.detail;
    if (c.candidate.forced && !result.ok) {
        qCWarning(lcMedia).noquote() << QString::fromUtf8(videoCodecName(codec).data()) + ":"
                                     << "forced decoder" << QString::fromStdString(c.candidate.element) << "("
                                     << kDecoderOverrideEnv
                                     << "or config) does not work:" << QString::fromStdString(c.detail)
                                     << "- falling back to normal selection";
    }
    return result.ok;
}

std::vector<size_t> DecoderSelector::orderLocked(const CodecState& s) const {
    std::vector<size_t> order;
    for (size_t i = 0; i < s.list.size(); ++i) {
        if (usable(s.list[i]) && !s.list[i].demoted) {
            order.push_back(i);
        }
    }
    for (size_t i = 0; i < s.list.size(); ++i) {
        if (usable(s.list[i]) && s.list[i].demoted) {
            order.push_back(i);
        }
    }
    return order;
}

bool DecoderSelector::handlesLocked(VideoCodec codec, CodecState& s, size_t index, ChromaFormat format) {
    CandidateStatus& c = s.list.at(index);
    if (!beyond420(format) || !c.candidate.hardware) {
        return true;
    }
    if (format == ChromaFormat::Yuv422) {
        return false;
    }
    if (c.state444 == CandidateState::Untested) {
        bool cached = false;
        const ProbeResult result =
            cachedProbeLocked(codec, c.candidate.element, ChromaFormat::Yuv444, &cached);
        c.state444 = result.ok ? CandidateState::Working : CandidateState::Failed;
        c.detail444 = result.ok ? (cached ? "probe ok (cached)" : "probe ok") : result.detail;
    }
    return c.state444 == CandidateState::Working;
}

std::optional<size_t> DecoderSelector::selectLocked(VideoCodec codec, CodecState& s, ChromaFormat format) {
    buildLocked(codec, s);
    std::optional<size_t> chosen;
    std::optional<size_t> plain; // the choice when the format is left aside
    std::string formatLog;
    for (size_t index : orderLocked(s)) {
        if (!ensureProbedLocked(codec, s, index)) {
            continue;
        }
        if (!plain) {
            plain = index;
        }
        const bool handled = handlesLocked(codec, s, index, format);
        const CandidateStatus& c = s.list[index];
        if (c.candidate.hardware && beyond420(format)) {
            formatLog += (formatLog.empty() ? "" : ", ") + c.candidate.element +
                         (format == ChromaFormat::Yuv422
                              ? " skipped (4:2:0 hardware)"
                              : " 4:4:4 " + (handled ? c.detail444 : "probe failed (" + c.detail444 + ")"));
        }
        if (handled) {
            chosen = index;
            break;
        }
    }
    if (!s.reported) {
        s.reported = true;
        qCInfo(lcMedia).noquote() << QString::fromStdString(summaryLocked(codec, s, plain));
    }
    if (beyond420(format) && !s.reported444) {
        s.reported444 = true;
        const std::string which =
            chosen ? s.list[*chosen].candidate.element +
                         (s.list[*chosen].candidate.hardware ? " (hardware)" : " (software)")
                   : "nothing decodes it; trying the usual choice";
        qCInfo(lcMedia).noquote() << QString::fromUtf8(videoCodecName(codec).data()) + " " +
                                         QString::fromUtf8(chromaFormatName(format).data()) + ":"
                                  << QString::fromStdString(formatLog.empty() ? which
                                                                              : formatLog + " -> " + which);
    }
    return chosen ? chosen : plain;
}

std::string DecoderSelector::summaryLocked(VideoCodec codec, const CodecState& s,
                                           std::optional<size_t> chosen) const {
    std::string text = std::string(videoCodecName(codec)) + ": ";
    bool first = true;
    for (size_t i = 0; i < s.list.size(); ++i) {
        const CandidateStatus& c = s.list[i];
        if (c.state == CandidateState::Untested || (c.demoted && chosen != i)) {
            if (c.demoted) {
                text += (first ? "" : ", ") + c.candidate.element + " demoted (" +
                        std::to_string(c.streamErrors) + " stream errors)";
                first = false;
            }
            continue;
        }
        text += first ? "" : ", ";
        first = false;
        if (c.candidate.forced) {
            text += "forced ";
        }
        text += c.candidate.element;
        if (c.state == CandidateState::Absent) {
            text += " absent";
        } else if (c.state == CandidateState::Failed) {
            text += " probe failed (" + c.detail + ")";
        } else {
            text += c.detail == "probe ok (cached)" ? " probe ok (cached)" : " probe ok";
            if (chosen == i) {
                text += c.candidate.hardware ? " (hardware)" : " (software)";
            }
        }
        if (chosen == i) {
            break;
        }
    }
    if (!chosen) {
        text += first ? "no decoder, not decodable" : " -> not decodable";
    }
    return text;
}

CodecSupport DecoderSelector::support(VideoCodec codec) {
    CodecState& s = state(codec);
    std::lock_guard lock(s.mutex);
    return supportLocked(codec, s);
}

CodecSupport DecoderSelector::supportLocked(VideoCodec codec, CodecState& s) {
    const auto chosen = selectLocked(codec, s);
    // Without a 4:4:4 sample (MJPEG, VP8) the question does not arise.
    const bool has444Sample = !sampleFrames444(codec).empty();
    CodecSupport result;
    result.codec = codec;
    result.decodable = chosen.has_value();
    if (chosen) {
        result.hardware = s.list[*chosen].candidate.hardware;
        result.forced = s.list[*chosen].candidate.forced;
        result.element = s.list[*chosen].candidate.element;
        result.decodes444 = has444Sample && handlesLocked(codec, s, *chosen, ChromaFormat::Yuv444);
    }
    result.summary = summaryLocked(codec, s, chosen);
    if (result.hardware && has444Sample && !result.decodes444) {
        result.summary += ", 4:2:0 only";
    }
    return result;
}

std::optional<CodecSupport> DecoderSelector::settledSupport(VideoCodec codec) {
    CodecState& s = state(codec);
    std::unique_lock lock(s.mutex, std::try_to_lock);
    if (!lock.owns_lock())
        return std::nullopt; // a probe is running right now
    buildLocked(codec, s);
    for (size_t index : orderLocked(s)) {
        const CandidateStatus& c = s.list[index];
        if (c.state == CandidateState::Untested)
            return std::nullopt; // the answer needs a probe
        if (c.state == CandidateState::Working) {
            if (c.candidate.hardware && c.state444 == CandidateState::Untested &&
                !sampleFrames444(codec).empty())
                return std::nullopt; // so does its 4:4:4 answer
            break;
        }
    }
    // Every candidate up to the chosen one (or all of them) has its result: no probe runs here.
    return supportLocked(codec, s);
}

std::vector<CodecSupport> DecoderSelector::probeAll() {
    std::vector<CodecSupport> all;
    for (VideoCodec codec : kAllVideoCodecs) {
        all.push_back(support(codec));
    }
    return all;
}

std::optional<DecoderCandidate> DecoderSelector::select(VideoCodec codec, ChromaFormat format) {
    CodecState& s = state(codec);
    std::lock_guard lock(s.mutex);
    const auto chosen = selectLocked(codec, s, format);
    if (!chosen) {
        return std::nullopt;
    }
    return s.list[*chosen].candidate;
}

bool DecoderSelector::handles(VideoCodec codec, const std::string& element, ChromaFormat format) {
    CodecState& s = state(codec);
    std::lock_guard lock(s.mutex);
    buildLocked(codec, s);
    for (size_t i = 0; i < s.list.size(); ++i) {
        if (s.list[i].candidate.element == element) {
            return handlesLocked(codec, s, i, format);
        }
    }
    return true; // not one of ours (a forced element is in the list): nothing known against it
}

std::optional<DecoderCandidate> DecoderSelector::next(VideoCodec codec, const std::string& element,
                                                      ChromaFormat format) {
    CodecState& s = state(codec);
    std::lock_guard lock(s.mutex);
    buildLocked(codec, s);
    const std::vector<size_t> order = orderLocked(s);
    auto pos = std::find_if(order.begin(), order.end(),
                            [&](size_t i) { return s.list[i].candidate.element == element; });
    // Not in the order any more (it failed a re-probe): every usable one is "after" it.
    auto from = pos == order.end() ? order.begin() : std::next(pos);
    for (auto it = from; it != order.end(); ++it) {
        if (s.list[*it].candidate.element != element && ensureProbedLocked(codec, s, *it) &&
            handlesLocked(codec, s, *it, format)) {
            qCInfo(lcMedia).noquote() << QString::fromUtf8(videoCodecName(codec).data()) + ":"
                                      << "falling back from" << QString::fromStdString(element) << "to"
                                      << QString::fromStdString(s.list[*it].candidate.element);
            return s.list[*it].candidate;
        }
    }
    return std::nullopt;
}

void DecoderSelector::reportStreamError(VideoCodec codec, const std::string& element,
                                        const std::string& message) {
    CodecState& s = state(codec);
    std::lock_guard lock(s.mutex);
    buildLocked(codec, s);
    for (auto& c : s.list) {
        if (c.candidate.element != element) {
            continue;
        }
        ++c.streamErrors;
        if (!c.demoted && c.streamErrors >= m_options.demoteAfterStreamErrors) {
            c.demoted = true;
            s.reported = false; // log the new choice at the next select()
            qCWarning(lcMedia).noquote()
                << QString::fromUtf8(videoCodecName(codec).data()) + ":" << QString::fromStdString(element)
                << "demoted after" << c.streamErrors
                << "stream errors, last:" << QString::fromStdString(message);
        }
    }
}

std::vector<CandidateStatus> DecoderSelector::candidates(VideoCodec codec) const {
    CodecState& s = state(codec);
    std::lock_guard lock(s.mutex);
    buildLocked(codec, s);
    return s.list;
}

std::vector<VideoCodec> DecoderSelector::preferenceOrder(std::span<const CodecSupport> support,
                                                         std::span<const VideoCodec> sentAs444) {
    auto find = [&](VideoCodec codec) -> const CodecSupport* {
        auto it =
            std::find_if(support.begin(), support.end(), [&](const auto& s) { return s.codec == codec; });
        return it == support.end() ? nullptr : &*it;
    };
    std::vector<VideoCodec> order;
    auto inHardware = [&](const CodecSupport& s) {
        const bool sent444 = std::find(sentAs444.begin(), sentAs444.end(), s.codec) != sentAs444.end();
        return s.hardware && (!sent444 || s.decodes444);
    };
    for (VideoCodec codec : kHardwareOrder) {
        if (const auto* s = find(codec); s && s->decodable && inHardware(*s)) {
            order.push_back(codec);
        }
    }
    for (VideoCodec codec : kSoftwareCostOrder) {
        if (const auto* s = find(codec); s && s->decodable && !inHardware(*s)) {
            order.push_back(codec);
        }
    }
    return order;
}

} // namespace saffron
