#include "SessionEnd.h"

namespace saffron {

QString endReasonName(EndReason reason) {
    switch (reason) {
    case EndReason::None:
        return QStringLiteral("closed");
    case EndReason::ServerClosed:
        return QStringLiteral("server-closed");
    case EndReason::Unreachable:
        return QStringLiteral("unreachable");
    case EndReason::Certificate:
        return QStringLiteral("certificate");
    case EndReason::Authentication:
        return QStringLiteral("authentication");
    case EndReason::Lost:
        return QStringLiteral("lost");
    case EndReason::Protocol:
        return QStringLiteral("protocol");
    }
    return QStringLiteral("unknown");
}

QString connectPhaseName(ConnectPhase phase) {
    switch (phase) {
    case ConnectPhase::Idle:
        return QStringLiteral("idle");
    case ConnectPhase::Resolving:
        return QStringLiteral("resolving");
    case ConnectPhase::Connecting:
        return QStringLiteral("tcp");
    case ConnectPhase::Tls:
        return QStringLiteral("tls");
    case ConnectPhase::Linking:
        return QStringLiteral("link");
    case ConnectPhase::Authenticating:
        return QStringLiteral("auth");
    case ConnectPhase::Channels:
        return QStringLiteral("channels");
    case ConnectPhase::Ready:
        return QStringLiteral("ready");
    }
    return QStringLiteral("unknown");
}

} // namespace saffron
