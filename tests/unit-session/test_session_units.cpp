#include "agent/AgentProtocol.h"
#include "channels/DisplayChannel.h"
#include "channels/MessageFramer.h"
#include "cursor/CursorShape.h"
#include "display/Canvas.h"
#include "input/Scancodes.h"
#include "link/HostSubject.h"
#include "link/LinkProtocol.h"
#include "link/TicketCipher.h"
#include "streams/MultimediaClock.h"
#include "streams/StreamReporter.h"
#include "wire/Reader.h"
#include "wire/Writer.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <spice/enums.h>
#include <spice/protocol.h>
#include <spice/vd_agent.h>

using namespace saffron;

namespace {
struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CtxFree {
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey makeRsa1024() {
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr));
    EVP_PKEY_keygen_init(ctx.get());
    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 1024);
    EVP_PKEY* k = nullptr;
    EVP_PKEY_keygen(ctx.get(), &k);
    return Pkey(k);
}

std::vector<uint8_t> spkiDer(EVP_PKEY* k) {
    unsigned char* buf = nullptr;
    const int n = i2d_PUBKEY(k, &buf);
    std::vector<uint8_t> out(buf, buf + n);
    OPENSSL_free(buf);
    return out;
}

// What spice-server does with the ticket (reds.c: RSA_private_decrypt with OAEP padding).
QByteArray serverDecrypt(EVP_PKEY* k, const std::vector<uint8_t>& cipher) {
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(k, nullptr));
    EVP_PKEY_decrypt_init(ctx.get());
    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING);
    size_t len = 0;
    EVP_PKEY_decrypt(ctx.get(), nullptr, &len, cipher.data(), cipher.size());
    QByteArray out(qsizetype(len), 0);
    if (EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, cipher.data(),
                         cipher.size()) <= 0)
        return {};
    out.resize(qsizetype(len));
    return out;
}

std::span<const uint8_t> span(const QByteArray& a) {
    return {reinterpret_cast<const uint8_t*>(a.constData()), size_t(a.size())};
}
} // namespace

class TestSessionUnits : public QObject {
    Q_OBJECT
private slots:
    void readerRejectsOutOfBounds();
    void linkMessageLayout();
    void linkReplyParsing();
    void linkReplyRejectsGarbage();
    void ticketDecryptsOnServerSide();
    void ticketTooLong();
    void hostSubject();
    void framerMiniAndFullHeaders();
    void framerRejectsHugeSize();
    void canvasCopyAndClip();
    void canvasRopAndFill();
    void canvasCopyBitsOverlap();
    void canvasScaledCopy();
    void agentFramingRoundTrip();
    void agentRejectsHugeMessage();
    void agentClipboardWithSelection();
    void cursorShapes();
    void cursorRejectsShortData();
    void scancodes();
    void displayTextAndStroke();
    void multimediaClockHeardAnchor();
    void streamReportCountsLateArrivals();
    void streamReportAfterThreeLateInARow();
};

void TestSessionUnits::readerRejectsOutOfBounds() {
    const uint8_t bytes[] = {1, 2, 3};
    Reader r(bytes);
    QCOMPARE(r.u16(), uint16_t(0x0201));
    QVERIFY_THROWS_EXCEPTION(ProtocolError, r.u32());
    QVERIFY_THROWS_EXCEPTION(ProtocolError, r.at(4));
    Reader r2(bytes);
    QVERIFY_THROWS_EXCEPTION(ProtocolError, r2.array(0x4000000000000000ull, 4));
}

