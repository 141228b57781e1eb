// Unit tests of the shell's appliance pieces (shell/common/appliance).
#include "common/ConnectionTarget.h"
#include "common/StatsLog.h"
#include "common/appliance/AdminPin.h"
#include "common/appliance/AtomicFile.h"
#include "common/appliance/CommandLine.h"
#include "common/appliance/ConnectionCatalog.h"
#include "common/appliance/JournalLog.h"
#include "common/appliance/KeySequenceSpec.h"
#include "common/appliance/ReconnectBackoff.h"
#include "common/appliance/SessionBusAddress.h"
#include "common/appliance/ShellSettings.h"
#include "common/appliance/UpdateStatus.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <array>
#include <cstdio>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

using namespace saffron;
using namespace std::chrono_literals;

namespace {

void writeFile(const QString& path, const QByteArray& data, QFile::Permissions perms = {}) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly | QIODevice::Truncate), qPrintable(path));
    f.write(data);
    f.close();
    if (perms)
        QVERIFY(f.setPermissions(perms));
}

QByteArray readFile(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

mode_t modeOf(const QString& path) {
    struct stat st {};
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return 0;
    return st.st_mode & 07777;
}

// Hidden temporaries AtomicFile may have left behind.
QStringList strayFiles(const QString& dir) {
    return QDir(dir)
        .entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot)
        .filter(QRegularExpression("^\\."));
}

QString problemsText(const QList<CatalogProblem>& problems) {
    QStringList out;
    for (const auto& p : problems)
        out << p.text();
    return out.join('\n');
}

QString problemsText(const QList<SettingsProblem>& problems) {
    QStringList out;
    for (const auto& p : problems)
        out << p.text();
    return out.join('\n');
}

} // namespace

class TestShellAppliance : public QObject {
    Q_OBJECT

private slots:
    void init() { AtomicFile::setFailureInjection({}); }

    // SAFFRON_STATS_LOG lines (bench_video_e2e.py reads them): cumulative counters as key=value,
    // bytes summed over the channels.
    void statsLogLine() {
        SessionInfo info;
        ChannelInfo main;
        main.stats.bytesIn = 100;
        ChannelInfo display;
        display.stats.bytesIn = 23;
        info.channels = {main, display};
        info.display.draws = 5;
        info.display.video.framesReceived = 9;
        info.display.video.framesDecoded = 8;
        info.display.video.framesPresented = 7;
        info.display.video.arrivalToPresentNs = 70'000'000;
        const QByteArray line = StatsLog::line(info, 123456, 789);
        QVERIFY2(
            line.startsWith("saffron-stats t_ms=123456 cpu_ms=789 bytes_in=123 draws=5 received=9 decoded=8 "
                            "presented=7 "),
            line.constData());
        QVERIFY(line.contains(" arrival_to_present_ns=70000000"));
        QVERIFY(!line.contains('\n'));
    }

    // --- AtomicFile ---------------------------------------------------------------------
    void atomicWriteCreatesWithMode() {
        QTemporaryDir dir;
        const QString path = dir.filePath("secret.conf");
        QString error;
        // A permissive umask must not widen the mode of a file with secrets.
        const mode_t old = ::umask(0);
        const bool ok = AtomicFile::write(path, "pin=1\n", 0600, &error);
        ::umask(old);
        QVERIFY2(ok, qPrintable(error));
        QCOMPARE(readFile(path), QByteArray("pin=1\n"));
        QCOMPARE(modeOf(path), mode_t(0600));
        QVERIFY2(AtomicFile::write(path, "pin=2\n", 0644, &error), qPrintable(error));
        QCOMPARE(readFile(path), QByteArray("pin=2\n"));
        QCOMPARE(modeOf(path), mode_t(0644));
        QVERIFY(strayFiles(dir.path()).isEmpty());
        // Empty contents are a valid file too.
        QVERIFY2(AtomicFile::write(path, QByteArray(), 0600, &error), qPrintable(error));
        QCOMPARE(QFileInfo(path).size(), 0);
    }

    void atomicWriteFailureKeepsOldFile_data() {
        QTest::addColumn<int>("step");
        QTest::newRow("create") << int(AtomicFile::Step::CreateTemp);
        QTest::newRow("write") << int(AtomicFile::Step::Write);
        QTest::newRow("fsync") << int(AtomicFile::Step::SyncFile);
        QTest::newRow("rename") << int(AtomicFile::Step::Rename);
    }
    void atomicWriteFailureKeepsOldFile() {
        QFETCH(int, step);
        QTemporaryDir dir;
        const QString path = dir.filePath("settings.conf");
        writeFile(path, "old contents\n");
        AtomicFile::setFailureInjection([step](AtomicFile::Step s) { return int(s) == step; });
        QString error;
        QVERIFY(!AtomicFile::write(path, "new contents that must not appear\n", 0600, &error));
        AtomicFile::setFailureInjection({});
        QVERIFY(!error.isEmpty());
        QVERIFY2(error.contains("Input/output error"), qPrintable(error));
        QCOMPARE(readFile(path), QByteArray("old contents\n"));
        QVERIFY2(strayFiles(dir.path()).isEmpty(), qPrintable(strayFiles(dir.path()).join(' ')));
    }

    void atomicWriteDirectorySyncFailureIsReported() {
        QTemporaryDir dir;
        const QString path = dir.filePath("settings.conf");
        AtomicFile::setFailureInjection(
            [](AtomicFile::Step s) { return s == AtomicFile::Step::SyncDirectory; });
        QString error;
        QVERIFY(!AtomicFile::write(path, "x", 0600, &error));
        QVERIFY2(error.contains("cannot sync directory"), qPrintable(error));
        // The rename happened: contents are new, only durability is in doubt.
        QCOMPARE(readFile(path), QByteArray("x"));
    }

    void atomicWriteRealFailures() {
        QTemporaryDir dir;
        QString error;
        QVERIFY(!AtomicFile::write(dir.filePath("missing/dir/file"), "x", 0600, &error));
        QVERIFY2(error.contains("missing/dir") && error.contains("No such file"), qPrintable(error));
        // Renaming a file over a directory fails (EISDIR) without touching it.
        const QString target = dir.filePath("adir");
        QVERIFY(QDir().mkpath(target + "/inside"));
        QVERIFY(!AtomicFile::write(target, "x", 0600, &error));
        QVERIFY2(error.contains("cannot rename"), qPrintable(error));
        QVERIFY(QFileInfo(target + "/inside").isDir());
        QVERIFY(strayFiles(dir.path()).isEmpty());
    }

    // --- ShellSettings ------------------------------------------------------------------
    void settingsDefaults() {
        QTemporaryDir root;
        qputenv("XDG_CONFIG_HOME", root.filePath("user").toUtf8());
        ShellSettings s(root.path());
        QVERIFY(!s.kiosk());
        QCOMPARE(s.kioskQuit(), KioskQuit::Never);
        QCOMPARE(s.scaling(), ScalingMode::Fit);
        QVERIFY(s.clipboardAllowed());
        QVERIFY(s.usbRedirectAllowed());
        QVERIFY(!s.virtualKeyboard());
        QCOMPARE(s.hotkey("release-cursor"), QString("Shift+F12"));
        QCOMPARE(s.hotkey("toggle-menu"), QString("Ctrl+Alt+Shift+M"));
        QCOMPARE(s.hotkey("stats-overlay"), QString("Ctrl+Alt+Shift+S"));
        QCOMPARE(s.hotkey("toggle-fullscreen"), QString("Shift+F11"));
        QCOMPARE(s.hotkey("secure-attention"), QString("Ctrl+Alt+End"));
        // The shell starts from this table: with no file, hotkeys() is exactly the defaults.
        QCOMPARE(s.hotkeys(), ShellSettings::defaultHotkeys());
        QCOMPARE(s.reconnectMin(), 1000ms);
        QCOMPARE(s.reconnectMax(), 30000ms);
        QVERIFY(s.audioOutput().isEmpty()); // the default sink, followed
        QVERIFY(s.audioInput().isEmpty());
        QVERIFY(s.adminPinHash().isEmpty());
        QVERIFY(s.problems().isEmpty());
        QVERIFY(s.userLayerActive());
        QCOMPARE(s.paths().systemFile, root.filePath("etc/saffron/saffron.conf"));
        QCOMPARE(s.paths().userFile, root.filePath("user/saffron/saffron.conf"));
        // Every default passes its own validation (and every hotkey parses).
        QString error;
        for (const QString& key : ShellSettings::knownKeys())
            QVERIFY2(s.value(key).isEmpty() || ShellSettings::validate(key, s.value(key), &error),
                     qPrintable(key + ": " + error));
    }

