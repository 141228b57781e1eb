#pragma once

#include "AccessUnit.h"
#include "DecoderCandidates.h"
#include "DecoderOverrides.h"
#include "DecoderProbe.h"
#include "ElementRegistry.h"
#include "VideoCodec.h"

#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace saffron {

class ProbeCache;

enum class CandidateState {
    Untested, // not needed yet (a better candidate works)
    Absent,   // no such element here
    Failed,   // present but failed its probe
    Working,  // decoded the probe sample
};

struct CandidateStatus {
    DecoderCandidate candidate;
    CandidateState state = CandidateState::Untested;
    std::string detail;   // probe outcome, or why it was skipped
    int streamErrors = 0; // errors on real streams after passing the probe
    bool demoted = false; // too many stream errors: only used when nothing else works
    // 4:4:4 streams: software decoders are taken to decode them (libavcodec and libvpx do);
    // hardware ones must pass the 4:4:4 probe, run the first time a 4:4:4 stream asks.
    CandidateState state444 = CandidateState::Untested;
    std::string detail444;
};

// What the session advertises: whether the codec can be decoded here and how.
struct CodecSupport {
    VideoCodec codec = VideoCodec::Mjpeg;
    bool decodable = false;
    bool hardware = false;
    bool forced = false; // the chosen decoder is the user's override
    std::string element; // the chosen decoder, empty when not decodable
    // The chosen decoder also decodes 4:4:4: always for software ones, after the 4:4:4 probe for
    // hardware ones (false for codecs without a 4:4:4 sample: VP8, MJPEG).
    bool decodes444 = false;
    std::string
        summary; // the selection log line, e.g. "h264: vah264dec absent, ..., avdec_h264 probe ok (software)"
};

// Picks the decoder element per codec: forced override first (if it passes its probe), then the
// built-in candidates best first (DecoderCandidates.h). A candidate is trusted only after it
// decoded the embedded sample (DecoderProbe.h). Probes run lazily, the first time a codec is
// asked for, and stop at the first working candidate; the rest are probed only when a stream
// falls back to them. Results are cached for the selector's lifetime. Thread safe; a probe blocks
// the asking thread (typically a few ms for software, up to ~100 ms to open a hardware device).
class DecoderSelector {
public:
    struct Options {
        DecoderOverrides overrides;
        std::chrono::milliseconds probeTimeout{10000};
        // Stream errors after which a decoder that passed its probe is demoted for new streams.
        int demoteAfterStreamErrors = 3;
        // Probe results kept between runs (the process default uses one; tests do not).
        std::shared_ptr<ProbeCache> probeCache;
    };

    DecoderSelector(std::shared_ptr<const ElementFactoryRegistry> registry, Options options);

    // The process-wide selector: GStreamer's registry, the SAFFRON_VIDEO_DECODER variable and the
    // config string last given to configureProcessDefault (none by default).
    static std::shared_ptr<DecoderSelector> processDefault();
    // Replaces the process-wide selector with one using `configOverrides` ("h264=avdec_h264,...")
    // merged with the environment. Decoders already created keep the selector they were given.
    static void configureProcessDefault(std::string_view configOverrides);

    CodecSupport support(VideoCodec codec);
    // support() if it is known without probing and without waiting for a probe another thread
    // is running; nullopt otherwise. For callers that must not block (the session thread).
    std::optional<CodecSupport> settledSupport(VideoCodec codec);
    // support() for every codec, in kAllVideoCodecs order.
    std::vector<CodecSupport> probeAll();

    // The decoder new streams should use, nullopt when none works. With a `format` (from the
    // stream's parameter sets), the best one that decodes it: hardware decoders are trusted with
    // 4:4:4 only after the 4:4:4 probe and never with 4:2:2 (no probe sample; the hardware
    // decoders of these codecs are 4:2:0 devices). When nothing decodes the format, the plain
    // choice, whose failure then goes through the usual error path.
    std::optional<DecoderCandidate> select(VideoCodec codec, ChromaFormat format = ChromaFormat::Unknown);
    // The next working decoder after `element` in selection order (probing as needed), nullopt
    // when `element` was the last one. Used to fall back after an error mid-stream.
    std::optional<DecoderCandidate> next(VideoCodec codec, const std::string& element,
                                         ChromaFormat format = ChromaFormat::Unknown);
    // Whether `element` decodes streams of `format` (as select() judges it, probing if needed).
    bool handles(VideoCodec codec, const std::string& element, ChromaFormat format);
    // A decoder that passed its probe failed on a real stream. After
    // Options::demoteAfterStreamErrors of these it is tried only after every other decoder.
    void reportStreamError(VideoCodec codec, const std::string& element, const std::string& message);

    // The candidate list as it stands (tests, diagnostics). Does not probe.
    std::vector<CandidateStatus> candidates(VideoCodec codec) const;

    const ElementFactoryRegistry& registry() const { return *m_registry; }
    std::chrono::milliseconds probeTimeout() const { return m_options.probeTimeout; }

    // The order in which the session should prefer codecs, from support() results: hardware
    // decodable codecs first (H.264, H.265, VP9, VP8, MJPEG), then software decodable ones
    // cheapest first (kSoftwareCostOrder). Undecodable codecs are left out. Codecs in
    // `sentAs444` (what the server is known to send in 4:4:4) count as hardware only when their
    // hardware decoder decodes 4:4:4: otherwise every stream of theirs would decode in software.
    static std::vector<VideoCodec> preferenceOrder(std::span<const CodecSupport> support,
                                                   std::span<const VideoCodec> sentAs444 = {});
    static const std::array<VideoCodec, 5> kHardwareOrder;
    static const std::array<VideoCodec, 5> kSoftwareCostOrder;

private:
    struct CodecState {
        mutable std::mutex mutex;
        bool built = false;
        bool reported = false;
        bool reported444 = false;
        std::vector<CandidateStatus> list;
    };

    CodecState& state(VideoCodec codec) const;
    void buildLocked(VideoCodec codec, CodecState& s) const;
    // The probe of `element` for `format` (4:2:0 or 4:4:4) from the probe cache, else run and
    // remembered there; *fromCache says which.
    ProbeResult cachedProbeLocked(VideoCodec codec, const std::string& element, ChromaFormat format,
                                  bool* fromCache);
    // Probes list[index] if untested; true when it is Working.
    bool ensureProbedLocked(VideoCodec codec, CodecState& s, size_t index);
    // Indexes of usable candidates in selection order: forced/normal non-demoted first, then demoted.
    std::vector<size_t> orderLocked(const CodecState& s) const;
    // Whether list[index] (already Working) decodes `format`; runs the 4:4:4 probe if needed.
    bool handlesLocked(VideoCodec codec, CodecState& s, size_t index, ChromaFormat format);
    std::optional<size_t> selectLocked(VideoCodec codec, CodecState& s,
                                       ChromaFormat format = ChromaFormat::Unknown);
    CodecSupport supportLocked(VideoCodec codec, CodecState& s);
    std::string summaryLocked(VideoCodec codec, const CodecState& s, std::optional<size_t> chosen) const;

    std::shared_ptr<const ElementFactoryRegistry> m_registry;
    Options m_options;
    mutable std::array<CodecState, kAllVideoCodecs.size()> m_states;
};

} // namespace saffron