void TestSessionUnits::linkMessageLayout() {
    Capabilities common, channel;
    common.set(SPICE_COMMON_CAP_MINI_HEADER);
    channel.set(33);
    const auto msg = link::buildLinkMessage(0x11223344, SPICE_CHANNEL_DISPLAY, 2, common, channel);
    Reader r(msg);
    QCOMPARE(r.u32(), uint32_t(SPICE_MAGIC));
    QCOMPARE(r.u32(), uint32_t(SPICE_VERSION_MAJOR));
    QCOMPARE(r.u32(), uint32_t(SPICE_VERSION_MINOR));
    QCOMPARE(r.u32(), uint32_t(msg.size() - 16));
    QCOMPARE(r.u32(), 0x11223344u);
    QCOMPARE(r.u8(), uint8_t(SPICE_CHANNEL_DISPLAY));
    QCOMPARE(r.u8(), uint8_t(2));
    QCOMPARE(r.u32(), 1u);
    QCOMPARE(r.u32(), 2u);
    QCOMPARE(r.u32(), 18u);
    QCOMPARE(r.u32(), 1u << SPICE_COMMON_CAP_MINI_HEADER);
    QCOMPARE(r.u32(), 0u);
    QCOMPARE(r.u32(), 2u);
    QVERIFY(r.atEnd());
}

void TestSessionUnits::linkReplyParsing() {
    Writer w;
    w.u32(SPICE_LINK_ERR_OK);
    for (int i = 0; i < 162; ++i)
        w.u8(uint8_t(i));
    w.u32(1).u32(2).u32(178);
    w.u32(0x9).u32(0x1).u32(0x80000000u);
    const auto reply = link::parseReply(w.data());
    QCOMPARE(reply.error, uint32_t(SPICE_LINK_ERR_OK));
    QCOMPARE(reply.publicKey[161], uint8_t(161));
    QVERIFY(reply.commonCaps.has(0) && reply.commonCaps.has(3) && !reply.commonCaps.has(1));
    QVERIFY(reply.channelCaps.has(0) && reply.channelCaps.has(63) && !reply.channelCaps.has(64));
}

void TestSessionUnits::linkReplyRejectsGarbage() {
    Writer w;
    w.u32(0).u32(SPICE_VERSION_MAJOR).u32(2).u32(100);
    QVERIFY_THROWS_EXCEPTION(ProtocolError, link::parseHeader(w.data()));
    Writer big;
    big.u32(SPICE_MAGIC).u32(SPICE_VERSION_MAJOR).u32(2).u32(0xfffffff0u);
    QVERIFY_THROWS_EXCEPTION(ProtocolError, link::parseHeader(big.data()));
    Writer badCaps;
    badCaps.u32(0);
    for (int i = 0; i < 162; ++i)
        badCaps.u8(0);
    badCaps.u32(0x40000000u).u32(0).u32(178);
    QVERIFY_THROWS_EXCEPTION(ProtocolError, link::parseReply(badCaps.data()));
    // An error reply carries no key: it parses to just the code.
    Writer err;
    err.u32(SPICE_LINK_ERR_PERMISSION_DENIED);
    QCOMPARE(link::parseReply(err.data()).error, uint32_t(SPICE_LINK_ERR_PERMISSION_DENIED));
    QCOMPARE(QString::fromLatin1(link::errorText(SPICE_LINK_ERR_PERMISSION_DENIED)),
             QStringLiteral("authentication failed"));
}

void TestSessionUnits::ticketDecryptsOnServerSide() {
    Pkey key = makeRsa1024();
    const auto der = spkiDer(key.get());
    QCOMPARE(der.size(), size_t(link::kPublicKeySize));
    const auto cipher = encryptTicket(der, "hunter2");
    QCOMPARE(cipher.size(), size_t(link::kEncryptedTicketSize));
    QCOMPARE(serverDecrypt(key.get(), cipher), QByteArray("hunter2", 8)); // with its NUL
    QCOMPARE(serverDecrypt(key.get(), encryptTicket(der, QByteArray())), QByteArray(1, '\0'));
    const uint8_t junk[162] = {};
    QVERIFY_THROWS_EXCEPTION(ProtocolError, encryptTicket(junk, "x"));
}

void TestSessionUnits::ticketTooLong() {
    Pkey key = makeRsa1024();
    QVERIFY_THROWS_EXCEPTION(ProtocolError, encryptTicket(spkiDer(key.get()), QByteArray(61, 'a')));
}

