#pragma once

#include "AudioFormat.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

struct OpusDecoder; // libopus handles, kept out of this header
struct OpusEncoder;

namespace saffron {

namespace opusdetail {
struct DecoderDestroy {
    void operator()(::OpusDecoder* p) const;
};
struct EncoderDestroy {
    void operator()(::OpusEncoder* p) const;
};
} // namespace opusdetail

// Opus accepts these rates only; SPICE always uses 48 kHz stereo (SPICE_AUDIO_DATA_MODE_OPUS,
// spice-server's snd_codec: 48000 Hz, 2 channels, 10 ms frames; 20 ms also seen).
std::string validateOpusFormat(const AudioFormat& format);

// Decodes Opus packets to interleaved S16. Every packet comes from the network: its declared
// frame count is checked (opus_packet_get_nb_samples) against the output space before libopus
// writes anything, and malformed packets return an error instead of PCM.
class OpusPacketDecoder {
public:
    static constexpr size_t kMaxPacketBytes = 1275 * 6 + 60; // 120 ms of max-size frames + TOC slack
    static constexpr uint32_t kMaxFrameMs = 120;             // the longest Opus packet

    static std::unique_ptr<OpusPacketDecoder> create(const AudioFormat& format, std::string& error);

    // Decodes one packet into `out` (interleaved). Returns the frames decoded, or -1 and a reason
    // in `error` (empty or oversized packet, corrupt packet, not enough room in `out`).
    int decode(std::span<const uint8_t> packet, std::span<int16_t> out, std::string& error);
    // Convenience: decodes into a vector sized for the packet.
    bool decode(std::span<const uint8_t> packet, std::vector<int16_t>& out, std::string& error);
    // Most frames one packet can produce at this rate (120 ms).
    size_t maxFramesPerPacket() const { return m_format.framesFor(kMaxFrameMs); }
    const AudioFormat& format() const { return m_format; }

private:
    OpusPacketDecoder(const AudioFormat& format, ::OpusDecoder* decoder);
    AudioFormat m_format;
    std::unique_ptr<::OpusDecoder, opusdetail::DecoderDestroy> m_decoder;
};

// Encodes interleaved S16 frames to Opus packets (microphone → SPICE record channel).
class OpusPacketEncoder {
public:
    enum class Application { Voip, Audio, LowDelay };

    static std::unique_ptr<OpusPacketEncoder> create(const AudioFormat& format, Application application,
                                                     int bitrate, std::string& error);

    // `pcm` must hold exactly one Opus frame: 2.5, 5, 10, 20, 40 or 60 ms of interleaved frames.
    // Returns false with a reason otherwise or when libopus fails.
    bool encode(std::span<const int16_t> pcm, std::vector<uint8_t>& packet, std::string& error);
    static bool isValidFrameSize(const AudioFormat& format, size_t frames);
    const AudioFormat& format() const { return m_format; }

private:
    OpusPacketEncoder(const AudioFormat& format, ::OpusEncoder* encoder);
    AudioFormat m_format;
    std::unique_ptr<::OpusEncoder, opusdetail::EncoderDestroy> m_encoder;
};

} // namespace saffron
