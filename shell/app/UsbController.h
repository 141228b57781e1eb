#pragma once

#include "core/UsbAutoRedirect.h"
#include "core/UsbContext.h"
#include "core/UsbMonitor.h"
#include "core/UsbPolicy.h"

#include <QAbstractListModel>
#include <QPointer>
#include <memory>

namespace saffron {

class Session;
namespace usb {
class UsbRedirector;
}

// The shell's view of USB redirection: the local devices (libusb hotplug) with their state, and
// redirect/release through the session's usbredir channels. The policy decides first; a device
// it denies is never opened. Media and USB code know nothing of SPICE: this class is the glue
// that ties a session's usbredir channels (byte pipes) to usbredirhost endpoints.
class UsbController : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(bool available READ available CONSTANT)
    Q_PROPERTY(QString unavailableReason READ unavailableReason CONSTANT)
    Q_PROPERTY(int channels READ channels NOTIFY channelsChanged)
    Q_PROPERTY(QString lastError READ lastError NOTIFY lastErrorChanged)
public:
    // ChannelRole: the SPICE usbredir channel carrying a redirected device ("usbredir:1"), else "".
    enum Role {
        IdRole = Qt::UserRole + 1,
        NameRole,
        DetailRole,
        StateRole,
        ReasonRole,
        AllowedRole,
        ChannelRole
    };

    explicit UsbController(UsbPolicy policy, QObject* parent = nullptr);
    ~UsbController() override;

    bool available() const { return monitor_ != nullptr; }
    QString unavailableReason() const { return unavailableReason_; }
    int channels() const;
    QString lastError() const { return lastError_; }

    // Follows the session the shell shows (nullptr between sessions). Must be called before the
    // session starts: its usbredir channels are wired as they are created.
    void setSession(Session* session);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    Q_INVOKABLE bool redirect(const QString& id);
    Q_INVOKABLE void release(const QString& id);
    // "local", "redirected", "denied" or "error".
    Q_INVOKABLE QString stateOf(const QString& id) const;

signals:
    void channelsChanged();
    void lastErrorChanged();

private:
    struct Row {
        UsbDeviceInfo info;
        QString state = QStringLiteral("local");
        QString reason;
        QPointer<usb::UsbRedirector> endpoint;
    };
    struct SessionPart;

    int rowOf(const QString& id) const;
    QString channelOf(const Row& r) const;
    void changed(int row);
    void setError(const QString& error);
    void onAdded(const UsbDeviceInfo& info);
    void onRemoved(const QString& id);
    void onReleased(usb::UsbRedirector* endpoint, const QString& reason);

    UsbPolicy policy_;
    std::unique_ptr<UsbContext> context_;
    std::unique_ptr<UsbMonitor> monitor_;
    std::unique_ptr<UsbAutoRedirect> auto_;
    QString unavailableReason_;
    QList<Row> rows_;
    std::shared_ptr<SessionPart> part_;
    QString lastError_;
};

} // namespace saffron
