#pragma once

// Encoders that produce SPICE image payloads the way spice-server does, for the codec tests
// and for generating the fuzzers' seed corpora. Test code: errors abort via std::runtime_error.

#include <algorithm>
#include <cstdint>
#include <cstdio> // jpeglib.h uses FILE without including it
#include <cstdlib>
#include <jpeglib.h>
#include <lz4.h>
#include <memory>
#include <stdexcept>
#include <vector>

namespace saffron::test {

// An LZ4 image stream as spice-server's lz4-encoder.c lays it out: a top_down byte, a format
// byte, then one block per batch of rows, each a big-endian 32-bit size followed by an LZ4
// block compressed with LZ4_compress_fast_continue over the contiguous rows (so later blocks
// may reference earlier ones). `raw` holds the rows in stream order, `rowBytes` each, packed.
inline std::vector<uint8_t> encodeLz4Image(const std::vector<uint8_t>& raw, size_t rowBytes, bool topDown,
                                           uint8_t format, size_t rowsPerBlock) {
    std::vector<uint8_t> out{uint8_t(topDown ? 1 : 0), format};
    std::unique_ptr<LZ4_stream_t, int (*)(LZ4_stream_t*)> stream(LZ4_createStream(), LZ4_freeStream);
    const size_t rows = raw.size() / rowBytes;
    for (size_t row = 0; row < rows; row += rowsPerBlock) {
        const size_t n = std::min(rowsPerBlock, rows - row) * rowBytes;
        const int bound = LZ4_compressBound(static_cast<int>(n));
        std::vector<char> block(static_cast<size_t>(bound));
        const int size = LZ4_compress_fast_continue(
            stream.get(), reinterpret_cast<const char*>(raw.data() + row * rowBytes), block.data(),
            static_cast<int>(n), bound, 1);
        if (size <= 0)
            throw std::runtime_error("LZ4_compress_fast_continue failed");
        const auto s = static_cast<uint32_t>(size);
        out.insert(out.end(), {uint8_t(s >> 24), uint8_t(s >> 16), uint8_t(s >> 8), uint8_t(s)});
        out.insert(out.end(), block.begin(), block.begin() + size);
    }
    return out;
}

// A JFIF stream of `pixels` (0x??RRGGBB, row-major, top-down) with the settings spice-server's
// jpeg-encoder.c uses: jpeg_set_defaults (YCbCr, 2x2 chroma subsampling) plus a quality.
// `components` 3 encodes colour, 1 encodes the green channel as grayscale.
inline std::vector<uint8_t> encodeJpeg(const std::vector<uint32_t>& pixels, int width, int height,
                                       int quality, int components = 3, bool progressive = false) {
    jpeg_compress_struct cinfo{};
    jpeg_error_mgr jerr{};
    cinfo.err = jpeg_std_error(&jerr); // the default error_exit exits the test: acceptable here
    jpeg_create_compress(&cinfo);
    unsigned char* buffer = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&cinfo, &buffer, &size);
    cinfo.image_width = static_cast<JDIMENSION>(width);
    cinfo.image_height = static_cast<JDIMENSION>(height);
    cinfo.input_components = components;
    cinfo.in_color_space = components == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (progressive)
        jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    std::vector<uint8_t> row(static_cast<size_t>(width) * components);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const uint32_t p = pixels[static_cast<size_t>(y) * width + x];
            if (components == 3) {
                row[x * 3] = uint8_t(p >> 16);
                row[x * 3 + 1] = uint8_t(p >> 8);
                row[x * 3 + 2] = uint8_t(p);
            } else {
                row[x] = uint8_t(p >> 8);
            }
        }
        JSAMPROW rows[1] = {row.data()};
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    std::vector<uint8_t> out(buffer, buffer + size);
    free(buffer);
    return out;
}

} // namespace saffron::test