    void settingsDropInPrecedence() {
        QTemporaryDir root;
        qputenv("XDG_CONFIG_HOME", root.filePath("user").toUtf8());
        writeFile(root.filePath("etc/saffron/saffron.conf"),
                  "[shell]\nscaling=fill\nvirtual-keyboard=true\n[policy]\nclipboard=false\n");
        writeFile(root.filePath("etc/saffron/conf.d/20-site.conf"), "[shell]\nscaling=fit\n");
        writeFile(root.filePath("etc/saffron/conf.d/10-vendor.conf"),
                  "[shell]\nscaling=1:1\n[policy]\nusb-redirect=0\n");
        writeFile(root.filePath("etc/saffron/conf.d/99-ignored.conf.disabled"), "[shell]\nscaling=1:1\n");
        ShellSettings s(root.path());
        QVERIFY2(s.problems().isEmpty(), qPrintable(problemsText(s.problems())));
        QCOMPARE(s.scaling(), ScalingMode::Fit); // 20-site beats 10-vendor beats the system file
        QCOMPARE(s.sourceOf("shell/scaling"), root.filePath("etc/saffron/conf.d/20-site.conf"));
        QVERIFY(s.virtualKeyboard());
        QVERIFY(!s.clipboardAllowed());
        QVERIFY(!s.usbRedirectAllowed());
    }

    // A headset chosen by the administrator or by the user (a preference); control characters
    // would end up in a PipeWire stream property and are refused.
    void settingsAudioDevices() {
        QTemporaryDir root;
        qputenv("XDG_CONFIG_HOME", root.filePath("user").toUtf8());
        writeFile(root.filePath("etc/saffron/saffron.conf"),
                  "[audio]\noutput=alsa_output.usb-Jabra_Link_380-00.analog-stereo\n");
        writeFile(root.filePath("user/saffron/saffron.conf"), "[audio]\ninput=alsa_input.pci-0000_00_1f.3\n");
        ShellSettings s(root.path());
        QVERIFY2(s.problems().isEmpty(), qPrintable(problemsText(s.problems())));
        QCOMPARE(s.audioOutput(), QStringLiteral("alsa_output.usb-Jabra_Link_380-00.analog-stereo"));
        QCOMPARE(s.audioInput(), QStringLiteral("alsa_input.pci-0000_00_1f.3"));
        QString error;
        QVERIFY(
            !ShellSettings::validate(QStringLiteral("audio/output"), QStringLiteral("bad\x01name"), &error));
        QVERIFY(!ShellSettings::validate(QStringLiteral("audio/input"), QString(300, u'x'), &error));
        QVERIFY(ShellSettings::validate(QStringLiteral("audio/input"), QString(), &error));
    }

    void settingsUserLayer() {
        QTemporaryDir root;
        qputenv("XDG_CONFIG_HOME", root.filePath("user").toUtf8());
        const QString userFile = root.filePath("user/saffron/saffron.conf");
        writeFile(root.filePath("etc/saffron/saffron.conf"), "[policy]\nclipboard=false\n");
        writeFile(userFile,
                  "[shell]\nscaling=fill\n[policy]\nclipboard=true\n[hotkeys]\nrelease-cursor=Ctrl+Alt+R\n");
        {
            ShellSettings s(root.path());
            QVERIFY(s.userLayerActive());
            QCOMPARE(s.scaling(), ScalingMode::Fill);
            QCOMPARE(s.hotkey("release-cursor"), QString("Ctrl+Alt+R"));
            // A policy key in the user file is refused, with its file and line.
            QVERIFY(!s.clipboardAllowed());
            QCOMPARE(s.problems().size(), 1);
            QCOMPARE(s.problems()[0].file, userFile);
            QCOMPARE(s.problems()[0].line, 4);
            QVERIFY(s.problems()[0].message.contains("policy"));
            // --kiosk on the command line drops the user layer.
            s.reload(true);
            QVERIFY(s.kiosk());
            QVERIFY(!s.userLayerActive());
            QCOMPARE(s.scaling(), ScalingMode::Fit);
        }
        for (const char* lock : {"[shell]\nkiosk=true\n", "[shell]\nlocked=true\n"}) {
            writeFile(root.filePath("etc/saffron/conf.d/50-lock.conf"), lock);
            ShellSettings s(root.path());
            QVERIFY(!s.userLayerActive());
            QCOMPARE(s.scaling(), ScalingMode::Fit);
            QCOMPARE(s.hotkey("release-cursor"), QString("Shift+F12"));
        }
    }

    void settingsBadValuesAreReportedNotFatal() {
        QTemporaryDir root;
        qputenv("XDG_CONFIG_HOME", root.filePath("user").toUtf8());
        const QString system = root.filePath("etc/saffron/saffron.conf");
        writeFile(system, "# site settings\n[shell]\nscaling=stretch\nkiosk-quit=on-disconnect\n[hotkeys]\n"
                          "toggle-menu=Ctrl+Alt+Foo\n[reconnect]\nmax-delay-ms=10\n[nosuch]\nkey=1\n"
                          "[usb]\nauto-redirect-filter=1,2,3\n");
        const QString broken = root.filePath("etc/saffron/conf.d/10-broken.conf");
        writeFile(broken, "[shell]\nscaling=fill\nthis line is garbage\n");
        ShellSettings s(root.path());
        QCOMPARE(s.scaling(), ScalingMode::Fit);
        QCOMPARE(s.kioskQuit(), KioskQuit::OnDisconnect);
        QCOMPARE(s.hotkey("toggle-menu"), QString("Ctrl+Alt+Shift+M"));
        QCOMPARE(s.reconnectMax(), 30000ms);
        QVERIFY(s.usbAutoRedirectFilter().isEmpty());
        const QString text = problemsText(s.problems());
        QVERIFY2(text.contains(system + ":3: shell/scaling: 'stretch' is not fit, 1:1 or fill"),
                 qPrintable(text));
        QVERIFY2(text.contains(system + ":6: hotkeys/toggle-menu: unknown key 'Foo'"), qPrintable(text));
        QVERIFY2(text.contains(system + ":8: reconnect/max-delay-ms"), qPrintable(text));
        QVERIFY2(text.contains(system + ":10: unknown setting 'nosuch/key'"), qPrintable(text));
        QVERIFY2(text.contains(system + ":12: usb/auto-redirect-filter: rule 1 has 3 fields"),
                 qPrintable(text));
        // A file that does not parse is ignored whole (its valid-looking line 2 too).
        QVERIFY2(text.contains(broken + ": line 3:"), qPrintable(text));
        QCOMPARE(s.problems().size(), 6);
    }

