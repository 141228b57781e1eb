#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <spice.h>
#include <vector>

namespace saffron::testserver {

// The main-thread event loop libspice-server runs on: a poll()-based implementation of
// SpiceCoreInterface (spice-core.h: one-shot timers re-armed with timer_start, fd watches
// with READ/WRITE masks, channel events). spice-server 0.15 calls the core interface from
// its main thread only (the QXL worker thread has its own GLib loop and events are
// forwarded through the main dispatcher), but the loop locks its tables and can be woken
// from any thread anyway, because nothing in the public header promises that.
class EventLoop {
public:
    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // The interface to hand to spice_server_init. Only one EventLoop may exist at a time:
    // SpiceCoreInterface callbacks carry no context pointer of their own.
    SpiceCoreInterface* core() { return &core_; }

    // Runs until quit(); returns the exit code given to quit().
    int run();
    // Thread-safe and async-signal-safe (only writes to an eventfd).
    void quit(int code = 0);

    // Our own users (stdin, the workload pacing) use the same primitives as spice-server.
    SpiceTimer* addTimer(std::function<void()> callback);
    void startTimer(SpiceTimer* timer, uint32_t ms);
    void cancelTimer(SpiceTimer* timer);
    void removeTimer(SpiceTimer* timer);
    SpiceWatch* addWatch(int fd, int eventMask, std::function<void(int fd, int event)> callback);
    void removeWatch(SpiceWatch* watch);
    // Runs `task` on the loop thread at the next iteration (never re-entrantly).
    void post(std::function<void()> task);

    // Called for SPICE_CHANNEL_EVENT_*; may be empty.
    std::function<void(int event, const SpiceChannelEventInfo& info)> onChannelEvent;

private:
    using Clock = std::chrono::steady_clock;
    struct Timer {
        uint64_t id = 0;
        std::function<void()> callback;
        std::optional<Clock::time_point> due;
    };
    struct Watch {
        uint64_t id = 0;
        int fd = -1;
        int mask = 0;
        std::function<void(int, int)> callback;
    };

    static EventLoop* instance_;
    static SpiceTimer* coreTimerAdd(SpiceTimerFunc func, void* opaque);
    static void coreTimerStart(SpiceTimer* timer, uint32_t ms);
    static void coreTimerCancel(SpiceTimer* timer);
    static void coreTimerRemove(SpiceTimer* timer);
    static SpiceWatch* coreWatchAdd(int fd, int mask, SpiceWatchFunc func, void* opaque);
    static void coreWatchUpdateMask(SpiceWatch* watch, int mask);
    static void coreWatchRemove(SpiceWatch* watch);
    static void coreChannelEvent(int event, SpiceChannelEventInfo* info);

    void wake();
    void runDueTimers();
    void runPosted();

    SpiceCoreInterface core_{};
    std::mutex mutex_;
    uint64_t nextId_ = 1;
    // Keyed by id; the SpiceTimer*/SpiceWatch* handed out are the Timer*/Watch* addresses.
    std::map<uint64_t, std::unique_ptr<Timer>> timers_;
    std::map<uint64_t, std::unique_ptr<Watch>> watches_;
    std::map<const void*, uint64_t> timerIds_;
    std::map<const void*, uint64_t> watchIds_;
    std::vector<std::function<void()>> posted_;
    int wakeFd_ = -1;
    // Atomics rather than the mutex: quit() runs in signal handlers.
    std::atomic<bool> quitting_{false};
    std::atomic<int> exitCode_{0};
};

} // namespace saffron::testserver
