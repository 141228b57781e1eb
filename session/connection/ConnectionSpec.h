#pragma once

#include <QByteArray>
#include <QDebug>
#include <QList>
#include <QMap>
#include <QSslCertificate>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <optional>

namespace saffron {

// Everything a thin client needs to know to open one SPICE session, whether it came from a
// spice:// URI (connection/SpiceUri.h) or a virt-viewer .vv file (connection/VvFile.h).
// Plain data: the parsers validate every field, so a ConnectionSpec they return is consistent
// (a host with at least one port, or a unix socket path; never both).
//
// The password is a secret: it never appears in describe(), redacted() or the QDebug operator,
// which are the only ways this type should reach a log.
struct ConnectionSpec {
    // --- Where to connect ---------------------------------------------------------------
    // DNS name or IP literal (IPv6 without brackets). With a proxy it is passed verbatim in the
    // HTTP CONNECT request, so it may be an opaque ticket: Proxmox VE writes
    // "pvespiceproxy:<time>:<vmid>:<node>::<hash>" and its spiceproxy resolves it.
    QString host;
    quint16 port = 0;    // plain-text port, 0 = none
    quint16 tlsPort = 0; // TLS port, 0 = none
    QString unixSocketPath;
    // HTTP CONNECT proxy (scheme http or https, always with an explicit port); empty = direct.
    QUrl proxy;

    // --- Who we are -----------------------------------------------------------------------
    QString username;
    QString password; // SPICE ticket; never logged

    // --- Whom we trust ----------------------------------------------------------------------
    // CA certificates to verify the server with: inline PEM (the .vv "ca" key) and/or a PEM
    // file. Both empty = the system trust store. Parsed on demand by loadCaCertificates().
    QByteArray caPem;
    QString caFile;
    // Expected certificate subject, "key=value" pairs separated by ',' (',' and '\' escaped
    // with '\'), e.g. "OU=PVE Cluster Node,O=Proxmox Virtual Environment,CN=pve1". When set
    // it replaces host name verification (spice-gtk semantics). See parseHostSubject().
    QString hostSubject;
    // Channels that must use the TLS port: channel names (kSpiceChannelNames) or "all".
    QStringList secureChannels;
    QString tlsCiphers; // OpenSSL cipher list, empty = library default

    // --- What to use ------------------------------------------------------------------------
    QStringList disableChannels; // channel names not to open
    // Unset = the client's default (std::nullopt), as virt-viewer only applies keys present.
    std::optional<bool> enableUsbRedir;
    std::optional<bool> enableUsbAutoshare;
    std::optional<bool> enableSmartcard;
    QString usbFilter;            // auto-redirect filter for hot-plugged devices (see parseUsbFilter)
    QString usbRedirectOnConnect; // filter for devices already plugged in at connect time
    int colorDepth = 0;           // 0 = unset, else 16 or 32 (deprecated by SPICE, kept for old files)
    QStringList disableEffects;   // wallpaper, font-smooth, animation, all

    // --- Presentation -----------------------------------------------------------------------
    QString title;
    bool fullscreen = false;
    // Hotkey action (kHotkeyActions) -> key sequence as written in the file, e.g.
    // "release-cursor" -> "Ctrl+Alt+R". Key names follow virt-viewer: modifiers and one key
    // joined by '+', case-insensitive; the UI layer maps them onto its own key codes. An empty
    // sequence means the file unbinds the action.
    QMap<QString, QString> hotkeys;

    // --- File handling ----------------------------------------------------------------------
    // The .vv file asked to be removed once read (it carries a one-time password);
    // loadVvFile(path, DeleteMode::HonourFile) does it.
    bool deleteThisFile = false;
    // virt-viewer's minimum-version keys. They name remote-viewer releases, not ours, so they
    // are kept for display ("this server expects remote-viewer >= X") rather than enforced.
    QString minimumVersion;                 // "version"
    QMap<QString, QString> minimumVersions; // "versions": os id -> version
    QString newerVersionUrl;                // "newer-version-url"

    // True when a TLS port is known: the session must be able to speak TLS (main channel
    // on the TLS port when there is no plain port, or any channel listed as secure).
    bool wantsTls() const { return tlsPort != 0; }
    // True when `channel` (e.g. "inputs") must go over TLS: it is listed in secureChannels,
    // "all" is, or there is no plain port to fall back to.
    bool channelMustBeSecure(const QString& channel) const;

    // One line for logs and error dialogs, secrets shown as "***".
    QString describe() const;
    // A copy whose secrets (password, proxy credentials) are replaced by "***".
    ConnectionSpec redacted() const;
    // A spice:// URI for this spec without the password (for "recent connections" lists).
    // Empty when the spec uses a proxy, has no address, its host can't go in a URI, or the URI
    // would be longer than parseSpiceUri() accepts.
    QString toSpiceUri() const;

    // Parses caPem and the PEM file caFile (at most kMaxCaFileBytes). Returns std::nullopt and
    // sets *error when either holds no certificate or can't be read; an empty list when
    // neither is set (use the system store).
    std::optional<QList<QSslCertificate>> loadCaCertificates(QString* error) const;
    static constexpr qint64 kMaxCaFileBytes = 1 << 20;

    static constexpr const char* kRedacted = "***";
};

// SPICE channel names as spice-gtk spells them (spice-channel.c, channel type strings).
inline const QStringList kSpiceChannelNames = {"main",     "display", "inputs", "cursor",
                                               "playback", "record",  "tunnel", "smartcard",
                                               "usbredir", "port",    "webdav"};
// Hotkey actions a .vv file may bind (virt-viewer's key list, remote-viewer(1) "CONNECTION FILE").
inline const QStringList kHotkeyActions = {"toggle-fullscreen", "release-cursor",   "zoom-in",
                                           "zoom-out",          "zoom-reset",       "secure-attention",
                                           "usb-device-reset",  "smartcard-insert", "smartcard-remove"};

// Prints describe(): a ConnectionSpec can be logged with qDebug() without leaking the password.
QDebug operator<<(QDebug debug, const ConnectionSpec& spec);

} // namespace saffron
