#pragma once

#include "display/Pixmap.h"

#include <memory>
#include <vector>

namespace saffron {

// Reusable RGB pictures for a video stream's layer (VideoLayerMode::Rgb, MJPEG decoded straight
// to RGB). A picture handed to the front end is shared with it (the front end's texture points
// at its pixels) and the pool hands it out again only once nobody else holds it, so a stream at
// 25-60 fps writes into a few warm buffers instead of allocating and clearing a full frame each
// time (a 1080p picture is 8 MB). Used on one thread; the holders may release pictures on any
// thread.
class PicturePool {
public:
    // At most this many pictures are kept; a stream needs three at a time (the one shown, the
    // one the session just published, the one being written).
    static constexpr size_t kMaxKept = 4;

    // A picture of w x h that only the pool holds (contents undefined), or nullptr when no
    // memory could be had.
    std::shared_ptr<Pixmap> take(int w, int h);

private:
    std::vector<std::shared_ptr<Pixmap>> pictures_;
};

} // namespace saffron
