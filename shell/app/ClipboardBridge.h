#pragma once

#include <QObject>
#include <QPointer>

class QClipboard;
class QImage;

namespace saffron {

class Session;

// Carries the clipboard between this machine and the guest, text and images, through the
// session's agent. Images are PNG-encoded and guest images decoded on the thread pool: a
// screenshot-sized PNG takes tens of milliseconds, which the GUI thread must not spend.
// Only constructed when the administrator's policy allows the clipboard.
class ClipboardBridge : public QObject {
    Q_OBJECT
public:
    explicit ClipboardBridge(QClipboard* clipboard, QObject* parent = nullptr);

    // The session to share with (null: none). What the local clipboard holds is offered to a
    // new session at once: the user may have copied it before connecting.
    void setSession(Session* session);

    // Guest images beyond these are refused unread (a hostile guest or server could declare a
    // 65535x65535 PNG to make us allocate 16 GiB).
    static constexpr int kMaxImageSide = 16384;
    static constexpr qint64 kMaxImagePixels = qint64(8192) * 8192;

    // Decodes a PNG/BMP from the guest within the limits above; a null image (and a reason)
    // when it is not acceptable. Thread-safe.
    static QImage decodeGuestImage(const QByteArray& encoded, QString* why);

signals:
    // For tests: a guest image reached the local clipboard, or an outgoing one was offered.
    void guestImageApplied();
    void localImageOffered();

private:
    void localChanged();
    void applyGuestText(const QString& text);
    void applyGuestImage(const QByteArray& encoded);

    QClipboard* clipboard_;
    QPointer<Session> session_;
    bool applyingGuest_ = false;
    // Bumped on every local or guest change, so a slow encode/decode that finishes after a
    // newer change is dropped instead of overwriting it.
    quint64 generation_ = 0;
};

} // namespace saffron
