#pragma once

#include "wire/ProtocolError.h"

#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace saffron {

// Bounds-checked little-endian reader over untrusted bytes. Every SPICE integer is
// little-endian on the wire (spice-common docs/spice_protocol.txt, "Data types").
// Any read past the end throws ProtocolError; nothing is ever read outside `data`.
class Reader {
public:
    explicit Reader(std::span<const uint8_t> data, size_t offset = 0) : data_(data), pos_(offset) {
        if (offset > data.size())
            throw ProtocolError("offset " + std::to_string(offset) + " outside " +
                                std::to_string(data.size()) + "-byte message");
    }

    size_t position() const { return pos_; }
    size_t remaining() const { return data_.size() - pos_; }
    bool atEnd() const { return pos_ == data_.size(); }
    std::span<const uint8_t> whole() const { return data_; }

    uint8_t u8() { return static_cast<uint8_t>(le<uint8_t>()); }
    uint16_t u16() { return le<uint16_t>(); }
    uint32_t u32() { return le<uint32_t>(); }
    uint64_t u64() { return le<uint64_t>(); }
    int8_t i8() { return static_cast<int8_t>(u8()); }
    int16_t i16() { return static_cast<int16_t>(u16()); }
    int32_t i32() { return static_cast<int32_t>(u32()); }
    int64_t i64() { return static_cast<int64_t>(u64()); }

    std::span<const uint8_t> bytes(size_t n) {
        need(n);
        auto out = data_.subspan(pos_, n);
        pos_ += n;
        return out;
    }
    void skip(size_t n) { bytes(n); }
    std::span<const uint8_t> rest() { return bytes(remaining()); }

    // `count` elements of `elementSize` bytes, guarding the multiplication against overflow.
    std::span<const uint8_t> array(uint64_t count, size_t elementSize) {
        if (elementSize != 0 && count > remaining() / elementSize)
            throw ProtocolError("array of " + std::to_string(count) + " elements exceeds message");
        return bytes(static_cast<size_t>(count) * elementSize);
    }

    // A reader positioned at an absolute offset of the same buffer; SPICE messages encode
    // pointers as 32-bit offsets from the start of the message body.
    Reader at(uint64_t offset) const {
        if (offset > data_.size())
            throw ProtocolError("pointer " + std::to_string(offset) + " outside " +
                                std::to_string(data_.size()) + "-byte message");
        return Reader(data_, static_cast<size_t>(offset));
    }

private:
    void need(size_t n) const {
        if (n > remaining())
            throw ProtocolError("truncated: need " + std::to_string(n) + " bytes at offset " +
                                std::to_string(pos_) + ", have " + std::to_string(remaining()));
    }
    template <typename T> T le() {
        need(sizeof(T));
        T v = 0;
        for (size_t i = 0; i < sizeof(T); ++i)
            v |= static_cast<T>(static_cast<T>(data_[pos_ + i]) << (8 * i));
        pos_ += sizeof(T);
        return v;
    }

    std::span<const uint8_t> data_;
    size_t pos_ = 0;
};

} // namespace saffron
