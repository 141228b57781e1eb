// Unit tests of usb/core without devices: spice-gtk filter strings (parsed and checked by
// usbredirparser's usbredirfilter), the readable policy and its decisions, usb.ids parsing of good
// and malformed files, and string descriptor decoding.
#include "UsbTestDevices.h"
#include "core/UsbFilter.h"
#include "core/UsbIds.h"
#include "core/UsbPolicy.h"

#include <QTemporaryDir>
#include <QTest>
#include <array>

using namespace saffron;
using saffron::test::headset;
using saffron::test::hidKeyboard;
using saffron::test::usbStick;

class TestUsbUnits : public QObject {
    Q_OBJECT

private slots:
    void filterParsesSpiceGtkDefault();
    void filterAcceptsWhatUsbredirAccepts();
    void filterErrorsAreClear_data();
    void filterErrorsAreClear();
    void filterClassifiesClassZeroByInterfaces();
    void policyDefaultRedirectsNothingAutomatically();
    void policyDenyAlwaysWins();
    void policyHidInputNeverAutoRedirected();
    void policyAllowListAndPorts();
    void policyAutoVerbs();
    void policyFilterSettings();
    void policyErrorsAreClear_data();
    void policyErrorsAreClear();
    void policyLoadFile();
    void policyReadmeExampleParses();
    void globMatching();
    void usbIdsParsesNamesAndClasses();
    void usbIdsSurvivesMalformedInput();
    void usbIdsFromFile();
    void stringDescriptorDecoding();
};

void TestUsbUnits::filterParsesSpiceGtkDefault() {
    QString error;
    const auto filter = UsbFilter::parse(QStringLiteral("0x03,-1,-1,-1,0|-1,-1,-1,-1,1"), &error);
    QVERIFY2(filter, qPrintable(error));
    QCOMPARE(filter->rules().size(), std::size_t(2));
    QCOMPARE(filter->rules()[0], (UsbFilter::Rule{3, -1, -1, -1, false}));
    QCOMPARE(filter->rules()[1], (UsbFilter::Rule{-1, -1, -1, -1, true}));
    QCOMPARE(filter->toString(), QStringLiteral("0x03,-1,-1,-1,0|-1,-1,-1,-1,1"));
}

void TestUsbUnits::filterAcceptsWhatUsbredirAccepts() {
    // Decimal (1921 = 0x0781, 21863 = 0x5567), empty rules, a trailing separator.
    auto filter = UsbFilter::parse(QStringLiteral("||8,1921,21863,-1,1|"));
    QVERIFY(filter);
    QCOMPARE(filter->rules().size(), std::size_t(1));
    QCOMPARE(filter->rules()[0], (UsbFilter::Rule{8, 0x0781, 0x5567, -1, true}));
    // An empty filter is valid and has no rules.
    filter = UsbFilter::parse(QString());
    QVERIFY(filter && filter->isEmpty());
    filter = UsbFilter::parse(QStringLiteral("|||"));
    QVERIFY(filter && filter->isEmpty());
    // strtok semantics: repeated field separators collapse, as in usbredirfilter.
    filter = UsbFilter::parse(QStringLiteral("0x08,,-1,-1,-1,1"));
    QVERIFY(filter);
    QCOMPARE(filter->rules()[0].deviceClass, 8);
}

void TestUsbUnits::filterErrorsAreClear_data() {
    QTest::addColumn<QString>("filter");
    QTest::addColumn<QString>("message");
    QTest::newRow("four fields") << "0x03,-1,-1,-1"
                                 << "rule 1 (\"0x03,-1,-1,-1\"): expected 5 fields";
    QTest::newRow("six fields") << "-1,-1,-1,-1,1,1"
                                << "expected 5 fields";
    QTest::newRow("not a number") << "-1,-1,-1,-1,1|0x3g,-1,-1,-1,1"
                                  << "rule 2 (\"0x3g,-1,-1,-1,1\"): class \"0x3g\" is not a number";
    QTest::newRow("octal with 8") << "-1,0781,-1,-1,1"
                                  << "vendor \"0781\" is not a number";
    QTest::newRow("class out of range") << "256,-1,-1,-1,1"
                                        << "class 256 is out of range";
    QTest::newRow("vendor out of range") << "-1,70000,-1,-1,1"
                                         << "vendor 70000 is out of range";
    QTest::newRow("below -1") << "-1,-1,-2,-1,1"
                              << "product -2 is out of range";
    // strtol would store 2^32 + 1 into an int as 1: refused rather than silently read as class 1.
    QTest::newRow("int truncation") << "4294967297,-1,-1,-1,1"
                                    << "class 4294967297 is out of range";
    QTest::newRow("trailing space") << "3 ,-1,-1,-1,1"
                                    << "class \"3 \" is not a number";
}

