#include "AudioDevices.h"

#include "AudioAnalysis.h"
#include "Console.h"
#include "EventLoop.h"

#include <charconv>
#include <cmath>
#include <ctime>

namespace saffron::testserver {

namespace {

// Interface descriptions as spice_server_add_interface checks them (spice-audio.h versions).
const SpicePlaybackInterface kPlaybackInterface = {{SPICE_INTERFACE_PLAYBACK, "saffron playback",
                                                    SPICE_INTERFACE_PLAYBACK_MAJOR,
                                                    SPICE_INTERFACE_PLAYBACK_MINOR}};
const SpiceRecordInterface kRecordInterface = {
    {SPICE_INTERFACE_RECORD, "saffron record", SPICE_INTERFACE_RECORD_MAJOR, SPICE_INTERFACE_RECORD_MINOR}};

// Playback is generated in spice-server's frames (10 ms); a 2 ms tick keeps a frame's
// submission within 2 ms of the moment its last sample is due, which the latency bench needs.
constexpr uint32_t kPlaybackTickMs = 2;
constexpr uint32_t kRecordTickMs = 10;
// The click of the marker workload: a 3 ms burst of 3 kHz, easy to find in silence and short
// enough that Opus keeps its onset sharp.
constexpr double kClickHz = 3000;
constexpr double kClickMs = 3;
// What record-report analyses at most (the newest part), and the level below which a sample
// counts as quiet when looking for gaps.
constexpr size_t kMaxRecordedSeconds = 120;
constexpr double kQuietThreshold = 200;

uint64_t monotonicNs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

std::optional<int> parseInt(std::string_view s, int min, int max) {
    int value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || value < min || value > max)
        return std::nullopt;
    return value;
}

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

} // namespace

AudioDevices::AudioDevices(SpiceServer* server, EventLoop& loop, AudioOptions options)
    : server_(server), loop_(loop), options_(std::move(options)) {
    playback_.base.sif = &kPlaybackInterface.base;
    record_.base.sif = &kRecordInterface.base;
}

AudioDevices::~AudioDevices() {
    if (playbackTimer_)
        loop_.removeTimer(playbackTimer_);
    if (recordTimer_)
        loop_.removeTimer(recordTimer_);
}

bool AudioDevices::attach() {
    // Raw versus Opus: for playback spice-server encodes Opus only when playback compression is
    // on, the client advertises SPICE_PLAYBACK_CAP_OPUS and the rate is Opus-capable (48 kHz);
    // for record it advertises SPICE_RECORD_CAP_OPUS only once spice_server_set_record_rate is
    // called with such a rate, and the client then picks the mode (server/sound.cpp, 0.15).
    spice_server_set_playback_compression(server_, options_.opus ? 1 : 0);
    if (!options_.markerLog.empty()) {
        markerLog_.reset(std::fopen(options_.markerLog.c_str(), "a"));
        if (!markerLog_) {
            std::fprintf(stderr, "saffron-test-server: cannot open %s\n", options_.markerLog.c_str());
            return false;
        }
    }
    if (options_.playback != AudioOptions::Playback::None) {
        if (spice_server_add_interface(server_, &playback_.base) != 0)
            return false;
        playbackAttached_ = true;
        // Also sets the Opus cap when the rate is 48 kHz; with compression off the server still
        // sends raw.
        spice_server_set_playback_rate(&playback_, uint32_t(options_.rate));
        // Like a guest whose sound card is open for the whole session: START goes out as soon
        // as a client links the playback channel.
        spice_server_playback_start(&playback_);
        start_ = Clock::now();
        playbackTimer_ = loop_.addTimer([this] { pumpPlayback(); });
        loop_.startTimer(playbackTimer_, kPlaybackTickMs);
    }
    if (options_.record) {
        if (spice_server_add_interface(server_, &record_.base) != 0)
            return false;
        recordAttached_ = true;
        // The record channel's rate is 48 kHz until set; setting an Opus-capable rate is what
        // offers Opus, so for raw at 48 kHz we leave it alone.
        if (options_.opus || options_.rate != 48000)
            spice_server_set_record_rate(&record_, uint32_t(options_.rate));
        spice_server_record_start(&record_);
        recordSince_ = Clock::now();
        recordTimer_ = loop_.addTimer([this] { pumpRecord(); });
        loop_.startTimer(recordTimer_, kRecordTickMs);
    }
    return true;
}

int64_t AudioDevices::generate(uint32_t* out, uint32_t frames, uint64_t first) const {
    const double rate = options_.rate;
    const double peak = options_.amplitude * 32767.0;
    int64_t click = -1;
    const uint64_t interval = uint64_t(rate * options_.markerIntervalMs / 1000.0);
    const uint64_t clickFrames = uint64_t(rate * kClickMs / 1000.0);
    for (uint32_t i = 0; i < frames; ++i) {
        const uint64_t k = first + i;
        double v = 0;
        if (options_.playback == AudioOptions::Playback::Sine) {
            // Phase from the frame index (not accumulated), so it stays exact for hours.
            const double cycles = std::fmod(double(k) * options_.sineHz / rate, 1.0);
            v = peak * std::sin(2 * M_PI * cycles);
        } else {
            const uint64_t inClick = k % interval;
            // No click at frame 0: the client is still starting its stream then.
            if (k >= interval && inClick < clickFrames) {
                if (inClick == 0)
                    click = int64_t(k);
                v = peak * std::sin(2 * M_PI * double(inClick) * kClickHz / rate);
            }
        }
        const auto s = uint16_t(int16_t(std::lround(v)));
        // S16 stereo, left in the low half: spice-server sends the buffer as little-endian bytes.
        out[i] = uint32_t(s) | uint32_t(s) << 16;
    }
    return click;
}

