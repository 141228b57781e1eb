// Unit tests for session/connection: spice:// URIs, virt-viewer .vv files, the key-file
// reader underneath and the field validators. Pure parsing: no server is involved.

#include "connection/ConnectionFields.h"
#include "connection/ConnectionSpec.h"
#include "connection/KeyFile.h"
#include "connection/SpiceUri.h"
#include "connection/VvFile.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <random>

using namespace saffron;

namespace {

const QString kDataDir = QStringLiteral(SAFFRON_CONNECTION_TESTDATA);

QByteArray readData(const QString& name) {
    QFile file(kDataDir + u'/' + name);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot open test data %s", qPrintable(file.fileName()));
    return file.readAll();
}

// The Proxmox fixture's secrets, as written in data/proxmox.vv.
constexpr auto kProxmoxPassword = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
constexpr auto kProxmoxHost = "pvespiceproxy:6489a2e3:100:pve1::7d3c5f0e9b8a1c2d4e6f7a8b9c0d1e2f3a4b5c6d";

QByteArray minimalVv(const QByteArray& extra) {
    return "[virt-viewer]\ntype=spice\nhost=192.0.2.5\n" + extra;
}

// For failure messages: what an unexpectedly successful parse produced.
QString unexpectedSuccess(const ConnectionResult& result) {
    return result.ok() ? QStringLiteral("parsed: ") + result.spec().describe() : QString();
}

// Messages captured while a test runs, to check what reaches the log.
QStringList* g_captured = nullptr;
void captureMessage(QtMsgType, const QMessageLogContext&, const QString& message) {
    if (g_captured)
        g_captured->append(message);
}

} // namespace

class TestConnection : public QObject {
    Q_OBJECT

private slots:
    // --- spice:// URIs --------------------------------------------------------------------
    void uriValid_data();
    void uriValid();
    void uriInvalid_data();
    void uriInvalid();
    void uriPasswordWarns();
    void uriTooLong();
    void uriTooLongToWriteBack();
    void uriRoundTrip_data();
    void uriRoundTrip();

    // --- .vv files --------------------------------------------------------------------------
    void proxmoxFile();
    void proxmoxFileWindowsLineEndingsAndBom();
    void allKeysFile();
    void minimalFile();
    void whitespaceAndComments();
    void extensionKeysAndOtherGroups();
    void vvInvalid_data();
    void vvInvalid();
    void vvWarnsAboutUnusedCa();
    void unixPathFile();
    void sizeLimit();
    void garbageInput();

    // --- delete-this-file -------------------------------------------------------------------
    void loadKeepsFileByDefault();
    void loadHonoursDeleteThisFile();
    void loadKeepsFileWithoutDeleteFlag();
    void loadKeepsFileWhenParsingFails();
    void loadErrors();

    // --- secrets ----------------------------------------------------------------------------
    void passwordIsRedacted();
    void qdebugDoesNotLeakPassword();

    // --- CA certificates --------------------------------------------------------------------
    void caCertificates();

    // --- field validators and key-file reader ------------------------------------------------
    void hostSubject();
    void usbFilter();
    void proxyUrl_data();
    void proxyUrl();
    void keyFileLists();
    void keyFileEscapeRoundTrip();
    void utf8Validation();
    void channelSecurity();
};

// ---------------------------------------------------------------------------------------------
// URIs

void TestConnection::uriValid_data() {
    QTest::addColumn<QString>("uri");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<int>("tlsPort");
    QTest::addColumn<QString>("unixPath");
    QTest::addColumn<QString>("username");
    QTest::addColumn<QString>("password");

    const QString none;
    QTest::newRow("host:port") << "spice://192.0.2.1:5900"
                               << "192.0.2.1" << 5900 << 0 << none << none << none;
    QTest::newRow("dns name") << "spice://vdi.example.com:5930"
                              << "vdi.example.com" << 5930 << 0 << none << none << none;
    QTest::newRow("scheme case") << "SPICE://Host.Example:5900"
                                 << "Host.Example" << 5900 << 0 << none << none << none;
    QTest::newRow("tls scheme") << "spice+tls://192.0.2.1:5901"
                                << "192.0.2.1" << 0 << 5901 << none << none << none;
    QTest::newRow("query ports") << "spice://192.0.2.1?port=5900&tls-port=5901"
                                 << "192.0.2.1" << 5900 << 5901 << none << none << none;
    QTest::newRow("semicolons") << "spice://192.0.2.1;port=5900;tls-port=5901"
                                << "192.0.2.1" << 5900 << 5901 << none << none << none;
    QTest::newRow("port + tls-port") << "spice://192.0.2.1:5900?tls-port=5901"
                                     << "192.0.2.1" << 5900 << 5901 << none << none << none;
    QTest::newRow("tls-port only") << "spice://192.0.2.1?tls-port=5901"
                                   << "192.0.2.1" << 0 << 5901 << none << none << none;
    QTest::newRow("param case") << "spice://192.0.2.1?Port=5900&TLS-Port=5901"
                                << "192.0.2.1" << 5900 << 5901 << none << none << none;
    QTest::newRow("slash then query") << "spice://192.0.2.1/?port=5900"
                                      << "192.0.2.1" << 5900 << 0 << none << none << none;
    QTest::newRow("trailing slash") << "spice://192.0.2.1:5900/"
                                    << "192.0.2.1" << 5900 << 0 << none << none << none;
    QTest::newRow("trailing &") << "spice://192.0.2.1?port=5900&"
                                << "192.0.2.1" << 5900 << 0 << none << none << none;
    QTest::newRow("empty pairs") << "spice://192.0.2.1?&&port=5900&&"
                                 << "192.0.2.1" << 5900 << 0 << none << none << none;
    QTest::newRow("leading zero") << "spice://192.0.2.1:05900"
                                  << "192.0.2.1" << 5900 << 0 << none << none << none;
    QTest::newRow("max port") << "spice://192.0.2.1:65535"
                              << "192.0.2.1" << 65535 << 0 << none << none << none;
    QTest::newRow("ipv6") << "spice://[2001:db8::1]:5900"
                          << "2001:db8::1" << 5900 << 0 << none << none << none;
    QTest::newRow("ipv6 query") << "spice://[2001:db8::1]?tls-port=5901"
                                << "2001:db8::1" << 0 << 5901 << none << none << none;
    QTest::newRow("ipv6 tls") << "spice+tls://[::1]:5901"
                              << "::1" << 0 << 5901 << none << none << none;
    QTest::newRow("username") << "spice://alice@192.0.2.1:5900"
                              << "192.0.2.1" << 5900 << 0 << none << "alice" << none;
    QTest::newRow("encoded username") << "spice://al%40ice@192.0.2.1:5900"
                                      << "192.0.2.1" << 5900 << 0 << none << "al@ice" << none;
    QTest::newRow("password") << "spice://192.0.2.1:5900?password=s3cret"
                              << "192.0.2.1" << 5900 << 0 << none << none << "s3cret";
    QTest::newRow("encoded password")
        << "spice://192.0.2.1:5900?password=p%26ss%3Dw%C3%B6rd"
        << "192.0.2.1" << 5900 << 0 << none << none << QString::fromUtf8("p&ss=wörd");
    QTest::newRow("unreserved symbols") << "spice://192.0.2.1:5900?password=a:b/c@d!$'()*,"
                                        << "192.0.2.1" << 5900 << 0 << none << none << "a:b/c@d!$'()*,";
    QTest::newRow("plus is not space") << "spice://192.0.2.1:5900?password=a+b"
                                       << "192.0.2.1" << 5900 << 0 << none << none << "a+b";
    QTest::newRow("idn host") << "spice://h%C3%A9llo.example:5900" << QString::fromUtf8("héllo.example")
                              << 5900 << 0 << none << none << none;
    QTest::newRow("surrounding spaces") << "  spice://192.0.2.1:5900 \n"
                                        << "192.0.2.1" << 5900 << 0 << none << none << none;
    QTest::newRow("unix") << "spice+unix:///run/spice.sock" << none << 0 << 0 << "/run/spice.sock" << none
                          << none;
    QTest::newRow("unix encoded") << "spice+unix:///tmp/with%20space.sock" << none << 0 << 0
                                  << "/tmp/with space.sock" << none << none;
    QTest::newRow("unix password") << "spice+unix:///run/spice.sock?password=pw" << none << 0 << 0
                                   << "/run/spice.sock" << none << "pw";
    QTest::newRow("unix 107 bytes") << "spice+unix:///" + QString(106, u'a') << none << 0 << 0
                                    << u'/' + QString(106, u'a') << none << none;
}

