#pragma once

// The pieces of stream setup AudioPlayback and AudioCapture share: the EnumFormat param for raw
// S16LE, channel positions, and the volume/mute controls. Internal to media/audio.

#include "AudioFormat.h"

#include <cstdint>
#include <pipewire/pipewire.h>
#include <span>
#include <string>
#include <vector>

namespace saffron {

// Builds an EnumFormat pod for `format` (S16LE interleaved) into `buffer`; returns it (points into
// buffer) or null if it does not fit.
const spa_pod* buildRawFormatParam(const AudioFormat& format, std::span<uint8_t> buffer);

// Linear gains, one per channel, from SPICE volumes (the last value repeats; empty = unity).
std::vector<float> gainsFromSpiceVolumes(std::span<const uint16_t> volumes, uint32_t channels);

// Applies SPA_PROP_channelVolumes and SPA_PROP_mute to the stream's adapter. Call on the loop
// thread or with the loop lock held, once the stream has a node (state PAUSED or later); earlier
// calls are refused by PipeWire, so callers re-apply on every state change.
int applyVolumeControls(pw_stream* stream, std::span<const float> gains, bool mute);

// "unconnected", "connecting", ... for logs and error strings.
std::string streamStateName(pw_stream_state state);

// The pw_properties every Saffron stream starts from.
// node.name is the stream name, so tools (pw-link, pw-top, wpctl) and tests can find the node.
pw_properties* newStreamProperties(const char* category, const std::string& name, const std::string& target,
                                   uint32_t quantumFrames, uint32_t rate);

} // namespace saffron
