// Unit tests of the SPICE image pixel decoders (session/codecs): every uncompressed bitmap
// format, LZ4 images as spice-server encodes them, and JPEG through libjpeg.

#include "CodecTestEncoders.h"
#include "codecs/BitmapDecoder.h"
#include "codecs/JpegDecoder.h"
#include "codecs/Lz4ImageDecoder.h"
#include "wire/ProtocolError.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTest>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <spice/enums.h>

using saffron::BitmapInfo;
using saffron::Pixmap;
using saffron::ProtocolError;

namespace {

using Bytes = std::vector<uint8_t>;
using Words = std::vector<uint32_t>;

Words pixelsOf(const Pixmap& p) {
    return p.pixels;
}

// Straightforward per-pixel reference for the bitmap formats, written independently of the
// decoder's row loops: the pixel at (x, y) of the image as seen top-down.
uint32_t referencePixel(const BitmapInfo& info, const Bytes& data, const Words& palette, uint32_t x,
                        uint32_t y) {
    const uint32_t srcRow = info.topDown ? y : info.height - 1 - y;
    const size_t base = size_t(srcRow) * info.stride;
    auto pal = [&](uint32_t i) {
        return i < palette.size() ? 0xff000000u | (palette[i] & 0xffffffu) : 0xff000000u;
    };
    auto expand5 = [](uint32_t v) { return v << 3 | v >> 2; }; // bit replication, as pixman widens x1r5g5b5
    switch (info.format) {
    case SPICE_BITMAP_FMT_1BIT_LE:
        return pal((data[base + x / 8] >> (x % 8)) & 1);
    case SPICE_BITMAP_FMT_1BIT_BE:
        return pal((data[base + x / 8] >> (7 - x % 8)) & 1);
    case SPICE_BITMAP_FMT_4BIT_LE:
        return pal((data[base + x / 2] >> (x % 2 ? 4 : 0)) & 15);
    case SPICE_BITMAP_FMT_4BIT_BE:
        return pal((data[base + x / 2] >> (x % 2 ? 0 : 4)) & 15);
    case SPICE_BITMAP_FMT_8BIT:
        return pal(data[base + x]);
    case SPICE_BITMAP_FMT_8BIT_A:
        return uint32_t(data[base + x]) << 24;
    case SPICE_BITMAP_FMT_16BIT: {
        const uint32_t v = data[base + 2 * x] | data[base + 2 * x + 1] << 8;
        return 0xff000000u | expand5((v >> 10) & 31) << 16 | expand5((v >> 5) & 31) << 8 | expand5(v & 31);
    }
    case SPICE_BITMAP_FMT_24BIT: {
        const size_t i = base + 3 * size_t(x);
        return 0xff000000u | uint32_t(data[i + 2]) << 16 | uint32_t(data[i + 1]) << 8 | data[i];
    }
    case SPICE_BITMAP_FMT_32BIT:
    case SPICE_BITMAP_FMT_RGBA: {
        const size_t i = base + 4 * size_t(x);
        const uint32_t a = info.format == SPICE_BITMAP_FMT_RGBA ? data[i + 3] : 0xff;
        return a << 24 | uint32_t(data[i + 2]) << 16 | uint32_t(data[i + 1]) << 8 | data[i];
    }
    }
    return 0;
}

Words referenceImage(const BitmapInfo& info, const Bytes& data, const Words& palette) {
    Words out;
    for (uint32_t y = 0; y < info.height; ++y)
        for (uint32_t x = 0; x < info.width; ++x)
            out.push_back(referencePixel(info, data, palette, x, y));
    return out;
}

const Words kPalette = {0x000000, 0xff0000, 0x00ff00, 0x0000ff, 0xffffff, 0x123456, 0x808080, 0xabcdef,
                        0x010203, 0x040506, 0x070809, 0x0a0b0c, 0x0d0e0f, 0x101112, 0x131415, 0x161718};

// Comparing a JPEG decode against its source: the largest per-channel difference and the mean.
struct ChannelError {
    int max = 0;
    double mean = 0;
};

ChannelError compareRgb(const Words& a, const Words& b) {
    ChannelError e;
    long sum = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        for (int shift : {0, 8, 16}) {
            const int d = std::abs(int((a[i] >> shift) & 0xff) - int((b[i] >> shift) & 0xff));
            e.max = std::max(e.max, d);
            sum += d;
        }
    }
    e.mean = double(sum) / double(a.size() * 3);
    return e;
}

