#pragma once

#include "display/Pixmap.h"

#include <cstdint>
#include <map>
#include <memory>
#include <span>

namespace saffron {

// The client half of SPICE's "global LZ" (GLZ): a dictionary of recently decoded images, shared
// by every image of a session, that GLZ_RGB and ZLIB_GLZ_RGB images copy pixels from.
//
// The server keeps a window of the images it encoded (spice-server glz-encoder-dict.c), sized
// by the glz_dictionary_window_size (in pixels) the client announces in DISPLAY_INIT, and it
// only references images inside that window. Every GLZ image carries its own 64-bit id and the
// distance from it back to the oldest image still in the server's window (win_head_dist), so
// after decoding image N the client may drop every image older than N - win_head_dist.
//
// Stream (spice-server glz-encoder.c; big-endian header words like LZ, see LzDecoder.h):
//   uint32 magic "LZ  ", uint32 version 0x00010001, uint8 type | top_down << 4,
//   uint32 width, height, stride, uint64 image id, uint32 win_head_dist, then tokens:
//   c < 32   literal run of c+1 pixels (RGB16: 2 bytes big-endian x1r5g5b5; RGB24/32/RGBA
//            colour: 3 bytes B,G,R; RGBA's second pass: 1 alpha byte)
//   c >= 32  a reference: length c >> 5 (7: extended by bytes while they are 255) + bias
//            (0 for 24/32-bit colour, 1 for RGB16, 2 for alpha); a 4-bit pixel offset from c,
//            8 more bits, then a byte whose top two bits count 0-3 extra bytes of image
//            distance; bit 4 of c selects the long form, with up to 25 bits of pixel offset.
//            Image distance 0 is a reference inside the image, to (offset + 1) pixels back;
//            otherwise it names image (id - distance), and the offset counts pixels from the
//            first pixel of that image in its own stream order.
// Types: RGB16, RGB24, RGB32 (opaque result) and RGBA (premultiplied, hasAlpha). spice-server
// never GLZ-encodes palette images (they are decoded through their own palette), nor A8.
//
// Memory is bounded: the dictionary holds at most 1.5 x windowPixels pixels (the server's window
// plus slack for images it encodes concurrently for several channels, whose window heads lag),
// dropping the oldest images first; a hostile server that claims a longer window only gets
// ProtocolErrors for references to what was dropped.
// Dictionary images are kept in their stream row order (references count pixels in that order)
// and decode() returns a top-down copy.
//
// Not thread-safe. One display channel is all Saffron uses today. With several display
// channels (one QXL device per monitor), spice-server shares one dictionary between them (the
// client sends the same glz_dictionary_id on every channel), and an image on one channel may
// reference an image that is still in flight on another: spice-gtk blocks the decoding channel
// until the id arrives, and the server's WAIT_FOR_CHANNELS message carries the same ordering
// for drawing. Supporting that needs a mutex around decode() and a bounded wait for a missing
// id (condition variable with a timeout, then ProtocolError) instead of failing at once; and
// releasing must then only follow ids up to the first gap, as images may arrive out of order.
class GlzDictionary {
public:
    // What Saffron should announce in DISPLAY_INIT (glz_dictionary_window_size, pixels): 16 Mi
    // pixels (64 MiB), spice-gtk's upper default, enough for a 4K (3840x2160) image, which
    // spice-server refuses to GLZ-encode when it is larger than the window. The server's own
    // limit is 2^25 pixels (lz_common.h LZ_MAX_WINDOW_SIZE).
    static constexpr uint32_t kDefaultWindowPixels = 16u * 1024 * 1024;

    explicit GlzDictionary(uint32_t windowPixels = kDefaultWindowPixels);

    // Decodes one GLZ stream (GLZ_RGB's BinaryData, or the inflated data of ZLIB_GLZ_RGB) whose
    // ImageDescriptor says width x height, resolves its references to earlier images, stores it
    // under its id and releases the images the server's window no longer holds.
    // Throws ProtocolError for malformed streams and for references to images that are not in
    // the dictionary (never received, failed to decode, evicted, or cleared); the dictionary is
    // unchanged then. Bytes after the last pixel are ignored, as spice-gtk does.
    Pixmap decode(std::span<const uint8_t> stream, uint32_t width, uint32_t height);
    // The same, without copying: a top-down image comes back as the dictionary's own (immutable)
    // pixels, a bottom-up one as a flipped copy.
    std::shared_ptr<const Pixmap> decodeShared(std::span<const uint8_t> stream, uint32_t width,
                                               uint32_t height);

    // Forgets every image. The server's dictionary belongs to its client connection (one per
    // main channel, shared by that client's display channels; spice-server image-encoders.cpp
    // image_encoders_get_glz_dictionary) and is never reset while it lives, not even on
    // INVAL_ALL_PIXMAPS, which only concerns the pixmap cache. So clear only when the session
    // connects anew or switches host (migration), as spice-gtk does (spice-session.c
    // cache_clear_all); clearing on INVAL_ALL_PIXMAPS, or on a display channel reconnection
    // while the main channel stays, can break the server's later references.
    void clear();

    uint32_t windowPixels() const { return windowPixels_; }
    uint64_t capacityPixels() const { return uint64_t(windowPixels_) + windowPixels_ / 2; }
    size_t imageCount() const { return images_.size(); }
    uint64_t storedPixels() const { return storedPixels_; }
    bool contains(uint64_t id) const { return images_.count(id) != 0; }

    // One decoded image in its stream row order (the Pixmap's rows are bottom-up when the image
    // was not top-down).
    struct Image {
        std::shared_ptr<const Pixmap> pixmap;
        size_t size() const { return pixmap->pixels.size(); }
        std::span<const uint32_t> view() const { return pixmap->pixels; }
    };

private:
    void insert(uint64_t id, uint32_t headDistance, Image image);

    uint32_t windowPixels_;
    uint64_t storedPixels_ = 0;
    // Ordered by id, so the oldest images are at the front. Images are immutable once stored, so
    // copies of a dictionary (tests, fuzzers) share them.
    std::map<uint64_t, Image> images_;
};

// Decodes a SPICE_IMAGE_TYPE_ZLIB_GLZ_RGB image. `wireData` is the image's ZlibGlzRGBData as it
// appears on the wire, starting at its first field:
//   uint32 glz_data_size   (little-endian) size of the GLZ stream once inflated
//   uint32 data_size       (little-endian) bytes of zlib data that follow
//   uint8  data[data_size] one zlib stream (RFC 1950, spice-server zlib-encoder.c deflate)
// Bytes after data are ignored, so the ImageReader may pass the rest of the message.
// glz_data_size is capped before anything is allocated: by what a GLZ stream of a width x height
// image can need (5 bytes a pixel plus the header) and by zlib's maximum ratio (1032:1), so a
// small message cannot make the client inflate a "zip bomb". The stream must inflate to exactly
// glz_data_size bytes. The inflated stream then goes through dictionary.decode().
Pixmap decodeZlibGlz(std::span<const uint8_t> wireData, uint32_t width, uint32_t height,
                     GlzDictionary& dictionary);
std::shared_ptr<const Pixmap> decodeZlibGlzShared(std::span<const uint8_t> wireData, uint32_t width,
                                                  uint32_t height, GlzDictionary& dictionary);

} // namespace saffron
