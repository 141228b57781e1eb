#include "HostileServer.h"

#include "wire/Reader.h"
#include "wire/Writer.h"

#include <QMetaObject>
#include <QNetworkProxy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <spice/protocol.h>
#include <stdexcept>

namespace saffron::hostile {

// ------------------------------------------------------------------------------------ Script

Script& Script::send(uint16_t type, Bytes body) {
    Step s;
    s.kind = Step::Kind::Send;
    s.type = type;
    s.bytes = std::move(body);
    steps.push_back(std::move(s));
    return *this;
}

Script& Script::batch(std::vector<std::pair<uint16_t, Bytes>> messages) {
    Step s;
    s.kind = Step::Kind::Batch;
    s.batch = std::move(messages);
    steps.push_back(std::move(s));
    return *this;
}

Script& Script::raw(Bytes bytes) {
    Step s;
    s.kind = Step::Kind::Raw;
    s.bytes = std::move(bytes);
    steps.push_back(std::move(s));
    return *this;
}

Script& Script::waitFor(uint16_t clientType) {
    Step s;
    s.kind = Step::Kind::WaitFor;
    s.type = clientType;
    steps.push_back(std::move(s));
    return *this;
}

Script& Script::close() {
    Step s;
    s.kind = Step::Kind::Close;
    steps.push_back(std::move(s));
    return *this;
}

Script& Script::then(const Script& more) {
    steps.insert(steps.end(), more.steps.begin(), more.steps.end());
    return *this;
}

Script mainScript(bool agentConnected, uint32_t agentTokens) {
    Script s;
    s.send(SPICE_MSG_MAIN_INIT, mainInit(0x5a5a, agentConnected, agentTokens));
    // spice-server sends the list only when asked (reds.c handles SPICE_MSGC_MAIN_ATTACH_CHANNELS).
    s.waitFor(SPICE_MSGC_MAIN_ATTACH_CHANNELS);
    s.send(SPICE_MSG_MAIN_CHANNELS_LIST,
           channelsList({{SPICE_CHANNEL_DISPLAY, 0}, {SPICE_CHANNEL_CURSOR, 0}, {SPICE_CHANNEL_INPUTS, 0}}));
    return s;
}

// ------------------------------------------------------------------------------------ RSA

namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

// The ticket key: RSA-1024, published as a DER SubjectPublicKeyInfo, which is exactly the
// 162 bytes of SpiceLinkReply.pub_key (SPICE_TICKET_PUBKEY_BYTES).
class TicketKey {
public:
    TicketKey() : key_(EVP_RSA_gen(1024)) {
        if (!key_)
            throw std::runtime_error("RSA key generation failed");
        const int len = i2d_PUBKEY(key_.get(), nullptr);
        if (len != SPICE_TICKET_PUBKEY_BYTES)
            throw std::runtime_error("unexpected SubjectPublicKeyInfo size " + std::to_string(len));
        der_.resize(size_t(len));
        unsigned char* p = der_.data();
        i2d_PUBKEY(key_.get(), &p);
    }
    const Bytes& publicDer() const { return der_; }

    // RSA-OAEP (SHA-1, MGF1-SHA-1), as spice-server's reds.c decrypts the ticket.
    std::optional<QByteArray> decrypt(std::span<const uint8_t> block) const {
        PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
        size_t outLen = 0;
        if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) <= 0 ||
            EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) <= 0 ||
            EVP_PKEY_decrypt(ctx.get(), nullptr, &outLen, block.data(), block.size()) <= 0)
            return std::nullopt;
        QByteArray out(qsizetype(outLen), '\0');
        if (EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &outLen, block.data(),
                             block.size()) <= 0)
            return std::nullopt;
        out.truncate(qsizetype(outLen));
        return out;
    }

private:
    PkeyPtr key_;
    Bytes der_;
};

bool hasCap(const std::vector<uint32_t>& words, unsigned cap) {
    return cap / 32 < words.size() && (words[cap / 32] >> (cap % 32)) & 1u;
}

} // namespace

// ------------------------------------------------------------------------------------ Core and peers