void TestConnection::uriValid() {
    QFETCH(QString, uri);
    const ConnectionResult result = parseSpiceUri(uri);
    QVERIFY2(result.ok(), qPrintable(result.error()));
    QVERIFY(result.error().isEmpty());
    const ConnectionSpec& spec = result.spec();
    QTEST(spec.host, "host");
    QTEST(int(spec.port), "port");
    QTEST(int(spec.tlsPort), "tlsPort");
    QTEST(spec.unixSocketPath, "unixPath");
    QTEST(spec.username, "username");
    QTEST(spec.password, "password");
    QCOMPARE(spec.wantsTls(), spec.tlsPort != 0);
    QVERIFY(spec.proxy.isEmpty());
    QVERIFY(!spec.deleteThisFile);
}

void TestConnection::uriInvalid_data() {
    QTest::addColumn<QString>("uri");
    QTest::addColumn<QString>("error");

    QTest::newRow("empty") << ""
                           << "empty URI";
    QTest::newRow("blank") << "   "
                           << "empty URI";
    QTest::newRow("no scheme") << "192.0.2.1:5900"
                               << "is not a SPICE URI";
    QTest::newRow("vnc") << "vnc://192.0.2.1:5900"
                         << "unsupported scheme 'vnc'";
    QTest::newRow("spice+ssh") << "spice+ssh://192.0.2.1:5900"
                               << "unsupported scheme 'spice+ssh'";
    QTest::newRow("no port") << "spice://192.0.2.1"
                             << "no port";
    QTest::newRow("no tls port") << "spice+tls://192.0.2.1"
                                 << "no port";
    QTest::newRow("empty port") << "spice://192.0.2.1:"
                                << "empty port";
    QTest::newRow("port 0") << "spice://192.0.2.1:0"
                            << "port 0 is out of range";
    QTest::newRow("port too big") << "spice://192.0.2.1:65536"
                                  << "out of range";
    QTest::newRow("huge port") << "spice://192.0.2.1:99999999999999999999"
                               << "out of range";
    QTest::newRow("port not number") << "spice://192.0.2.1:59x0"
                                     << "is not a decimal number";
    QTest::newRow("negative port") << "spice://192.0.2.1?port=-5900"
                                   << "is not a decimal number";
    QTest::newRow("bad tls-port") << "spice://192.0.2.1?tls-port=abc"
                                  << "tls-port 'abc' is not a decimal number";
    QTest::newRow("port twice") << "spice://192.0.2.1:5900?port=5901"
                                << "port is given twice";
    QTest::newRow("param twice") << "spice://192.0.2.1?port=5900&port=5901"
                                 << "parameter 'port' is given twice";
    QTest::newRow("password twice") << "spice://192.0.2.1:5900?password=a&Password=b"
                                    << "parameter 'password' is given twice";
    QTest::newRow("same ports") << "spice://192.0.2.1?port=5900&tls-port=5900"
                                << "are both 5900";
    QTest::newRow("same ports authority") << "spice://192.0.2.1:5900?tls-port=5900"
                                          << "are both 5900";
    QTest::newRow("tls with port=") << "spice+tls://192.0.2.1:5901?port=5900"
                                    << "'port=' is not allowed";
    QTest::newRow("tls with tls-port=") << "spice+tls://192.0.2.1:5901?tls-port=5902"
                                        << "'tls-port=' is not allowed";
    QTest::newRow("unknown param") << "spice://192.0.2.1:5900?foo=bar"
                                   << "unknown parameter 'foo'";
    QTest::newRow("vendor param") << "spice://192.0.2.1:5900?com.redhat.spiceclient.MonitorMapping=2"
                                  << "unknown parameter 'com.redhat.spiceclient.MonitorMapping'";
    QTest::newRow("unknown param no value") << "spice://192.0.2.1:5900?verbose"
                                            << "unknown parameter 'verbose'";
    QTest::newRow("param without value") << "spice://192.0.2.1:5900?password"
                                         << "parameter 'password' has no value";
    QTest::newRow("param empty value") << "spice://192.0.2.1?port="
                                       << "parameter 'port' has no value";
    QTest::newRow("empty param name") << "spice://192.0.2.1:5900?=x"
                                      << "empty parameter name";
    QTest::newRow("odd param name") << "spice://192.0.2.1:5900?pa$s=x"
                                    << "malformed parameter name 'pa$s'";
    QTest::newRow("bare ipv6") << "spice://2001:db8::1:5900"
                               << "must be written in brackets";
    QTest::newRow("unclosed ipv6") << "spice://[2001:db8::1:5900"
                                   << "missing ']'";
    QTest::newRow("junk after ipv6") << "spice://[2001:db8::1]5900"
                                     << "unexpected '5900' after the IPv6 address";
    QTest::newRow("not ipv6") << "spice://[192.0.2.1]:5900"
                              << "is not an IPv6 address";
    QTest::newRow("control char in ipv6") << "spice://[2001:%0b8::1]:5100"
                                          << "is not an IPv6 address";
    QTest::newRow("empty brackets") << "spice://[]:5900"
                                    << "missing host";
    QTest::newRow("missing host") << "spice://:5900"
                                  << "missing host";
    QTest::newRow("missing host query") << "spice://?port=5900"
                                        << "missing host";
    QTest::newRow("path") << "spice://192.0.2.1:5900/vm/100"
                          << "unexpected path '/vm/100'";
    QTest::newRow("fragment") << "spice://192.0.2.1:5900#top"
                              << "no '#fragment'";
    QTest::newRow("user:password") << "spice://alice:pw@192.0.2.1:5900"
                                   << "'user:password@' is not supported";
    QTest::newRow("empty user") << "spice://@192.0.2.1:5900"
                                << "empty user name";
    QTest::newRow("bad escape") << "spice://192.0.2.1:5900?password=%zz"
                                << "malformed percent escape '%zz'";
    QTest::newRow("short escape") << "spice://192.0.2.1:5900?password=ab%4"
                                  << "malformed percent escape '%4'";
    QTest::newRow("nul escape") << "spice://192.0.2.1:5900?password=a%00b"
                                << "NUL";
    QTest::newRow("non-utf8 escape") << "spice://192.0.2.1:5900?password=%ff%fe"
                                     << "do not decode to UTF-8";
    QTest::newRow("encoded space host") << "spice://bad%20host:5900"
                                        << "host contains whitespace";
    QTest::newRow("encoded slash host") << "spice://a%2Fb:5900"
                                        << "host contains '/'";
    QTest::newRow("space") << "spice://192.0.2.1 :5900"
                           << "whitespace or a control character";
    QTest::newRow("control char") << QStringLiteral("spice://192.0.2.1:5900?password=a\x01")
                                  << "control character";
    QTest::newRow("unix relative") << "spice+unix://relative.sock"
                                   << "absolute socket path";
    QTest::newRow("unix empty") << "spice+unix://"
                                << "absolute socket path";
    QTest::newRow("unix too long") << "spice+unix:///" + QString(107, u'a') << "longer than the 107";
    QTest::newRow("unix port") << "spice+unix:///run/s.sock?port=5900"
                               << "take no 'port' parameter";
    QTest::newRow("unix unknown") << "spice+unix:///run/s.sock?bogus=1"
                                  << "unknown parameter 'bogus'";
    QTest::newRow("unix bad escape") << "spice+unix:///run/%G0.sock"
                                     << "socket path: malformed percent escape";
}

