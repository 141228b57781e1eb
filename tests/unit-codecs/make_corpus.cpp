// Writes the seed corpora of the codec fuzzers: small valid inputs of every format, in the
// input layouts documented at the top of fuzz_bitmap.cpp, fuzz_lz4_image.cpp and fuzz_jpeg.cpp.
// Usage: codecs_make_corpus <corpus-dir>   (normally tests/unit-codecs/corpus)
#include "CodecTestEncoders.h"
#include "codecs/BitmapDecoder.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <spice/enums.h>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

void write(const std::filesystem::path& dir, const std::string& name, const Bytes& bytes) {
    std::filesystem::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void putLe(Bytes& out, uint32_t v, int n) {
    for (int i = 0; i < n; ++i)
        out.push_back(uint8_t(v >> (8 * i)));
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
        return 2;
    }
    const std::filesystem::path root = argv[1];
    std::mt19937 rng(2024);

    // fuzz_bitmap: every format, both row orders, a padded stride, a 16-entry palette.
    for (uint8_t format = SPICE_BITMAP_FMT_1BIT_LE; format <= SPICE_BITMAP_FMT_8BIT_A; ++format) {
        for (bool topDown : {false, true}) {
            const uint32_t width = 5, height = 3;
            const uint32_t stride = (width * saffron::bitmapBitsPerPixel(format) + 7) / 8 + (topDown ? 0 : 3);
            Bytes in{format, uint8_t(topDown ? SPICE_BITMAP_FLAGS_TOP_DOWN : 0)};
            putLe(in, width, 2);
            putLe(in, height, 2);
            putLe(in, stride, 4);
            in.push_back(16);
            for (int i = 0; i < 16; ++i)
                putLe(in, rng() & 0xffffff, 4);
            for (uint32_t i = 0; i < stride * height; ++i)
                in.push_back(uint8_t(rng()));
            write(root / "fuzz_bitmap", "fmt" + std::to_string(format) + (topDown ? "_td" : "_bu"), in);
        }
    }

    // fuzz_lz4_image: the four LZ4 formats, both row orders, several blocks.
    for (uint8_t format :
         {SPICE_BITMAP_FMT_16BIT, SPICE_BITMAP_FMT_24BIT, SPICE_BITMAP_FMT_32BIT, SPICE_BITMAP_FMT_RGBA}) {
        for (bool topDown : {false, true}) {
            const uint32_t width = 9, height = 6;
            const size_t rowBytes = width * saffron::bitmapBitsPerPixel(format) / 8;
            Bytes raw(rowBytes * height);
            for (size_t i = 0; i < raw.size(); ++i)
                raw[i] = i % 4 == 0 ? uint8_t(rng()) : uint8_t(i % rowBytes);
            Bytes in;
            putLe(in, width, 2);
            putLe(in, height, 2);
            const Bytes stream = saffron::test::encodeLz4Image(raw, rowBytes, topDown, format, 2);
            in.insert(in.end(), stream.begin(), stream.end());
            write(root / "fuzz_lz4_image", "fmt" + std::to_string(format) + (topDown ? "_td" : "_bu"), in);
        }
    }

    // fuzz_jpeg: baseline colour, grayscale and progressive streams.
    struct JpegSeed {
        const char* name;
        int width, height, components;
        bool progressive;
    };
    for (const JpegSeed& seed : {JpegSeed{"baseline", 16, 16, 3, false}, JpegSeed{"gray", 24, 8, 1, false},
                                 JpegSeed{"progressive", 17, 9, 3, true}}) {
        std::vector<uint32_t> pixels(size_t(seed.width) * seed.height);
        for (size_t i = 0; i < pixels.size(); ++i)
            pixels[i] = uint32_t(i * 0x030507) ^ (rng() & 0x0f0f0f);
        Bytes in;
        putLe(in, uint32_t(seed.width), 2);
        putLe(in, uint32_t(seed.height), 2);
        const Bytes jpeg =
            saffron::test::encodeJpeg(pixels, seed.width, seed.height, 90, seed.components, seed.progressive);
        in.insert(in.end(), jpeg.begin(), jpeg.end());
        write(root / "fuzz_jpeg", seed.name, in);
    }
    return 0;
}
