#include "common/ConnectionTarget.h"

#include "connection/SpiceUri.h"
#include "connection/VvFile.h"

#include <QFileInfo>
#include <spice/enums.h>

namespace saffron {

std::optional<SessionOptions> sessionOptionsFrom(const ConnectionSpec& spec, QString* error) {
    SessionOptions o;
    o.host = spec.host;
    o.port = spec.port;
    o.tlsPort = spec.tlsPort;
    o.unixPath = spec.unixSocketPath;
    o.password = spec.password.toUtf8();
    o.hostSubject = spec.hostSubject;
    o.proxy = spec.proxy;
    o.secureChannels = spec.secureChannels;
    if (spec.wantsTls()) {
        QString caError;
        auto certs = spec.loadCaCertificates(&caError);
        if (!certs) {
            *error = caError;
            return std::nullopt;
        }
        o.caCertificates = *certs;
    }
    if (o.unixPath.isEmpty() && o.host.isEmpty()) {
        *error = QStringLiteral("no host to connect to");
        return std::nullopt;
    }
    if (o.unixPath.isEmpty() && o.port == 0 && o.tlsPort == 0) {
        *error = QStringLiteral("no port or tls-port to connect to");
        return std::nullopt;
    }
    return o;
}

std::optional<ConnectionTarget> loadConnectionTarget(const QString& arg, QString* error) {
    const bool isUri = arg.startsWith(QLatin1String("spice://")) || arg.startsWith(QLatin1String("spice+"));
    ConnectionResult result = isUri ? parseSpiceUri(arg) : loadVvFile(arg, DeleteMode::HonourFile);
    if (!result.ok()) {
        *error =
            isUri ? result.error() : QStringLiteral("%1: %2").arg(QFileInfo(arg).fileName(), result.error());
        return std::nullopt;
    }
    ConnectionTarget t;
    t.spec = result.spec();
    auto options = sessionOptionsFrom(t.spec, error);
    if (!options)
        return std::nullopt;
    t.options = *options;
    return t;
}

std::optional<int> parseImageCompression(const QString& name) {
    static const struct {
        const char* name;
        int value;
    } table[] = {{"off", SPICE_IMAGE_COMPRESSION_OFF},         {"auto_glz", SPICE_IMAGE_COMPRESSION_AUTO_GLZ},
                 {"auto_lz", SPICE_IMAGE_COMPRESSION_AUTO_LZ}, {"quic", SPICE_IMAGE_COMPRESSION_QUIC},
                 {"glz", SPICE_IMAGE_COMPRESSION_GLZ},         {"lz", SPICE_IMAGE_COMPRESSION_LZ},
                 {"lz4", SPICE_IMAGE_COMPRESSION_LZ4}};
    for (const auto& e : table)
        if (name == QLatin1String(e.name))
            return e.value;
    return std::nullopt;
}

} // namespace saffron
