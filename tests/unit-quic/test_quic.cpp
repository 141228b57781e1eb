// Unit tests of the QUIC image decoder (session/codecs/QuicDecoder.h).
//
// Every sample in data/ is a payload captured from a real server (libspice-server through
// saffron-test-server, or QEMU 7.2) together with the image the server encoded; see
// data/README.md for where each one comes from. Decoding must be pixel-exact. Truncated and
// corrupted payloads must end in ProtocolError (or, for corruptions that stay well-formed,
// in some image of the right size) and never in a crash; the sanitizer and fuzz builds run
// the same code under ASan/UBSan.

#include "codecs/QuicDecoder.h"
#include "wire/ProtocolError.h"

#include <QFile>
#include <QImage>
#include <QTest>
#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

using saffron::Pixmap;
using saffron::ProtocolError;

namespace {

using Bytes = std::vector<uint8_t>;

struct Sample {
    const char* name; // data/<name>.quic and data/<name>.png
    uint32_t width;
    uint32_t height;
    bool alpha;
};

// quic.h QuicImageType values, as found in header word 2 of each sample.
constexpr uint32_t kTypeRgb16 = 2;
constexpr uint32_t kTypeRgb24 = 3;
constexpr uint32_t kTypeRgb32 = 4;
constexpr uint32_t kTypeRgba = 5;

struct SampleWithType {
    Sample sample;
    uint32_t type;
};

constexpr SampleWithType kSamples[] = {
    {{"testserver-photo-rgb32-256x192", 256, 192, false}, kTypeRgb32},
    {{"testserver-static-rgb32-256x192", 256, 192, false}, kTypeRgb32},
    {{"testserver-scroll-band-rgb32-256x16", 256, 16, false}, kTypeRgb32},
    {{"qemu72-seabios-rgb32-720x400", 720, 400, false}, kTypeRgb32},
    {{"testserver-video-rgb16-128x96", 128, 96, false}, kTypeRgb16},
    {{"testserver-video-rgb24-128x96", 128, 96, false}, kTypeRgb24},
    {{"testserver-video-rgba-128x96", 128, 96, true}, kTypeRgba},
};

QString dataPath(const char* name, const char* extension) {
    return QStringLiteral(SAFFRON_QUIC_DATA "/%1.%2").arg(QLatin1String(name), QLatin1String(extension));
}

Bytes readPayload(const char* name) {
    QFile f(dataPath(name, "quic"));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QByteArray all = f.readAll();
    return Bytes(all.begin(), all.end());
}

// The expected pixels as 0xAARRGGBB. PNGs without alpha give opaque pixels; the RGBA sample's
// PNG stores the bitmap's (premultiplied) bytes as they are, which QImage reads back unchanged
// as Format_ARGB32.
std::vector<uint32_t> expectedPixels(const Sample& s) {
    const QImage loaded(dataPath(s.name, "png"));
    if (loaded.isNull())
        return {};
    const QImage img = loaded.convertToFormat(s.alpha ? QImage::Format_ARGB32 : QImage::Format_RGB32);
    std::vector<uint32_t> out;
    out.reserve(size_t(img.width()) * img.height());
    for (int y = 0; y < img.height(); ++y) {
        const auto* line = reinterpret_cast<const uint32_t*>(img.constScanLine(y));
        out.insert(out.end(), line, line + img.width());
    }
    return out;
}

const Sample& sampleNamed(const char* name) {
    for (const auto& s : kSamples) {
        if (std::string(s.sample.name) == name)
            return s.sample;
    }
    qFatal("no sample %s", name);
}

void putWord(Bytes& b, size_t index, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        b[index * 4 + i] = uint8_t(v >> (8 * i));
}

enum class Outcome { Decoded, Rejected, WrongException };

// Decodes and classifies; a successful decode must have the requested size.
Outcome tryDecode(std::span<const uint8_t> payload, uint32_t w, uint32_t h) {
    try {
        const Pixmap p = saffron::decodeQuic(payload, w, h);
        if (p.width != int(w) || p.height != int(h) || p.pixels.size() != size_t(w) * h)
            return Outcome::WrongException;
        return Outcome::Decoded;
    } catch (const ProtocolError&) {
        return Outcome::Rejected;
    } catch (...) {
        return Outcome::WrongException;
    }
}

} // namespace