// A smooth test picture: gradients plus gentle colour variation, the kind of content a SPICE
// server hands to JPEG (photos, video), where chroma subsampling loses little.
Words smoothPicture(int w, int h) {
    Words p(size_t(w) * h);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const uint32_t r = uint32_t(x * 255 / (w - 1));
            const uint32_t g = uint32_t(y * 255 / (h - 1));
            const uint32_t b = uint32_t(std::lround(128 + 100 * std::sin((x + 2 * y) / 12.0)));
            p[size_t(y) * w + x] = 0xff000000u | r << 16 | g << 8 | b;
        }
    return p;
}

} // namespace

class TestCodecs : public QObject {
    Q_OBJECT

private slots:
    // ---- uncompressed bitmaps ----

    void bitmap32TopDown() {
        const Bytes data = {0x01, 0x02, 0x03, 0x00, 0x11, 0x12, 0x13, 0x7f, //
                            0x21, 0x22, 0x23, 0xff, 0x31, 0x32, 0x33, 0x44};
        const Pixmap p = saffron::decodeBitmap({SPICE_BITMAP_FMT_32BIT, true, 2, 2, 8}, data, {});
        QCOMPARE(p.width, 2);
        QCOMPARE(p.height, 2);
        QVERIFY(!p.hasAlpha);
        // The x byte is padding: the result is always opaque.
        QCOMPARE(pixelsOf(p), (Words{0xff030201, 0xff131211, 0xff232221, 0xff333231}));
    }

    void bitmap32BottomUp() {
        const Bytes data = {0x01, 0x02, 0x03, 0x00, 0x11, 0x12, 0x13, 0x00, //
                            0x21, 0x22, 0x23, 0x00, 0x31, 0x32, 0x33, 0x00};
        const Pixmap p = saffron::decodeBitmap({SPICE_BITMAP_FMT_32BIT, false, 2, 2, 8}, data, {});
        // The first stored row is the bottom one.
        QCOMPARE(pixelsOf(p), (Words{0xff232221, 0xff333231, 0xff030201, 0xff131211}));
    }

    void bitmapRgbaKeepsAlpha() {
        const Bytes data = {0x10, 0x20, 0x30, 0x40, 0x00, 0x00, 0x00, 0x00};
        const Pixmap p = saffron::decodeBitmap({SPICE_BITMAP_FMT_RGBA, true, 2, 1, 8}, data, {});
        QVERIFY(p.hasAlpha);
        QCOMPARE(pixelsOf(p), (Words{0x40302010, 0x00000000}));
    }

    void bitmap24WithStridePadding() {
        // 3 pixels = 9 bytes per row, padded to a 12-byte stride; padding is garbage.
        const Bytes data = {0xff, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0xff, 0xee, 0xee, 0xee,
                            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0xee, 0xee, 0xee};
        const Pixmap top = saffron::decodeBitmap({SPICE_BITMAP_FMT_24BIT, true, 3, 2, 12}, data, {});
        QVERIFY(!top.hasAlpha);
        // Bytes are B, G, R.
        QCOMPARE(pixelsOf(top),
                 (Words{0xff0000ff, 0xff00ff00, 0xffff0000, 0xff030201, 0xff060504, 0xff090807}));
        const Pixmap bottom = saffron::decodeBitmap({SPICE_BITMAP_FMT_24BIT, false, 3, 2, 12}, data, {});
        QCOMPARE(pixelsOf(bottom),
                 (Words{0xff030201, 0xff060504, 0xff090807, 0xff0000ff, 0xff00ff00, 0xffff0000}));
    }

    void bitmap16x555() {
        auto le = [](uint16_t v) { return Bytes{uint8_t(v), uint8_t(v >> 8)}; };
        Bytes data;
        for (uint16_t v : {0x7fff, 0x7c00, 0x03e0, 0x001f, 0x4210, 0x8000, 0x0000})
            for (uint8_t b : le(v))
                data.push_back(b);
        const Pixmap p = saffron::decodeBitmap({SPICE_BITMAP_FMT_16BIT, true, 7, 1, 14}, data, {});
        // 5-bit channels widen by bit replication; the top bit (x) is ignored.
        QCOMPARE(pixelsOf(p),
                 (Words{0xffffffff, 0xffff0000, 0xff00ff00, 0xff0000ff, 0xff848484, 0xff000000, 0xff000000}));
    }

