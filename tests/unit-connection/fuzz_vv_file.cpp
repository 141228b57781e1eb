// libFuzzer target: virt-viewer .vv files (untrusted browser downloads).
// Invariants: parseVvFile never crashes, answers every input with a spec or a non-empty
// error, and a parsed spec can be described without its password appearing.

#include "connection/VvFile.h"

#include <QByteArray>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const QByteArray input =
        QByteArray::fromRawData(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    const saffron::ConnectionResult result = saffron::parseVvFile(input);
    if (!result.ok()) {
        if (result.error().isEmpty())
            std::abort();
        return 0;
    }
    const saffron::ConnectionSpec& spec = result.spec();
    const QString description = spec.describe();
    // A password of a few characters could occur elsewhere in the text by chance; a longer
    // one showing up means describe() leaked it.
    if (spec.password.size() >= 8 && spec.password != QLatin1String(saffron::ConnectionSpec::kRedacted) &&
        description.contains(spec.password))
        std::abort();
    if (spec.host.isEmpty() == spec.unixSocketPath.isEmpty())
        std::abort(); // exactly one address
    if (!spec.host.isEmpty() && spec.port == 0 && spec.tlsPort == 0)
        std::abort();
    (void)spec.toSpiceUri();
    return 0;
}
