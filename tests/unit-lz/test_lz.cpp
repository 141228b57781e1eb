// Unit tests of the LZ-family image decoders (session/codecs: LzDecoder, GlzDictionary,
// JpegAlphaDecoder).
//
// Test data (data/, see data/README.md):
//   real/       payloads captured from libspice-server 0.15 (saffron-test-server) with
//               SAFFRON_CAPTURE_IMAGES, and the server's expected screens (--dump-expected)
//   synthetic/  streams written by the reference encoders themselves (spice-common lz.c for every
//               LZ type, spice-server glz-encoder.c for GLZ sequences), with the SHA-256 of the
//               expected top-down pixels computed from the encoders' input images
// Besides pixel-exact decoding, every decoder must reject truncated, corrupted and hand-made
// hostile streams with ProtocolError, without crashing or touching memory it does not own (run
// the suite in the ASan build to check the latter).

#include "codecs/GlzDictionary.h"
#include "codecs/JpegAlphaDecoder.h"
#include "codecs/JpegDecoder.h"
#include "codecs/LzDecoder.h"
#include "wire/ProtocolError.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QTest>
#include <cstdio> // jpeglib.h uses FILE without including it
#include <functional>
#include <jpeglib.h>
#include <random>
#include <stdexcept>
#include <zlib.h>

using saffron::GlzDictionary;
using saffron::Pixmap;
using saffron::ProtocolError;

namespace {

using Bytes = std::vector<uint8_t>;

QString dataPath(const QString& relative) {
    return QStringLiteral(LZ_TEST_DATA "/") + relative;
}

Bytes readBytes(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        throw std::runtime_error("cannot read " + path.toStdString());
    const QByteArray a = f.readAll();
    return Bytes(a.begin(), a.end());
}

// The test server's --dump-expected output: binary PPM, "P6\n<w> <h>\n255\n" then RGB bytes.
Pixmap readPpm(const QString& path) {
    const Bytes b = readBytes(path);
    int w = 0, h = 0, max = 0, consumed = 0;
    if (std::sscanf(reinterpret_cast<const char*>(b.data()), "P6 %d %d %d%n", &w, &h, &max, &consumed) != 3 ||
        max != 255)
        throw std::runtime_error("bad ppm " + path.toStdString());
    const size_t start = size_t(consumed) + 1;
    if (b.size() < start + size_t(w) * h * 3)
        throw std::runtime_error("short ppm " + path.toStdString());
    Pixmap p(w, h);
    for (size_t i = 0; i < p.pixels.size(); ++i) {
        const size_t o = start + 3 * i;
        p.pixels[i] = 0xff000000u | uint32_t(b[o]) << 16 | uint32_t(b[o + 1]) << 8 | b[o + 2];
    }
    return p;
}

// SHA-256 of the pixels as little-endian 32-bit words, row by row (what the generator hashes).
QByteArray pixelHash(const Pixmap& p) {
    QCryptographicHash h(QCryptographicHash::Sha256);
    for (uint32_t v : p.pixels) {
        const char le[4] = {char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
        h.addData(QByteArrayView(le, 4));
    }
    return h.result().toHex();
}

// Compares `got` with rows [firstRow, firstRow + got.height) of `expected`.
QString compareRows(const Pixmap& got, const Pixmap& expected, int firstRow = 0) {
    if (got.width != expected.width || firstRow + got.height > expected.height)
        return QStringLiteral("size %1x%2 vs %3x%4")
            .arg(got.width)
            .arg(got.height)
            .arg(expected.width)
            .arg(expected.height);
    for (int y = 0; y < got.height; ++y)
        for (int x = 0; x < got.width; ++x)
            if (got.at(x, y) != expected.at(x, firstRow + y))
                return QStringLiteral("pixel (%1,%2): %3 expected %4")
                    .arg(x)
                    .arg(y)
                    .arg(got.at(x, y), 8, 16, QLatin1Char('0'))
                    .arg(expected.at(x, firstRow + y), 8, 16, QLatin1Char('0'));
    return {};
}

std::vector<uint32_t> readPalette(const QString& path) {
    const Bytes b = readBytes(path);
    std::vector<uint32_t> pal(b.size() / 4);
    for (size_t i = 0; i < pal.size(); ++i)
        pal[i] = uint32_t(b[4 * i]) | uint32_t(b[4 * i + 1]) << 8 | uint32_t(b[4 * i + 2]) << 16 |
                 uint32_t(b[4 * i + 3]) << 24;
    return pal;
}

QList<QStringList> manifest(const QString& kind) {
    QFile f(dataPath(QStringLiteral("synthetic/MANIFEST")));
    if (!f.open(QIODevice::ReadOnly))
        throw std::runtime_error("no MANIFEST");
    QList<QStringList> out;
    while (!f.atEnd()) {
        const QStringList fields = QString::fromUtf8(f.readLine()).trimmed().split(QLatin1Char(' '));
        if (fields.value(0) == kind)
            out.append(fields);
    }
    return out;
}

// Capture files of a folder, in capture order: <seq>-<TYPE>-<id>-<W>x<H>.bin.
struct Capture {
    QString path;
    QString type;
    uint32_t width = 0;
    uint32_t height = 0;
};

QList<Capture> captures(const QString& folder) {
    QList<Capture> out;
    const QDir dir(dataPath(folder));
    for (const QString& name : dir.entryList({QStringLiteral("*.bin")}, QDir::Files, QDir::Name)) {
        const QStringList parts = QString(name).chopped(4).split(QLatin1Char('-'));
        const QStringList size = parts.last().split(QLatin1Char('x'));
        out.append({dir.filePath(name), parts.value(1), size.value(0).toUInt(), size.value(1).toUInt()});
    }
    return out;
}

void appendBe32(Bytes& b, uint32_t v) {
    b.insert(b.end(), {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)});
}
void appendLe32(Bytes& b, uint32_t v) {
    b.insert(b.end(), {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)});
}

