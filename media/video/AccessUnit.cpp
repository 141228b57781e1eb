#include "AccessUnit.h"

#include <cstring>
#include <optional>

namespace saffron {

std::string_view chromaFormatName(ChromaFormat format) {
    switch (format) {
    case ChromaFormat::Yuv420:
        return "4:2:0";
    case ChromaFormat::Yuv422:
        return "4:2:2";
    case ChromaFormat::Yuv444:
        return "4:4:4";
    case ChromaFormat::Unknown:
        break;
    }
    return "unknown";
}

namespace {

// MSB-first bit reader over untrusted bytes. With `rbsp`, emulation prevention bytes (00 00 03,
// H.264 7.4.1 / H.265 7.4.2) are skipped, so NAL payloads read as their RBSP. Every read returns
// nullopt past the end.
class BitReader {
public:
    BitReader(std::span<const uint8_t> data, bool rbsp) : m_data(data), m_rbsp(rbsp) {}

    std::optional<uint32_t> bits(int count) {
        uint32_t value = 0;
        for (int i = 0; i < count; ++i) {
            const auto b = bit();
            if (!b) {
                return std::nullopt;
            }
            value = value << 1 | *b;
        }
        return value;
    }
    bool skip(int count) { return bits(count).has_value(); }
    // Exp-Golomb ue(v) (H.264 9.1); values needing more than 31 bits are refused.
    std::optional<uint32_t> ue() {
        int zeros = 0;
        for (;;) {
            const auto b = bit();
            if (!b) {
                return std::nullopt;
            }
            if (*b) {
                break;
            }
            if (++zeros > 31) {
                return std::nullopt;
            }
        }
        const auto rest = bits(zeros);
        if (!rest) {
            return std::nullopt;
        }
        return static_cast<uint32_t>((uint64_t{1} << zeros) - 1 + *rest);
    }

private:
    std::optional<uint32_t> bit() {
        if (m_bit == 0) {
            if (m_rbsp && m_zeros >= 2 && m_byte < m_data.size() && m_data[m_byte] == 3) {
                ++m_byte;
                m_zeros = 0;
            }
            if (m_byte >= m_data.size()) {
                return std::nullopt;
            }
            m_current = m_data[m_byte++];
            m_zeros = m_current == 0 ? m_zeros + 1 : 0;
        }
        const uint32_t value = (m_current >> (7 - m_bit)) & 1;
        m_bit = (m_bit + 1) & 7;
        return value;
    }

