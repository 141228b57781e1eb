#include "codecs/GlzDictionary.h"

#include "codecs/LzDecoder.h"
#include "wire/Reader.h"

#define ZLIB_CONST // next_in is a pointer to const
#include <algorithm>
#include <memory>
#include <string>
#include <zlib.h>

namespace saffron {

using lz::ImageType;

namespace {

struct GlzHeader {
    ImageType type = ImageType::Invalid;
    bool topDown = false;
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t stride = 0;
    uint64_t id = 0;
    uint32_t headDistance = 0;
};

GlzHeader readHeader(lz::Input& in) {
    if (in.be32() != lz::kMagic)
        in.fail("bad magic");
    const uint32_t version = in.be32();
    if (version != lz::kVersion)
        in.fail("unsupported version " + std::to_string(version >> 16) + "." +
                std::to_string(version & 0xffff));
    // GLZ packs the row order into the type byte (glz-encoder.c: type | top_down << 4).
    const uint8_t typeAndOrder = in.byte();
    GlzHeader h;
    h.type = ImageType(typeAndOrder & 0x0f);
    h.topDown = (typeAndOrder >> 4) != 0;
    h.width = in.be32();
    h.height = in.be32();
    h.stride = in.be32();
    h.id = in.be64();
    h.headDistance = in.be32();
    return h;
}

unsigned bytesPerPixel(ImageType t) {
    switch (t) {
    case ImageType::Rgb16:
        return 2;
    case ImageType::Rgb24:
        return 3;
    case ImageType::Rgb32:
    case ImageType::Rgba:
        return 4;
    default:
        return 0; // palette, XXXA and A8 streams are never GLZ-encoded
    }
}

// Resolves references to other images for one decode() call. The dictionary is not modified
// while an image is decoded, so the entry found last can be remembered: consecutive references
// usually name the same image.
class ImageLookup {
public:
    ImageLookup(const std::map<uint64_t, GlzDictionary::Image>& images, uint64_t id, lz::Input& in)
        : images_(images), id_(id), in_(in) {}

