#include "LauncherModel.h"

namespace saffron {

void LauncherModel::setEntries(std::vector<Entry> entries) {
    beginResetModel();
    entries_ = std::move(entries);
    endResetModel();
}

int LauncherModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(entries_.size());
}

QVariant LauncherModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() < 0 || size_t(index.row()) >= entries_.size())
        return {};
    const Entry& e = entries_[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
    case NameRole:
        return e.name;
    case DescriptionRole:
        return e.description;
    default:
        return {};
    }
}

QHash<int, QByteArray> LauncherModel::roleNames() const {
    return {{NameRole, "name"}, {DescriptionRole, "description"}};
}

void LauncherModel::activate(int row) {
    if (row >= 0 && size_t(row) < entries_.size())
        emit activated(entries_[size_t(row)].target, entries_[size_t(row)].needsPassword);
}

} // namespace saffron
