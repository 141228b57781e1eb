#pragma once

#include "SessionEnd.h"
#include "SessionOptions.h"
#include "channels/DisplayChannel.h"
#include "cursor/CursorShape.h"
#include "display/Surface.h"
#include "input/Scancodes.h"

#include <QElapsedTimer>
#include <QMutex>
#include <QObject>
#include <QPoint>
#include <QPointer>
#include <QRect>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <vector>

class QThread;

namespace saffron {

class SessionCore;
class UsbRedirChannel;

struct ChannelInfo {
    QString name; // "display:0"
    uint8_t type = 0;
    uint8_t id = 0;
    QString state;
    bool tls = false;
    std::vector<uint32_t> commonCaps;
    std::vector<uint32_t> channelCaps;
    ChannelStats stats;
};

struct SessionInfo {
    bool connected = false;
    uint32_t sessionId = 0;
    QString serverName;
    QString serverUuid;
    uint32_t mouseMode = 0;
    bool agentConnected = false;
    QList<ChannelInfo> channels;
    QStringList unsupportedChannels; // offered by the server, not opened by us
    DisplayStats display;
    QSize primarySize;
    std::map<int, quint64> imagesDecoded; // SPICE_IMAGE_TYPE_* -> count, display channel 0
};

// A connection to one SPICE server. All network I/O, parsing and decoding run on a private
// thread; this object lives on the caller's (GUI) thread, its methods never block on the
// network (except info(), a short synchronous snapshot), and its signals arrive on the
// caller's thread.
class Session : public QObject {
    Q_OBJECT
public:
    explicit Session(SessionOptions options, QObject* parent = nullptr);
    ~Session() override;

    // Starts, on threads of their own, the one-off work that a process's first connection would
    // otherwise wait for: GStreamer's initialisation (registry load, ~20 ms here), which the
    // decoder probes need before the display channel can link, and OpenSSL's first ticket
    // encryption (~6 ms, in the main channel's link). Call it right after the application
    // object exists (before it, the two starts slowed each other down here); each future's
    // destructor waits for its thread.
    [[nodiscard]] static std::vector<std::future<void>> warmUp();

    void start();
    void stop();

    // Display 0's primary surface: the one desktop of most servers.
    SurfacePtr primarySurface() const;
    // Every display: a server with several QXL devices (a Windows guest, Proxmox "qxl2".."qxl4")
    // opens one display channel per device, each with its own primary surface. displays() lists
    // the channel ids, ascending, of the displays that have shown a primary surface and whose
    // channel is still open (a display between two modes has a null surface for a moment).
    QList<int> displays() const;
    SurfacePtr displaySurface(int display) const;
    SessionInfo info() const;

    // Input: forwarded to the inputs channel, in order.
    void keyDown(AtScancode code);
    void keyUp(AtScancode code);
    void setLockModifiers(uint16_t modifiers);
    void mousePosition(QPoint pos, uint16_t buttons, uint8_t displayId = 0);
    void mouseMotion(QPoint delta, uint16_t buttons);
    void mousePress(uint8_t button, uint16_t buttons);
    void mouseRelease(uint8_t button, uint16_t buttons);

    // Agent: desired guest resolution/layout, and the clipboard. setMonitors sends a layout as
    // is; setMonitorSize keeps one wanted size per monitor (an empty size: no wish) and sends
    // them as one layout, side by side in monitor order, once the wishes of one moment are in
    // (several windows resized together make one monitors config, not a burst). Monitor i is
    // display i where the server has a display channel per monitor, head i of display 0 where
    // one device drives several heads (monitorHeads()).
    void setMonitors(const std::vector<QRect>& monitors);
    void setMonitorSize(int monitor, QSize size);
    // Display 0's heads as the guest's driver last laid them out (SPICE_MSG_DISPLAY_MONITORS_CONFIG):
    // where each monitor lies on the primary surface. Empty until the server says.
    QList<MonitorHead> monitorHeads() const { return heads_; }
    // Whether the guest's monitors are display 0's heads (one device driving several: the Linux
    // QXL driver) rather than displays (a device per monitor): display 0 is the only display and
    // its layout has more than one head, all on its primary surface. Decides both what monitor i
    // of setMonitorSize() is and which windows the shell opens.
    bool monitorsAreHeads() const;
    void setClientClipboardText(const QString& text);
    // PNG bytes; see MainChannel::setClientClipboardImage.
    void setClientClipboardImage(const QByteArray& png);
    void requestGuestClipboard();