void TestConnection::uriInvalid() {
    QFETCH(QString, uri);
    QFETCH(QString, error);
    const ConnectionResult result = parseSpiceUri(uri);
    QVERIFY2(!result.ok(), qPrintable(unexpectedSuccess(result)));
    QVERIFY(!result);
    QVERIFY2(result.error().contains(error), qPrintable(result.error()));
    QVERIFY_THROWS_EXCEPTION(std::bad_optional_access, result.spec());
}

void TestConnection::uriPasswordWarns() {
    const auto withPassword = parseSpiceUri(QStringLiteral("spice://192.0.2.1:5900?password=x"));
    QVERIFY(withPassword.ok());
    QCOMPARE(withPassword.warnings().size(), 1);
    QVERIFY(withPassword.warnings().first().contains(u"process listings"));
    QVERIFY(!withPassword.warnings().first().contains(u"=x"));

    const auto without = parseSpiceUri(QStringLiteral("spice://192.0.2.1:5900"));
    QVERIFY(without.ok());
    QVERIFY(without.warnings().isEmpty());
}

void TestConnection::uriTooLong() {
    const QString longUri =
        QStringLiteral("spice://192.0.2.1:5900?password=") + QString(kMaxSpiceUriLength, u'a');
    const auto result = parseSpiceUri(longUri);
    QVERIFY(!result.ok());
    QVERIFY2(result.error().contains(u"more than 8192"), qPrintable(result.error()));
}

void TestConnection::uriTooLongToWriteBack() {
    // 1000 non-ASCII characters are a host the parser takes, but percent-encoded (nine
    // characters each) they would make a URI the parser refuses: no URI is written.
    const QString host = QString(1000, QChar(0x4e2d)); // three UTF-8 bytes, "%E4%B8%AD"
    const auto result = parseSpiceUri(QStringLiteral("spice://%1:5900").arg(host));
    QVERIFY2(result.ok(), qPrintable(result.error()));
    QCOMPARE(result.spec().host, host);
    QVERIFY(result.spec().toSpiceUri().isEmpty());
}

void TestConnection::uriRoundTrip_data() {
    QTest::addColumn<QString>("uri");
    QTest::addColumn<QString>("canonical");
    QTest::newRow("plain") << "spice://192.0.2.1:5900"
                           << "spice://192.0.2.1:5900";
    QTest::newRow("tls") << "spice+tls://192.0.2.1:5901"
                         << "spice+tls://192.0.2.1:5901";
    QTest::newRow("both") << "spice://192.0.2.1?tls-port=5901&port=5900"
                          << "spice://192.0.2.1:5900?tls-port=5901";
    QTest::newRow("ipv6") << "spice://[2001:db8::1]:5900"
                          << "spice://[2001:db8::1]:5900";
    QTest::newRow("user") << "spice://al%40ice@example.com:5900"
                          << "spice://al%40ice@example.com:5900";
    QTest::newRow("password dropped") << "spice://example.com:5900?password=x"
                                      << "spice://example.com:5900";
    QTest::newRow("unix") << "spice+unix:///tmp/a%20b.sock"
                          << "spice+unix:///tmp/a%20b.sock";
    // Found by fuzz_spice_uri: the encoded '+' ("%2B") must not be taken for an arg() placeholder.
    QTest::newRow("percent-2 in host") << "SPICE://||'||0+?TLS-Port=590&"
                                       << "spice+tls://%7C%7C%27%7C%7C0%2B:590";
    QTest::newRow("percent-2 both ports") << "spice://a+b:5900?tls-port=5901"
                                          << "spice://a%2Bb:5900?tls-port=5901";
}

void TestConnection::uriRoundTrip() {
    QFETCH(QString, uri);
    QFETCH(QString, canonical);
    const auto first = parseSpiceUri(uri);
    QVERIFY2(first.ok(), qPrintable(first.error()));
    QCOMPARE(first.spec().toSpiceUri(), canonical);
    const auto second = parseSpiceUri(canonical);
    QVERIFY2(second.ok(), qPrintable(second.error()));
    QCOMPARE(second.spec().host, first.spec().host);
    QCOMPARE(second.spec().port, first.spec().port);
    QCOMPARE(second.spec().tlsPort, first.spec().tlsPort);
    QCOMPARE(second.spec().unixSocketPath, first.spec().unixSocketPath);
    QCOMPARE(second.spec().username, first.spec().username);
}

// ---------------------------------------------------------------------------------------------
// .vv files

static void checkProxmoxSpec(const ConnectionResult& result) {
    QVERIFY2(result.ok(), qPrintable(result.error()));
    QVERIFY2(result.warnings().isEmpty(), qPrintable(result.warnings().join(u'\n')));
    const ConnectionSpec& spec = result.spec();
    QCOMPARE(spec.host, QString::fromLatin1(kProxmoxHost));
    QCOMPARE(spec.port, quint16(0));
    QCOMPARE(spec.tlsPort, quint16(61000));
    QVERIFY(spec.unixSocketPath.isEmpty());
    QCOMPARE(spec.password, QString::fromLatin1(kProxmoxPassword));
    QCOMPARE(spec.proxy, QUrl(QStringLiteral("http://192.0.2.10:3128")));
    QCOMPARE(spec.title, QStringLiteral("VM 100 - debian"));
    QCOMPARE(spec.hostSubject,
             QStringLiteral("OU=PVE Cluster Node,O=Proxmox Virtual Environment,CN=pve1.example.com"));
    QVERIFY(spec.deleteThisFile);
    QVERIFY(!spec.fullscreen);
    QVERIFY(spec.wantsTls());
    QVERIFY(spec.secureChannels.isEmpty());
    QCOMPARE(spec.hotkeys.size(), 3);
    QCOMPARE(spec.hotkeys.value(QStringLiteral("secure-attention")), QStringLiteral("Ctrl+Alt+Ins"));
    QCOMPARE(spec.hotkeys.value(QStringLiteral("toggle-fullscreen")), QStringLiteral("Shift+F11"));
    QCOMPARE(spec.hotkeys.value(QStringLiteral("release-cursor")), QStringLiteral("Ctrl+Alt+R"));
    QVERIFY(!spec.enableUsbRedir.has_value());
    QVERIFY(!spec.enableUsbAutoshare.has_value());

    // The "\n" escapes became a real PEM, byte for byte the certificate openssl wrote.
    QCOMPARE(spec.caPem, readData(QStringLiteral("proxmox-ca.pem")));
    QString error;
    const auto certs = spec.loadCaCertificates(&error);
    QVERIFY2(certs.has_value(), qPrintable(error));
    QCOMPARE(certs->size(), 1);
    QCOMPARE(certs->first().subjectInfo(QSslCertificate::Organization),
             QStringList{QStringLiteral("PVE Cluster Manager CA")});
    QCOMPARE(certs->first().subjectInfo(QSslCertificate::CommonName),
             QStringList{QStringLiteral("Proxmox Virtual Environment")});
}

void TestConnection::proxmoxFile() {
    checkProxmoxSpec(parseVvFile(readData(QStringLiteral("proxmox.vv"))));
}

void TestConnection::proxmoxFileWindowsLineEndingsAndBom() {
    QByteArray crlf = readData(QStringLiteral("proxmox.vv"));
    crlf.replace("\n", "\r\n");
    checkProxmoxSpec(parseVvFile(crlf));
    checkProxmoxSpec(parseVvFile("\xEF\xBB\xBF" + crlf));
}