// Hand-made stream headers for the hostile cases (lz.c lz_encode / glz-encoder.c glz_encode).
Bytes lzHeader(uint32_t type, uint32_t w, uint32_t h, uint32_t stride, bool topDown = true) {
    Bytes b;
    for (uint32_t v : {0x20205a4cu, 0x00010001u, type, w, h, stride, uint32_t(topDown)})
        appendBe32(b, v);
    return b;
}
Bytes glzHeader(uint32_t type, uint32_t w, uint32_t h, uint64_t id, uint32_t headDistance,
                bool topDown = true) {
    Bytes b;
    appendBe32(b, 0x20205a4cu);
    appendBe32(b, 0x00010001u);
    b.push_back(uint8_t(type | (topDown ? 0x10 : 0)));
    const uint32_t bpp = type == 6 ? 2 : type == 7 ? 3 : 4;
    for (uint32_t v : {w, h, w * bpp})
        appendBe32(b, v);
    appendBe32(b, uint32_t(id >> 32));
    appendBe32(b, uint32_t(id));
    appendBe32(b, headDistance);
    return b;
}

constexpr uint32_t kRgb32 = 8;

// A GLZ RGB32 image of w x 1 pixels spelt out as literals: B,G,R of pixel i = i, 2i, 3i.
Bytes glzLiteralImage(uint32_t w, uint64_t id, uint32_t headDistance) {
    Bytes b = glzHeader(kRgb32, w, 1, id, headDistance);
    for (uint32_t done = 0; done < w;) {
        const uint32_t run = std::min(32u, w - done);
        b.push_back(uint8_t(run - 1));
        for (uint32_t i = done; i < done + run; ++i)
            b.insert(b.end(), {uint8_t(i), uint8_t(2 * i), uint8_t(3 * i)});
        done += run;
    }
    return b;
}

Bytes deflate(const Bytes& in, int level = 6) {
    uLongf size = compressBound(uLong(in.size()));
    Bytes out(size);
    if (compress2(out.data(), &size, in.data(), uLong(in.size()), level) != Z_OK)
        throw std::runtime_error("compress2 failed");
    out.resize(size);
    return out;
}

// ZlibGlzRGBData as on the wire: glz_data_size, data_size, data.
Bytes zlibGlzWire(const Bytes& glz, std::optional<uint32_t> claimedSize = {}) {
    const Bytes z = deflate(glz);
    Bytes b;
    appendLe32(b, claimedSize.value_or(uint32_t(glz.size())));
    appendLe32(b, uint32_t(z.size()));
    b.insert(b.end(), z.begin(), z.end());
    return b;
}

// A JFIF of `pixels` (0x??RRGGBB, top-down) as spice-server's jpeg-encoder.c writes one.
Bytes encodeJpeg(const std::vector<uint32_t>& pixels, int width, int height, int quality) {
    jpeg_compress_struct cinfo{};
    jpeg_error_mgr jerr{};
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    unsigned char* buffer = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&cinfo, &buffer, &size);
    cinfo.image_width = JDIMENSION(width);
    cinfo.image_height = JDIMENSION(height);
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    std::vector<uint8_t> row(size_t(width) * 3);
    while (cinfo.next_scanline < cinfo.image_height) {
        for (int x = 0; x < width; ++x) {
            const uint32_t p = pixels[size_t(cinfo.next_scanline) * width + x];
            row[3 * x] = uint8_t(p >> 16);
            row[3 * x + 1] = uint8_t(p >> 8);
            row[3 * x + 2] = uint8_t(p);
        }
        JSAMPROW r = row.data();
        jpeg_write_scanlines(&cinfo, &r, 1);
    }
    jpeg_finish_compress(&cinfo);
    Bytes out(buffer, buffer + size);
    jpeg_destroy_compress(&cinfo);
    std::free(buffer);
    return out;
}

// JPEGAlphaData as on the wire: flags, jpeg_size, data_size, JPEG + LZ XXXA stream.
Bytes jpegAlphaWire(const Bytes& jpeg, const Bytes& alpha, bool topDown) {
    Bytes b{uint8_t(topDown ? 1 : 0)};
    appendLe32(b, uint32_t(jpeg.size()));
    appendLe32(b, uint32_t(jpeg.size() + alpha.size()));
    b.insert(b.end(), jpeg.begin(), jpeg.end());
    b.insert(b.end(), alpha.begin(), alpha.end());
    return b;
}

std::vector<uint32_t> jpegSource(int w, int h) {
    std::vector<uint32_t> px(size_t(w) * h);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            px[size_t(y) * w + x] = uint32_t(x * 4) << 16 | uint32_t(y * 5) << 8 | uint32_t((x + y) * 2);
    return px;
}

// The JPEG_ALPHA sample: a 64x48 JPEG and the reference encoder's XXXA plane for it.
struct JpegAlphaSample {
    Bytes wire;
    Bytes jpeg;
    Bytes alphaTopDown; // expected alpha, top-down
    bool topDown = false;
};

JpegAlphaSample jpegAlphaSample(bool topDown) {
    const QString order = topDown ? QStringLiteral("td") : QStringLiteral("bu");
    JpegAlphaSample s;
    s.topDown = topDown;
    s.jpeg = encodeJpeg(jpegSource(64, 48), 64, 48, 85);
    s.alphaTopDown = readBytes(dataPath(QStringLiteral("synthetic/alpha-%1-64x48.a8").arg(order)));
    s.wire = jpegAlphaWire(
        s.jpeg, readBytes(dataPath(QStringLiteral("synthetic/lz-XXXA-%1-64x48.bin").arg(order))), topDown);
    return s;
}

// Expects `decode` to throw ProtocolError (and nothing else).
bool rejects(const std::function<void()>& decode) {
    try {
        decode();
    } catch (const ProtocolError&) {
        return true;
    }
    return false;
}

