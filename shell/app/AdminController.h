#pragma once

#include "common/appliance/AdminPin.h"
#include "common/appliance/ShellSettings.h"

#include <QObject>
#include <QVariantList>
#include <memory>

namespace saffron {

// The administrator's settings behind the PIN. Locked until unlock() gets the right PIN (the
// PIN's own lockout limits guessing); edits go to the admin state file atomically and take
// effect on the next start. Without a PIN set, a kiosk keeps its settings closed; elsewhere
// they are open (a desktop install has no administrator to ask).
class AdminController : public QObject {
    Q_OBJECT
    Q_PROPERTY(bool available READ available CONSTANT)
    Q_PROPERTY(bool unlocked READ unlocked NOTIFY unlockedChanged)
    Q_PROPERTY(QString message READ message NOTIFY messageChanged)
    // The connections made in this panel ({id, name, address, passwordStored}), for editing.
    Q_PROPERTY(QVariantList connections READ connections NOTIFY connectionsChanged)
public:
    // `connectionsDir`: where the panel's connections go (ConnectionCatalog::adminDirForRoot);
    // empty: the panel manages none.
    AdminController(std::unique_ptr<ShellSettings> settings, bool kiosk, QString connectionsDir = {},
                    QObject* parent = nullptr);

    bool available() const { return settings_ != nullptr; }
    bool unlocked() const { return unlocked_; }
    QString message() const { return message_; }

    Q_INVOKABLE bool unlock(const QString& pin);
    Q_INVOKABLE void lock();
    Q_INVOKABLE QString value(const QString& key) const;
    // Writes one key (e.g. "policy/clipboard" = "false"); false with message() set when locked,
    // invalid or not written.
    Q_INVOKABLE bool setValue(const QString& key, const QString& value);
    // Stores a new PIN (4 to 32 digits), hashed.
    Q_INVOKABLE bool setPin(const QString& pin);

    QVariantList connections() const;
    // Adds a connection (id empty) or replaces the panel's connection `id`; the launcher shows
    // it at once. An empty password keeps the stored one when replacing. False with message()
    // set when locked or invalid (the same checks as loading the file).
    Q_INVOKABLE bool saveConnection(const QString& id, const QString& name, const QString& address,
                                    const QString& password, bool passwordFree);
    Q_INVOKABLE bool removeConnection(const QString& id);

signals:
    void unlockedChanged();
    void messageChanged();
    // The panel's connections changed on disk: the launcher reloads its list.
    void connectionsChanged();

private:
    void setMessage(const QString& m);

    bool editable();

    std::unique_ptr<ShellSettings> settings_;
    QString connectionsDir_;
    AdminPin pin_;
    bool kiosk_ = false;
    bool unlocked_ = false;
    QString message_;
};

} // namespace saffron
