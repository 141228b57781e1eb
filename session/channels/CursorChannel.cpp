#include "channels/CursorChannel.h"

#include "Log.h"
#include "display/DisplayMessages.h"
#include "wire/Reader.h"

#include <algorithm>

#include <spice/enums.h>
#include <spice/protocol.h>

namespace saffron {

CursorChannel::CursorChannel(const SessionOptions& options, uint8_t id, QObject* parent)
    : Channel(options, SPICE_CHANNEL_CURSOR, id, parent) {
    qRegisterMetaType<saffron::CursorShapePtr>();
}

void CursorChannel::setVisible(bool v) {
    if (v == visible_)
        return;
    visible_ = v;
    emit visibilityChanged(v);
}

void CursorChannel::readCursor(Reader& r) {
    const uint16_t flags = r.u16();
    if (flags & SPICE_CURSOR_FLAGS_NONE) {
        shape_.reset();
        emit shapeChanged(nullptr);
        return;
    }
    CursorHeader h;
    h.unique = r.u64();
    h.type = r.u8();
    h.width = r.u16();
    h.height = r.u16();
    h.hotX = r.u16();
    h.hotY = r.u16();
    CursorShapePtr shape;
    if (flags & SPICE_CURSOR_FLAGS_FROM_CACHE) {
        auto it = cache_.find(h.unique);
        if (it == cache_.end())
            throw ProtocolError("cursor " + std::to_string(h.unique) + " is not in the cache");
        shape = it->second;
    } else {
        shape = std::make_shared<const CursorShape>(decodeCursor(h, r.rest()));
        if (flags & SPICE_CURSOR_FLAGS_CACHE_ME)
            cache(h.unique, shape);
    }
    shape_ = shape;
    emit shapeChanged(shape_);
}

void CursorChannel::cache(uint64_t id, CursorShapePtr shape) {
    uncache(id);
    const uint64_t px = uint64_t(shape->image.width) * uint64_t(shape->image.height);
    while (!cacheOrder_.empty() && (cache_.size() >= kMaxCached || cachedPixels_ + px > kMaxCachedPixels))
        uncache(cacheOrder_.front());
    cache_[id] = std::move(shape);
    cacheOrder_.push_back(id);
    cachedPixels_ += px;
}

void CursorChannel::uncache(uint64_t id) {
    auto it = cache_.find(id);
    if (it == cache_.end())
        return;
    cachedPixels_ -= uint64_t(it->second->image.width) * uint64_t(it->second->image.height);
    cache_.erase(it);
    cacheOrder_.erase(std::find(cacheOrder_.begin(), cacheOrder_.end(), id));
}

void CursorChannel::handleMessage(uint16_t type, std::span<const uint8_t> body) {
    Reader r(body);
    switch (type) {
    case SPICE_MSG_CURSOR_INIT: {
        position_ = display::readPoint16(r);
        r.u16(); // trail length
        r.u16(); // trail frequency
        const bool visible = r.u8();
        readCursor(r);
        emit moved(position_);
        setVisible(visible);
        break;
    }
    case SPICE_MSG_CURSOR_SET: {
        position_ = display::readPoint16(r);
        const bool visible = r.u8();
        readCursor(r);
        emit moved(position_);
        setVisible(visible);
        break;
    }
    case SPICE_MSG_CURSOR_MOVE:
        position_ = display::readPoint16(r);
        emit moved(position_);
        break;
    case SPICE_MSG_CURSOR_HIDE:
        setVisible(false);
        break;
    case SPICE_MSG_CURSOR_RESET:
        cache_.clear();
        cacheOrder_.clear();
        cachedPixels_ = 0;
        setVisible(false);
        break;
    case SPICE_MSG_CURSOR_INVAL_ONE:
        uncache(r.u64());
        break;
    case SPICE_MSG_CURSOR_INVAL_ALL:
        cache_.clear();
        cacheOrder_.clear();
        cachedPixels_ = 0;
        break;
    case SPICE_MSG_CURSOR_TRAIL:
        break;
    default:
        qCDebug(lcCursor) << "ignoring cursor message" << type;
    }
}

} // namespace saffron