QString rejectionOf(const std::function<void()>& decode) {
    try {
        decode();
    } catch (const ProtocolError& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

// Flips a few random bytes of `data` many times; every decode must either succeed with an image
// of the right size or throw ProtocolError. Returns how many decodes were rejected.
int corruptMany(const Bytes& data, uint32_t seed, int rounds,
                const std::function<void(const Bytes&)>& decode) {
    std::mt19937 rng(seed);
    int rejected = 0;
    for (int round = 0; round < rounds; ++round) {
        Bytes copy = data;
        const int flips = 1 + int(rng() % 4);
        for (int i = 0; i < flips; ++i)
            copy[rng() % copy.size()] = uint8_t(rng());
        try {
            decode(copy);
        } catch (const ProtocolError&) {
            ++rejected;
        }
    }
    return rejected;
}

} // namespace

class TestLz : public QObject {
    Q_OBJECT

private slots:
    // --- LZ: reference encoder streams of every type ---
    void lzEveryType_data();
    void lzEveryType();
    void lzPaletteOutOfRange();
    // --- real server output ---
    void lzRealServer_data();
    void lzRealServer();
    void glzRealServer_data();
    void glzRealServer();
    // --- GLZ: reference encoder sequences ---
    void glzSequences_data();
    void glzSequences();
    void glzWindowReleasesImages();
    void glzCapacityBound();
    void glzMissingReferences();
    void glzDuplicateId();
    void zlibGlz();
    void zlibGlzBombsAndDamage();
    void jpegAlpha_data();
    void jpegAlpha();
    void jpegAlphaMismatches();
    // --- hostile hand-made LZ streams ---
    void lzHostileHeaders();
    void lzBackReferences();
    void lzFarDistance();
    // --- truncation and corruption of real streams ---
    void truncationsAtEveryLength();
    void randomCorruption();
};

void TestLz::lzEveryType_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<uint32_t>("width");
    QTest::addColumn<uint32_t>("height");
    QTest::addColumn<QString>("palette");
    QTest::addColumn<QByteArray>("hash");
    for (const QStringList& f : manifest(QStringLiteral("lz")))
        QTest::newRow(f[1].toUtf8().constData())
            << f[1] << f[2].toUInt() << f[3].toUInt() << f[4] << f[5].toUtf8();
}

void TestLz::lzEveryType() {
    QFETCH(QString, file);
    QFETCH(uint32_t, width);
    QFETCH(uint32_t, height);
    QFETCH(QString, palette);
    QFETCH(QByteArray, hash);
    const Bytes data = readBytes(dataPath(QStringLiteral("synthetic/") + file));
    const std::vector<uint32_t> pal = palette == QLatin1String("-")
                                          ? std::vector<uint32_t>{}
                                          : readPalette(dataPath(QStringLiteral("synthetic/") + palette));
    const Pixmap p = saffron::decodeLz(data, width, height, pal);
    QCOMPARE(p.width, int(width));
    QCOMPARE(p.height, int(height));
    QCOMPARE(p.hasAlpha, file.contains(QLatin1String("RGBA")) || file.contains(QLatin1String("A8")));
    QCOMPARE(pixelHash(p), hash);
    // A bytes-after-the-end stream is malformed (lz.c asserts it consumed everything).
    Bytes longer = data;
    longer.push_back(0);
    QVERIFY(rejects([&] { saffron::decodeLz(longer, width, height, pal); }));
}

void TestLz::lzPaletteOutOfRange() {
    // PLT8 with a 4-entry palette: indices past the palette are opaque black (BitmapDecoder.h).
    const Bytes data = readBytes(dataPath(QStringLiteral("synthetic/lz-PLT8-td-97x104.bin")));
    const std::vector<uint32_t> full = readPalette(dataPath(QStringLiteral("synthetic/palette-256.bin")));
    const std::vector<uint32_t> shortPal(full.begin(), full.begin() + 4);
    const Pixmap all = saffron::decodeLz(data, 97, 104, full);
    const Pixmap few = saffron::decodeLz(data, 97, 104, shortPal);
    int black = 0;
    for (size_t i = 0; i < all.pixels.size(); ++i) {
        const bool known =
            std::find(shortPal.begin(), shortPal.end(), all.pixels[i] & 0xffffffu) != shortPal.end();
        if (few.pixels[i] == 0xff000000u && !known)
            ++black;
        else
            QCOMPARE(few.pixels[i], all.pixels[i]);
    }
    QVERIFY(black > 1000);
    // Palette types need a palette.
    QVERIFY(rejects([&] { saffron::decodeLz(data, 97, 104, {}); }));
}

void TestLz::lzRealServer_data() {
    QTest::addColumn<QString>("capture");
    QTest::addColumn<QString>("expected");
    QTest::newRow("static 256x192") << QStringLiteral("real/static-lz")
                                    << QStringLiteral("real/static-256x192.ppm");
    QTest::newRow("photo 128x96") << QStringLiteral("real/photo-lz")
                                  << QStringLiteral("real/photo-128x96.ppm");
}

void TestLz::lzRealServer() {
    QFETCH(QString, capture);
    QFETCH(QString, expected);
    const QList<Capture> caps = captures(capture);
    QCOMPARE(caps.size(), 1);
    QCOMPARE(caps[0].type, QStringLiteral("LZ_RGB"));
    const Pixmap want = readPpm(dataPath(expected));
    const Pixmap got = saffron::decodeLz(readBytes(caps[0].path), caps[0].width, caps[0].height, {});
    QCOMPARE(got.hasAlpha, false);
    QCOMPARE(compareRows(got, want), QString());
}

