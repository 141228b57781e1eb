#pragma once

// Owning handles for the PipeWire objects saffron_media uses, and the connection (thread loop +
// context + core) every audio stream runs on. Internal to media/audio: public headers keep
// PipeWire out so the session does not need its include paths.

#include <atomic>
#include <memory>
#include <pipewire/pipewire.h>
#include <string>

namespace saffron {

namespace pwdetail {
struct ThreadLoopDestroy {
    void operator()(pw_thread_loop* p) const { pw_thread_loop_destroy(p); }
};
struct ContextDestroy {
    void operator()(pw_context* p) const { pw_context_destroy(p); }
};
struct CoreDisconnect {
    void operator()(pw_core* p) const { pw_core_disconnect(p); }
};
struct StreamDestroy {
    void operator()(pw_stream* p) const { pw_stream_destroy(p); }
};
struct PropertiesFree {
    void operator()(pw_properties* p) const { pw_properties_free(p); }
};
} // namespace pwdetail

using PwThreadLoopPtr = std::unique_ptr<pw_thread_loop, pwdetail::ThreadLoopDestroy>;
using PwContextPtr = std::unique_ptr<pw_context, pwdetail::ContextDestroy>;
using PwCorePtr = std::unique_ptr<pw_core, pwdetail::CoreDisconnect>;
using PwStreamPtr = std::unique_ptr<pw_stream, pwdetail::StreamDestroy>;
using PwPropertiesPtr = std::unique_ptr<pw_properties, pwdetail::PropertiesFree>;

// Ends a stream whose process callback runs on PipeWire's data thread (PW_STREAM_FLAG_RT_PROCESS)
// and reads the stream through `stream`. Call with the thread loop locked. pw_stream_destroy would
// disconnect too, but unique_ptr::reset() nulls the pointer before it calls the deleter, and a
// process callback still running meanwhile then handed NULL to pw_stream_queue_buffer (a crash
// seen in CI). So: disconnect first (it waits for the data thread to let go), then drop the
// listener and free the stream.
void endStream(PwStreamPtr& stream, spa_hook& listener);

// pw_init exactly once per process (std::call_once); never pw_deinit, other code may use it.
void ensurePipeWireInitialized();

// Holds a pw_thread_loop's lock for one scope. Every call into a stream or the core from outside
// the loop's own thread must hold it (PipeWire's threading rule for pw_thread_loop).
class ThreadLoopLock {
public:
    explicit ThreadLoopLock(pw_thread_loop* loop) : m_loop(loop) { pw_thread_loop_lock(m_loop); }
    ~ThreadLoopLock() { pw_thread_loop_unlock(m_loop); }
    ThreadLoopLock(const ThreadLoopLock&) = delete;
    ThreadLoopLock& operator=(const ThreadLoopLock&) = delete;

private:
    pw_thread_loop* m_loop;
};

// A running pw_thread_loop with a context connected to the PipeWire daemon. One per stream: the
// streams then never share a lock, and each can fail or go away on its own.
class PipeWireConnection {
public:
    // Connects to `remote` (a socket name such as "pipewire-0"; empty = PipeWire's default,
    // which honours $PIPEWIRE_REMOTE and $PIPEWIRE_RUNTIME_DIR / $XDG_RUNTIME_DIR). On failure
    // returns null and says why in `error`, e.g. "cannot connect to the PipeWire daemon
    // (pipewire-0): No such file or directory".
    static std::unique_ptr<PipeWireConnection> open(const std::string& threadName, const std::string& remote,
                                                    std::string& error);
    // Stops the loop thread first, so no callback runs while the objects are destroyed.
    ~PipeWireConnection();
    PipeWireConnection(const PipeWireConnection&) = delete;
    PipeWireConnection& operator=(const PipeWireConnection&) = delete;

    pw_thread_loop* loop() const { return m_loop.get(); }
    pw_core* core() const { return m_core.get(); }

    // Set (from the loop thread) when the daemon connection breaks: the core reports an error on
    // itself, e.g. the daemon exited.
    bool broken() const { return m_broken; }
    std::string brokenReason() const;
    // What went wrong for a stream on this connection: the stream's own error (`streamError`,
    // written under the loop lock), else the connection's, else nothing. Takes the loop lock.
    std::string streamError(const std::string& streamError) const;

private:
    PipeWireConnection() = default;
    static void onCoreError(void* data, uint32_t id, int seq, int res, const char* message);

    PwThreadLoopPtr m_loop;
    PwContextPtr m_context;
    PwCorePtr m_core;
    spa_hook m_coreListener{};
    pw_core_events m_coreEvents{};
    std::atomic<bool> m_broken{false};
    std::string m_brokenReason; // under the loop lock
};

} // namespace saffron
