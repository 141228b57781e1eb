#pragma once

#include "display/Pixmap.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace saffron::testserver {

// Everything a workload produces is plain data (rectangles, pixels, cursor shapes). The QXL
// device turns it into QXL commands for libspice-server, and expectedSurface() replays the
// same data in software, so the expected picture can never drift from what was submitted.

struct Rect {
    int left = 0;
    int top = 0;
    int right = 0;
    int bottom = 0;
    int width() const { return right - left; }
    int height() const { return bottom - top; }
    bool operator==(const Rect&) const = default;
};

struct DrawOp {
    enum class Kind {
        Copy,     // QXL_DRAW_COPY of `image` (same size as dst) with ROP "put"
        CopyBits, // QXL_COPY_BITS: the dst-sized area at (srcX, srcY) of the surface moves to dst
    };
    Kind kind = Kind::Copy;
    Rect dst;
    int srcX = 0;
    int srcY = 0;
    Pixmap image;
};

// Cursor shape in the SPICE cursor data layout (spice/enums.h SPICE_CURSOR_TYPE_*):
//   ALPHA:   width*height 32-bit ARGB words;
//   MONO:    AND mask then XOR mask, 1 bit per pixel, rows of (width+7)/8 bytes, MSB first;
//   COLOR32: width*height 32-bit xRGB words, then an AND mask as for MONO.
struct CursorShape {
    uint16_t type = 0;
    uint16_t width = 0;
    uint16_t height = 0;
    uint16_t hotX = 0;
    uint16_t hotY = 0;
    // Non-zero ids let the server and client cache the shape (QXLCursorHeader.unique).
    uint64_t unique = 0;
    std::vector<uint8_t> data;
};

struct CursorOp {
    enum class Kind { Set, Move, Hide };
    Kind kind = Kind::Move;
    int x = 0;
    int y = 0;
    std::shared_ptr<const CursorShape> shape; // Set only
};

struct Frame {
    std::vector<DrawOp> draws;
    std::vector<CursorOp> cursor;
};

// A deterministic sequence of frames. Frame 1 paints the whole primary surface; later
// frames (animated workloads only) change it incrementally.
class Workload {
public:
    virtual ~Workload() = default;
    virtual std::string_view name() const = 0;
    // True when frames continue after frame 1 (one every 1/fps seconds).
    virtual bool animated() const = 0;
    // Frame `index` (1-based) for a width x height primary surface, or nullopt past the last
    // frame of a workload that is not animated.
    virtual std::optional<Frame> frame(int index, int width, int height) const = 0;
    // The first frame after frame 1 that expectedSurface() must replay to know the surface
    // after frame `frames`. Workloads whose later frames each repaint the same area in full
    // return `frames`, so the picture of frame 10000 costs two frames, not 10000.
    virtual int replayFrom(int frames) const {
        (void)frames;
        return 2;
    }
    // The area the video workloads repaint every frame, empty for the others.
    virtual Rect videoRect(int width, int height) const {
        (void)width;
        (void)height;
        return {};
    }
};

// Where the video workloads play, whatever the surface size (it changes with `resize`).
struct VideoArea {
    enum class Mode {
        Centre,     // the centre quarter: half the width and height, centred (the default)
        Rect,       // `rect`, clipped to the surface; the centre quarter if nothing is left
        Fullscreen, // the whole primary surface
    };
    Mode mode = Mode::Centre;
    Rect rect;
};

// The video rectangle for a width x height surface.
Rect resolveVideoArea(const VideoArea& area, int width, int height);

// Default and maximum rate of animated workloads (frames per second); 25 is one frame every
// 40 ms, spice-server's stream detection needs more than 5 (RED_STREAM_DETECTION_MAX_DELTA).
inline constexpr int kDefaultFps = 25;
inline constexpr int kMaxFps = 60;
// Height of one scrolled text line (the scroll workload's band).
inline constexpr int kScrollBand = 16;
// Smallest surface the workloads draw on (the scroll band must fit several times).
inline constexpr int kMinSurfaceSize = 64;
inline constexpr int kMaxSurfaceSize = 4096;

// "static", "scroll", "cursor", "photo", "video", "video-moving" or "video-noise"; nullptr
// for anything else. `area` only matters to the three video workloads.
std::unique_ptr<Workload> makeWorkload(std::string_view name, const VideoArea& area = {});

// Applies one draw to `surface` exactly as the server's software canvas does for these ops.
void applyDraw(Pixmap& surface, const DrawOp& op);

// The primary surface after frames 1..frames of `workload`, starting from black.
Pixmap expectedSurface(const Workload& workload, int width, int height, int frames);

// The individual images, exposed for unit tests and for the cursor workload's background.
Pixmap staticPattern(int width, int height);
Pixmap photoImage(int width, int height);
// Rows [firstRow, firstRow + rows) of the endless document the scroll workload shows.
Pixmap scrollDocument(int width, int firstRow, int rows);
// Picture `index` of the video-moving and video-noise workloads, for a w x h video area.
Pixmap movingPicture(int width, int height, int index);
Pixmap noisePicture(int width, int height, int index);

// The still picture of an extra display (1..kMaxDisplays-1, see Options::displays): a colour
// of its own (displayColour), a white frame four pixels wide and its name ("DISPLAY 2" for
// display 1, as a person counts screens) in the middle, so that a test, or a person, tells
// the displays apart and sees any cut-off edge.
Pixmap displayPicture(int display, int width, int height);
uint32_t displayColour(int display);
Frame displayFrame(int display, int width, int height);

// The frame code: the low kFrameCodeBits bits of the frame number, drawn by video-moving and
// video-noise as a row of square cells along the top edge of the video area, most
// significant bit first, white for 1 and black for 0, so that a client test can tell which
// frame a (lossy) stream picture shows. frameCodeCell() is the cell size for a video area
// of that size, 0 when it is too small to carry a code.
inline constexpr int kFrameCodeBits = 16;
int frameCodeCell(int width, int height);
// Reads the code back from the video area `area` of `picture` (a whole surface, expected or
// presented) by the average luma of each cell's centre half; nullopt when no code fits or
// `area` is not inside `picture`.
std::optional<int> readFrameCode(const Pixmap& picture, const Rect& area);

std::shared_ptr<const CursorShape> alphaCursor();
std::shared_ptr<const CursorShape> monoCursor();
std::shared_ptr<const CursorShape> colorCursor();

} // namespace saffron::testserver