void TestSessionUnits::hostSubject() {
    QTemporaryDir dir;
    const QString cert = dir.filePath(QStringLiteral("c.pem"));
    QProcess p;
    p.start(QStringLiteral("openssl"),
            {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
             QStringLiteral("rsa:2048"), QStringLiteral("-nodes"), QStringLiteral("-keyout"),
             dir.filePath(QStringLiteral("k.pem")), QStringLiteral("-out"), cert, QStringLiteral("-days"),
             QStringLiteral("1"), QStringLiteral("-subj"),
             QStringLiteral("/C=IL/L=Raanana/O=Red Hat, Inc./CN=my server")});
    QVERIFY(p.waitForFinished(60000) && p.exitCode() == 0);
    const auto certs = QSslCertificate::fromPath(cert);
    QCOMPARE(certs.size(), 1);
    const QByteArray der = certs.first().toDer();
    QVERIFY(HostSubject::matches(QStringLiteral("C=IL,L=Raanana,O=Red Hat\\, Inc.,CN=my server"), der));
    QVERIFY(!HostSubject::matches(QStringLiteral("C=IL,L=Raanana,O=Red Hat\\, Inc.,CN=other"), der));
    QVERIFY(!HostSubject::matches(QStringLiteral("C=IL,O=Red Hat\\, Inc.,CN=my server"), der));
    QVERIFY(HostSubject::validate(QStringLiteral("CN=x")) == std::nullopt);
    QVERIFY(HostSubject::validate(QStringLiteral("no equals sign")).has_value());
    QVERIFY(HostSubject::validate(QStringLiteral("BOGUSATTR=1")).has_value());
}

void TestSessionUnits::framerMiniAndFullHeaders() {
    MessageFramer f;
    f.setMiniHeader(true);
    Writer w;
    w.u16(301).u32(3).u8(7).u8(8).u8(9).u16(5).u32(0);
    const auto bytes = w.take();
    // Delivered one byte at a time, as a slow TCP stream might.
    std::vector<std::pair<uint16_t, size_t>> got;
    for (uint8_t b : bytes) {
        f.append(std::span<const uint8_t>(&b, 1));
        MessageFramer::Message m;
        while (f.next(m) == MessageFramer::Status::Ready)
            got.emplace_back(m.type, m.body.size());
    }
    QCOMPARE(got.size(), size_t(2));
    QCOMPARE(got[0].first, uint16_t(301));
    QCOMPARE(got[0].second, size_t(3));
    QCOMPARE(got[1].first, uint16_t(5));

    MessageFramer full;
    Writer fw;
    fw.u64(1).u16(4).u32(2).u32(0).u8(1).u8(2);
    full.append(fw.data());
    MessageFramer::Message m;
    QCOMPARE(full.next(m), MessageFramer::Status::Ready);
    QCOMPARE(m.type, uint16_t(4));
    QCOMPARE(m.body[1], uint8_t(2));
}

void TestSessionUnits::framerRejectsHugeSize() {
    MessageFramer f;
    f.setMiniHeader(true);
    Writer w;
    w.u16(1).u32(0xffffffffu);
    f.append(w.data());
    MessageFramer::Message m;
    QCOMPARE(f.next(m), MessageFramer::Status::TooLarge);
}

