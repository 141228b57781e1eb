#pragma once

#include "Options.h"
#include "QxlDevice.h"
#include "VdAgent.h"
#include "Workload.h"

#include <memory>
#include <spice.h>
#include <string>
#include <string_view>

namespace saffron::testserver {

class EventLoop;

// Wires libspice-server to our devices: configures and starts the server, paces the
// workload's frames into the QXL device, and executes the stdin control commands.
class TestServer {
public:
    TestServer(Options options, EventLoop& loop);
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    // Listens, attaches the devices, starts the VM and submits frame 1, then prints
    // "READY port=N[ tls-port=M]". False (with a message on stderr) on failure.
    bool start();

private:
    struct ServerDeleter {
        void operator()(SpiceServer* s) const { spice_server_destroy(s); }
    };

    bool listen();
    void configure(SpiceServer* server, int port, int tlsPort) const;
    void step();
    void restart(int width, int height);
    void readStdin(int fd);
    void command(std::string_view line);

    Options options_;
    EventLoop& loop_;
    std::unique_ptr<Workload> workload_;
    // Declared before server_ so that they are destroyed after it: the server keeps
    // pointers to their instances until spice_server_destroy returns.
    std::unique_ptr<QxlDevice> qxl_;
    std::unique_ptr<VdAgent> agent_;
    std::unique_ptr<SpiceServer, ServerDeleter> server_;
    int port_ = -1;
    int tlsPort_ = -1;

    SpiceTimer* frameTimer_ = nullptr;
    SpiceWatch* stdinWatch_ = nullptr;
    int frame_ = 0; // frames submitted on the current primary surface
    std::string stdinBuffer_;
};

} // namespace saffron::testserver
