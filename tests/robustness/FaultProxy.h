#pragma once

#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QThread>
#include <atomic>
#include <memory>

namespace saffron::test {

class FaultProxyWorker;

// A TCP relay on 127.0.0.1 that degrades the connection between a client and one upstream
// server, for network-fault tests: added one-way latency, a bandwidth cap, a stall (nothing is
// relayed, bytes queue up), a half-close (the client reads EOF while its own writes still reach
// the server) and a reset (RST to the client, SO_LINGER 0).
//
// The relay runs on a thread of its own so that the thread under test (a GUI thread measuring
// its own responsiveness) only runs client code. Every setter is thread-safe and applies to the
// connections already open as well as to new ones.
class FaultProxy {
public:
    FaultProxy(QString upstreamHost, quint16 upstreamPort);
    ~FaultProxy();
    FaultProxy(const FaultProxy&) = delete;
    FaultProxy& operator=(const FaultProxy&) = delete;

    // Listens on a free port of 127.0.0.1; false if it could not.
    bool start();
    quint16 port() const { return port_; }

    // Delay added to every byte in each direction (the round trip gains twice this).
    void setOneWayLatencyMs(int ms);
    // Bytes per second relayed in each direction; 0 = unlimited.
    void setBandwidth(qint64 bytesPerSecond);
    // While stalled nothing is relayed in either direction and nothing is closed: the client
    // sees a server that stopped answering (TCP keeps the connection up).
    void setStalled(bool stalled);
    // New connections are reset at once (a server that is down), until switched off.
    void setRefuseNew(bool refuse);
    // shutdown(SHUT_WR) towards every client: they read EOF; what they send still goes up.
    void halfCloseClients();
    // Aborts every relayed connection with a TCP RST to the client and closes the upstream side.
    void resetAll();

    int accepted() const { return accepted_.load(); }
    int open() const { return open_.load(); }
    qint64 bytesToClient() const { return bytesDown_.load(); }
    qint64 bytesToServer() const { return bytesUp_.load(); }

private:
    friend class FaultProxyWorker;

    QString upstreamHost_;
    quint16 upstreamPort_;
    quint16 port_ = 0;
    QThread thread_;
    FaultProxyWorker* worker_ = nullptr; // lives on thread_, deleted there

    std::atomic<int> latencyMs_{0};
    std::atomic<qint64> bandwidth_{0};
    std::atomic<bool> stalled_{false};
    std::atomic<bool> refuseNew_{false};
    std::atomic<int> accepted_{0};
    std::atomic<int> open_{0};
    std::atomic<qint64> bytesDown_{0};
    std::atomic<qint64> bytesUp_{0};
};

} // namespace saffron::test
