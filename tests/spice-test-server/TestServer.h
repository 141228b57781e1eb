#pragma once

#include "AudioDevices.h"
#include "Options.h"
#include "QxlDevice.h"
#include "VdAgent.h"
#include "Workload.h"

#include <chrono>
#include <memory>
#include <spice.h>
#include <string>
#include <string_view>
#include <vector>

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
    // Starts the frame timer for the next frame, due one period after the last one.
    void armFrameTimer();
    // "VIDEO rect=..." for the video workloads, after READY and after each RESIZED.
    void announceVideo();
    void restart(int width, int height);
    // The agent's monitors config: monitor i is display i (with one display, the first
    // enabled monitor is display 0, as a single-head guest shows it).
    bool applyMonitors(const std::vector<VdAgent::MonitorSize>& monitors);
    // Creates (or re-creates at a new size) an extra display's primary and paints its picture.
    void showExtraDisplay(QxlDevice& display, int width, int height);
    QxlDevice* display(int id) const;
    // Display 0 with these heads side by side (--heads): the primary re-created to hold them,
    // then the QXL monitors config.
    void showHeads(const std::vector<VdAgent::MonitorSize>& heads);
    void readStdin(int fd);
    void command(std::string_view line);

    Options options_;
    EventLoop& loop_;
    std::unique_ptr<Workload> workload_;
    // Declared before server_ so that they are destroyed after it: the server keeps
    // pointers to their instances until spice_server_destroy returns.
    std::unique_ptr<QxlDevice> qxl_;                        // display 0, which plays the workload
    std::vector<std::unique_ptr<QxlDevice>> extraDisplays_; // displays 1..
    std::unique_ptr<VdAgent> agent_;
    std::unique_ptr<AudioDevices> audio_;
    std::unique_ptr<SpiceServer, ServerDeleter> server_;
    int port_ = -1;
    int tlsPort_ = -1;

    SpiceTimer* frameTimer_ = nullptr;
    SpiceWatch* stdinWatch_ = nullptr;
    int frame_ = 0; // frames submitted on the current primary surface
    // When the last frame was due: frames are paced against this, not against the moment
    // the previous one was submitted, so generating a large picture does not lower the rate.
    std::chrono::steady_clock::time_point due_;
    std::string stdinBuffer_;
};

} // namespace saffron::testserver
