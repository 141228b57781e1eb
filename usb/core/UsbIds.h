#pragma once

#include <QByteArrayView>
#include <QHash>
#include <QString>
#include <mutex>

namespace saffron {

// Vendor, product and class names from the usb.ids database (the file lsusb uses; Debian package
// `usb.ids`). Used for a device's display name when its own strings cannot be read.
//
// The file is parsed on first lookup, not at construction: most sessions never need it, and it is
// about 700 KB. A missing, unreadable or malformed file only means fewer names: lines that do not
// have the expected shape are skipped, never trusted.
class UsbIds {
public:
    struct Vendor {
        QString name;
        QHash<quint16, QString> products;
    };
    struct Database {
        QHash<quint16, Vendor> vendors;
        QHash<quint8, QString> classes;
    };

    static QString defaultPath() { return QStringLiteral("/usr/share/misc/usb.ids"); }
    // Largest file we read; the real one is under 1 MB.
    static constexpr qsizetype kMaxFileSize = 16 * 1024 * 1024;

    explicit UsbIds(QString path = defaultPath());
    UsbIds(const UsbIds&) = delete;
    UsbIds& operator=(const UsbIds&) = delete;

    // Parses usb.ids text. Never throws; unknown sections and malformed lines are ignored.
    static Database parse(QByteArrayView text);

    // Empty strings where unknown. Thread-safe (the lazy load is guarded).
    QString vendorName(quint16 vendorId) const;
    QString productName(quint16 vendorId, quint16 productId) const;
    QString className(quint8 deviceClass) const;
    // True once loaded if the file could be read (and was not over kMaxFileSize).
    bool available() const;

private:
    const Database& database() const;

    QString path_;
    mutable std::once_flag loadOnce_;
    mutable Database database_;
    mutable bool available_ = false;
};

} // namespace saffron
