#include "FaultProxy.h"

#include <QElapsedTimer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <algorithm>
#include <deque>
#include <list>
#include <sys/socket.h>

namespace saffron::test {

namespace {

// Bytes read from one side, released to the other side once `due` (ms on the proxy's clock).
struct Chunk {
    qint64 due = 0;
    QByteArray data;
};

struct Direction {
    std::deque<Chunk> queue;
    double tokens = 0; // bandwidth budget in bytes (token bucket)
    bool sourceClosed = false;
};

// One relayed connection. Owns both sockets through QObject parenthood.
struct Pipe : QObject {
    QTcpSocket* client = nullptr;
    QTcpSocket* upstream = nullptr;
    Direction up;   // client -> server
    Direction down; // server -> client
    bool clientHalfClosed = false;
    bool finished = false;
};

// SO_LINGER with a zero timeout turns close(2) into an abortive close: the kernel sends RST
// instead of FIN (socket(7)), which is what a crashed middlebox or a server reboot looks like.
void resetSocket(QTcpSocket* s) {
    if (!s)
        return;
    const qintptr fd = s->socketDescriptor();
    if (fd >= 0) {
        const linger l{1, 0};
        ::setsockopt(int(fd), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    s->abort();
}

} // namespace

class FaultProxyWorker : public QObject {
public:
    // The server and the timer are children so that moveToThread() takes them along.
    explicit FaultProxyWorker(FaultProxy* owner) : owner_(owner), server_(this), pump_(this) {
        clock_.start();
        pump_.setTimerType(Qt::PreciseTimer);
        pump_.setInterval(4);
        connect(&pump_, &QTimer::timeout, this, [this] { pump(); });
        connect(&server_, &QTcpServer::newConnection, this, [this] { accept(); });
    }

    quint16 listen() {
        if (!server_.listen(QHostAddress::LocalHost, 0))
            return 0;
        pump_.start();
        return server_.serverPort();
    }

    void halfCloseClients() {
        for (Pipe* p : pipes_) {
            if (p->finished || p->clientHalfClosed)
                continue;
            p->client->flush();
            const qintptr fd = p->client->socketDescriptor();
            if (fd >= 0)
                ::shutdown(int(fd), SHUT_WR);
            p->clientHalfClosed = true;
            p->down.queue.clear();
        }
    }

    void resetAll() {
        for (Pipe* p : pipes_)
            finish(p, true);
        sweep();
    }

    void shutdown() {
        pump_.stop();
        server_.close();
        resetAll();
    }

private:
    void accept() {
        while (QTcpSocket* s = server_.nextPendingConnection()) {
            owner_->accepted_++;
            if (owner_->refuseNew_.load()) {
                resetSocket(s);
                s->deleteLater();
                continue;
            }
            auto* p = new Pipe;
            p->setParent(this);
            p->client = s;
            s->setParent(p);
            p->upstream = new QTcpSocket(p);
            p->client->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            p->upstream->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            // The pipe is the context of its own connections: while it is being destroyed (its
            // sockets are deleted as children and may still emit) nothing reaches its members.
            connect(p->client, &QTcpSocket::readyRead, p, [this, p] { take(p->client, p->up); });
            connect(p->upstream, &QTcpSocket::readyRead, p, [this, p] { take(p->upstream, p->down); });
            connect(p->client, &QTcpSocket::disconnected, p, [p] { p->up.sourceClosed = true; });
            connect(p->upstream, &QTcpSocket::disconnected, p, [p] { p->down.sourceClosed = true; });
            connect(p->upstream, &QTcpSocket::errorOccurred, p, [p](QAbstractSocket::SocketError) {
                p->down.sourceClosed = true; // refused or dropped: the client gets a FIN
            });
            p->upstream->connectToHost(owner_->upstreamHost_, owner_->upstreamPort_);
            pipes_.push_back(p);
            owner_->open_++;
        }
    }

    void take(QTcpSocket* from, Direction& d) {
        const QByteArray data = from->readAll();
        if (!data.isEmpty())
            d.queue.push_back({clock_.elapsed() + owner_->latencyMs_.load(), data});
    }

    // Moves what is due from `d` to `to`, within the bandwidth budget; returns bytes written.
    qint64 release(Direction& d, QTcpSocket* to, qint64 now, double dtMs) {
        const qint64 bw = owner_->bandwidth_.load();
        if (bw > 0) // at most 50 ms worth of burst, so a cap is a cap and not a quota
            d.tokens = std::min(d.tokens + double(bw) * dtMs / 1000.0, std::max(1.0, double(bw) / 20.0));
        qint64 written = 0;
        while (!d.queue.empty() && d.queue.front().due <= now) {
            Chunk& c = d.queue.front();
            qsizetype n = c.data.size();
            if (bw > 0)
                n = std::min<qsizetype>(n, qsizetype(d.tokens));
            if (n <= 0)
                break;
            to->write(c.data.constData(), n);
            written += n;
            if (bw > 0)
                d.tokens -= double(n);
            if (n == c.data.size())
                d.queue.pop_front();
            else
                c.data.remove(0, n);
        }
        return written;
    }

    void pump() {
        const qint64 now = clock_.elapsed();
        const double dt = double(now - lastPump_);
        lastPump_ = now;
        if (owner_->stalled_.load())
            return;
        for (Pipe* p : pipes_) {
            if (p->finished)
                continue;
            if (p->upstream->state() == QAbstractSocket::ConnectedState)
                owner_->bytesUp_ += release(p->up, p->upstream, now, dt);
            if (!p->clientHalfClosed)
                owner_->bytesDown_ += release(p->down, p->client, now, dt);
            else
                p->down.queue.clear();
            // A side that closed is passed on once what it sent before has been delivered.
            if ((p->down.sourceClosed && p->down.queue.empty()) ||
                (p->up.sourceClosed && p->up.queue.empty()))
                finish(p, false);
        }
        sweep();
    }

    void finish(Pipe* p, bool reset) {
        if (p->finished)
            return;
        p->finished = true;
        if (reset) {
            resetSocket(p->client);
            p->upstream->abort();
        } else {
            p->client->disconnectFromHost();
            p->upstream->disconnectFromHost();
        }
    }

    void sweep() {
        for (auto it = pipes_.begin(); it != pipes_.end();) {
            if ((*it)->finished) {
                (*it)->deleteLater();
                owner_->open_--;
                it = pipes_.erase(it);
            } else {
                ++it;
            }
        }
    }

    FaultProxy* owner_;
    QTcpServer server_;
    QTimer pump_;
    QElapsedTimer clock_;
    qint64 lastPump_ = 0;
    std::list<Pipe*> pipes_;
};

FaultProxy::FaultProxy(QString upstreamHost, quint16 upstreamPort)
    : upstreamHost_(std::move(upstreamHost)), upstreamPort_(upstreamPort) {
    thread_.setObjectName(QStringLiteral("fault-proxy"));
}

FaultProxy::~FaultProxy() {
    if (worker_) {
        QMetaObject::invokeMethod(
            worker_, [this] { worker_->shutdown(); }, Qt::BlockingQueuedConnection);
        // Deleted on its own thread once the loop ends (deferred deletes run as a thread finishes).
        worker_->deleteLater();
        worker_ = nullptr;
    }
    thread_.quit();
    thread_.wait();
}

bool FaultProxy::start() {
    thread_.start();
    worker_ = new FaultProxyWorker(this);
    worker_->moveToThread(&thread_);
    quint16 port = 0;
    QMetaObject::invokeMethod(
        worker_, [this, &port] { port = worker_->listen(); }, Qt::BlockingQueuedConnection);
    port_ = port;
    return port_ != 0;
}

void FaultProxy::setOneWayLatencyMs(int ms) {
    latencyMs_ = ms;
}
void FaultProxy::setBandwidth(qint64 bytesPerSecond) {
    bandwidth_ = bytesPerSecond;
}
void FaultProxy::setStalled(bool stalled) {
    stalled_ = stalled;
}
void FaultProxy::setRefuseNew(bool refuse) {
    refuseNew_ = refuse;
}

void FaultProxy::halfCloseClients() {
    if (worker_)
        QMetaObject::invokeMethod(
            worker_, [this] { worker_->halfCloseClients(); }, Qt::BlockingQueuedConnection);
}

void FaultProxy::resetAll() {
    if (worker_)
        QMetaObject::invokeMethod(
            worker_, [this] { worker_->resetAll(); }, Qt::BlockingQueuedConnection);
}

} // namespace saffron::test
