#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace saffron {

// Splits the byte stream of a linked channel into messages. With SPICE_COMMON_CAP_MINI_HEADER
// negotiated each message starts with a 6-byte header (u16 type, u32 size); otherwise with the
// 18-byte SpiceDataHeader (u64 serial, u16 type, u32 size, u32 sub_list), see
// spice_protocol.txt "Message header". Sizes are untrusted: anything over the limit is an error,
// never an allocation.
class MessageFramer {
public:
    // A 4K raw 32-bit bitmap is 33 MB; nothing a real server sends comes near this.
    static constexpr uint32_t kMaxMessageSize = 128u * 1024 * 1024;

    struct Message {
        uint16_t type = 0;
        std::span<const uint8_t> body;
    };
    enum class Status { NeedMore, Ready, TooLarge };

    void setMiniHeader(bool on) { mini_ = on; }
    bool miniHeader() const { return mini_; }
    size_t headerSize() const { return mini_ ? 6 : 18; }

    void append(std::span<const uint8_t> bytes);
    // Zero-copy alternative to append() for socket reads: room for up to `n` more bytes at the
    // end of the buffer (valid until the next call on the framer), then commitTail() with the
    // number actually written. Saves the intermediate QByteArray a read() would allocate.
    std::span<uint8_t> reserveTail(size_t n);
    void commitTail(size_t written);
    // On Ready, `out` views the buffer until the next call to next() or append().
    Status next(Message& out);
    uint32_t pendingSize() const { return pendingSize_; }
    size_t buffered() const { return buf_.size() - start_; }

private:
    // Growing the buffer for a socket read must not zero memory that read() overwrites at once.
    template <typename T> struct DefaultInitAllocator : std::allocator<T> {
        template <typename U> struct rebind { using other = DefaultInitAllocator<U>; };
        using std::allocator<T>::allocator;
        template <typename U> void construct(U* p) noexcept { ::new (static_cast<void*>(p)) U; }
        template <typename U, typename... Args> void construct(U* p, Args&&... args) {
            ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
        }
    };

    void compact();

    std::vector<uint8_t, DefaultInitAllocator<uint8_t>> buf_;
    size_t reserved_ = 0; // bytes at the end of buf_ handed out by reserveTail(), not yet data
    size_t start_ = 0;
    bool mini_ = false;
    uint32_t pendingSize_ = 0;
};

} // namespace saffron
