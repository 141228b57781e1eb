#pragma once

#include "QmpClient.h"

#include <QImage>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <functional>
#include <memory>
#include <optional>

namespace saffron::test {

struct QemuOptions {
    // Extra "-spice" suboptions, e.g. "image-compression=quic", "tls-channel=main". QEMU 7.2's
    // image-compression takes off, auto_glz, auto_lz, quic, glz, lz and rejects lz4 at start-up
    // ("invalid image compression"); a client may still ask spice-server for LZ4 itself
    // (SPICE_MSGC_DISPLAY_PREFERRED_COMPRESSION).
    QStringList spiceOptions;
    // Extra QEMU arguments, e.g. {"-boot", "menu=on,splash-time=5000"} or USB devices.
    QStringList extraArgs;
    // SPICE ticket. Passed through a secret object ("password-secret", the QEMU 7.2 way; the
    // plain "password=" suboption still works but is deprecated) read from a file, so it does
    // not appear on the command line. Without a password, and unless spiceOptions already
    // set "password"/"password-secret"/"disable-ticketing"/"sasl", "disable-ticketing=on" is
    // added: QEMU would otherwise run with ticketing on and no ticket set ("auth: spice"),
    // which rejects every client.
    std::optional<QString> password;
    // If set, a TLS port is picked too and "tls-port=N,x509-dir=DIR" added (see TestCertificates).
    QString x509Dir;
    // Set to false for a TLS-only server (requires x509Dir).
    bool plainPort = true;
    QString vga = QStringLiteral("qxl");
    // Serve on this plain port instead of a free one (e.g. to restart a server where a client
    // is reconnecting). A taken port then fails the start instead of moving elsewhere.
    quint16 fixedPort = 0;
    // Bounds the whole start, QEMU launch plus QMP handshake, retries included.
    int startTimeoutMs = 60000;
};

// One QEMU (TCG, no disk: SeaBIOS draws its boot screen on a qxl VGA) serving SPICE on
// 127.0.0.1, controlled over QMP. The destructor stops it (QMP "quit", then kill).
// Set SAFFRON_QEMU to use another binary than qemu-system-x86_64 from PATH.
class QemuInstance {
public:
    explicit QemuInstance(QemuOptions options = {});
    ~QemuInstance();
    QemuInstance(const QemuInstance&) = delete;
    QemuInstance& operator=(const QemuInstance&) = delete;

    // Picks free ports, launches QEMU and waits for QMP. On failure errorString() includes
    // QEMU's stderr.
    bool start();
    void stop();
    bool isRunning() const;
    QString errorString() const { return error_; }

    static QString host() { return QStringLiteral("127.0.0.1"); }
    quint16 port() const { return port_; }       // 0 without a plain port
    quint16 tlsPort() const { return tlsPort_; } // 0 without TLS
    QmpClient& qmp() { return qmp_; }
    // Everything QEMU printed on stderr so far (warnings are kept, e.g. deprecations).
    QString standardError();
    // Time from launching QEMU to QMP answering, for the attempt that succeeded.
    qint64 startMilliseconds() const { return startMs_; }
    QStringList arguments() const { return arguments_; }
    qint64 processId() const { return process_ ? process_->processId() : 0; }

    // Polls screendump (every 50 ms) until accept(image) holds; returns that image, or a null
    // image on timeout or if QEMU exits.
    QImage waitForScreen(const std::function<bool(const QImage&)>& accept, int timeoutMs = 60000);
    // Waits until SeaBIOS has printed its first line. Before that QEMU shows a uniform screen
    // or its own 640x480 placeholder ("Guest has not initialized the display (yet).", one line
    // centred), whose top text row is black. Note that the VGA text cursor blinks afterwards, so
    // two later screendumps may differ by the cursor cell.
    QImage waitForBiosScreen(int timeoutMs = 60000);

    static QString qemuBinary();

private:
    enum class Attempt { Started, PortTaken, Failed };
    Attempt tryStart(int timeoutMs);
    QStringList buildArguments() const;

    QemuOptions options_;
    QTemporaryDir dir_;
    std::unique_ptr<QProcess> process_;
    QmpClient qmp_;
    QString stderr_;
    QString error_;
    QStringList arguments_;
    quint16 port_ = 0;
    quint16 tlsPort_ = 0;
    qint64 startMs_ = 0;
};

} // namespace saffron::test
