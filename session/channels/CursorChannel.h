#pragma once

#include "channels/Channel.h"
#include "cursor/CursorShape.h"
#include "wire/Reader.h"

#include <QPoint>
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

    // The server keeps up to CURSOR_CACHE_SIZE (256) shapes cached on the client; the bound here
    // protects against servers that never invalidate.
    static constexpr size_t kMaxCached = 1024;
    std::unordered_map<uint64_t, CursorShapePtr> cache_;
    CursorShapePtr shape_;
    QPoint position_;
    bool visible_ = false;
};

} // namespace saffron