void TestSessionUnits::canvasCopyAndClip() {
    Pixmap dst(8, 8);
    Pixmap src(4, 4, true); // an alpha source: its alpha is dropped on an xRGB target
    for (int i = 0; i < 16; ++i)
        src.pixels[size_t(i)] = 0x00010101u * uint32_t(i);
    Canvas c(dst, false);
    Source s;
    s.kind = Source::Kind::Image;
    s.image = &src;
    s.area = QRect(0, 0, 4, 4);
    const QRect box(2, 2, 4, 4);
    const ClipRegion clip = ClipRegion::forDraw(box, {QRect(3, 3, 10, 1)}, true, QRect(0, 0, 8, 8));
    c.draw(clip, box, s, RopDescriptor{SPICE_ROPD_OP_PUT});
    QCOMPARE(dst.at(3, 3), 0xff000000u | src.at(1, 1)); // xRGB target: alpha forced opaque
    QCOMPARE(dst.at(5, 3), 0xff000000u | src.at(3, 1));
    QCOMPARE(dst.at(2, 3), 0u); // clipped away
    QCOMPARE(dst.at(3, 4), 0u);
    // An opaque source already carries alpha 0xff (Pixmap.h) and is copied as is.
    Pixmap opaque(4, 4);
    for (int i = 0; i < 16; ++i)
        opaque.pixels[size_t(i)] = 0xff000000u | 0x00020202u * uint32_t(i);
    s.image = &opaque;
    c.draw(clip, box, s, RopDescriptor{SPICE_ROPD_OP_PUT});
    QCOMPARE(dst.at(4, 3), opaque.at(2, 1));
    // A box far outside the surface draws nothing and touches nothing.
    const ClipRegion none = ClipRegion::forDraw(QRect(1000, 1000, 4, 4), {}, false, QRect(0, 0, 8, 8));
    QVERIFY(none.isEmpty());
}

void TestSessionUnits::canvasRopAndFill() {
    Pixmap dst(2, 1);
    dst.pixels = {0xff00ff00u, 0xff0000ffu};
    Canvas c(dst, false);
    Source red;
    red.color = 0x00ff0000u;
    const QRect box(0, 0, 2, 1);
    c.draw(ClipRegion::forDraw(box, {}, false, box), box, red, RopDescriptor{SPICE_ROPD_OP_XOR});
    QCOMPARE(dst.at(0, 0), 0xffffff00u);
    QCOMPARE(dst.at(1, 0), 0xffff00ffu);
    c.draw(ClipRegion::forDraw(box, {}, false, box), box, Source{}, RopDescriptor{SPICE_ROPD_OP_BLACKNESS});
    QCOMPARE(dst.at(0, 0), 0xff000000u);
    // ROP3 0xF0 is the pattern (P), 0xCC the source (S), 0xAA the destination (D).
    Source pat;
    pat.color = 0x123456u;
    Pixmap src(2, 1);
    src.pixels = {0x654321u, 0x654321u};
    Source s;
    s.kind = Source::Kind::Image;
    s.image = &src;
    s.area = box;
    c.drawRop3(ClipRegion::forDraw(box, {}, false, box), box, s, pat, 0xF0);
    QCOMPARE(dst.at(0, 0) & 0xffffffu, 0x123456u);
    c.drawRop3(ClipRegion::forDraw(box, {}, false, box), box, s, pat, 0xCC);
    QCOMPARE(dst.at(1, 0) & 0xffffffu, 0x654321u);
}

void TestSessionUnits::canvasCopyBitsOverlap() {
    Pixmap dst(6, 1);
    dst.pixels = {1, 2, 3, 4, 5, 6};
    Canvas c(dst, true);
    const QRect box(1, 0, 5, 1); // move [0..4] one to the right
    c.copyBits(ClipRegion::forDraw(box, {}, false, QRect(0, 0, 6, 1)), box, QPoint(0, 0));
    QCOMPARE(dst.pixels, (std::vector<uint32_t>{1, 1, 2, 3, 4, 5}));
    const QRect left(0, 0, 5, 1); // and back to the left
    c.copyBits(ClipRegion::forDraw(left, {}, false, QRect(0, 0, 6, 1)), left, QPoint(1, 0));
    QCOMPARE(dst.pixels, (std::vector<uint32_t>{1, 2, 3, 4, 5, 5}));
}

