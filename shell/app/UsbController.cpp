#include "app/UsbController.h"

#include "Session.h"
#include "channels/UsbRedirChannel.h"
#include "redir/UsbRedirPool.h"
#include "redir/UsbRedirector.h"

#include <QCoreApplication>
#include <QHash>
#include <QLoggingCategory>
#include <QMutex>
#include <QThread>

Q_LOGGING_CATEGORY(lcUsbShell, "saffron.usb")

namespace saffron {

// One session's endpoints: one usbredirhost per usbredir channel. Shared with the lambdas that
// run on the session thread; the endpoints are deleted only after the session (and with it
// every channel that could still call into them) is gone.
struct UsbController::SessionPart {
    usb::UsbRedirPool pool;
    QMutex mutex;
    std::vector<std::unique_ptr<usb::UsbRedirector>> endpoints;
    QHash<const usb::UsbRedirector*, int> channelOf; // under mutex: filled on the session thread
    bool autoStarted = false;
};

UsbController::UsbController(UsbPolicy policy, QObject* parent)
    : QAbstractListModel(parent), policy_(std::move(policy)) {
    try {
        context_ = std::make_unique<UsbContext>();
    } catch (const std::exception& e) {
        unavailableReason_ = QString::fromUtf8(e.what());
        qCWarning(lcUsbShell).noquote() << "USB redirection unavailable:" << unavailableReason_;
        return;
    }
    monitor_ = std::make_unique<UsbMonitor>(*context_);
    connect(monitor_.get(), &UsbMonitor::deviceAdded, this, &UsbController::onAdded);
    connect(monitor_.get(), &UsbMonitor::deviceRemoved, this, &UsbController::onRemoved);
    monitor_->start();
    for (const UsbDeviceInfo& d : monitor_->devices())
        onAdded(d);
    auto_ = std::make_unique<UsbAutoRedirect>(policy_, *monitor_);
    connect(auto_.get(), &UsbAutoRedirect::redirectRequested, this,
            [this](const UsbDeviceInfo& d) { redirect(d.id); });
    connect(auto_.get(), &UsbAutoRedirect::redirectSkipped, this,
            [](const UsbDeviceInfo& d, const QString& why) {
                qCInfo(lcUsbShell).noquote() << "not redirecting" << d.displayName << "automatically:" << why;
            });
    auto_->setEnabled(false); // only while a session has usbredir channels
}

UsbController::~UsbController() {
    // Give every device back to the local system before the context goes.
    for (Row& r : rows_)
        if (r.endpoint)
            r.endpoint->releaseDevice();
}

int UsbController::channels() const {
    return part_ ? part_->pool.size() : 0;
}

void UsbController::setSession(Session* session) {
    if (part_) {
        for (Row& r : rows_) {
            if (r.endpoint) {
                r.endpoint->releaseDevice();
                r.endpoint = nullptr;
                r.state = QStringLiteral("local");
            }
        }
        emit dataChanged(index(0), index(int(rows_.size()) - 1));
        part_.reset();
        emit channelsChanged();
    }
    if (auto_)
        auto_->setEnabled(false);
    if (!session || !context_)
        return;
    auto part = std::make_shared<SessionPart>();
    part_ = part;
    libusb_context* ctx = context_->raw();
    QThread* guiThread = thread();
    QPointer<UsbController> self(this);
    // Runs on the session thread as the channel is created, before it connects: QEMU's
    // usbredir hello arrives first thing and must reach the endpoint.
    connect(
        session, &Session::usbRedirChannelCreated, session,
        [part, ctx, guiThread, self](UsbRedirChannel* channel) {
            auto ep = std::make_unique<usb::UsbRedirector>(ctx);
            usb::UsbRedirector* raw = ep.get();
            raw->moveToThread(guiThread);
            QObject::connect(channel, &UsbRedirChannel::dataReceived, raw, &usb::UsbRedirector::feedFromGuest,
                             Qt::DirectConnection);
            QObject::connect(raw, &usb::UsbRedirEndpoint::toGuest, channel, &UsbRedirChannel::sendData,
                             Qt::DirectConnection);
            QObject::connect(
                channel, &Channel::closed, raw,
                [part, raw](const QString&) {
                    raw->releaseDevice();
                    part->pool.remove(raw);
                },
                Qt::DirectConnection);
            if (self) {
                QObject::connect(raw, &usb::UsbRedirEndpoint::deviceReleased, self.data(),
                                 [self, raw](const QString& why) {
                                     if (self)
                                         self->onReleased(raw, why);
                                 });
                QObject::connect(raw, &usb::UsbRedirEndpoint::error, self.data(), [self](const QString& e) {
                    if (self)
                        self->setError(e);
                });
            }
            // usbredirhost drops isochronous data (webcams, headsets) when the link backs up.
            raw->setOutputBacklog([backlog = channel->backlog()] { return backlog->bytes(); });
            QString error;
            if (!raw->start(&error)) {
                qCWarning(lcUsbShell).noquote() << "usbredir endpoint failed:" << error;
                return;
            }
            part->pool.add(raw);
            QMutexLocker lock(&part->mutex);
            part->channelOf.insert(raw, channel->channelId());
            part->endpoints.push_back(std::move(ep));
        },
        Qt::DirectConnection);
    connect(session, &Session::channelReady, this, [this, part](const QString& name) {
        if (!name.startsWith(QLatin1String("usbredir")) || part != part_)
            return;
        emit channelsChanged();
        if (!part->autoStarted && auto_) {
            // Devices already plugged in are offered once, as the session's USB channels come up.
            part->autoStarted = true;
            auto_->setEnabled(true);
            auto_->onSessionConnected();
        }
    });
    connect(session, &Session::channelClosed, this, [this, part](const QString& name) {
        if (name.startsWith(QLatin1String("usbredir")) && part == part_)
            emit channelsChanged();
    });
    // The endpoints outlive the session's channels: delete them once the session is gone.
    connect(session, &QObject::destroyed, guiThread, [part] {
        QMutexLocker lock(&part->mutex);
        part->endpoints.clear();
    });
}

int UsbController::rowOf(const QString& id) const {
    for (int i = 0; i < rows_.size(); ++i)
        if (rows_[i].info.id == id)
            return i;
    return -1;
}

void UsbController::changed(int row) {
    emit dataChanged(index(row), index(row));
}

void UsbController::setError(const QString& error) {
    lastError_ = error;
    qCWarning(lcUsbShell).noquote() << error;
    emit lastErrorChanged();
}

bool UsbController::redirect(const QString& id) {
    const int row = rowOf(id);
    if (row < 0)
        return false;
    Row& r = rows_[row];
    if (r.endpoint)
        return true;
    const UsbPolicy::Decision d = policy_.decide(r.info);
    if (!d.mayRedirect) {
        // Deny always wins: the device is not even opened.
        r.state = QStringLiteral("denied");
        r.reason = d.reason;
        changed(row);
        return false;
    }
    if (!part_) {
        setError(tr("Not connected to a desktop"));
        return false;
    }
    QString error;
    auto* endpoint = static_cast<usb::UsbRedirector*>(part_->pool.claim(&error));
    if (!endpoint) {
        r.state = QStringLiteral("error");
        r.reason = error;
        changed(row);
        setError(error);
        return false;
    }
    UsbDevicePtr device = monitor_->deviceRef(id);
    if (!device || !endpoint->attach(device.get(), &error)) {
        endpoint->unclaim();
        r.state = QStringLiteral("error");
        r.reason = device ? error : tr("the device is gone");
        changed(row);
        setError(QStringLiteral("%1: %2").arg(r.info.displayName, r.reason));
        return false;
    }
    r.endpoint = endpoint;
    r.state = QStringLiteral("redirected");
    r.reason.clear();
    changed(row);
    qCInfo(lcUsbShell).noquote() << "redirected" << r.info.displayName << r.info.vendorProductString();
    return true;
}

void UsbController::release(const QString& id) {
    const int row = rowOf(id);
    if (row >= 0 && rows_[row].endpoint)
        rows_[row].endpoint->releaseDevice(); // deviceReleased() finishes the bookkeeping
}

QString UsbController::stateOf(const QString& id) const {
    const int row = rowOf(id);
    return row < 0 ? QString() : rows_[row].state;
}

void UsbController::onReleased(usb::UsbRedirector* endpoint, const QString& reason) {
    endpoint->unclaim();
    for (int i = 0; i < rows_.size(); ++i) {
        if (rows_[i].endpoint == endpoint) {
            rows_[i].endpoint = nullptr;
            rows_[i].state = QStringLiteral("local");
            rows_[i].reason = reason;
            changed(i);
        }
    }
}

void UsbController::onAdded(const UsbDeviceInfo& info) {
    if (rowOf(info.id) >= 0)
        return;
    beginInsertRows({}, int(rows_.size()), int(rows_.size()));
    Row r;
    r.info = info;
    const UsbPolicy::Decision d = policy_.decide(info);
    if (!d.mayRedirect) {
        r.state = QStringLiteral("denied");
        r.reason = d.reason;
    }
    rows_.append(r);
    endInsertRows();
}

void UsbController::onRemoved(const QString& id) {
    const int row = rowOf(id);
    if (row < 0)
        return;
    if (rows_[row].endpoint)
        rows_[row].endpoint->deviceUnplugged();
    beginRemoveRows({}, row, row);
    rows_.removeAt(row);
    endRemoveRows();
}

int UsbController::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(rows_.size());
}

