#include "channels/MessageFramer.h"

#include "wire/Reader.h"

namespace saffron {

void MessageFramer::append(std::span<const uint8_t> bytes) {
    // Compact lazily so that a long run of small messages does not memmove on every append.
    if (start_ > 0 && (start_ == buf_.size() || start_ > 64 * 1024)) {
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(start_));
        start_ = 0;
    }
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

MessageFramer::Status MessageFramer::next(Message& out) {
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
    return Status::Ready;
}

} // namespace saffron
