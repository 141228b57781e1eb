#include "Session.h"

#include "SessionCore.h"

#include <QThread>

namespace saffron {

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
            if (d->id() != 0)
                return; // secondary displays (multi-monitor with several QXL devices) come later
            connect(d, &DisplayChannel::primarySurfaceChanged, this, [this](SurfacePtr s) {
                {
                    QMutexLocker lock(&surfaceMutex_);
                    primary_ = s;
                }
                emit primarySurfaceChanged(s);
            });
            connect(d, &DisplayChannel::primaryUpdated, this, &Session::primaryUpdated);
            connect(d, &DisplayChannel::primaryLayersChanged, this, &Session::primaryLayersChanged);
            connect(d, &DisplayChannel::marked, this, &Session::displayMarked);
            connect(d, &DisplayChannel::monitorsConfigChanged, this, &Session::monitorsConfigChanged);
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
    QMutexLocker lock(&surfaceMutex_);
    return primary_;
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

void Session::setVideoLayers(bool on) {
    post([core = core_, on] { core->setVideoLayers(on); });
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
