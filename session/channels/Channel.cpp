#include "channels/Channel.h"

#include "Log.h"
#include "link/HostSubject.h"
#include "link/LinkProtocol.h"
#include "link/TicketCipher.h"
#include "wire/Reader.h"
#include "wire/Writer.h"

#include <QCryptographicHash>
#include <QLocalSocket>
#include <QNetworkProxy>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spice/enums.h>
#include <spice/protocol.h>
#include <sys/socket.h>

namespace saffron {

namespace {

// What a user needs to judge a refused certificate: who it names, who signed it, when it is
// valid, and its fingerprint (to compare with the one the administrator knows).
QString describeCertificate(const QSslCertificate& cert) {
    const auto join = [](const QStringList& l) { return l.join(QStringLiteral(", ")); };
    return QStringLiteral("Subject: %1\nIssuer: %2\nValid: %3 to %4\nSHA-256: %5")
        .arg(cert.subjectDisplayName().isEmpty() ? join(cert.subjectInfo(QSslCertificate::CommonName))
                                                 : cert.subjectDisplayName(),
             cert.issuerDisplayName(), cert.effectiveDate().toString(Qt::ISODate),
             cert.expiryDate().toString(Qt::ISODate),
             QString::fromLatin1(cert.digest(QCryptographicHash::Sha256).toHex(':')));
}

// Dead-peer detection on a connected TCP socket (see SessionOptions::deadPeerSeconds): idle for
// a third of the budget, then three probes a sixth apart, so a silent dead peer is noticed after
// about 5/6 of it; TCP_USER_TIMEOUT (tcp(7)) bounds how long written data may stay
// unacknowledged, which is what ends a session the user is typing into.
bool enableDeadPeerDetection(qintptr fd, int seconds, QString& error) {
    const int idle = std::max(1, seconds / 3);
    const int interval = std::max(1, seconds / 6);
    const int probes = 3;
    const unsigned userTimeoutMs = unsigned(seconds) * 1000u;
    const int on = 1;
    const auto set = [&](int level, int name, const void* value, socklen_t size, const char* what) {
        if (::setsockopt(int(fd), level, name, value, size) == 0)
            return true;
        error =
            QStringLiteral("%1: %2").arg(QLatin1String(what), QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    };
    return set(SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on, "SO_KEEPALIVE") &&
           set(IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle, "TCP_KEEPIDLE") &&
           set(IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval, "TCP_KEEPINTVL") &&
           set(IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes, "TCP_KEEPCNT") &&
           set(IPPROTO_TCP, TCP_USER_TIMEOUT, &userTimeoutMs, sizeof userTimeoutMs, "TCP_USER_TIMEOUT");
}

} // namespace

Channel::Channel(const SessionOptions& options, uint8_t type, uint8_t id, QObject* parent)
    : QObject(parent), options_(options), type_(type), id_(id) {
    linkDeadline_.setSingleShot(true);
    connect(&linkDeadline_, &QTimer::timeout, this, &Channel::onLinkDeadline);
}

Channel::~Channel() = default;

QString Channel::typeName(uint8_t type) {
    switch (type) {
    case SPICE_CHANNEL_MAIN:
        return QStringLiteral("main");
    case SPICE_CHANNEL_DISPLAY:
        return QStringLiteral("display");
    case SPICE_CHANNEL_INPUTS:
        return QStringLiteral("inputs");
    case SPICE_CHANNEL_CURSOR:
        return QStringLiteral("cursor");
    case SPICE_CHANNEL_PLAYBACK:
        return QStringLiteral("playback");
    case SPICE_CHANNEL_RECORD:
        return QStringLiteral("record");
    case SPICE_CHANNEL_TUNNEL:
        return QStringLiteral("tunnel");
    case SPICE_CHANNEL_SMARTCARD:
        return QStringLiteral("smartcard");
    case SPICE_CHANNEL_USBREDIR:
        return QStringLiteral("usbredir");
    case SPICE_CHANNEL_PORT:
        return QStringLiteral("port");
    case SPICE_CHANNEL_WEBDAV:
        return QStringLiteral("webdav");
    default:
        return QStringLiteral("channel-%1").arg(type);
    }
}

QString Channel::name() const {
    return QStringLiteral("%1:%2").arg(typeName(type_)).arg(id_);
}

void Channel::open(uint32_t connectionId) {
    connectionId_ = connectionId;
    // One deadline for the whole link, a TLS retry included: what the user waits for.
    if (options_.linkTimeoutMs > 0)
        linkDeadline_.start(options_.linkTimeoutMs);
    connectTransport(options_.channelNeedsTls(typeName(type_)));
}

void Channel::onLinkDeadline() {
    if (state_ == State::Ready || state_ == State::Closed)
        return;
    const QString seconds = QString::number(options_.linkTimeoutMs / 1000.0, 'g', 3);
    const QString where =
        options_.unixPath.isEmpty()
            ? QStringLiteral("%1:%2").arg(options_.host).arg(tls_ ? options_.tlsPort : options_.port)
            : options_.unixPath;
    fail(
        transportConnected_
            ? QStringLiteral("%1: %2 accepted the connection but did not complete the SPICE link within %3 s")
                  .arg(name(), where, seconds)
            : QStringLiteral("%1: no answer from %2 within %3 s").arg(name(), where, seconds),
        EndReason::Unreachable);
}

void Channel::connectTransport(bool useTls) {
    if (socket_) {
        // We may be inside one of the old socket's signals: let the event loop delete it.
        socket_->disconnect(this);
        socket_->close();
        socket_.release()->deleteLater();
    }
    linkBuf_.clear();
    replySize_ = 0;
    transportConnected_ = false;
    tls_ = useTls;
    peerVerified_ = false;
    state_ = State::Connecting;

    if (!options_.unixPath.isEmpty()) {
        auto* sock = new QLocalSocket(this);
        socket_.reset(sock);
        connect(sock, &QLocalSocket::connected, this, [this] {
            transportConnected_ = true;
            onConnected();
        });
        connect(sock, &QLocalSocket::readyRead, this, &Channel::onReadyRead);
        connect(sock, &QLocalSocket::errorOccurred, this, &Channel::onSocketError);
        connect(sock, &QLocalSocket::disconnected, this, &Channel::onSocketError);
        setPhase(ConnectPhase::Connecting);
        sock->connectToServer(options_.unixPath);
        return;
    }

    // A plain connection gets a plain socket: constructing a QSslSocket loads Qt's TLS backend
    // and OpenSSL's configuration (~20 ms here, on the way to the first picture) even when it
    // never encrypts.
    QSslSocket* tlsSock = useTls ? new QSslSocket(this) : nullptr;
    QTcpSocket* sock = tlsSock ? tlsSock : new QTcpSocket(this);
    socket_.reset(sock);
    if (options_.proxy.isValid() && !options_.proxy.isEmpty()) {
        // Proxmox's spiceproxy and oVirt's websocket-less proxies are plain HTTP CONNECT proxies;
        // Qt's HttpProxy speaks CONNECT for raw TCP sockets.
        sock->setProxy(QNetworkProxy(QNetworkProxy::HttpProxy, options_.proxy.host(),
                                     static_cast<quint16>(options_.proxy.port(3128))));
    } else {
        sock->setProxy(QNetworkProxy::NoProxy);
    }
    connect(sock, &QAbstractSocket::readyRead, this, &Channel::onReadyRead);
    connect(sock, &QIODevice::bytesWritten, this, [this] { onBytesWritten(); });
    connect(sock, &QAbstractSocket::errorOccurred, this, &Channel::onSocketError);
    connect(sock, &QAbstractSocket::disconnected, this, &Channel::onSocketError);
    connect(sock, &QAbstractSocket::stateChanged, this, [this, useTls](QAbstractSocket::SocketState s) {
        if (s == QAbstractSocket::HostLookupState)
            setPhase(ConnectPhase::Resolving);
        else if (s == QAbstractSocket::ConnectingState)
            setPhase(ConnectPhase::Connecting);
        if (s == QAbstractSocket::ConnectedState && useTls)
            setPhase(ConnectPhase::Tls);
    });
    // Connected before onConnected (plain) and before TLS starts: QSslSocket only knows its
    // descriptor from here on (during stateChanged(ConnectedState) it still reports -1).
    connect(sock, &QAbstractSocket::connected, this, [this, sock] {
        transportConnected_ = true;
        // No Nagle: input events and the link are small writes that must leave at once. Qt
        // only applies the option to a socket that exists, so it is set here, not before
        // connectToHost (where it was silently dropped and TCP_NODELAY stayed 0).
        sock->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        QString error;
        if (options_.deadPeerSeconds > 0 &&
            !enableDeadPeerDetection(sock->socketDescriptor(), options_.deadPeerSeconds, error))
            qCWarning(lcSession).noquote() << name() << "cannot watch for a dead server:" << error;
    });
    if (tlsSock) {
        QSslConfiguration conf = QSslConfiguration::defaultConfiguration();
        conf.setProtocol(QSsl::TlsV1_2OrLater);
        conf.setPeerVerifyMode(QSslSocket::VerifyPeer);
        if (!options_.caCertificates.isEmpty())
            conf.setCaCertificates(options_.caCertificates);
        tlsSock->setSslConfiguration(conf);
        connect(tlsSock, &QSslSocket::sslErrors, this, &Channel::onSslErrors);
        connect(tlsSock, &QSslSocket::encrypted, this, &Channel::onEncrypted);
        tlsSock->connectToHostEncrypted(options_.host, options_.tlsPort);
    } else {
        connect(sock, &QAbstractSocket::connected, this, &Channel::onConnected);
        sock->connectToHost(options_.host, options_.port);
    }
}

void Channel::onSslErrors(const QList<QSslError>& errors) {
    auto* sock = qobject_cast<QSslSocket*>(socket_.get());
    QList<QSslError> ignorable;
    QStringList fatal;
    for (const QSslError& e : errors) {
        // With host-subject the server is identified by its certificate subject, not by the host
        // name (which is a proxy ticket on Proxmox): only then is a name mismatch acceptable, and
        // onEncrypted() still insists that the subject matches.
        if (e.error() == QSslError::HostNameMismatch && !options_.hostSubject.isEmpty())
            ignorable << e;
        else
            fatal << e.errorString();
    }
    if (!fatal.isEmpty()) {
        QString details;
        // The server's own certificate is what the user compares with what they were told;
        // an error may name a CA further up the chain instead.
        QSslCertificate cert = sock ? sock->peerCertificate() : QSslCertificate();
        if (cert.isNull() && !errors.isEmpty())
            cert = errors.first().certificate();
        if (!cert.isNull())
            details = describeCertificate(cert);
        fail(QStringLiteral("TLS certificate of %1 refused: %2")
                 .arg(options_.host, fatal.join(QStringLiteral("; "))),
             EndReason::Certificate, details);
        return;
    }
    if (sock)
        sock->ignoreSslErrors(ignorable);
}

void Channel::onEncrypted() {
    auto* sock = qobject_cast<QSslSocket*>(socket_.get());
    if (!sock)
        return;
    if (!options_.hostSubject.isEmpty()) {
        const QSslCertificate cert = sock->peerCertificate();
        if (!HostSubject::matches(options_.hostSubject, cert.toDer())) {
            fail(QStringLiteral("TLS certificate subject \"%1\" does not match host-subject \"%2\"")
                     .arg(cert.subjectDisplayName(), options_.hostSubject),
                 EndReason::Certificate, describeCertificate(cert));
            return;
        }
    }
    peerVerified_ = true;
    onConnected();
}

void Channel::onConnected() {
    state_ = State::Linking;
    setPhase(ConnectPhase::Linking);
    Capabilities common;
    common.set(SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION);
    common.set(SPICE_COMMON_CAP_AUTH_SPICE);
    common.set(SPICE_COMMON_CAP_MINI_HEADER);
    writeRaw(link::buildLinkMessage(connectionId_, type_, id_, common, channelCaps()));
    qCDebug(lcLink) << name() << "link sent" << (tls_ ? "(TLS)" : "");
}

void Channel::onSocketError() {
    if (state_ == State::Closed)
        return;
    if (state_ == State::Ready && socket_ && socket_->bytesAvailable() > 0)
        onReadyRead(); // deliver what the server said before hanging up
    QString why;
    // Before the link completes nothing of the session exists yet: the server is unreachable
    // (or went away mid-handshake). Afterwards the connection was lost, unless the server said
    // goodbye first (SPICE_MSG_DISCONNECTING).
    EndReason reason = state_ == State::Connecting ? EndReason::Unreachable
                       : serverSaidGoodbye_        ? EndReason::ServerClosed
                                                   : EndReason::Lost;
    if (auto* s = qobject_cast<QAbstractSocket*>(socket_.get())) {
        if (s->error() == QAbstractSocket::RemoteHostClosedError && state_ == State::Ready)
            why = QStringLiteral("the server closed the connection");
        else if (s->error() == QAbstractSocket::SocketTimeoutError && state_ == State::Ready &&
                 options_.deadPeerSeconds > 0)
            // ETIMEDOUT on an established socket: keepalive probes or our own data went
            // unanswered for the dead-peer budget (enableDeadPeerDetection).
            why = QStringLiteral("the server stopped answering (nothing for about %1 s)")
                      .arg(options_.deadPeerSeconds);
        else
            why = s->errorString();
    } else if (auto* l = qobject_cast<QLocalSocket*>(socket_.get()))
        why = l->errorString();
    fail(QStringLiteral("%1: %2").arg(name(), why), reason);
}

void Channel::close() {
    if (state_ == State::Closed)
        return;
    state_ = State::Closed;
    linkDeadline_.stop();
    if (socket_) {
        socket_->disconnect(this);
        socket_->close();
    }
    emit closed(QString());
}

void Channel::setPhase(ConnectPhase phase) {
    if (state_ != State::Closed && state_ != State::Ready)
        emit phaseChanged(phase);
}

void Channel::fail(const QString& error, EndReason reason, const QString& details) {
    if (state_ == State::Closed)
        return;
    qCWarning(lcSession).noquote() << error;
    endReason_ = reason;
    endDetails_ = details;
    state_ = State::Closed;
    linkDeadline_.stop();
    if (socket_) {
        socket_->disconnect(this);
        socket_->close();
    }
    emit closed(error);
}

void Channel::writeRaw(std::span<const uint8_t> bytes) {
    if (!socket_)
        return;
    socket_->write(reinterpret_cast<const char*>(bytes.data()), static_cast<qint64>(bytes.size()));
    stats_.bytesOut += bytes.size();
}

void Channel::send(uint16_t type, std::span<const uint8_t> body) {
    if (state_ != State::Ready)
        return;
    Writer w;
    if (!framer_.miniHeader())
        w.u64(++sendSerial_);
    w.u16(type).u32(static_cast<uint32_t>(body.size()));
    if (!framer_.miniHeader())
        w.u32(0);
    w.bytes(body);
    writeRaw(w.data());
    ++stats_.messagesOut;
}

void Channel::onReadyRead() {
    // Process at most a few MiB per turn, then let the event loop run queued work (input from
    // the GUI, info(), other channels) before continuing: a flooding server must not starve them.
    constexpr qint64 kBudget = 4 * 1024 * 1024;
    qint64 processed = 0;
    while (socket_ && socket_->bytesAvailable() > 0 && state_ != State::Closed) {
        if (processed >= kBudget) {
            QMetaObject::invokeMethod(this, &Channel::onReadyRead, Qt::QueuedConnection);
            return;
        }
        const qint64 want = std::min<qint64>(socket_->bytesAvailable(), 256 * 1024);
        if (state_ == State::Ready) {
            // Straight from the socket's buffer into the framer's: bulk image data is copied
            // once in user space.
            const auto tail = framer_.reserveTail(size_t(want));
            const qint64 got = socket_->read(reinterpret_cast<char*>(tail.data()), want);
            framer_.commitTail(got > 0 ? size_t(got) : 0);
            if (got <= 0)
                break;
            stats_.bytesIn += static_cast<quint64>(got);
            processed += got;
            processMessages();
            continue;
        }
        const QByteArray chunk = socket_->read(want);
        if (chunk.isEmpty())
            break;
        stats_.bytesIn += static_cast<quint64>(chunk.size());
        processed += chunk.size();
        const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(chunk.constData()),
                                             static_cast<size_t>(chunk.size()));
        {
            linkBuf_.insert(linkBuf_.end(), bytes.begin(), bytes.end());
            processLink();
        }
        if (state_ == State::Ready)
            processMessages();
    }
}

void Channel::processLink() {
    try {
        if (state_ == State::Linking) {
            if (linkBuf_.size() < link::kHeaderSize)
                return;
            const link::Header header =
                link::parseHeader(std::span<const uint8_t>(linkBuf_).first(link::kHeaderSize));
            if (linkBuf_.size() < link::kHeaderSize + header.size)
                return;
            const link::Reply reply =
                link::parseReply(std::span<const uint8_t>(linkBuf_).subspan(link::kHeaderSize, header.size));
            linkBuf_.erase(linkBuf_.begin(), linkBuf_.begin() + link::kHeaderSize + header.size);
            if (reply.error == SPICE_LINK_ERR_NEED_SECURED && !tls_ && options_.tlsPort && !retriedWithTls_) {
                // The server wants this channel on its tls-port (spice_protocol.txt, link errors).
                qCInfo(lcLink) << name() << "server requires TLS, reconnecting to tls-port"
                               << options_.tlsPort;
                retriedWithTls_ = true;
                connectTransport(true);
                return;
            }
            if (reply.error != SPICE_LINK_ERR_OK) {
                QString msg =
                    QStringLiteral("%1: %2").arg(name(), QString::fromLatin1(link::errorText(reply.error)));
                if (reply.error == SPICE_LINK_ERR_NEED_SECURED)
                    msg += QStringLiteral(" (no tls-port configured)");
                fail(msg, reply.error == SPICE_LINK_ERR_PERMISSION_DENIED ? EndReason::Authentication
                                                                          : EndReason::ServerClosed);
                return;
            }
            serverCommon_ = reply.commonCaps;
            serverChannel_ = reply.channelCaps;
            framer_.setMiniHeader(serverCommon_.has(SPICE_COMMON_CAP_MINI_HEADER));
            Writer auth;
            if (serverCommon_.has(SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION)) {
                if (!serverCommon_.has(SPICE_COMMON_CAP_AUTH_SPICE)) {
                    fail(QStringLiteral(
                             "%1: the server only offers SASL authentication, which Saffron does not support")
                             .arg(name()));
                    return;
                }
                auth.u32(SPICE_COMMON_CAP_AUTH_SPICE);
            }
            auth.bytes(encryptTicket(reply.publicKey, options_.password));
            writeRaw(auth.data());
            state_ = State::Authenticating;
            setPhase(ConnectPhase::Authenticating);
        }
        if (state_ == State::Authenticating) {
            if (linkBuf_.size() < 4)
                return;
            const uint32_t result = Reader(linkBuf_).u32();
            linkBuf_.erase(linkBuf_.begin(), linkBuf_.begin() + 4);
            if (result != SPICE_LINK_ERR_OK) {
                fail(QStringLiteral("%1: %2").arg(name(), QString::fromLatin1(link::errorText(result))),
                     result == SPICE_LINK_ERR_PERMISSION_DENIED ? EndReason::Authentication
                                                                : EndReason::ServerClosed);
                return;
            }
            state_ = State::Ready;
            linkDeadline_.stop();
            qCInfo(lcLink).noquote() << name() << "linked" << (tls_ ? "over TLS" : "")
                                     << (framer_.miniHeader() ? "mini-header" : "full-header");
            framer_.append(linkBuf_);
            linkBuf_.clear();
            linkBuf_.shrink_to_fit();
            onReady();
            emit ready();
        }
    } catch (const std::exception& e) {
        fail(QStringLiteral("%1: link failed: %2").arg(name(), QString::fromUtf8(e.what())));
    }
}

void Channel::processMessages() {
    MessageFramer::Message msg;
    while (state_ == State::Ready) {
        const auto status = framer_.next(msg);
        if (status == MessageFramer::Status::NeedMore) {
            onBatchDone();
            return;
        }
        if (status == MessageFramer::Status::TooLarge) {
            fail(QStringLiteral("%1: server sent a %2-byte message, over the %3-byte limit")
                     .arg(name())
                     .arg(framer_.pendingSize())
                     .arg(MessageFramer::kMaxMessageSize));
            return;
        }
        ++stats_.messagesIn;
        dispatch(msg.type, msg.body);
        // Flow control: acknowledge every `window` messages (SET_ACK, spice_protocol.txt).
        if (ackWindow_ && ++ackCount_ >= ackWindow_) {
            ackCount_ = 0;
            send(SPICE_MSGC_ACK, std::span<const uint8_t>());
        }
    }
}

void Channel::dispatch(uint16_t type, std::span<const uint8_t> body) {
    try {
        if (type < SPICE_MSG_BASE_LAST)
            handleBaseMessage(type, body);
        else
            handleMessage(type, body);
    } catch (const std::exception& e) {
        ++stats_.badMessages;
        qCWarning(lcSession).noquote() << name() << "dropped malformed message" << type << ":" << e.what();
    }
}

void Channel::handleBaseMessage(uint16_t type, std::span<const uint8_t> body) {
    Reader r(body);
    switch (type) {
    case SPICE_MSG_SET_ACK: {
        const uint32_t generation = r.u32();
        ackWindow_ = r.u32();
        ackCount_ = 0;
        send(SPICE_MSGC_ACK_SYNC, Writer().u32(generation).take());
        break;
    }
    case SPICE_MSG_PING: {
        const uint32_t id = r.u32();
        const uint64_t ts = r.u64();
        send(SPICE_MSGC_PONG, Writer().u32(id).u64(ts).take());
        break;
    }
    case SPICE_MSG_NOTIFY: {
        r.u64();
        const uint32_t severity = r.u32();
        r.u32();
        r.u32();
        const uint32_t len = r.u32();
        auto text = r.array(len, 1);
        QString s = QString::fromUtf8(reinterpret_cast<const char*>(text.data()),
                                      static_cast<qsizetype>(text.size()));
        s.truncate(1024);
        if (severity == SPICE_NOTIFY_SEVERITY_ERROR)
            qCWarning(lcSession).noquote() << name() << "server notice:" << s;
        else
            qCInfo(lcSession).noquote() << name() << "server notice:" << s;
        break;
    }
    case SPICE_MSG_DISCONNECTING:
        qCInfo(lcSession) << name() << "server is disconnecting";
        serverSaidGoodbye_ = true;
        break;
    case SPICE_MSG_WAIT_FOR_CHANNELS:
        // All our channels are processed in order on one thread, so messages another channel
        // was told to wait for have already been handled or will be before they are needed.
        break;
    case SPICE_MSG_MIGRATE:
    case SPICE_MSG_MIGRATE_DATA:
    case SPICE_MSG_LIST:
    default:
        qCDebug(lcSession) << name() << "ignoring base message" << type;
        break;
    }
}

} // namespace saffron