void TestConnection::allKeysFile() {
    const ConnectionResult result = parseVvFile(readData(QStringLiteral("all-keys.vv")));
    QVERIFY2(result.ok(), qPrintable(result.error()));
    QVERIFY(result.warnings().isEmpty());
    const ConnectionSpec& spec = result.spec();
    QCOMPARE(spec.host, QStringLiteral("console.example.com"));
    QCOMPARE(spec.port, quint16(5900));
    QCOMPARE(spec.tlsPort, quint16(5901));
    QCOMPARE(spec.username, QStringLiteral("alice"));
    QCOMPARE(spec.password, QStringLiteral("s3cret word")); // "\s" is a space
    QCOMPARE(spec.disableChannels, (QStringList{"playback", "record"}));
    QCOMPARE(spec.tlsCiphers, QStringLiteral("HIGH:!aNULL"));
    QCOMPARE(spec.caPem, readData(QStringLiteral("other-ca.pem")));
    QCOMPARE(spec.hostSubject, QStringLiteral("O=Example\\, Inc.,CN=console.example.com"));
    QString error;
    const auto subject = parseHostSubject(spec.hostSubject, &error);
    QVERIFY2(subject.has_value(), qPrintable(error));
    QCOMPARE(subject->size(), 2);
    QCOMPARE(subject->at(0), qMakePair(QStringLiteral("O"), QStringLiteral("Example, Inc.")));
    QVERIFY(spec.fullscreen);
    QCOMPARE(spec.title, QStringLiteral("Finance desktop"));
    QCOMPARE(spec.hotkeys.size(), kHotkeyActions.size());
    QCOMPARE(spec.hotkeys.value(QStringLiteral("zoom-reset")), QStringLiteral("ctrl+0"));
    QCOMPARE(spec.hotkeys.value(QStringLiteral("usb-device-reset")), QStringLiteral("shift+f10"));
    QCOMPARE(spec.hotkeys.value(QStringLiteral("smartcard-insert")), QStringLiteral("shift+f8"));
    QCOMPARE(spec.hotkeys.value(QStringLiteral("smartcard-remove")), QStringLiteral("shift+f9"));
    QCOMPARE(spec.hotkeys.value(QStringLiteral("secure-attention")), QStringLiteral("ctrl+alt+end"));
    QCOMPARE(spec.enableSmartcard, std::optional<bool>(true));
    QCOMPARE(spec.enableUsbRedir, std::optional<bool>(true));
    QCOMPARE(spec.enableUsbAutoshare, std::optional<bool>(false));
    QCOMPARE(spec.usbFilter, QStringLiteral("0x03,-1,-1,-1,0|-1,-1,-1,-1,1"));
    QCOMPARE(spec.usbRedirectOnConnect, QStringLiteral("0x08,0x0781,0x5583,-1,1"));
    QCOMPARE(spec.colorDepth, 32);
    QCOMPARE(spec.disableEffects, (QStringList{"wallpaper", "animation"}));
    QCOMPARE(spec.secureChannels, (QStringList{"main", "inputs", "cursor"}));
    QVERIFY(!spec.deleteThisFile);
    QCOMPARE(spec.proxy.scheme(), QStringLiteral("http"));
    QCOMPARE(spec.proxy.host(), QStringLiteral("192.0.2.30"));
    QCOMPARE(spec.proxy.port(), 8080);
    QCOMPARE(spec.proxy.userName(), QStringLiteral("proxyuser"));
    QCOMPARE(spec.proxy.password(), QStringLiteral("proxypass"));
    QCOMPARE(spec.minimumVersion, QStringLiteral("7.0"));
    QCOMPARE(spec.minimumVersions.value(QStringLiteral("rhev-win64")), QStringLiteral("2.0-160"));
    QCOMPARE(spec.minimumVersions.value(QStringLiteral("rhel7")), QStringLiteral("2.0-6"));
    QCOMPARE(spec.newerVersionUrl, QStringLiteral("https://example.com/get-a-newer-viewer"));

    QVERIFY(spec.channelMustBeSecure(QStringLiteral("inputs")));
    QVERIFY(!spec.channelMustBeSecure(QStringLiteral("display")));
}

void TestConnection::minimalFile() {
    const auto result = parseVvFile(minimalVv("port=5900\n"));
    QVERIFY2(result.ok(), qPrintable(result.error()));
    const ConnectionSpec& spec = result.spec();
    QCOMPARE(spec.host, QStringLiteral("192.0.2.5"));
    QCOMPARE(spec.port, quint16(5900));
    QCOMPARE(spec.tlsPort, quint16(0));
    QVERIFY(!spec.wantsTls());
    QVERIFY(spec.password.isEmpty());
    QVERIFY(spec.hotkeys.isEmpty());
    QVERIFY(!spec.deleteThisFile);
    QVERIFY(spec.caPem.isEmpty());
    QString error;
    const auto certs = spec.loadCaCertificates(&error);
    QVERIFY(certs.has_value());
    QVERIFY(certs->isEmpty()); // system trust store

    // IPv6 hosts are bare, but brackets are tolerated.
    for (const char* host : {"2001:db8::1", "[2001:db8::1]"}) {
        const auto v6 =
            parseVvFile(QByteArray("[virt-viewer]\ntype=spice\nhost=") + host + "\ntls-port=5901\n");
        QVERIFY2(v6.ok(), qPrintable(v6.error()));
        QCOMPARE(v6.spec().host, QStringLiteral("2001:db8::1"));
        QCOMPARE(v6.spec().toSpiceUri(), QStringLiteral("spice+tls://[2001:db8::1]:5901"));
    }

    // A zero port is "none", like an absent key; "Spice" is accepted like "spice".
    const auto zero = parseVvFile("[virt-viewer]\ntype=Spice\nhost=h\nport=0\ntls-port=5901\n");
    QVERIFY2(zero.ok(), qPrintable(zero.error()));
    QCOMPARE(zero.spec().port, quint16(0));
    QCOMPARE(zero.spec().tlsPort, quint16(5901));
}

void TestConnection::whitespaceAndComments() {
    const QByteArray text = "# leading comment\n"
                            "\n"
                            "  [virt-viewer]  \n"
                            "\t# indented comment\n"
                            "type = spice\n"
                            "   host=\t192.0.2.5\n"
                            "port =5900\n"
                            "password=  two trailing spaces  \n"
                            "title=\\sleading space kept\n"
                            "\n";
    const auto result = parseVvFile(text);
    QVERIFY2(result.ok(), qPrintable(result.error()));
    QCOMPARE(result.spec().host, QStringLiteral("192.0.2.5"));
    QCOMPARE(result.spec().port, quint16(5900));
    // GLib drops whitespace after '=' but keeps it at the end of a value.
    QCOMPARE(result.spec().password, QStringLiteral("two trailing spaces  "));
    QCOMPARE(result.spec().title, QStringLiteral(" leading space kept"));
}

void TestConnection::extensionKeysAndOtherGroups() {
    const QByteArray text = "[ovirt]\n"
                            "host=https://engine.example.com\n"
                            "anything-goes=here\n"
                            "[virt-viewer]\n"
                            "type=spice\n"
                            "host=192.0.2.5\n"
                            "x-vendor-thing=\\q not even a valid escape\n"
                            "port=5900\n"
                            "[x-saffron]\n"
                            "port=not checked here\n"
                            "[virt-viewer]\n"
                            "title=groups merge like in GLib\n";
    const auto result = parseVvFile(text);
    QVERIFY2(result.ok(), qPrintable(result.error()));
    QCOMPARE(result.spec().port, quint16(5900));
    QCOMPARE(result.spec().title, QStringLiteral("groups merge like in GLib"));
}