void TestSessionUnits::canvasScaledCopy() {
    Pixmap src(2, 2, false);
    src.pixels = {0xff0000u, 0x00ff00u, 0x0000ffu, 0xffffffu};
    Pixmap dst(4, 4);
    Canvas c(dst, false);
    Source s;
    s.kind = Source::Kind::Image;
    s.image = &src;
    s.area = QRect(0, 0, 2, 2);
    const QRect box(0, 0, 4, 4);
    c.draw(ClipRegion::forDraw(box, {}, false, box), box, s, RopDescriptor{SPICE_ROPD_OP_PUT});
    QCOMPARE(dst.at(0, 0), 0xffff0000u);
    QCOMPARE(dst.at(3, 0), 0xff00ff00u);
    QCOMPARE(dst.at(0, 3), 0xff0000ffu);
    QCOMPARE(dst.at(3, 3), 0xffffffffu);
}

void TestSessionUnits::agentFramingRoundTrip() {
    const QByteArray payload(5000, 'x');
    const auto chunks = agent::encode(VD_AGENT_CLIPBOARD, payload);
    QCOMPARE(chunks.size(), size_t(3)); // 20-byte header + 5000 bytes in 2048-byte pieces
    for (const auto& c : chunks)
        QVERIFY(c.size() <= VD_AGENT_MAX_DATA_SIZE);
    agent::MessageAssembler a;
    std::vector<agent::Message> got;
    for (const auto& c : chunks)
        for (auto& m : a.feed(span(c)))
            got.push_back(std::move(m));
    QCOMPARE(got.size(), size_t(1));
    QCOMPARE(got[0].type, uint32_t(VD_AGENT_CLIPBOARD));
    QCOMPARE(got[0].data, payload);
}

void TestSessionUnits::agentRejectsHugeMessage() {
    Writer w;
    w.u32(VD_AGENT_PROTOCOL).u32(VD_AGENT_CLIPBOARD).u64(0).u32(0xffffffffu);
    agent::MessageAssembler a;
    QVERIFY_THROWS_EXCEPTION(ProtocolError, a.feed(w.data()));
    Writer bad;
    bad.u32(7).u32(1).u64(0).u32(0);
    agent::MessageAssembler b;
    QVERIFY_THROWS_EXCEPTION(ProtocolError, b.feed(bad.data()));
}

void TestSessionUnits::agentClipboardWithSelection() {
    const QByteArray msg = agent::clipboardData(uint8_t(0), VD_AGENT_CLIPBOARD_UTF8_TEXT, "héllo");
    const auto p = agent::parseClipboard(VD_AGENT_CLIPBOARD, msg, true);
    QCOMPARE(p.type, uint32_t(VD_AGENT_CLIPBOARD_UTF8_TEXT));
    QCOMPARE(QString::fromUtf8(p.data), QStringLiteral("héllo"));
    const auto g =
        agent::parseClipboard(VD_AGENT_CLIPBOARD_GRAB, agent::clipboardGrab(std::nullopt, {1, 2}), false);
    QCOMPARE(g.types, (std::vector<uint32_t>{1, 2}));
    const QByteArray mc = agent::monitorsConfig({QRect(0, 0, 1280, 720)}, true);
    Reader r(span(mc));
    QCOMPARE(r.u32(), 1u);
    QCOMPARE(r.u32(), uint32_t(VD_AGENT_CONFIG_MONITORS_FLAG_USE_POS));
    QCOMPARE(r.u32(), 720u);
    QCOMPARE(r.u32(), 1280u);
}

void TestSessionUnits::cursorShapes() {
    CursorHeader h;
    h.type = SPICE_CURSOR_TYPE_MONO;
    h.width = 8;
    h.height = 2;
    h.hotX = 3;
    // AND mask rows then XOR mask rows, MSB first.
    const uint8_t mono[] = {0xf0, 0x00, 0x00, 0xff};
    const CursorShape s = decodeCursor(h, mono);
    QCOMPARE(s.image.at(0, 0), 0u);          // AND=1 XOR=0: transparent
    QCOMPARE(s.image.at(7, 0), 0xff000000u); // AND=0 XOR=0: black
    QCOMPARE(s.image.at(0, 1), 0xffffffffu); // AND=0 XOR=1: white
    QCOMPARE(s.hotX, 3);
    h.type = SPICE_CURSOR_TYPE_ALPHA;
    h.width = 1;
    h.height = 1;
    const uint8_t alpha[] = {0x11, 0x22, 0x33, 0x80};
    QCOMPARE(decodeCursor(h, alpha).image.at(0, 0), 0x80332211u);
}