// The scroll workload at 128x96, stopped after frame 40 (see the test server's README): frame k
// shows rows [(k-1)*16, (k-1)*16 + 96) of an endless document of text lines, each later frame
// scrolls the screen by 16 rows (COPY_BITS) and draws the new 16-row band at the bottom. The
// client connected after frame k0: the server first sent the whole screen (LZ_RGB, it has no
// drawable to GLZ-encode), then one band per frame up to 40. The bands repeat text lines of
// earlier bands, which GLZ encodes as references to earlier images. The expected document is
// the first 736 rows, dumped as the screen of a 128x736 server at frame 1.
void TestLz::glzRealServer_data() {
    QTest::addColumn<QString>("folder");
    QTest::addColumn<QString>("compressedType");
    QTest::newRow("GLZ_RGB") << QStringLiteral("real/scroll-glz") << QStringLiteral("GLZ_RGB");
    QTest::newRow("ZLIB_GLZ_RGB") << QStringLiteral("real/scroll-zlib-glz") << QStringLiteral("ZLIB_GLZ_RGB");
}

void TestLz::glzRealServer() {
    QFETCH(QString, folder);
    QFETCH(QString, compressedType);
    constexpr int kLastFrame = 40;
    constexpr int kBand = 16;
    constexpr int kScreenHeight = 96;
    const QList<Capture> caps = captures(folder);
    QVERIFY(caps.size() > 10);
    const int firstFrame = kLastFrame - int(caps.size() - 1);
    const Pixmap document = readPpm(dataPath(QStringLiteral("real/scroll-document-128x736.ppm")));

    QCOMPARE(caps[0].type, QStringLiteral("LZ_RGB"));
    const Pixmap screen = saffron::decodeLz(readBytes(caps[0].path), caps[0].width, caps[0].height, {});
    QCOMPARE(compareRows(screen, document, (firstFrame - 1) * kBand), QString());

    GlzDictionary dict;
    int referencing = 0;
    for (int i = 1; i < caps.size(); ++i) {
        const Capture& c = caps[i];
        QCOMPARE(c.type, compressedType);
        const Bytes data = readBytes(c.path);
        auto decodeWith = [&](GlzDictionary& d) {
            return c.type == QLatin1String("GLZ_RGB") ? d.decode(data, c.width, c.height)
                                                      : saffron::decodeZlibGlz(data, c.width, c.height, d);
        };
        // Does the image reference earlier ones? An empty dictionary cannot resolve them.
        GlzDictionary empty;
        if (rejects([&] { decodeWith(empty); }))
            ++referencing;
        const Pixmap band = decodeWith(dict);
        QCOMPARE(band.height, kBand);
        const int frame = firstFrame + i;
        QVERIFY2(compareRows(band, document, (frame - 1) * kBand + kScreenHeight - kBand).isEmpty(),
                 qPrintable(c.path + QLatin1String(": ") +
                            compareRows(band, document, (frame - 1) * kBand + kScreenHeight - kBand)));
    }
    QVERIFY2(referencing >= caps.size() / 2, qPrintable(QString::number(referencing)));
    QCOMPARE(dict.imageCount(), size_t(caps.size() - 1));
}

void TestLz::glzSequences_data() {
    QTest::addColumn<QString>("tag");
    for (const char* tag : {"rgb32", "rgba", "rgb16", "rgb24", "window"})
        QTest::newRow(tag) << QString::fromLatin1(tag);
}

void TestLz::glzSequences() {
    QFETCH(QString, tag);
    GlzDictionary dict;
    int referencing = 0;
    for (const QStringList& f : manifest(QStringLiteral("glz"))) {
        if (f[1] != tag)
            continue;
        const Bytes data = readBytes(dataPath(QStringLiteral("synthetic/") + f[2]));
        GlzDictionary empty;
        if (rejects([&] { empty.decode(data, f[3].toUInt(), f[4].toUInt()); }))
            ++referencing;
        const Pixmap p = dict.decode(data, f[3].toUInt(), f[4].toUInt());
        QCOMPARE(p.hasAlpha, tag == QLatin1String("rgba"));
        QVERIFY2(pixelHash(p) == f[5].toUtf8(), qPrintable(f[2]));
    }
    QVERIFY(referencing >= 1);
}

void TestLz::glzWindowReleasesImages() {
    // The "window" sequence was encoded with a window of 3 images: from image 3 on, the server
    // says (win_head_dist 2) that only the last 3 images are still referenced.
    GlzDictionary dict;
    QList<QStringList> seq;
    for (const QStringList& f : manifest(QStringLiteral("glz")))
        if (f[1] == QLatin1String("window"))
            seq.append(f);
    QCOMPARE(seq.size(), 7);
    for (int i = 0; i < seq.size(); ++i) {
        dict.decode(readBytes(dataPath(QStringLiteral("synthetic/") + seq[i][2])), 64, 32);
        QCOMPARE(dict.imageCount(), size_t(std::min(i + 1, 3)));
        QVERIFY(dict.contains(uint64_t(i)));
        QCOMPARE(dict.contains(uint64_t(i) - 3), false);
    }
    QCOMPARE(dict.storedPixels(), uint64_t(3 * 64 * 32));
    // Decoding image 3 again needs images 1 and 2, which are gone now.
    const Bytes image3 = readBytes(dataPath(QStringLiteral("synthetic/") + seq[3][2]));
    const QString why = rejectionOf([&] { dict.decode(image3, 64, 32); });
    QVERIFY2(why.contains(QLatin1String("not in the dictionary")), qPrintable(why));
    dict.clear();
    QCOMPARE(dict.imageCount(), size_t(0));
    QCOMPARE(dict.storedPixels(), uint64_t(0));
}

void TestLz::glzCapacityBound() {
    // A server that never releases anything (win_head_dist = id) cannot grow the dictionary past
    // 1.5 windows: the oldest images go, and references to them fail cleanly.
    GlzDictionary dict(1000); // capacity 1500 pixels
    for (uint64_t id = 0; id < 20; ++id) {
        dict.decode(glzLiteralImage(400, id, uint32_t(id)), 400, 1);
        QVERIFY(dict.storedPixels() <= dict.capacityPixels());
    }
    QCOMPARE(dict.imageCount(), size_t(3));
    QVERIFY(dict.contains(19) && dict.contains(17) && !dict.contains(16));
    // An image larger than the capacity is decoded but not kept.
    dict.decode(glzLiteralImage(2000, 20, 0), 2000, 1);
    QVERIFY(!dict.contains(20));
    QVERIFY(dict.storedPixels() <= dict.capacityPixels());
}

