#pragma once

#include <QString>
#include <QTemporaryDir>

namespace saffron::test {

// A throw-away PKI made with the openssl command line: a CA, a server certificate it signed
// (subjectAltName IP:127.0.0.1, DNS:localhost) laid out as QEMU's "-spice x509-dir=DIR"
// expects (ca-cert.pem, server-cert.pem, server-key.pem), and a second, unrelated CA for
// tests that must fail verification. Everything is deleted with the object.
class TestCertificates {
public:
    static constexpr auto kDefaultSubject = "/C=XX/O=Saffron Test/CN=localhost";

    TestCertificates();

    // Generates all keys and certificates; the subject uses openssl's "/K=V/K=V" form.
    bool generate(const QString& serverSubject = QString::fromLatin1(kDefaultSubject));
    QString errorString() const { return error_; }

    // The folder to pass as x509-dir (holds only the three files QEMU reads).
    QString x509Dir() const;
    QString caCertPath() const;
    QString serverCertPath() const;
    QString serverKeyPath() const;
    // A self-signed CA that signed nothing here: verifying the server against it must fail.
    QString wrongCaCertPath() const;

    // The server subject as given to generate(), e.g. "/C=XX/O=Saffron Test/CN=localhost".
    QString subject() const { return subject_; }
    // The same subject in the comma-separated form SPICE clients take as "host-subject",
    // e.g. "C=XX,O=Saffron Test,CN=localhost".
    QString hostSubject() const;

private:
    bool runOpenssl(const QStringList& arguments);
    bool writeFile(const QString& path, const QByteArray& contents);
    bool makeCa(const QString& certPath, const QString& keyPath, const QString& subject);

    QTemporaryDir dir_;
    QString openssl_;
    QString subject_;
    QString error_;
};

} // namespace saffron::test
