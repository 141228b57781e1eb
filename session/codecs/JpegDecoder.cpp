#include "codecs/JpegDecoder.h"

#include "wire/ProtocolError.h"

#include <algorithm>
#include <bit>
#include <csetjmp>
#include <cstdio> // jpeglib.h uses FILE without including it
#include <cstring>
#include <jpeglib.h>
#include <string>

namespace saffron {

namespace {

// libjpeg reports errors through error_exit, which must not return. Throwing a C++ exception
// from it would unwind through libjpeg's C frames, which are built without unwind tables
// (-fexceptions), so that is undefined behaviour. Instead error_exit longjmps back to a
// setjmp in one of the two small functions below, which hold no object with a destructor
// between their setjmp and any libjpeg call; they return false and the C++ caller throws.
constexpr int kMaxScans = 500;

struct ErrorManager {
    jpeg_error_mgr pub; // first member: libjpeg only sees a jpeg_error_mgr*
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

ErrorManager& errorManager(j_common_ptr cinfo) {
    // ErrorManager is standard layout and pub is its first member.
    return *reinterpret_cast<ErrorManager*>(cinfo->err);
}

[[noreturn]] void onError(j_common_ptr cinfo) {
    ErrorManager& err = errorManager(cinfo);
    (*cinfo->err->format_message)(cinfo, err.message);
    std::longjmp(err.jump, 1);
}

// Level -1 is a warning: corrupt data that libjpeg would paper over. Treat it as an error
// (see JpegDecoder.h). Higher levels are trace messages; they are never printed.
void onMessage(j_common_ptr cinfo, int level) {
    if (level < 0)
        onError(cinfo);
}

void onProgress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor)
        return;
    auto* dinfo = reinterpret_cast<j_decompress_ptr>(cinfo);
    if (dinfo->input_scan_number > kMaxScans) {
        ErrorManager& err = errorManager(cinfo);
        std::snprintf(err.message, sizeof err.message, "more than %d scans", kMaxScans);
        std::longjmp(err.jump, 1);
    }
}

} // namespace

// Owns one libjpeg decompressor; the error manager and progress hook live beside it because
// libjpeg keeps pointers to them.
class JpegImage::Decompressor {
public:
    Decompressor() {
        cinfo_.err = jpeg_std_error(&err_.pub);
        err_.pub.error_exit = onError;
        err_.pub.emit_message = onMessage;
        err_.message[0] = '\0';
        progress_.progress_monitor = onProgress;
    }
    // Safe even when creation never ran or failed half-way: cinfo_ starts zeroed, and
    // jpeg_destroy only releases the memory manager when there is one.
    ~Decompressor() { jpeg_destroy_decompress(&cinfo_); }
    Decompressor(const Decompressor&) = delete;
    Decompressor& operator=(const Decompressor&) = delete;

    // Creates the decompressor, attaches the input and reads the header up to the first scan.
    bool readHeader(std::span<const uint8_t> data);
    // Decodes every scanline straight into `out`, whose size has been checked against the header.
    bool decodeInto(Pixmap& out, Speed speed, int reversedRows);

    const jpeg_decompress_struct& info() const { return cinfo_; }
    std::string error() const { return err_.message; }

private:
    jpeg_decompress_struct cinfo_{};
    ErrorManager err_{};
    jpeg_progress_mgr progress_{};
};

bool JpegImage::Decompressor::readHeader(std::span<const uint8_t> data) {
    if (setjmp(err_.jump))
        return false;
    jpeg_create_decompress(&cinfo_);
    cinfo_.progress = &progress_;
    jpeg_mem_src(&cinfo_, data.data(), static_cast<unsigned long>(data.size()));
    jpeg_read_header(&cinfo_, TRUE);
    return true;
}

