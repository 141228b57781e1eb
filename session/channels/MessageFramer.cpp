#include "channels/MessageFramer.h"

#include "wire/Reader.h"

#include <algorithm>

namespace saffron {

void MessageFramer::compact() {
    // Compact lazily so that a long run of small messages does not memmove on every append.
    if (start_ > 0 && (start_ == buf_.size() || start_ > 64 * 1024)) {
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(start_));
        start_ = 0;
    }
}

void MessageFramer::append(std::span<const uint8_t> bytes) {
    const auto tail = reserveTail(bytes.size());
    std::copy(bytes.begin(), bytes.end(), tail.begin());
    commitTail(bytes.size());
}

std::span<uint8_t> MessageFramer::reserveTail(size_t n) {
    commitTail(0);
    compact();
    const size_t old = buf_.size();
    // A large message (a full-screen image) arrives in many reads: make room for all of it at
    // once instead of letting the vector re-copy what it already holds as it grows.
    // Capped so that a hostile header alone cannot make it reserve more than a 4K image.
    constexpr size_t kMaxPreReserve = 36u * 1024 * 1024;
    if (pendingSize_ > 0 && pendingSize_ <= kMaxPreReserve)
        buf_.reserve(std::max(old + n, start_ + headerSize() + pendingSize_));
    buf_.resize(old + n);
    reserved_ = n;
    return {buf_.data() + old, n};
}

void MessageFramer::commitTail(size_t written) {
    if (written > reserved_)
        written = reserved_;
    buf_.resize(buf_.size() - (reserved_ - written));
    reserved_ = 0;
}

MessageFramer::Status MessageFramer::next(Message& out) {
    commitTail(0);
    const std::span<const uint8_t> avail(buf_.data() + start_, buf_.size() - start_);
    if (avail.size() < headerSize())
        return Status::NeedMore;
    Reader r(avail);
    if (!mini_)
        r.skip(8); // serial: the server's, informational only
    const uint16_t type = r.u16();
    const uint32_t size = r.u32();
    pendingSize_ = size;
    if (size > kMaxMessageSize)
        return Status::TooLarge;
    if (!mini_)
        r.skip(
            4); // sub_list offset; only used by servers without mini header and never by spice-server >= 0.12
    if (r.remaining() < size)
        return Status::NeedMore;
    out.type = type;
    out.body = avail.subspan(headerSize(), size);
    start_ += headerSize() + size;
    pendingSize_ = 0;
    return Status::Ready;
}

} // namespace saffron
