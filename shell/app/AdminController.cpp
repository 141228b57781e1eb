#include "app/AdminController.h"

#include "common/appliance/ConnectionCatalog.h"

#include <QLoggingCategory>
#include <chrono>

Q_LOGGING_CATEGORY(lcAdmin, "saffron.admin")

namespace saffron {

AdminController::AdminController(std::unique_ptr<ShellSettings> settings, bool kiosk, QString connectionsDir,
                                 QObject* parent)
    : QObject(parent), settings_(std::move(settings)), connectionsDir_(std::move(connectionsDir)),
      pin_(settings_ ? settings_->adminPinHash() : QString()), kiosk_(kiosk) {
    unlocked_ = settings_ && !pin_.hasPin() && !kiosk_;
}

bool AdminController::unlock(const QString& pin) {
    if (!settings_)
        return false;
    switch (pin_.attempt(pin)) {
    case AdminPin::Result::Accepted:
        unlocked_ = true;
        setMessage({});
        qCInfo(lcAdmin) << "settings unlocked";
        emit unlockedChanged();
        return true;
    case AdminPin::Result::Rejected:
        setMessage(tr("Wrong PIN"));
        break;
    case AdminPin::Result::LockedOut: {
        const auto s = std::chrono::duration_cast<std::chrono::seconds>(pin_.lockoutRemaining()).count() + 1;
        setMessage(tr("Too many wrong PINs: try again in %1 s").arg(s));
        break;
    }
    case AdminPin::Result::NoPin:
        setMessage(kiosk_ ? tr("No administrator PIN is set: settings stay locked on this kiosk")
                          : tr("No administrator PIN is set"));
        break;
    }
    qCWarning(lcAdmin).noquote() << "settings unlock refused:" << message_;
    return false;
}

void AdminController::lock() {
    if (!unlocked_)
        return;
    unlocked_ = false;
    emit unlockedChanged();
}

QString AdminController::value(const QString& key) const {
    return settings_ ? settings_->value(key) : QString();
}

bool AdminController::setValue(const QString& key, const QString& value) {
    if (!settings_ || !unlocked_) {
        setMessage(tr("Settings are locked"));
        return false;
    }
    QString error;
    if (!settings_->setAdminValue(key, value, &error)) {
        setMessage(error);
        return false;
    }
    setMessage(tr("Saved; takes effect at the next start"));
    return true;
}

bool AdminController::setPin(const QString& pin) {
    if (!settings_ || !unlocked_) {
        setMessage(tr("Settings are locked"));
        return false;
    }
    QString error;
    const QString hash = AdminPin::hash(pin, &error);
    if (hash.isEmpty() || !settings_->setAdminValue(QStringLiteral("admin/pin-hash"), hash, &error)) {
        setMessage(error);
        return false;
    }
    pin_.setStoredHash(hash);
    setMessage(tr("PIN changed"));
    return true;
}

bool AdminController::editable() {
    if (!settings_ || !unlocked_) {
        setMessage(tr("Settings are locked"));
        return false;
    }
    if (connectionsDir_.isEmpty()) {
        setMessage(tr("Connections cannot be changed here"));
        return false;
    }
    return true;
}

QVariantList AdminController::connections() const {
    QVariantList out;
    if (connectionsDir_.isEmpty())
        return out;
    ConnectionCatalog catalog;
    catalog.load({}, {}, connectionsDir_);
    for (const CatalogEntry& e : catalog.entries()) {
        // In the form the panel's address field takes back (writeAdminEntry parses it), so editing
        // round-trips. A hand-written file may hold what no URI carries (a proxy): then the host.
        QString address = e.spec.toSpiceUri();
        if (address.isEmpty())
            address = e.spec.host;
        out << QVariantMap{{QStringLiteral("id"), e.id},
                           {QStringLiteral("name"), e.name},
                           {QStringLiteral("address"), address},
                           {QStringLiteral("passwordStored"), !e.spec.password.isEmpty()},
                           {QStringLiteral("passwordFree"), e.passwordFree}};
    }
    return out;
}

bool AdminController::saveConnection(const QString& id, const QString& name, const QString& address,
                                     const QString& password, bool passwordFree) {
    if (!editable())
        return false;
    ConnectionCatalog::AdminDraft draft{name, address, password, passwordFree};
    if (!id.isEmpty() && password.isEmpty()) {
        // Replacing: keep the password already stored unless a new one was typed.
        ConnectionCatalog catalog;
        catalog.load({}, {}, connectionsDir_);
        if (const CatalogEntry* old = catalog.find(id))
            draft.password = old->spec.password;
    }
    QString error;
    const QString saved = ConnectionCatalog::writeAdminEntry(connectionsDir_, draft, id, &error);
    if (saved.isEmpty()) {
        setMessage(tr("Not saved: %1").arg(error));
        qCWarning(lcAdmin).noquote() << "connection not saved:" << error;
        return false;
    }
    qCInfo(lcAdmin).noquote() << "connection" << saved << "saved";
    // A kiosk keeps the connection it started with (ShellStart::reloadConnections is unset).
    setMessage(kiosk_ ? tr("Connection saved; takes effect at the next start") : tr("Connection saved"));
    emit connectionsChanged();
    return true;
}

bool AdminController::removeConnection(const QString& id) {
    if (!editable())
        return false;
    QString error;
    if (!ConnectionCatalog::removeAdminEntry(connectionsDir_, id, &error)) {
        setMessage(tr("Not removed: %1").arg(error));
        return false;
    }
    qCInfo(lcAdmin).noquote() << "connection" << id << "removed";
    setMessage(kiosk_ ? tr("Connection removed; takes effect at the next start") : tr("Connection removed"));
    emit connectionsChanged();
    return true;
}

void AdminController::setMessage(const QString& m) {
    message_ = m;
    emit messageChanged();
}

} // namespace saffron
