#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace saffron {

// One PipeWire audio node a stream can be sent to or recorded from.
struct AudioDevice {
    std::string name;        // node.name: what AudioPlaybackOptions/AudioCaptureOptions::target take
    std::string description; // node.description: what a person reads ("Built-in Audio Analog Stereo")
    bool operator==(const AudioDevice&) const = default;
};

// The machine's speakers and microphones as PipeWire lists them (Audio/Sink and Audio/Source
// nodes), kept up to date while devices come and go (a USB headset plugged in). For the session
// menu's device choice. Runs its own PipeWire connection and thread; `changed` is called on that
// thread after the lists changed, so hand it over to your own.
class AudioDeviceList {
public:
    struct Options {
        std::string remote; // PipeWire socket name; empty: the default daemon
        std::function<void()> changed;
    };
    // Connects and waits (up to a second) until the daemon has listed its current nodes, so the
    // lists are normally complete on return; from a slower daemon they fill in later, each
    // addition reported through `changed`. Null with `error` said when there is no PipeWire.
    static std::unique_ptr<AudioDeviceList> open(Options options, std::string& error);
    ~AudioDeviceList();
    AudioDeviceList(const AudioDeviceList&) = delete;
    AudioDeviceList& operator=(const AudioDeviceList&) = delete;

    // Snapshots, sorted by description; callable from any thread.
    std::vector<AudioDevice> outputs() const;
    std::vector<AudioDevice> inputs() const;

    struct Impl;

private:
    explicit AudioDeviceList(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace saffron
