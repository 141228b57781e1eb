#include "app/ClipboardBridge.h"

#include "Session.h"

#include <QBuffer>
#include <QClipboard>
#include <QCoreApplication>
#include <QImage>
#include <QImageReader>
#include <QLoggingCategory>
#include <QMimeData>
#include <QThreadPool>

namespace saffron {

Q_LOGGING_CATEGORY(lcClipboard, "saffron.clipboard")

ClipboardBridge::ClipboardBridge(QClipboard* clipboard, QObject* parent)
    : QObject(parent), clipboard_(clipboard) {
    connect(clipboard_, &QClipboard::dataChanged, this, &ClipboardBridge::localChanged);
}

void ClipboardBridge::setSession(Session* session) {
    if (session_)
        session_->disconnect(this);
    session_ = session;
    if (!session)
        return;
    // The agent offers its clipboard by demand: ask for the data as soon as it grabs, so a
    // paste on this machine finds it there.
    connect(session, &Session::guestClipboardGrabbed, this, [this] {
        if (session_)
            session_->requestGuestClipboard();
    });
    connect(session, &Session::guestClipboardText, this, &ClipboardBridge::applyGuestText);
    connect(session, &Session::guestClipboardImage, this, &ClipboardBridge::applyGuestImage);
    // What is on this machine's clipboard is offered once there is an agent to take it (the
    // main channel keeps it until the agent's capabilities arrive). Not here: the session has
    // not started, so nothing could keep it yet, and the first read of the X clipboard costs
    // ~17 ms of this thread just before the session starts (bench_shell, Xvfb).
    connect(session, &Session::agentConnectedChanged, this, [this](bool connected) {
        if (connected)
            localChanged();
    });
}

void ClipboardBridge::localChanged() {
    if (applyingGuest_ || !session_)
        return;
    const quint64 generation = ++generation_;
    const QMimeData* mime = clipboard_->mimeData();
    if (!mime)
        return;
    if (mime->hasText() || !mime->hasImage()) {
        session_->setClientClipboardText(mime->text());
        return;
    }
    const QImage image = qvariant_cast<QImage>(mime->imageData());
    if (image.isNull())
        return;
    QPointer<ClipboardBridge> self(this);
    QThreadPool::globalInstance()->start([self, generation, image] {
        QByteArray png;
        QBuffer buffer(&png);
        buffer.open(QIODevice::WriteOnly);
        if (!image.save(&buffer, "PNG"))
            return;
        // Back on the GUI thread; the bridge may be gone by then, or the clipboard changed.
        QMetaObject::invokeMethod(QCoreApplication::instance(), [self, generation, png] {
            if (!self || self->generation_ != generation || !self->session_)
                return;
            self->session_->setClientClipboardImage(png);
            emit self->localImageOffered();
        });
    });
}

void ClipboardBridge::applyGuestText(const QString& text) {
    ++generation_;
    applyingGuest_ = true;
    clipboard_->setText(text);
    applyingGuest_ = false;
}

QImage ClipboardBridge::decodeGuestImage(const QByteArray& encoded, QString* why) {
    QBuffer buffer;
    buffer.setData(encoded);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    const QByteArray format = reader.format();
    if (format != "png" && format != "bmp") {
        *why = QStringLiteral("not a PNG or BMP image");
        return {};
    }
    const QSize size = reader.size();
    if (!size.isValid() || size.width() > kMaxImageSide || size.height() > kMaxImageSide ||
        qint64(size.width()) * size.height() > kMaxImagePixels) {
        *why = QStringLiteral("image size %1x%2 refused").arg(size.width()).arg(size.height());
        return {};
    }
    QImage image = reader.read();
    if (image.isNull())
        *why = reader.errorString();
    return image;
}

void ClipboardBridge::applyGuestImage(const QByteArray& encoded) {
    const quint64 generation = ++generation_;
    QPointer<ClipboardBridge> self(this);
    QThreadPool::globalInstance()->start([self, generation, encoded] {
        QString why;
        QImage image = decodeGuestImage(encoded, &why);
        if (image.isNull()) {
            qCWarning(lcClipboard).noquote() << "guest clipboard image ignored:" << why;
            return;
        }
        QMetaObject::invokeMethod(QCoreApplication::instance(), [self, generation, image] {
            if (!self || self->generation_ != generation)
                return;
            self->applyingGuest_ = true;
            self->clipboard_->setImage(image);
            self->applyingGuest_ = false;
            emit self->guestImageApplied();
        });
    });
}

} // namespace saffron
