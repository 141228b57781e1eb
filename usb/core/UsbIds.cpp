#include "UsbIds.h"

#include <QFile>
#include <optional>

namespace saffron {

namespace {

// Names longer than this are cut: the longest real entry is under 150 characters.
constexpr qsizetype kMaxNameLength = 256;

std::optional<int> hexDigit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return std::nullopt;
}

// Reads exactly `digits` hex digits at the start of `line`; the id must be followed by white space
// and a name ("0781  SanDisk Corp."). Returns the id and the trimmed name.
std::optional<std::pair<quint16, QString>> idAndName(QByteArrayView line, qsizetype digits) {
    if (line.size() <= digits)
        return std::nullopt;
    quint32 id = 0;
    for (qsizetype i = 0; i < digits; ++i) {
        const auto digit = hexDigit(line[i]);
        if (!digit)
            return std::nullopt;
        id = id * 16 + quint32(*digit);
    }
    if (line[digits] != ' ' && line[digits] != '\t')
        return std::nullopt;
    QString name = QString::fromUtf8(line.sliced(digits)).trimmed();
    if (name.isEmpty())
        return std::nullopt;
    if (name.size() > kMaxNameLength)
        name.truncate(kMaxNameLength);
    return std::pair{quint16(id), name};
}

} // namespace

UsbIds::UsbIds(QString path) : path_(std::move(path)) {}

UsbIds::Database UsbIds::parse(QByteArrayView text) {
    // Format (usb.ids header): "vvvv  vendor" at column 0, "\tpppp  product" below its vendor,
    // "\t\tiiii  interface" below a product; then other sections whose top lines start with a
    // keyword: "C cc  class" (with "\tss  subclass" below), "AT", "HID", "R", "L", ... Only
    // vendors, products and classes are kept.
    enum class Section { None, Vendor, Class, Other };
    Database db;
    Section section = Section::None;
    Vendor* vendor = nullptr;

    qsizetype pos = 0;
    while (pos < text.size()) {
        qsizetype end = text.indexOf('\n', pos);
        if (end < 0)
            end = text.size();
        QByteArrayView line = text.sliced(pos, end - pos);
        pos = end + 1;
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty() || line.front() == '#')
            continue;

        if (line.front() != '\t') {
            vendor = nullptr;
            section = Section::Other;
            if (line.startsWith("C ")) {
                if (auto entry = idAndName(line.sliced(2), 2)) {
                    section = Section::Class;
                    db.classes.insert(quint8(entry->first), entry->second);
                }
            } else if (auto entry = idAndName(line, 4)) {
                section = Section::Vendor;
                // A repeated vendor keeps its first entry and collects products under it.
                auto it = db.vendors.find(entry->first);
                if (it == db.vendors.end())
                    it = db.vendors.insert(entry->first, Vendor{entry->second, {}});
                vendor = &it.value();
            }
            continue;
        }
        // One tab: a product of the current vendor. Two tabs: an interface, not kept.
        if (section != Section::Vendor || !vendor || line.size() < 2 || line[1] == '\t')
            continue;
        if (auto entry = idAndName(line.sliced(1), 4))
            vendor->products.insert(entry->first, entry->second);
    }
    return db;
}

const UsbIds::Database& UsbIds::database() const {
    std::call_once(loadOnce_, [this] {
        QFile file(path_);
        if (!file.open(QIODevice::ReadOnly) || file.size() > kMaxFileSize)
            return;
        const QByteArray text = file.read(kMaxFileSize);
        available_ = true;
        database_ = parse(text);
    });
    return database_;
}

QString UsbIds::vendorName(quint16 vendorId) const {
    return database().vendors.value(vendorId).name;
}

QString UsbIds::productName(quint16 vendorId, quint16 productId) const {
    const auto& vendors = database().vendors;
    const auto it = vendors.constFind(vendorId);
    return it == vendors.constEnd() ? QString() : it->products.value(productId);
}

QString UsbIds::className(quint8 deviceClass) const {
    return database().classes.value(deviceClass);
}

bool UsbIds::available() const {
    database();
    return available_;
}

} // namespace saffron