class TestQuic : public QObject {
    Q_OBJECT

private slots:
    void decodesServerSamples_data();
    void decodesServerSamples();
    void ignoresDataAfterTheImage();
    void rejectsEveryTruncation_data();
    void rejectsEveryTruncation();
    void survivesCorruption_data();
    void survivesCorruption();
    void rejectsBadHeaders();
    void rejectsShortStreamsBeforeAllocating();
    void baselineBuildDecodesAlike_data();
    void baselineBuildDecodesAlike();
    void decodeSpeed();
};

void TestQuic::decodesServerSamples_data() {
    QTest::addColumn<int>("index");
    for (int i = 0; i < int(std::size(kSamples)); ++i)
        QTest::newRow(kSamples[i].sample.name) << i;
}

void TestQuic::decodesServerSamples() {
    QFETCH(int, index);
    const SampleWithType& st = kSamples[index];
    const Sample& s = st.sample;
    const Bytes payload = readPayload(s.name);
    QVERIFY2(payload.size() >= 20, "sample missing");
    // The header says what we think it says (so each image type really is covered).
    const uint32_t type = uint32_t(payload[8]) | uint32_t(payload[9]) << 8;
    QCOMPARE(type, st.type);

    const std::vector<uint32_t> expected = expectedPixels(s);
    QCOMPARE(expected.size(), size_t(s.width) * s.height);

    const Pixmap p = saffron::decodeQuic(payload, s.width, s.height);
    QCOMPARE(p.width, int(s.width));
    QCOMPARE(p.height, int(s.height));
    QCOMPARE(p.hasAlpha, s.alpha);
    size_t mismatches = 0;
    size_t first = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
        if (p.pixels[i] != expected[i] && mismatches++ == 0)
            first = i;
    }
    if (mismatches != 0) {
        qWarning("first mismatch at %zu,%zu: got %08x, want %08x", first % s.width, first / s.width,
                 p.pixels[first], expected[first]);
    }
    QCOMPARE(mismatches, size_t(0));
}

// spice-gtk hands quic.c len >> 2 words and quic.c never looks past the image's look-ahead
// word, so trailing bytes and words change nothing.
void TestQuic::ignoresDataAfterTheImage() {
    const Sample& s = sampleNamed("testserver-scroll-band-rgb32-256x16");
    const Bytes payload = readPayload(s.name);
    const Pixmap reference = saffron::decodeQuic(payload, s.width, s.height);
    for (size_t extra : {1, 2, 3, 4, 8, 100}) {
        Bytes longer = payload;
        longer.insert(longer.end(), extra, uint8_t(0xa5));
        QCOMPARE(saffron::decodeQuic(longer, s.width, s.height).pixels, reference.pixels);
    }
}

void TestQuic::rejectsEveryTruncation_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("step");
    // Every length of the smallest sample; the larger ones every length of their last 256
    // bytes and every 61st before that (a truncated image is decoded up to the cut, so all
    // lengths of all samples would take seconds for little extra coverage).
    QTest::newRow("rgb32 band, every length") << QStringLiteral("testserver-scroll-band-rgb32-256x16") << 1;
    QTest::newRow("rgb16") << QStringLiteral("testserver-video-rgb16-128x96") << 61;
    QTest::newRow("rgba") << QStringLiteral("testserver-video-rgba-128x96") << 61;
}

// The encoder ends every stream with exactly the one zero word the decoder's look-ahead
// needs, so every proper prefix, down to the empty one, is missing data and must be rejected.
void TestQuic::rejectsEveryTruncation() {
    QFETCH(QString, name);
    QFETCH(int, step);
    const Sample& s = sampleNamed(name.toLatin1().constData());
    const Bytes payload = readPayload(s.name);
    QVERIFY(payload.size() > 256);
    size_t accepted = 0;
    size_t wrong = 0;
    const size_t tail = payload.size() - 256;
    for (size_t len = 0; len < payload.size();
         len = len < tail ? std::min(len + size_t(step), tail) : len + 1) {
        switch (tryDecode(std::span(payload).first(len), s.width, s.height)) {
        case Outcome::Decoded:
            ++accepted;
            break;
        case Outcome::WrongException:
            ++wrong;
            break;
        case Outcome::Rejected:
            break;
        }
    }
    QCOMPARE(accepted, size_t(0));
    QCOMPARE(wrong, size_t(0));
}