    void bitmap8BitPalette() {
        const Bytes data = {0, 1, 2, 3, 200, 5};
        const Words palette = {0x00000000, 0x00ff0000, 0xff00ff00, 0x000000ff, 0x00ffffff, 0x00123456};
        const Pixmap p = saffron::decodeBitmap({SPICE_BITMAP_FMT_8BIT, true, 3, 2, 3}, data, palette);
        QVERIFY(!p.hasAlpha);
        // The palette's top byte is ignored; index 200 is beyond the 6 entries: opaque black.
        QCOMPARE(pixelsOf(p),
                 (Words{0xff000000, 0xffff0000, 0xff00ff00, 0xff0000ff, 0xff000000, 0xff123456}));
    }

    void bitmap4BitNibbleOrder() {
        // Width 3: the last byte holds one pixel in its first nibble.
        const Bytes data = {0x12, 0x30, 0x45, 0x60};
        const Pixmap be = saffron::decodeBitmap({SPICE_BITMAP_FMT_4BIT_BE, true, 3, 2, 2}, data, kPalette);
        QCOMPARE(pixelsOf(be),
                 (Words{0xffff0000, 0xff00ff00, 0xff0000ff, 0xffffffff, 0xff123456, 0xff808080}));
        const Bytes dataLe = {0x21, 0x03, 0x54, 0x06};
        const Pixmap le = saffron::decodeBitmap({SPICE_BITMAP_FMT_4BIT_LE, true, 3, 2, 2}, dataLe, kPalette);
        QCOMPARE(pixelsOf(le), pixelsOf(be));
    }

    void bitmap1BitBitOrder() {
        // Width 10: 8 pixels from the first byte, 2 from the second; stride padded to 4.
        const Bytes be = {0b10110000, 0b01000000, 0xaa, 0xaa};
        const Bytes le = {0b00001101, 0b00000010, 0x55, 0x55};
        const Words palette = {0x102030, 0x405060};
        const uint32_t o = 0xff102030, i = 0xff405060;
        const Words expected = {i, o, i, i, o, o, o, o, o, i};
        QCOMPARE(pixelsOf(saffron::decodeBitmap({SPICE_BITMAP_FMT_1BIT_BE, true, 10, 1, 4}, be, palette)),
                 expected);
        QCOMPARE(pixelsOf(saffron::decodeBitmap({SPICE_BITMAP_FMT_1BIT_LE, true, 10, 1, 4}, le, palette)),
                 expected);
        // A one-entry palette leaves index 1 undefined: opaque black.
        const Pixmap p =
            saffron::decodeBitmap({SPICE_BITMAP_FMT_1BIT_BE, true, 2, 1, 1}, Bytes{0x80}, Words{0xffffff});
        QCOMPARE(pixelsOf(p), (Words{0xff000000, 0xffffffff}));
    }

    void bitmapAlphaOnly() {
        const Bytes data = {0x00, 0x80, 0xff, 0x00};
        const Pixmap p = saffron::decodeBitmap({SPICE_BITMAP_FMT_8BIT_A, true, 3, 1, 4}, data, {});
        QVERIFY(p.hasAlpha);
        QCOMPARE(pixelsOf(p), (Words{0x00000000, 0x80000000, 0xff000000}));
    }

    // Every format, random sizes, strides, orientation and contents against the reference.
    void bitmapMatchesReference() {
        std::mt19937 rng(1234);
        for (uint8_t format = SPICE_BITMAP_FMT_1BIT_LE; format <= SPICE_BITMAP_FMT_8BIT_A; ++format) {
            for (int round = 0; round < 40; ++round) {
                BitmapInfo info;
                info.format = format;
                info.topDown = rng() & 1;
                info.width = 1 + rng() % 70;
                info.height = 1 + rng() % 20;
                const uint32_t rowBytes = (info.width * saffron::bitmapBitsPerPixel(format) + 7) / 8;
                info.stride = rowBytes + rng() % 9;
                Bytes data(size_t(info.stride) * info.height + rng() % 5);
                for (auto& b : data)
                    b = uint8_t(rng());
                Words palette(rng() % 300);
                for (auto& e : palette)
                    e = rng();
                if (palette.empty())
                    palette.push_back(0x123456);
                const Pixmap p = saffron::decodeBitmap(info, data, palette);
                QCOMPARE(p.width, int(info.width));
                QCOMPARE(p.height, int(info.height));
                QCOMPARE(p.hasAlpha, format == SPICE_BITMAP_FMT_RGBA || format == SPICE_BITMAP_FMT_8BIT_A);
                QCOMPARE(pixelsOf(p), referenceImage(info, data, palette));
            }
        }
    }