    void settingsAdminEdits() {
        QTemporaryDir root;
        qputenv("XDG_CONFIG_HOME", root.filePath("user").toUtf8());
        writeFile(root.filePath("etc/saffron/conf.d/10-site.conf"),
                  "[shell]\nscaling=1:1\n[policy]\nclipboard=false\n");
        ShellSettings s(root.path());
        QString error;
        QVERIFY2(s.setAdminValue("shell/scaling", "fill", &error), qPrintable(error));
        QVERIFY2(s.setAdminValue("policy/clipboard", "true", &error), qPrintable(error));
        QString pinError;
        const QString pin = AdminPin::hash("123456", &pinError, AdminPin::kMinIterations);
        QVERIFY2(s.setAdminValue("admin/pin-hash", pin, &error), qPrintable(error));
        QCOMPARE(s.scaling(), ScalingMode::Fill); // admin state beats the drop-in
        QVERIFY(s.clipboardAllowed());
        const QString adminFile = root.filePath("var/lib/saffron/settings.conf");
        QCOMPARE(s.sourceOf("shell/scaling"), adminFile);
        QCOMPARE(modeOf(adminFile), mode_t(0600)); // it holds the PIN hash
        // Another process (the next boot) sees the same.
        ShellSettings again(root.path());
        QCOMPARE(again.scaling(), ScalingMode::Fill);
        QVERIFY(AdminPin::matches("123456", again.adminPinHash()));
        QVERIFY2(again.problems().isEmpty(), qPrintable(problemsText(again.problems())));
        // Invalid edits are refused and change nothing.
        const QByteArray before = readFile(adminFile);
        QVERIFY(!s.setAdminValue("shell/scaling", "huge", &error));
        QVERIFY2(error.contains("not fit, 1:1 or fill"), qPrintable(error));
        QVERIFY(!s.setAdminValue("shell/nosuch", "1", &error));
        QVERIFY(!s.setAdminValue("admin/pin-hash", "plaintext-pin", &error));
        QCOMPARE(readFile(adminFile), before);
        // An empty value removes the admin override: the drop-in applies again.
        QVERIFY2(s.setAdminValue("shell/scaling", "", &error), qPrintable(error));
        QCOMPARE(s.scaling(), ScalingMode::OneToOne);
        QVERIFY(s.clipboardAllowed());
        // A failed write (disk full, power cut mid-way) keeps the previous admin file.
        const QByteArray kept = readFile(adminFile);
        AtomicFile::setFailureInjection(
            [](AtomicFile::Step step) { return step == AtomicFile::Step::Write; });
        QVERIFY(!s.setAdminValue("shell/virtual-keyboard", "true", &error));
        AtomicFile::setFailureInjection({});
        QCOMPARE(readFile(adminFile), kept);
    }

    void settingsSerializeRoundTrip() {
        QMap<QString, QString> values{{"a/plain", "value"},
                                      {"a/spaces", "  leading and trailing  "},
                                      {"b/escapes", "back\\slash\nnew line\ttab\rcr"},
                                      {"b/unicode", QString::fromUtf8("caf\xc3\xa9 \xe2\x9c\x93")}};
        QList<SettingsProblem> problems;
        const auto layer = ShellSettings::parseLayer(ShellSettings::serialize(values), "x", &problems);
        QVERIFY(problems.isEmpty());
        QCOMPARE(layer.size(), values.size());
        for (auto it = values.constBegin(); it != values.constEnd(); ++it)
            QCOMPARE(layer.value(it.key()).value, it.value());
    }

    void settingsReconnectBounds() {
        QTemporaryDir root;
        writeFile(root.filePath("etc/saffron/saffron.conf"),
                  "[reconnect]\nmin-delay-ms=5000\nmax-delay-ms=2000\n");
        ShellSettings s(root.path());
        QCOMPARE(s.reconnectMin(), 5000ms);
        QCOMPARE(s.reconnectMax(), 5000ms);
    }

    // --- ConnectionCatalog --------------------------------------------------------------
    void catalogLoadsSortsAndSkipsInvalid() {
        QTemporaryDir root;
        const QString dir = ConnectionCatalog::systemDirForRoot(root.path());
        writeFile(
            dir + "/office.conf",
            "[connection]\nname=Office desktop\ndescription=Windows 11\nicon=computer\norder=10\n"
            "host=desk.example.com\nport=5900\ntls-port=5901\nca-file=ca/office.pem\n"
            "host-subject=CN=desk.example.com\nsecure-channels=main;inputs\nusb-filter=-1,-1,-1,-1,1\n");
        writeFile(dir + "/lab.conf",
                  "[connection]\nname=lab\nuri=spice://lab.example.com:5900\npassword-free=true\n");
        writeFile(dir + "/alpha.conf",
                  "[connection]\nname=Alpha\norder=10\nuri=spice+unix:///run/alpha.sock\n");
        writeFile(dir + "/pve.conf", "[connection]\nvv=pve/vm100.vv\n");
        writeFile(dir + "/pve/vm100.vv", readFile(SAFFRON_SHELL_TESTDATA "/proxmox.vv"),
                  QFile::ReadOwner | QFile::WriteOwner);
        // Broken ones: each reported with its file and line, none stops the others.
        writeFile(dir + "/badport.conf", "[connection]\nname=Bad\nhost=h\n# comment\nport=70000\n");
        writeFile(dir + "/unknownkey.conf", "[connection]\nhost=h\nport=1\nprot=2\n");
        writeFile(dir + "/group.conf", "[connection]\nhost=h\nport=1\n[extra]\nx=1\n");
        writeFile(dir + "/mixed.conf", "[connection]\nuri=spice://h:1\nhost=h\n");
        writeFile(dir + "/empty.conf", "[connection]\nname=Nothing\n");
        writeFile(dir + "/syntax.conf", "[connection]\nname=x\nnot a key\n");
        writeFile(dir + "/README", "not a .conf: ignored");

        ConnectionCatalog catalog;
        catalog.load(dir, QString());
        QStringList ids;
        for (const auto& e : catalog.entries())
            ids << e.id;
        // order 0 first (lab, pve by name: "lab" < "pve"), then order 10 by name: Alpha, Office.
        QCOMPARE(ids, QStringList({"lab", "pve", "alpha", "office"}));

        const CatalogEntry* office = catalog.find("office");
        QVERIFY(office);
        QCOMPARE(office->name, QString("Office desktop"));
        QCOMPARE(office->description, QString("Windows 11"));
        QCOMPARE(office->icon, QString("computer"));
        QCOMPARE(office->spec.host, QString("desk.example.com"));
        QCOMPARE(office->spec.tlsPort, quint16(5901));
        QCOMPARE(office->spec.caFile, dir + "/ca/office.pem");
        QCOMPARE(office->spec.secureChannels, QStringList({"main", "inputs"}));
        QVERIFY(office->needsPassword());
        QVERIFY(!catalog.find("lab")->needsPassword()); // password-free
        QCOMPARE(catalog.find("alpha")->spec.unixSocketPath, QString("/run/alpha.sock"));
        const CatalogEntry* pve = catalog.find("pve");
        QCOMPARE(pve->name, QString("pve"));
        QCOMPARE(pve->spec.tlsPort, quint16(61000));
        QVERIFY(!pve->needsPassword()); // the .vv carries one
        QCOMPARE(pve->secretFile, dir + "/pve/vm100.vv");
        // delete-this-file=1 in a catalog's .vv is not honoured: it is configuration.
        QVERIFY(QFile::exists(dir + "/pve/vm100.vv"));
        QVERIFY(!pve->spec.deleteThisFile);

        const QString text = problemsText(catalog.problems());
        QVERIFY2(text.contains(dir + "/badport.conf:5: port: port '70000' is out of range"),
                 qPrintable(text));
        QVERIFY2(text.contains(dir + "/unknownkey.conf:4: unknown key 'prot' in [connection]"),
                 qPrintable(text));
        QVERIFY2(text.contains(dir + "/group.conf:4: unknown group [extra]"), qPrintable(text));
        QVERIFY2(text.contains(dir + "/mixed.conf:3: 'host' cannot be combined with uri="), qPrintable(text));
        QVERIFY2(text.contains(dir + "/empty.conf: nothing to connect to"), qPrintable(text));
        QVERIFY2(text.contains(dir + "/syntax.conf:3: 'not a key' is not 'key=value'"), qPrintable(text));
        QVERIFY2(!text.contains("README"), qPrintable(text));
    }

    void catalogUserDirectory() {
        QTemporaryDir root;
        const QString system = root.filePath("etc");
        const QString user = root.filePath("user");
        writeFile(system + "/shared.conf", "[connection]\nname=System one\nuri=spice://s:1\n");
        writeFile(user + "/shared.conf", "[connection]\nname=User one\nuri=spice://u:1\n");
        writeFile(user + "/mine.conf", "[connection]\nname=Mine\nuri=spice://m:1\n");
        ConnectionCatalog catalog;
        catalog.load(system, user);
        QCOMPARE(catalog.entries().size(), 2);
        QCOMPARE(catalog.find("shared")->name, QString("System one"));
        QVERIFY(catalog.find("mine")->fromUserDir);
        QVERIFY(problemsText(catalog.problems()).contains(user + "/shared.conf: a system connection"));
        // Kiosk: no user directory.
        catalog.load(system, QString());
        QCOMPARE(catalog.entries().size(), 1);
    }

