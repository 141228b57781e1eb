#pragma once

#include "channels/Channel.h"
#include "display/DisplayMessages.h"
#include "display/ImageReader.h"
#include "display/Surface.h"

#include <QRect>
#include <map>
#include <memory>

namespace saffron {

struct MonitorHead {
    uint32_t monitorId = 0;
    uint32_t surfaceId = 0;
    QRect rect;
};

struct DisplayStats {
    quint64 draws = 0;
    quint64 badDraws = 0;
    quint64 streamFrames = 0;
    quint64 decodeNs = 0; // time spent decoding images and frames
};

// The display channel (spice.proto DisplayChannel): surfaces, draw operations, image and palette
// caches, and MJPEG streams drawn into their surface. Everything happens on the session thread;
// the GUI reads the primary surface under its mutex after `primaryUpdated`.
class DisplayChannel : public Channel {
    Q_OBJECT
public:
    DisplayChannel(const SessionOptions& options, uint8_t id, QObject* parent = nullptr);

    SurfacePtr primarySurface() const { return primary_; }
    const DisplayStats& displayStats() const { return displayStats_; }
    const ImageReader& images() const { return images_; }
    bool isMarked() const { return marked_; }

    // SPICE_IMAGE_COMPRESSION_* values this client decodes (the preferred-compression message
    // may only ask for these).
    static bool decodesCompression(int compression);

signals:
    void primarySurfaceChanged(saffron::SurfacePtr surface); // null when destroyed
    void primaryUpdated(const QRect& dirty);                 // coalesced per batch of messages
    void marked();                                           // the first complete frame is drawn
    void monitorsConfigChanged(const QList<saffron::MonitorHead>& heads);

protected:
    Capabilities channelCaps() const override;
    void onReady() override;
    void handleMessage(uint16_t type, std::span<const uint8_t> body) override;
    void onBatchDone() override;

private:
    struct Stream {
        uint32_t surfaceId = 0;
        uint8_t codec = 0;
        bool topDown = false;
        uint32_t width = 0, height = 0; // encoded frame size
        QRect srcArea;                  // part of the frame to show
        QRect dest;
        display::Clip clip;
    };

    void createSurface(Reader& r);
    void destroySurface(uint32_t id);
    void handleDraw(uint16_t type, const Reader& msg);
    void handleStreamCreate(Reader& r);
    void handleStreamData(Reader& r, bool sized);
    Surface& surfaceFor(uint32_t id);
    std::shared_ptr<const Pixmap> surfaceImage(uint32_t id);
    void touched(const Surface& s, const QRect& rect);

    std::map<uint32_t, SurfacePtr> surfaces_;
    SurfacePtr primary_;
    ImageReader images_;
    std::map<uint32_t, Stream> streams_;
    QRect dirty_;
    bool marked_ = false;
    uint32_t currentDrawSurface_ = UINT32_MAX;
    uint64_t totalSurfacePixels_ = 0;
    DisplayStats displayStats_;
};

} // namespace saffron

Q_DECLARE_METATYPE(saffron::MonitorHead)