void TestLz::glzMissingReferences() {
    GlzDictionary dict;
    // Image 5, two pixels copied from image 4 (short form: length 2, offset 0, distance 1).
    Bytes refersTo4 = glzHeader(kRgb32, 2, 1, 5, 1);
    refersTo4.insert(refersTo4.end(), {0x40, 0x00, 0x01});
    QString why = rejectionOf([&] { dict.decode(refersTo4, 2, 1); });
    QVERIFY2(why.contains(QLatin1String("image 4, which is not in the dictionary")), qPrintable(why));
    QCOMPARE(dict.imageCount(), size_t(0)); // a failed decode stores nothing

    dict.decode(glzLiteralImage(2, 4, 0), 2, 1);
    const Pixmap copy = dict.decode(refersTo4, 2, 1);
    QCOMPARE(copy.at(0, 0), 0xff000000u);
    QCOMPARE(copy.at(1, 0), 0xff030201u);

    // Past the end of the referenced image: offset 1, length 2 of a 2-pixel image.
    Bytes pastEnd = glzHeader(kRgb32, 2, 1, 6, 2);
    pastEnd.insert(pastEnd.end(), {0x41, 0x00, 0x02});
    QVERIFY(rejects([&] { dict.decode(pastEnd, 2, 1); }));
    // Long form: offset bits 12-24 far beyond the image.
    Bytes farOffset = glzHeader(kRgb32, 2, 1, 6, 2);
    farOffset.insert(farOffset.end(), {0x50, 0x00, 0x7f, 0x02, 0xff});
    QVERIFY(rejects([&] { dict.decode(farOffset, 2, 1); }));
    // A distance larger than the id itself (the extra distance bytes make it 2^22 + ...).
    Bytes belowZero = glzHeader(kRgb32, 2, 1, 6, 0);
    belowZero.insert(belowZero.end(), {0x40, 0x00, 0xc1, 0xff, 0xff, 0xff});
    why = rejectionOf([&] { dict.decode(belowZero, 2, 1); });
    QVERIFY2(why.contains(QLatin1String("below id 0")), qPrintable(why));
    // Inside the image, a back-reference before its first pixel.
    Bytes before = glzHeader(kRgb32, 4, 1, 7, 0);
    before.insert(before.end(), {0x00, 1, 2, 3, 0x21, 0x00, 0x00});
    QVERIFY(rejects([&] { dict.decode(before, 4, 1); }));
    // Unsupported types: palette, A8, XXXA.
    for (uint32_t type : {1u, 5u, 10u, 11u, 0u, 15u}) {
        Bytes b = glzHeader(type, 2, 1, 8, 0);
        b.insert(b.end(), {0x01, 1, 2, 3, 4, 5, 6});
        QVERIFY(rejects([&] { dict.decode(b, 2, 1); }));
    }
    // Header disagreeing with the descriptor.
    QVERIFY(rejects([&] { dict.decode(glzLiteralImage(3, 9, 0), 4, 1); }));
    // A tiny stream announcing a huge image is rejected before allocating it.
    Bytes huge = glzHeader(kRgb32, 16384, 4096, 10, 0);
    huge.insert(huge.end(), {0x00, 1, 2, 3});
    why = rejectionOf([&] { dict.decode(huge, 16384, 4096); });
    QVERIFY2(why.contains(QLatin1String("cannot hold")), qPrintable(why));
}

void TestLz::glzDuplicateId() {
    GlzDictionary dict;
    dict.decode(glzLiteralImage(10, 1, 0), 10, 1);
    dict.decode(glzLiteralImage(20, 1, 0), 20, 1);
    QCOMPARE(dict.imageCount(), size_t(1));
    QCOMPARE(dict.storedPixels(), uint64_t(20));
}

void TestLz::zlibGlz() {
    // The synthetic rgb32 sequence, each image wrapped the way zlib-encoder.c does.
    GlzDictionary dict;
    for (const QStringList& f : manifest(QStringLiteral("glz"))) {
        if (f[1] != QLatin1String("rgb32"))
            continue;
        const Bytes wire = zlibGlzWire(readBytes(dataPath(QStringLiteral("synthetic/") + f[2])));
        Bytes withTrailer = wire;
        withTrailer.insert(withTrailer.end(), 7, 0xee); // the rest of the message is ignored
        const Pixmap p = saffron::decodeZlibGlz(withTrailer, f[3].toUInt(), f[4].toUInt(), dict);
        QCOMPARE(pixelHash(p), f[5].toUtf8());
    }
    QCOMPARE(dict.imageCount(), size_t(5));
}