void TestUsbUnits::filterErrorsAreClear() {
    QFETCH(QString, filter);
    QFETCH(QString, message);
    QString error;
    QVERIFY(!UsbFilter::parse(filter, &error));
    QVERIFY2(error.contains(message), qPrintable(error));
}

void TestUsbUnits::filterClassifiesClassZeroByInterfaces() {
    // spice-gtk's default auto-connect filter: no HID, everything else.
    const auto noHid = UsbFilter::parse(QStringLiteral("0x03,-1,-1,-1,0|-1,-1,-1,-1,1"));
    QVERIFY(noHid);
    // The keyboard has device class 0: usbredirfilter skips the device pass and matches its
    // interface class 3.
    QCOMPARE(noHid->check(hidKeyboard()), UsbFilter::Result::Blocked);
    QCOMPARE(noHid->check(usbStick()), UsbFilter::Result::Allowed);
    // The headset's non-boot HID interface (volume buttons) beside audio is skipped.
    QCOMPARE(noHid->check(headset()), UsbFilter::Result::Allowed);

    const auto storageOnly = UsbFilter::parse(QStringLiteral("0x08,-1,-1,-1,1"));
    QVERIFY(storageOnly);
    QCOMPARE(storageOnly->check(usbStick()), UsbFilter::Result::Allowed);
    QCOMPARE(storageOnly->check(hidKeyboard()), UsbFilter::Result::NoMatch);

    // Vendor/product/version (bcdDevice) fields.
    const auto exact = UsbFilter::parse(QStringLiteral("-1,0x0781,0x5567,0x0100,1"));
    QCOMPARE(exact->check(usbStick()), UsbFilter::Result::Allowed);
    const auto otherVersion = UsbFilter::parse(QStringLiteral("-1,0x0781,0x5567,0x0200,1"));
    QCOMPARE(otherVersion->check(usbStick()), UsbFilter::Result::NoMatch);
}

void TestUsbUnits::policyDefaultRedirectsNothingAutomatically() {
    const UsbPolicy policy;
    for (const auto& device : {usbStick(), hidKeyboard(), headset()}) {
        const auto d = policy.decide(device);
        QVERIFY(d.mayRedirect);
        QVERIFY(!d.autoRedirect);
        QVERIFY(!d.redirectOnConnect);
        QVERIFY(!d.reason.isEmpty());
    }
}

void TestUsbUnits::policyDenyAlwaysWins() {
    QString error;
    const auto policy = UsbPolicy::parse(QStringLiteral("allow vendor=046d\n"
                                                        "deny class=hid\n"
                                                        "auto all\n"
                                                        "redirect-filter = -1,-1,-1,-1,1\n"),
                                         &error);
    QVERIFY2(policy, qPrintable(error));
    auto d = policy->decide(hidKeyboard());
    QVERIFY(!d.mayRedirect);
    QVERIFY(!d.autoRedirect && !d.redirectOnConnect);
    QCOMPARE(d.reason, QStringLiteral("denied by policy line 2 (deny class=hid)"));
    // The headset is class 1 with an HID interface: a deny of a class it has denies it.
    d = policy->decide(headset());
    QVERIFY(!d.mayRedirect);
    // Not denied, but the allow list does not name it.
    d = policy->decide(usbStick());
    QVERIFY(!d.mayRedirect);
    QCOMPARE(d.reason, QStringLiteral("not matched by any allow rule of the policy"));
}

