#pragma once

#include "AudioOptions.h"
#include "Workload.h"

#include <optional>
#include <string>
#include <vector>

namespace saffron::testserver {

// Command line of saffron-test-server (see usageText()).
struct Options {
    std::optional<int> port;    // 0: pick a free port
    std::optional<int> tlsPort; // 0: pick a free port
    std::string x509Dir;
    std::string password; // empty: ticketing disabled (spice_server_set_noauth)
    int width = 1024;
    int height = 768;
    // QXL devices, each its own display channel (id 0..displays-1), as QEMU gives a guest with
    // several qxl devices (Windows guests, Proxmox "qxl2".."qxl4"). Display 0 plays the
    // workload; the others show a still picture that names them (displayPicture()).
    int displays = 1;
    // Heads on display 0's one QXL device, side by side on its primary surface, as a Linux
    // guest drives several outputs of one qxl device (Proxmox "qxl2" on a Linux guest). Each
    // monitor of a monitors config becomes a head of the size asked for.
    int heads = 1;
    std::string workload = "static";
    std::string imageCompression = "auto_glz";
    std::string streamingVideo = "off";
    std::string jpeg = "never";
    std::string zlibGlz = "never";
    std::string videoCodecs;  // empty: the server's default list
    VideoArea videoArea;      // where the video workloads play
    int fps = kDefaultFps;    // rate of animated workloads
    int frames = 0;           // stop after this many frames; 0: run for ever
    std::string dumpExpected; // write the expected surface and exit
    bool bottomUp = false;    // display 0's bitmaps stored bottom-up (QxlDevice::setBottomUpBitmaps)
    bool readStdin = true;
    AudioOptions audio;
};

// Parses argv; on error returns nullopt and sets `error`.
std::optional<Options> parseOptions(const std::vector<std::string>& args, std::string& error);

inline constexpr int kMaxDisplays = 4;

const char* usageText();

} // namespace saffron::testserver
