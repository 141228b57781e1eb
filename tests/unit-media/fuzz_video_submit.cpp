// libFuzzer target for VideoDecoder::submit(): the bytes a SPICE server puts in STREAM_DATA go
// through our access-unit checks, then the real parser and software decoder pipelines.
//
// Input: byte 0 selects the codec (modulo 5, kAllVideoCodecs order); the rest is a sequence of
// frames, each a little-endian 16-bit length then that many bytes (a short last frame takes what
// is left). Each input is one stream: its frames are submitted, then drained. One decoder per
// codec is kept for the whole run, so an iteration costs a submit and a pipeline restart, not a
// new pipeline (a new one is only built after an error, as in the product).
// Seeds: corpus/fuzz_video_submit/, made by make_corpus.py from the embedded probe samples and a
// few short clips.

#include "video/DecoderOverrides.h"
#include "video/DecoderSelector.h"
#include "video/VideoDecoder.h"

#include <QLoggingCategory>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

using namespace saffron;

namespace {

std::atomic<unsigned> g_planeSum; // keeps the plane reads from being optimised away

VideoDecoder& decoderFor(VideoCodec codec) {
    static auto selector = std::make_shared<DecoderSelector>(std::make_shared<GstElementFactoryRegistry>(),
                                                             DecoderSelector::Options{});
    static std::array<std::unique_ptr<VideoDecoder>, kAllVideoCodecs.size()> decoders;
    const size_t index = static_cast<size_t>(codec);
    if (!decoders[index]) {
        VideoDecoderOptions options;
        // Keep hostile sizes affordable under ASan: the check itself is what is exercised.
        options.maxWidth = 2048;
        options.maxHeight = 2048;
        decoders[index] = std::make_unique<VideoDecoder>(codec, selector, options);
        decoders[index]->setCallbacks(
            VideoDecoderCallbacks{[](std::shared_ptr<const DecodedFrame> frame) {
                                      // Touch every plane byte the frame claims, so a wrong span would be
                                      // caught by ASan.
                                      unsigned sum = 0;
                                      for (int p = 0; p < frame->planeCount(); ++p) {
                                          for (uint8_t b : frame->plane(p).data) {
                                              sum += b;
                                          }
                                      }
                                      g_planeSum.fetch_add(sum, std::memory_order_relaxed);
                                  },
                                  [](const VideoDecoderError&) {}});
    }
    return *decoders[index];
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // Quiet GStreamer: hostile input makes elements print criticals and warnings by the thousand.
    setenv("GST_DEBUG", "*:0", 0);
    unsetenv(kDecoderOverrideEnv);
    // And our own per-error warnings: the fuzzer's output is for its statistics.
    QLoggingCategory::setFilterRules("saffron.media.warning=false\nsaffron.media.info=false");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    std::span<const uint8_t> input(data, size);
    const VideoCodec codec = kAllVideoCodecs[input[0] % kAllVideoCodecs.size()];
    input = input.subspan(1);
    VideoDecoder& decoder = decoderFor(codec);
    uint64_t tag = 0;
    while (!input.empty()) {
        size_t length = input.size();
        if (input.size() >= 2) {
            length = std::min<size_t>(input[0] | input[1] << 8, input.size() - 2);
            input = input.subspan(2);
        }
        decoder.submit(input.first(length), tag++);
        input = input.subspan(length);
    }
    decoder.drain(std::chrono::seconds(20));
    return 0;
}
