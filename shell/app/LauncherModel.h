#pragma once

#include "common/ConnectionTarget.h"

#include <QAbstractListModel>
#include <QStringList>
#include <vector>

namespace saffron {

class ConnectionCatalog;

// The launcher's tiles: configured connections, in the administrator's order.
class LauncherModel : public QAbstractListModel {
    Q_OBJECT
public:
    struct Entry {
        QString name;
        QString description;
        ConnectionTarget target;
        bool needsPassword = false; // no stored secret: ask before connecting
    };
    enum Role { NameRole = Qt::UserRole + 1, DescriptionRole };

    using QAbstractListModel::QAbstractListModel;

    // The tiles for a loaded catalog: entries whose spec makes session options. The catalog's
    // problems and each unusable entry go to the journal and, when asked, to *unusable (what a
    // kiosk's problem screen shows).
    static std::vector<Entry> entriesFrom(const ConnectionCatalog& catalog, QStringList* unusable);

    void setEntries(std::vector<Entry> entries);
    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    Q_INVOKABLE void activate(int row);

signals:
    void activated(const saffron::ConnectionTarget& target, bool needsPassword);

private:
    std::vector<Entry> entries_;
};

} // namespace saffron
