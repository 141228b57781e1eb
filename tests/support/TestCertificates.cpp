#include "TestCertificates.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>

namespace saffron::test {

namespace {

constexpr int kOpensslTimeoutMs = 60000;
constexpr auto kValidDays = "30";

// Our own minimal openssl config, so that neither the distribution's openssl.cnf nor
// OPENSSL_CONF decides which extensions end up in the certificates.
constexpr auto kConfig = R"(
[req]
distinguished_name = dn
x509_extensions = ca_ext

[dn]

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
)";

} // namespace

TestCertificates::TestCertificates() : dir_(QDir::tempPath() + QStringLiteral("/saffron-pki-XXXXXX")) {}

QString TestCertificates::x509Dir() const {
    return dir_.filePath(QStringLiteral("x509"));
}
QString TestCertificates::caCertPath() const {
    return x509Dir() + QStringLiteral("/ca-cert.pem");
}
QString TestCertificates::serverCertPath() const {
    return x509Dir() + QStringLiteral("/server-cert.pem");
}
QString TestCertificates::serverKeyPath() const {
    return x509Dir() + QStringLiteral("/server-key.pem");
}
QString TestCertificates::wrongCaCertPath() const {
    return dir_.filePath(QStringLiteral("wrong-ca/ca-cert.pem"));
}

QString TestCertificates::hostSubject() const {
    QStringList parts = subject_.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    return parts.join(QLatin1Char(','));
}

bool TestCertificates::writeFile(const QString& path, const QByteArray& contents) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(contents) != contents.size()) {
        error_ = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

bool TestCertificates::runOpenssl(const QStringList& arguments) {
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(openssl_, arguments);
    if (!process.waitForStarted(kOpensslTimeoutMs)) {
        error_ = QStringLiteral("cannot start %1: %2").arg(openssl_, process.errorString());
        return false;
    }
    if (!process.waitForFinished(kOpensslTimeoutMs)) {
        process.kill();
        process.waitForFinished();
        error_ = QStringLiteral("openssl %1 timed out").arg(arguments.join(QLatin1Char(' ')));
        return false;
    }
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        error_ = QStringLiteral("openssl %1 failed: %2")
                     .arg(arguments.join(QLatin1Char(' ')), QString::fromLocal8Bit(process.readAll()));
        return false;
    }
    return true;
}

bool TestCertificates::makeCa(const QString& certPath, const QString& keyPath, const QString& subject) {
    return runOpenssl({QStringLiteral("req"), QStringLiteral("-config"),
                       dir_.filePath(QStringLiteral("openssl.cnf")), QStringLiteral("-x509"),
                       QStringLiteral("-newkey"), QStringLiteral("rsa:2048"), QStringLiteral("-nodes"),
                       QStringLiteral("-sha256"), QStringLiteral("-days"), QString::fromLatin1(kValidDays),
                       QStringLiteral("-subj"), subject, QStringLiteral("-keyout"), keyPath,
                       QStringLiteral("-out"), certPath});
}

bool TestCertificates::generate(const QString& serverSubject) {
    subject_ = serverSubject;
    if (!dir_.isValid()) {
        error_ = QStringLiteral("cannot create a temporary directory: %1").arg(dir_.errorString());
        return false;
    }
    openssl_ = QStandardPaths::findExecutable(QStringLiteral("openssl"));
    if (openssl_.isEmpty()) {
        error_ = QStringLiteral("the openssl command line tool is not installed");
        return false;
    }
    const QDir root(dir_.path());
    if (!root.mkpath(QStringLiteral("x509")) || !root.mkpath(QStringLiteral("wrong-ca"))) {
        error_ = QStringLiteral("cannot create folders in %1").arg(dir_.path());
        return false;
    }
    const QString config = dir_.filePath(QStringLiteral("openssl.cnf"));
    if (!writeFile(config, QByteArray(kConfig)))
        return false;

    // The CA key stays outside x509-dir: QEMU only needs the CA certificate there, to verify
    // client certificates.
    const QString caKey = dir_.filePath(QStringLiteral("ca-key.pem"));
    if (!makeCa(caCertPath(), caKey, QStringLiteral("/C=XX/O=Saffron Test/CN=Saffron Test CA")))
        return false;
    const QString request = dir_.filePath(QStringLiteral("server.csr"));
    if (!runOpenssl({QStringLiteral("req"), QStringLiteral("-config"), config, QStringLiteral("-new"),
                     QStringLiteral("-newkey"), QStringLiteral("rsa:2048"), QStringLiteral("-nodes"),
                     QStringLiteral("-subj"), serverSubject, QStringLiteral("-keyout"), serverKeyPath(),
                     QStringLiteral("-out"), request}))
        return false;
    if (!runOpenssl({QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"), request,
                     QStringLiteral("-CA"), caCertPath(), QStringLiteral("-CAkey"), caKey,
                     QStringLiteral("-set_serial"), QStringLiteral("2"), QStringLiteral("-sha256"),
                     QStringLiteral("-days"), QString::fromLatin1(kValidDays), QStringLiteral("-extfile"),
                     config, QStringLiteral("-extensions"), QStringLiteral("server_ext"),
                     QStringLiteral("-out"), serverCertPath()}))
        return false;
    // Same CA subject as the real one on purpose: a client must reject the server because the
    // signature does not verify, not merely because the issuer name differs.
    return makeCa(wrongCaCertPath(), dir_.filePath(QStringLiteral("wrong-ca/ca-key.pem")),
                  QStringLiteral("/C=XX/O=Saffron Test/CN=Saffron Test CA"));
}

} // namespace saffron::test
