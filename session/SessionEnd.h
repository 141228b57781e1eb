#pragma once

#include <QMetaType>
#include <QString>

namespace saffron {

// Why a session or channel ended, so the shell can pick the right screen (retry a password,
// show a certificate, reconnect with backoff) without parsing error texts.
enum class EndReason {
    None,           // we closed it (user or shell asked)
    ServerClosed,   // the server said goodbye (SPICE_MSG_DISCONNECTING) or refused us for good
    Unreachable,    // resolve/TCP/proxy failure before the link completed
    Certificate,    // TLS peer verification or host-subject check failed
    Authentication, // ticket refused (SPICE_LINK_ERR_PERMISSION_DENIED)
    Lost,           // an established connection broke (reset, EOF, network gone)
    Protocol,       // the server broke the protocol (framing, link reply, oversized message)
};

// The steps a connection goes through, for the "connecting" screen.
enum class ConnectPhase { Idle, Resolving, Connecting, Tls, Linking, Authenticating, Channels, Ready };

QString endReasonName(EndReason reason);
QString connectPhaseName(ConnectPhase phase);

// The end of a session as the shell sees it: reason, a one-line message for the screen or the
// journal (never a secret), and optional details (e.g. the certificate that was refused).
struct SessionEnd {
    EndReason reason = EndReason::None;
    QString message;
    QString details;
};

} // namespace saffron

Q_DECLARE_METATYPE(saffron::SessionEnd)
Q_DECLARE_METATYPE(saffron::ConnectPhase)
