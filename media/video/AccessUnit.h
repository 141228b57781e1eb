#pragma once

#include "VideoCodec.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace saffron {

// The chroma sampling a stream declares. Hardware decoders mostly take 4:2:0 only (NVDEC: H.264
// and VP9 4:2:0 only, seen on an H200 with GStreamer 1.22's nvcodec), while spice-server hands
// its GStreamer encoders BGRx and videoconvert gives x264enc and vp9enc 4:4:4 when they take it:
// the decoder for a stream depends on its format, not only on its codec.
enum class ChromaFormat : uint8_t { Unknown, Yuv420, Yuv422, Yuv444 };
std::string_view chromaFormatName(ChromaFormat format);

// A quick look at one encoded frame before it goes to GStreamer. Untrusted bytes: only bounds-
// checked reads through std::span.
//
// `plausible` rejects data that cannot be one frame of the codec (no Annex-B start code, bad VP9
// frame marker, no JPEG SOI...), so garbage is reported at once instead of being silently
// swallowed by a parser.
//
// `randomAccess` says whether decoding can (re)start at this frame: H.264 IDR or recovery-point
// SEI (spice-server's x264enc uses intra-refresh, so after the first frame there are no IDRs,
// only recovery points), H.265 IRAP or recovery point, VP8/VP9 key frames, every JPEG. The
// decoder waits for one after it dropped a frame or switched to another decoder mid-stream,
// instead of feeding a fresh decoder inter frames whose references it never saw.
struct AccessUnitInfo {
    bool plausible = false;
    bool randomAccess = false;
    bool hasParameterSets = false; // H.264 SPS / H.265 VPS or SPS inside the unit
    int width = 0;                 // VP8 key frames only: the size their header declares
    int height = 0;
    // From an H.264/H.265 SPS or a VP9 key frame in this unit; Unknown elsewhere (and for 4:0:0
    // and 4:4:0, which no decision here depends on). VP8 and JPEG: always Unknown.
    ChromaFormat chroma = ChromaFormat::Unknown;
    std::string problem; // why not plausible
};

AccessUnitInfo inspectAccessUnit(VideoCodec codec, std::span<const uint8_t> data);

} // namespace saffron