void TestUsbUnits::policyHidInputNeverAutoRedirected() {
    const auto policy = UsbPolicy::parse(QStringLiteral("auto all\n"
                                                        "auto-filter = -1,-1,-1,-1,1\n"
                                                        "connect-filter = -1,-1,-1,-1,1"));
    QVERIFY(policy);
    auto d = policy->decide(hidKeyboard());
    QVERIFY(d.mayRedirect);
    QVERIFY(!d.autoRedirect);
    QVERIFY(!d.redirectOnConnect);
    QVERIFY2(d.reason.contains(QStringLiteral("HID keyboard or mouse")), qPrintable(d.reason));
    // A boot mouse with device class 3 is protected too.
    UsbDeviceInfo mouse;
    mouse.deviceClass = 3;
    mouse.deviceSubclass = 1;
    mouse.deviceProtocol = 2;
    QVERIFY(mouse.isHidInputDevice());
    QVERIFY(!policy->decide(mouse).autoRedirect);
    // The headset's HID interface is not a keyboard or mouse.
    QVERIFY(!headset().isHidInputDevice());
    QVERIFY(policy->decide(headset()).autoRedirect);
    d = policy->decide(usbStick());
    QVERIFY(d.mayRedirect && d.autoRedirect && d.redirectOnConnect);
    QVERIFY2(d.reason.contains(QStringLiteral("policy line 1 (auto all)")), qPrintable(d.reason));
}

void TestUsbUnits::policyAllowListAndPorts() {
    const auto policy = UsbPolicy::parse(QStringLiteral("[usb]\n"
                                                        "; only the front ports\n"
                                                        "allow port=1-1.*   # hub in port 1\n"
                                                        "allow vendor=0x046D product=* bus=2\n"));
    QVERIFY(policy);
    QVERIFY(policy->decide(usbStick(QStringLiteral("1-1.2"))).mayRedirect);
    QVERIFY(policy->decide(usbStick(QStringLiteral("1-1.4.1"))).mayRedirect);
    QVERIFY(!policy->decide(usbStick(QStringLiteral("1-1"))).mayRedirect);
    QVERIFY(!policy->decide(usbStick(QStringLiteral("1-2"))).mayRedirect);
    QVERIFY(!policy->decide(hidKeyboard()).mayRedirect); // bus 1
    QVERIFY(policy->decide(headset()).mayRedirect);      // 046d on bus 2
    // A device whose port path libusb does not know never matches a port rule.
    UsbDeviceInfo unknownPort = usbStick();
    unknownPort.portPath.clear();
    QVERIFY(!policy->decide(unknownPort).mayRedirect);

    const auto version = UsbPolicy::parse(QStringLiteral("deny vendor=0781 version=0100"));
    QVERIFY(!version->decide(usbStick()).mayRedirect);
    const auto otherVersion = UsbPolicy::parse(QStringLiteral("deny vendor=0781 version=0200"));
    QVERIFY(otherVersion->decide(usbStick()).mayRedirect);
}

void TestUsbUnits::policyAutoVerbs() {
    const auto policy = UsbPolicy::parse(QStringLiteral("auto-plug class=storage\n"
                                                        "auto-connect class=audio\n"
                                                        "noauto port=1-1.4*\n"));
    QVERIFY(policy);
    auto d = policy->decide(usbStick());
    QVERIFY(d.autoRedirect && !d.redirectOnConnect);
    d = policy->decide(headset());
    QVERIFY(!d.autoRedirect && d.redirectOnConnect);
    d = policy->decide(usbStick(QStringLiteral("1-1.4")));
    QVERIFY(d.mayRedirect && !d.autoRedirect);
    QVERIFY2(d.reason.contains(QStringLiteral("never automatically (policy line 3")), qPrintable(d.reason));
}