void TestSessionUnits::cursorRejectsShortData() {
    CursorHeader h;
    h.type = SPICE_CURSOR_TYPE_ALPHA;
    h.width = 64;
    h.height = 64;
    const uint8_t few[16] = {};
    QVERIFY_THROWS_EXCEPTION(ProtocolError, decodeCursor(h, few));
    h.width = 60000;
    QVERIFY_THROWS_EXCEPTION(ProtocolError, decodeCursor(h, few));
    h.type = 77;
    h.width = 1;
    QVERIFY_THROWS_EXCEPTION(ProtocolError, decodeCursor(h, few));
}

void TestSessionUnits::scancodes() {
    QCOMPARE(scancodeFromEvdev(1).value(), AtScancode(0x01));     // Esc
    QCOMPARE(scancodeFromEvdev(30).value(), AtScancode(0x1e));    // A
    QCOMPARE(scancodeFromEvdev(103).value(), AtScancode(0xe048)); // Up
    QCOMPARE(scancodeFromEvdev(111).value(), AtScancode(0xe053)); // Delete
    QVERIFY(!scancodeFromEvdev(0).has_value());
    QCOMPARE(scancodeFromQtKey(Qt::Key_Escape).value(), AtScancode(0x01));
    QCOMPARE(scancodeFromQtKey(Qt::Key_Return).value(), AtScancode(0x1c));
    QCOMPARE(scancodeFromQtKey(Qt::Key_Delete).value(), AtScancode(0xe053));
}

void TestSessionUnits::displayTextAndStroke() {
    SessionOptions options;
    DisplayChannel display(options, 0);
    Writer create;
    create.u32(0).u32(16).u32(8).u32(SPICE_SURFACE_FMT_32_xRGB).u32(SPICE_SURFACE_FLAGS_PRIMARY);
    display.dispatch(SPICE_MSG_DISPLAY_SURFACE_CREATE, create.data());
    QVERIFY(display.primarySurface());

    auto base = [](Writer& w) { w.u32(0).i32(0).i32(0).i32(8).i32(8).u8(SPICE_CLIP_TYPE_NONE); };
    Writer text;
    base(text);
    const size_t strPtr = text.size();
    text.u32(0);                                   // String*, patched below
    text.i32(0).i32(0).i32(0).i32(0);              // back_area
    text.u8(SPICE_BRUSH_TYPE_SOLID).u32(0x00ff00); // fore brush
    text.u8(SPICE_BRUSH_TYPE_NONE);                // back brush
    text.u16(SPICE_ROPD_OP_PUT).u16(0);
    text.patchU32(strPtr, uint32_t(text.size()));
    text.u16(1).u8(SPICE_STRING_FLAGS_RASTER_A1);
    text.i32(2).i32(1).i32(0).i32(0).u16(8).u16(2).u8(0x80).u8(0x40); // one 8x2 glyph at (2,1)
    display.dispatch(SPICE_MSG_DISPLAY_DRAW_TEXT, text.data());
    const Pixmap& px = display.primarySurface()->pixmap;
    QCOMPARE(px.at(2, 1), 0xff00ff00u);
    QCOMPARE(px.at(3, 2), 0xff00ff00u);
    QCOMPARE(px.at(3, 1), 0xff000000u);

    Writer stroke;
    base(stroke);
    const size_t pathPtr = stroke.size();
    stroke.u32(0).u8(0); // Path*, line flags
    stroke.u8(SPICE_BRUSH_TYPE_SOLID).u32(0xff0000);
    stroke.u16(SPICE_ROPD_OP_PUT).u16(0);
    stroke.patchU32(pathPtr, uint32_t(stroke.size()));
    stroke.u32(1).u8(SPICE_PATH_BEGIN | SPICE_PATH_END).u32(2);
    stroke.i32(1 << 4).i32(5 << 4).i32(6 << 4).i32(5 << 4); // (1,5) -> (6,5)
    display.dispatch(SPICE_MSG_DISPLAY_DRAW_STROKE, stroke.data());
    for (int x = 1; x <= 6; ++x)
        QCOMPARE(px.at(x, 5), 0xffff0000u);
    QCOMPARE(px.at(0, 5), 0xff000000u);
    QCOMPARE(display.stats().badMessages, quint64(0));
}

