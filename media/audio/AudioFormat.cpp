#include "AudioFormat.h"

namespace saffron {

std::string AudioFormat::validate() const {
    if (rate < kMinRate || rate > kMaxRate) {
        return "sample rate " + std::to_string(rate) + " Hz is outside " + std::to_string(kMinRate) + ".." +
               std::to_string(kMaxRate);
    }
    if (channels < 1 || channels > kMaxChannels) {
        return "channel count " + std::to_string(channels) + " is outside 1.." + std::to_string(kMaxChannels);
    }
    return {};
}

} // namespace saffron