void TestConnection::vvInvalid_data() {
    QTest::addColumn<QByteArray>("contents");
    QTest::addColumn<QString>("error");

    QTest::newRow("empty") << QByteArray() << "no [virt-viewer] group";
    QTest::newRow("key before group")
        << QByteArray("type=spice\n") << "line 1: key 'type' comes before any [group]";
    QTest::newRow("other group only") << QByteArray("[ovirt]\nhost=h\n") << "no [virt-viewer] group";
    QTest::newRow("no type") << QByteArray("[virt-viewer]\nhost=h\nport=5900\n") << "has no 'type' key";
    QTest::newRow("vnc") << QByteArray("[virt-viewer]\ntype=vnc\nhost=h\nport=5900\n")
                         << "line 2: type: connection type 'vnc' is not supported";
    QTest::newRow("ovirt type") << QByteArray("[virt-viewer]\ntype=ovirt\n") << "connection type 'ovirt'";
    QTest::newRow("unknown key") << minimalVv("port=5900\nprot=5900\n")
                                 << "line 5: unknown key 'prot' in [virt-viewer]";
    QTest::newRow("kiosk is not a file key")
        << minimalVv("port=5900\nkiosk=1\n") << "line 5: unknown key 'kiosk'";
    QTest::newRow("key case") << minimalVv("Port=5900\n") << "did you mean 'port'?";
    QTest::newRow("no equals") << minimalVv("port 5900\n") << "line 4: 'port 5900' is not 'key=value'";
    QTest::newRow("semicolon comment") << minimalVv("; a comment\n") << "line 4: '; a comment' is not";
    QTest::newRow("no key") << minimalVv("=5900\n") << "line 4: '=' without a key";
    QTest::newRow("bad key chars") << minimalVv("po rt=5900\n") << "line 4: invalid key name 'po rt'";
    QTest::newRow("localized key") << minimalVv("title[fr]=Bureau\n")
                                   << "line 4: invalid key name 'title[fr]'";
    QTest::newRow("bad header") << QByteArray("[virt-viewer\ntype=spice\n")
                                << "line 1: malformed group header";
    QTest::newRow("empty header") << QByteArray("[]\n") << "line 1: malformed group header";
    QTest::newRow("bad line in other group")
        << QByteArray("[ovirt]\nnot ini\n[virt-viewer]\ntype=spice\n") << "line 2: 'not ini' is not";
    QTest::newRow("repeated key") << minimalVv("port=5900\nport=5901\n")
                                  << "line 5: key 'port' is repeated (first on line 4)";
    QTest::newRow("port text") << minimalVv("port=abc\n")
                               << "line 4: port: port 'abc' is not a decimal number";
    QTest::newRow("port range") << minimalVv("port=70000\n") << "line 4: port: port '70000' is out of range";
    QTest::newRow("port negative") << minimalVv("port=-1\n")
                                   << "line 4: port: port '-1' is not a decimal number";
    QTest::newRow("port empty") << minimalVv("port=\n") << "line 4: port: empty port";
    QTest::newRow("tls-port text") << minimalVv("tls-port=5901x\n") << "line 4: tls-port:";
    QTest::newRow("no port") << minimalVv("title=t\n") << "no 'port' or 'tls-port' key";
    QTest::newRow("zero ports") << minimalVv("port=0\ntls-port=0\n") << "no 'port' or 'tls-port' key";
    QTest::newRow("same ports") << minimalVv("port=5900\ntls-port=5900\n")
                                << "line 5: port and tls-port are both 5900";
    QTest::newRow("no host") << QByteArray("[virt-viewer]\ntype=spice\nport=5900\n")
                             << "no 'host' or 'unix-path'";
    QTest::newRow("empty host") << QByteArray("[virt-viewer]\ntype=spice\nhost=\nport=5900\n")
                                << "line 3: host: empty host";
    QTest::newRow("host brackets") << QByteArray("[virt-viewer]\ntype=spice\nhost=[192.0.2.1]\nport=5900\n")
                                   << "line 3: host: '[192.0.2.1]' is not an IPv6 address";
    QTest::newRow("host spaces") << QByteArray("[virt-viewer]\ntype=spice\nhost=a b\nport=5900\n")
                                 << "line 3: host: host contains whitespace";
    QTest::newRow("unix and host") << minimalVv("unix-path=/run/s.sock\n")
                                   << "'host' cannot be combined with unix-path";
    QTest::newRow("unix and port") << QByteArray(
                                          "[virt-viewer]\ntype=spice\nunix-path=/run/s\ntls-port=5901\n")
                                   << "line 4: 'tls-port' cannot be combined with unix-path";
    QTest::newRow("unix relative") << QByteArray("[virt-viewer]\ntype=spice\nunix-path=run/s.sock\n")
                                   << "line 3: unix-path: 'run/s.sock' is not an absolute path";
    QTest::newRow("fullscreen true") << minimalVv("port=5900\nfullscreen=true\n")
                                     << "line 5: fullscreen: 'true' is not 0 or 1";
    QTest::newRow("delete 2") << minimalVv("port=5900\ndelete-this-file=2\n")
                              << "line 5: delete-this-file: '2' is not 0 or 1";
    QTest::newRow("usbredir yes") << minimalVv("port=5900\nenable-usbredir=yes\n")
                                  << "enable-usbredir: 'yes'";
    QTest::newRow("bad channel") << minimalVv("tls-port=5901\nsecure-channels=main;bogus\n")
                                 << "line 5: secure-channels: unknown channel 'bogus'";
    QTest::newRow("escaped separator")
        << minimalVv("tls-port=5901\nsecure-channels=main\\;inputs\n") << "unknown channel 'main;inputs'";
    QTest::newRow("comma separated") << minimalVv("tls-port=5901\nsecure-channels=main,inputs\n")
                                     << "unknown channel 'main,inputs'";
    QTest::newRow("secure without tls")
        << minimalVv("port=5900\nsecure-channels=all\n") << "line 5: secure-channels needs a tls-port";
    QTest::newRow("disable all channels")
        << minimalVv("port=5900\ndisable-channels=all\n") << "unknown channel 'all'";
    QTest::newRow("color depth") << minimalVv("port=5900\ncolor-depth=24\n")
                                 << "color-depth: '24' is not 16 or 32";
    QTest::newRow("effects") << minimalVv("port=5900\ndisable-effects=sparkles\n")
                             << "unknown effect 'sparkles'";
    QTest::newRow("usb fields") << minimalVv("port=5900\nusb-filter=1,2,3\n")
                                << "usb-filter: rule 1 has 3 fields, expected 5";
    QTest::newRow("usb class") << minimalVv("port=5900\nusb-filter=0x100,-1,-1,-1,1\n")
                               << "rule 1: class '0x100' is not -1 or 0..0xff";
    QTest::newRow("usb allow") << minimalVv(
                                      "port=5900\nusb-redirect-on-connect=-1,-1,-1,-1,1|-1,-1,-1,-1,2\n")
                               << "usb-redirect-on-connect: rule 2: allow '2' is not 0 or 1";
    QTest::newRow("proxy scheme") << minimalVv("port=5900\nproxy=socks5://192.0.2.1:1080\n")
                                  << "proxy: unsupported proxy scheme 'socks5'";
    QTest::newRow("proxy port") << minimalVv("port=5900\nproxy=http://192.0.2.1:99999\n")
                                << "proxy: port '99999' is out of range";
    QTest::newRow("proxy host") << minimalVv("port=5900\nproxy=http://:3128\n") << "proxy: empty host";
    QTest::newRow("subject no value")
        << minimalVv("tls-port=5901\nhost-subject=CN\n") << "host-subject: 'CN' has no '=value'";
    QTest::newRow("subject empty value")
        << minimalVv("tls-port=5901\nhost-subject=O=x,CN=\n") << "'CN' has an empty value";
    QTest::newRow("subject bad escape")
        << minimalVv("tls-port=5901\nhost-subject=CN=a\\\\qb\n") << "must be followed by";
    QTest::newRow("ca garbage") << minimalVv("tls-port=5901\nca=not a certificate\n")
                                << "line 5: ca: no '-----BEGIN CERTIFICATE-----'";
    QTest::newRow("bad escape") << minimalVv("port=5900\ntitle=a\\qb\n")
                                << "line 5: title: invalid escape '\\q'";
    QTest::newRow("lone backslash") << minimalVv("port=5900\npassword=abc\\\n")
                                    << "password: value ends with a lone '\\'";
    QTest::newRow("newline in title")
        << minimalVv("port=5900\ntitle=a\\nb\n") << "title: contains a line break";
    QTest::newRow("newline in hotkey")
        << minimalVv("port=5900\nrelease-cursor=a\\nb\n") << "release-cursor: contains";
    QTest::newRow("versions") << minimalVv("port=5900\nversions=rhel7\n") << "'rhel7' is not 'os-id:version'";
    QTest::newRow("invalid utf8") << minimalVv("port=5900\ntitle=caf\xe9\n")
                                  << "line 5: invalid UTF-8 (byte offset";
    QTest::newRow("overlong utf8") << minimalVv("title=\xc0\xaf\n") << "line 4: invalid UTF-8";
    QTest::newRow("surrogate utf8") << minimalVv("title=\xed\xa0\x80\n") << "line 4: invalid UTF-8";
    QTest::newRow("nul") << minimalVv(QByteArray("port=5900\ntitle=a\0b\n", 21)) << "line 5: NUL byte";
}