    void bitmapRejectsBadInput_data() {
        QTest::addColumn<int>("format");
        QTest::addColumn<uint>("width");
        QTest::addColumn<uint>("height");
        QTest::addColumn<uint>("stride");
        QTest::addColumn<int>("dataSize");
        QTest::addColumn<bool>("withPalette");
        QTest::newRow("invalid format") << int(SPICE_BITMAP_FMT_INVALID) << 2u << 2u << 8u << 16 << true;
        QTest::newRow("format past end") << int(SPICE_BITMAP_FMT_ENUM_END) << 2u << 2u << 8u << 16 << true;
        QTest::newRow("format 255") << 255 << 2u << 2u << 8u << 16 << true;
        QTest::newRow("zero width") << int(SPICE_BITMAP_FMT_32BIT) << 0u << 2u << 8u << 16 << false;
        QTest::newRow("zero height") << int(SPICE_BITMAP_FMT_32BIT) << 2u << 0u << 8u << 16 << false;
        QTest::newRow("width too large")
            << int(SPICE_BITMAP_FMT_8BIT_A) << 16385u << 1u << 16385u << 16385 << false;
        QTest::newRow("too many pixels")
            << int(SPICE_BITMAP_FMT_1BIT_BE) << 16384u << 16384u << 2048u << 1 << true;
        QTest::newRow("huge dimensions")
            << int(SPICE_BITMAP_FMT_32BIT) << 0xffffffffu << 0xffffffffu << 0u << 16 << false;
        QTest::newRow("stride below row") << int(SPICE_BITMAP_FMT_32BIT) << 2u << 2u << 7u << 16 << false;
        QTest::newRow("1bit stride below row")
            << int(SPICE_BITMAP_FMT_1BIT_LE) << 9u << 1u << 1u << 16 << true;
        QTest::newRow("4bit stride below row")
            << int(SPICE_BITMAP_FMT_4BIT_BE) << 3u << 1u << 1u << 16 << true;
        QTest::newRow("truncated by one") << int(SPICE_BITMAP_FMT_24BIT) << 3u << 2u << 12u << 23 << false;
        QTest::newRow("empty data") << int(SPICE_BITMAP_FMT_8BIT) << 1u << 1u << 1u << 0 << true;
        QTest::newRow("stride overflow")
            << int(SPICE_BITMAP_FMT_32BIT) << 16u << 16384u << 0xffffffffu << 4096 << false;
        QTest::newRow("stride*height wraps 32 bits")
            << int(SPICE_BITMAP_FMT_8BIT_A) << 1u << 2u << 0x80000000u << 4096 << false;
        QTest::newRow("indexed without palette")
            << int(SPICE_BITMAP_FMT_8BIT) << 2u << 2u << 2u << 4 << false;
        QTest::newRow("1bit without palette")
            << int(SPICE_BITMAP_FMT_1BIT_BE) << 2u << 2u << 1u << 4 << false;
    }

    void bitmapRejectsBadInput() {
        QFETCH(int, format);
        QFETCH(uint, width);
        QFETCH(uint, height);
        QFETCH(uint, stride);
        QFETCH(int, dataSize);
        QFETCH(bool, withPalette);
        const Bytes data(size_t(dataSize), 0x5a);
        const Words palette = withPalette ? kPalette : Words{};
        QVERIFY_THROWS_EXCEPTION(ProtocolError,
                                 saffron::decodeBitmap({uint8_t(format), false, uint32_t(width),
                                                        uint32_t(height), uint32_t(stride)},
                                                       data, palette));
    }

    void bitmapLargestAccepted() {
        // The largest plausible single row decodes (bounds are inclusive).
        const Bytes data(16384 * 4, 0x11);
        const Pixmap p = saffron::decodeBitmap({SPICE_BITMAP_FMT_32BIT, true, 16384, 1, 16384 * 4}, data, {});
        QCOMPARE(p.width, 16384);
        QCOMPARE(p.at(16383, 0), 0xff111111u);
    }

    // ---- LZ4 ----

