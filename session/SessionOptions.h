#pragma once

#include <QByteArray>
#include <QList>
#include <QSslCertificate>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <optional>

namespace saffron {

// Everything the engine needs to reach one SPICE server. Built from a ConnectionSpec
// (spice:// URI or .vv file) by the caller; kept separate so the engine does not depend on
// file formats.
struct SessionOptions {
    QString host;
    quint16 port = 0;                      // plain port, 0 = none
    quint16 tlsPort = 0;                   // TLS port, 0 = none
    QString unixPath;                      // spice+unix://, replaces host/port when set
    QByteArray password;                   // never logged
    QList<QSslCertificate> caCertificates; // empty = system trust store
    QString hostSubject;                   // empty = verify the host name instead
    QUrl proxy;                            // http://host:port CONNECT proxy, empty = direct
    QStringList secureChannels;            // channel names, or "all"
    // SPICE_IMAGE_COMPRESSION_* to request; nullopt lets the server choose among the codecs
    // this client decodes (we still ask for one we can decode, see DisplayChannel).
    std::optional<int> preferredCompression;
    bool clientMouseMode = true; // ask for client mouse mode when the server offers it
    bool enableAgent = true;     // vdagent: monitor config, clipboard
    bool shareClipboard = true;
    // Video streams. Low latency: show each frame as soon as it is decoded instead of at the
    // mm-time the server stamped (~400 ms ahead on QEMU, for lip-sync with audio).
    bool lowLatencyVideo = true;
    // Codec names ("h264", "vp9", "vp8", "mjpeg", "h265") the server may use, in order of
    // preference; empty = every decodable codec, hardware-decoded ones first; a list naming no
    // codec ("off") turns video decoding off (streams are then reported as undecodable).
    QStringList videoCodecs;
    // Forced decoder elements, "h264=avdec_h264,vp8=vp8dec" (SAFFRON_VIDEO_DECODER wins).
    QString videoDecoders;
    // PipeWire nodes (node.name or object.serial) for the desktop's sound and for the
    // microphone. Empty = the session manager's default, followed when it changes (a headset
    // plugged in); a named node stays put.
    QString audioOutput;
    QString audioInput;
    // A channel that has not finished its link (TCP, TLS, SPICE link and ticket) this long after
    // it started gives up as unreachable: a host that drops SYNs would otherwise hold the
    // "connecting" screen for the kernel's two minutes, and a server that accepts but never
    // answers for ever. 0 = no limit.
    int linkTimeoutMs = 20000;
    // An established connection whose peer has gone silently (host powered off, cable pulled,
    // NAT state dropped) ends after about this long: TCP keepalive probes while idle, and
    // TCP_USER_TIMEOUT while our data goes unacknowledged. SPICE has no client-initiated ping,
    // and a server with nothing to draw sends nothing, so the transport has to tell. 0 = off.
    int deadPeerSeconds = 30;

    bool channelNeedsTls(const QString& channelName) const {
        if (tlsPort == 0)
            return false;
        if (port == 0)
            return true;
        return secureChannels.contains(QStringLiteral("all")) || secureChannels.contains(channelName);
    }
};

} // namespace saffron
