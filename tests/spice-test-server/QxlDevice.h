#pragma once

#include "Workload.h"
#include "display/Pixmap.h"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <spice.h>
#include <vector>

namespace saffron::testserver {

// A minimal QXL "device": what QEMU's qxl does for libspice-server, minus the guest.
//
// Commands live in ordinary heap memory. The device declares a single memory slot (group 0,
// slot 0, generation 0) spanning the whole address space with a zero delta, so a
// QXLPHYSICAL is simply the host virtual address (spice-server memslot.c: the top
// memslot_id_bits + memslot_gen_bits bits of an address select slot and generation; with
// one bit each both are zero for any user-space pointer).
//
// Threading (spice-qxl.h, red-qxl.cpp): get_command, req_cmd_notification,
// release_resource, get_cursor_command, req_cursor_notification, notify_update,
// flush_resources and set_client_capabilities run on spice-server's worker thread; the
// spice_qxl_* calls below are made from the main thread and block until the worker has
// handled them. Queues and the table of live resources are therefore guarded by a mutex,
// which is never held across a spice_qxl_* call (the worker may need it to finish).
class QxlDevice {
public:
    // `id` is the QXL instance id, which spice-server makes the id of its display and cursor
    // channels (red-qxl.cpp); each device is a separate display, as a qxl PCI device is in QEMU.
    QxlDevice(SpiceServer* server, int id);
    // Frees whatever the server still holds; call after spice_server_destroy().
    ~QxlDevice();
    QxlDevice(const QxlDevice&) = delete;
    QxlDevice& operator=(const QxlDevice&) = delete;

    // spice_server_add_interface plus the memory slot. False if the server refused it.
    bool attach();

    void createPrimary(int width, int height);
    // Drops queued draws the worker has not fetched yet, then destroys the primary surface
    // (the worker flushes and releases everything it had fetched before returning).
    void destroyPrimary();
    bool hasPrimary() const { return width_ > 0; }
    int width() const { return width_; }
    int height() const { return height_; }
    int id() const { return instance_.qxl.id; }

    // The guest driver's monitors config (QXLMonitorsConfig through
    // spice_qxl_monitors_config_async): how the primary surface is cut into heads, as a Linux
    // guest with several outputs on one qxl device lays them out. spice-server passes it on to
    // clients as SPICE_MSG_DISPLAY_MONITORS_CONFIG.
    void setHeads(const std::vector<Rect>& heads);

    // Bitmaps stored bottom-up (the last row first, QXL_BITMAP_TOP_DOWN clear), as guest drivers
    // may hand them over: spice-server then streams such regions bottom-up (a stream without
    // SPICE_STREAM_FLAGS_TOP_DOWN, its frames' first row the bottom one) and sends its other
    // images as bottom-up bitmaps. Takes effect for the draws submitted after it.
    void setBottomUpBitmaps(bool on) { bottomUp_ = on; }

    // Queues the frame's draws and cursor commands and wakes the worker if it asked for it.
    void submit(const Frame& frame);
    // Draw commands queued but not yet fetched by the worker (back-pressure for workloads).
    size_t pendingDraws();
    // Renders everything submitted so far (spice_qxl_update_area) and returns the surface.
    Pixmap readSurface();
    // Commands the server has fetched and not yet released, plus queued ones.
    size_t liveResources();

private:
    // Standard-layout wrapper so a QXLInstance* from a callback converts back to the device.
    struct Instance {
        QXLInstance qxl;
        QxlDevice* owner;
    };
    struct Resource {
        virtual ~Resource() = default;
    };
    struct DrawResource;
    struct CursorResource;
    struct Queued {
        QXLCommandExt ext;
        uint64_t id;
    };

    static QxlDevice& self(QXLInstance* qin);
    static void attacheWorker(QXLInstance* qin, QXLWorker* worker);
    static void setCompressionLevel(QXLInstance* qin, int level);
    static void getInitInfo(QXLInstance* qin, QXLDevInitInfo* info);
    static int getCommand(QXLInstance* qin, QXLCommandExt* cmd);
    static int reqCmdNotification(QXLInstance* qin);
    static void releaseResource(QXLInstance* qin, QXLReleaseInfoExt release);
    static int getCursorCommand(QXLInstance* qin, QXLCommandExt* cmd);
    static int reqCursorNotification(QXLInstance* qin);
    static void notifyUpdate(QXLInstance* qin, uint32_t updateId);
    static int flushResources(QXLInstance* qin);
    static void asyncComplete(QXLInstance* qin, uint64_t cookie);
    static void updateAreaComplete(QXLInstance* qin, uint32_t surfaceId, QXLRect* rects, uint32_t count);
    static void setClientCapabilities(QXLInstance* qin, uint8_t present,
                                      uint8_t caps[SPICE_CAPABILITIES_SIZE]);

    // Registers `resource` and returns the release id stored in its QXLReleaseInfo.
    uint64_t track(std::unique_ptr<Resource> resource);
    Queued makeDraw(const DrawOp& op);
    Queued makeCursor(const CursorOp& op);

    SpiceServer* server_;
    static const QXLInterface interface_;
    Instance instance_{};

    bool bottomUp_ = false;

    int width_ = 0;
    int height_ = 0;
    std::vector<uint32_t> surface_; // the primary surface memory the server renders into
    // The worker reads a monitors config after spice_qxl_monitors_config_async returns; the one
    // before stays too, in case two are in flight.
    std::vector<uint8_t> heads_;
    std::vector<uint8_t> previousHeads_;

    std::mutex mutex_;
    std::deque<Queued> drawQueue_;
    std::deque<Queued> cursorQueue_;
    bool drawNotify_ = false;
    bool cursorNotify_ = false;
    uint64_t nextId_ = 1;
    uint32_t nextImageId_ = 1;
    std::map<uint64_t, std::unique_ptr<Resource>> live_;
};

} // namespace saffron::testserver