    void lz4RoundTrip_data() {
        QTest::addColumn<int>("format");
        QTest::addColumn<bool>("topDown");
        QTest::addColumn<int>("rowsPerBlock");
        for (int format : {int(SPICE_BITMAP_FMT_16BIT), int(SPICE_BITMAP_FMT_24BIT),
                           int(SPICE_BITMAP_FMT_32BIT), int(SPICE_BITMAP_FMT_RGBA)}) {
            for (bool topDown : {true, false}) {
                for (int rows : {1, 7, 1000}) {
                    const QByteArray name = QByteArray::number(format) +
                                            (topDown ? " top-down" : " bottom-up") + " rows/block " +
                                            QByteArray::number(rows);
                    QTest::newRow(name.constData()) << format << topDown << rows;
                }
            }
        }
    }

    void lz4RoundTrip() {
        QFETCH(int, format);
        QFETCH(bool, topDown);
        QFETCH(int, rowsPerBlock);
        const uint32_t width = 37, height = 23;
        const size_t bpp = format == SPICE_BITMAP_FMT_16BIT ? 2 : format == SPICE_BITMAP_FMT_24BIT ? 3 : 4;
        const size_t rowBytes = width * bpp;
        // Repetitive rows with some noise: back-references cross block boundaries.
        std::mt19937 rng(99);
        Bytes raw(rowBytes * height);
        for (size_t i = 0; i < raw.size(); ++i)
            raw[i] = (i % 5 == 0) ? uint8_t(rng()) : uint8_t(i % rowBytes);
        const Bytes stream =
            saffron::test::encodeLz4Image(raw, rowBytes, topDown, uint8_t(format), size_t(rowsPerBlock));
        const Pixmap p = saffron::decodeLz4Image(stream, width, height);
        QCOMPARE(p.width, int(width));
        QCOMPARE(p.height, int(height));
        QCOMPARE(p.hasAlpha, format == SPICE_BITMAP_FMT_RGBA);
        // The decompressed rows are packed bitmap rows: the bitmap decoder is the oracle
        // (itself checked against the reference above).
        const BitmapInfo info{uint8_t(format), topDown, width, height, uint32_t(rowBytes)};
        QCOMPARE(pixelsOf(p), referenceImage(info, raw, {}));
    }

    void lz4KnownPixels() {
        // Two rows of 32BIT, bottom-up: the stream's first row is the image's bottom row.
        const Bytes raw = {0x01, 0x02, 0x03, 0x00, 0x04, 0x05, 0x06, 0x00};
        const Bytes stream = saffron::test::encodeLz4Image(raw, 4, false, SPICE_BITMAP_FMT_32BIT, 1);
        const Pixmap p = saffron::decodeLz4Image(stream, 1, 2);
        QCOMPARE(pixelsOf(p), (Words{0xff060504, 0xff030201}));
    }

    void lz4FullHd() {
        // A full-HD frame of mostly flat colour, as a desktop looks: exercises large outputs
        // and long matches.
        const uint32_t width = 1920, height = 1080;
        Bytes raw(size_t(width) * height * 4);
        for (size_t i = 0; i < raw.size(); i += 4) {
            raw[i] = 0x30;
            raw[i + 1] = uint8_t((i / 4) % width < 100 ? 0xff : 0x40);
            raw[i + 2] = 0x50;
        }
        const Bytes stream = saffron::test::encodeLz4Image(raw, width * 4, true, SPICE_BITMAP_FMT_32BIT, 64);
        const Pixmap p = saffron::decodeLz4Image(stream, width, height);
        QCOMPARE(p.at(0, 0), 0xff50ff30u);
        QCOMPARE(p.at(1919, 1079), 0xff504030u);
    }

