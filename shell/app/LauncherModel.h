#pragma once

#include "common/ConnectionTarget.h"

#include <QAbstractListModel>
#include <vector>

namespace saffron {

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
