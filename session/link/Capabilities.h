#pragma once

#include <cstdint>
#include <vector>

namespace saffron {

// A SPICE capability bit set: capability N is bit N%32 of word N/32 (spice_protocol.txt,
// "Capabilities"). Words the peer did not send read as zero.
class Capabilities {
public:
    Capabilities() = default;
    explicit Capabilities(std::vector<uint32_t> words) : words_(std::move(words)) {}

    void set(unsigned cap) {
        if (words_.size() <= cap / 32)
            words_.resize(cap / 32 + 1, 0);
        words_[cap / 32] |= 1u << (cap % 32);
    }
    bool has(unsigned cap) const { return cap / 32 < words_.size() && (words_[cap / 32] >> (cap % 32)) & 1u; }
    const std::vector<uint32_t>& words() const { return words_; }

private:
    std::vector<uint32_t> words_;
};

} // namespace saffron