    void lz4RejectsBadInput() {
        const uint32_t width = 8, height = 4;
        Bytes raw(width * height * 4);
        for (size_t i = 0; i < raw.size(); ++i)
            raw[i] = uint8_t(i * 7);
        const Bytes good = saffron::test::encodeLz4Image(raw, width * 4, true, SPICE_BITMAP_FMT_32BIT, 2);
        QCOMPARE(saffron::decodeLz4Image(good, width, height).width, int(width));

        auto rejects = [&](const Bytes& stream, uint32_t w, uint32_t h) {
            try {
                saffron::decodeLz4Image(stream, w, h);
            } catch (const ProtocolError&) {
                return true;
            }
            return false;
        };
        QVERIFY(rejects({}, width, height));
        QVERIFY(rejects({1}, width, height));
        QVERIFY(rejects({1, SPICE_BITMAP_FMT_32BIT}, width, height)); // header only
        for (int format : {int(SPICE_BITMAP_FMT_INVALID), int(SPICE_BITMAP_FMT_1BIT_BE),
                           int(SPICE_BITMAP_FMT_8BIT), int(SPICE_BITMAP_FMT_8BIT_A), 200}) {
            Bytes s = good;
            s[1] = uint8_t(format);
            QVERIFY2(rejects(s, width, height), QByteArray::number(format).constData());
        }
        QVERIFY(rejects(good, 0, height));
        QVERIFY(rejects(good, width, 20000));
        QVERIFY(rejects(good, 16384, 16384));
        // Every truncation: in a size field, inside a block, or a missing last block.
        for (size_t n = 2; n < good.size(); ++n)
            QVERIFY2(rejects(Bytes(good.begin(), good.begin() + long(n)), width, height),
                     QByteArray::number(qulonglong(n)).constData());
        // The stream describes more rows than the descriptor: output would overflow the image.
        QVERIFY(rejects(good, width, height - 1));
        QVERIFY(rejects(good, width - 1, height));
        // ...or fewer.
        QVERIFY(rejects(good, width, height + 1));
        // Data after the last row.
        Bytes extra = good;
        const Bytes one = saffron::test::encodeLz4Image(Bytes(4, 0), 4, true, SPICE_BITMAP_FMT_32BIT, 1);
        extra.insert(extra.end(), one.begin() + 2, one.end());
        QVERIFY(rejects(extra, width, height));
        // A zero-sized block, and a size larger than what follows.
        Bytes zero = good;
        zero.insert(zero.end(), {0, 0, 0, 0});
        QVERIFY(rejects(zero, width, height));
        Bytes big = good;
        big[2] = 0x7f;
        QVERIFY(rejects(big, width, height));
        // Corrupt block contents: a match offset pointing before the start of the output.
        const Bytes badOffset = {
            1, SPICE_BITMAP_FMT_32BIT, 0, 0, 0, 8, 0x1f, 0xff, 0x10, 0xff, 0xff, 0xff, 0x00, 0x00};
        QVERIFY(rejects(badOffset, width, height));
        // A tiny stream claiming a huge image is refused before the allocation.
        QVERIFY(rejects({1, SPICE_BITMAP_FMT_32BIT, 0, 0, 0, 1, 0}, 8192, 8192));
    }

    void lz4RandomCorruptionNeverCrashes() {
        const uint32_t width = 16, height = 16;
        Bytes raw(width * height * 3);
        for (size_t i = 0; i < raw.size(); ++i)
            raw[i] = uint8_t(i % 13);
        const Bytes good = saffron::test::encodeLz4Image(raw, width * 3, false, SPICE_BITMAP_FMT_24BIT, 4);
        std::mt19937 rng(7);
        int rejected = 0;
        for (int round = 0; round < 2000; ++round) {
            Bytes s = good;
            for (int k = 0; k < 3; ++k)
                s[2 + rng() % (s.size() - 2)] = uint8_t(rng());
            try {
                const Pixmap p = saffron::decodeLz4Image(s, width, height);
                QCOMPARE(p.pixels.size(), size_t(width * height));
            } catch (const ProtocolError&) {
                ++rejected;
            }
        }
        QVERIFY(rejected > 0);
    }

    // ---- JPEG ----

    // A decoded 67x45 picture (not multiples of the 16x16 MCU) against its source: opaque, and
    // every channel within `maxError`, `meanError` on average.
    static void checkDecodedPicture(const Pixmap& p, const Words& source, const char* what, int maxError,
                                    double meanError) {
        QCOMPARE(p.width, 67);
        QCOMPARE(p.height, 45);
        QVERIFY(!p.hasAlpha);
        for (uint32_t px : p.pixels)
            QCOMPARE(px >> 24, 0xffu);
        const ChannelError e = compareRgb(p.pixels, source);
        qInfo("%s error: max %d, mean %.3f", what, e.max, e.mean);
        QVERIFY2(e.max <= maxError, QByteArray::number(e.max).constData());
        QVERIFY2(e.mean < meanError, QByteArray::number(e.mean).constData());
    }

    void jpegRoundTrip() {
        const Words source = smoothPicture(67, 45);
        const Bytes jpeg = saffron::test::encodeJpeg(source, 67, 45, 95);
        // Tolerance: quality 95 with 2x2 chroma subsampling on a smooth picture. Every channel
        // of every pixel within 20 of the source, and a mean error under 2 (measured with
        // libjpeg-turbo 2.1.5: max 12, mean 1.03; progressive: max 13, mean 1.27).
        checkDecodedPicture(saffron::decodeJpeg(jpeg, 67, 45), source, "jpeg q95", 20, 2.0);
    }