void TestLz::zlibGlzBombsAndDamage() {
    GlzDictionary dict;
    const Bytes glz = glzLiteralImage(100, 1, 0);
    // Claims far more than any 100x1 GLZ image needs.
    QString why = rejectionOf([&] { saffron::decodeZlibGlz(zlibGlzWire(glz, 0xfffffff0u), 100, 1, dict); });
    QVERIFY2(why.contains(QLatin1String("implausible inflated size")), qPrintable(why));
    // A real bomb: 64 MiB of zeros deflate to ~64 KiB, more than any 1024x1024 image needs.
    const Bytes zeros(64u << 20, 0);
    const Bytes bomb = deflate(zeros, 9);
    Bytes wire;
    appendLe32(wire, uint32_t(zeros.size()));
    appendLe32(wire, uint32_t(bomb.size()));
    wire.insert(wire.end(), bomb.begin(), bomb.end());
    why = rejectionOf([&] { saffron::decodeZlibGlz(wire, 1024, 1024, dict); });
    QVERIFY2(why.contains(QLatin1String("implausible inflated size")), qPrintable(why));
    // Within the image's bound, a claim far beyond zlib's ratio for the bytes sent.
    why = rejectionOf([&] { saffron::decodeZlibGlz(zlibGlzWire(glz, 3'000'000), 1024, 1024, dict); });
    QVERIFY2(why.contains(QLatin1String("implausible inflated size")), qPrintable(why));
    // Claiming less than it inflates to.
    why = rejectionOf(
        [&] { saffron::decodeZlibGlz(zlibGlzWire(glz, uint32_t(glz.size() - 10)), 100, 1, dict); });
    QVERIFY2(why.contains(QLatin1String("more than")), qPrintable(why));
    // Claiming more than it inflates to.
    why = rejectionOf(
        [&] { saffron::decodeZlibGlz(zlibGlzWire(glz, uint32_t(glz.size() + 10)), 100, 1, dict); });
    QVERIFY2(why.contains(QLatin1String("not the announced")), qPrintable(why));
    // A deflate stream cut short.
    Bytes cut = zlibGlzWire(glz);
    cut.resize(cut.size() - 6);
    cut[4] = uint8_t(cut.size() - 8);
    why = rejectionOf([&] { saffron::decodeZlibGlz(cut, 100, 1, dict); });
    QVERIFY2(why.contains(QLatin1String("truncated")), qPrintable(why));
    // data_size beyond the message; no zlib stream at all.
    Bytes shortWire = zlibGlzWire(glz);
    shortWire.resize(shortWire.size() - 1);
    QVERIFY(rejects([&] { saffron::decodeZlibGlz(shortWire, 100, 1, dict); }));
    Bytes garbage;
    appendLe32(garbage, 400);
    appendLe32(garbage, 4);
    garbage.insert(garbage.end(), {1, 2, 3, 4});
    QVERIFY(rejects([&] { saffron::decodeZlibGlz(garbage, 100, 1, dict); }));
    QVERIFY(rejects([&] { saffron::decodeZlibGlz(Bytes{1, 2, 3}, 100, 1, dict); }));
    QCOMPARE(dict.imageCount(), size_t(0));
    QCOMPARE(saffron::decodeZlibGlz(zlibGlzWire(glz), 100, 1, dict).at(99, 0), 0xff29c663u);
}

void TestLz::jpegAlpha_data() {
    QTest::addColumn<bool>("topDown");
    QTest::newRow("top-down") << true;
    QTest::newRow("bottom-up") << false;
}

void TestLz::jpegAlpha() {
    QFETCH(bool, topDown);
    const JpegAlphaSample s = jpegAlphaSample(topDown);
    Bytes withTrailer = s.wire;
    withTrailer.insert(withTrailer.end(), 5, 0xaa);
    const Pixmap got = saffron::decodeJpegAlpha(withTrailer, 64, 48);
    const Pixmap colour = saffron::decodeJpeg(s.jpeg, 64, 48);
    QVERIFY(got.hasAlpha);
    int translucent = 0;
    for (int y = 0; y < 48; ++y)
        for (int x = 0; x < 64; ++x) {
            const uint32_t a = s.alphaTopDown[size_t(y) * 64 + x];
            const uint32_t c = colour.at(x, y);
            const uint32_t want = a << 24 | std::min((c >> 16) & 0xff, a) << 16 |
                                  std::min((c >> 8) & 0xff, a) << 8 | std::min(c & 0xff, a);
            QCOMPARE(got.at(x, y), want);
            translucent += a != 0 && a != 255;
        }
    QVERIFY(translucent > 100);
}

void TestLz::jpegAlphaMismatches() {
    const JpegAlphaSample s = jpegAlphaSample(true);
    // TOP_DOWN flag disagreeing with the alpha stream's own row order.
    Bytes flipped = s.wire;
    flipped[0] = 0;
    QString why = rejectionOf([&] { saffron::decodeJpegAlpha(flipped, 64, 48); });
    QVERIFY2(why.contains(QLatin1String("row order")), qPrintable(why));
    // Wrong descriptor size (the JPEG says 64x48).
    QVERIFY(rejects([&] { saffron::decodeJpegAlpha(s.wire, 64, 47); }));
    // jpeg_size covering all data, or zero.
    for (uint32_t jpegSize : {0u, uint32_t(s.wire.size() - 9), 0xffffffffu}) {
        Bytes b = s.wire;
        b[1] = uint8_t(jpegSize);
        b[2] = uint8_t(jpegSize >> 8);
        b[3] = uint8_t(jpegSize >> 16);
        b[4] = uint8_t(jpegSize >> 24);
        QVERIFY(rejects([&] { saffron::decodeJpegAlpha(b, 64, 48); }));
    }
    // An alpha stream that is not XXXA (an RGB32 LZ stream of the right size).
    const Bytes lzRgb = lzHeader(kRgb32, 64, 48, 256);
    why = rejectionOf([&] { saffron::decodeJpegAlpha(jpegAlphaWire(s.jpeg, lzRgb, true), 64, 48); });
    QVERIFY2(why.contains(QLatin1String("instead of XXXA")), qPrintable(why));
    // XXXA is only valid inside JPEG_ALPHA.
    const Bytes xxxa = readBytes(dataPath(QStringLiteral("synthetic/lz-XXXA-td-64x48.bin")));
    QVERIFY(rejects([&] { saffron::decodeLz(xxxa, 64, 48, {}); }));
}

