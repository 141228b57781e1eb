// libFuzzer target: spice:// URIs (from the command line, a browser or a broker).
// Invariants: parseSpiceUri never crashes, answers with a spec or a non-empty error, and a
// parsed spec written back with toSpiceUri() parses to the same address.

#include "connection/SpiceUri.h"

#include <QString>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const QString uri = QString::fromUtf8(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    const saffron::ConnectionResult result = saffron::parseSpiceUri(uri);
    if (!result.ok()) {
        if (result.error().isEmpty())
            std::abort();
        return 0;
    }
    const saffron::ConnectionSpec& spec = result.spec();
    if (spec.host.isEmpty() == spec.unixSocketPath.isEmpty())
        std::abort();
    if (!spec.host.isEmpty() && (spec.port == 0 && spec.tlsPort == 0))
        std::abort();
    if (spec.port != 0 && spec.port == spec.tlsPort)
        std::abort();

    const QString again = spec.toSpiceUri();
    if (again.isEmpty())
        return 0; // e.g. a host that only a proxy could carry
    const saffron::ConnectionResult second = saffron::parseSpiceUri(again);
    if (!second.ok())
        std::abort();
    const saffron::ConnectionSpec& s2 = second.spec();
    if (s2.host != spec.host || s2.port != spec.port || s2.tlsPort != spec.tlsPort ||
        s2.unixSocketPath != spec.unixSocketPath || s2.username != spec.username)
        std::abort();
    return 0;
}
