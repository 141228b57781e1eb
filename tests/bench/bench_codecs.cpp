// bench_codecs: decode throughput of every SPICE image codec over a fixed corpus of images that
// the libspice-server test server really sent (captured with SAFFRON_CAPTURE_IMAGES, see
// tests/bench/README.md). Prints MB/s of decoded output pixels (4 bytes a pixel) per corpus set.
//
//   bench_codecs [--corpus DIR] [--seconds S]
//
// DIR holds one folder per set, named <codec>-<workload> (quic-photo, glz-scroll, ...). Each
// folder holds the capture files of one session in capture order, named
// <seq>-<TYPE>-<id>-<W>x<H>.bin as ImageReader::capture writes them. A set is decoded as one
// pass over its files in that order; GLZ_RGB and ZLIB_GLZ_RGB images go through one
// GlzDictionary per pass, because later images reference earlier ones (the server's GLZ window
// starts empty with the session, as does a fresh dictionary).
//
// Never asserts a time: exits 0 when every image decoded, 1 when one did not, 2 on bad usage.
#include "codecs/GlzDictionary.h"
#include "codecs/JpegAlphaDecoder.h"
#include "codecs/JpegDecoder.h"
#include "codecs/Lz4ImageDecoder.h"
#include "codecs/LzDecoder.h"
#include "codecs/QuicDecoder.h"
#include "display/Pixmap.h"
#include "wire/ProtocolError.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QStringList>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#ifndef SAFFRON_BENCH_CORPUS
#define SAFFRON_BENCH_CORPUS ""
#endif