void TestLz::lzHostileHeaders() {
    const Bytes good = readBytes(dataPath(QStringLiteral("synthetic/lz-RGB32-td-97x104.bin")));
    auto patched = [&](size_t word, uint32_t value) {
        Bytes b = good;
        b[4 * word] = uint8_t(value >> 24);
        b[4 * word + 1] = uint8_t(value >> 16);
        b[4 * word + 2] = uint8_t(value >> 8);
        b[4 * word + 3] = uint8_t(value);
        return b;
    };
    QVERIFY(!rejects([&] { saffron::decodeLz(good, 97, 104, {}); }));
    QVERIFY(rejects([&] { saffron::decodeLz(patched(0, 0x12345678), 97, 104, {}); })); // magic
    QVERIFY(rejects([&] { saffron::decodeLz(patched(1, 0x00020000), 97, 104, {}); })); // version
    QVERIFY(rejects([&] { saffron::decodeLz(patched(2, 0), 97, 104, {}); }));          // type
    QVERIFY(rejects([&] { saffron::decodeLz(patched(2, 12), 97, 104, {}); }));         // type
    QVERIFY(rejects([&] { saffron::decodeLz(patched(3, 96), 97, 104, {}); }));         // width
    QVERIFY(rejects([&] { saffron::decodeLz(patched(4, 105), 97, 104, {}); }));        // height
    QVERIFY(rejects([&] { saffron::decodeLz(patched(5, 97 * 4 + 4), 97, 104, {}); })); // stride
    QVERIFY(rejects([&] { saffron::decodeLz(good, 0, 104, {}); }));
    QVERIFY(rejects([&] { saffron::decodeLz(good, 97, 20000, {}); }));
    // The header is checked against the descriptor before the size: a tiny stream for a big
    // image never allocates it.
    Bytes huge = lzHeader(kRgb32, 16384, 4096, 16384 * 4);
    huge.insert(huge.end(), {0x00, 1, 2, 3});
    const QString why = rejectionOf([&] { saffron::decodeLz(huge, 16384, 4096, {}); });
    QVERIFY2(why.contains(QLatin1String("cannot hold")), qPrintable(why));
    // PLT rows must have exactly the bytes their pixels need.
    const Bytes plt = readBytes(dataPath(QStringLiteral("synthetic/lz-PLT1_BE-td-97x104.bin")));
    const std::vector<uint32_t> pal{0, 0xffffff};
    Bytes wideStride = plt;
    wideStride[23] = 14;
    QVERIFY(rejects([&] { saffron::decodeLz(wideStride, 97, 104, pal); }));
}

void TestLz::lzBackReferences() {
    // RGB32 4x1. A reference at the very first pixel (distance 1 from pixel 0).
    Bytes b = lzHeader(kRgb32, 4, 1, 16);
    b.insert(b.end(), {0x20, 0x00});
    QString why = rejectionOf([&] { saffron::decodeLz(b, 4, 1, {}); });
    QVERIFY2(why.contains(QLatin1String("before unit 0")), qPrintable(why));
    // One literal, then a reference of 3 pixels at distance 2 (only 1 pixel exists).
    b = lzHeader(kRgb32, 4, 1, 16);
    b.insert(b.end(), {0x00, 1, 2, 3, 0x60, 0x01});
    QVERIFY(rejects([&] { saffron::decodeLz(b, 4, 1, {}); }));
    // A run (distance 1) that is longer than what is left of the image.
    b = lzHeader(kRgb32, 4, 1, 16);
    b.insert(b.end(), {0x00, 1, 2, 3, 0xe0, 0x05, 0x00});
    why = rejectionOf([&] { saffron::decodeLz(b, 4, 1, {}); });
    QVERIFY2(why.contains(QLatin1String("past the end")), qPrintable(why));
    // A literal run past the end.
    b = lzHeader(kRgb32, 4, 1, 16);
    b.push_back(0x04);
    for (int i = 0; i < 15; ++i)
        b.push_back(uint8_t(i));
    QVERIFY(rejects([&] { saffron::decodeLz(b, 4, 1, {}); }));
    // The same run, correctly sized: one literal and a run of 3 (length code 3 - 1 + 1).
    b = lzHeader(kRgb32, 4, 1, 16, false);
    b.insert(b.end(), {0x00, 0x10, 0x20, 0x30, 0x60, 0x00});
    const Pixmap run = saffron::decodeLz(b, 4, 1, {});
    for (int x = 0; x < 4; ++x)
        QCOMPARE(run.at(x, 0), 0xff302010u);
    // A length extension that never ends (255s until the data runs out).
    b = lzHeader(kRgb32, 4, 1, 16);
    b.insert(b.end(), {0x00, 1, 2, 3, 0xe0});
    b.insert(b.end(), 100, 0xff);
    QVERIFY(rejects([&] { saffron::decodeLz(b, 4, 1, {}); }));
    // Empty payload, header only.
    QVERIFY(rejects([&] { saffron::decodeLz(lzHeader(kRgb32, 4, 1, 16), 4, 1, {}); }));
}

void TestLz::lzFarDistance() {
    // 8200x1 RGB32: 8193 literal pixels, then 7 pixels from the far distance 8193 (pixel 0 on).
    // Far distances are 16-bit + 8191, announced by the short distance 31/255.
    auto build = [](uint8_t low) {
        Bytes b = lzHeader(kRgb32, 8200, 1, 8200 * 4);
        for (uint32_t done = 0; done < 8193;) {
            const uint32_t run = std::min(32u, 8193 - done);
            b.push_back(uint8_t(run - 1));
            for (uint32_t i = done; i < done + run; ++i)
                b.insert(b.end(), {uint8_t(i), uint8_t(i >> 8), uint8_t(i >> 16)});
            done += run;
        }
        b.insert(b.end(), {0xff, 0x00, 0xff, 0x00, low});
        return b;
    };
    const Pixmap p = saffron::decodeLz(build(1), 8200, 1, {});
    for (int x = 0; x < 7; ++x)
        QCOMPARE(p.at(8193 + x, 0), p.at(x, 0));
    QCOMPARE(p.at(8193 + 6, 0), 0xff000006u);
    QVERIFY(rejects([&] { saffron::decodeLz(build(2), 8200, 1, {}); }));
}

