#include "connection/ConnectionFields.h"

#include "connection/ConnectionSpec.h"

#include <QHostAddress>

namespace saffron {

namespace {

bool isAsciiDigit(QChar c) {
    return c >= u'0' && c <= u'9';
}

// Value of a hex, octal or decimal digit in `base`, or -1.
int digitValue(QChar c, int base) {
    int v = -1;
    if (c >= u'0' && c <= u'9')
        v = c.unicode() - u'0';
    else if (c >= u'a' && c <= u'f')
        v = c.unicode() - u'a' + 10;
    else if (c >= u'A' && c <= u'F')
        v = c.unicode() - u'A' + 10;
    return v < base ? v : -1;
}

// An integer the way C's strtol(text, &end, 0) reads it when the whole token must be used:
// optional sign, "0x" hex, leading-0 octal, else decimal. Bounded to avoid overflow.
std::optional<long long> parseCInteger(QStringView text) {
    qsizetype i = 0;
    bool negative = false;
    if (i < text.size() && (text[i] == u'-' || text[i] == u'+')) {
        negative = text[i] == u'-';
        ++i;
    }
    int base = 10;
    if (text.mid(i).startsWith(u"0x", Qt::CaseInsensitive) && text.size() > i + 2) {
        base = 16;
        i += 2;
    } else if (i < text.size() && text[i] == u'0' && text.size() > i + 1) {
        base = 8;
        ++i;
    }
    if (i >= text.size())
        return std::nullopt;
    long long value = 0;
    for (; i < text.size(); ++i) {
        const int d = digitValue(text[i], base);
        if (d < 0)
            return std::nullopt;
        value = value * base + d;
        if (value > 0xffffffffLL) // no usbredir field comes near this
            return std::nullopt;
    }
    return negative ? -value : value;
}

// A bracketed IPv6 literal's inside must be an IPv6 address (QHostAddress also takes scope ids).
bool isIpv6Literal(QStringView text) {
    QHostAddress address;
    return address.setAddress(text.toString()) && address.protocol() == QAbstractSocket::IPv6Protocol;
}

} // namespace

std::optional<quint16> parsePort(QStringView text, bool allowZero, QString* error) {
    if (text.isEmpty()) {
        *error = QStringLiteral("empty port");
        return std::nullopt;
    }
    // Digits only: no sign, no spaces, no hex. Leading zeros are harmless but bounded.
    quint32 value = 0;
    for (QChar c : text) {
        if (!isAsciiDigit(c)) {
            *error = QStringLiteral("port '%1' is not a decimal number").arg(text);
            return std::nullopt;
        }
        value = value * 10 + static_cast<quint32>(c.unicode() - u'0');
        if (value > 65535) {
            *error = QStringLiteral("port '%1' is out of range (1-65535)").arg(text.left(16));
            return std::nullopt;
        }
    }
    if (value == 0 && !allowZero) {
        *error = QStringLiteral("port 0 is out of range (1-65535)");
        return std::nullopt;
    }
    return static_cast<quint16>(value);
}

bool isPlausibleHost(QStringView host, QString* error) {
    if (host.isEmpty()) {
        *error = QStringLiteral("empty host");
        return false;
    }
    // DNS names stop at 253 octets; Proxmox proxy tickets are about 80 characters. Anything
    // much longer is not an address.
    if (host.size() > 1024) {
        *error = QStringLiteral("host is longer than 1024 characters");
        return false;
    }
    for (QChar c : host) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f || c.isSpace()) {
            *error = QStringLiteral("host contains whitespace or a control character");
            return false;
        }
        if (QStringView(u"/?#@[]\\").contains(c)) {
            *error = QStringLiteral("host contains '%1'").arg(c);
            return false;
        }
    }
    return true;
}

std::optional<QUrl> parseProxyUrl(QStringView text, QString* error) {
    QStringView rest = text;
    QString scheme = QStringLiteral("http");
    const qsizetype sep = rest.indexOf(u"://");
    if (sep >= 0) {
        scheme = rest.left(sep).toString().toLower();
        rest = rest.mid(sep + 3);
    }
    quint16 port = 0;
    if (scheme == u"http") {
        port = 3128; // spice-gtk's default for HTTP proxies (spice-uri.c)
    } else if (scheme == u"https") {
        port = 3129;
    } else {
        *error = QStringLiteral("unsupported proxy scheme '%1' (only http and https)").arg(scheme.left(32));
        return std::nullopt;
    }
    while (rest.endsWith(u'/'))
        rest.chop(1);

    QUrl url;
    url.setScheme(scheme);
    const qsizetype at = rest.lastIndexOf(u'@');
    if (at >= 0) {
        const QStringView userinfo = rest.left(at);
        rest = rest.mid(at + 1);
        const qsizetype colon = userinfo.indexOf(u':');
        url.setUserName(
            QUrl::fromPercentEncoding(userinfo.left(colon < 0 ? userinfo.size() : colon).toUtf8()),
            QUrl::DecodedMode);
        if (colon >= 0)
            url.setPassword(QUrl::fromPercentEncoding(userinfo.mid(colon + 1).toUtf8()), QUrl::DecodedMode);
    }

    QStringView host;
    QStringView portText;
    if (rest.startsWith(u'[')) {
        const qsizetype close = rest.indexOf(u']');
        if (close < 0) {
            *error = QStringLiteral("missing ']' after the IPv6 address");
            return std::nullopt;
        }
        host = rest.mid(1, close - 1);
        const QStringView after = rest.mid(close + 1);
        if (after.startsWith(u':')) {
            portText = after.mid(1);
            if (portText.isEmpty()) {
                *error = QStringLiteral("empty port");
                return std::nullopt;
            }
        } else if (!after.isEmpty()) {
            *error = QStringLiteral("unexpected text after the IPv6 address");
            return std::nullopt;
        }
        if (!isIpv6Literal(host)) {
            *error = QStringLiteral("'%1' is not an IPv6 address").arg(host.left(64));
            return std::nullopt;
        }
    } else {
        const qsizetype colon = rest.indexOf(u':');
        host = colon < 0 ? rest : rest.left(colon);
        if (colon >= 0) {
            portText = rest.mid(colon + 1);
            if (portText.contains(u':')) {
                *error = QStringLiteral("an IPv6 address must be written in brackets");
                return std::nullopt;
            }
            if (portText.isEmpty()) {
                *error = QStringLiteral("empty port");
                return std::nullopt;
            }
        }
        QString hostError;
        if (!isPlausibleHost(host, &hostError)) {
            *error = hostError;
            return std::nullopt;
        }
    }
    if (!portText.isNull()) {
        QString portError;
        const auto p = parsePort(portText, false, &portError);
        if (!p) {
            *error = portError;
            return std::nullopt;
        }
        port = *p;
    }
    url.setHost(host.toString());
    url.setPort(port);
    if (!url.isValid() || url.host().isEmpty()) {
        *error = QStringLiteral("'%1' is not a valid proxy address").arg(host.left(64));
        return std::nullopt;
    }
    return url;
}