    // The `len` pixels at `offset` of image (id - distance), in that image's stream order.
    std::span<const uint32_t> pixels(uint64_t distance, size_t offset, size_t len) {
        if (distance > id_)
            in_.fail("image " + std::to_string(id_) + " references an image " + std::to_string(distance) +
                     " before it, below id 0");
        const uint64_t want = id_ - distance;
        if (last_.data() == nullptr || lastId_ != want) {
            const auto it = images_.find(want);
            if (it == images_.end())
                in_.fail("image " + std::to_string(id_) + " references image " + std::to_string(want) +
                         ", which is not in the dictionary");
            last_ = it->second.view();
            lastId_ = want;
        }
        if (offset > last_.size() || len > last_.size() - offset)
            in_.fail("reference to pixels " + std::to_string(offset) + "+" + std::to_string(len) +
                     " of image " + std::to_string(want) + ", which has " + std::to_string(last_.size()));
        return last_.subspan(offset, len);
    }

private:
    const std::map<uint64_t, GlzDictionary::Image>& images_;
    uint64_t id_;
    lz::Input& in_;
    std::span<const uint32_t> last_;
    uint64_t lastId_ = 0;
};

// Runs the tokens of one GLZ pass until `out` is full. LiteralBytes and LenBias as in the
// header comment of GlzDictionary.h; `literal(src, i)` builds one unit from src[i ..],
// `fromImage(distance, offset, dst)` fills dst from another image. Lengths, offsets and
// distances are checked before anything is copied.
template <size_t LiteralBytes, size_t LenBias, typename Unit, typename Literal, typename FromImage>
void inflate(lz::Input& in, std::span<Unit> out, Literal literal, FromImage fromImage) {
    const size_t end = out.size();
    size_t op = 0;
    while (op < end) {
        const unsigned ctrl = in.byte();
        if (ctrl < 32) {
            const size_t run = size_t(ctrl) + 1;
            if (run > end - op)
                in.fail("literal run of " + std::to_string(run) + " past the end of the image");
            const auto src = in.take(run * LiteralBytes);
            for (size_t i = 0; i < run; ++i)
                out[op + i] = literal(src, i * LiteralBytes);
            op += run;
            continue;
        }
        size_t len = ctrl >> 5;
        if (len == 7) {
            unsigned more = 0;
            do {
                more = in.byte();
                len += more;
            } while (more == 255);
        }
        size_t offset = (ctrl & 0x0f) | size_t(in.byte()) << 4;
        const unsigned code = in.byte();
        const unsigned extraBytes = code >> 6;
        uint64_t distance = 0;
        if ((ctrl & 0x10) == 0) {
            // Short form: 6 bits of image distance here, 8 more per extra byte.
            distance = code & 0x3f;
            for (unsigned i = 0; i < extraBytes; ++i)
                distance |= uint64_t(in.byte()) << (6 + 8 * i);
        } else {
            // Long form: 5 more offset bits here, the distance in the extra bytes, and bit 5
            // announces a last byte of offset (bits 17-24).
            offset |= size_t(code & 0x1f) << 12;
            for (unsigned i = 0; i < extraBytes; ++i)
                distance |= uint64_t(in.byte()) << (8 * i);
            if (code & 0x20)
                offset |= size_t(in.byte()) << 17;
        }
        len += LenBias;
        if (len > end - op)
            in.fail("reference of " + std::to_string(len) + " pixels past the end of the image");
        if (distance == 0) {
            const size_t dist = offset + 1;
            if (dist > op)
                in.fail("back-reference " + std::to_string(dist) + " pixels before pixel " +
                        std::to_string(op));
            lz::copyWithin(out, op, dist, len);
        } else {
            fromImage(distance, offset, out.subspan(op, len));
        }
        op += len;
    }
}

uint32_t literalBgr(std::span<const uint8_t> s, size_t i) {
    return lz::kOpaque | uint32_t(s[i + 2]) << 16 | uint32_t(s[i + 1]) << 8 | s[i];
}
uint32_t literal555(std::span<const uint8_t> s, size_t i) {
    return lz::widen555(s[i], s[i + 1]);
}

// Inflates a ZLIB_GLZ_RGB payload into exactly `out`.
void inflateZlib(std::span<const uint8_t> deflated, std::span<uint8_t> out) {
    z_stream zs{};
    if (inflateInit(&zs) != Z_OK)
        throw ProtocolError("zlib glz: inflateInit failed");
    const std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
    zs.next_in = deflated.data();
    zs.avail_in = static_cast<uInt>(deflated.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&zs, Z_FINISH);
    if (rc == Z_STREAM_END && zs.total_out == out.size())
        return;
    if (rc == Z_STREAM_END)
        throw ProtocolError("zlib glz: inflates to " + std::to_string(zs.total_out) +
                            " bytes, not the announced " + std::to_string(out.size()));
    if (rc == Z_BUF_ERROR && zs.avail_out == 0)
        throw ProtocolError("zlib glz: inflates to more than the announced " + std::to_string(out.size()) +
                            " bytes");
    if (rc == Z_BUF_ERROR)
        throw ProtocolError("zlib glz: truncated after " + std::to_string(zs.total_out) + " of " +
                            std::to_string(out.size()) + " bytes");
    throw ProtocolError(std::string("zlib glz: ") + (zs.msg ? zs.msg : "corrupt data") + " (zlib " +
                        std::to_string(rc) + ")");
}

} // namespace

GlzDictionary::GlzDictionary(uint32_t windowPixels) : windowPixels_(windowPixels) {}

void GlzDictionary::clear() {
    images_.clear();
    storedPixels_ = 0;
}

Pixmap GlzDictionary::decode(std::span<const uint8_t> stream, uint32_t width, uint32_t height) {
    return *decodeShared(stream, width, height);
}

std::shared_ptr<const Pixmap> GlzDictionary::decodeShared(std::span<const uint8_t> stream, uint32_t width,
                                                          uint32_t height) {
    lz::Input in(stream, "glz image");
    if (!plausibleImageSize(width, height))
        in.fail("implausible size " + std::to_string(width) + "x" + std::to_string(height));
    const GlzHeader h = readHeader(in);
    if (h.width != width || h.height != height)
        in.fail("stream is " + std::to_string(h.width) + "x" + std::to_string(h.height) +
                ", descriptor says " + std::to_string(width) + "x" + std::to_string(height));
    const unsigned bpp = bytesPerPixel(h.type);
    if (bpp == 0)
        in.fail("unsupported image type " + std::to_string(int(h.type)));
    if (h.stride != uint64_t(width) * bpp)
        in.fail("stride " + std::to_string(h.stride) + " for width " + std::to_string(width));
    const bool alpha = h.type == ImageType::Rgba;
    const size_t count = size_t(width) * height;
    if ((alpha ? 2 * uint64_t(count) : count) > uint64_t(in.remaining()) * lz::kMaxUnitsPerByte)
        in.fail(std::to_string(in.remaining()) + " bytes cannot hold a " + std::to_string(width) + "x" +
                std::to_string(height) + " image");

    ImageLookup lookup(images_, h.id, in);
    // The dictionary keeps the image in stream order; a top-down image is handed to the caller as
    // the very same pixels (immutable from here on), so drawing it costs no extra copy.
    auto pixmap = std::make_shared<Pixmap>(int(width), int(height), alpha);
    const std::span<uint32_t> words(pixmap->pixels);
    // Pixels copied from an RGBA image bring its alpha along; an opaque image forces it to 0xff
    // there, as its literals do. RGBA's own alpha comes from its second pass.
    const uint32_t fill = alpha ? 0 : lz::kOpaque;
    auto copyPixels = [&](uint64_t distance, size_t offset, std::span<uint32_t> dst) {
        const auto src = lookup.pixels(distance, offset, dst.size());
        for (size_t i = 0; i < dst.size(); ++i)
            dst[i] = src[i] | fill;
    };
    if (h.type == ImageType::Rgb16)
        inflate<2, 1>(in, words, literal555, copyPixels);
    else
        inflate<3, 0>(in, words, literalBgr, copyPixels);

    if (alpha) {
        // The second pass of RGBA carries the alpha bytes (glz-encoder.c glz_rgb_alpha_compress);
        // references to other images take their alpha.
        std::vector<uint8_t> plane(count);
        auto copyAlpha = [&](uint64_t distance, size_t offset, std::span<uint8_t> dst) {
            const auto src = lookup.pixels(distance, offset, dst.size());
            for (size_t i = 0; i < dst.size(); ++i)
                dst[i] = uint8_t(src[i] >> 24);
        };
        inflate<1, 2>(
            in, std::span<uint8_t>(plane), [](std::span<const uint8_t> s, size_t i) { return s[i]; },
            copyAlpha);
        for (size_t i = 0; i < count; ++i)
            words[i] = (words[i] & 0x00ffffffu) | uint32_t(plane[i]) << 24;
    }

    std::shared_ptr<const Pixmap> result = pixmap;
    if (!h.topDown) {
        auto flipped = std::make_shared<Pixmap>();
        flipped->width = int(width);
        flipped->height = int(height);
        flipped->hasAlpha = alpha;
        flipped->pixels.reserve(count);
        for (uint32_t y = height; y-- > 0;) {
            const auto row = words.subspan(size_t(y) * width, width);
            flipped->pixels.insert(flipped->pixels.end(), row.begin(), row.end());
        }
        result = std::move(flipped);
    }
    insert(h.id, h.headDistance, Image{std::move(pixmap)});
    return result;
}

void GlzDictionary::insert(uint64_t id, uint32_t headDistance, Image image) {
    const uint64_t size = image.size();
    const uint64_t capacity = capacityPixels();
    if (size <= capacity) {
        auto [it, added] = images_.try_emplace(id);
        if (!added)
            storedPixels_ -= it->second.size(); // the server reused an id: the new image wins
        it->second = std::move(image);
        storedPixels_ += size;
    }
    // An image larger than the whole capacity is not kept: the server never GLZ-encodes an
    // image larger than its window, so only a hostile one would reference it.

    // The server's window now starts at id - win_head_dist; nothing older is referenced again.
    const uint64_t oldest = headDistance > id ? 0 : id - headDistance;
    while (!images_.empty() && images_.begin()->first < oldest) {
        storedPixels_ -= images_.begin()->second.size();
        images_.erase(images_.begin());
    }
    while (storedPixels_ > capacity && !images_.empty()) {
        storedPixels_ -= images_.begin()->second.size();
        images_.erase(images_.begin());
    }
}

Pixmap decodeZlibGlz(std::span<const uint8_t> wireData, uint32_t width, uint32_t height,
                     GlzDictionary& dictionary) {
    return *decodeZlibGlzShared(wireData, width, height, dictionary);
}

std::shared_ptr<const Pixmap> decodeZlibGlzShared(std::span<const uint8_t> wireData, uint32_t width,
                                                  uint32_t height, GlzDictionary& dictionary) {
    Reader r(wireData);
    const uint32_t glzSize = r.u32();
    const uint32_t dataSize = r.u32();
    const auto deflated = r.bytes(dataSize);
    if (!plausibleImageSize(width, height))
        throw ProtocolError("zlib glz: implausible size " + std::to_string(width) + "x" +
                            std::to_string(height));
    // The longest GLZ stream spice-server writes is an RGBA image of literals only: 4 bytes a
    // pixel plus a control byte every 32 pixels per pass, after the 33-byte header.
    const uint64_t maxGlz = 64 + uint64_t(width) * height * 5;
    // deflate cannot compress better than 1032:1 (zlib's technical details), plus its headers.
    const uint64_t maxInflated = uint64_t(dataSize) * 1032 + 64;
    if (glzSize == 0 || glzSize > maxGlz || glzSize > maxInflated)
        throw ProtocolError("zlib glz: implausible inflated size " + std::to_string(glzSize) + " for " +
                            std::to_string(dataSize) + " bytes of a " + std::to_string(width) + "x" +
                            std::to_string(height) + " image");
    auto buffer = std::make_unique_for_overwrite<uint8_t[]>(glzSize);
    const std::span<uint8_t> glz(buffer.get(), glzSize);
    inflateZlib(deflated, glz);
    return dictionary.decodeShared(glz, width, height);
}

} // namespace saffron
