#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace saffron {

// Little-endian message builder for client-to-server messages.
class Writer {
public:
    Writer& u8(uint8_t v) {
        buf_.push_back(v);
        return *this;
    }
    Writer& u16(uint16_t v) { return le(v); }
    Writer& u32(uint32_t v) { return le(v); }
    Writer& u64(uint64_t v) { return le(v); }
    Writer& i32(int32_t v) { return le(static_cast<uint32_t>(v)); }
    Writer& i64(int64_t v) { return le(static_cast<uint64_t>(v)); }
    Writer& bytes(std::span<const uint8_t> b) {
        buf_.insert(buf_.end(), b.begin(), b.end());
        return *this;
    }
    // Overwrites a u32 written earlier, for length fields known only at the end.
    void patchU32(size_t at, uint32_t v) {
        for (size_t i = 0; i < 4; ++i)
            buf_.at(at + i) = static_cast<uint8_t>(v >> (8 * i));
    }
    size_t size() const { return buf_.size(); }
    const std::vector<uint8_t>& data() const { return buf_; }
    std::vector<uint8_t> take() { return std::move(buf_); }

private:
    template <typename T> Writer& le(T v) {
        for (size_t i = 0; i < sizeof(T); ++i)
            buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
        return *this;
    }
    std::vector<uint8_t> buf_;
};

} // namespace saffron