class HostileServer::Core : public QObject {
public:
    explicit Core(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
    // The sockets (children of the server) emit disconnected while they die, and their peers log
    // it: delete them while the members they use still exist.
    ~Core() override { delete server_; }

    quint16 listen() {
        server_ = new QTcpServer(this);
        server_->setProxy(QNetworkProxy::NoProxy);
        QObject::connect(server_, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* s = server_->nextPendingConnection())
                accept(s);
        });
        if (!server_->listen(QHostAddress::LocalHost, 0))
            throw std::runtime_error("hostile server cannot listen");
        return server_->serverPort();
    }

    void log(const QString& event) {
        QMutexLocker lock(&shared_->mutex);
        shared_->events << event;
    }

    const TicketKey& key() const { return key_; }
    Shared& shared() { return *shared_; }

private:
    void accept(QTcpSocket* socket);

    std::shared_ptr<Shared> shared_;
    TicketKey key_;
    QTcpServer* server_ = nullptr;
};

namespace {

// One client connection: the link stage, then the channel's script.
class Peer : public QObject {
public:
    Peer(HostileServer::Core& core, QTcpSocket* socket) : QObject(socket), core_(core), socket_(socket) {
        QObject::connect(socket, &QTcpSocket::readyRead, this, [this] { onReadyRead(); });
        QObject::connect(socket, &QTcpSocket::disconnected, this, [this] { onDisconnected(); });
        QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }

private:
    enum class State { Header, Mess, Mechanism, Ticket, Linked, Done };

    HostileServer::Shared& shared() { return core_.shared(); }

    void onReadyRead() {
        const QByteArray chunk = socket_->readAll();
        in_.insert(in_.end(), chunk.begin(), chunk.end());
        try {
            process();
        } catch (const std::exception& e) {
            core_.log(QStringLiteral("server: bad client data: %1").arg(QString::fromUtf8(e.what())));
            finish();
        }
    }

    void onDisconnected() {
        if (state_ == State::Linked) {
            QMutexLocker lock(&shared().mutex);
            ++shared().closed[channelType_];
        }
        core_.log(QStringLiteral("client closed channel type %1").arg(channelType_));
        state_ = State::Done;
    }

    void finish() {
        state_ = State::Done;
        socket_->disconnectFromHost();
    }

    void write(const Bytes& bytes) {
        socket_->write(reinterpret_cast<const char*>(bytes.data()), qint64(bytes.size()));
    }

    void consume(size_t n) { in_.erase(in_.begin(), in_.begin() + std::ptrdiff_t(n)); }

    void process() {
        for (;;) {
            switch (state_) {
            case State::Header: {
                if (in_.size() < 16)
                    return;
                Reader r(in_);
                if (r.u32() != SPICE_MAGIC)
                    throw std::runtime_error("client link header has a bad magic");
                r.u32(); // major
                r.u32(); // minor
                messSize_ = r.u32();
                if (messSize_ > 4096)
                    throw std::runtime_error("client link message too large");
                consume(16);
                state_ = State::Mess;
                break;
            }
            case State::Mess: {
                if (in_.size() < messSize_)
                    return;
                parseLinkMess(std::span<const uint8_t>(in_).first(messSize_));
                consume(messSize_);
                if (!reply())
                    return; // the script ends the link stage here
                break;
            }
            case State::Mechanism: {
                if (in_.size() < 4)
                    return;
                const uint32_t mechanism = Reader(in_).u32();
                consume(4);
                if (mechanism != SPICE_COMMON_CAP_AUTH_SPICE)
                    throw std::runtime_error("client chose auth mechanism " + std::to_string(mechanism));
                state_ = State::Ticket;
                break;
            }
            case State::Ticket: {
                if (in_.size() < SPICE_TICKET_KEY_PAIR_LENGTH / 8)
                    return;
                const auto plain = core_.key().decrypt(std::span<const uint8_t>(in_).first(128));
                consume(128);
                uint32_t result = script_.link.authResult;
                QByteArray expected;
                {
                    QMutexLocker lock(&shared().mutex);
                    expected = shared().password;
                }
                // The ticket is the password with its terminating NUL (spice_protocol.txt).
                if (!plain || *plain != expected + QByteArray(1, '\0'))
                    result = SPICE_LINK_ERR_PERMISSION_DENIED;
                write(Writer().u32(result).take());
                if (result != SPICE_LINK_ERR_OK) {
                    core_.log(
                        QStringLiteral("link result %1 for channel type %2").arg(result).arg(channelType_));
                    finish();
                    return;
                }
                {
                    QMutexLocker lock(&shared().mutex);
                    ++shared().linked[channelType_];
                }
                core_.log(QStringLiteral("linked channel type %1").arg(channelType_));
                state_ = State::Linked;
                runSteps();
                break;
            }
            case State::Linked:
                if (!readClientMessage())
                    return;
                runSteps();
                break;
            case State::Done:
                in_.clear();
                return;
            }
        }
    }

