#include "OpusCodec.h"

#include <opus.h>

namespace saffron {

void opusdetail::DecoderDestroy::operator()(::OpusDecoder* p) const {
    opus_decoder_destroy(p);
}
void opusdetail::EncoderDestroy::operator()(::OpusEncoder* p) const {
    opus_encoder_destroy(p);
}

std::string validateOpusFormat(const AudioFormat& format) {
    switch (format.rate) {
    case 8000:
    case 12000:
    case 16000:
    case 24000:
    case 48000:
        break;
    default:
        return "Opus does not support " + std::to_string(format.rate) + " Hz";
    }
    if (format.channels != 1 && format.channels != 2) {
        return "Opus does not support " + std::to_string(format.channels) + " channels";
    }
    return {};
}

std::unique_ptr<OpusPacketDecoder> OpusPacketDecoder::create(const AudioFormat& format, std::string& error) {
    if (std::string why = validateOpusFormat(format); !why.empty()) {
        error = why;
        return nullptr;
    }
    int err = OPUS_OK;
    ::OpusDecoder* decoder = opus_decoder_create(opus_int32(format.rate), int(format.channels), &err);
    if (!decoder || err != OPUS_OK) {
        error = std::string("cannot create an Opus decoder: ") + opus_strerror(err);
        if (decoder) {
            opus_decoder_destroy(decoder);
        }
        return nullptr;
    }
    return std::unique_ptr<OpusPacketDecoder>(new OpusPacketDecoder(format, decoder));
}

OpusPacketDecoder::OpusPacketDecoder(const AudioFormat& format, ::OpusDecoder* decoder)
    : m_format(format), m_decoder(decoder) {}

int OpusPacketDecoder::decode(std::span<const uint8_t> packet, std::span<int16_t> out, std::string& error) {
    // An empty packet would ask libopus for packet-loss concealment; SPICE runs over TCP and never
    // loses packets, so an empty one is a protocol error, not a loss.
    if (packet.empty()) {
        error = "empty Opus packet";
        return -1;
    }
    if (packet.size() > kMaxPacketBytes) {
        error = "Opus packet of " + std::to_string(packet.size()) + " bytes exceeds " +
                std::to_string(kMaxPacketBytes);
        return -1;
    }
    const int frames = opus_decoder_get_nb_samples(m_decoder.get(), packet.data(), opus_int32(packet.size()));
    if (frames < 0) {
        error = std::string("corrupt Opus packet: ") + opus_strerror(frames);
        return -1;
    }
    const size_t room = out.size() / m_format.channels;
    if (size_t(frames) > room || size_t(frames) > maxFramesPerPacket()) {
        error = "Opus packet holds " + std::to_string(frames) + " frames, room for " + std::to_string(room);
        return -1;
    }
    // A packet that codes no samples (e.g. TOC code 3 with a frame count of 0) is invalid; it
    // must not reach opus_decode with an empty (null) output either.
    if (frames == 0) {
        error = "corrupt Opus packet: it codes no samples";
        return -1;
    }
    const int decoded =
        opus_decode(m_decoder.get(), packet.data(), opus_int32(packet.size()), out.data(), int(room), 0);
    if (decoded < 0) {
        error = std::string("Opus decoding failed: ") + opus_strerror(decoded);
        return -1;
    }
    return decoded;
}

bool OpusPacketDecoder::decode(std::span<const uint8_t> packet, std::vector<int16_t>& out,
                               std::string& error) {
    out.resize(maxFramesPerPacket() * m_format.channels);
    const int frames = decode(packet, std::span<int16_t>(out), error);
    if (frames < 0) {
        out.clear();
        return false;
    }
    out.resize(size_t(frames) * m_format.channels);
    return true;
}

std::unique_ptr<OpusPacketEncoder> OpusPacketEncoder::create(const AudioFormat& format,
                                                             Application application, int bitrate,
                                                             std::string& error) {
    if (std::string why = validateOpusFormat(format); !why.empty()) {
        error = why;
        return nullptr;
    }
    int app = OPUS_APPLICATION_AUDIO;
    if (application == Application::Voip) {
        app = OPUS_APPLICATION_VOIP;
    } else if (application == Application::LowDelay) {
        app = OPUS_APPLICATION_RESTRICTED_LOWDELAY;
    }
    int err = OPUS_OK;
    ::OpusEncoder* encoder = opus_encoder_create(opus_int32(format.rate), int(format.channels), app, &err);
    if (!encoder || err != OPUS_OK) {
        error = std::string("cannot create an Opus encoder: ") + opus_strerror(err);
        if (encoder) {
            opus_encoder_destroy(encoder);
        }
        return nullptr;
    }
    std::unique_ptr<OpusPacketEncoder> result(new OpusPacketEncoder(format, encoder));
    if (bitrate > 0) {
        if (int r = opus_encoder_ctl(encoder, OPUS_SET_BITRATE(opus_int32(bitrate))); r != OPUS_OK) {
            error = std::string("invalid Opus bitrate ") + std::to_string(bitrate) + ": " + opus_strerror(r);
            return nullptr;
        }
    }
    return result;
}

OpusPacketEncoder::OpusPacketEncoder(const AudioFormat& format, ::OpusEncoder* encoder)
    : m_format(format), m_encoder(encoder) {}

bool OpusPacketEncoder::isValidFrameSize(const AudioFormat& format, size_t frames) {
    // 2.5 ms is rate/400; the others are multiples of it.
    for (size_t multiple : {1u, 2u, 4u, 8u, 16u, 24u}) {
        if (frames * 400 == size_t(format.rate) * multiple) {
            return true;
        }
    }
    return false;
}

bool OpusPacketEncoder::encode(std::span<const int16_t> pcm, std::vector<uint8_t>& packet,
                               std::string& error) {
    const size_t frames = pcm.size() / m_format.channels;
    if (pcm.size() % m_format.channels != 0 || !isValidFrameSize(m_format, frames)) {
        error = std::to_string(pcm.size()) + " samples is not one Opus frame at " +
                std::to_string(m_format.rate) + " Hz, " + std::to_string(m_format.channels) + " ch";
        return false;
    }
    packet.resize(4000); // libopus' recommended maximum packet size
    const opus_int32 bytes =
        opus_encode(m_encoder.get(), pcm.data(), int(frames), packet.data(), opus_int32(packet.size()));
    if (bytes < 0) {
        error = std::string("Opus encoding failed: ") + opus_strerror(bytes);
        packet.clear();
        return false;
    }
    packet.resize(size_t(bytes));
    return true;
}

} // namespace saffron
