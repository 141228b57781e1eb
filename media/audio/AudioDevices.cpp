#include "AudioDevices.h"

#include "PipeWireHandles.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

namespace saffron {

namespace {
struct ProxyDestroy {
    void operator()(pw_registry* r) const { pw_proxy_destroy(reinterpret_cast<pw_proxy*>(r)); }
};
using PwRegistryPtr = std::unique_ptr<pw_registry, ProxyDestroy>;

// How long open() waits for the daemon's answer to its sync (the node list comes before it).
constexpr int kListTimeoutSeconds = 1;
} // namespace

struct AudioDeviceList::Impl {
    struct Node {
        bool output = false;
        AudioDevice device;
    };

    std::unique_ptr<PipeWireConnection> connection;
    PwRegistryPtr registry;
    spa_hook registryListener{};
    pw_registry_events registryEvents{};
    spa_hook coreListener{};
    pw_core_events coreEvents{};
    int syncSeq = -1;
    bool synced = false; // under the loop lock
    std::function<void()> changed;

    mutable std::mutex mutex; // nodes are written on PipeWire's thread, read on any
    std::map<uint32_t, Node> nodes;

    // Registry events run on the loop thread.
    static void onGlobal(void* data, uint32_t id, uint32_t, const char* type, uint32_t,
                         const spa_dict* props) {
        auto* self = static_cast<Impl*>(data);
        if (!props || std::strcmp(type, PW_TYPE_INTERFACE_Node) != 0)
            return;
        const char* mediaClass = spa_dict_lookup(props, PW_KEY_MEDIA_CLASS);
        const char* name = spa_dict_lookup(props, PW_KEY_NODE_NAME);
        if (!mediaClass || !name)
            return;
        // Only devices a person would pick: Audio/Sink and Audio/Source (also "Audio/Source/Virtual"
        // for a virtual microphone), not the streams of applications (Stream/Output/Audio).
        const bool output = std::strcmp(mediaClass, "Audio/Sink") == 0;
        const bool input = std::strncmp(mediaClass, "Audio/Source", 12) == 0;
        if (!output && !input)
            return;
        const char* description = spa_dict_lookup(props, PW_KEY_NODE_DESCRIPTION);
        {
            std::lock_guard lock(self->mutex);
            self->nodes[id] =
                Node{output, AudioDevice{name, description && *description ? description : name}};
        }
        self->notify();
    }
    static void onGlobalRemove(void* data, uint32_t id) {
        auto* self = static_cast<Impl*>(data);
        bool removed = false;
        {
            std::lock_guard lock(self->mutex);
            removed = self->nodes.erase(id) > 0;
        }
        if (removed)
            self->notify();
    }
    static void onCoreDone(void* data, uint32_t id, int seq) {
        auto* self = static_cast<Impl*>(data);
        if (id == PW_ID_CORE && seq == self->syncSeq) {
            self->synced = true;
            pw_thread_loop_signal(self->connection->loop(), false);
        }
    }
    void notify() {
        if (synced && changed) // the initial listing is reported by open() returning
            changed();
    }

    std::vector<AudioDevice> list(bool output) const {
        std::vector<AudioDevice> out;
        {
            std::lock_guard lock(mutex);
            for (const auto& [id, node] : nodes)
                if (node.output == output)
                    out.push_back(node.device);
        }
        std::sort(out.begin(), out.end(), [](const AudioDevice& a, const AudioDevice& b) {
            return a.description != b.description ? a.description < b.description : a.name < b.name;
        });
        return out;
    }
};

std::unique_ptr<AudioDeviceList> AudioDeviceList::open(Options options, std::string& error) {
    auto impl = std::make_unique<Impl>();
    impl->changed = std::move(options.changed);
    impl->connection = PipeWireConnection::open("saffron-audio-devices", options.remote, error);
    if (!impl->connection)
        return nullptr;
    pw_thread_loop* loop = impl->connection->loop();
    {
        ThreadLoopLock lock(loop);
        impl->registry.reset(pw_core_get_registry(impl->connection->core(), PW_VERSION_REGISTRY, 0));
    }
    if (!impl->registry) { // outside the lock: the connection stops its thread as it goes
        error = "cannot list PipeWire's devices: no registry";
        return nullptr;
    }
    {
        ThreadLoopLock lock(loop);
        impl->registryEvents.version = PW_VERSION_REGISTRY_EVENTS;
        impl->registryEvents.global = &Impl::onGlobal;
        impl->registryEvents.global_remove = &Impl::onGlobalRemove;
        pw_registry_add_listener(impl->registry.get(), &impl->registryListener, &impl->registryEvents,
                                 impl.get());
        impl->coreEvents.version = PW_VERSION_CORE_EVENTS;
        impl->coreEvents.done = &Impl::onCoreDone;
        pw_core_add_listener(impl->connection->core(), &impl->coreListener, &impl->coreEvents, impl.get());
        // The daemon answers a sync after everything it sent before it: the registry's globals.
        impl->syncSeq = pw_core_sync(impl->connection->core(), PW_ID_CORE, 0);
        while (!impl->synced)
            if (pw_thread_loop_timed_wait(loop, kListTimeoutSeconds) != 0)
                break; // a slow daemon: the lists fill in later and `changed` says so
        impl->synced = true;
    }
    return std::unique_ptr<AudioDeviceList>(new AudioDeviceList(std::move(impl)));
}

AudioDeviceList::AudioDeviceList(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

AudioDeviceList::~AudioDeviceList() {
    {
        // No callback may run into the listeners while they go.
        ThreadLoopLock lock(m_impl->connection->loop());
        spa_hook_remove(&m_impl->coreListener);
        spa_hook_remove(&m_impl->registryListener);
        m_impl->registry.reset();
    }
    m_impl->connection.reset();
}

std::vector<AudioDevice> AudioDeviceList::outputs() const {
    return m_impl->list(true);
}

std::vector<AudioDevice> AudioDeviceList::inputs() const {
    return m_impl->list(false);
}

} // namespace saffron
