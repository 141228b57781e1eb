#pragma once

#include "display/Pixmap.h"

#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

namespace saffron {

// The client side of spice-server's pixmap cache: images the server flagged CACHE_ME, kept by
// id until the server invalidates them (INVAL_LIST / INVAL_ALL_PIXMAPS). The server budgets
// against the size we announced in DISPLAY_INIT, so normally it evicts for us; the hard cap
// here only defends against a server that does not (oldest entries go first).
class ImageCache {
public:
    explicit ImageCache(uint64_t capacityPixels) : capacity_(capacityPixels) {}

    void put(uint64_t id, std::shared_ptr<const Pixmap> image);
    std::shared_ptr<const Pixmap> get(uint64_t id) const;
    void remove(uint64_t id);
    void clear();
    uint64_t pixels() const { return pixels_; }
    size_t size() const { return entries_.size(); }

private:
    struct Entry {
        std::shared_ptr<const Pixmap> image;
        std::list<uint64_t>::iterator order;
    };
    uint64_t capacity_;
    uint64_t pixels_ = 0;
    std::unordered_map<uint64_t, Entry> entries_;
    std::list<uint64_t> order_;
};

// Palettes the server flagged PAL_CACHE_ME, by their 64-bit unique id.
class PaletteCache {
public:
    static constexpr size_t kMaxEntries = 4096;
    void put(uint64_t id, std::vector<uint32_t> palette);
    const std::vector<uint32_t>* get(uint64_t id) const;
    void remove(uint64_t id) { palettes_.erase(id); }
    void clear() { palettes_.clear(); }

private:
    std::unordered_map<uint64_t, std::vector<uint32_t>> palettes_;
};

} // namespace saffron
