#include "streams/PicturePool.h"

#include <atomic>
#include <new>

namespace saffron {

std::shared_ptr<Pixmap> PicturePool::take(int w, int h) {
    std::shared_ptr<Pixmap>* spare = nullptr; // a free picture of another size
    for (auto& p : pictures_) {
        if (p.use_count() != 1)
            continue;
        // The last other holder let go with a release decrement (shared_ptr's count is updated
        // acquire-release); this fence orders its reads of the pixels before our writes.
        std::atomic_thread_fence(std::memory_order_acquire);
        if (p->width == w && p->height == h)
            return p;
        spare = &p;
    }
    std::shared_ptr<Pixmap> fresh;
    try {
        fresh = std::make_shared<Pixmap>(w, h);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
    if (spare)
        *spare = fresh; // the stream changed size: the old picture is of no more use
    else if (pictures_.size() < kMaxKept)
        pictures_.push_back(fresh);
    // Otherwise the front end holds every kept picture (it is slower than the stream): this one
    // is used once and freed by its last holder.
    return fresh;
}

} // namespace saffron