    // What the admin panel writes: the launcher loads it back as typed, passwords in files only
    // root can read, ids from the name, and the image's connections keep their ids.
    void catalogAdminConnections() {
        QTemporaryDir root;
        const QString system = ConnectionCatalog::systemDirForRoot(root.path());
        const QString admin = ConnectionCatalog::adminDirForRoot(root.path());
        QCOMPARE(admin, root.filePath("var/lib/saffron/connections.d"));
        writeFile(system + "/office-pc.conf", "[connection]\nname=Image's office\nuri=spice://img:1\n");
        QString error;
        // A password with a backslash and spaces at both ends survives the key file's escapes.
        const QString id = ConnectionCatalog::writeAdminEntry(
            admin, {"Office PC", "desk.example:5900", " s3c\\ret ", false}, {}, &error);
        QVERIFY2(id == "office-pc", qPrintable(error));
        const QString second = ConnectionCatalog::writeAdminEntry(
            admin, {"Lab", "spice://lab.example?tls-port=5901", {}, true}, {}, &error);
        QVERIFY2(second == "lab", qPrintable(error));
        // The same name again: a new id, the first file untouched.
        QCOMPARE(ConnectionCatalog::writeAdminEntry(admin, {"Lab", "lab2:5900", {}, false}, {}, &error),
                 QString("lab-2"));
        QFileInfo written(admin + "/office-pc.conf");
        QCOMPARE(written.permissions() &
                     (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther),
                 QFile::Permissions());

        ConnectionCatalog catalog;
        catalog.load(system, {}, admin);
        // The image's office-pc wins; the admin's file of that id is reported and skipped.
        QCOMPARE(catalog.find("office-pc")->name, QString("Image's office"));
        QVERIFY(!catalog.find("office-pc")->fromAdminDir);
        QVERIFY(problemsText(catalog.problems()).contains(admin + "/office-pc.conf: a system connection"));
        const CatalogEntry* lab = catalog.find("lab");
        QVERIFY(lab && lab->fromAdminDir);
        QCOMPARE(lab->spec.host, QString("lab.example"));
        QCOMPARE(lab->spec.tlsPort, quint16(5901));
        QVERIFY(lab->passwordFree && !lab->needsPassword());

        catalog.load({}, {}, admin);
        const CatalogEntry* office = catalog.find("office-pc");
        QVERIFY(office && office->fromAdminDir);
        QCOMPARE(office->spec.host, QString("desk.example"));
        QCOMPARE(office->spec.port, quint16(5900));
        QCOMPARE(office->spec.password, QString(" s3c\\ret "));
        QVERIFY(catalog.problems().isEmpty());

        // Replacing keeps the id; a user file of an admin id is skipped like one of a system id.
        QCOMPARE(
            ConnectionCatalog::writeAdminEntry(admin, {"Lab (new)", "lab3:5930", {}, false}, "lab", &error),
            QString("lab"));
        const QString user = root.filePath("user");
        writeFile(user + "/lab.conf", "[connection]\nuri=spice://u:1\n");
        catalog.load({}, user, admin);
        QCOMPARE(catalog.find("lab")->name, QString("Lab (new)"));
        QCOMPARE(catalog.find("lab")->spec.port, quint16(5930));
        QVERIFY(problemsText(catalog.problems()).contains(user + "/lab.conf: an admin-made connection"));

        // Refused before anything is written.
        const auto refused = [&](ConnectionCatalog::AdminDraft draft, const QString& id, const char* why) {
            QString e;
            const QString got = ConnectionCatalog::writeAdminEntry(admin, draft, id, &e);
            if (!got.isEmpty() || !e.contains(QLatin1String(why)))
                qWarning() << "expected a refusal with" << why << "got" << got << e;
            return got.isEmpty() && e.contains(QLatin1String(why));
        };
        QVERIFY(refused({"", "h:1", {}, false}, {}, "name"));
        QVERIFY(refused({"X", "", {}, false}, {}, "address"));
        QVERIFY(refused({"X", "h:1?password=p", {}, false}, {}, "own field"));
        QVERIFY(refused({"X", "h:notaport", {}, false}, {}, "port"));
        QVERIFY(refused({"X\nhost=evil", "h:1", {}, false}, {}, "control"));
        QVERIFY(refused({"X", "h:1", {}, false}, "../escape", "not a connection id"));
        QVERIFY(refused({"X", "spice+unix:///run/s.sock", "pw", false}, {}, "unix socket"));
        QCOMPARE(QDir(admin).entryList(QDir::Files).size(), 3);

        QVERIFY2(ConnectionCatalog::removeAdminEntry(admin, "lab-2", &error), qPrintable(error));
        QVERIFY(!ConnectionCatalog::removeAdminEntry(admin, "lab-2", &error));
        QVERIFY(!ConnectionCatalog::removeAdminEntry(admin, "../../etc/passwd", &error));
        catalog.load({}, {}, admin);
        QCOMPARE(catalog.entries().size(), 2);
    }

    void catalogWarnsAboutReadablePasswordFiles() {
        QTemporaryDir root;
        const QString dir = root.filePath("c");
        writeFile(dir + "/open.conf", "[connection]\nhost=h\ntls-port=5901\npassword=hunter2\n",
                  QFile::ReadOwner | QFile::WriteOwner | QFile::ReadOther);
        writeFile(dir + "/closed.conf", "[connection]\nhost=h\ntls-port=5901\npassword=hunter2\n",
                  QFile::ReadOwner | QFile::WriteOwner);
        writeFile(dir + "/nopass.conf", "[connection]\nhost=h\ntls-port=5901\n",
                  QFile::ReadOwner | QFile::WriteOwner | QFile::ReadOther | QFile::ReadGroup);
        QList<LogRecord> logged;
        JournalLog::setSinkForTesting([&](const LogRecord& r) { logged << r; });
        JournalLog::install();
        ConnectionCatalog catalog;
        catalog.load(dir, QString());
        JournalLog::uninstall();
        JournalLog::setSinkForTesting({});
        QCOMPARE(catalog.entries().size(), 3); // a warning, not a refusal
        QCOMPARE(catalog.problems().size(), 1);
        const CatalogProblem& p = catalog.problems()[0];
        QCOMPARE(p.file, dir + "/open.conf");
        QVERIFY(!p.fatal);
        QVERIFY2(p.message.contains("readable by everyone (mode 0604)"), qPrintable(p.message));
        QCOMPARE(logged.size(), 1);
        QCOMPARE(logged[0].priority, 4);
        QVERIFY(logged[0].message.contains("open.conf"));
        QVERIFY(!logged[0].message.contains("hunter2"));
        QVERIFY(catalog.find("open")->spec.password == "hunter2");
        // Loading registered the password with the log redaction.
        QCOMPARE(JournalLog::redact("ticket hunter2 refused"), QString("ticket *** refused"));
        JournalLog::clearSecrets();
        QVERIFY(!catalog.find("open")->needsPassword());
        QVERIFY(catalog.find("nopass")->needsPassword());
    }

    void catalogParseEntryLineNumbersWithCrLfAndBom() {
        QList<CatalogProblem> problems;
        const auto entry = ConnectionCatalog::parseEntry(
            "\xef\xbb\xbf[connection]\r\nname=X\r\nhost=h\r\ntls-port=0x10\r\n", "f.conf", "/", &problems);
        QVERIFY(!entry);
        QCOMPARE(problems.size(), 1);
        QCOMPARE(problems[0].line, 4);
        QVERIFY2(problems[0].message.contains("tls-port"), qPrintable(problems[0].message));
    }

