#include "PipeWireHandles.h"

#include <cerrno>
#include <cstring>
#include <mutex>

namespace saffron {

void endStream(PwStreamPtr& stream, spa_hook& listener) {
    if (!stream)
        return;
    pw_stream_disconnect(stream.get());
    spa_hook_remove(&listener);
    stream.reset();
}

void ensurePipeWireInitialized() {
    static std::once_flag once;
    std::call_once(once, [] { pw_init(nullptr, nullptr); });
}

std::unique_ptr<PipeWireConnection> PipeWireConnection::open(const std::string& threadName,
                                                             const std::string& remote, std::string& error) {
    ensurePipeWireInitialized();
    std::unique_ptr<PipeWireConnection> connection(new PipeWireConnection);
    connection->m_loop.reset(pw_thread_loop_new(threadName.c_str(), nullptr));
    if (!connection->m_loop) {
        error = std::string("cannot create a PipeWire thread loop: ") + std::strerror(errno);
        return nullptr;
    }
    connection->m_context.reset(
        pw_context_new(pw_thread_loop_get_loop(connection->m_loop.get()), nullptr, 0));
    if (!connection->m_context) {
        error = std::string("cannot create a PipeWire context: ") + std::strerror(errno);
        return nullptr;
    }
    pw_properties* props = nullptr;
    if (!remote.empty()) {
        props = pw_properties_new(PW_KEY_REMOTE_NAME, remote.c_str(), nullptr);
    }
    // pw_context_connect takes ownership of props. Connecting before the loop runs is allowed:
    // nothing else can touch the context yet.
    connection->m_core.reset(pw_context_connect(connection->m_context.get(), props, 0));
    if (!connection->m_core) {
        const int err = errno;
        const char* runtime = std::getenv("PIPEWIRE_RUNTIME_DIR");
        if (!runtime) {
            runtime = std::getenv("XDG_RUNTIME_DIR");
        }
        error = "cannot connect to the PipeWire daemon (" +
                (remote.empty() ? std::string("default") : remote) + " socket in " +
                (runtime ? runtime : "<no runtime dir>") + "): " + std::strerror(err);
        return nullptr;
    }
    connection->m_coreEvents.version = PW_VERSION_CORE_EVENTS;
    connection->m_coreEvents.error = &PipeWireConnection::onCoreError;
    pw_core_add_listener(connection->m_core.get(), &connection->m_coreListener, &connection->m_coreEvents,
                         connection.get());
    if (pw_thread_loop_start(connection->m_loop.get()) < 0) {
        error = std::string("cannot start the PipeWire thread: ") + std::strerror(errno);
        return nullptr;
    }
    return connection;
}

PipeWireConnection::~PipeWireConnection() {
    if (m_loop) {
        pw_thread_loop_stop(m_loop.get());
    }
    if (m_core) {
        spa_hook_remove(&m_coreListener);
    }
    m_core.reset();
    m_context.reset();
    m_loop.reset();
}

std::string PipeWireConnection::brokenReason() const {
    ThreadLoopLock lock(m_loop.get());
    return m_brokenReason;
}

std::string PipeWireConnection::streamError(const std::string& streamError) const {
    ThreadLoopLock lock(m_loop.get());
    if (!streamError.empty())
        return streamError;
    return m_broken ? m_brokenReason : std::string();
}

void PipeWireConnection::onCoreError(void* data, uint32_t id, int /*seq*/, int res, const char* message) {
    auto* self = static_cast<PipeWireConnection*>(data);
    // Errors on other objects (a stream's node) reach the stream's own state callback; only an
    // error on the core itself means the daemon connection is gone (EPIPE when it exits).
    if (id == PW_ID_CORE) {
        self->m_broken = true;
        self->m_brokenReason = std::string("PipeWire connection lost: ") + (message ? message : "") + " (" +
                               std::strerror(-res) + ")";
    }
}

} // namespace saffron
