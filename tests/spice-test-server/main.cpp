// saffron-test-server: a SPICE server for Saffron's integration tests, built on the real
// libspice-server with a minimal QXL device and an emulated vdagent of our own.
// See README.md next to this file for the command line and the stdout/stdin protocol.

#include "EventLoop.h"
#include "Options.h"
#include "Ppm.h"
#include "TestServer.h"
#include "Workload.h"

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

namespace {

saffron::testserver::EventLoop* signalLoop = nullptr;

void onSignal(int) {
    if (signalLoop)
        signalLoop->quit(0);
}

} // namespace

int main(int argc, char** argv) {
    using namespace saffron::testserver;

    std::string error;
    const auto options = parseOptions(std::vector<std::string>(argv + 1, argv + argc), error);
    if (!options) {
        if (error == "help") {
            std::fputs(usageText(), stdout);
            return 0;
        }
        std::fprintf(stderr, "saffron-test-server: %s\n%s", error.c_str(), usageText());
        return 2;
    }

    if (!options->dumpExpected.empty()) {
        const auto workload = makeWorkload(options->workload, options->videoArea);
        const int frames = options->frames > 0 ? options->frames : 1;
        if (!writePpm(options->dumpExpected,
                      expectedSurface(*workload, options->width, options->height, frames))) {
            std::fprintf(stderr, "saffron-test-server: cannot write %s\n", options->dumpExpected.c_str());
            return 1;
        }
        return 0;
    }

    // A client vanishing mid-write must not kill us; spice-server handles EPIPE itself.
    std::signal(SIGPIPE, SIG_IGN);

    EventLoop loop;
    signalLoop = &loop;
    struct sigaction action {};
    action.sa_handler = &onSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);

    int rc = 1;
    {
        TestServer server(*options, loop);
        if (server.start())
            rc = loop.run();
    }
    signalLoop = nullptr;
    return rc;
}