void AudioDevices::pumpPlayback() {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count() * options_.clockScale;
    const auto due = uint64_t(elapsed * options_.rate);
    while (produced_ + chunkFrames_ <= due) {
        uint32_t* samples = nullptr;
        uint32_t count = 0;
        spice_server_playback_get_buffer(&playback_, &samples, &count);
        if (!samples || count == 0) {
            // No client, or all of spice-server's frames are queued: a real sound card does not
            // wait either, the audio is lost.
            produced_ += chunkFrames_;
            dropped_ += chunkFrames_;
            continue;
        }
        chunkFrames_ = count;
        const int64_t click = generate(samples, count, produced_);
        // The hand-over time is taken before put_samples: that call writes to the client's
        // socket, so the client may play the click before a timestamp taken after it when this
        // process is preempted in between.
        const int64_t handedNs = monotonicNs();
        spice_server_playback_put_samples(&playback_, samples);
        const int64_t putNs = monotonicNs() - handedNs;
        produced_ += count;
        if (click >= 0) {
            ++markers_;
            const std::string line = "MARKER " + std::to_string(markers_) +
                                     " frame=" + std::to_string(click) + " t_ns=" + std::to_string(handedNs) +
                                     " put_us=" + std::to_string(putNs / 1000);
            printLine(line);
            if (markerLog_) {
                std::fprintf(markerLog_.get(), "%s\n", line.c_str());
                std::fflush(markerLog_.get());
            }
        }
    }
    loop_.startTimer(playbackTimer_, kPlaybackTickMs);
}

void AudioDevices::pumpRecord() {
    uint32_t buf[4096];
    for (;;) {
        const uint32_t n = spice_server_record_get_samples(&record_, buf, uint32_t(std::size(buf)));
        if (n == 0)
            break;
        for (uint32_t i = 0; i < n; ++i)
            recorded_.push_back(int16_t(uint16_t(buf[i] & 0xffff)));
        recordedTotal_ += n;
        if (n < std::size(buf))
            break;
    }
    const size_t cap = kMaxRecordedSeconds * size_t(options_.rate);
    if (recorded_.size() > 2 * cap)
        recorded_.erase(recorded_.begin(), recorded_.end() - std::ptrdiff_t(cap));
    loop_.startTimer(recordTimer_, kRecordTickMs);
}

void AudioDevices::reportRecord() {
    std::vector<double> x(recorded_.begin(), recorded_.end());
    const auto [begin, end] = test::activeRange(x, kQuietThreshold);
    const std::span<const double> active(x.data() + begin, end - begin);
    const double rate = options_.rate;
    const double seconds = std::chrono::duration<double>(Clock::now() - recordSince_).count();
    printLine("RECORD frames=" + std::to_string(recorded_.size()) + " seconds=" + fixed(seconds, 2) +
              " active_frames=" + std::to_string(active.size()) +
              " freq=" + fixed(test::zeroCrossingFrequency(active, rate), 2) +
              " rms=" + fixed(test::rms(active), 1) + " max_quiet_ms=" +
              fixed(double(test::longestQuietRun(active, kQuietThreshold)) * 1000 / rate, 1));
}

bool AudioDevices::command(std::string_view verb, std::string_view arg) {
    if (verb == "playback-volume") {
        const auto v = parseInt(arg, 0, 65535);
        if (!v || !playbackAttached_) {
            printLine("ERROR playback-volume needs 0..65535 and --audio-playback");
            return true;
        }
        uint16_t volume[2] = {uint16_t(*v), uint16_t(*v)};
        spice_server_playback_set_volume(&playback_, 2, volume);
        printLine("PLAYBACK volume=" + std::to_string(*v));
    } else if (verb == "playback-mute") {
        if ((arg != "0" && arg != "1") || !playbackAttached_) {
            printLine("ERROR playback-mute needs 0|1 and --audio-playback");
            return true;
        }
        spice_server_playback_set_mute(&playback_, arg == "1" ? 1 : 0);
        printLine("PLAYBACK mute=" + std::string(arg));
    } else if (verb == "playback-status") {
        printLine("PLAYBACK produced=" + std::to_string(produced_) + " dropped=" + std::to_string(dropped_) +
                  " markers=" + std::to_string(markers_));
    } else if (verb == "record-reset") {
        recorded_.clear();
        recordSince_ = Clock::now();
        printLine("RECORD reset");
    } else if (verb == "record-report") {
        if (!recordAttached_) {
            printLine("ERROR record-report needs --audio-record");
            return true;
        }
        reportRecord();
    } else {
        return false;
    }
    return true;
}

} // namespace saffron::testserver