std::optional<QList<QPair<QString, QString>>> parseHostSubject(QStringView text, QString* error) {
    QList<QPair<QString, QString>> entries;
    QString key;
    QString value;
    bool inValue = false;
    for (qsizetype i = 0; i <= text.size(); ++i) {
        const bool end = i == text.size();
        QChar c = end ? QChar() : text[i];
        bool escaped = false;
        if (!end && c == u'\\') {
            // Only "\\" and "\," are escapes; a lone '\' at the end is an error too.
            if (i + 1 >= text.size() || (text[i + 1] != u'\\' && text[i + 1] != u',')) {
                *error = QStringLiteral("'\\' must be followed by '\\' or ','");
                return std::nullopt;
            }
            c = text[++i];
            escaped = true;
        }
        if (!inValue) {
            if (!end && !escaped && c == u' ' && key.isEmpty())
                continue;
            if (end) {
                if (!key.isEmpty()) {
                    *error = QStringLiteral("'%1' has no '=value'").arg(key.left(64));
                    return std::nullopt;
                }
                break;
            }
            if (!escaped && c == u',') {
                *error = key.isEmpty() ? QStringLiteral("empty entry")
                                       : QStringLiteral("'%1' has no '=value'").arg(key.left(64));
                return std::nullopt;
            }
            if (!escaped && c == u'=') {
                if (key.isEmpty()) {
                    *error = QStringLiteral("entry without a key before '='");
                    return std::nullopt;
                }
                inValue = true;
                continue;
            }
            key.append(c);
        } else {
            if (end || (!escaped && c == u',')) {
                if (value.isEmpty()) {
                    *error = QStringLiteral("'%1' has an empty value").arg(key.left(64));
                    return std::nullopt;
                }
                entries.append({key, value});
                key.clear();
                value.clear();
                inValue = false;
                if (end)
                    break;
                continue;
            }
            value.append(c);
        }
    }
    if (entries.isEmpty()) {
        *error = QStringLiteral("no 'key=value' entry");
        return std::nullopt;
    }
    return entries;
}

std::optional<QList<UsbFilterRule>> parseUsbFilter(QStringView text, QString* error) {
    QList<UsbFilterRule> rules;
    int ruleNumber = 0;
    // Empty rules ("a||b", a trailing '|') are skipped, as strtok does in usbredirfilter.
    for (QStringView ruleText : text.split(u'|', Qt::SkipEmptyParts)) {
        ++ruleNumber;
        const auto fields = ruleText.split(u',');
        if (fields.size() != 5) {
            *error = QStringLiteral("rule %1 has %2 fields, expected 5 (class,vendor,product,version,allow)")
                         .arg(ruleNumber)
                         .arg(fields.size());
            return std::nullopt;
        }
        static constexpr const char* kNames[] = {"class", "vendor", "product", "version", "allow"};
        static constexpr long long kMax[] = {0xff, 0xffff, 0xffff, 0xffff, 1};
        long long values[5] = {};
        for (int f = 0; f < 5; ++f) {
            const auto v = parseCInteger(fields[f]);
            const long long min = f == 4 ? 0 : -1;
            if (!v || *v < min || *v > kMax[f]) {
                *error = QStringLiteral("rule %1: %2 '%3' is not %4")
                             .arg(ruleNumber)
                             .arg(QLatin1String(kNames[f]), fields[f].left(16).toString(),
                                  f == 4 ? QStringLiteral("0 or 1")
                                         : QStringLiteral("-1 or 0..0x%1").arg(kMax[f], 0, 16));
                return std::nullopt;
            }
            values[f] = *v;
        }
        rules.append(UsbFilterRule{static_cast<int>(values[0]), static_cast<int>(values[1]),
                                   static_cast<int>(values[2]), static_cast<int>(values[3]), values[4] == 1});
    }
    return rules;
}

bool checkChannelNames(const QStringList& names, bool allowAll, QString* error) {
    for (const QString& name : names) {
        if (kSpiceChannelNames.contains(name) || (allowAll && name == u"all"))
            continue;
        *error = QStringLiteral("unknown channel '%1' (valid: %2%3)")
                     .arg(name.left(64), allowAll ? QStringLiteral("all, ") : QString(),
                          kSpiceChannelNames.join(QStringLiteral(", ")));
        return false;
    }
    return true;
}

} // namespace saffron