    void parseLinkMess(std::span<const uint8_t> mess) {
        Reader r(mess);
        r.u32(); // connection_id
        channelType_ = r.u8();
        r.u8(); // channel_id
        const uint32_t numCommon = r.u32();
        const uint32_t numChannel = r.u32();
        const uint32_t capsOffset = r.u32();
        Reader caps = r.at(capsOffset);
        for (uint32_t i = 0; i < numCommon; ++i)
            clientCommon_.push_back(caps.u32());
        for (uint32_t i = 0; i < numChannel; ++i)
            caps.u32();
        {
            QMutexLocker lock(&shared().mutex);
            auto it = shared().scripts.find(channelType_);
            if (it != shared().scripts.end())
                script_ = it->second;
        }
        core_.log(QStringLiteral("link message for channel type %1").arg(channelType_));
    }

    // Sends the link reply the script asks for; false when the link stage ends here.
    bool reply() {
        const LinkScript& link = script_.link;
        if (link.mode == LinkScript::Mode::CloseOnAccept) {
            finish();
            return false;
        }
        if (link.mode == LinkScript::Mode::Raw) {
            write(link.raw);
            finish();
            return false;
        }
        uint32_t common = 0;
        if (link.authSelection)
            common |= 1u << SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION | 1u << SPICE_COMMON_CAP_AUTH_SPICE;
        if (link.miniHeader)
            common |= 1u << SPICE_COMMON_CAP_MINI_HEADER;

        Writer body;
        body.u32(link.mode == LinkScript::Mode::ReplyError ? link.error : uint32_t(SPICE_LINK_ERR_OK));
        if (link.mode == LinkScript::Mode::BadPublicKey) {
            for (int i = 0; i < SPICE_TICKET_PUBKEY_BYTES; ++i)
                body.u8(uint8_t(0xa5 ^ i));
        } else {
            body.bytes(core_.key().publicDer());
        }
        body.u32(link.mode == LinkScript::Mode::CapsCount ? 0x40000000u : 1u);
        body.u32(uint32_t(link.channelCaps.size()));
        // caps_offset is relative to the start of SpiceLinkReply (spice_protocol.txt).
        body.u32(link.mode == LinkScript::Mode::CapsOffset ? 0x7ffffff0u : 178u);
        body.u32(common);
        for (uint32_t c : link.channelCaps)
            body.u32(c);

        Writer head;
        head.u32(link.mode == LinkScript::Mode::BadMagic ? 0x44434241u : SPICE_MAGIC);
        head.u32(link.mode == LinkScript::Mode::BadMajor ? 1u : SPICE_VERSION_MAJOR).u32(SPICE_VERSION_MINOR);
        head.u32(link.mode == LinkScript::Mode::HeaderSize ? link.headerSize : uint32_t(body.size()));
        write(head.data());
        switch (link.mode) {
        case LinkScript::Mode::HeaderSize:
            state_ = State::Done; // silence, connection held open: the client must not wait for 4 GiB
            return false;
        case LinkScript::Mode::Truncated:
            write(Bytes(body.data().begin(), body.data().begin() + 40));
            finish();
            return false;
        case LinkScript::Mode::ReplyError:
            write(body.data());
            finish();
            return false;
        default:
            write(body.data());
            break;
        }
        mini_ = link.miniHeader;
        state_ = link.authSelection && hasCap(clientCommon_, SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION)
                     ? State::Mechanism
                     : State::Ticket;
        return true;
    }

    // One client message (mini or full header, as negotiated); false when incomplete.
    bool readClientMessage() {
        const size_t headerSize = mini_ ? 6 : 18;
        if (in_.size() < headerSize)
            return false;
        Reader r(in_);
        if (!mini_)
            r.u64();
        ClientMessage m;
        m.channel = channelType_;
        m.type = r.u16();
        const uint32_t size = r.u32();
        if (size > (1u << 20))
            throw std::runtime_error("client message of " + std::to_string(size) + " bytes");
        if (in_.size() < headerSize + size)
            return false;
        m.body.assign(in_.begin() + std::ptrdiff_t(headerSize),
                      in_.begin() + std::ptrdiff_t(headerSize + size));
        consume(headerSize + size);
        ++unconsumed_[m.type];
        QMutexLocker lock(&shared().mutex);
        shared().received.push_back(std::move(m));
        return true;
    }

