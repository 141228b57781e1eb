#pragma once

#include "channels/Channel.h"
#include "cursor/CursorShape.h"
#include "wire/Reader.h"

#include <QPoint>
#include <deque>
#include <unordered_map>

namespace saffron {

// The cursor channel (spice.proto CursorChannel): pointer shape, position and visibility,
// with the server-managed shape cache.
class CursorChannel : public Channel {
    Q_OBJECT
public:
    CursorChannel(const SessionOptions& options, uint8_t id, QObject* parent = nullptr);

    CursorShapePtr shape() const { return shape_; }
    QPoint position() const { return position_; }
    bool visible() const { return visible_; }

signals:
    void shapeChanged(saffron::CursorShapePtr shape); // null: no pointer image
    void moved(const QPoint& position);
    void visibilityChanged(bool visible);

protected:
    void handleMessage(uint16_t type, std::span<const uint8_t> body) override;

private:
    void readCursor(Reader& r);
    void setVisible(bool v);

    // spice-server keeps at most CURSOR_CACHE_SIZE (256) shapes cached on the client, most of
    // them 32x32 or 64x64; both bounds here (count and pixels) only bite for servers that never
    // invalidate or send huge shapes, and then the oldest entries go.
    static constexpr size_t kMaxCached = 256;
    static constexpr uint64_t kMaxCachedPixels = 4 * 1024 * 1024;
    void cache(uint64_t id, CursorShapePtr shape);
    void uncache(uint64_t id);
    std::unordered_map<uint64_t, CursorShapePtr> cache_;
    std::deque<uint64_t> cacheOrder_;
    uint64_t cachedPixels_ = 0;
    CursorShapePtr shape_;
    QPoint position_;
    bool visible_ = false;
};

} // namespace saffron
