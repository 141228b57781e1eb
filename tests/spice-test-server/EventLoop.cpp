#include "EventLoop.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace saffron::testserver {

EventLoop* EventLoop::instance_ = nullptr;

EventLoop::EventLoop() {
    if (instance_) {
        std::fprintf(stderr, "only one EventLoop may exist\n");
        std::abort();
    }
    instance_ = this;
    wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeFd_ < 0) {
        std::perror("eventfd");
        std::abort();
    }
    core_.base.type = SPICE_INTERFACE_CORE;
    core_.base.description = "saffron test server poll loop";
    core_.base.major_version = SPICE_INTERFACE_CORE_MAJOR;
    core_.base.minor_version = SPICE_INTERFACE_CORE_MINOR;
    core_.timer_add = &EventLoop::coreTimerAdd;
    core_.timer_start = &EventLoop::coreTimerStart;
    core_.timer_cancel = &EventLoop::coreTimerCancel;
    core_.timer_remove = &EventLoop::coreTimerRemove;
    core_.watch_add = &EventLoop::coreWatchAdd;
    core_.watch_update_mask = &EventLoop::coreWatchUpdateMask;
    core_.watch_remove = &EventLoop::coreWatchRemove;
    core_.channel_event = &EventLoop::coreChannelEvent;
}

EventLoop::~EventLoop() {
    close(wakeFd_);
    instance_ = nullptr;
}

// --- public API -----------------------------------------------------------------------

SpiceTimer* EventLoop::addTimer(std::function<void()> callback) {
    std::lock_guard lock(mutex_);
    auto timer = std::make_unique<Timer>();
    timer->id = nextId_++;
    timer->callback = std::move(callback);
    auto* handle = reinterpret_cast<SpiceTimer*>(timer.get());
    timerIds_[handle] = timer->id;
    timers_[timer->id] = std::move(timer);
    return handle;
}

void EventLoop::startTimer(SpiceTimer* timer, uint32_t ms) {
    {
        std::lock_guard lock(mutex_);
        auto it = timerIds_.find(timer);
        if (it == timerIds_.end())
            return;
        timers_[it->second]->due = Clock::now() + std::chrono::milliseconds(ms);
    }
    wake();
}

void EventLoop::cancelTimer(SpiceTimer* timer) {
    std::lock_guard lock(mutex_);
    auto it = timerIds_.find(timer);
    if (it != timerIds_.end())
        timers_[it->second]->due.reset();
}

void EventLoop::removeTimer(SpiceTimer* timer) {
    std::lock_guard lock(mutex_);
    auto it = timerIds_.find(timer);
    if (it == timerIds_.end())
        return;
    timers_.erase(it->second);
    timerIds_.erase(it);
}

SpiceWatch* EventLoop::addWatch(int fd, int eventMask, std::function<void(int, int)> callback) {
    SpiceWatch* handle = nullptr;
    {
        std::lock_guard lock(mutex_);
        auto watch = std::make_unique<Watch>();
        watch->id = nextId_++;
        watch->fd = fd;
        watch->mask = eventMask;
        watch->callback = std::move(callback);
        handle = reinterpret_cast<SpiceWatch*>(watch.get());
        watchIds_[handle] = watch->id;
        watches_[watch->id] = std::move(watch);
    }
    wake();
    return handle;
}

void EventLoop::removeWatch(SpiceWatch* watch) {
    std::lock_guard lock(mutex_);
    auto it = watchIds_.find(watch);
    if (it == watchIds_.end())
        return;
    watches_.erase(it->second);
    watchIds_.erase(it);
}

void EventLoop::post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        posted_.push_back(std::move(task));
    }
    wake();
}

void EventLoop::quit(int code) {
    exitCode_ = code;
    quitting_ = true;
    wake();
}

void EventLoop::wake() {
    const uint64_t one = 1;
    // A full counter (EAGAIN) still wakes poll(); nothing else can fail here.
    [[maybe_unused]] auto n = write(wakeFd_, &one, sizeof one);
}

// --- loop -----------------------------------------------------------------------------

void EventLoop::runPosted() {
    std::vector<std::function<void()>> tasks;
    {
        std::lock_guard lock(mutex_);
        tasks.swap(posted_);
    }
    for (auto& task : tasks)
        task();
}

