#pragma once

#include <optional>
#include <string>
#include <vector>

namespace saffron::testserver {

// The audio half of saffron-test-server's command line (see usageText()).
struct AudioOptions {
    enum class Playback { None, Sine, Marker };
    Playback playback = Playback::None;
    double sineHz = 440;
    // Our playback clock runs this much faster than CLOCK_MONOTONIC (1.005: 0.5 % fast), to
    // imitate a guest whose audio clock disagrees with the client's sound card.
    double clockScale = 1.0;
    double amplitude = 0.5; // of full scale
    // Marker workload: silence with one click every markerIntervalMs.
    int markerIntervalMs = 500;
    std::string markerLog; // also append "MARKER n t_ns" lines here
    bool record = false;   // open the record channel and measure what arrives
    // Opus in both directions when the client can (spice_server_set_playback_compression and
    // the record channel's Opus cap), raw S16 otherwise.
    bool opus = true;
    int rate = 48000;
};

// Consumes args[i] (and its value, advancing i) when it is an audio option. Returns false when
// args[i] is not one; sets `error` when it is one with a bad value.
bool parseAudioOption(const std::vector<std::string>& args, size_t& i, AudioOptions& options,
                      std::string& error);

// Appended to usageText() (a macro so that it joins the string literal there).
#define SAFFRON_TESTSERVER_AUDIO_USAGE                                                                       \
    "  --audio-playback W       none|sine:HZ|marker: what the playback interface plays (default none)\n"     \
    "  --audio-clock-scale F    the playback clock runs F times real time, 0.9..1.1 (default 1)\n"           \
    "  --audio-amplitude A      peak of the sine or click, 0..1 of full scale (default 0.5)\n"               \
    "  --audio-marker-ms N      marker: one click every N ms, 100..10000 (default 500)\n"                    \
    "  --audio-marker-log FILE  marker: also append MARKER lines to FILE\n"                                  \
    "  --audio-record           open the record interface and measure what the client sends\n"               \
    "  --audio-opus on|off      offer Opus both ways (default on); off forces raw S16\n"                     \
    "  --audio-rate N           playback and record rate, 8000..96000 (default 48000)\n"

} // namespace saffron::testserver