void TestQuic::survivesCorruption_data() {
    QTest::addColumn<int>("index");
    for (int i = 0; i < int(std::size(kSamples)); ++i)
        QTest::newRow(kSamples[i].sample.name) << i;
}

// Random damage: flipped bits, overwritten bytes and words, zeroed or repeated stretches, and
// damaged headers. A corrupted stream may still decode (to wrong pixels); what matters is that
// nothing but ProtocolError comes out and that nothing crashes (ASan builds check the rest).
void TestQuic::survivesCorruption() {
    QFETCH(int, index);
    const Sample& s = kSamples[index].sample;
    const Bytes payload = readPayload(s.name);
    QVERIFY(payload.size() > 64);
    std::mt19937 rng(1234 + index);
    const int rounds = payload.size() > 50000 ? 40 : 150;
    int decoded = 0;
    int rejected = 0;
    for (int round = 0; round < rounds; ++round) {
        Bytes b = payload;
        auto pos = [&](size_t from = 0) { return from + rng() % (b.size() - from); };
        switch (round % 6) {
        case 0: // a few flipped bits in the coded data
            for (int n = 1 + rng() % 8; n > 0; --n)
                b[pos(20)] ^= uint8_t(1u << (rng() % 8));
            break;
        case 1: // random bytes
            for (int n = 1 + rng() % 32; n > 0; --n)
                b[pos(20)] = uint8_t(rng());
            break;
        case 2: { // a stretch of zeros or of ones (long codes, endless runs)
            const size_t at = pos(20);
            const size_t len = std::min<size_t>(b.size() - at, 1 + rng() % 256);
            std::fill_n(b.begin() + at, len, round % 12 < 6 ? 0x00 : 0xff);
            break;
        }
        case 3: { // a stretch copied from elsewhere
            const size_t from = pos(20);
            const size_t to = pos(20);
            const size_t len = std::min({b.size() - from, b.size() - to, size_t(1 + rng() % 512)});
            std::copy_n(payload.begin() + from, len, b.begin() + to);
            break;
        }
        case 4: // a header word: type or size (as long as it matches the descriptor)
            putWord(b, 2 + rng() % 3, rng() % 8);
            break;
        case 5: // cut and damaged
            b.resize(20 + rng() % (b.size() - 20));
            b[pos(20)] ^= uint8_t(rng());
            break;
        }
        switch (tryDecode(b, s.width, s.height)) {
        case Outcome::Decoded:
            ++decoded;
            break;
        case Outcome::Rejected:
            ++rejected;
            break;
        case Outcome::WrongException:
            QFAIL(qPrintable(QStringLiteral("round %1: wrong exception or size").arg(round)));
        }
    }
    qInfo("%d corruptions: %d decoded, %d rejected", rounds, decoded, rejected);
    QCOMPARE(decoded + rejected, rounds);
}

