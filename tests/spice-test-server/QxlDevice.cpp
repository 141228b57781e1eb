#include "QxlDevice.h"

#include "Console.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <spice/enums.h>
#include <spice/qxl_dev.h>
#include <string>
#include <utility>

namespace saffron::testserver {

namespace {

constexpr uint32_t kMemSlotGroup = 0;
constexpr uint32_t kMemSlotId = 0;
// The worker sizes its surface table from this; we only ever use surface 0 (the primary).
constexpr uint32_t kSurfaceCount = 16;
// async_complete's cookie for spice_qxl_monitors_config_async (the only async call we make).
constexpr uint64_t kMonitorsConfigCookie = 0x4d4f4e53; // "MONS"

template <typename T> QXLPHYSICAL physical(const T* p) {
    return static_cast<QXLPHYSICAL>(reinterpret_cast<uintptr_t>(p));
}

QXLRect qxlRect(const Rect& r) {
    QXLRect q{};
    q.top = r.top;
    q.left = r.left;
    q.bottom = r.bottom;
    q.right = r.right;
    return q;
}

QXLInterface makeInterface() {
    QXLInterface i{};
    i.base.type = SPICE_INTERFACE_QXL;
    i.base.description = "saffron test qxl";
    i.base.major_version = SPICE_INTERFACE_QXL_MAJOR;
    i.base.minor_version = SPICE_INTERFACE_QXL_MINOR;
    return i;
}

} // namespace

// One QXL_CMD_DRAW: the drawable, its source image and the pixels, released together
// (the server may read the bitmap until it releases the drawable).
struct QxlDevice::DrawResource : Resource {
    QXLDrawable drawable{};
    QXLImage image{};
    std::vector<uint32_t> pixels;
};

// One QXL_CMD_CURSOR and, for QXL_CURSOR_SET, the QXLCursor it points to (header, one data
// chunk and the shape bytes right after it, as spice-server's red_get_cursor reads them).
struct QxlDevice::CursorResource : Resource {
    QXLCursorCmd cmd{};
    std::vector<unsigned char> shape;
};

const QXLInterface QxlDevice::interface_ = [] {
    QXLInterface i = makeInterface();
    // spice-server calls the deprecated two-argument form (red_qxl_attach_worker), so we
    // provide exactly that signature rather than rely on the one-argument union member.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    i.attache_worker = &QxlDevice::attacheWorker;
#pragma GCC diagnostic pop
    i.set_compression_level = &QxlDevice::setCompressionLevel;
    i.get_init_info = &QxlDevice::getInitInfo;
    i.get_command = &QxlDevice::getCommand;
    i.req_cmd_notification = &QxlDevice::reqCmdNotification;
    i.release_resource = &QxlDevice::releaseResource;
    i.get_cursor_command = &QxlDevice::getCursorCommand;
    i.req_cursor_notification = &QxlDevice::reqCursorNotification;
    i.notify_update = &QxlDevice::notifyUpdate;
    i.flush_resources = &QxlDevice::flushResources;
    i.async_complete = &QxlDevice::asyncComplete;
    i.update_area_complete = &QxlDevice::updateAreaComplete;
    i.set_client_capabilities = &QxlDevice::setClientCapabilities;
    // Deliberately no client_monitors_config: when a QXL device implements it, spice-server
    // consumes the client's VD_AGENT_MONITORS_CONFIG itself (reds.cpp,
    // reds_use_client_monitors_config) and the agent never sees it. Like a guest without
    // the QXL monitors-config interrupt, we want the agent to get it and resize.
    i.client_monitors_config = nullptr;
    return i;
}();

QxlDevice::QxlDevice(SpiceServer* server, int id) : server_(server) {
    instance_.qxl.base.sif = &interface_.base;
    instance_.qxl.id = id;
    instance_.owner = this;
}

QxlDevice::~QxlDevice() {
    // After spice_server_destroy the worker thread is gone; whatever it did not release
    // (the current cursor, for one) is ours to free.
    std::lock_guard lock(mutex_);
    drawQueue_.clear();
    cursorQueue_.clear();
    live_.clear();
}

QxlDevice& QxlDevice::self(QXLInstance* qin) {
    // Instance is standard-layout with the QXLInstance first, so the two are
    // pointer-interconvertible.
    return *reinterpret_cast<Instance*>(qin)->owner;
}

bool QxlDevice::attach() {
    if (spice_server_add_interface(server_, &instance_.qxl.base) != 0)
        return false;
    QXLDevMemSlot slot{};
    slot.slot_group_id = kMemSlotGroup;
    slot.slot_id = kMemSlotId;
    slot.generation = 0;
    slot.virt_start = 0;
    slot.virt_end = ~uintptr_t{0};
    slot.addr_delta = 0;
    slot.qxl_ram_size = ~uint32_t{0};
    spice_qxl_add_memslot(&instance_.qxl, &slot);
    return true;
}

void QxlDevice::createPrimary(int width, int height) {
    width_ = width;
    height_ = height;
    surface_.assign(static_cast<size_t>(width) * static_cast<size_t>(height), 0);
    QXLDevSurfaceCreate create{};
    create.width = static_cast<uint32_t>(width);
    create.height = static_cast<uint32_t>(height);
    // Positive stride: line 0 is the first row in memory (spice-server only flips the
    // start address for a negative stride, red-worker.cpp dev_create_primary_surface).
    create.stride = width * 4;
    create.format = SPICE_SURFACE_FMT_32_xRGB;
    create.position = 0;
    create.mouse_mode = 1;
    create.flags = 0;
    create.type = QXL_SURF_TYPE_PRIMARY;
    create.mem = physical(surface_.data());
    create.group_id = kMemSlotGroup;
    spice_qxl_create_primary_surface(&instance_.qxl, 0, &create);
}

void QxlDevice::destroyPrimary() {
    if (!hasPrimary())
        return;
    {
        // Commands the worker never fetched are released here; it never saw them.
        std::lock_guard lock(mutex_);
        for (const Queued& q : drawQueue_)
            live_.erase(q.id);
        drawQueue_.clear();
    }
    spice_qxl_destroy_primary_surface(&instance_.qxl, 0);
    width_ = height_ = 0;
    surface_.clear();
    surface_.shrink_to_fit();
}

uint64_t QxlDevice::track(std::unique_ptr<Resource> resource) {
    const uint64_t id = nextId_++;
    live_[id] = std::move(resource);
    return id;
}

QxlDevice::Queued QxlDevice::makeDraw(const DrawOp& op) {
    auto res = std::make_unique<DrawResource>();
    QXLDrawable& d = res->drawable;
    d.surface_id = 0;
    d.effect = QXL_EFFECT_OPAQUE;
    d.self_bitmap = 0;
    d.bbox = qxlRect(op.dst);
    d.clip.type = SPICE_CLIP_TYPE_NONE;
    d.clip.data = 0;
    d.mm_time = 0;
    // No surface dependencies: everything happens on the primary.
    d.surfaces_dest[0] = d.surfaces_dest[1] = d.surfaces_dest[2] = -1;

    if (op.kind == DrawOp::Kind::CopyBits) {
        d.type = QXL_COPY_BITS;
        QXLPoint src{};
        src.x = op.srcX;
        src.y = op.srcY;
        d.u.copy_bits.src_pos = src;
    } else {
        if (bottomUp_) {
            const size_t row = size_t(op.image.width);
            res->pixels.resize(op.image.pixels.size());
            for (size_t y = 0, h = size_t(op.image.height); y < h; ++y)
                std::copy_n(op.image.pixels.begin() + ptrdiff_t((h - 1 - y) * row), row,
                            res->pixels.begin() + ptrdiff_t(y * row));
        } else {
            res->pixels = op.image.pixels;
        }
        QXLImage& image = res->image;
        // Device-group ids, unique per image; no QXL_IMAGE_CACHE flag, so the server sends
        // each bitmap instead of asking the client to cache it.
        QXL_SET_IMAGE_ID(&image, QXL_IMAGE_GROUP_DEVICE, nextImageId_++);
        image.descriptor.type = SPICE_IMAGE_TYPE_BITMAP;
        image.descriptor.flags = 0;
        image.descriptor.width = static_cast<uint32_t>(op.image.width);
        image.descriptor.height = static_cast<uint32_t>(op.image.height);
        image.bitmap.format = SPICE_BITMAP_FMT_32BIT;
        // DIRECT: `data` points at the pixels rather than at a QXLDataChunk chain.
        image.bitmap.flags = QXL_BITMAP_DIRECT | (bottomUp_ ? 0 : QXL_BITMAP_TOP_DOWN);
        image.bitmap.x = static_cast<uint32_t>(op.image.width);
        image.bitmap.y = static_cast<uint32_t>(op.image.height);
        image.bitmap.stride = static_cast<uint32_t>(op.image.width) * 4;
        image.bitmap.palette = 0;
        image.bitmap.data = physical(res->pixels.data());

        d.type = QXL_DRAW_COPY;
        d.u.copy.src_bitmap = physical(&res->image);
        d.u.copy.src_area = qxlRect({0, 0, op.image.width, op.image.height});
        d.u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
        d.u.copy.scale_mode = SPICE_IMAGE_SCALE_MODE_NEAREST;
        d.u.copy.mask.flags = 0;
        d.u.copy.mask.bitmap = 0;
    }

    Queued q{};
    q.ext.cmd.type = QXL_CMD_DRAW;
    q.ext.cmd.data = physical(&res->drawable);
    q.ext.cmd.padding = 0;
    q.ext.group_id = kMemSlotGroup;
    q.ext.flags = 0;
    DrawResource* raw = res.get();
    q.id = track(std::move(res));
    raw->drawable.release_info.id = q.id;
    return q;
}

QxlDevice::Queued QxlDevice::makeCursor(const CursorOp& op) {
    auto res = std::make_unique<CursorResource>();
    QXLCursorCmd& c = res->cmd;
    QXLPoint16 pos{};
    pos.x = static_cast<int16_t>(op.x);
    pos.y = static_cast<int16_t>(op.y);
    switch (op.kind) {
    case CursorOp::Kind::Set: {
        const CursorShape& s = *op.shape;
        res->shape.assign(sizeof(QXLCursor) + s.data.size(), 0);
        auto* cursor = new (res->shape.data()) QXLCursor{};
        cursor->header.unique = s.unique;
        cursor->header.type = s.type;
        cursor->header.width = s.width;
        cursor->header.height = s.height;
        cursor->header.hot_spot_x = s.hotX;
        cursor->header.hot_spot_y = s.hotY;
        cursor->data_size = static_cast<uint32_t>(s.data.size());
        cursor->chunk.data_size = static_cast<uint32_t>(s.data.size());
        cursor->chunk.prev_chunk = 0;
        cursor->chunk.next_chunk = 0;
        // The chunk's flexible data[] member starts right after the packed QXLCursor.
        std::memcpy(res->shape.data() + sizeof(QXLCursor), s.data.data(), s.data.size());
        c.type = QXL_CURSOR_SET;
        c.u.set.position = pos;
        c.u.set.visible = 1;
        c.u.set.shape = physical(cursor);
        break;
    }
    case CursorOp::Kind::Move:
        c.type = QXL_CURSOR_MOVE;
        c.u.position = pos;
        break;
    case CursorOp::Kind::Hide:
        c.type = QXL_CURSOR_HIDE;
        break;
    }
    Queued q{};
    q.ext.cmd.type = QXL_CMD_CURSOR;
    q.ext.cmd.data = physical(&res->cmd);
    q.ext.cmd.padding = 0;
    q.ext.group_id = kMemSlotGroup;
    q.ext.flags = 0;
    CursorResource* raw = res.get();
    q.id = track(std::move(res));
    raw->cmd.release_info.id = q.id;
    return q;
}

void QxlDevice::submit(const Frame& frame) {
    bool wakeDraw = false;
    bool wakeCursor = false;
    {
        std::lock_guard lock(mutex_);
        for (const DrawOp& op : frame.draws)
            drawQueue_.push_back(makeDraw(op));
        for (const CursorOp& op : frame.cursor)
            cursorQueue_.push_back(makeCursor(op));
        if (!frame.draws.empty())
            wakeDraw = std::exchange(drawNotify_, false);
        if (!frame.cursor.empty())
            wakeCursor = std::exchange(cursorNotify_, false);
    }
    // One wakeup covers both rings: it makes the worker poll display and cursor commands.
    if (wakeDraw || wakeCursor)
        spice_qxl_wakeup(&instance_.qxl);
}

size_t QxlDevice::pendingDraws() {
    std::lock_guard lock(mutex_);
    return drawQueue_.size();
}

size_t QxlDevice::liveResources() {
    std::lock_guard lock(mutex_);
    return live_.size();
}

Pixmap QxlDevice::readSurface() {
    Pixmap out(width_, height_);
    if (!hasPrimary())
        return out;
    QXLRect area = qxlRect({0, 0, width_, height_});
    // Flushes the command ring and renders every pending drawable into our memory
    // (red-worker.cpp handle_dev_update: flush_display_commands, display_channel_update).
    spice_qxl_update_area(&instance_.qxl, 0, &area, nullptr, 0, 0);
    for (size_t i = 0; i < surface_.size(); ++i)
        out.pixels[i] = 0xFF000000u | (surface_[i] & 0x00FFFFFFu); // xRGB: the x byte is undefined
    return out;
}

// --- QXLInterface callbacks -----------------------------------------------------------

void QxlDevice::attacheWorker(QXLInstance*, QXLWorker*) {
    // Nothing to do: the memslot and the primary are set up by the main thread right after
    // spice_server_add_interface returns.
}

void QxlDevice::setCompressionLevel(QXLInstance*, int) {}

void QxlDevice::getInitInfo(QXLInstance*, QXLDevInitInfo* info) {
    std::memset(info, 0, sizeof *info);
    info->num_memslots_groups = 1;
    info->num_memslots = 1;
    info->memslot_gen_bits = 1;
    info->memslot_id_bits = 1;
    info->qxl_ram_size = ~uint32_t{0};
    info->internal_groupslot_id = 0;
    info->n_surfaces = kSurfaceCount;
}

int QxlDevice::getCommand(QXLInstance* qin, QXLCommandExt* cmd) {
    QxlDevice& dev = self(qin);
    std::lock_guard lock(dev.mutex_);
    if (dev.drawQueue_.empty())
        return 0;
    *cmd = dev.drawQueue_.front().ext;
    dev.drawQueue_.pop_front();
    return 1;
}

int QxlDevice::reqCmdNotification(QXLInstance* qin) {
    QxlDevice& dev = self(qin);
    std::lock_guard lock(dev.mutex_);
    // Contract (spice-qxl.h): return 0 if commands are already available, otherwise
    // remember to call spice_qxl_wakeup() when some arrive.
    if (!dev.drawQueue_.empty())
        return 0;
    dev.drawNotify_ = true;
    return 1;
}

void QxlDevice::releaseResource(QXLInstance* qin, QXLReleaseInfoExt release) {
    QxlDevice& dev = self(qin);
    const uint64_t id = release.info->id;
    std::unique_ptr<Resource> doomed;
    {
        std::lock_guard lock(dev.mutex_);
        auto it = dev.live_.find(id);
        if (it == dev.live_.end()) {
            printLine("WARNING release of unknown resource " + std::to_string(id));
            return;
        }
        doomed = std::move(it->second);
        dev.live_.erase(it);
    }
    // `doomed` is freed here, outside the lock.
}

int QxlDevice::getCursorCommand(QXLInstance* qin, QXLCommandExt* cmd) {
    QxlDevice& dev = self(qin);
    std::lock_guard lock(dev.mutex_);
    if (dev.cursorQueue_.empty())
        return 0;
    *cmd = dev.cursorQueue_.front().ext;
    dev.cursorQueue_.pop_front();
    return 1;
}

int QxlDevice::reqCursorNotification(QXLInstance* qin) {
    QxlDevice& dev = self(qin);
    std::lock_guard lock(dev.mutex_);
    if (!dev.cursorQueue_.empty())
        return 0;
    dev.cursorNotify_ = true;
    return 1;
}

void QxlDevice::notifyUpdate(QXLInstance*, uint32_t) {}

int QxlDevice::flushResources(QXLInstance*) {
    // Releases are delivered one by one through release_resource; nothing is batched.
    return 0;
}

void QxlDevice::asyncComplete(QXLInstance*, uint64_t cookie) {
    if (cookie != kMonitorsConfigCookie)
        printLine("WARNING unexpected async_complete cookie=" + std::to_string(cookie));
}

void QxlDevice::setHeads(const std::vector<Rect>& heads) {
    std::vector<uint8_t> config(sizeof(QXLMonitorsConfig) + heads.size() * sizeof(QXLHead));
    auto* c = reinterpret_cast<QXLMonitorsConfig*>(config.data());
    c->count = static_cast<uint16_t>(heads.size());
    // red-worker.cpp ignores a config whose count exceeds max_allowed.
    c->max_allowed = static_cast<uint16_t>(heads.size());
    for (size_t i = 0; i < heads.size(); ++i) {
        QXLHead h{};
        h.id = static_cast<uint32_t>(i);
        h.surface_id = 0;
        h.width = static_cast<uint32_t>(heads[i].width());
        h.height = static_cast<uint32_t>(heads[i].height());
        h.x = static_cast<uint32_t>(heads[i].left);
        h.y = static_cast<uint32_t>(heads[i].top);
        h.flags = 0;
        std::memcpy(config.data() + sizeof(QXLMonitorsConfig) + i * sizeof(QXLHead), &h, sizeof h);
    }
    previousHeads_ = std::move(heads_);
    heads_ = std::move(config);
    spice_qxl_monitors_config_async(&instance_.qxl, physical(heads_.data()), kMemSlotGroup,
                                    kMonitorsConfigCookie);
}

void QxlDevice::updateAreaComplete(QXLInstance*, uint32_t, QXLRect*, uint32_t) {}

void QxlDevice::setClientCapabilities(QXLInstance*, uint8_t present, uint8_t*) {
    printLine(present ? "DISPLAY client-connected" : "DISPLAY client-disconnected");
}

} // namespace saffron::testserver