namespace saffron {
namespace {

struct CorpusImage {
    QString fileName;
    QString type; // ImageReader's type name: QUIC, LZ_RGB, GLZ_RGB, ZLIB_GLZ_RGB, LZ4, JPEG, JPEG_ALPHA
    uint32_t width = 0;
    uint32_t height = 0;
    std::vector<uint8_t> data;
};

struct CorpusSet {
    QString name; // folder name, <codec>-<workload>
    std::vector<CorpusImage> images;
    uint64_t pixels = 0; // output pixels of one pass
    uint64_t inputBytes = 0;
};

// One pass over a set. The dictionary is created per pass: a GLZ sequence must start from the
// state the server's encoder started from.
uint64_t decodePass(const CorpusSet& set) {
    GlzDictionary dictionary;
    uint64_t checksum = 0;
    for (const CorpusImage& img : set.images) {
        const std::span<const uint8_t> data(img.data);
        Pixmap out;
        if (img.type == QLatin1String("QUIC"))
            out = decodeQuic(data, img.width, img.height);
        else if (img.type == QLatin1String("LZ_RGB"))
            out = decodeLz(data, img.width, img.height, {});
        else if (img.type == QLatin1String("GLZ_RGB"))
            out = dictionary.decode(data, img.width, img.height);
        else if (img.type == QLatin1String("ZLIB_GLZ_RGB"))
            out = decodeZlibGlz(data, img.width, img.height, dictionary);
        else if (img.type == QLatin1String("LZ4"))
            out = decodeLz4Image(data, img.width, img.height);
        else if (img.type == QLatin1String("JPEG"))
            out = decodeJpeg(data, img.width, img.height);
        else if (img.type == QLatin1String("JPEG_ALPHA"))
            out = decodeJpegAlpha(data, img.width, img.height);
        else
            throw ProtocolError("bench_codecs: no decoder for " + img.type.toStdString());
        if (out.width != int(img.width) || out.height != int(img.height))
            throw ProtocolError("bench_codecs: " + img.fileName.toStdString() + " decoded to the wrong size");
        // Reading a pixel keeps the decode observable; the sum is printed so it cannot be elided.
        checksum += out.pixels[out.pixels.size() / 2];
    }
    return checksum;
}

std::optional<CorpusSet> loadSet(const QDir& dir, QString& error) {
    // The name ImageReader::capture gives a file (session/display/ImageReader.cpp).
    static const QRegularExpression pattern(QStringLiteral("^\\d+-([A-Z0-9_]+)-\\d+-(\\d+)x(\\d+)\\.bin$"));
    CorpusSet set;
    set.name = dir.dirName();
    const QStringList files = dir.entryList({QStringLiteral("*.bin")}, QDir::Files, QDir::Name);
    for (const QString& f : files) {
        const auto m = pattern.match(f);
        if (!m.hasMatch()) {
            error = dir.filePath(f) + QStringLiteral(": not a capture file name");
            return std::nullopt;
        }
        QFile file(dir.filePath(f));
        if (!file.open(QIODevice::ReadOnly)) {
            error = dir.filePath(f) + QStringLiteral(": ") + file.errorString();
            return std::nullopt;
        }
        const QByteArray bytes = file.readAll();
        CorpusImage img;
        img.fileName = f;
        img.type = m.captured(1);
        img.width = m.captured(2).toUInt();
        img.height = m.captured(3).toUInt();
        img.data.assign(bytes.begin(), bytes.end());
        set.pixels += uint64_t(img.width) * img.height;
        set.inputBytes += img.data.size();
        set.images.push_back(std::move(img));
    }
    if (set.images.empty()) {
        error = dir.path() + QStringLiteral(": no capture files");
        return std::nullopt;
    }
    return set;
}

// "QUIC", or "GLZ_RGB+ZLIB_GLZ_RGB" for a mixed sequence, in order of first appearance.
QString typesOf(const CorpusSet& set) {
    QStringList types;
    for (const auto& img : set.images)
        if (!types.contains(img.type))
            types << img.type;
    return types.join(QLatin1Char('+'));
}

// "1x 1920x1080", or "1x 1920x1080 + 36x 1920x16" for a sequence (runs of one size, in order).
QString sizesOf(const CorpusSet& set) {
    QStringList runs;
    size_t count = 0;
    for (size_t i = 0; i < set.images.size(); ++i) {
        const auto& img = set.images[i];
        ++count;
        const bool last = i + 1 == set.images.size();
        if (last || set.images[i + 1].width != img.width || set.images[i + 1].height != img.height) {
            runs << QStringLiteral("%1x %2x%3").arg(count).arg(img.width).arg(img.height);
            count = 0;
        }
    }
    return runs.join(QStringLiteral(" + "));
}

int run(const QString& corpusPath, double seconds) {
    QDir corpus(corpusPath);
    const QStringList folders = corpus.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    if (folders.isEmpty()) {
        std::fprintf(stderr, "bench_codecs: no corpus sets in %s\n", qPrintable(corpusPath));
        return 1;
    }
    std::printf("bench_codecs: %s, %.2f s a set; MB/s = decoded output bytes (4 a pixel) / s\n",
                qPrintable(corpus.absolutePath()), seconds);
    int failures = 0;
    for (const QString& folder : folders) {
        QString error;
        const auto set = loadSet(QDir(corpus.filePath(folder)), error);
        if (!set) {
            std::printf("%-22s FAILED: %s\n", qPrintable(folder), qPrintable(error));
            ++failures;
            continue;
        }
        const QString workload = folder.section(QLatin1Char('-'), 1);
        try {
            using Clock = std::chrono::steady_clock;
            uint64_t checksum = decodePass(*set); // warm-up: page in the data, prime allocators
            uint64_t passes = 0;
            const auto start = Clock::now();
            double elapsed = 0;
            do {
                checksum += decodePass(*set);
                ++passes;
                elapsed = std::chrono::duration<double>(Clock::now() - start).count();
            } while (elapsed < seconds);
            const double outMB = double(set->pixels) * 4.0 * double(passes) / 1e6;
            std::printf("%-13s %-7s %-26s: %7.1f MB/s  (%llu passes, %.2f ms/pass, in %.2f MB/pass, "
                        "ratio %.1f:1, check %08llx)\n",
                        qPrintable(typesOf(*set)), qPrintable(workload), qPrintable(sizesOf(*set)),
                        outMB / elapsed, static_cast<unsigned long long>(passes),
                        elapsed * 1000.0 / double(passes), double(set->inputBytes) / 1e6,
                        double(set->pixels) * 4.0 / double(set->inputBytes),
                        static_cast<unsigned long long>(checksum & 0xffffffffu));
        } catch (const std::exception& e) {
            std::printf("%-24s FAILED: %s\n", qPrintable(folder), e.what());
            ++failures;
        }
        std::fflush(stdout);
    }
    return failures ? 1 : 0;
}

} // namespace
} // namespace saffron

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QString corpus = QStringLiteral(SAFFRON_BENCH_CORPUS);
    double seconds = 0.5;
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i < args.size(); ++i) {
        const QString& a = args[i];
        bool ok = true;
        if (a == QLatin1String("--corpus") && i + 1 < args.size())
            corpus = args[++i];
        else if (a == QLatin1String("--seconds") && i + 1 < args.size())
            seconds = args[++i].toDouble(&ok);
        else
            ok = false;
        if (!ok || seconds < 0) {
            std::fprintf(stderr, "usage: bench_codecs [--corpus DIR] [--seconds S]\n");
            return 2;
        }
    }
    if (corpus.isEmpty()) {
        std::fprintf(stderr, "bench_codecs: no --corpus given\n");
        return 2;
    }
    return saffron::run(corpus, seconds);
}
