#include "Session.h"

#include "SessionCore.h"
#include "link/TicketCipher.h"
#include "streams/VideoStreams.h"

#include <QThread>
#include <algorithm>

namespace saffron {

std::vector<std::future<void>> Session::warmUp() {
    std::vector<std::future<void>> started;
    started.push_back(VideoStreams::warmUp());
    started.push_back(std::async(std::launch::async, [] { warmUpTicketCipher(); }));
    return started;
}

Session::Session(SessionOptions options, QObject* parent)
    : QObject(parent), options_(std::move(options)), thread_(std::make_unique<QThread>()) {
    qRegisterMetaType<saffron::SurfacePtr>();
    qRegisterMetaType<saffron::SessionEnd>();
    qRegisterMetaType<saffron::ConnectPhase>();
    qRegisterMetaType<saffron::CursorShapePtr>();
    qRegisterMetaType<QList<saffron::MonitorHead>>();
    thread_->setObjectName(QStringLiteral("saffron-session"));
    core_ = new SessionCore(options_);
    core_->moveToThread(thread_.get());

    connect(core_, &SessionCore::connected, this, &Session::connected);
    connect(core_, &SessionCore::ended, this, &Session::ended);
    connect(core_, &SessionCore::disconnected, this, &Session::disconnected);
    connect(core_, &SessionCore::phaseChanged, this, &Session::phaseChanged);
    connect(core_, &SessionCore::channelReady, this, &Session::channelReady);
    connect(core_, &SessionCore::channelClosed, this, &Session::channelClosed);
    // Channel objects are created on the session thread; connecting to them there makes their
    // signals reach us queued, in order.
    connect(
        core_, &SessionCore::displayCreated, core_,
        [this](DisplayChannel* d) {
            const int id = d->id();
            {
                QMutexLocker lock(&surfaceMutex_);
                displayChannels_.insert(id);
            }
            // A display joins the list with its first primary surface and stays in it while
            // its channel is open: a guest changing mode destroys and re-creates the primary,
            // which must not take a window away and bring it back.
            connect(d, &DisplayChannel::primarySurfaceChanged, this, [this, id](SurfacePtr s) {
                bool listChanged = false;
                {
                    QMutexLocker lock(&surfaceMutex_);
                    listChanged = s && listed_.insert(id).second;
                    displays_[id] = s;
                }
                if (id == 0)
                    emit primarySurfaceChanged(s);
                emit displaySurfaceChanged(id, s);
                if (listChanged)
                    emit displaysChanged();
                if (listChanged)
                    sendHeldMonitorSizes();
            });
            connect(d, &DisplayChannel::primaryUpdated, this, [this, id](const QRect& dirty) {
                if (id == 0)
                    emit primaryUpdated(dirty);
                emit displayUpdated(id, dirty);
            });
            connect(d, &DisplayChannel::primaryLayersChanged, this, [this, id] {
                if (id == 0)
                    emit primaryLayersChanged();
                emit displayLayersChanged(id);
            });
            connect(d, &Channel::closed, this, [this, id] {
                bool listChanged = false;
                {
                    QMutexLocker lock(&surfaceMutex_);
                    // The last picture stays readable (displaySurface) after the channel went.
                    listChanged = listed_.erase(id) > 0;
                    displayChannels_.erase(id);
                }
                if (listChanged)
                    emit displaysChanged();
            });
            if (id != 0)
                return;
            // The first complete frame, and display 0's monitors layout (spice.proto
            // DisplayChannel monitors_config): where one device drives several heads, that
            // device is display 0; where each monitor is a device, each reports its one head.
            connect(d, &DisplayChannel::marked, this, &Session::displayMarked);
            connect(d, &DisplayChannel::monitorsConfigChanged, this, [this](const QList<MonitorHead>& heads) {
                heads_ = heads;
                headsKnown_ = true;
                emit monitorsConfigChanged(heads);
                sendHeldMonitorSizes();
            });
        },
        Qt::DirectConnection);
    connect(
        core_, &SessionCore::usbRedirCreated, core_,
        [this](UsbRedirChannel* u) {
            {
                QMutexLocker lock(&usbMutex_);
                usbRedir_ << u;
            }
            emit usbRedirChannelCreated(u);
        },
        Qt::DirectConnection);
    connect(
        core_, &SessionCore::cursorCreated, core_,
        [this](CursorChannel* c) {
            connect(c, &CursorChannel::shapeChanged, this, &Session::cursorShapeChanged);
            connect(c, &CursorChannel::moved, this, &Session::cursorMoved);
            connect(c, &CursorChannel::visibilityChanged, this, &Session::cursorVisibilityChanged);
        },
        Qt::DirectConnection);
    connect(
        core_, &SessionCore::connected, core_,
        [this] {
            MainChannel* m = core_->main();
            connect(m, &MainChannel::mouseModeChanged, this, &Session::mouseModeChanged);
            connect(m, &MainChannel::agentConnectedChanged, this, &Session::agentConnectedChanged);
            connect(m, &MainChannel::guestClipboardText, this, &Session::guestClipboardText);
            connect(m, &MainChannel::guestClipboardImage, this, &Session::guestClipboardImage);
            connect(m, &MainChannel::guestClipboardGrabbed, this, [this] { emit guestClipboardGrabbed(); });
            // The main channel may already have reported its mode before we connected.
            emit mouseModeChanged(m->mouseMode());
        },
        Qt::DirectConnection);
    // Windows resized together (a session starting full screen on every monitor) each say
    // their size within a few milliseconds of each other; one config carries them all.
    monitorSizesTimer_.setSingleShot(true);
    connect(&monitorSizesTimer_, &QTimer::timeout, this, &Session::sendMonitorSizes);
    thread_->start();
}

Session::~Session() {
    // Channels (and their sockets, with Qt's OpenSSL state) are torn down on their own thread,
    // synchronously, so nothing of the session runs once the destructor returns.
    QMetaObject::invokeMethod(
        core_,
        [core = core_] {
            core->stop();
            delete core;
        },
        Qt::BlockingQueuedConnection);
    core_ = nullptr;
    thread_->quit();
    thread_->wait();
}

namespace {
// Windows resized together report their sizes this close together.
constexpr int kMonitorSizesBatchMs = 50;
} // namespace

template <typename F> void Session::post(F&& fn) {
    QMetaObject::invokeMethod(core_, std::forward<F>(fn), Qt::QueuedConnection);
}

void Session::start() {
    post([core = core_] { core->start(); });
}

void Session::stop() {
    post([core = core_] { core->stop(); });
}

SurfacePtr Session::primarySurface() const {
    return displaySurface(0);
}

bool Session::everyDisplayShown() const {
    QMutexLocker lock(&surfaceMutex_);
    return std::ranges::all_of(displayChannels_, [this](int id) { return listed_.contains(id); });
}

QList<int> Session::displays() const {
    QMutexLocker lock(&surfaceMutex_);
    QList<int> out;
    for (int id : listed_)
        out << id;
    return out;
}

SurfacePtr Session::displaySurface(int display) const {
    QMutexLocker lock(&surfaceMutex_);
    const auto it = displays_.find(display);
    return it == displays_.end() ? nullptr : it->second;
}

void Session::setMonitorSize(int monitor, QSize size) {
    if (size.isEmpty())
        monitorSizes_.erase(monitor);
    else
        monitorSizes_[monitor] = size;
    monitorSizesTimer_.start(kMonitorSizesBatchMs);
}

bool Session::monitorsAreHeads() const {
    return monitorsAreHeads(displays());
}

bool Session::monitorsAreHeads(const QList<int>& shown) const {
    if (shown.size() > 1)
        return false;
    const auto onPrimary =
        std::count_if(heads_.begin(), heads_.end(), [](const MonitorHead& h) { return h.surfaceId == 0; });
    return onPrimary > 1 && onPrimary == heads_.size();
}

void Session::sendHeldMonitorSizes() {
    if (!sizesHeld_)
        return;
    monitorSizesTimer_.stop(); // its retry would send the same config again
    sendMonitorSizes();
}

void Session::sendMonitorSizes() {
    if (monitorSizes_.empty())
        return;
    // spice-server reports display 0's layout (DisplayChannel monitors_config) right after its
    // primary surface, and each further display channel (one QXL device per monitor) shows its
    // primary when the guest has set it up. A config sent before both would describe a guest
    // whose one device drives several heads as a single monitor, or leave out a display whose
    // channel is still starting, and the guest would switch those heads or displays off (seen:
    // display 0's window sized itself before display 1's first surface under load). Wait for
    // them; a server that never reports one gets the sizes after kHeadsWaitMs.
    if (!headsKnown_ || !everyDisplayShown()) {
        if (!headsWait_.isValid())
            headsWait_.start();
        const qint64 left = kHeadsWaitMs - headsWait_.elapsed();
        if (left > 0) {
            sizesHeld_ = true;
            monitorSizesTimer_.start(int(left));
            return;
        }
    }
    sizesHeld_ = false;
    // vd_agent.h VDAgentMonitorsConfig: monitor i is display channel i for a guest with one QXL
    // device per monitor (the Windows QXL driver), head i for one device with several (Linux).
    // A monitor nobody asked a size for keeps the one it has (its window may not have said its
    // size yet, or there is no local screen for it): leaving it out, or sending 0x0, would
    // switch it off in the guest, and with it the window that was about to show it.
    const QList<int> shown = displays();
    const bool heads = monitorsAreHeads(shown);
    std::vector<QRect> monitors;
    int x = 0;
    int last = monitorSizes_.rbegin()->first;
    if (!shown.isEmpty())
        last = std::max(last, shown.back());
    if (heads)
        last = std::max(last, int(heads_.size()) - 1);
    for (int id = 0; id <= last; ++id) {
        QSize size;
        if (const auto it = monitorSizes_.find(id); it != monitorSizes_.end())
            size = it->second;
        else if (heads && id < heads_.size())
            size = heads_[id].rect.size();
        else if (const SurfacePtr s = displaySurface(id))
            size = s->bounds().size();
        monitors.emplace_back(QPoint(x, 0), size);
        x += size.width();
    }
    setMonitors(monitors);
}

QList<QPointer<UsbRedirChannel>> Session::usbRedirChannels() const {
    QMutexLocker lock(&usbMutex_);
    return usbRedir_;
}

SessionInfo Session::info() const {
    SessionInfo out;
    QMetaObject::invokeMethod(
        core_, [&out, core = core_] { out = core->info(); }, Qt::BlockingQueuedConnection);
    return out;
}

void Session::keyDown(AtScancode code) {
    post([core = core_, code] {
        if (auto* i = core->inputs())
            i->keyDown(code);
    });
}

void Session::keyUp(AtScancode code) {
    post([core = core_, code] {
        if (auto* i = core->inputs())
            i->keyUp(code);
    });
}

void Session::setLockModifiers(uint16_t modifiers) {
    post([core = core_, modifiers] {
        if (auto* i = core->inputs())
            i->setLockModifiers(modifiers);
    });
}

void Session::mousePosition(QPoint pos, uint16_t buttons, uint8_t displayId) {
    post([core = core_, pos, buttons, displayId] {
        if (auto* i = core->inputs())
            i->mousePosition(pos, buttons, displayId);
    });
}

void Session::mouseMotion(QPoint delta, uint16_t buttons) {
    post([core = core_, delta, buttons] {
        if (auto* i = core->inputs())
            i->mouseMotion(delta, buttons);
    });
}

void Session::mousePress(uint8_t button, uint16_t buttons) {
    post([core = core_, button, buttons] {
        if (auto* i = core->inputs())
            i->mousePress(button, buttons);
    });
}

void Session::mouseRelease(uint8_t button, uint16_t buttons) {
    post([core = core_, button, buttons] {
        if (auto* i = core->inputs())
            i->mouseRelease(button, buttons);
    });
}

void Session::setMonitors(const std::vector<QRect>& monitors) {
    post([core = core_, monitors] {
        if (auto* m = core->main())
            m->setMonitors(monitors);
    });
}

void Session::setClientClipboardText(const QString& text) {
    post([core = core_, text] {
        if (auto* m = core->main())
            m->setClientClipboardText(text);
    });
}

void Session::setClientClipboardImage(const QByteArray& png) {
    post([core = core_, png] {
        if (auto* m = core->main())
            m->setClientClipboardImage(png);
    });
}

void Session::setSpeakerVolume(float gain) {
    post([core = core_, gain] { core->setSpeakerVolume(gain); });
}

void Session::setSpeakerMuted(bool muted) {
    post([core = core_, muted] { core->setSpeakerMuted(muted); });
}

void Session::setAudioOutput(const QString& node) {
    post([core = core_, node] { core->setAudioOutput(node); });
}

void Session::setAudioInput(const QString& node) {
    post([core = core_, node] { core->setAudioInput(node); });
}

void Session::setVideoLayers(VideoLayerMode mode) {
    videoLayers_ = mode;
    post([core = core_, mode] { core->setVideoLayers(mode); });
}

void Session::setMicrophoneMuted(bool muted) {
    post([core = core_, muted] { core->setMicrophoneMuted(muted); });
}

void Session::requestGuestClipboard() {
    post([core = core_] {
        if (auto* m = core->main())
            m->requestGuestClipboard();
    });
}

} // namespace saffron