    Bytes framed(uint16_t type, const Bytes& body) {
        return frame(type, body, mini_ ? std::nullopt : std::optional<uint64_t>(++serial_));
    }

    void runSteps() {
        while (state_ == State::Linked && next_ < script_.steps.size()) {
            const Step& step = script_.steps[next_];
            switch (step.kind) {
            case Step::Kind::Send:
                write(framed(step.type, step.bytes));
                break;
            case Step::Kind::Batch: {
                Bytes all;
                for (const auto& [type, body] : step.batch) {
                    const Bytes f = framed(type, body);
                    all.insert(all.end(), f.begin(), f.end());
                }
                write(all);
                break;
            }
            case Step::Kind::Raw:
                write(step.bytes);
                break;
            case Step::Kind::WaitFor: {
                auto it = unconsumed_.find(step.type);
                if (it == unconsumed_.end() || it->second == 0)
                    return;
                --it->second;
                break;
            }
            case Step::Kind::Close:
                ++next_;
                markDone();
                finish();
                return;
            }
            ++next_;
        }
        if (state_ == State::Linked && next_ == script_.steps.size() && !doneCounted_)
            markDone();
    }

    void markDone() {
        doneCounted_ = true;
        QMutexLocker lock(&shared().mutex);
        ++shared().done[channelType_];
    }

    HostileServer::Core& core_;
    QTcpSocket* socket_;
    State state_ = State::Header;
    Bytes in_;
    uint32_t messSize_ = 0;
    uint8_t channelType_ = 0;
    std::vector<uint32_t> clientCommon_;
    Script script_;
    bool mini_ = true;
    uint64_t serial_ = 0;
    size_t next_ = 0;
    bool doneCounted_ = false;
    std::map<uint16_t, int> unconsumed_;
};

} // namespace

void HostileServer::Core::accept(QTcpSocket* socket) {
    log(QStringLiteral("accepted connection"));
    new Peer(*this, socket); // owned by the socket, which deletes itself on disconnect
}

// ------------------------------------------------------------------------------------ HostileServer

HostileServer::HostileServer(QByteArray password)
    : shared_(std::make_shared<Shared>()), thread_(std::make_unique<QThread>()) {
    shared_->password = std::move(password);
    thread_->setObjectName(QStringLiteral("hostile-server"));
    core_ = new Core(shared_);
    core_->moveToThread(thread_.get());
    thread_->start();
    QMetaObject::invokeMethod(
        core_, [this] { port_ = core_->listen(); }, Qt::BlockingQueuedConnection);
}

HostileServer::~HostileServer() {
    // Delete the core (server socket, peers and their sockets) on its own thread.
    QMetaObject::invokeMethod(
        core_, [core = core_] { delete core; }, Qt::BlockingQueuedConnection);
    thread_->quit();
    thread_->wait();
}

void HostileServer::setScript(uint8_t channelType, Script script) {
    QMutexLocker lock(&shared_->mutex);
    shared_->scripts[channelType] = std::move(script);
}

std::vector<ClientMessage> HostileServer::received(uint8_t channel) const {
    QMutexLocker lock(&shared_->mutex);
    std::vector<ClientMessage> out;
    for (const ClientMessage& m : shared_->received)
        if (m.channel == channel)
            out.push_back(m);
    return out;
}

int HostileServer::count(uint8_t channel, uint16_t type) const {
    QMutexLocker lock(&shared_->mutex);
    int n = 0;
    for (const ClientMessage& m : shared_->received)
        n += m.channel == channel && m.type == type;
    return n;
}

int HostileServer::linked(uint8_t channel) const {
    QMutexLocker lock(&shared_->mutex);
    auto it = shared_->linked.find(channel);
    return it == shared_->linked.end() ? 0 : it->second;
}

int HostileServer::scriptsDone(uint8_t channel) const {
    QMutexLocker lock(&shared_->mutex);
    auto it = shared_->done.find(channel);
    return it == shared_->done.end() ? 0 : it->second;
}

int HostileServer::clientClosed(uint8_t channel) const {
    QMutexLocker lock(&shared_->mutex);
    auto it = shared_->closed.find(channel);
    return it == shared_->closed.end() ? 0 : it->second;
}

QStringList HostileServer::events() const {
    QMutexLocker lock(&shared_->mutex);
    return shared_->events;
}

} // namespace saffron::hostile
