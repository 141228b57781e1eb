#pragma once

#include "display/Pixmap.h"

#include <cstdint>
#include <memory>
#include <span>

namespace saffron {

// Decodes the BinaryData of a SPICE_IMAGE_TYPE_JPEG image: a complete baseline or progressive
// JFIF stream (spice-server's jpeg-encoder.c writes one per image with libjpeg). The result is
// an opaque top-down Pixmap; grayscale streams come out grey.
//
// The stream's dimensions must equal the ImageDescriptor's (expectedWidth x expectedHeight):
// the display channel sizes its drawing from the descriptor, and a mismatch means a broken or
// hostile server.
//
// Throws ProtocolError when the dimensions are implausible or differ from the descriptor, when
// libjpeg reports an error, and also when it reports a warning: libjpeg "recovers" from
// truncated or corrupt data by inventing pixels (a grey bottom, a fake EOI marker), and a SPICE
// server never sends such a stream on purpose. Progressive streams with more than 500 scans are
// rejected too, as a cheap guard against streams that cost far more CPU than their size.
Pixmap decodeJpeg(std::span<const uint8_t> data, uint32_t expectedWidth, uint32_t expectedHeight);

// The same decoder in two steps, for callers that size (or reuse) the picture themselves: MJPEG
// video frames, one complete JFIF stream each (spice-server's mjpeg_encoder.c), decoded straight
// into a reused RGB picture. The constructor reads the header and throws ProtocolError like
// decodeJpeg (and for an implausible size); decodeInto() throws likewise. `data` must outlive
// the object.
class JpegImage {
public:
    explicit JpegImage(std::span<const uint8_t> data);
    ~JpegImage();
    JpegImage(const JpegImage&) = delete;
    JpegImage& operator=(const JpegImage&) = delete;

    int width() const { return width_; }
    int height() const { return height_; }
    // Fast: libjpeg-turbo's fast integer IDCT and merged (box-filter) chroma upsampling with the
    // colour conversion, about a quarter less time a 1080p 4:2:0 frame here, for a small loss at
    // sharp colour edges: for video frames, which a newer frame replaces in 40 ms.
    enum class Speed { Accurate, Fast };
    // `out` must be width() x height(); every pixel is written. Once per object. The image's
    // first `reversedRows` rows land in reverse order (row 0 on row reversedRows - 1): a
    // bottom-up video stream turned over as it is decoded, its padding rows below left as they
    // are.
    void decodeInto(Pixmap& out, Speed speed = Speed::Accurate, int reversedRows = 0);

private:
    class Decompressor;
    std::unique_ptr<Decompressor> jpeg_;
    int width_ = 0;
    int height_ = 0;
};

} // namespace saffron
