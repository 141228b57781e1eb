#include "common/appliance/SessionBusAddress.h"

#include <QByteArray>
#include <QtGlobal>
#include <unistd.h>

namespace saffron {

bool pinSessionBusAddress() {
    if (qEnvironmentVariableIsSet("DBUS_SESSION_BUS_ADDRESS"))
        return false;
    QByteArray runtime = qgetenv("XDG_RUNTIME_DIR");
    // No runtime dir, or a relative one (libdbus ignores those): the place pam_systemd would
    // have named, /run/user/UID. Without it libdbus would autolaunch (a root shell with no login
    // session, a test runner, a service with no PAMName=); the user bus, where one runs, is there.
    if (!runtime.startsWith('/'))
        runtime = "/run/user/" + QByteArray::number(qulonglong(::getuid()));
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