    // Audio on this machine (the shell's menu), on top of what the server sets: speaker volume
    // 0..1 and mute, microphone mute. Kept for the session's whole life.
    void setSpeakerVolume(float gain);
    void setSpeakerMuted(bool muted);
    void setMicrophoneMuted(bool muted);
    // The PipeWire node (AudioDevice::name) to play to / record from, switched while the session
    // runs; empty: the system default. Starts as SessionOptions::audioOutput/audioInput.
    void setAudioOutput(const QString& node);
    void setAudioInput(const QString& node);

    // Video streams of the primary surface as layers (Surface::layers) instead of pixels
    // converted into it, for a front end that composites them: Yuv for a GPU, Rgb for a CPU
    // compositor (see VideoLayerMode). Off by default.
    void setVideoLayers(VideoLayerMode mode);
    VideoLayerMode videoLayers() const { return videoLayers_; }

    // USB redirection: the usbredir channels the server offered, in the order they were opened
    // (ready or not; see UsbRedirChannel::isOpen). They stay valid until the Session is destroyed;
    // only their thread-safe members may be used from this thread.
    QList<QPointer<UsbRedirChannel>> usbRedirChannels() const;

signals:
    void connected();
    void disconnected(const QString& error);    // empty error: orderly end
    void ended(const saffron::SessionEnd& end); // just before disconnected(), with the reason
    void phaseChanged(saffron::ConnectPhase phase);
    void channelReady(const QString& name);
    void channelClosed(const QString& name, const QString& error);
    void primarySurfaceChanged(saffron::SurfacePtr surface);
    void primaryUpdated(const QRect& dirty);
    void primaryLayersChanged(); // Surface::layers of the primary surface changed
    // The same three for every display (display 0's included), and the list's changes.
    void displaySurfaceChanged(int display, saffron::SurfacePtr surface);
    void displayUpdated(int display, const QRect& dirty);
    void displayLayersChanged(int display);
    void displaysChanged();
    void displayMarked();
    void cursorShapeChanged(saffron::CursorShapePtr shape);
    void cursorMoved(const QPoint& pos);
    void cursorVisibilityChanged(bool visible);
    void mouseModeChanged(uint32_t mode);
    void agentConnectedChanged(bool connected);
    void guestClipboardGrabbed();
    void guestClipboardText(const QString& text);
    void guestClipboardImage(const QByteArray& encoded); // PNG or BMP, undecoded
    void monitorsConfigChanged(const QList<saffron::MonitorHead>& heads);
    // Emitted on the SESSION thread, before the channel connects: connect with
    // Qt::DirectConnection and hook a usbredir endpoint to channel->dataReceived there, so the
    // guest's first bytes (its usbredir hello) are not missed. Ready/closed follow as
    // channelReady/channelClosed with the channel's name ("usbredir:N").
    void usbRedirChannelCreated(saffron::UsbRedirChannel* channel);

private:
    // monitorsAreHeads() for the displays `shown` (what displays() returned).
    bool monitorsAreHeads(const QList<int>& shown) const;
    template <typename F> void post(F&& fn);

    SessionOptions options_;
    std::unique_ptr<QThread> thread_;
    SessionCore* core_ = nullptr; // lives on thread_; deleted there by ~Session
    void sendMonitorSizes();
    // What sendMonitorSizes() waited for has arrived: sizes it held back go out now.
    void sendHeldMonitorSizes();
    // Every open display channel has shown a primary surface (so its monitor has a size).
    bool everyDisplayShown() const;

    mutable QMutex surfaceMutex_;
    std::map<int, SurfacePtr> displays_; // display channel id -> primary surface (or null)
    std::set<int> listed_;               // displays(): shown a primary, channel still open
    std::set<int> displayChannels_;      // the display channels open (from the server's list)
    std::map<int, QSize> monitorSizes_;
    QTimer monitorSizesTimer_;
    QList<MonitorHead> heads_;
    // Whether display 0 has reported its monitors layout yet; until then (at most
    // kHeadsWaitMs from the first size to send) monitor sizes are held back.
    bool headsKnown_ = false;
    // sendMonitorSizes() held the sizes back (layout not known yet) and the timer will retry.
    bool sizesHeld_ = false;
    VideoLayerMode videoLayers_ = VideoLayerMode::Off; // as last set, for this thread
    QElapsedTimer headsWait_;
    static constexpr qint64 kHeadsWaitMs = 1500;
    mutable QMutex usbMutex_;
    QList<QPointer<UsbRedirChannel>> usbRedir_;
};

} // namespace saffron
