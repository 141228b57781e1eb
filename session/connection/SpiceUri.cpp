#include "connection/SpiceUri.h"

#include "connection/ConnectionFields.h"
#include "connection/KeyFile.h"

#include <QHostAddress>
#include <algorithm>

namespace saffron {

namespace {

// sockaddr_un.sun_path is 108 bytes on Linux, one of them the terminating NUL.
constexpr qsizetype kMaxUnixPathBytes = 107;

QString clip(QStringView text) {
    constexpr qsizetype kShown = 40;
    return text.size() <= kShown ? text.toString() : text.left(kShown).toString() + QStringLiteral("...");
}

int hexValue(QChar c) {
    if (c >= u'0' && c <= u'9')
        return c.unicode() - u'0';
    if (c >= u'a' && c <= u'f')
        return c.unicode() - u'a' + 10;
    if (c >= u'A' && c <= u'F')
        return c.unicode() - u'A' + 10;
    return -1;
}

// RFC 3986 percent-decoding. Unlike QUrl::fromPercentEncoding it refuses malformed escapes,
// decoded NUL bytes and byte sequences that are not UTF-8, since the result ends up in a
// socket path, a host name or a password.
std::optional<QString> percentDecode(QStringView text, QString* error) {
    if (!text.contains(u'%'))
        return text.toString();
    QByteArray bytes;
    bytes.reserve(text.size());
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text[i] != u'%') {
            // Convert the whole run up to the next '%' so surrogate pairs stay together.
            qsizetype end = i;
            while (end < text.size() && text[end] != u'%')
                ++end;
            bytes += text.mid(i, end - i).toUtf8();
            i = end - 1;
            continue;
        }
        const int hi = i + 1 < text.size() ? hexValue(text[i + 1]) : -1;
        const int lo = i + 2 < text.size() ? hexValue(text[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            *error = QStringLiteral("malformed percent escape '%1'").arg(text.mid(i, 3));
            return std::nullopt;
        }
        const char byte = static_cast<char>(hi * 16 + lo);
        if (byte == '\0') {
            *error = QStringLiteral("'%00' (NUL) is not allowed");
            return std::nullopt;
        }
        bytes += byte;
        i += 2;
    }
    if (firstInvalidUtf8(bytes) >= 0) {
        *error = QStringLiteral("percent escapes do not decode to UTF-8");
        return std::nullopt;
    }
    return QString::fromUtf8(bytes);
}

bool isParamNameChar(QChar c) {
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') || c == u'-' ||
           c == u'_' || c == u'.';
}

struct QueryParams {
    std::optional<QString> port;
    std::optional<QString> tlsPort;
    std::optional<QString> password;
};

// "key=value" pairs separated by '&' or ';' (spice-gtk accepts both, spice-session.c).
// Empty pairs ("a=1&&b=2", a trailing '&') are allowed by the scheme's grammar.
std::optional<QueryParams> parseQuery(QStringView query, QString* error) {
    QueryParams params;
    qsizetype start = 0;
    while (start <= query.size()) {
        qsizetype end = start;
        while (end < query.size() && query[end] != u'&' && query[end] != u';')
            ++end;
        const QStringView pair = query.mid(start, end - start);
        start = end + 1;
        if (pair.isEmpty())
            continue;

        const qsizetype equals = pair.indexOf(u'=');
        const QStringView name = equals < 0 ? pair : pair.left(equals);
        if (name.isEmpty()) {
            *error = QStringLiteral("empty parameter name before '='");
            return std::nullopt;
        }
        if (!std::all_of(name.begin(), name.end(), isParamNameChar)) {
            *error = QStringLiteral("malformed parameter name '%1'").arg(clip(name));
            return std::nullopt;
        }
        const QString key = name.toString().toLower();
        std::optional<QString>* target = nullptr;
        if (key == u"port")
            target = &params.port;
        else if (key == u"tls-port")
            target = &params.tlsPort;
        else if (key == u"password")
            target = &params.password;
        else {
            *error =
                QStringLiteral("unknown parameter '%1' (known: port, tls-port, password)").arg(clip(name));
            return std::nullopt;
        }
        if (equals < 0 || equals + 1 == pair.size()) {
            *error = QStringLiteral("parameter '%1' has no value").arg(key);
            return std::nullopt;
        }
        if (target->has_value()) {
            *error = QStringLiteral("parameter '%1' is given twice").arg(key);
            return std::nullopt;
        }
        QString decodeError;
        auto value = percentDecode(pair.mid(equals + 1), &decodeError);
        if (!value) {
            *error = QStringLiteral("parameter '%1': %2").arg(key, decodeError);
            return std::nullopt;
        }
        *target = std::move(*value);
    }
    return params;
}

ConnectionResult parseUnix(QStringView rest) {
    const qsizetype q = rest.indexOf(u'?');
    const QStringView pathText = q < 0 ? rest : rest.left(q);
    QString error;
    ConnectionSpec spec;
    if (q >= 0) {
        const auto params = parseQuery(rest.mid(q + 1), &error);
        if (!params)
            return ConnectionResult::failure(error);
        if (params->port || params->tlsPort)
            return ConnectionResult::failure(
                QStringLiteral("spice+unix:// URIs take no '%1' parameter")
                    .arg(params->port ? QStringLiteral("port") : QStringLiteral("tls-port")));
        spec.password = params->password.value_or(QString());
    }
    const auto path = percentDecode(pathText, &error);
    if (!path)
        return ConnectionResult::failure(QStringLiteral("socket path: %1").arg(error));
    if (!path->startsWith(u'/'))
        return ConnectionResult::failure(
            QStringLiteral("spice+unix:// needs an absolute socket path, e.g. spice+unix:///run/spice.sock"));
    const qsizetype bytes = path->toUtf8().size();
    if (bytes > kMaxUnixPathBytes)
        return ConnectionResult::failure(
            QStringLiteral("socket path is %1 bytes, longer than the %2 a unix socket address holds")
                .arg(bytes)
                .arg(kMaxUnixPathBytes));
    spec.unixSocketPath = *path;
    auto result = ConnectionResult::success(std::move(spec));
    if (q >= 0 && !result.spec().password.isEmpty())
        result.addWarning(QStringLiteral("a password in a URI may be visible in process listings"));
    return result;
}

ConnectionResult parseTcp(QStringView rest, bool tlsScheme) {
    // authority [ "/" ] [ ("?" | ";") query ]
    qsizetype authorityEnd = 0;
    while (authorityEnd < rest.size() && rest[authorityEnd] != u'/' && rest[authorityEnd] != u'?' &&
           rest[authorityEnd] != u';')
        ++authorityEnd;
    QStringView authority = rest.left(authorityEnd);
    QStringView tail = rest.mid(authorityEnd);
    qsizetype queryStart = 0;
    while (queryStart < tail.size() && tail[queryStart] != u'?' && tail[queryStart] != u';')
        ++queryStart;
    const QStringView path = tail.left(queryStart);
    if (!path.isEmpty() && path != u"/")
        return ConnectionResult::failure(
            QStringLiteral("unexpected path '%1' (a SPICE URI has none)").arg(clip(path)));

    QString error;
    QueryParams params;
    if (queryStart < tail.size()) {
        auto parsed = parseQuery(tail.mid(queryStart + 1), &error);
        if (!parsed)
            return ConnectionResult::failure(error);
        params = std::move(*parsed);
    }

    ConnectionSpec spec;
    const qsizetype at = authority.lastIndexOf(u'@');
    if (at >= 0) {
        const QStringView userinfo = authority.left(at);
        authority = authority.mid(at + 1);
        if (userinfo.isEmpty())
            return ConnectionResult::failure(QStringLiteral("empty user name before '@'"));
        // RFC 3986 deprecates "user:password@"; refusing it keeps a password out of the
        // username field, which describe() prints.
        if (userinfo.contains(u':'))
            return ConnectionResult::failure(
                QStringLiteral("'user:password@' is not supported: give the password as ?password="));
        const auto user = percentDecode(userinfo, &error);
        if (!user)
            return ConnectionResult::failure(QStringLiteral("user name: %1").arg(error));
        spec.username = *user;
    }

    QStringView hostText;
    QStringView portText;
    bool hasPort = false;
    bool bracketed = false;
    if (authority.startsWith(u'[')) {
        const qsizetype close = authority.indexOf(u']');
        if (close < 0)
            return ConnectionResult::failure(QStringLiteral("missing ']' after the IPv6 address"));
        hostText = authority.mid(1, close - 1);
        bracketed = true;
        const QStringView after = authority.mid(close + 1);
        if (after.startsWith(u':')) {
            portText = after.mid(1);
            hasPort = true;
        } else if (!after.isEmpty()) {
            return ConnectionResult::failure(
                QStringLiteral("unexpected '%1' after the IPv6 address (expected ':port')").arg(clip(after)));
        }
    } else {
        const qsizetype colon = authority.indexOf(u':');
        if (colon >= 0 && authority.indexOf(u':', colon + 1) >= 0)
            return ConnectionResult::failure(QStringLiteral(
                "an IPv6 address must be written in brackets, e.g. spice://[2001:db8::1]:5900"));
        hostText = colon < 0 ? authority : authority.left(colon);
        if (colon >= 0) {
            portText = authority.mid(colon + 1);
            hasPort = true;
        }
    }

    const auto host = percentDecode(hostText, &error);
    if (!host)
        return ConnectionResult::failure(QStringLiteral("host: %1").arg(error));
    if (host->isEmpty())
        return ConnectionResult::failure(QStringLiteral("missing host name"));
    if (bracketed) {
        // QHostAddress skips some control characters inside an IPv6 literal (a percent-encoded
        // "%0b" in "[2001:%0b8::1]" parsed as 2001:8::1 while the host kept the control
        // character; found by fuzz_spice_uri): only printable ASCII may appear (a scope id such
        // as fe80::1%eth0 included).
        const bool plain = std::all_of(host->begin(), host->end(),
                                       [](QChar c) { return c.unicode() > 0x20 && c.unicode() < 0x7f; });
        QHostAddress address;
        if (!plain || !address.setAddress(*host) || address.protocol() != QAbstractSocket::IPv6Protocol)
            return ConnectionResult::failure(QStringLiteral("'%1' is not an IPv6 address").arg(clip(*host)));
    } else if (!isPlausibleHost(*host, &error)) {
        return ConnectionResult::failure(error);
    }
    spec.host = *host;

    quint16 authorityPort = 0;
    if (hasPort) {
        const auto p = parsePort(portText, false, &error);
        if (!p)
            return ConnectionResult::failure(error);
        authorityPort = *p;
    }

    if (tlsScheme) {
        // spice-gtk ignores port=/tls-port= here with a warning; a URI naming two TLS ports
        // is more likely a mistake worth reporting.
        if (params.port || params.tlsPort)
            return ConnectionResult::failure(
                QStringLiteral("spice+tls:// takes the TLS port from host:port; '%1=' is not allowed")
                    .arg(params.port ? QStringLiteral("port") : QStringLiteral("tls-port")));
        spec.tlsPort = authorityPort;
    } else {
        if (hasPort && params.port)
            return ConnectionResult::failure(
                QStringLiteral("the port is given twice (in host:port and port=)"));
        spec.port = authorityPort;
        if (params.port) {
            const auto p = parsePort(*params.port, false, &error);
            if (!p)
                return ConnectionResult::failure(error);
            spec.port = *p;
        }
        if (params.tlsPort) {
            const auto p = parsePort(*params.tlsPort, false, &error);
            if (!p)
                return ConnectionResult::failure(QStringLiteral("tls-%1").arg(error));
            spec.tlsPort = *p;
        }
    }
    if (spec.port == 0 && spec.tlsPort == 0)
        return ConnectionResult::failure(QStringLiteral(
            "no port: write spice://host:port, spice+tls://host:port or add ?port= / ?tls-port="));
    if (spec.port == spec.tlsPort)
        return ConnectionResult::failure(
            QStringLiteral("port and tls-port are both %1; plain and TLS need different ports")
                .arg(spec.port));

    spec.password = params.password.value_or(QString());
    auto result = ConnectionResult::success(std::move(spec));
    if (params.password)
        result.addWarning(QStringLiteral("a password in a URI may be visible in process listings"));
    return result;
}

} // namespace