    void jpegProgressiveAndGray() {
        const int w = 40, h = 30;
        const Words source = smoothPicture(w, h);
        const Pixmap prog = saffron::decodeJpeg(saffron::test::encodeJpeg(source, w, h, 95, 3, true), w, h);
        const ChannelError e = compareRgb(prog.pixels, source);
        qInfo("progressive jpeg q95 error: max %d, mean %.3f", e.max, e.mean);
        QVERIFY2(e.max <= 20, QByteArray::number(e.max).constData());
        const Pixmap gray = saffron::decodeJpeg(saffron::test::encodeJpeg(source, w, h, 95, 1), w, h);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                const uint32_t px = gray.at(x, y);
                QCOMPARE(px >> 24, 0xffu);
                QCOMPARE((px >> 16) & 0xff, px & 0xff);
                QCOMPARE((px >> 8) & 0xff, px & 0xff);
                QVERIFY(std::abs(int(px & 0xff) - int((source[size_t(y) * w + x] >> 8) & 0xff)) <= 8);
            }
    }

    void jpegImageFast() {
        // The two-step decoder the MJPEG streams use, at its fast setting.
        const Words source = smoothPicture(67, 45);
        const Bytes jpeg = saffron::test::encodeJpeg(source, 67, 45, 95);
        saffron::JpegImage image(jpeg);
        QCOMPARE(image.width(), 67);
        QCOMPARE(image.height(), 45);
        Pixmap p(67, 45);
        image.decodeInto(p, saffron::JpegImage::Speed::Fast);
        // Box-filtered chroma and the fast IDCT cost some accuracy on this small, colourful
        // picture (measured with libjpeg-turbo 2.1.5: max 23, mean 3.07, against 12 / 1.03
        // accurate; the chroma filter is most of it); on the test server's video the frames lose
        // 1.2 dB PSNR (28.6 -> 27.4), far less than the stream's own quantisation.
        checkDecodedPicture(p, source, "jpeg q95 fast", 32, 4.0);
        // Broken input fails in the constructor (header) or in decodeInto (data), never later.
        QVERIFY_THROWS_EXCEPTION(ProtocolError, saffron::JpegImage(Bytes{}));
        QVERIFY_THROWS_EXCEPTION(ProtocolError, saffron::JpegImage(Bytes(1000, 0xff)));
        const std::span<const uint8_t> half = std::span(jpeg).first(jpeg.size() / 2);
        saffron::JpegImage truncated(half);
        QVERIFY_THROWS_EXCEPTION(ProtocolError, truncated.decodeInto(p, saffron::JpegImage::Speed::Fast));
    }

    void jpegImageReversedRows() {
        // Bottom-up MJPEG streams are turned over while decoding: the first N rows in reverse
        // order, the rows below them (an encoder's padding) where they were. The result must be
        // exactly the top-down decode with its rows moved.
        const int w = 40, h = 37;
        const Bytes jpeg = saffron::test::encodeJpeg(smoothPicture(w, h), w, h, 90);
        Pixmap topDown(w, h);
        saffron::JpegImage(jpeg).decodeInto(topDown, saffron::JpegImage::Speed::Fast);
        for (int reversed : {h, 32, 1, 0, h + 5}) {
            Pixmap p(w, h);
            saffron::JpegImage(jpeg).decodeInto(p, saffron::JpegImage::Speed::Fast, reversed);
            const int turned = std::min(reversed, h);
            for (int y = 0; y < h; ++y) {
                const int from = y < turned ? turned - 1 - y : y;
                QVERIFY2(std::ranges::equal(p.row(y), topDown.row(from)),
                         qPrintable(QStringLiteral("reversed %1: row %2").arg(reversed).arg(y)));
            }
        }
    }

    void jpegDimensionMismatch() {
        const Bytes jpeg = saffron::test::encodeJpeg(smoothPicture(32, 16), 32, 16, 95);
        QVERIFY_THROWS_EXCEPTION(ProtocolError, saffron::decodeJpeg(jpeg, 31, 16));
        QVERIFY_THROWS_EXCEPTION(ProtocolError, saffron::decodeJpeg(jpeg, 32, 17));
        QVERIFY_THROWS_EXCEPTION(ProtocolError, saffron::decodeJpeg(jpeg, 0, 16));
        QVERIFY_THROWS_EXCEPTION(ProtocolError, saffron::decodeJpeg(jpeg, 32, 0x80000000u));
    }

    void jpegTruncated() {
        const Bytes jpeg = saffron::test::encodeJpeg(smoothPicture(32, 32), 32, 32, 95);
        QVERIFY_THROWS_EXCEPTION(ProtocolError, saffron::decodeJpeg({}, 32, 32));
        // Every prefix, including one that lacks only the EOI marker, is rejected.
        for (size_t n = 1; n < jpeg.size(); ++n) {
            bool threw = false;
            try {
                saffron::decodeJpeg(std::span(jpeg).first(n), 32, 32);
            } catch (const ProtocolError&) {
                threw = true;
            }
            QVERIFY2(threw, QByteArray::number(qulonglong(n)).constData());
        }
    }

    void jpegCorrupt() {
        const Bytes jpeg = saffron::test::encodeJpeg(smoothPicture(32, 32), 32, 32, 95);
        Bytes notJpeg = jpeg;
        notJpeg[0] = 0x00;
        QVERIFY_THROWS_EXCEPTION(ProtocolError, saffron::decodeJpeg(notJpeg, 32, 32));
        QVERIFY_THROWS_EXCEPTION(ProtocolError, saffron::decodeJpeg(Bytes(1000, 0xff), 32, 32));
        // Random damage anywhere: either a clean ProtocolError or a correctly sized image.
        std::mt19937 rng(5);
        int rejected = 0;
        for (int round = 0; round < 1000; ++round) {
            Bytes s = jpeg;
            for (int k = 0; k < 4; ++k)
                s[rng() % s.size()] = uint8_t(rng());
            try {
                const Pixmap p = saffron::decodeJpeg(s, 32, 32);
                QCOMPARE(p.pixels.size(), size_t(32 * 32));
            } catch (const ProtocolError&) {
                ++rejected;
            }
        }
        QVERIFY(rejected > 0);
    }

    // ---- fuzzer seeds ----

    // The seed corpora must be valid inputs, or the fuzzers start from the rejection paths.
    // Layouts: see the comments at the top of fuzz_bitmap.cpp, fuzz_lz4_image.cpp, fuzz_jpeg.cpp.
    void fuzzSeedsDecode() {
        const QString root = QFINDTESTDATA("corpus");
        QVERIFY(!root.isEmpty());
        auto seeds = [&](const char* name) {
            std::vector<Bytes> out;
            const QDir dir(root + QLatin1Char('/') + QLatin1String(name));
            for (const QFileInfo& f : dir.entryInfoList(QDir::Files)) {
                QFile file(f.filePath());
                if (!file.open(QIODevice::ReadOnly))
                    continue;
                const QByteArray b = file.readAll();
                out.emplace_back(b.begin(), b.end());
            }
            return out;
        };
        auto u16 = [](const Bytes& b, size_t at) { return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8; };
        const auto bitmaps = seeds("fuzz_bitmap");
        QVERIFY(bitmaps.size() >= 20);
        for (const Bytes& in : bitmaps) {
            const BitmapInfo info{in[0], (in[1] & SPICE_BITMAP_FLAGS_TOP_DOWN) != 0, u16(in, 2), u16(in, 4),
                                  u16(in, 6) | u16(in, 8) << 16};
            Words palette;
            size_t pos = 11;
            for (unsigned i = 0; i < in[10]; ++i, pos += 4)
                palette.push_back(u16(in, pos) | u16(in, pos + 2) << 16);
            const Bytes data(in.begin() + long(pos), in.end());
            QCOMPARE(pixelsOf(saffron::decodeBitmap(info, data, palette)),
                     referenceImage(info, data, palette));
        }
        const auto lz4 = seeds("fuzz_lz4_image");
        QVERIFY(lz4.size() >= 8);
        for (const Bytes& in : lz4)
            QCOMPARE(saffron::decodeLz4Image(std::span(in).subspan(4), u16(in, 0), u16(in, 2)).pixels.size(),
                     size_t(u16(in, 0) * u16(in, 2)));
        const auto jpegs = seeds("fuzz_jpeg");
        QVERIFY(jpegs.size() >= 3);
        for (const Bytes& in : jpegs)
            QCOMPARE(saffron::decodeJpeg(std::span(in).subspan(4), u16(in, 0), u16(in, 2)).pixels.size(),
                     size_t(u16(in, 0) * u16(in, 2)));
    }
};

QTEST_GUILESS_MAIN(TestCodecs)
#include "test_codecs.moc"
