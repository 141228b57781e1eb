#include "display/ImageCache.h"

namespace saffron {

void ImageCache::put(uint64_t id, std::shared_ptr<const Pixmap> image) {
    remove(id);
    const uint64_t px = uint64_t(image->width) * uint64_t(image->height);
    while (!order_.empty() && pixels_ + px > capacity_)
        remove(order_.front());
    order_.push_back(id);
    entries_.emplace(id, Entry{std::move(image), std::prev(order_.end())});
    pixels_ += px;
}

std::shared_ptr<const Pixmap> ImageCache::get(uint64_t id) const {
    auto it = entries_.find(id);
    return it == entries_.end() ? nullptr : it->second.image;
}

void ImageCache::remove(uint64_t id) {
    auto it = entries_.find(id);
    if (it == entries_.end())
        return;
    pixels_ -= uint64_t(it->second.image->width) * uint64_t(it->second.image->height);
    order_.erase(it->second.order);
    entries_.erase(it);
}

void ImageCache::clear() {
    entries_.clear();
    order_.clear();
    pixels_ = 0;
}

void PaletteCache::put(uint64_t id, std::vector<uint32_t> palette) {
    if (palettes_.size() >= kMaxEntries && !palettes_.count(id))
        palettes_.erase(palettes_.begin());
    palettes_[id] = std::move(palette);
}

const std::vector<uint32_t>* PaletteCache::get(uint64_t id) const {
    auto it = palettes_.find(id);
    return it == palettes_.end() ? nullptr : &it->second;
}

} // namespace saffron
