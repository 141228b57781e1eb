#pragma once

#include "VideoCodec.h"

#include <QString>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace saffron {

// Remembers decoder probe results between runs, so a thin client does not spend ~0.3 s
// decoding sample clips before every connection (the display channel's link waits for them:
// its capabilities name the decodable codecs).
//
// Results are valid only for the setup that produced them: the key combines the GStreamer
// version, the plugin registry file (GStreamer rewrites it whenever a plugin is added,
// removed or updated) and the GPU device nodes present (/dev/dri, /dev/nvidia*), so a new
// driver, plugin or graphics card makes every entry stale and the probes run again.
class ProbeCache {
public:
    struct Entry {
        bool ok = false;
        std::string detail;
    };

    // Loads `path` (empty: $XDG_CACHE_HOME/saffron/decoder-probes). Without a usable key
    // (no registry file) the cache stays empty and store() does nothing.
    explicit ProbeCache(QString path = {});

    std::optional<Entry> find(VideoCodec codec, const std::string& element) const;
    // Records a result and rewrites the file (small; written atomically by rename).
    void store(VideoCodec codec, const std::string& element, const Entry& entry);

    static QString defaultPath();
    // The environment key described above; empty when it cannot be determined.
    static QString environmentKey();

private:
    void save() const;

    QString path_;
    QString key_;
    mutable std::mutex mutex_;
    std::map<std::string, Entry> entries_; // "codec element" -> result
};

} // namespace saffron