ConnectionResult parseSpiceUri(const QString& input) {
    if (input.size() > kMaxSpiceUriLength)
        return ConnectionResult::failure(QStringLiteral("URI is %1 characters long, more than %2")
                                             .arg(input.size())
                                             .arg(kMaxSpiceUriLength));
    const QStringView uri = QStringView(input).trimmed();
    if (uri.isEmpty())
        return ConnectionResult::failure(QStringLiteral("empty URI"));
    for (QChar c : uri) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f || c.isSpace())
            return ConnectionResult::failure(
                QStringLiteral("URI contains whitespace or a control character"));
    }

    const qsizetype sep = uri.indexOf(u"://");
    if (sep < 0)
        return ConnectionResult::failure(
            QStringLiteral("'%1' is not a SPICE URI (expected spice://, spice+tls:// or spice+unix://)")
                .arg(clip(uri)));
    const QString scheme = uri.left(sep).toString().toLower();
    const QStringView rest = uri.mid(sep + 3);
    if (rest.contains(u'#'))
        return ConnectionResult::failure(QStringLiteral("a SPICE URI has no '#fragment'"));

    if (scheme == u"spice+unix")
        return parseUnix(rest);
    if (scheme == u"spice" || scheme == u"spice+tls")
        return parseTcp(rest, scheme == u"spice+tls");
    return ConnectionResult::failure(
        QStringLiteral("unsupported scheme '%1' (expected spice, spice+tls or spice+unix)")
            .arg(clip(scheme)));
}

} // namespace saffron
