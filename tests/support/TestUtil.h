#pragma once

#include <QtGlobal>
#include <functional>

class QImage;

namespace saffron::test {

// Returns a TCP port on 127.0.0.1 that was free a moment ago (0 if none could be bound).
// The port is released before returning, so another process may take it: callers that hand
// it to a server must be ready to retry with a new one (QemuInstance does).
quint16 freeTcpPort();

// Spins the Qt event loop until predicate() is true or timeoutMs elapses; returns the last
// value of predicate(). Timeouts only bound the wait, they are never what a test asserts.
bool waitUntil(const std::function<bool()>& predicate, int timeoutMs);

// True for a null image or one whose pixels all have the same RGB value (e.g. the black
// screen QEMU shows before the VGA BIOS has drawn anything).
bool isUniform(const QImage& image);
// Pixels whose RGB differ (alpha ignored: xRGB surfaces carry none); size mismatch counts every
// pixel plus one.
int differingPixels(const QImage& a, const QImage& b);

} // namespace saffron::test
