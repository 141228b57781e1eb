#pragma once

#include "connection/ConnectionResult.h"

#include <QString>

namespace saffron {

// Parses a SPICE URI (spice-common docs/spice_uri_scheme.txt, with spice-gtk's legacy forms):
//
//   spice://host:port                     plain port
//   spice://host?port=P&tls-port=T        legacy query form; ';' may replace '?' and '&'
//   spice://host:port?tls-port=T          plain port in the authority, TLS port in the query
//   spice+tls://host:port                 port is the TLS port; port=/tls-port= not allowed
//   spice://[2001:db8::1]:5900            IPv6 literal in brackets
//   spice://user@host:5900?password=secret
//   spice+unix:///run/spice.sock          unix socket path (absolute, percent-decoded)
//
// Scheme and parameter names are case-insensitive (the scheme document asks clients to accept
// parameters in any case); values are percent-decoded and case-sensitive. There is no default
// port: SPICE has no registered one, so a URI without any port is an error, as in spice-gtk.
// Errors name what is wrong: unknown scheme, unknown parameter (by name), a port given twice
// or out of range, port == tls-port, missing host, IPv6 without brackets, bad percent escape.
ConnectionResult parseSpiceUri(const QString& uri);

// Longest URI accepted; far above any real one, it only bounds work on hostile input.
inline constexpr qsizetype kMaxSpiceUriLength = 8192;

} // namespace saffron