bool JpegImage::Decompressor::decodeInto(Pixmap& out, Speed speed, int reversedRows) {
    if (setjmp(err_.jump))
        return false;
    if (speed == Speed::Fast) {
        cinfo_.dct_method = JDCT_IFAST;
        cinfo_.do_fancy_upsampling = FALSE;
    }
    // libjpeg-turbo's extended colour spaces write 4 bytes a pixel with the pad byte set to
    // 0xff, which is exactly Pixmap's opaque 0xffRRGGBB word once the byte order matches the
    // host's: B,G,R,X in memory on little-endian hosts.
    cinfo_.out_color_space = std::endian::native == std::endian::little ? JCS_EXT_BGRX : JCS_EXT_XRGB;
    jpeg_start_decompress(&cinfo_);
    if (cinfo_.output_width != static_cast<JDIMENSION>(out.width) ||
        cinfo_.output_height != static_cast<JDIMENSION>(out.height) || cinfo_.output_components != 4) {
        std::snprintf(err_.message, sizeof err_.message, "unexpected output geometry %ux%u, %d components",
                      cinfo_.output_width, cinfo_.output_height, cinfo_.output_components);
        return false;
    }
    // A few rows per call lets libjpeg hand over whole MCU rows at once.
    constexpr int kBatch = 16;
    JSAMPROW rows[kBatch];
    while (cinfo_.output_scanline < cinfo_.output_height) {
        const JDIMENSION first = cinfo_.output_scanline;
        const JDIMENSION count = std::min<JDIMENSION>(kBatch, cinfo_.output_height - first);
        for (JDIMENSION i = 0; i < count; ++i) {
            const int y = static_cast<int>(first + i);
            rows[i] = reinterpret_cast<JSAMPROW>(out.row(y < reversedRows ? reversedRows - 1 - y : y).data());
        }
        // The memory source never suspends; zero rows would mean no progress at all.
        if (jpeg_read_scanlines(&cinfo_, rows, count) == 0) {
            std::snprintf(err_.message, sizeof err_.message, "no progress at scanline %u", first);
            return false;
        }
    }
    jpeg_finish_decompress(&cinfo_);
    return true;
}

JpegImage::JpegImage(std::span<const uint8_t> data) : jpeg_(std::make_unique<Decompressor>()) {
    if (data.empty())
        throw ProtocolError("jpeg: empty image data");
    if (!jpeg_->readHeader(data))
        throw ProtocolError("jpeg: " + jpeg_->error());
    const auto& info = jpeg_->info();
    if (!plausibleImageSize(info.image_width, info.image_height))
        throw ProtocolError("jpeg: implausible size " + std::to_string(info.image_width) + "x" +
                            std::to_string(info.image_height));
    width_ = static_cast<int>(info.image_width);
    height_ = static_cast<int>(info.image_height);
}

JpegImage::~JpegImage() = default;

void JpegImage::decodeInto(Pixmap& out, Speed speed, int reversedRows) {
    if (!jpeg_->decodeInto(out, speed, std::clamp(reversedRows, 0, out.height)))
        throw ProtocolError("jpeg: " + jpeg_->error());
}

Pixmap decodeJpeg(std::span<const uint8_t> data, uint32_t expectedWidth, uint32_t expectedHeight) {
    if (!plausibleImageSize(expectedWidth, expectedHeight))
        throw ProtocolError("jpeg: implausible size " + std::to_string(expectedWidth) + "x" +
                            std::to_string(expectedHeight));
    JpegImage jpeg(data);
    if (uint32_t(jpeg.width()) != expectedWidth || uint32_t(jpeg.height()) != expectedHeight)
        throw ProtocolError("jpeg: stream is " + std::to_string(jpeg.width()) + "x" +
                            std::to_string(jpeg.height()) + ", descriptor says " +
                            std::to_string(expectedWidth) + "x" + std::to_string(expectedHeight));
    Pixmap out(jpeg.width(), jpeg.height());
    jpeg.decodeInto(out);
    return out;
}

} // namespace saffron