void TestConnection::vvInvalid() {
    QFETCH(QByteArray, contents);
    QFETCH(QString, error);
    const ConnectionResult result = parseVvFile(contents);
    QVERIFY2(!result.ok(), qPrintable(unexpectedSuccess(result)));
    QVERIFY2(result.error().contains(error), qPrintable(result.error()));
}

void TestConnection::vvWarnsAboutUnusedCa() {
    const auto result = parseVvFile(
        minimalVv("port=5900\nca=" + readData(QStringLiteral("other-ca.pem")).replace("\n", "\\n") + "\n"));
    QVERIFY2(result.ok(), qPrintable(result.error()));
    QCOMPARE(result.warnings().size(), 1);
    QVERIFY(result.warnings().first().contains(u"no tls-port"));
}

void TestConnection::unixPathFile() {
    const auto result = parseVvFile("[virt-viewer]\ntype=spice\nunix-path=/run/user/1000/spice.sock\n"
                                    "password=pw\n");
    QVERIFY2(result.ok(), qPrintable(result.error()));
    QCOMPARE(result.spec().unixSocketPath, QStringLiteral("/run/user/1000/spice.sock"));
    QVERIFY(result.spec().host.isEmpty());
    QVERIFY(!result.spec().wantsTls());
    QVERIFY(!result.spec().channelMustBeSecure(QStringLiteral("main")));
    QCOMPARE(result.spec().toSpiceUri(), QStringLiteral("spice+unix:///run/user/1000/spice.sock"));
}

void TestConnection::sizeLimit() {
    // Exactly the limit is accepted: a valid file padded with a long comment line.
    QByteArray exact = minimalVv("port=5900\n#");
    exact += QByteArray(KeyFile::kMaxBytes - exact.size() - 1, 'x') + '\n';
    QCOMPARE(exact.size(), KeyFile::kMaxBytes);
    const auto ok = parseVvFile(exact);
    QVERIFY2(ok.ok(), qPrintable(ok.error()));

    const auto tooBig = parseVvFile(exact + '\n');
    QVERIFY(!tooBig.ok());
    QVERIFY2(tooBig.error().contains(u"more than the 1048576 bytes allowed"), qPrintable(tooBig.error()));

    // Many short lines are fine as long as the byte limit holds.
    QByteArray manyLines = minimalVv("port=5900\n");
    while (manyLines.size() < KeyFile::kMaxBytes - 2)
        manyLines += "\n";
    QVERIFY(parseVvFile(manyLines).ok());
}

void TestConnection::garbageInput() {
    // Deterministic pseudo-random bytes and mutations of the Proxmox file: every input gets
    // an answer (success or a non-empty error) and nothing crashes. The fuzzers go further.
    std::mt19937 rng(20240611);
    const QByteArray proxmox = readData(QStringLiteral("proxmox.vv"));
    int failures = 0;
    for (int i = 0; i < 300; ++i) {
        QByteArray input;
        if (i % 2 == 0) {
            input.resize(static_cast<qsizetype>(rng() % 512));
            for (char& c : input)
                c = static_cast<char>(rng() % 256);
        } else {
            input = proxmox;
            for (int m = 0; m < 1 + int(rng() % 4); ++m)
                input[static_cast<qsizetype>(rng() % input.size())] = static_cast<char>(rng() % 128);
        }
        const auto result = parseVvFile(input);
        if (!result.ok()) {
            QVERIFY(!result.error().isEmpty());
            ++failures;
        }
        const auto uri = parseSpiceUri(QString::fromUtf8(input.left(200)));
        QVERIFY(uri.ok() || !uri.error().isEmpty());
    }
    QVERIFY(failures > 150); // all the random blobs at least
}

// ---------------------------------------------------------------------------------------------
// delete-this-file

void TestConnection::loadKeepsFileByDefault() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("pve-spice.vv"));
    QVERIFY(QFile::copy(kDataDir + QStringLiteral("/proxmox.vv"), path));

    const auto result = loadVvFile(path);
    checkProxmoxSpec(result);
    QVERIFY(result.spec().deleteThisFile); // the caller is told ...
    QVERIFY(QFile::exists(path));          // ... but nothing was deleted

    const auto explicitKeep = loadVvFile(path, DeleteMode::Keep);
    QVERIFY(explicitKeep.ok());
    QVERIFY(QFile::exists(path));
}

void TestConnection::loadHonoursDeleteThisFile() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("pve-spice.vv"));
    QVERIFY(QFile::copy(kDataDir + QStringLiteral("/proxmox.vv"), path));

    const auto result = loadVvFile(path, DeleteMode::HonourFile);
    checkProxmoxSpec(result);
    QVERIFY(!QFile::exists(path));

    // Loading it again fails cleanly: the one-time password is gone with the file.
    const auto again = loadVvFile(path, DeleteMode::HonourFile);
    QVERIFY(!again.ok());
    QVERIFY2(again.error().contains(u"cannot open"), qPrintable(again.error()));
}

void TestConnection::loadKeepsFileWithoutDeleteFlag() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("keep.vv"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(minimalVv("port=5900\ndelete-this-file=0\n"));
    file.close();

    const auto result = loadVvFile(path, DeleteMode::HonourFile);
    QVERIFY2(result.ok(), qPrintable(result.error()));
    QVERIFY(!result.spec().deleteThisFile);
    QVERIFY(QFile::exists(path));
}

void TestConnection::loadKeepsFileWhenParsingFails() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("broken.vv"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(minimalVv("port=5900\ndelete-this-file=1\nprot=1\n"));
    file.close();

    const auto result = loadVvFile(path, DeleteMode::HonourFile);
    QVERIFY(!result.ok());
    QCOMPARE(result.error(), QStringLiteral("broken.vv: line 6: unknown key 'prot' in [virt-viewer]"));
    QVERIFY(QFile::exists(path));
}

void TestConnection::loadErrors() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());

    const auto missing = loadVvFile(dir.filePath(QStringLiteral("absent.vv")), DeleteMode::HonourFile);
    QVERIFY(!missing.ok());
    QVERIFY2(missing.error().startsWith(u"cannot open"), qPrintable(missing.error()));

    // "%2" in the name checks the message is not built with chained QString::arg().
    const QString bigPath = dir.filePath(QStringLiteral("big%2.vv"));
    QFile big(bigPath);
    QVERIFY(big.open(QIODevice::WriteOnly));
    QVERIFY(big.resize(KeyFile::kMaxBytes * 3));
    big.close();
    const auto tooBig = loadVvFile(bigPath, DeleteMode::HonourFile);
    QVERIFY(!tooBig.ok());
    QVERIFY2(tooBig.error().startsWith(u"big%2.vv: file is larger than the 1048576 bytes allowed"),
             qPrintable(tooBig.error()));
    QVERIFY(QFile::exists(bigPath));

    // A directory is not a file.
    const auto directory = loadVvFile(dir.path());
    QVERIFY(!directory.ok());
}

// ---------------------------------------------------------------------------------------------
// Secrets

