#pragma once

namespace saffron {

// Pins DBUS_SESSION_BUS_ADDRESS to the user bus's standard socket ($XDG_RUNTIME_DIR/bus, or
// /run/user/UID/bus without an absolute XDG_RUNTIME_DIR) unless an address is given, before
// anything in the process asks for the session bus.
//
// Qt's AT-SPI bridge asks for the session bus the first time a Quick item is laid out. Without
// DBUS_SESSION_BUS_ADDRESS and without $XDG_RUNTIME_DIR/bus (a kiosk whose image has no user
// bus, a test's compositor, a shell with no login session), libdbus falls back to "autolaunch:":
// it forks and execs `dbus-launch --autolaunch` from the GUI thread while the session, USB and
// GStreamer threads run, and waits on the child's pipe. A fork of a multi-threaded process can
// inherit a lock another thread held (under ASan the allocator's: the child never reaches exec,
// the GUI thread never returns, the window is never shown: shell_under_cage failed so). Where
// the socket exists the pinned address is what libdbus would have used; where it does not, the
// connection fails at once and accessibility stays off, which is all autolaunch could give
// without X11.
// Returns true where it set the variable.
bool pinSessionBusAddress();

} // namespace saffron
