#pragma once

#include "channels/Channel.h"
#include "display/DisplayMessages.h"
#include "display/ImageReader.h"
#include "display/Surface.h"
#include "streams/MultimediaClock.h"
#include "streams/VideoStats.h"

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
    quint64 streamFrames = 0; // video frames presented
    quint64 decodeNs = 0;     // time spent decoding images
    VideoStats video;
};

class VideoStreams;

// The display channel (spice.proto DisplayChannel): surfaces, draw operations, image and palette
// caches; video streams are delegated to VideoStreams. Everything happens on the session thread;
// the GUI reads the primary surface under its mutex after `primaryUpdated`.
class DisplayChannel : public Channel {
    Q_OBJECT
public:
    DisplayChannel(const SessionOptions& options, uint8_t id,
                   std::shared_ptr<const MultimediaClock> clock = {}, QObject* parent = nullptr);
    ~DisplayChannel() override;

    SurfacePtr primarySurface() const { return primary_; }
    DisplayStats displayStats() const;
    VideoStreams& videoStreams() { return *video_; }
    const ImageReader& images() const { return images_; }
    bool isMarked() const { return marked_; }

    // SPICE_IMAGE_COMPRESSION_* values this client decodes (the preferred-compression message
    // may only ask for these).
    static bool decodesCompression(int compression);

signals:
    void primarySurfaceChanged(saffron::SurfacePtr surface); // null when destroyed
    void primaryUpdated(const QRect& dirty);                 // coalesced per batch of messages
    void primaryLayersChanged();                             // the primary's video layers, likewise
    void marked();                                           // the first complete frame is drawn
    void monitorsConfigChanged(const QList<saffron::MonitorHead>& heads);

protected:
    Capabilities channelCaps() const override;
    void onReady() override;
    void handleMessage(uint16_t type, std::span<const uint8_t> body) override;
    void onBatchDone() override;

private:
    void sendPreferredVideoCodecs();
    void createSurface(Reader& r);
    void destroySurface(uint32_t id);
    void handleDraw(uint16_t type, const Reader& msg);
    Surface& surfaceFor(uint32_t id);
    std::shared_ptr<const Pixmap> surfaceImage(uint32_t id);
    void touched(const Surface& s, const QRect& rect);

    std::map<uint32_t, SurfacePtr> surfaces_;
    SurfacePtr primary_;
    ImageReader images_;
    std::unique_ptr<VideoStreams> video_;
    QRect dirty_;
    bool layersChanged_ = false;
    bool marked_ = false;
    uint32_t currentDrawSurface_ = UINT32_MAX;
    uint64_t totalSurfacePixels_ = 0;
    DisplayStats displayStats_;
};

} // namespace saffron

Q_DECLARE_METATYPE(saffron::MonitorHead)