void TestUsbUnits::policyFilterSettings() {
    QString error;
    const auto policy = UsbPolicy::parse(QStringLiteral("redirect-filter = 0x03,-1,-1,-1,0|-1,-1,-1,-1,1\n"
                                                        "auto-filter=-1,0x0781,-1,-1,1\n"
                                                        "connect-filter = 0x08,-1,-1,-1,1\n"),
                                         &error);
    QVERIFY2(policy, qPrintable(error));
    auto d = policy->decide(hidKeyboard());
    QVERIFY(!d.mayRedirect);
    QVERIFY2(d.reason.startsWith(QStringLiteral("blocked by the redirect filter")), qPrintable(d.reason));
    d = policy->decide(usbStick());
    QVERIFY(d.mayRedirect && d.autoRedirect && d.redirectOnConnect);
    d = policy->decide(headset());
    QVERIFY(d.mayRedirect && !d.autoRedirect && !d.redirectOnConnect);

    // A filter that matches nothing: "no rule allows it".
    UsbPolicy strict;
    strict.setRedirectFilter(*UsbFilter::parse(QStringLiteral("0x08,-1,-1,-1,1")));
    d = strict.decide(hidKeyboard());
    QVERIFY(!d.mayRedirect);
    QVERIFY2(d.reason.startsWith(QStringLiteral("no rule of the redirect filter allows it")),
             qPrintable(d.reason));
}

void TestUsbUnits::policyErrorsAreClear_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("message");
    QTest::newRow("no condition") << "# header\ndeny"
                                  << "line 2: 'deny' needs at least one condition";
    QTest::newRow("unknown verb") << "permit all"
                                  << "line 1: unknown rule 'permit'";
    QTest::newRow("bad vendor") << "allow vendor=xyz"
                                << "line 1: vendor 'xyz' is not a hex number";
    QTest::newRow("long vendor") << "allow vendor=12345"
                                 << "vendor '12345' is not a hex number";
    QTest::newRow("bad class") << "deny class=keyboards"
                               << "unknown class 'keyboards'";
    QTest::newRow("bad key") << "allow colour=red"
                             << "unknown condition 'colour'";
    QTest::newRow("no value") << "allow vendor="
                              << "'vendor=' has no value";
    QTest::newRow("bare word") << "allow usbstick"
                               << "'usbstick' is not a key=value condition";
    QTest::newRow("bad port") << "allow port=usb1"
                              << "port 'usb1' is not a port path";
    QTest::newRow("bad bus") << "allow bus=300"
                             << "bus '300' is not a bus number";
    QTest::newRow("bad filter") << "\nauto-filter = 0x03,-1,-1,1"
                                << "line 2: auto-filter: rule 1 (\"0x03,-1,-1,1\"): expected 5 fields";
    QTest::newRow("unknown setting") << "redirect_filter = -1,-1,-1,-1,1"
                                     << "unknown setting 'redirect_filter'";
}

void TestUsbUnits::policyErrorsAreClear() {
    QFETCH(QString, text);
    QFETCH(QString, message);
    QString error;
    QVERIFY(!UsbPolicy::parse(text, &error));
    QVERIFY2(error.contains(message), qPrintable(error));
}

void TestUsbUnits::policyLoadFile() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("usb-policy.ini"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("deny class=hid\r\nauto class=storage\r\n");
    file.close();
    QString error;
    const auto policy = UsbPolicy::load(path, &error);
    QVERIFY2(policy, qPrintable(error));
    QCOMPARE(policy->rules().size(), std::size_t(2));
    QVERIFY(policy->decide(usbStick()).autoRedirect);
    QVERIFY(!UsbPolicy::load(dir.filePath(QStringLiteral("missing.ini")), &error));
    QVERIFY2(error.contains(QStringLiteral("missing.ini: cannot read USB policy")), qPrintable(error));
}

