#include "connection/ConnectionSpec.h"

#include "connection/SpiceUri.h"

#include <QFile>
#include <QHostAddress>

namespace saffron {

namespace {

QString quoted(const QString& text) {
    QString out = text;
    out.replace(u'\\', QStringLiteral("\\\\")).replace(u'"', QStringLiteral("\\\""));
    return u'"' + out + u'"';
}

QString optionalBool(const std::optional<bool>& value) {
    return *value ? QStringLiteral("1") : QStringLiteral("0");
}

// Percent-encoding grows a non-ASCII character to up to nine characters, so a host or user name
// the parser accepted can come out longer than parseSpiceUri() takes. Such a URI would not read
// back; the caller gets "can't be written" as for a proxy ticket.
QString fitsSpiceUriLimit(QString uri) {
    return uri.size() <= kMaxSpiceUriLength ? uri : QString();
}

} // namespace

bool ConnectionSpec::channelMustBeSecure(const QString& channel) const {
    if (!unixSocketPath.isEmpty())
        return false; // a local socket has no TLS port
    if (port == 0 && tlsPort != 0)
        return true; // nothing else to connect to
    return secureChannels.contains(QStringLiteral("all")) || secureChannels.contains(channel);
}

ConnectionSpec ConnectionSpec::redacted() const {
    ConnectionSpec copy = *this;
    if (!copy.password.isEmpty())
        copy.password = QLatin1String(kRedacted);
    if (!copy.proxy.password().isEmpty())
        copy.proxy.setPassword(QLatin1String(kRedacted));
    return copy;
}

QString ConnectionSpec::describe() const {
    const ConnectionSpec safe = redacted();
    QStringList parts;
    if (!safe.unixSocketPath.isEmpty())
        parts << QStringLiteral("unix-path=%1").arg(quoted(safe.unixSocketPath));
    if (!safe.host.isEmpty())
        parts << QStringLiteral("host=%1").arg(quoted(safe.host));
    if (safe.port != 0)
        parts << QStringLiteral("port=%1").arg(safe.port);
    if (safe.tlsPort != 0)
        parts << QStringLiteral("tls-port=%1").arg(safe.tlsPort);
    if (!safe.proxy.isEmpty())
        parts << QStringLiteral("proxy=%1").arg(safe.proxy.toString());
    if (!safe.username.isEmpty())
        parts << QStringLiteral("username=%1").arg(quoted(safe.username));
    if (!safe.password.isEmpty())
        parts << QStringLiteral("password=%1").arg(safe.password);
    if (!safe.caPem.isEmpty())
        parts << QStringLiteral("ca=<%1 bytes of PEM>").arg(safe.caPem.size());
    if (!safe.caFile.isEmpty())
        parts << QStringLiteral("ca-file=%1").arg(quoted(safe.caFile));
    if (!safe.hostSubject.isEmpty())
        parts << QStringLiteral("host-subject=%1").arg(quoted(safe.hostSubject));
    if (!safe.secureChannels.isEmpty())
        parts << QStringLiteral("secure-channels=%1").arg(safe.secureChannels.join(u';'));
    if (!safe.tlsCiphers.isEmpty())
        parts << QStringLiteral("tls-ciphers=%1").arg(quoted(safe.tlsCiphers));
    if (!safe.disableChannels.isEmpty())
        parts << QStringLiteral("disable-channels=%1").arg(safe.disableChannels.join(u';'));
    if (safe.enableUsbRedir)
        parts << QStringLiteral("enable-usbredir=%1").arg(optionalBool(safe.enableUsbRedir));
    if (safe.enableUsbAutoshare)
        parts << QStringLiteral("enable-usb-autoshare=%1").arg(optionalBool(safe.enableUsbAutoshare));
    if (safe.enableSmartcard)
        parts << QStringLiteral("enable-smartcard=%1").arg(optionalBool(safe.enableSmartcard));
    if (!safe.usbFilter.isEmpty())
        parts << QStringLiteral("usb-filter=%1").arg(quoted(safe.usbFilter));
    if (!safe.usbRedirectOnConnect.isEmpty())
        parts << QStringLiteral("usb-redirect-on-connect=%1").arg(quoted(safe.usbRedirectOnConnect));
    if (safe.colorDepth != 0)
        parts << QStringLiteral("color-depth=%1").arg(safe.colorDepth);
    if (!safe.disableEffects.isEmpty())
        parts << QStringLiteral("disable-effects=%1").arg(safe.disableEffects.join(u';'));
    if (!safe.title.isEmpty())
        parts << QStringLiteral("title=%1").arg(quoted(safe.title));
    if (safe.fullscreen)
        parts << QStringLiteral("fullscreen");
    for (auto it = safe.hotkeys.cbegin(); it != safe.hotkeys.cend(); ++it)
        parts << QStringLiteral("%1=%2").arg(it.key(), quoted(it.value()));
    if (safe.deleteThisFile)
        parts << QStringLiteral("delete-this-file");
    if (!safe.minimumVersion.isEmpty())
        parts << QStringLiteral("version=%1").arg(quoted(safe.minimumVersion));
    return parts.join(QStringLiteral(", "));
}

QString ConnectionSpec::toSpiceUri() const {
    if (!unixSocketPath.isEmpty())
        return fitsSpiceUriLimit(QStringLiteral("spice+unix://") +
                                 QString::fromLatin1(QUrl::toPercentEncoding(unixSocketPath, "/")));
    if (host.isEmpty() || !proxy.isEmpty() || (port == 0 && tlsPort == 0))
        return {};

    QString authority;
    if (!username.isEmpty())
        authority = QString::fromLatin1(QUrl::toPercentEncoding(username)) + u'@';
    if (host.contains(u':')) {
        // Only an IPv6 literal can carry ':' in a URI host; a proxy ticket can't be written.
        QHostAddress address;
        if (!address.setAddress(host) || address.protocol() != QAbstractSocket::IPv6Protocol)
            return {};
        authority += u'[' + host + u']';
    } else {
        authority += QString::fromLatin1(QUrl::toPercentEncoding(host));
    }

    if (port == 0)
        return fitsSpiceUriLimit(QStringLiteral("spice+tls://") + authority + u':' +
                                 QString::number(tlsPort));
    // Concatenation, not chained arg(): the authority is percent-encoded and its "%2B" would be
    // taken for a placeholder by a second arg() call.
    QString uri = QStringLiteral("spice://") + authority + u':' + QString::number(port);
    if (tlsPort != 0)
        uri += QStringLiteral("?tls-port=%1").arg(tlsPort);
    return fitsSpiceUriLimit(uri);
}

std::optional<QList<QSslCertificate>> ConnectionSpec::loadCaCertificates(QString* error) const {
    QList<QSslCertificate> certificates;
    if (!caPem.isEmpty()) {
        const auto inlineCerts = QSslCertificate::fromData(caPem, QSsl::Pem);
        if (inlineCerts.isEmpty()) {
            *error = QStringLiteral("the inline CA holds no valid PEM certificate");
            return std::nullopt;
        }
        certificates += inlineCerts;
    }
    if (!caFile.isEmpty()) {
        QFile file(caFile);
        if (!file.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("cannot read CA file %1: %2").arg(caFile, file.errorString());
            return std::nullopt;
        }
        const QByteArray data = file.read(kMaxCaFileBytes + 1);
        if (data.size() > kMaxCaFileBytes) {
            *error = QStringLiteral("CA file %1 is larger than %2 bytes")
                         .arg(caFile, QString::number(kMaxCaFileBytes));
            return std::nullopt;
        }
        const auto fileCerts = QSslCertificate::fromData(data, QSsl::Pem);
        if (fileCerts.isEmpty()) {
            *error = QStringLiteral("CA file %1 holds no valid PEM certificate").arg(caFile);
            return std::nullopt;
        }
        certificates += fileCerts;
    }
    for (const QSslCertificate& certificate : certificates) {
        if (certificate.isNull()) {
            *error = QStringLiteral("a CA certificate could not be decoded");
            return std::nullopt;
        }
    }
    return certificates;
}

QDebug operator<<(QDebug debug, const ConnectionSpec& spec) {
    const QDebugStateSaver saver(debug);
    debug.nospace().noquote() << "ConnectionSpec(" << spec.describe() << ')';
    return debug;
}

} // namespace saffron