    std::span<const uint8_t> m_data;
    bool m_rbsp;
    size_t m_byte = 0;
    int m_bit = 0;
    int m_zeros = 0;
    uint8_t m_current = 0;
};

ChromaFormat chromaFromIdc(uint32_t idc) {
    switch (idc) {
    case 1:
        return ChromaFormat::Yuv420;
    case 2:
        return ChromaFormat::Yuv422;
    case 3:
        return ChromaFormat::Yuv444;
    default:
        return ChromaFormat::Unknown; // 4:0:0, or out of range in a broken SPS
    }
}

// H.264 7.3.2.1.1 seq_parameter_set_data(): chroma_format_idc is coded only for the high
// profiles; every other profile is 4:2:0 (7.4.2.1.1).
ChromaFormat h264SpsChroma(std::span<const uint8_t> nal) {
    BitReader r(nal.subspan(1), true);
    const auto profile = r.bits(8);
    if (!profile || !r.skip(16) || !r.ue()) { // constraint flags + level_idc, seq_parameter_set_id
        return ChromaFormat::Unknown;
    }
    switch (*profile) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135: {
        const auto idc = r.ue();
        return idc ? chromaFromIdc(*idc) : ChromaFormat::Unknown;
    }
    default:
        return ChromaFormat::Yuv420;
    }
}

// H.265 7.3.2.2.1 seq_parameter_set_rbsp(): chroma_format_idc follows profile_tier_level()
// (7.3.3), whose size depends on the sub-layer flags.
ChromaFormat h265SpsChroma(std::span<const uint8_t> nal) {
    BitReader r(nal.subspan(2), true);
    if (!r.skip(4)) { // sps_video_parameter_set_id
        return ChromaFormat::Unknown;
    }
    const auto maxSubLayersMinus1 = r.bits(3);
    // temporal_id_nesting, then general profile (8 + 32 + 48 bits) and general_level_idc (8).
    if (!maxSubLayersMinus1 || !r.skip(1) || !r.skip(8) || !r.skip(32) || !r.skip(32) || !r.skip(16) ||
        !r.skip(8)) {
        return ChromaFormat::Unknown;
    }
    const int subLayers = static_cast<int>(*maxSubLayersMinus1);
    bool profilePresent[8] = {};
    bool levelPresent[8] = {};
    for (int i = 0; i < subLayers; ++i) {
        const auto p = r.bits(1);
        const auto l = r.bits(1);
        if (!p || !l) {
            return ChromaFormat::Unknown;
        }
        profilePresent[i] = *p;
        levelPresent[i] = *l;
    }
    if (subLayers > 0 && !r.skip(2 * (8 - subLayers))) { // reserved_zero_2bits
        return ChromaFormat::Unknown;
    }
    for (int i = 0; i < subLayers; ++i) {
        if ((profilePresent[i] && (!r.skip(8) || !r.skip(32) || !r.skip(32) || !r.skip(16))) ||
            (levelPresent[i] && !r.skip(8))) {
            return ChromaFormat::Unknown;
        }
    }
    if (!r.ue()) { // sps_seq_parameter_set_id
        return ChromaFormat::Unknown;
    }
    const auto idc = r.ue();
    return idc ? chromaFromIdc(*idc) : ChromaFormat::Unknown;
}

// Calls `visit(nal)` for each NAL unit (header included) of an Annex-B byte stream until it
// returns false. Returns false when the data does not start with a start code (after optional
// zero bytes). Start codes are found with memchr on their zero bytes, so skipping a large slice
// costs next to nothing.
template <typename Visit> bool forEachNal(std::span<const uint8_t> data, Visit&& visit) {
    size_t i = 0;
    while (i < data.size() && data[i] == 0) {
        ++i;
    }
    // Need at least two zeros then 0x01.
    if (i < 2 || i >= data.size() || data[i] != 1) {
        return false;
    }
    size_t start = i + 1;
    while (start < data.size()) {
        // The next 00 00 01 (a 4-byte start code's extra zero is trimmed off the NAL before it).
        size_t end = data.size();
        size_t from = start;
        while (from + 2 < data.size()) {
            const void* hit = std::memchr(data.data() + from, 0, data.size() - from - 2);
            if (!hit) {
                break;
            }
            const size_t z = static_cast<size_t>(static_cast<const uint8_t*>(hit) - data.data());
            if (data[z + 1] == 0 && data[z + 2] == 1) {
                end = z;
                break;
            }
            from = z + 1;
        }
        size_t trimmed = end;
        while (trimmed > start && data[trimmed - 1] == 0) {
            --trimmed;
        }
        if (trimmed > start && !visit(data.subspan(start, trimmed - start))) {
            break;
        }
        if (end == data.size()) {
            break;
        }
        start = end + 3;
    }
    return true;
}

// First SEI payload type of an SEI NAL's payload (after the NAL header of `headerBytes`).
int firstSeiPayloadType(std::span<const uint8_t> nal, size_t headerBytes) {
    int type = 0;
    for (size_t i = headerBytes; i < nal.size(); ++i) {
        type += nal[i];
        if (nal[i] != 0xff) {
            return type;
        }
    }
    return -1;
}

constexpr int kSeiRecoveryPoint = 6;

AccessUnitInfo inspectH264(std::span<const uint8_t> data) {
    AccessUnitInfo info;
    bool bad = false;
    bool any = false;
    // Parameter sets and SEI precede the first slice of a picture (H.264 7.4.1.2.3), so the
    // scan stops at the first VCL NAL unit instead of reading through the slice data.
    const bool startCode = forEachNal(data, [&](std::span<const uint8_t> nal) {
        any = true;
        if (nal[0] & 0x80) { // forbidden_zero_bit
            bad = true;
            return false;
        }
        const int type = nal[0] & 0x1f;
        switch (type) {
        case 5: // coded slice of an IDR picture
            info.randomAccess = true;
            break;
        case 6: // SEI
            if (firstSeiPayloadType(nal, 1) == kSeiRecoveryPoint) {
                info.randomAccess = true;
            }
            break;
        case 7: // SPS
            info.hasParameterSets = true;
            info.chroma = h264SpsChroma(nal);
            break;
        default:
            break;
        }
        return type < 1 || type > 5;
    });
    if (!startCode || !any) {
        info.problem = "not an Annex-B H.264 access unit (no start code)";
    } else if (bad) {
        info.problem = "H.264 NAL with forbidden_zero_bit set";
    } else {
        info.plausible = true;
    }
    return info;
}

AccessUnitInfo inspectH265(std::span<const uint8_t> data) {
    AccessUnitInfo info;
    bool bad = false;
    bool any = false;
    // As for H.264, parameter sets and prefix SEI come before the first VCL NAL unit (H.265
    // 7.4.2.4.4): stop there.
    const bool startCode = forEachNal(data, [&](std::span<const uint8_t> nal) {
        any = true;
        if (nal.size() < 2 || (nal[0] & 0x80)) {
            bad = true;
            return false;
        }
        const int type = (nal[0] >> 1) & 0x3f;
        if (type >= 16 && type <= 21) { // BLA, IDR, CRA: intra random access points
            info.randomAccess = true;
        } else if (type == 32 || type == 33) { // VPS, SPS
            info.hasParameterSets = true;
            if (type == 33) {
                info.chroma = h265SpsChroma(nal);
            }
        } else if (type == 39 && firstSeiPayloadType(nal, 2) == kSeiRecoveryPoint) {
            info.randomAccess = true;
        }
        return type >= 32; // VCL types are 0..31
    });
    if (!startCode || !any) {
        info.problem = "not an Annex-B H.265 access unit (no start code)";
    } else if (bad) {
        info.problem = "H.265 NAL with a bad header";
    } else {
        info.plausible = true;
    }
    return info;
}

// RFC 6386 section 9.1: 3-byte frame tag, key frames then the start code 9d 01 2a and two
// little-endian 16-bit fields of 14-bit size + 2-bit scale.
AccessUnitInfo inspectVp8(std::span<const uint8_t> data) {
    AccessUnitInfo info;
    if (data.size() < 3) {
        info.problem = "VP8 frame shorter than its frame tag";
        return info;
    }
    const bool key = (data[0] & 1) == 0;
    const int version = (data[0] >> 1) & 7;
    if (version > 3) {
        info.problem = "VP8 frame tag with an unknown version";
        return info;
    }
    if (key) {
        if (data.size() < 10 || data[3] != 0x9d || data[4] != 0x01 || data[5] != 0x2a) {
            info.problem = "VP8 key frame without its start code";
            return info;
        }
        info.width = (data[6] | data[7] << 8) & 0x3fff;
        info.height = (data[8] | data[9] << 8) & 0x3fff;
        if (info.width == 0 || info.height == 0) {
            info.problem = "VP8 key frame of size 0";
            return info;
        }
        info.randomAccess = true;
    }
    info.plausible = true;
    return info;
}

// VP9 bitstream spec 6.2 uncompressed_header() of a key frame, up to color_config() (6.2.2):
// profiles 0 and 2 are 4:2:0 by definition; 1 and 3 code subsampling_x/y (none for RGB, 4:4:4).
ChromaFormat vp9KeyFrameChroma(std::span<const uint8_t> data, int profile) {
    if (profile == 0 || profile == 2) {
        return ChromaFormat::Yuv420;
    }
    BitReader r(data, false);
    // frame_marker, profile bits, reserved_zero (profile 3), show_existing_frame, frame_type,
    // show_frame, error_resilient_mode.
    if (!r.skip(profile == 3 ? 9 : 8)) {
        return ChromaFormat::Unknown;
    }
    const auto sync = r.bits(24);
    if (!sync || *sync != 0x498342 || (profile == 3 && !r.skip(1))) { // ten_or_twelve_bit
        return ChromaFormat::Unknown;
    }
    const auto colorSpace = r.bits(3);
    if (!colorSpace) {
        return ChromaFormat::Unknown;
    }
    if (*colorSpace == 7) { // CS_RGB
        return ChromaFormat::Yuv444;
    }
    const auto range = r.bits(1);
    const auto x = r.bits(1);
    const auto y = r.bits(1);
    if (!range || !x || !y) {
        return ChromaFormat::Unknown;
    }
    if (*x && *y) {
        return ChromaFormat::Yuv420;
    }
    if (*x) {
        return ChromaFormat::Yuv422;
    }
    return *y ? ChromaFormat::Unknown : ChromaFormat::Yuv444; // 4:4:0 is left undecided
}

// VP9 bitstream spec 6.2 uncompressed_header(): frame_marker(2) = 2, profile_low_bit,
// profile_high_bit, [reserved_zero if profile 3], show_existing_frame, frame_type (0 = key).
// A superframe's first frame starts at offset 0, so this reads the frame that decides.
AccessUnitInfo inspectVp9(std::span<const uint8_t> data) {
    AccessUnitInfo info;
    if (data.empty()) {
        info.problem = "empty VP9 frame";
        return info;
    }
    const uint8_t b = data[0];
    if ((b >> 6) != 2) {
        info.problem = "VP9 frame without its frame marker";
        return info;
    }
    const int profile = ((b >> 5) & 1) | ((b >> 4) & 1) << 1;
    int bit = 3; // next bit, counted from the MSB of byte 0
    if (profile == 3) {
        if ((b >> bit) & 1) {
            info.problem = "VP9 profile 3 reserved bit set";
            return info;
        }
        --bit;
    }
    const bool showExisting = (b >> bit) & 1;
    --bit;
    if (!showExisting) {
        const bool interFrame = (b >> bit) & 1;
        info.randomAccess = !interFrame;
        if (!interFrame) {
            info.chroma = vp9KeyFrameChroma(data, profile);
        }
    }
    info.plausible = true;
    return info;
}

AccessUnitInfo inspectJpeg(std::span<const uint8_t> data) {
    AccessUnitInfo info;
    if (data.size() < 4 || data[0] != 0xff || data[1] != 0xd8) {
        info.problem = "not a JPEG image (no SOI marker)";
        return info;
    }
    info.plausible = true;
    info.randomAccess = true;
    return info;
}

} // namespace

AccessUnitInfo inspectAccessUnit(VideoCodec codec, std::span<const uint8_t> data) {
    switch (codec) {
    case VideoCodec::H264:
        return inspectH264(data);
    case VideoCodec::H265:
        return inspectH265(data);
    case VideoCodec::Vp8:
        return inspectVp8(data);
    case VideoCodec::Vp9:
        return inspectVp9(data);
    case VideoCodec::Mjpeg:
        return inspectJpeg(data);
    }
    return {};
}

} // namespace saffron