void TestUsbUnits::policyReadmeExampleParses() {
    // The example in usb/core/README.md is what administrators copy: it must stay valid.
    QFile readme(QStringLiteral(USB_CORE_README));
    QVERIFY(readme.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(readme.readAll());
    const qsizetype start = text.indexOf(QStringLiteral("```ini\n"));
    QVERIFY(start >= 0);
    const qsizetype end = text.indexOf(QStringLiteral("```"), start + 7);
    QVERIFY(end > start);
    QString error;
    const auto policy = UsbPolicy::parse(text.mid(start + 7, end - start - 7), &error);
    QVERIFY2(policy, qPrintable(error));
    QCOMPARE(policy->rules().size(), std::size_t(7));
    QCOMPARE(policy->redirectFilter().rules().size(), std::size_t(2));
    QVERIFY(!policy->decide(hidKeyboard()).mayRedirect);
    const auto stick = policy->decide(usbStick());
    QVERIFY(stick.mayRedirect && stick.autoRedirect && stick.redirectOnConnect);
}

void TestUsbUnits::globMatching() {
    QVERIFY(UsbPolicy::globMatch(u"1-2.*", u"1-2.3"));
    QVERIFY(UsbPolicy::globMatch(u"1-2.*", u"1-2.3.4"));
    QVERIFY(!UsbPolicy::globMatch(u"1-2.*", u"1-2"));
    QVERIFY(!UsbPolicy::globMatch(u"1-2.*", u"1-23"));
    QVERIFY(UsbPolicy::globMatch(u"1-?", u"1-7"));
    QVERIFY(UsbPolicy::globMatch(u"*", u""));
    QVERIFY(UsbPolicy::globMatch(u"*.3", u"2-1.3"));
    QVERIFY(!UsbPolicy::globMatch(u"*.3", u"2-1.4"));
    QVERIFY(UsbPolicy::globMatch(u"1-*.*.1", u"1-2.3.4.1"));
    QVERIFY(!UsbPolicy::globMatch(u"1-2", u"1-2.1"));
}

namespace {

const char kIdsSample[] = "#\n"
                          "# List of USB ID's\n"
                          "# Syntax: vendor  vendor_name\n"
                          "0001  Fry's Electronics\n"
                          "\t7778  Counterfeit flash drive [Kingston]\n"
                          "046d  Logitech, Inc.\n"
                          "\t0a44  Headset H390\n"
                          "\tc31c  Keyboard K120\n"
                          "\t\t00  Keyboard interface\n"
                          "0781  SanDisk Corp.\r\n"
                          "\t5567  Cruzer Blade\r\n"
                          "\n"
                          "# List of known device classes, subclasses and protocols\n"
                          "C 03  Human Interface Device\n"
                          "\t01  Boot Interface Subclass\n"
                          "\t\t01  Keyboard\n"
                          "C 08  Mass Storage\n"
                          "AT 0409  English - United States\n"
                          "HID 22  Report\n"
                          "\t1234  not a product of anything\n";

} // namespace

void TestUsbUnits::usbIdsParsesNamesAndClasses() {
    const auto db = UsbIds::parse(QByteArrayView(kIdsSample));
    QCOMPARE(db.vendors.size(), 3);
    QCOMPARE(db.vendors.value(0x046d).name, QStringLiteral("Logitech, Inc."));
    QCOMPARE(db.vendors.value(0x046d).products.value(0xc31c), QStringLiteral("Keyboard K120"));
    QCOMPARE(db.vendors.value(0x046d).products.size(), 2);
    QCOMPARE(db.vendors.value(0x0781).name, QStringLiteral("SanDisk Corp."));
    QCOMPARE(db.vendors.value(0x0781).products.value(0x5567), QStringLiteral("Cruzer Blade"));
    QCOMPARE(db.vendors.value(0x0001).name, QStringLiteral("Fry's Electronics"));
    QCOMPARE(db.classes.value(0x03), QStringLiteral("Human Interface Device"));
    QCOMPARE(db.classes.value(0x08), QStringLiteral("Mass Storage"));
    // "HID 22" is a section keyword, not vendor 0x0022; "AT 0409" not vendor 0x0409.
    QVERIFY(!db.vendors.contains(0x0409));
    QVERIFY(!db.vendors.contains(0x1234));
}

void TestUsbUnits::usbIdsSurvivesMalformedInput() {
    const QByteArray bad = QByteArray("\tabcd  product before any vendor\n"
                                      "12  short vendor\n"
                                      "zzzz  not hex\n"
                                      "1234\n"
                                      "1235 \n"
                                      "1236  \xff\xfe invalid utf-8\n"
                                      "\t56  short product\n"
                                      "\tqqqq  bad product\n"
                                      "\t5678\n"
                                      "C zz  bad class\n"
                                      "C 1\n"
                                      "C \n"
                                      "\t\t\t\n"
                                      "\t") +
                           QByteArray(100000, 'x') + QByteArray("\n4321  ") + QByteArray(5000, 'n') +
                           QByteArray("\n\t9999  ok\0tail", 15) + QByteArray("\n\x00\x01\x02", 4);
    const auto db = UsbIds::parse(bad);
    QVERIFY(!db.vendors.contains(0x0012));
    QVERIFY(!db.vendors.contains(0x1234)); // no name
    QVERIFY(!db.vendors.contains(0x1235)); // blank name
    QVERIFY(db.vendors.contains(0x1236));  // name with replacement characters
    QVERIFY(db.vendors.value(0x1236).products.isEmpty());
    QVERIFY(db.classes.isEmpty());
    QCOMPARE(db.vendors.value(0x4321).name.size(), 256); // cut
    QVERIFY(db.vendors.value(0x4321).products.contains(0x9999));
    // Every prefix of a good file parses (truncated downloads).
    const QByteArrayView sample(kIdsSample);
    for (qsizetype n = 0; n <= sample.size(); ++n)
        UsbIds::parse(sample.first(n));
}

void TestUsbUnits::usbIdsFromFile() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("usb.ids"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(kIdsSample);
    file.close();
    const UsbIds ids(path);
    QCOMPARE(ids.vendorName(0x0781), QStringLiteral("SanDisk Corp."));
    QCOMPARE(ids.productName(0x0781, 0x5567), QStringLiteral("Cruzer Blade"));
    QCOMPARE(ids.productName(0x0781, 0x0001), QString());
    QCOMPARE(ids.productName(0x9999, 0x0001), QString());
    QCOMPARE(ids.className(0x08), QStringLiteral("Mass Storage"));
    QVERIFY(ids.available());

    const UsbIds missing(dir.filePath(QStringLiteral("nope.ids")));
    QVERIFY(!missing.available());
    QCOMPARE(missing.vendorName(0x0781), QString());

    // The system database (Debian package usb.ids), where installed.
    const UsbIds system;
    if (!system.available())
        QSKIP("no /usr/share/misc/usb.ids");
    QCOMPARE(system.vendorName(0x0781), QStringLiteral("SanDisk Corp."));
    QCOMPARE(system.productName(0x046d, 0xc31c), QStringLiteral("Keyboard K120"));
}

void TestUsbUnits::stringDescriptorDecoding() {
    // "SanDisk" as a device sends it: bLength 16, type 3, UTF-16LE.
    const std::array<std::uint8_t, 16> sandisk{16, 3, 'S', 0, 'a', 0, 'n', 0, 'D', 0, 'i', 0, 's', 0, 'k', 0};
    QCOMPARE(decodeUsbStringDescriptor(sandisk), QStringLiteral("SanDisk"));
    // bLength larger than what arrived: only what arrived is read.
    auto longer = sandisk;
    longer[0] = 255;
    QCOMPARE(decodeUsbStringDescriptor(longer), QStringLiteral("SanDisk"));
    // bLength shorter: the rest is ignored; an odd length drops the half character.
    auto shorter = sandisk;
    shorter[0] = 7;
    QCOMPARE(decodeUsbStringDescriptor(shorter), QStringLiteral("Sa"));
    // Wrong type, too short, empty.
    auto wrongType = sandisk;
    wrongType[1] = 2;
    QCOMPARE(decodeUsbStringDescriptor(wrongType), QString());
    QCOMPARE(decodeUsbStringDescriptor(std::span(sandisk).first(1)), QString());
    QCOMPARE(decodeUsbStringDescriptor({}), QString());
    // Control characters and an unpaired surrogate are replaced.
    const std::array<std::uint8_t, 8> hostile{8, 3, 'A', 0, 0x07, 0, 0x00, 0xd8};
    QCOMPARE(decodeUsbStringDescriptor(hostile), QStringLiteral("A??"));
}

QTEST_GUILESS_MAIN(TestUsbUnits)
#include "test_usb_units.moc"