    // --- AdminPin -----------------------------------------------------------------------
    void pinHashFormatAndMatch() {
        QString error;
        const QString h1 = AdminPin::hash("4711", &error, AdminPin::kMinIterations);
        QVERIFY2(!h1.isEmpty(), qPrintable(error));
        const QStringList parts = h1.split('$');
        QCOMPARE(parts.size(), 4);
        QCOMPARE(parts[0], QString("pbkdf2-sha256"));
        QCOMPARE(parts[1], QString::number(AdminPin::kMinIterations));
        QCOMPARE(QByteArray::fromBase64(parts[2].toLatin1()).size(), 16);
        QCOMPARE(QByteArray::fromBase64(parts[3].toLatin1()).size(), 32);
        QVERIFY(!h1.contains("4711"));
        QVERIFY(AdminPin::matches("4711", h1));
        QVERIFY(!AdminPin::matches("4712", h1));
        QVERIFY(!AdminPin::matches("", h1));
        // A fresh salt each time.
        const QString h2 = AdminPin::hash("4711", &error, AdminPin::kMinIterations);
        QVERIFY(h1 != h2);
        QVERIFY(AdminPin::matches("4711", h2));
        // Stored values that must never match: tampered, truncated, too few iterations.
        QString low = h1;
        low.replace("$" + QString::number(AdminPin::kMinIterations) + "$", "$1$");
        for (const QString& bad : {QString(), QString("4711"), low, h1.left(h1.size() - 4),
                                   QString(h1).replace("pbkdf2-sha256", "md5")})
            QVERIFY2(!AdminPin::matches("4711", bad), qPrintable(bad));
        QVERIFY(!AdminPin::isWellFormed(low));
        QVERIFY(AdminPin::isWellFormed(h1));
        // RFC 6070-style check of the KDF itself: PBKDF2-HMAC-SHA256("password", "salt", 1) is
        // well known; here the format forbids 1 iteration, so check the stored value instead.
        QVERIFY(AdminPin::hash("12", &error).isEmpty());
        QVERIFY(error.contains("4 to 32"));
        QVERIFY(AdminPin::hash("12ab", &error).isEmpty());
        QVERIFY(error.contains("digits"));
        QVERIFY(AdminPin::hash("1234", &error, 10).isEmpty());
    }

    void pinLockout() {
        QString error;
        const QString stored = AdminPin::hash("2468", &error, AdminPin::kMinIterations);
        auto now = std::chrono::steady_clock::time_point{} + 1000h;
        AdminPin pin(stored, [&now] { return now; });
        QCOMPARE(pin.attempt("0000"), AdminPin::Result::Rejected);
        QCOMPARE(pin.attempt("0000"), AdminPin::Result::Rejected);
        QCOMPARE(pin.lockoutRemaining(), 0ms);
        QCOMPARE(pin.attempt("0000"), AdminPin::Result::Rejected); // third: 30 s lockout
        QCOMPARE(pin.lockoutRemaining(), std::chrono::milliseconds(30s));
        // While locked even the right PIN is not checked.
        QCOMPARE(pin.attempt("2468"), AdminPin::Result::LockedOut);
        QCOMPARE(pin.consecutiveFailures(), 3);
        now += 29s;
        QCOMPARE(pin.attempt("2468"), AdminPin::Result::LockedOut);
        now += 1s;
        QCOMPARE(pin.attempt("0000"), AdminPin::Result::Rejected); // fourth: 60 s
        QCOMPARE(pin.lockoutRemaining(), std::chrono::milliseconds(60s));
        now += 60s;
        QCOMPARE(pin.attempt("0000"), AdminPin::Result::Rejected); // fifth: 120 s
        QCOMPARE(pin.lockoutRemaining(), std::chrono::milliseconds(120s));
        now += 120s;
        QCOMPARE(pin.attempt("2468"), AdminPin::Result::Accepted);
        QCOMPARE(pin.consecutiveFailures(), 0);
        QCOMPARE(pin.lockoutRemaining(), 0ms);
        // The lockout is capped.
        for (int i = 0; i < 20; ++i) {
            now += AdminPin::kMaxLockout;
            QCOMPARE(pin.attempt("1111"), AdminPin::Result::Rejected);
            QVERIFY(pin.lockoutRemaining() <= std::chrono::milliseconds(AdminPin::kMaxLockout));
        }
        QCOMPARE(pin.lockoutRemaining(), std::chrono::milliseconds(AdminPin::kMaxLockout));
        AdminPin none(QString(), [&now] { return now; });
        QCOMPARE(none.attempt("1234"), AdminPin::Result::NoPin);
    }

    // --- ReconnectBackoff ---------------------------------------------------------------
    void backoffDeterministic() {
        ReconnectBackoff high(1s, 30s, [] { return 1.0; });
        QList<qint64> delays;
        for (int i = 0; i < 8; ++i)
            delays << high.nextDelay().count();
        QCOMPARE(delays, QList<qint64>({1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000}));
        ReconnectBackoff low(1s, 30s, [] { return 0.0; });
        delays.clear();
        for (int i = 0; i < 8; ++i)
            delays << low.nextDelay().count();
        QCOMPARE(delays, QList<qint64>({1000, 1000, 2000, 4000, 8000, 15000, 15000, 15000}));
        high.reset();
        QCOMPARE(high.attempts(), 0);
        QCOMPARE(high.nextDelay(), 1000ms);
    }

    void backoffBounds() {
        QRandomGenerator rng(42);
        ReconnectBackoff b(1s, 30s, [&rng] { return rng.generateDouble(); });
        qint64 step = 1000;
        for (int i = 0; i < 2000; ++i) {
            const qint64 d = b.nextDelay().count();
            QVERIFY(d >= 1000 && d <= 30000);
            QVERIFY(d <= step && d >= std::max<qint64>(1000, step / 2));
            step = std::min<qint64>(step * 2, 30000);
            if (i % 100 == 99) {
                b.reset();
                step = 1000;
            }
        }
        // Out-of-order or zero bounds are repaired; random values outside [0,1) are clamped.
        ReconnectBackoff odd(0ms, -5ms, [] { return 7.0; });
        QCOMPARE(odd.min(), 1ms);
        QCOMPARE(odd.max(), 1ms);
        QCOMPARE(odd.nextDelay(), 1ms);
        ReconnectBackoff defaults;
        QCOMPARE(defaults.min(), 1000ms);
        QCOMPARE(defaults.max(), 30000ms);
    }