void EventLoop::runDueTimers() {
    const auto now = Clock::now();
    std::vector<uint64_t> due;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, timer] : timers_)
            if (timer->due && *timer->due <= now)
                due.push_back(id);
    }
    for (uint64_t id : due) {
        std::function<void()> callback;
        {
            std::lock_guard lock(mutex_);
            auto it = timers_.find(id);
            // An earlier callback may have removed, cancelled or re-armed this timer.
            if (it == timers_.end() || !it->second->due || *it->second->due > now)
                continue;
            it->second->due.reset();
            callback = it->second->callback;
        }
        callback();
    }
}

int EventLoop::run() {
    while (!quitting_) {
        runPosted();
        runDueTimers();
        if (quitting_)
            break;

        std::vector<pollfd> fds;
        std::vector<uint64_t> ids;
        int timeoutMs = -1;
        {
            std::lock_guard lock(mutex_);
            fds.push_back({wakeFd_, POLLIN, 0});
            ids.push_back(0);
            for (const auto& [id, watch] : watches_) {
                if (watch->mask == 0)
                    continue; // poll would still report HUP/ERR for an fd nobody wants now
                short events = 0;
                if (watch->mask & SPICE_WATCH_EVENT_READ)
                    events |= POLLIN;
                if (watch->mask & SPICE_WATCH_EVENT_WRITE)
                    events |= POLLOUT;
                fds.push_back({watch->fd, events, 0});
                ids.push_back(id);
            }
            const auto now = Clock::now();
            for (const auto& [id, timer] : timers_) {
                if (!timer->due)
                    continue;
                const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*timer->due - now).count();
                const int clamped = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(ms, 60000)));
                timeoutMs = timeoutMs < 0 ? clamped : std::min(timeoutMs, clamped);
            }
            if (!posted_.empty())
                timeoutMs = 0;
        }

        const int ready = poll(fds.data(), fds.size(), timeoutMs);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            std::perror("poll");
            return 1;
        }
        if (fds[0].revents & POLLIN) {
            uint64_t counter = 0;
            [[maybe_unused]] auto n = read(wakeFd_, &counter, sizeof counter);
        }
        for (size_t i = 1; i < fds.size(); ++i) {
            const short revents = fds[i].revents;
            if (!revents)
                continue;
            std::function<void(int, int)> callback;
            int event = 0;
            {
                std::lock_guard lock(mutex_);
                auto it = watches_.find(ids[i]);
                if (it == watches_.end())
                    continue; // removed by an earlier callback in this round
                const int mask = it->second->mask;
                // Errors and hang-ups are delivered as readiness: the reader then sees EOF
                // or the error from recv(), as with GLib's loop that QEMU uses.
                if (revents & (POLLIN | POLLHUP | POLLERR))
                    event |= mask & SPICE_WATCH_EVENT_READ;
                if (revents & (POLLOUT | POLLHUP | POLLERR))
                    event |= mask & SPICE_WATCH_EVENT_WRITE;
                callback = it->second->callback;
            }
            if (event)
                callback(fds[i].fd, event);
        }
    }
    return exitCode_;
}

// --- SpiceCoreInterface trampolines -----------------------------------------------------

SpiceTimer* EventLoop::coreTimerAdd(SpiceTimerFunc func, void* opaque) {
    return instance_->addTimer([func, opaque] { func(opaque); });
}

void EventLoop::coreTimerStart(SpiceTimer* timer, uint32_t ms) {
    instance_->startTimer(timer, ms);
}

void EventLoop::coreTimerCancel(SpiceTimer* timer) {
    instance_->cancelTimer(timer);
}

void EventLoop::coreTimerRemove(SpiceTimer* timer) {
    instance_->removeTimer(timer);
}

SpiceWatch* EventLoop::coreWatchAdd(int fd, int mask, SpiceWatchFunc func, void* opaque) {
    return instance_->addWatch(fd, mask, [func, opaque](int f, int event) { func(f, event, opaque); });
}

void EventLoop::coreWatchUpdateMask(SpiceWatch* watch, int mask) {
    {
        std::lock_guard lock(instance_->mutex_);
        auto it = instance_->watchIds_.find(watch);
        if (it == instance_->watchIds_.end())
            return;
        instance_->watches_[it->second]->mask = mask;
    }
    instance_->wake();
}

void EventLoop::coreWatchRemove(SpiceWatch* watch) {
    instance_->removeWatch(watch);
}

void EventLoop::coreChannelEvent(int event, SpiceChannelEventInfo* info) {
    if (instance_->onChannelEvent && info)
        instance_->onChannelEvent(event, *info);
}

} // namespace saffron::testserver
