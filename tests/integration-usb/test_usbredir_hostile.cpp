// Hostile input on the USB redirection path, as a malicious or broken server could send it:
// malformed spicevmc messages (bad compression type, absurd or zero uncompressed sizes, corrupt
// LZ4) into UsbRedirChannel, and malformed usbredir packets (absurd lengths, unknown types,
// truncated headers, requests for a device that is not there) into UsbRedirector's real
// usbredirhost. Nothing may crash (run under ASan); bad input is counted and dropped.
#include "EmulatedHidDevice.h"
#include "GuestPeer.h"
#include "channels/UsbRedirChannel.h"
#include "redir/UsbRedirPool.h"
#include "redir/UsbRedirector.h"
#include "wire/Writer.h"

#include <QSignalSpy>
#include <QTest>
#include <libusb.h>
#include <lz4.h>
#include <spice/enums.h>

using namespace saffron;
using namespace saffron::test;

namespace {

std::vector<uint8_t> compressedMessage(uint8_t type, std::optional<uint32_t> size,
                                       const QByteArray& payload) {
    Writer w;
    w.u8(type);
    if (size)
        w.u32(*size);
    w.bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(payload.constData()),
                                     size_t(payload.size())));
    return w.take();
}

QByteArray lz4(const QByteArray& in) {
    QByteArray out(LZ4_compressBound(int(in.size())), Qt::Uninitialized);
    const int n = LZ4_compress_default(in.constData(), out.data(), int(in.size()), int(out.size()));
    out.resize(n);
    return out;
}

// A raw usbredir header (usbredirproto.h usb_redir_header with 64-bit ids) and body.
QByteArray rawPacket(uint32_t type, uint32_t length, uint64_t id, const QByteArray& body = {}) {
    QByteArray p;
    for (int i = 0; i < 4; ++i)
        p.append(char((type >> (8 * i)) & 0xff));
    for (int i = 0; i < 4; ++i)
        p.append(char((length >> (8 * i)) & 0xff));
    for (int i = 0; i < 8; ++i)
        p.append(char((id >> (8 * i)) & 0xff));
    return p + body;
}

struct ContextDeleter {
    void operator()(libusb_context* c) const { libusb_exit(c); }
};

} // namespace

class TestUsbRedirHostile : public QObject {
    Q_OBJECT
private slots:
    void channelRejectsBadSpicevmcMessages();
    void redirectorSurvivesMalformedUsbredir();
    void redirectorAttachFailsCleanly();
    void poolSaysHowManyChannels();
    void emulatedDeviceSurvivesMalformedUsbredir();
};

void TestUsbRedirHostile::channelRejectsBadSpicevmcMessages() {
    SessionOptions options;
    UsbRedirChannel channel(options, 0);
    QSignalSpy data(&channel, &UsbRedirChannel::dataReceived);
    const QByteArray plain(2000, 'u');
    const QByteArray packed = lz4(plain);

    const std::vector<uint8_t> raw{1, 2, 3};
    channel.dispatch(SPICE_MSG_SPICEVMC_DATA, raw);
    channel.dispatch(SPICE_MSG_SPICEVMC_COMPRESSED_DATA,
                     compressedMessage(SPICE_DATA_COMPRESSION_TYPE_NONE, std::nullopt, "xyz"));
    channel.dispatch(SPICE_MSG_SPICEVMC_COMPRESSED_DATA,
                     compressedMessage(SPICE_DATA_COMPRESSION_TYPE_LZ4, uint32_t(plain.size()), packed));
    QCOMPARE(data.size(), 3);
    QCOMPARE(data.at(2).first().toByteArray(), plain);
    QCOMPARE(channel.stats().badMessages, 0u);

    // Absurd, zero and lying sizes; unknown compression; truncation; garbage LZ4.
    channel.dispatch(SPICE_MSG_SPICEVMC_COMPRESSED_DATA,
                     compressedMessage(SPICE_DATA_COMPRESSION_TYPE_LZ4, 0xffffffffu, packed));
    channel.dispatch(SPICE_MSG_SPICEVMC_COMPRESSED_DATA,
                     compressedMessage(SPICE_DATA_COMPRESSION_TYPE_LZ4, 0, packed));
    channel.dispatch(SPICE_MSG_SPICEVMC_COMPRESSED_DATA,
                     compressedMessage(SPICE_DATA_COMPRESSION_TYPE_LZ4, uint32_t(plain.size() + 1), packed));
    channel.dispatch(SPICE_MSG_SPICEVMC_COMPRESSED_DATA,
                     compressedMessage(SPICE_DATA_COMPRESSION_TYPE_LZ4, 100, packed)); // output too small
    channel.dispatch(SPICE_MSG_SPICEVMC_COMPRESSED_DATA, compressedMessage(7, 100, packed));
    channel.dispatch(SPICE_MSG_SPICEVMC_COMPRESSED_DATA,
                     std::vector<uint8_t>{SPICE_DATA_COMPRESSION_TYPE_LZ4, 5});
    channel.dispatch(SPICE_MSG_SPICEVMC_COMPRESSED_DATA, std::vector<uint8_t>{});
    channel.dispatch(SPICE_MSG_SPICEVMC_COMPRESSED_DATA,
                     compressedMessage(SPICE_DATA_COMPRESSION_TYPE_LZ4, 1000, QByteArray(64, '\xff')));
    // A tiny input cannot expand to 1 MiB: refused before decoding (LZ4 ratio is at most ~255).
    channel.dispatch(SPICE_MSG_SPICEVMC_COMPRESSED_DATA,
                     compressedMessage(SPICE_DATA_COMPRESSION_TYPE_LZ4, UsbRedirChannel::kMaxDecompressedSize,
                                       QByteArray(1, '\0')));
    QCOMPARE(data.size(), 3);
    QCOMPARE(channel.stats().badMessages, 9u);

    // Sending before the channel exists anywhere is kept, not written to a socket we lack.
    channel.sendData("hello");
    QCoreApplication::processEvents();
}