    // --- KeySequenceSpec ----------------------------------------------------------------
    void keySequenceValid_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("modifiers");
        QTest::addColumn<int>("key");
        QTest::newRow("vv style") << "Ctrl+Alt+R" << int(Qt::ControlModifier | Qt::AltModifier)
                                  << int(Qt::Key_R);
        QTest::newRow("lower case") << "ctrl+alt+end" << int(Qt::ControlModifier | Qt::AltModifier)
                                    << int(Qt::Key_End);
        QTest::newRow("release") << "Shift+F12" << int(Qt::ShiftModifier) << int(Qt::Key_F12);
        QTest::newRow("mixed case") << "sHiFt+f11" << int(Qt::ShiftModifier) << int(Qt::Key_F11);
        QTest::newRow("ins") << "Ctrl+Alt+Ins" << int(Qt::ControlModifier | Qt::AltModifier)
                             << int(Qt::Key_Insert);
        QTest::newRow("stats") << "Ctrl+Alt+Shift+S"
                               << int(Qt::ControlModifier | Qt::AltModifier | Qt::ShiftModifier)
                               << int(Qt::Key_S);
        QTest::newRow("gdk name") << "Super+Page_Up" << int(Qt::MetaModifier) << int(Qt::Key_PageUp);
        QTest::newRow("plus") << "ctrl+plus" << int(Qt::ControlModifier) << int(Qt::Key_Plus);
        QTest::newRow("spaces") << " Control + Delete " << int(Qt::ControlModifier) << int(Qt::Key_Delete);
        QTest::newRow("bare key") << "F1" << 0 << int(Qt::Key_F1);
        QTest::newRow("digit") << "alt+1" << int(Qt::AltModifier) << int(Qt::Key_1);
        QTest::newRow("f35") << "F35" << 0 << int(Qt::Key_F35);
    }
    void keySequenceValid() {
        QFETCH(QString, text);
        QFETCH(int, modifiers);
        QFETCH(int, key);
        QString error;
        const auto combo = KeySequenceSpec::parse(text, &error);
        QVERIFY2(combo, qPrintable(error));
        QCOMPARE(int(combo->keyboardModifiers()), modifiers);
        QCOMPARE(int(combo->key()), key);
        const auto again = KeySequenceSpec::parse(KeySequenceSpec::toString(*combo), &error);
        QVERIFY2(again && *again == *combo, qPrintable(KeySequenceSpec::toString(*combo)));
    }

    void keySequenceErrors_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("message");
        QTest::newRow("empty") << ""
                               << "empty key sequence";
        QTest::newRow("only modifiers") << "Ctrl+Alt"
                                        << "'Ctrl+Alt' has no key, only modifiers";
        QTest::newRow("unknown key") << "Ctrl+Foo"
                                     << "unknown key 'Foo' in 'Ctrl+Foo'";
        QTest::newRow("unknown modifier") << "Hyper+A"
                                          << "unknown modifier 'Hyper' in 'Hyper+A'";
        QTest::newRow("plus sign") << "Ctrl++"
                                   << "empty name in 'Ctrl++' (write a '+' key as 'plus')";
        QTest::newRow("key first") << "A+Ctrl"
                                   << "'A' in 'A+Ctrl' is a key, but only the last name may be a key";
        QTest::newRow("two keys") << "A+B"
                                  << "'A' in 'A+B' is a key, but only the last name may be a key";
        QTest::newRow("repeated") << "Ctrl+ctrl+A"
                                  << "modifier 'ctrl' is repeated";
        QTest::newRow("f0") << "F0"
                            << "unknown key 'F0'";
        QTest::newRow("f36") << "F36"
                             << "unknown key 'F36'";
        QTest::newRow("f01") << "F01"
                             << "unknown key 'F01'";
        QTest::newRow("f space") << "F 1"
                                 << "unknown key 'F 1'";
    }
    void keySequenceErrors() {
        QFETCH(QString, text);
        QFETCH(QString, message);
        QString error;
        QVERIFY(!KeySequenceSpec::parse(text, &error));
        QVERIFY2(error.contains(message), qPrintable(error));
    }

    // --- CommandLine --------------------------------------------------------------------
    void commandLineRemoteViewerCompat() {
        const auto r =
            parseCommandLine({"saffron", "--kiosk", "--kiosk-quit", "on-disconnect", "-f",
                              "--hotkeys=toggle-fullscreen=shift+f11,release-cursor=shift+f12,zoom-in=", "-t",
                              "Front desk", "spice://desk:5900"});
        QCOMPARE(r.action, CommandLineResult::Action::Run);
        QCOMPARE(r.options.target, QString("spice://desk:5900"));
        QVERIFY(r.options.kiosk);
        QCOMPARE(r.options.kioskQuit, std::optional<KioskQuit>(KioskQuit::OnDisconnect));
        QVERIFY(r.options.fullScreen);
        QCOMPARE(r.options.title, QString("Front desk"));
        QCOMPARE(r.options.hotkeys.value("toggle-fullscreen"), QString("shift+f11"));
        QCOMPARE(r.options.hotkeys.value("release-cursor"), QString("shift+f12"));
        QVERIFY(r.options.hotkeys.contains("zoom-in"));
        QVERIFY(r.options.hotkeys.value("zoom-in").isEmpty());
        QCOMPARE(r.options.settingsRoot, QString("/"));

        // Short forms and the --opt=value spelling, as scripts use them.
        const auto s = parseCommandLine({"saffron", "-k", "--kiosk-quit=never", "--full-screen", "--title=T",
                                         "-v", "--debug", "-z", "150", "/tmp/x.vv"});
        QCOMPARE(s.action, CommandLineResult::Action::Run);
        QVERIFY(s.options.kiosk && s.options.fullScreen && s.options.verbose && s.options.debug);
        QCOMPARE(s.options.kioskQuit, std::optional<KioskQuit>(KioskQuit::Never));
        QCOMPARE(s.options.zoomPercent, std::optional<int>(150));
        QCOMPARE(s.options.target, QString("/tmp/x.vv"));

        // Qt's own options are left to QGuiApplication, whatever their spelling.
        const auto q = parseCommandLine({"saffron", "-qwindowgeometry", "1920x1080+0+0", "--platform=xcb",
                                         "-f", "-reverse", "--display", ":1", "spice://desk:5900"});
        QCOMPARE(q.action, CommandLineResult::Action::Run);
        QVERIFY(q.options.fullScreen);
        QCOMPARE(q.options.target, QString("spice://desk:5900"));

        // No target: the launcher.
        const auto l = parseCommandLine({"saffron"});
        QCOMPARE(l.action, CommandLineResult::Action::Run);
        QVERIFY(l.options.target.isEmpty());
        QCOMPARE(l.options.demoScreenshots, QString("demo-shots"));
        QCOMPARE(l.options.demoType, QString("uname -a\n"));
        QVERIFY(!l.options.engine.lipSync);
    }

    void commandLineSaffronOptions() {
        const auto r = parseCommandLine({"saffron",
                                         "--settings-root",
                                         "/tmp/root",
                                         "--image-compression",
                                         "lz4",
                                         "--video-codecs",
                                         "h264,vp9",
                                         "--video-decoder",
                                         "h264=avdec_h264",
                                         "--lip-sync",
                                         "--demo-screenshots",
                                         "shots",
                                         "--demo-type",
                                         "ls\n",
                                         "--hotkeys",
                                         "toggle-menu=ctrl+alt+m,stats-overlay=ctrl+alt+shift+s",
                                         "--audio-output",
                                         "headset-sink",
                                         "--audio-input",
                                         "headset-mic"});
        QCOMPARE(r.action, CommandLineResult::Action::Run);
        QCOMPARE(r.options.settingsRoot, QString("/tmp/root"));
        QVERIFY(r.options.engine.imageCompression.has_value());
        QCOMPARE(r.options.engine.videoCodecs, QStringList({"h264", "vp9"}));
        QCOMPARE(r.options.engine.videoDecoders, QString("h264=avdec_h264"));
        QVERIFY(r.options.engine.lipSync);
        QCOMPARE(r.options.engine.audioOutput, QString("headset-sink"));
        QCOMPARE(r.options.engine.audioInput, QString("headset-mic"));
        SessionOptions fromSettings;
        fromSettings.audioOutput = QStringLiteral("settings-sink"); // what main() puts first
        r.options.engine.applyTo(fromSettings);
        QCOMPARE(fromSettings.audioOutput, QString("headset-sink")); // the command line wins
        QCOMPARE(fromSettings.audioInput, QString("headset-mic"));
        QCOMPARE(r.options.demoType, QString("ls\n"));
        QCOMPARE(r.options.hotkeys.value("toggle-menu"), QString("ctrl+alt+m"));

        QCOMPARE(parseCommandLine({"saffron", "--help"}).action, CommandLineResult::Action::ShowHelp);
        QVERIFY(parseCommandLine({"saffron", "--help"}).text.contains("--kiosk-quit"));
        QCOMPARE(parseCommandLine({"saffron", "-V"}).action, CommandLineResult::Action::ShowVersion);
    }

    void commandLineErrors_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown action")
            << QStringList{"saffron", "--hotkeys=fly=ctrl+f"}
            << "--hotkeys: unknown hotkey action 'fly' (valid: toggle-fullscreen, "
               "release-cursor";
        QTest::newRow("bad key") << QStringList{"saffron", "--hotkeys=release-cursor=ctrl+banana"}
                                 << "--hotkeys: hotkey release-cursor: unknown key 'banana' in 'ctrl+banana'";
        QTest::newRow("no equals") << QStringList{"saffron", "--hotkeys=release-cursor"}
                                   << "hotkey 'release-cursor' is not action=key";
        QTest::newRow("twice") << QStringList{"saffron", "--hotkeys=zoom-in=f1,zoom-in=f2"} << "given twice";
        QTest::newRow("kiosk-quit") << QStringList{"saffron", "--kiosk-quit=sometimes"}
                                    << "--kiosk-quit: 'sometimes' is not never or on-disconnect";
        QTest::newRow("unknown option") << QStringList{"saffron", "--fly"} << "Unknown option 'fly'";
        QTest::newRow("two targets") << QStringList{"saffron", "a.vv", "b.vv"} << "more than one target";
        QTest::newRow("compression") << QStringList{"saffron", "--image-compression=zip"}
                                     << "unknown compression 'zip'";
        QTest::newRow("zoom") << QStringList{"saffron", "-z", "5000"} << "--zoom: '5000'";
        QTest::newRow("missing value")
            << QStringList{"saffron", "--title"} << "Missing value after '--title'";
    }
    void commandLineErrors() {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        const auto r = parseCommandLine(args);
        QCOMPARE(r.action, CommandLineResult::Action::Error);
        QVERIFY2(r.text.contains(message), qPrintable(r.text));
    }

    // A Proxmox VE download (tls-port, ca, host-subject, password, proxy, delete-this-file,
    // hotkeys) given on the command line: parsed, merged with the command line and settings,
    // and deleted only once read.
    void proxmoxVvFromCommandLine() {
        QTemporaryDir dir;
        const QString vv = dir.filePath("pve-spice.vv");
        QVERIFY(QFile::copy(SAFFRON_SHELL_TESTDATA "/proxmox.vv", vv));
        const auto cl =
            parseCommandLine({"saffron", "--hotkeys=release-cursor=shift+f12,toggle-menu=ctrl+alt+m", vv});
        QCOMPARE(cl.action, CommandLineResult::Action::Run);
        QVERIFY(QFile::exists(vv)); // parsing the command line reads nothing

        QString error;
        const auto target = loadConnectionTarget(cl.options.target, &error);
        QVERIFY2(target, qPrintable(error));
        QVERIFY(!QFile::exists(vv)); // delete-this-file=1, after a successful read
        const ConnectionSpec& spec = target->spec;
        QCOMPARE(spec.tlsPort, quint16(61000));
        QCOMPARE(spec.port, quint16(0));
        QCOMPARE(spec.proxy.toString(), QString("http://192.0.2.10:3128"));
        QCOMPARE(spec.hostSubject,
                 QString("OU=PVE Cluster Node,O=Proxmox Virtual Environment,CN=pve1.example.com"));
        QCOMPARE(spec.password, QString("0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"));
        QVERIFY(spec.host.startsWith("pvespiceproxy:"));
        QCOMPARE(target->options.caCertificates.size(), 1);
        QCOMPARE(target->options.password, QByteArray("0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"));

        QTemporaryDir root;
        qputenv("XDG_CONFIG_HOME", root.filePath("user").toUtf8());
        ShellSettings settings(root.path());
        const Presentation p = mergePresentation(settings.hotkeys(), spec, cl.options);
        QVERIFY(p.warnings.isEmpty());
        QCOMPARE(p.hotkeys.value("release-cursor"), QString("shift+f12"));    // command line beats the file
        QCOMPARE(p.hotkeys.value("toggle-fullscreen"), QString("Shift+F11")); // from the file
        QCOMPARE(p.hotkeys.value("secure-attention"), QString("Ctrl+Alt+Ins"));
        QCOMPARE(p.hotkeys.value("toggle-menu"), QString("ctrl+alt+m"));
        QCOMPARE(p.hotkeys.value("stats-overlay"), QString("Ctrl+Alt+Shift+S")); // settings default
        QCOMPARE(p.title, QString("VM 100 - debian"));
        QVERIFY(!p.fullScreen);
        CommandLineOptions withTitle = cl.options;
        withTitle.title = "Mine";
        withTitle.fullScreen = true;
        const Presentation q = mergePresentation(settings.hotkeys(), spec, withTitle);
        QCOMPARE(q.title, QString("Mine"));
        QVERIFY(q.fullScreen);
        // A file's full screen cannot be turned off by the absence of -f.
        ConnectionSpec fs = spec;
        fs.fullscreen = true;
        QVERIFY(mergePresentation({}, fs, cl.options).fullScreen);
        // An unparseable file hotkey is dropped with a warning.
        fs.hotkeys.insert("zoom-in", "Ctrl+Nope");
        const Presentation w = mergePresentation({}, fs, cl.options);
        QVERIFY(!w.hotkeys.contains("zoom-in"));
        QCOMPARE(w.warnings.size(), 1);
    }

    void brokenVvIsKept() {
        QTemporaryDir dir;
        const QString vv = dir.filePath("broken.vv");
        writeFile(
            vv,
            "[virt-viewer]\ntype=spice\nhost=h\ntls-port=5901\npassword=x\ndelete-this-file=1\nbogus=1\n");
        QString error;
        QVERIFY(!loadConnectionTarget(vv, &error));
        QVERIFY2(error.contains("line 7: unknown key 'bogus'"), qPrintable(error));
        QVERIFY(QFile::exists(vv)); // kept so the user can look at it
    }

    // --- JournalLog ---------------------------------------------------------------------
    void journalNeverLogsPasswords() {
        const QString password = "S3cr3t-ticket-9f8e7d";
        ConnectionSpec spec;
        spec.host = "desk.example.com";
        spec.tlsPort = 5901;
        spec.password = password;
        spec.proxy = QUrl("http://user:proxypass@proxy:3128");

        QList<LogRecord> records;
        JournalLog::setSinkForTesting([&](const LogRecord& r) { records << r; });
        JournalLog::install();
        qWarning() << "connecting to" << spec;
        qInfo().noquote() << spec.describe();
        // A secret that slips into free text (an error string from a lower layer) is caught
        // once registered.
        JournalLog::addSecret(password);
        JournalLog::addSecret("proxypass");
        qCritical("auth failed for ticket %s via %s", qPrintable(password),
                  "http://user:proxypass@proxy:3128");
        {
            const JournalLog::Scope scope("office " + password, "main", "auth-failed");
            qWarning() << "retrying";
        }
        JournalLog::uninstall();
        JournalLog::setSinkForTesting({});
        JournalLog::clearSecrets();

        QCOMPARE(records.size(), 4);
        for (const LogRecord& r : records) {
            QVERIFY2(!r.message.contains(password), qPrintable(r.message));
            QVERIFY2(!r.message.contains("proxypass"), qPrintable(r.message));
            QVERIFY(!r.connection.contains(password));
            for (const QByteArray& f : r.journalFields())
                QVERIFY2(!f.contains(password.toUtf8()), f.constData());
            QVERIFY(!r.stderrLine().contains(password));
        }
        QVERIFY(records[0].message.contains("desk.example.com"));
        QVERIFY2(records[2].message.contains("auth failed for ticket ***"), qPrintable(records[2].message));
        QCOMPARE(records[2].priority, 3);
        QCOMPARE(records[3].connection, QString("office ***"));
    }

    void journalFieldsAndScopes() {
        QList<LogRecord> records;
        JournalLog::setSinkForTesting([&](const LogRecord& r) { records << r; });
        JournalLog::install();
        {
            const JournalLog::Scope outer("office");
            qDebug("outer");
            {
                const JournalLog::Scope inner(QString(), "display", "stream-decode-failed");
                qInfo("inner");
            }
            qWarning("after");
        }
        qWarning("none");
        JournalLog::uninstall();
        JournalLog::setSinkForTesting({});
        QCOMPARE(records.size(), 4);
        QCOMPARE(records[0].connection, QString("office"));
        QVERIFY(records[0].channel.isEmpty());
        QCOMPARE(records[0].priority, 7);
        QCOMPARE(records[1].connection, QString("office"));
        QCOMPARE(records[1].channel, QString("display"));
        QCOMPARE(records[1].error, QString("stream-decode-failed"));
        QCOMPARE(records[1].priority, 6);
        QVERIFY(records[2].channel.isEmpty());
        QVERIFY(records[2].error.isEmpty());
        QVERIFY(records[3].connection.isEmpty());

        const QList<QByteArray> fields = records[1].journalFields();
        QVERIFY(fields.contains("MESSAGE=inner"));
        QVERIFY(fields.contains("PRIORITY=6"));
        QVERIFY(fields.contains("SAFFRON_CONNECTION=office"));
        QVERIFY(fields.contains("SAFFRON_CHANNEL=display"));
        QVERIFY(fields.contains("SAFFRON_ERROR=stream-decode-failed"));
#ifdef QT_MESSAGELOGCONTEXT
        QVERIFY(std::any_of(fields.begin(), fields.end(), [](const QByteArray& f) {
            return f.startsWith("CODE_FILE=") && f.endsWith("test_shell_appliance.cpp");
        }));
        QVERIFY(std::any_of(fields.begin(), fields.end(),
                            [](const QByteArray& f) { return f.startsWith("CODE_LINE="); }));
        QVERIFY(std::any_of(fields.begin(), fields.end(),
                            [](const QByteArray& f) { return f.startsWith("CODE_FUNC="); }));
#endif
        QCOMPARE(records[1].stderrLine(),
                 QString("saffron[office/display]: info: inner (error: stream-decode-failed)"));
        QCOMPARE(records[3].stderrLine(), QString("saffron: warning: none"));
        QCOMPARE(JournalLog::priorityFor(QtFatalMsg), 2);
    }

    void updateStatusParse() {
        const UpdateStatus s =
            UpdateStatus::parse("state=installing\nversion=0.1.0.202611270900\nmessage=\n");
        QCOMPARE(s.state, QStringLiteral("installing"));
        QCOMPARE(s.version, QStringLiteral("0.1.0.202611270900"));
        QCOMPARE(UpdateStatus::parse("state=refused\nmessage=bundle signature: unknown CA\n").message,
                 QStringLiteral("bundle signature: unknown CA"));
        // Unknown states, garbage and an empty file read as idle, with nothing else kept.
        QCOMPARE(UpdateStatus::parse("state=rm -rf\nversion=1\n"), UpdateStatus{});
        QCOMPARE(UpdateStatus::parse(QByteArray("\0\xff=\n==\n", 7)), UpdateStatus{});
        QCOMPARE(UpdateStatus::parse(""), UpdateStatus{});
        // A field is cut to a banner's length.
        QCOMPARE(UpdateStatus::parse("state=refused\nmessage=" + QByteArray(5000, 'x')).message.size(), 300);
    }

    void updateStatusWatcherFollowsRenames() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("status"));
        // The updater's way of writing: a temporary file renamed over the old one.
        const auto write = [&](const QByteArray& content) {
            writeFile(path + QStringLiteral(".tmp"), content);
            QVERIFY(::rename(QFile::encodeName(path + QStringLiteral(".tmp")).constData(),
                             QFile::encodeName(path).constData()) == 0);
        };
        UpdateStatusWatcher w(path);
        w.setRefusedShownMs(300);
        QCOMPARE(w.state(), QStringLiteral("idle"));
        QSignalSpy changed(&w, &UpdateStatusWatcher::changed);
        write("state=installing\nversion=2.0\n");
        QVERIFY(changed.wait(5000));
        QCOMPARE(w.state(), QStringLiteral("installing"));
        QCOMPARE(w.version(), QStringLiteral("2.0"));
        write("state=installed\nversion=2.0\n");
        QVERIFY(QTest::qWaitFor([&] { return w.state() == QStringLiteral("installed"); }, 5000));
        QVERIFY(QFile::remove(path));
        QVERIFY(QTest::qWaitFor([&] { return w.state() == QStringLiteral("idle"); }, 5000));
        // A refusal is shown for a while, then the banner goes although the file stays.
        write("state=refused\nmessage=not signed by this device's key\n");
        QVERIFY(QTest::qWaitFor([&] { return w.state() == QStringLiteral("refused"); }, 5000));
        QCOMPARE(w.message(), QStringLiteral("not signed by this device's key"));
        QVERIFY(QTest::qWaitFor([&] { return w.state() == QStringLiteral("idle"); }, 5000));
        QVERIFY(QFile::exists(path));
        // A file already there when the shell starts is shown at once.
        write("state=installing\nversion=3.0\n");
        UpdateStatusWatcher late(path);
        QCOMPARE(late.state(), QStringLiteral("installing"));
        // No folder (a PC install): idle, nothing watched.
        UpdateStatusWatcher none(dir.filePath(QStringLiteral("missing/status")));
        QCOMPARE(none.state(), QStringLiteral("idle"));
    }

    void journalStreamDetection() {
        const QByteArray saved = qgetenv("JOURNAL_STREAM");
        qunsetenv("JOURNAL_STREAM");
        QVERIFY(!JournalLog::stderrIsJournal());
        struct stat st {};
        QCOMPARE(::fstat(STDERR_FILENO, &st), 0);
        qputenv("JOURNAL_STREAM",
                QByteArray::number(qulonglong(st.st_dev)) + ':' + QByteArray::number(qulonglong(st.st_ino)));
        QVERIFY(JournalLog::stderrIsJournal());
        // Inherited from a parent whose stream was not ours: a different inode.
        qputenv("JOURNAL_STREAM", QByteArray::number(qulonglong(st.st_dev)) + ':' +
                                      QByteArray::number(qulonglong(st.st_ino) + 1));
        QVERIFY(!JournalLog::stderrIsJournal());
        qputenv("JOURNAL_STREAM", "garbage");
        QVERIFY(!JournalLog::stderrIsJournal());
        if (saved.isEmpty())
            qunsetenv("JOURNAL_STREAM");
        else
            qputenv("JOURNAL_STREAM", saved);
    }

    // The session bus is never autolaunched (a fork from the GUI thread): without an address the
    // user bus's standard socket is named, escaped as D-Bus addresses are, /run/user/UID's where
    // there is no absolute runtime dir; a given address is left alone.
    void sessionBusAddressPinned() {
        const auto saved = [](const char* name) {
            return std::pair{name,
                             qEnvironmentVariableIsSet(name) ? std::optional(qgetenv(name)) : std::nullopt};
        };
        const std::array env{saved("DBUS_SESSION_BUS_ADDRESS"), saved("XDG_RUNTIME_DIR")};
        const auto restore = qScopeGuard([&] {
            for (const auto& [name, value] : env)
                value ? qputenv(name, *value) : qunsetenv(name);
        });
        qunsetenv("DBUS_SESSION_BUS_ADDRESS");
        qputenv("XDG_RUNTIME_DIR", "/run/user/1000");
        QVERIFY(pinSessionBusAddress());
        QCOMPARE(qgetenv("DBUS_SESSION_BUS_ADDRESS"), QByteArray("unix:path=/run/user/1000/bus"));
        QVERIFY(!pinSessionBusAddress()); // set now: kept
        QCOMPARE(qgetenv("DBUS_SESSION_BUS_ADDRESS"), QByteArray("unix:path=/run/user/1000/bus"));

        qunsetenv("DBUS_SESSION_BUS_ADDRESS");
        qputenv("XDG_RUNTIME_DIR", "/tmp/a b,c=d;%");
        QVERIFY(pinSessionBusAddress());
        QCOMPARE(qgetenv("DBUS_SESSION_BUS_ADDRESS"), QByteArray("unix:path=/tmp/a%20b%2cc%3dd%3b%25/bus"));

        qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/somewhere/else");
        QVERIFY(!pinSessionBusAddress());
        QCOMPARE(qgetenv("DBUS_SESSION_BUS_ADDRESS"), QByteArray("unix:path=/somewhere/else"));

        // No login session's runtime dir: the standard one of this user, not autolaunch.
        const QByteArray standard =
            "unix:path=/run/user/" + QByteArray::number(qulonglong(::getuid())) + "/bus";
        for (const char* runtime : {"", "relative/dir"}) {
            qunsetenv("DBUS_SESSION_BUS_ADDRESS");
            qputenv("XDG_RUNTIME_DIR", runtime);
            QVERIFY(pinSessionBusAddress());
            QCOMPARE(qgetenv("DBUS_SESSION_BUS_ADDRESS"), standard);
        }
        qunsetenv("DBUS_SESSION_BUS_ADDRESS");
        qunsetenv("XDG_RUNTIME_DIR");
        QVERIFY(pinSessionBusAddress());
        QCOMPARE(qgetenv("DBUS_SESSION_BUS_ADDRESS"), standard);
    }
};

QTEST_GUILESS_MAIN(TestShellAppliance)
#include "test_shell_appliance.moc"