void TestQuic::rejectsBadHeaders() {
    const Sample& s = sampleNamed("testserver-scroll-band-rgb32-256x16");
    const Bytes good = readPayload(s.name);
    QCOMPARE(tryDecode(good, s.width, s.height), Outcome::Decoded);

    auto withWord = [&](size_t index, uint32_t v) {
        Bytes b = good;
        putWord(b, index, v);
        return b;
    };
    const struct {
        const char* what;
        Bytes payload;
        uint32_t w;
        uint32_t h;
    } cases[] = {
        {"empty", {}, s.width, s.height},
        {"less than a header", Bytes(good.begin(), good.begin() + 19), s.width, s.height},
        {"header without look-ahead word", Bytes(good.begin(), good.begin() + 20), s.width, s.height},
        {"header and one word", Bytes(good.begin(), good.begin() + 24), s.width, s.height},
        {"bad magic", withWord(0, 0x43495552), s.width, s.height},
        {"version 0.1", withWord(1, 1), s.width, s.height},
        {"version 1.0", withWord(1, 0x10000), s.width, s.height},
        {"type invalid", withWord(2, 0), s.width, s.height},
        {"type 6", withWord(2, 6), s.width, s.height},
        {"type ~0", withWord(2, 0xffffffff), s.width, s.height},
        {"width differs", good, s.width + 1, s.height},
        {"height differs", good, s.width, s.height - 1},
        {"header width differs", withWord(3, s.width - 1), s.width, s.height},
        {"negative width", withWord(3, 0x80000000u | s.width), 0x80000000u | s.width, s.height},
        {"zero size", withWord(3, 0), 0, s.height},
        {"too wide", withWord(3, 20000), 20000, s.height},
    };
    for (const auto& c : cases) {
        const Outcome o = tryDecode(c.payload, c.w, c.h);
        QVERIFY2(o == Outcome::Rejected, c.what);
    }
}

// A header may claim a huge image; every coded sample takes at least one bit and runs only
// start from the third column of the second row, so a payload too short for even that is
// rejected up front instead of allocating the image first.
void TestQuic::rejectsShortStreamsBeforeAllocating() {
    Bytes b(64 * 4, 0);
    putWord(b, 0, 0x43495551);
    putWord(b, 1, 0);
    putWord(b, 2, kTypeRgb32);
    putWord(b, 3, 8192);
    putWord(b, 4, 8192);
    try {
        saffron::decodeQuic(b, 8192, 8192);
        QFAIL("accepted");
    } catch (const ProtocolError& e) {
        QVERIFY2(QByteArray(e.what()).contains("cannot hold"), e.what());
    }
}

void TestQuic::baselineBuildDecodesAlike_data() {
    survivesCorruption_data();
}

// On x86-64 decodeQuic runs a BMI2 build of its inner loop when the CPU has BMI2, so on most
// machines the baseline build would go untested. Both must agree on every sample and on
// damaged copies of it: the same pixels, or both a ProtocolError.
void TestQuic::baselineBuildDecodesAlike() {
    QFETCH(int, index);
    const Sample& s = kSamples[index].sample;
    const Bytes payload = readPayload(s.name);
    QVERIFY(payload.size() > 64);
    const auto decode = [&](const Bytes& b, auto decoder) -> std::vector<uint32_t> {
        try {
            return decoder(std::span<const uint8_t>(b), s.width, s.height).pixels;
        } catch (const ProtocolError&) {
            return {};
        }
    };
    const auto best = [](std::span<const uint8_t> b, uint32_t w, uint32_t h) {
        return saffron::decodeQuic(b, w, h);
    };
    const auto baseline = [](std::span<const uint8_t> b, uint32_t w, uint32_t h) {
        return saffron::detail::decodeQuicBaseline(b, w, h);
    };
    QCOMPARE(decode(payload, baseline), expectedPixels(s));
    std::mt19937 rng(4321 + index);
    for (int round = 0; round < 40; ++round) {
        Bytes b = payload;
        for (int n = 1 + rng() % 8; n > 0; --n)
            b[20 + rng() % (b.size() - 20)] ^= uint8_t(1u << (rng() % 8));
        if (round % 4 == 3)
            b.resize(20 + rng() % (b.size() - 20));
        QCOMPARE(decode(b, baseline), decode(b, best));
    }
}

// A rough figure for the record (not an assertion): run `test_quic decodeSpeed` on a release
// build; bytes of output per second = 4 * 256 * 192 / (the reported time).
void TestQuic::decodeSpeed() {
    const Sample& s = sampleNamed("testserver-photo-rgb32-256x192");
    const Bytes payload = readPayload(s.name);
    QBENCHMARK {
        const Pixmap p = saffron::decodeQuic(payload, s.width, s.height);
        QCOMPARE(p.width, int(s.width));
    }
}

QTEST_GUILESS_MAIN(TestQuic)
#include "test_quic.moc"