void TestUsbRedirHostile::redirectorSurvivesMalformedUsbredir() {
    libusb_context* raw = nullptr;
    if (libusb_init(&raw) != 0)
        QSKIP("libusb_init failed here");
    std::unique_ptr<libusb_context, ContextDeleter> ctx(raw);
    usb::UsbRedirector host(ctx.get());
    QByteArray toGuest;
    connect(
        &host, &usb::UsbRedirEndpoint::toGuest, this, [&](const QByteArray& d) { toGuest += d; },
        Qt::DirectConnection);
    QString error;
    QVERIFY2(host.start(&error), qPrintable(error));
    QVERIFY(!toGuest.isEmpty()); // our hello

    GuestPeer guest;
    guest.feed(std::exchange(toGuest, QByteArray()));
    host.feedFromGuest(guest.take()); // the guest's hello: 64-bit ids from now on
    QCOMPARE(host.stats().parseErrors, 0u);

    // Well-formed requests for a device that is not there: answered with an error status.
    usb_redir_control_packet_header control{};
    control.endpoint = 0x80;
    control.requesttype = 0x80;
    control.request = 6;
    control.value = 0x0100;
    control.length = 18;
    usbredirparser_send_control_packet(guest.parser(), 1, &control, nullptr, 0);
    usb_redir_set_configuration_header config{1};
    usbredirparser_send_set_configuration(guest.parser(), 2, &config);
    usb_redir_start_interrupt_receiving_header irq{0x81};
    usbredirparser_send_start_interrupt_receiving(guest.parser(), 3, &irq);
    usb_redir_bulk_packet_header bulk{};
    bulk.endpoint = 0x02;
    bulk.length = 512;
    QByteArray bulkData(512, 'b');
    usbredirparser_send_bulk_packet(guest.parser(), 4, &bulk, reinterpret_cast<uint8_t*>(bulkData.data()),
                                    512);
    guest.flush();
    host.feedFromGuest(guest.take());
    QVERIFY(!toGuest.isEmpty());
    toGuest.clear();

    // Malformed packets: absurd length, unknown type, header-only control packet, a control
    // packet whose length field disagrees with its data, and random bytes.
    host.feedFromGuest(rawPacket(usb_redir_control_packet, 0xfffffff0u, 9));
    host.feedFromGuest(rawPacket(0x7777, 4, 10, QByteArray(4, 'x')));
    host.feedFromGuest(rawPacket(usb_redir_control_packet, 0, 11));
    QByteArray lying(10, '\0');
    lying[0] = char(0x00); // endpoint OUT
    lying[2] = char(0x00);
    lying[8] = char(0xff); // length 0xffff, but only 4 data bytes follow
    lying[9] = char(0xff);
    host.feedFromGuest(rawPacket(usb_redir_control_packet, 14, 12, lying + QByteArray(4, 'd')));
    QByteArray junk;
    for (int i = 0; i < 8192; ++i)
        junk.append(char((i * 7919) & 0xff));
    host.feedFromGuest(junk);
    // Byte by byte: partial headers across feeds.
    const QByteArray packet = rawPacket(usb_redir_get_configuration, 0, 13);
    for (char c : packet)
        host.feedFromGuest(QByteArray(1, c));
    QVERIFY(host.stats().parseErrors > 0);
    QVERIFY(!host.hasDevice());
    qInfo() << "usbredirhost skipped" << host.stats().parseErrors << "malformed packets";
}

