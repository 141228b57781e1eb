#include "common/appliance/SessionBusAddress.h"

#include <QByteArray>
#include <QtGlobal>

namespace saffron {

bool pinSessionBusAddress() {
    if (qEnvironmentVariableIsSet("DBUS_SESSION_BUS_ADDRESS"))
        return false;
    const QByteArray runtime = qgetenv("XDG_RUNTIME_DIR");
    // A relative or empty runtime dir is no standard place (libdbus ignores it as well).
    if (!runtime.startsWith('/'))
        return false;
    // D-Bus address escaping (dbus-specification "Server Addresses"): every byte outside the
    // optionally-escaped set is %XX.
    QByteArray path;
    for (char c : runtime + "/bus") {
        const auto u = static_cast<unsigned char>(c);
        const bool plain = (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                           c == '-' || c == '_' || c == '/' || c == '\\' || c == '.' || c == '*';
        path += plain ? QByteArray(1, c) : '%' + QByteArray::number(u, 16).rightJustified(2, '0');
    }
    return qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=" + path);
}

} // namespace saffron
