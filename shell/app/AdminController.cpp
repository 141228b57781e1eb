#include "app/AdminController.h"

#include <QLoggingCategory>
#include <chrono>

Q_LOGGING_CATEGORY(lcAdmin, "saffron.admin")

namespace saffron {

AdminController::AdminController(std::unique_ptr<ShellSettings> settings, bool kiosk, QObject* parent)
    : QObject(parent), settings_(std::move(settings)),
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

void AdminController::setMessage(const QString& m) {
    message_ = m;
    emit messageChanged();
}

} // namespace saffron
