#pragma once

#include "SessionOptions.h"
#include "connection/ConnectionSpec.h"

#include <QString>
#include <optional>

namespace saffron {

// What the user named on the command line: a spice:// URI or a .vv file.
struct ConnectionTarget {
    ConnectionSpec spec;
    SessionOptions options;
};

// Loads the target and turns it into engine options. .vv files that ask for it are deleted
// after reading (Proxmox tickets are single-use). Returns nullopt with `error` set on failure.
std::optional<ConnectionTarget> loadConnectionTarget(const QString& arg, QString* error);

// Engine options from a parsed description (CA certificates loaded, proxy and channels set).
std::optional<SessionOptions> sessionOptionsFrom(const ConnectionSpec& spec, QString* error);

// Parses an image-compression name (off, auto_glz, auto_lz, quic, glz, lz, lz4).
std::optional<int> parseImageCompression(const QString& name);

} // namespace saffron
