#include "PipeWireStreamParams.h"

#include <algorithm>
#include <spa/param/audio/format-utils.h>
#include <spa/param/props.h>

namespace saffron {

namespace {

// Standard layouts for the channel counts we accept; other counts go unpositioned and PipeWire
// maps them by index.
bool setPositions(spa_audio_info_raw& info, uint32_t channels) {
    static const uint32_t mono[] = {SPA_AUDIO_CHANNEL_MONO};
    static const uint32_t stereo[] = {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR};
    static const uint32_t quad[] = {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_RL,
                                    SPA_AUDIO_CHANNEL_RR};
    static const uint32_t surround51[] = {SPA_AUDIO_CHANNEL_FL,  SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_FC,
                                          SPA_AUDIO_CHANNEL_LFE, SPA_AUDIO_CHANNEL_RL, SPA_AUDIO_CHANNEL_RR};
    static const uint32_t surround71[] = {SPA_AUDIO_CHANNEL_FL,  SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_FC,
                                          SPA_AUDIO_CHANNEL_LFE, SPA_AUDIO_CHANNEL_RL, SPA_AUDIO_CHANNEL_RR,
                                          SPA_AUDIO_CHANNEL_SL,  SPA_AUDIO_CHANNEL_SR};
    std::span<const uint32_t> layout;
    switch (channels) {
    case 1:
        layout = mono;
        break;
    case 2:
        layout = stereo;
        break;
    case 4:
        layout = quad;
        break;
    case 6:
        layout = surround51;
        break;
    case 8:
        layout = surround71;
        break;
    default:
        return false;
    }
    std::copy(layout.begin(), layout.end(), info.position);
    return true;
}

} // namespace

const spa_pod* buildRawFormatParam(const AudioFormat& format, std::span<uint8_t> buffer) {
    spa_audio_info_raw info{};
    info.format = SPA_AUDIO_FORMAT_S16_LE;
    info.rate = format.rate;
    info.channels = format.channels;
    if (!setPositions(info, format.channels)) {
        info.flags |= SPA_AUDIO_FLAG_UNPOSITIONED;
    }
    spa_pod_builder builder{};
    spa_pod_builder_init(&builder, buffer.data(), uint32_t(buffer.size()));
    return spa_format_audio_raw_build(&builder, SPA_PARAM_EnumFormat, &info);
}

std::vector<float> gainsFromSpiceVolumes(std::span<const uint16_t> volumes, uint32_t channels) {
    std::vector<float> gains(channels, 1.0f);
    for (uint32_t i = 0; i < channels && !volumes.empty(); ++i) {
        gains[i] = spiceVolumeToGain(volumes[std::min<size_t>(i, volumes.size() - 1)]);
    }
    return gains;
}

int applyVolumeControls(pw_stream* stream, std::span<const float> gains, bool mute) {
    std::vector<float> values(gains.begin(), gains.end());
    float muteValue = mute ? 1.0f : 0.0f;
    return pw_stream_set_control(stream, SPA_PROP_channelVolumes, uint32_t(values.size()), values.data(),
                                 SPA_PROP_mute, 1u, &muteValue, 0);
}

std::string streamStateName(pw_stream_state state) {
    return pw_stream_state_as_string(state);
}

pw_properties* newStreamProperties(const char* category, const std::string& name, const std::string& target,
                                   uint32_t quantumFrames, uint32_t rate) {
    pw_properties* props = pw_properties_new(PW_KEY_MEDIA_TYPE, "Audio", PW_KEY_MEDIA_CATEGORY, category,
                                             PW_KEY_APP_NAME, "Saffron", PW_KEY_NODE_NAME, name.c_str(),
                                             PW_KEY_MEDIA_NAME, name.c_str(), nullptr);
    pw_properties_setf(props, PW_KEY_NODE_LATENCY, "%u/%u", quantumFrames, rate);
    if (!target.empty()) {
        pw_properties_set(props, PW_KEY_TARGET_OBJECT, target.c_str());
    }
    return props;
}

} // namespace saffron