void TestConnection::passwordIsRedacted() {
    const auto result = parseVvFile(readData(QStringLiteral("proxmox.vv")));
    QVERIFY(result.ok());
    const ConnectionSpec& spec = result.spec();

    const QString description = spec.describe();
    QVERIFY(!description.contains(QLatin1String(kProxmoxPassword)));
    QVERIFY2(description.contains(u"password=***"), qPrintable(description));
    QVERIFY(description.contains(QLatin1String(kProxmoxHost)));
    QVERIFY(description.contains(u"tls-port=61000"));
    QVERIFY(description.contains(u"proxy=http://192.0.2.10:3128"));
    QVERIFY(description.contains(u"bytes of PEM"));

    const ConnectionSpec safe = spec.redacted();
    QCOMPARE(safe.password, QStringLiteral("***"));
    QCOMPARE(safe.host, spec.host);
    QCOMPARE(spec.password, QString::fromLatin1(kProxmoxPassword)); // the original is untouched

    // Proxy credentials are secrets too.
    const auto withProxyAuth = parseVvFile(readData(QStringLiteral("all-keys.vv")));
    QVERIFY(withProxyAuth.ok());
    const QString proxyDescription = withProxyAuth.spec().describe();
    QVERIFY2(!proxyDescription.contains(u"proxypass"), qPrintable(proxyDescription));
    QVERIFY(!proxyDescription.contains(u"s3cret"));
    QVERIFY(proxyDescription.contains(u"proxyuser"));
    QCOMPARE(withProxyAuth.spec().redacted().proxy.password(), QStringLiteral("***"));

    // No password: nothing to redact, nothing printed.
    const auto plain = parseSpiceUri(QStringLiteral("spice://192.0.2.1:5900"));
    QVERIFY(!plain.spec().describe().contains(u"password"));
    QVERIFY(plain.spec().redacted().password.isEmpty());

    // URI passwords are redacted the same way.
    const auto uri = parseSpiceUri(QStringLiteral("spice://192.0.2.1:5900?password=hunter2"));
    QVERIFY(!uri.spec().describe().contains(u"hunter2"));
    QVERIFY(!uri.spec().toSpiceUri().contains(u"hunter2"));
}

void TestConnection::qdebugDoesNotLeakPassword() {
    const auto result = parseVvFile(readData(QStringLiteral("proxmox.vv")));
    QVERIFY(result.ok());
    QStringList captured;
    g_captured = &captured;
    const auto previous = qInstallMessageHandler(captureMessage);
    qDebug() << result.spec();
    qWarning() << "loaded" << result.spec();
    qInstallMessageHandler(previous);
    g_captured = nullptr;

    QCOMPARE(captured.size(), 2);
    for (const QString& line : captured) {
        QVERIFY2(!line.contains(QLatin1String(kProxmoxPassword)), qPrintable(line));
        QVERIFY(line.contains(u"password=***"));
        QVERIFY(line.contains(u"ConnectionSpec("));
    }
}

// ---------------------------------------------------------------------------------------------
// CA certificates

void TestConnection::caCertificates() {
    QString error;

    ConnectionSpec fromFile;
    fromFile.caFile = kDataDir + QStringLiteral("/other-ca.pem");
    auto certs = fromFile.loadCaCertificates(&error);
    QVERIFY2(certs.has_value(), qPrintable(error));
    QCOMPARE(certs->size(), 1);
    QCOMPARE(certs->first().subjectInfo(QSslCertificate::CommonName),
             QStringList{QStringLiteral("Saffron Test Other CA")});

    ConnectionSpec both = fromFile;
    both.caPem = readData(QStringLiteral("proxmox-ca.pem"));
    certs = both.loadCaCertificates(&error);
    QVERIFY2(certs.has_value(), qPrintable(error));
    QCOMPARE(certs->size(), 2);

    ConnectionSpec bundle;
    bundle.caPem = readData(QStringLiteral("proxmox-ca.pem")) + readData(QStringLiteral("other-ca.pem"));
    certs = bundle.loadCaCertificates(&error);
    QVERIFY(certs.has_value());
    QCOMPARE(certs->size(), 2);

    ConnectionSpec missing;
    missing.caFile = kDataDir + QStringLiteral("/no-such-ca.pem");
    QVERIFY(!missing.loadCaCertificates(&error).has_value());
    QVERIFY2(error.contains(u"cannot read CA file"), qPrintable(error));

    ConnectionSpec notPem;
    notPem.caFile = kDataDir + QStringLiteral("/proxmox.vv");
    QVERIFY(!notPem.loadCaCertificates(&error).has_value());
    QVERIFY2(error.contains(u"holds no valid PEM certificate"), qPrintable(error));

    // Passes the .vv check (it has the BEGIN line) but is not a certificate.
    const auto broken = parseVvFile(minimalVv(
        "tls-port=5901\nca=-----BEGIN CERTIFICATE-----\\nnot base64!\\n-----END CERTIFICATE-----\\n\n"));
    QVERIFY2(broken.ok(), qPrintable(broken.error()));
    QVERIFY(!broken.spec().loadCaCertificates(&error).has_value());
    QVERIFY2(error.contains(u"inline CA holds no valid PEM certificate"), qPrintable(error));
}

// ---------------------------------------------------------------------------------------------
// Field validators and the key-file reader

void TestConnection::hostSubject() {
    QString error;
    auto entries =
        parseHostSubject(u"OU=PVE Cluster Node,O=Proxmox Virtual Environment,CN=pve1.example.com", &error);
    QVERIFY2(entries.has_value(), qPrintable(error));
    QCOMPARE(entries->size(), 3);
    QCOMPARE(entries->at(0), qMakePair(QStringLiteral("OU"), QStringLiteral("PVE Cluster Node")));
    QCOMPARE(entries->at(2), qMakePair(QStringLiteral("CN"), QStringLiteral("pve1.example.com")));

    entries = parseHostSubject(u"C=XX, L=Default City,  O=a\\\\b\\,c,CN=x=y", &error);
    QVERIFY2(entries.has_value(), qPrintable(error));
    QCOMPARE(entries->size(), 4);
    QCOMPARE(entries->at(1), qMakePair(QStringLiteral("L"), QStringLiteral("Default City")));
    QCOMPARE(entries->at(2), qMakePair(QStringLiteral("O"), QStringLiteral("a\\b,c")));
    QCOMPARE(entries->at(3), qMakePair(QStringLiteral("CN"), QStringLiteral("x=y")));

    QVERIFY(!parseHostSubject(u"", &error));
    QVERIFY(!parseHostSubject(u"=x", &error));
    QVERIFY(!parseHostSubject(u"CN=a,,O=b", &error));
    QVERIFY(!parseHostSubject(u"CN=a\\", &error));
    QVERIFY(!parseHostSubject(u"CN=a,O", &error));
}

void TestConnection::usbFilter() {
    QString error;
    auto rules = parseUsbFilter(u"0x03,-1,-1,-1,0|-1,-1,-1,-1,1", &error);
    QVERIFY2(rules.has_value(), qPrintable(error));
    QCOMPARE(rules->size(), 2);
    QCOMPARE(rules->at(0), (UsbFilterRule{3, -1, -1, -1, false}));
    QCOMPARE(rules->at(1), (UsbFilterRule{-1, -1, -1, -1, true}));

    rules = parseUsbFilter(u"8,0x0781,0X5583,0x0100,1||", &error);
    QVERIFY2(rules.has_value(), qPrintable(error));
    QCOMPARE(rules->size(), 1);
    QCOMPARE(rules->at(0), (UsbFilterRule{8, 0x0781, 0x5583, 0x0100, true}));

    // strtol base 0 reads a leading 0 as octal, as usbredir does.
    rules = parseUsbFilter(u"010,-1,-1,-1,1", &error);
    QVERIFY(rules.has_value());
    QCOMPARE(rules->at(0).deviceClass, 8);

    QVERIFY(parseUsbFilter(u"", &error)->isEmpty());
    QVERIFY(!parseUsbFilter(u"-2,-1,-1,-1,1", &error));
    QVERIFY(!parseUsbFilter(u"1,0x10000,-1,-1,1", &error));
    QVERIFY(!parseUsbFilter(u"1,2,3,4,5,6", &error));
    QVERIFY(!parseUsbFilter(u"a,b,c,d,e", &error));
    QVERIFY(!parseUsbFilter(u"0x,-1,-1,-1,1", &error));
    QVERIFY(!parseUsbFilter(u" 1,-1,-1,-1,1", &error));
    QVERIFY(!parseUsbFilter(u"09,-1,-1,-1,1", &error)); // 9 is not an octal digit
    QVERIFY(!parseUsbFilter(u"99999999999999999999,-1,-1,-1,1", &error));
}