// The audio anchor that video lip-syncs to: distances across the 32-bit wrap, and the anchor
// ends with PLAYBACK_STOP (audioStopped) without touching the server's own clock.
void TestSessionUnits::multimediaClockHeardAnchor() {
    MultimediaClock clock;
    QVERIFY(!clock.audioPlaying());
    clock.sync(1000);
    clock.syncHeard(0xfffffff0u); // heard just before the wrap
    QVERIFY(clock.audioPlaying());
    // A frame stamped 0x20 after the wrap is 0x30 ms ahead (less what elapsed since the anchor).
    const int32_t ahead = clock.untilHeard(0x20);
    QVERIFY2(ahead <= 0x30 && ahead > 0x30 - 1000, qPrintable(QString::number(ahead)));
    // One stamped before what is heard is late (negative).
    QVERIFY(clock.untilHeard(0xffffff00u) < 0);
    // The server's clock is separate: a frame due on it is not due on the heard clock.
    QVERIFY(clock.until(1000 + 5000) > 4000);
    clock.audioStopped();
    QVERIFY(!clock.audioPlaying());
    QVERIFY(clock.valid());
}

// spice-server lowers a stream's bit rate on reported drops; a frame that arrives after its
// presentation time is one (spice-gtk counts exactly those), whether or not we still show it.
void TestSessionUnits::streamReportCountsLateArrivals() {
    StreamReporter r(7);
    QVERIFY(!r.activate(42, 5, 1000, true));
    QVERIFY(!r.frameArrived(1000, 390, false, 0));
    QVERIFY(!r.frameArrived(1040, -20, false, 40)); // late, shown anyway in low-latency mode
    QVERIFY(!r.frameArrived(1080, 380, true, 80));  // refused by the decoder
    QVERIFY(!r.frameArrived(1120, -5, true, 120));  // both: one drop
    const auto report = r.frameArrived(1160, 370, false, 160);
    QVERIFY(report);
    QCOMPARE(report->streamId, 7u);
    QCOMPARE(report->uniqueId, 42u);
    QCOMPARE(report->numFrames, 5u);
    QCOMPARE(report->numDrops, 3u);
    QCOMPARE(report->startFrameMmTime, 1000u);
    QCOMPARE(report->endFrameMmTime, 1160u);
    QCOMPARE(report->lastFrameDelay, 370);
}

// Three late arrivals in a row are reported at once, not after the window (here 20 frames or
// 5 s): the server hears of a congested link within three frames.
void TestSessionUnits::streamReportAfterThreeLateInARow() {
    StreamReporter r(1);
    QVERIFY(!r.activate(1, 20, 5000, true));
    QVERIFY(!r.frameArrived(100, -10, false, 0));
    QVERIFY(!r.frameArrived(140, 5, false, 40)); // on time: the run starts again
    QVERIFY(!r.frameArrived(180, -10, false, 80));
    QVERIFY(!r.frameArrived(220, -20, false, 120));
    const auto report = r.frameArrived(260, -30, false, 160);
    QVERIFY(report);
    QCOMPARE(report->numFrames, 5u);
    QCOMPARE(report->numDrops, 4u);
    QCOMPARE(report->lastFrameDelay, -30);
    // The next window starts empty; one more late frame is not a run of three yet.
    QVERIFY(!r.frameArrived(300, -40, false, 200));
}

QTEST_GUILESS_MAIN(TestSessionUnits)
#include "test_session_units.moc"
