#include "QemuInstance.h"

#include "TestUtil.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QStandardPaths>
#include <QTest>

namespace saffron::test {

namespace {

constexpr int kMaxPortAttempts = 5;
constexpr int kQuitTimeoutMs = 5000;
constexpr int kScreenPollMs = 50;
constexpr int kTextRowHeight = 16;
constexpr int kTextCellWidth = 9;
// sockaddr_un.sun_path is 108 bytes on Linux, terminating NUL included.
constexpr qsizetype kMaxUnixPathLength = 107;
constexpr auto kSecretId = "saffron-spice-password";

// QEMU's option syntax splits on ','; a literal comma in a value is written ",,".
QString escapeOptionValue(QString value) {
    return value.replace(QLatin1Char(','), QStringLiteral(",,"));
}

bool hasOption(const QStringList& options, QStringView name) {
    for (const QString& option : options) {
        if (option.section(QLatin1Char('='), 0, 0) == name)
            return true;
    }
    return false;
}

} // namespace

QemuInstance::QemuInstance(QemuOptions options)
    : options_(std::move(options)), dir_(QDir::tempPath() + QStringLiteral("/saffron-qemu-XXXXXX")) {}

QemuInstance::~QemuInstance() {
    stop();
}

QString QemuInstance::qemuBinary() {
    const QString fromEnv = qEnvironmentVariable("SAFFRON_QEMU");
    if (!fromEnv.isEmpty())
        return fromEnv;
    return QStandardPaths::findExecutable(QStringLiteral("qemu-system-x86_64"));
}

bool QemuInstance::isRunning() const {
    return process_ && process_->state() != QProcess::NotRunning;
}

QString QemuInstance::standardError() {
    if (process_)
        stderr_ += QString::fromLocal8Bit(process_->readAllStandardError());
    return stderr_;
}

QStringList QemuInstance::buildArguments() const {
    QStringList spice{QStringLiteral("addr=%1").arg(host())};
    if (port_ != 0)
        spice << QStringLiteral("port=%1").arg(port_);
    if (tlsPort_ != 0)
        spice << QStringLiteral("tls-port=%1").arg(tlsPort_)
              << QStringLiteral("x509-dir=%1").arg(escapeOptionValue(options_.x509Dir));

    QStringList arguments{QStringLiteral("-nodefaults"), QStringLiteral("-no-user-config"),
                          QStringLiteral("-machine"),    QStringLiteral("accel=tcg"),
                          QStringLiteral("-display"),    QStringLiteral("none")};
    if (!options_.vga.isEmpty())
        arguments << QStringLiteral("-vga") << options_.vga;
    if (options_.password) {
        // The secret object reads the ticket from a file: nothing secret in "ps" output and
        // no deprecation warning, unlike "-spice password=...".
        arguments << QStringLiteral("-object")
                  << QStringLiteral("secret,id=%1,format=raw,file=%2")
                         .arg(QLatin1String(kSecretId),
                              escapeOptionValue(dir_.filePath(QStringLiteral("spice-password"))));
        spice << QStringLiteral("password-secret=%1").arg(QLatin1String(kSecretId));
    } else if (!hasOption(options_.spiceOptions, u"password") &&
               !hasOption(options_.spiceOptions, u"password-secret") &&
               !hasOption(options_.spiceOptions, u"disable-ticketing") &&
               !hasOption(options_.spiceOptions, u"sasl")) {
        spice << QStringLiteral("disable-ticketing=on");
    }
    spice << options_.spiceOptions;
    arguments << QStringLiteral("-spice") << spice.join(QLatin1Char(','));
    arguments << QStringLiteral("-qmp")
              << QStringLiteral("unix:%1,server=on,wait=off")
                     .arg(escapeOptionValue(dir_.filePath(QStringLiteral("qmp.sock"))));
    arguments << options_.extraArgs;
    return arguments;
}

bool QemuInstance::start() {
    stop();
    stderr_.clear();
    if (!dir_.isValid()) {
        error_ = QStringLiteral("cannot create a temporary directory: %1").arg(dir_.errorString());
        return false;
    }
    if (dir_.filePath(QStringLiteral("qmp.sock")).toLocal8Bit().size() > kMaxUnixPathLength) {
        error_ = QStringLiteral("temporary path too long for a unix socket: %1").arg(dir_.path());
        return false;
    }
    if (qemuBinary().isEmpty()) {
        error_ = QStringLiteral("qemu-system-x86_64 not found (set SAFFRON_QEMU)");
        return false;
    }
    if (!options_.plainPort && options_.x509Dir.isEmpty()) {
        error_ = QStringLiteral("a TLS-only instance needs x509Dir");
        return false;
    }
    if (options_.password) {
        QFile secret(dir_.filePath(QStringLiteral("spice-password")));
        const QByteArray bytes = options_.password->toUtf8();
        if (!secret.open(QIODevice::WriteOnly | QIODevice::Truncate) || secret.write(bytes) != bytes.size()) {
            error_ = QStringLiteral("cannot write the password file: %1").arg(secret.errorString());
            return false;
        }
    }

    const QDeadlineTimer deadline(options_.startTimeoutMs);
    for (int attempt = 0; attempt < kMaxPortAttempts; ++attempt) {
        switch (tryStart(int(deadline.remainingTime()))) {
        case Attempt::Started:
            return true;
        case Attempt::PortTaken:
            // Another process took a port between freeTcpPort() and QEMU's bind(): new ports.
            stop();
            if (options_.fixedPort) {
                error_ = QStringLiteral("port %1 is taken:\n%2").arg(options_.fixedPort).arg(stderr_);
                return false;
            }
            continue;
        case Attempt::Failed:
            stop();
            return false;
        }
    }
    error_ = QStringLiteral("QEMU could not bind free ports after %1 attempts:\n%2")
                 .arg(kMaxPortAttempts)
                 .arg(stderr_);
    return false;
}

QemuInstance::Attempt QemuInstance::tryStart(int timeoutMs) {
    const QDeadlineTimer deadline(timeoutMs);
    port_ = !options_.plainPort ? 0 : options_.fixedPort ? options_.fixedPort : freeTcpPort();
    tlsPort_ = 0;
    if (!options_.x509Dir.isEmpty()) {
        do {
            tlsPort_ = freeTcpPort();
        } while (tlsPort_ != 0 && tlsPort_ == port_);
    }
    if ((options_.plainPort && port_ == 0) || (!options_.x509Dir.isEmpty() && tlsPort_ == 0)) {
        error_ = QStringLiteral("cannot find a free TCP port on 127.0.0.1");
        return Attempt::Failed;
    }
    const QString socketPath = dir_.filePath(QStringLiteral("qmp.sock"));
    QFile::remove(socketPath);

    arguments_ = buildArguments();
    process_ = std::make_unique<QProcess>();
    process_->setProgram(qemuBinary());
    process_->setArguments(arguments_);
    process_->setStandardOutputFile(QProcess::nullDevice());
    stderr_.clear();

    QElapsedTimer elapsed;
    elapsed.start();
    process_->start();
    if (!process_->waitForStarted(int(deadline.remainingTime()))) {
        error_ = QStringLiteral("cannot start %1: %2").arg(qemuBinary(), process_->errorString());
        return Attempt::Failed;
    }

    QString qmpError;
    while (!deadline.hasExpired()) {
        // wait=off: QEMU creates the socket early but only answers once its main loop runs.
        if (QFile::exists(socketPath)) {
            if (qmp_.connectToSocket(socketPath, int(deadline.remainingTime()))) {
                startMs_ = elapsed.elapsed();
                return Attempt::Started;
            }
            qmpError = qmp_.errorString();
        }
        if (process_->state() == QProcess::NotRunning || process_->waitForFinished(kScreenPollMs)) {
            const QString output = standardError();
            // spice-server's messages when bind() fails (reds_init_socket / do_spice_init).
            if (output.contains(QStringLiteral("binding socket")) ||
                output.contains(QStringLiteral("Failed to open SPICE sockets")))
                return Attempt::PortTaken;
            error_ = QStringLiteral("QEMU exited (code %1) during start-up.\nCommand: %2 %3\nstderr:\n%4")
                         .arg(process_->exitCode())
                         .arg(qemuBinary(), arguments_.join(QLatin1Char(' ')), output);
            return Attempt::Failed;
        }
    }
    error_ = QStringLiteral("QEMU did not answer QMP within %1 ms (%2).\nCommand: %3 %4\nstderr:\n%5")
                 .arg(timeoutMs)
                 .arg(qmpError, qemuBinary(), arguments_.join(QLatin1Char(' ')), standardError());
    return Attempt::Failed;
}

void QemuInstance::stop() {
    if (!process_)
        return;
    if (process_->state() != QProcess::NotRunning) {
        if (qmp_.isConnected())
            qmp_.execute(QStringLiteral("quit"), {}, kQuitTimeoutMs);
        if (!process_->waitForFinished(kQuitTimeoutMs)) {
            process_->kill();
            process_->waitForFinished(kQuitTimeoutMs);
        }
    }
    qmp_.disconnect();
    standardError();
    process_.reset();
}

QImage QemuInstance::waitForScreen(const std::function<bool(const QImage&)>& accept, int timeoutMs) {
    const QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired() && isRunning()) {
        QImage image = qmp_.screendump();
        if (!image.isNull() && accept(image))
            return image;
        QTest::qWait(kScreenPollMs);
    }
    return {};
}

QImage QemuInstance::waitForBiosScreen(int timeoutMs) {
    return waitForScreen(
        [](const QImage& image) {
            // SeaBIOS prints "SeaBIOS (version ...)" on text row 0 (16 pixels high in the 720x400
            // mode the VGA BIOS sets up). The first two 9-pixel cells are skipped: the blinking
            // underline cursor sits there on a freshly cleared screen.
            constexpr int skip = 2 * kTextCellWidth;
            return image.width() > skip && image.height() >= kTextRowHeight &&
                   !isUniform(image.copy(skip, 0, image.width() - skip, kTextRowHeight));
        },
        timeoutMs);
}

} // namespace saffron::test