QVariant UsbController::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() < 0 || index.row() >= rows_.size())
        return {};
    const Row& r = rows_[index.row()];
    switch (role) {
    case Qt::DisplayRole:
    case NameRole:
        return r.info.displayName;
    case IdRole:
        return r.info.id;
    case DetailRole: {
        const QString detail =
            QStringLiteral("%1 · %2 · port %3")
                .arg(r.info.vendorProductString(), usbSpeedName(r.info.speed), r.info.portPath);
        const QString channel = channelOf(r);
        return channel.isEmpty() ? detail : detail + QStringLiteral(" · ") + channel;
    }
    case ChannelRole:
        return channelOf(r);
    case StateRole:
        return r.state;
    case ReasonRole:
        return r.reason;
    case AllowedRole:
        return r.state != QLatin1String("denied");
    default:
        return {};
    }
}

QHash<int, QByteArray> UsbController::roleNames() const {
    return {{IdRole, "deviceId"},   {NameRole, "name"},       {DetailRole, "detail"},  {StateRole, "state"},
            {ReasonRole, "reason"}, {AllowedRole, "allowed"}, {ChannelRole, "channel"}};
}

QString UsbController::channelOf(const Row& r) const {
    if (!r.endpoint || !part_)
        return {};
    QMutexLocker lock(&part_->mutex);
    const int id = part_->channelOf.value(r.endpoint.data(), -1);
    return id < 0 ? QString() : QStringLiteral("usbredir:%1").arg(id);
}

} // namespace saffron
