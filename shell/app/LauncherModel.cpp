#include "LauncherModel.h"

#include "common/appliance/ConnectionCatalog.h"

#include <QDebug>

namespace saffron {

std::vector<LauncherModel::Entry> LauncherModel::entriesFrom(const ConnectionCatalog& catalog,
                                                             QStringList* unusable) {
    for (const CatalogProblem& p : catalog.problems()) {
        qWarning().noquote() << "connections:" << p.text();
        if (p.fatal && unusable)
            *unusable << p.text();
    }
    std::vector<Entry> entries;
    for (const CatalogEntry& e : catalog.entries()) {
        QString error;
        auto options = sessionOptionsFrom(e.spec, &error);
        if (!options) {
            qWarning().noquote() << "connections:" << e.source << error;
            if (unusable)
                *unusable << e.source + QStringLiteral(": ") + error;
            continue;
        }
        Entry entry{e.name, e.description, ConnectionTarget{e.spec, *options}};
        entry.needsPassword = e.needsPassword();
        entries.push_back(std::move(entry));
    }
    return entries;
}

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
