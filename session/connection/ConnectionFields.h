#pragma once

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QStringView>
#include <QUrl>
#include <optional>

namespace saffron {

// Validators for the values a URI and a .vv file have in common. Each returns std::nullopt
// and sets *error (a phrase without the field name: callers prefix "port: ", "line 4: ", ...)
// when the text is not acceptable.

// A decimal TCP port 1..65535. With allowZero, "0" is accepted and means "none" (a .vv file
// may spell an absent port that way).
std::optional<quint16> parsePort(QStringView text, bool allowZero, QString* error);

// A host name or IP address as found in a URI authority (already percent-decoded, IPv6
// without brackets): no whitespace, control characters or URI delimiters.
bool isPlausibleHost(QStringView host, QString* error);

// The proxy syntax spice-gtk accepts (spice-uri.c): [scheme://][user[:password]@]host[:port],
// scheme http (default port 3128) or https (default port 3129), IPv6 in brackets, trailing
// '/' ignored. The result always carries an explicit port.
std::optional<QUrl> parseProxyUrl(QStringView text, QString* error);

// A host-subject as spice-common's ssl_verify.c reads it: "key=value" entries separated by
// ',', where '\' escapes ',' or '\'. Keys and values must be non-empty; spaces before a key
// are skipped. Returns the (key, value) pairs in order.
std::optional<QList<QPair<QString, QString>>> parseHostSubject(QStringView text, QString* error);

// One rule of a usbredir filter: "class,vendor,product,version,allow", -1 = any.
struct UsbFilterRule {
    int deviceClass = -1;   // -1 or 0..0xff
    int vendorId = -1;      // -1 or 0..0xffff
    int productId = -1;     // -1 or 0..0xffff
    int deviceVersion = -1; // -1 or 0..0xffff (bcdDevice)
    bool allow = false;
    bool operator==(const UsbFilterRule&) const = default;
};
// A usbredir filter string, rules separated by '|', fields by ','. Numbers are decimal or
// 0x-prefixed hexadecimal, as usbredirfilter_string_to_rules (strtol base 0) reads them.
// An empty string is an empty list.
std::optional<QList<UsbFilterRule>> parseUsbFilter(QStringView text, QString* error);

// Checks every entry of `names` is a SPICE channel name (or "all" when allowAll).
bool checkChannelNames(const QStringList& names, bool allowAll, QString* error);

} // namespace saffron