void TestLz::truncationsAtEveryLength() {
    struct Case {
        const char* name;
        Bytes data;
        std::function<void(std::span<const uint8_t>)> decode;
    };
    std::vector<Case> cases;
    auto lzCase = [&](const char* file, uint32_t w, uint32_t h, std::vector<uint32_t> pal) {
        cases.push_back({file, readBytes(dataPath(QStringLiteral("synthetic/") + QLatin1String(file))),
                         [=](std::span<const uint8_t> d) { saffron::decodeLz(d, w, h, pal); }});
    };
    lzCase("lz-RGB32-bu-97x104.bin", 97, 104, {});
    lzCase("lz-RGB16-td-97x104.bin", 97, 104, {});
    lzCase("lz-RGBA-bu-97x104.bin", 97, 104, {});
    lzCase("lz-A8-td-97x104.bin", 97, 104, {});
    lzCase("lz-PLT4_LE-bu-97x104.bin", 97, 104,
           readPalette(dataPath(QStringLiteral("synthetic/palette-16.bin"))));
    // GLZ: the second image of the rgba sequence, against a dictionary holding the first.
    auto dict = std::make_shared<GlzDictionary>();
    QList<QStringList> rgba;
    for (const QStringList& f : manifest(QStringLiteral("glz")))
        if (f[1] == QLatin1String("rgba"))
            rgba.append(f);
    dict->decode(readBytes(dataPath(QStringLiteral("synthetic/") + rgba[0][2])), 64, 40);
    cases.push_back({"glz rgba 1", readBytes(dataPath(QStringLiteral("synthetic/") + rgba[1][2])),
                     [dict](std::span<const uint8_t> d) { dict->decode(d, 64, 40); }});
    const QList<Capture> real = captures(QStringLiteral("real/static-lz"));
    cases.push_back({"real static lz", readBytes(real[0].path),
                     [](std::span<const uint8_t> d) { saffron::decodeLz(d, 256, 192, {}); }});
    cases.push_back({"zlib glz", zlibGlzWire(glzLiteralImage(300, 1, 0)),
                     [dict](std::span<const uint8_t> d) { saffron::decodeZlibGlz(d, 300, 1, *dict); }});
    cases.push_back({"jpeg alpha", jpegAlphaSample(false).wire,
                     [](std::span<const uint8_t> d) { saffron::decodeJpegAlpha(d, 64, 48); }});

    for (const Case& c : cases) {
        const std::span<const uint8_t> all(c.data);
        c.decode(all); // the whole stream decodes
        const size_t imagesBefore = dict->imageCount();
        for (size_t len = 0; len < all.size(); ++len) {
            // Truncated copies on the heap, so that ASan sees any read past the end.
            const Bytes prefix(all.begin(), all.begin() + len);
            if (!rejects([&] { c.decode(prefix); }))
                QFAIL(qPrintable(
                    QStringLiteral("%1: prefix of %2 bytes accepted").arg(QLatin1String(c.name)).arg(len)));
        }
        QCOMPARE(dict->imageCount(), imagesBefore);
    }
}

void TestLz::randomCorruption() {
    int decodes = 0;
    int rejected = 0;
    auto run = [&](const Bytes& data, uint32_t seed, const std::function<void(const Bytes&)>& decode) {
        constexpr int kRounds = 1500;
        rejected += corruptMany(data, seed, kRounds, decode);
        decodes += kRounds;
    };
    const std::vector<uint32_t> pal16 = readPalette(dataPath(QStringLiteral("synthetic/palette-16.bin")));
    for (const char* file : {"lz-RGB32-td-97x104.bin", "lz-RGBA-bu-97x104.bin", "lz-RGB16-bu-97x104.bin",
                             "lz-PLT4_BE-td-97x104.bin", "lz-A8-bu-97x104.bin"}) {
        const Bytes data = readBytes(dataPath(QStringLiteral("synthetic/") + QLatin1String(file)));
        run(data, uint32_t(data.size()), [&](const Bytes& d) {
            const Pixmap p = saffron::decodeLz(d, 97, 104, pal16);
            QCOMPARE(p.pixels.size(), size_t(97 * 104));
        });
    }
    // GLZ: corrupt the later images of the rgb32 sequence against a dictionary of the earlier.
    QList<QStringList> rgb32;
    for (const QStringList& f : manifest(QStringLiteral("glz")))
        if (f[1] == QLatin1String("rgb32"))
            rgb32.append(f);
    GlzDictionary dict;
    for (int i = 0; i < 3; ++i)
        dict.decode(readBytes(dataPath(QStringLiteral("synthetic/") + rgb32[i][2])), rgb32[i][3].toUInt(),
                    rgb32[i][4].toUInt());
    for (int i = 3; i < 5; ++i) {
        const uint32_t w = rgb32[i][3].toUInt(), h = rgb32[i][4].toUInt();
        run(readBytes(dataPath(QStringLiteral("synthetic/") + rgb32[i][2])), 77 + i, [&](const Bytes& d) {
            GlzDictionary copy = dict;
            const Pixmap p = copy.decode(d, w, h);
            QCOMPARE(p.pixels.size(), size_t(w) * h);
        });
        run(zlibGlzWire(readBytes(dataPath(QStringLiteral("synthetic/") + rgb32[i][2]))), 99 + i,
            [&](const Bytes& d) {
                GlzDictionary copy = dict;
                const Pixmap p = saffron::decodeZlibGlz(d, w, h, copy);
                QCOMPARE(p.pixels.size(), size_t(w) * h);
            });
    }
    run(jpegAlphaSample(true).wire, 5, [&](const Bytes& d) {
        const Pixmap p = saffron::decodeJpegAlpha(d, 64, 48);
        QCOMPARE(p.pixels.size(), size_t(64 * 48));
    });
    qInfo("%d corrupted decodes, %d rejected with ProtocolError", decodes, rejected);
    QVERIFY(rejected > decodes / 4);
}

QTEST_GUILESS_MAIN(TestLz)
#include "test_lz.moc"