void TestConnection::proxyUrl_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected"); // empty = must fail

    QTest::newRow("http") << "http://192.0.2.10:3128"
                          << "http://192.0.2.10:3128";
    QTest::newRow("default http port") << "http://proxy.example.com"
                                       << "http://proxy.example.com:3128";
    QTest::newRow("default https port") << "https://proxy.example.com"
                                        << "https://proxy.example.com:3129";
    QTest::newRow("no scheme") << "192.0.2.10:8080"
                               << "http://192.0.2.10:8080";
    QTest::newRow("scheme case") << "HTTP://192.0.2.10:8080/"
                                 << "http://192.0.2.10:8080";
    QTest::newRow("ipv6") << "http://[2001:db8::10]:3128"
                          << "http://[2001:db8::10]:3128";
    QTest::newRow("credentials") << "http://u:p%40ss@192.0.2.10:3128"
                                 << "http://u:p%40ss@192.0.2.10:3128";
    QTest::newRow("socks") << "socks5://192.0.2.10:1080"
                           << "";
    QTest::newRow("empty") << ""
                           << "";
    QTest::newRow("port 0") << "http://192.0.2.10:0"
                            << "";
    QTest::newRow("empty port") << "http://192.0.2.10:"
                                << "";
    QTest::newRow("bare ipv6") << "http://2001:db8::10:3128"
                               << "";
    QTest::newRow("path") << "http://192.0.2.10:3128/x"
                          << "";
    QTest::newRow("bad ipv6") << "http://[zz]:3128"
                              << "";
}

void TestConnection::proxyUrl() {
    QFETCH(QString, text);
    QFETCH(QString, expected);
    QString error;
    const auto url = parseProxyUrl(text, &error);
    if (expected.isEmpty()) {
        QVERIFY2(!url.has_value(), qPrintable(url ? url->toString() : QString()));
        QVERIFY(!error.isEmpty());
    } else {
        QVERIFY2(url.has_value(), qPrintable(error));
        QCOMPARE(url->toString(), expected);
        QVERIFY(url->port() > 0);
    }
}

void TestConnection::keyFileLists() {
    QString error;
    QCOMPARE(*KeyFile::unescapeList(u"a;b;", &error), (QStringList{"a", "b"}));
    QCOMPARE(*KeyFile::unescapeList(u"a;b", &error), (QStringList{"a", "b"}));
    QCOMPARE(*KeyFile::unescapeList(u"a;;b", &error), (QStringList{"a", "", "b"}));
    QCOMPARE(*KeyFile::unescapeList(u"a\\;b", &error), (QStringList{"a;b"}));
    QCOMPARE(*KeyFile::unescapeList(u"a\\\\;b", &error), (QStringList{"a\\", "b"}));
    QCOMPARE(*KeyFile::unescapeList(u"x\\sy\\tz", &error), (QStringList{"x y\tz"}));
    QVERIFY(KeyFile::unescapeList(u"", &error)->isEmpty());
    QVERIFY(!KeyFile::unescapeList(u"a;b\\", &error));
    QVERIFY(!KeyFile::unescapeList(u"a\\x", &error));

    QCOMPARE(*KeyFile::unescape(u"a\\nb\\rc\\td\\\\e\\sf", &error), QStringLiteral("a\nb\rc\td\\e f"));
    QCOMPARE(*KeyFile::unescape(u"a;b", &error), QStringLiteral("a;b")); // ';' is plain outside lists
}

void TestConnection::utf8Validation() {
    QCOMPARE(firstInvalidUtf8(QByteArray()), -1);
    QCOMPARE(firstInvalidUtf8("plain ascii"), -1);
    QCOMPARE(firstInvalidUtf8(QString::fromUtf8("héllo €𝄞").toUtf8()), -1);
    QCOMPARE(firstInvalidUtf8("\xF4\x8F\xBF\xBF"), -1);    // U+10FFFF
    QCOMPARE(firstInvalidUtf8("ab\xF4\x90\x80\x80"), 2);   // above U+10FFFF
    QCOMPARE(firstInvalidUtf8("a\xE0\x80\xAF"), 1);        // overlong '/'
    QCOMPARE(firstInvalidUtf8("\xED\xBF\xBF"), 0);         // surrogate
    QCOMPARE(firstInvalidUtf8("abc\xC3"), 3);              // truncated
    QCOMPARE(firstInvalidUtf8("\x80"), 0);                 // stray continuation
    QCOMPARE(firstInvalidUtf8("\xC3\x28"), 0);             // bad continuation
    QCOMPARE(firstInvalidUtf8("\xF8\x88\x80\x80\x80"), 0); // 5-byte form
}

void TestConnection::channelSecurity() {
    ConnectionSpec spec;
    spec.host = QStringLiteral("192.0.2.1");
    spec.port = 5900;
    QVERIFY(!spec.wantsTls());
    QVERIFY(!spec.channelMustBeSecure(QStringLiteral("main")));

    spec.tlsPort = 5901;
    QVERIFY(spec.wantsTls());
    QVERIFY(!spec.channelMustBeSecure(QStringLiteral("main")));
    spec.secureChannels = QStringList{QStringLiteral("main")};
    QVERIFY(spec.channelMustBeSecure(QStringLiteral("main")));
    QVERIFY(!spec.channelMustBeSecure(QStringLiteral("display")));
    spec.secureChannels = QStringList{QStringLiteral("all")};
    QVERIFY(spec.channelMustBeSecure(QStringLiteral("display")));

    spec.secureChannels.clear();
    spec.port = 0; // TLS only: everything goes over TLS
    QVERIFY(spec.channelMustBeSecure(QStringLiteral("playback")));

    QString error;
    QVERIFY(checkChannelNames(kSpiceChannelNames, false, &error));
    QVERIFY(!checkChannelNames(QStringList{QStringLiteral("Main")}, true, &error));
    QVERIFY(error.contains(u"unknown channel 'Main'"));
}

// What writers (admin-made connections, shell.conf) put in a file must read back unchanged,
// through a whole key file, not only through unescape().
void TestConnection::keyFileEscapeRoundTrip() {
    const QStringList values{QStringLiteral("plain"),
                             QStringLiteral(" leading"),
                             QStringLiteral("trailing "),
                             QStringLiteral(" "),
                             QStringLiteral("a\\b"),
                             QStringLiteral("line\nbreak\r\t"),
                             QStringLiteral("\\s"),
                             QStringLiteral("caf\u00e9 ; # = [x]"),
                             QString()};
    for (const QString& value : values) {
        const QByteArray file = ("[g]\nk=" + KeyFile::escape(value) + "\n").toUtf8();
        QString error;
        const auto parsed = KeyFile::parse(file, &error);
        QVERIFY2(parsed.has_value(), qPrintable(error));
        QCOMPARE(parsed->entries().size(), 1);
        const auto back = KeyFile::unescape(parsed->entries().front().rawValue, &error);
        QVERIFY2(back.has_value(), qPrintable(error));
        QCOMPARE(*back, value);
    }
}

QTEST_GUILESS_MAIN(TestConnection)
#include "test_connection.moc"