void TestUsbRedirHostile::redirectorAttachFailsCleanly() {
    // Without a libusb context nothing starts, and says so.
    usb::UsbRedirector none(nullptr);
    QString error;
    QVERIFY(!none.start(&error));
    QVERIFY(error.contains(QLatin1String("libusb")));

    libusb_context* raw = nullptr;
    if (libusb_init(&raw) != 0)
        QSKIP("libusb_init failed here");
    std::unique_ptr<libusb_context, ContextDeleter> ctx(raw);
    usb::UsbRedirector host(ctx.get());
    QSignalSpy released(&host, &usb::UsbRedirEndpoint::deviceReleased);
    QVERIFY(!host.attach(nullptr, &error));
    QVERIFY(!error.isEmpty());

    // Every device libusb lists here (none on this machine's CI; umockdev ones have no usbfs
    // node that can be claimed): opening or claiming fails with a readable error, no crash.
    libusb_device** list = nullptr;
    const ssize_t n = libusb_get_device_list(ctx.get(), &list);
    QVERIFY(host.start(&error));
    for (ssize_t i = 0; i < n; ++i) {
        error.clear();
        if (host.attach(list[i], &error)) {
            host.releaseDevice();
            continue;
        }
        qInfo().noquote() << "attach refused:" << error;
        QVERIFY(!error.isEmpty());
    }
    if (list)
        libusb_free_device_list(list, 1);
    host.releaseDevice(); // no device: nothing happens
    host.deviceUnplugged();
    QCOMPARE(released.size(), 0);
}

void TestUsbRedirHostile::poolSaysHowManyChannels() {
    usb::UsbRedirPool pool;
    QString error;
    QVERIFY(!pool.claim(&error));
    QCOMPARE(error, QStringLiteral("the server offers no USB redirection channel"));
    EmulatedHidDevice a;
    EmulatedHidDevice b;
    pool.add(&a);
    QVERIFY(pool.claim(&error) == &a);
    QVERIFY(!pool.claim(&error));
    QCOMPARE(error, QStringLiteral("the server offers 1 USB redirection channel, already in use"));
    pool.add(&b);
    QVERIFY(pool.claim(&error) == &b);
    QVERIFY(!pool.claim(&error));
    QCOMPARE(error, QStringLiteral("the server offers 2 USB redirection channels, all in use"));
    QCOMPARE(pool.inUse(), 2);
    a.unclaim();
    QVERIFY(pool.claim(&error) == &a);
    pool.remove(&b);
    QCOMPARE(pool.size(), 1);
}

void TestUsbRedirHostile::emulatedDeviceSurvivesMalformedUsbredir() {
    EmulatedHidDevice dev;
    QByteArray toGuest;
    connect(
        &dev, &usb::UsbRedirEndpoint::toGuest, this, [&](const QByteArray& d) { toGuest += d; },
        Qt::DirectConnection);
    QVERIFY(dev.start(nullptr));
    GuestPeer guest;
    guest.feed(std::exchange(toGuest, QByteArray()));
    dev.attachDevice({});
    dev.feedFromGuest(guest.take());
    QVERIFY(dev.helloReceived());
    guest.feed(std::exchange(toGuest, QByteArray())); // interface/ep info, device_connect
    // A GET_DESCRIPTOR(device) round trip through the emulated device.
    usb_redir_control_packet_header control{};
    control.endpoint = 0x80;
    control.requesttype = 0x80;
    control.request = 6;
    control.value = 0x0100;
    control.length = 18;
    usbredirparser_send_control_packet(guest.parser(), 1, &control, nullptr, 0);
    guest.flush();
    dev.feedFromGuest(guest.take());
    QCOMPARE(dev.controlRequests().size(), 1);
    QVERIFY(toGuest.size() >= 16 + 10 + 18);
    dev.feedFromGuest(rawPacket(usb_redir_control_packet, 0xfffffff0u, 9));
    dev.feedFromGuest(rawPacket(0x7777, 4, 10, QByteArray(4, 'x')));
    QVERIFY(dev.parseErrors() > 0);
}

QTEST_GUILESS_MAIN(TestUsbRedirHostile)
#include "test_usbredir_hostile.moc"
