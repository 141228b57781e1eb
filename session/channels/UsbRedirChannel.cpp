#include "channels/UsbRedirChannel.h"

#include "wire/Reader.h"

#include <QLoggingCategory>
#include <algorithm>
#include <lz4.h>
#include <spice/enums.h>
#include <spice/protocol.h>
#include <utility>

namespace saffron {

namespace {
Q_LOGGING_CATEGORY(lcUsbRedir, "saffron.usbredir")
} // namespace

UsbRedirChannel::UsbRedirChannel(const SessionOptions& options, uint8_t id, QObject* parent)
    : Channel(options, SPICE_CHANNEL_USBREDIR, id, parent) {
    connect(this, &Channel::closed, this, [this] { open_.store(false, std::memory_order_release); });
}

UsbRedirChannel::~UsbRedirChannel() = default;

Capabilities UsbRedirChannel::channelCaps() const {
    Capabilities caps;
    // With this cap spice-server LZ4-compresses chunks over 1000 bytes on TCP connections
    // (spicevmc.cpp try_compress_lz4); we decompress them in onCompressed().
    caps.set(SPICE_SPICEVMC_CAP_DATA_COMPRESS_LZ4);
    return caps;
}

void UsbRedirChannel::onReady() {
    open_.store(true, std::memory_order_release);
    // What the endpoint wrote while we were linking (its usbredir hello) goes out first.
    const QByteArray early = std::exchange(pending_, QByteArray());
    writeNow(early);
}

void UsbRedirChannel::sendData(const QByteArray& data) {
    if (data.isEmpty())
        return;
    // Queued even on the session thread: the caller may be inside dataReceived(), and the order
    // of everything posted is kept either way.
    backlog_->posted.fetch_add(uint64_t(data.size()), std::memory_order_relaxed);
    QMetaObject::invokeMethod(
        this,
        [this, data] {
            writeNow(data);
            backlog_->posted.fetch_sub(uint64_t(data.size()), std::memory_order_relaxed);
        },
        Qt::QueuedConnection);
}

void UsbRedirChannel::onBytesWritten() {
    updateWireBacklog();
}

void UsbRedirChannel::updateWireBacklog() {
    backlog_->wire.store(uint64_t(pending_.size()) + uint64_t(std::max<qint64>(0, unsentBytes())),
                         std::memory_order_relaxed);
}

void UsbRedirChannel::writeNow(const QByteArray& data) {
    if (state() == State::Closed)
        return;
    if (state() != State::Ready) {
        if (pending_.size() + data.size() > kMaxPending) {
            fail(QStringLiteral("%1: %2 bytes of USB data queued before the channel was ready")
                     .arg(name())
                     .arg(pending_.size() + data.size()));
            return;
        }
        pending_ += data;
        updateWireBacklog();
        return;
    }
    for (qsizetype pos = 0; pos < data.size(); pos += kMaxChunk) {
        const qsizetype n = std::min(kMaxChunk, data.size() - pos);
        send(SPICE_MSGC_SPICEVMC_DATA,
             std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.constData() + pos), size_t(n)));
        usbStats_.bytesToServer += quint64(n);
    }
    updateWireBacklog();
}

void UsbRedirChannel::handleMessage(uint16_t type, std::span<const uint8_t> body) {
    switch (type) {
    case SPICE_MSG_SPICEVMC_DATA:
        // The whole body is stream data (spice.proto SpicevmcChannel Data).
        if (body.empty())
            return;
        usbStats_.bytesFromServer += body.size();
        emit dataReceived(QByteArray(reinterpret_cast<const char*>(body.data()), qsizetype(body.size())));
        break;
    case SPICE_MSG_SPICEVMC_COMPRESSED_DATA:
        onCompressed(body);
        break;
    default:
        qCDebug(lcUsbRedir) << name() << "ignoring message" << type;
        break;
    }
}

// CompressedData (spice.proto): data_compression_type type; for any type but NONE a uint32
// uncompressed_size; then the compressed bytes up to the end of the message.
void UsbRedirChannel::onCompressed(std::span<const uint8_t> body) {
    Reader r(body);
    const uint8_t compression = r.u8();
    if (compression == SPICE_DATA_COMPRESSION_TYPE_NONE) {
        const auto data = r.rest();
        if (data.empty())
            return;
        usbStats_.bytesFromServer += data.size();
        emit dataReceived(QByteArray(reinterpret_cast<const char*>(data.data()), qsizetype(data.size())));
        return;
    }
    if (compression != SPICE_DATA_COMPRESSION_TYPE_LZ4)
        throw ProtocolError("spicevmc compression type " + std::to_string(compression) + " not supported");
    const uint32_t size = r.u32();
    const auto packed = r.rest();
    if (size == 0 || size > kMaxDecompressedSize)
        throw ProtocolError("spicevmc compressed data claims " + std::to_string(size) + " bytes");
    if (packed.empty() || packed.size() > size_t(LZ4_compressBound(int(size))))
        throw ProtocolError("spicevmc compressed data of " + std::to_string(packed.size()) +
                            " bytes cannot hold " + std::to_string(size));
    QByteArray out(qsizetype(size), Qt::Uninitialized);
    const int got = LZ4_decompress_safe(reinterpret_cast<const char*>(packed.data()), out.data(),
                                        int(packed.size()), int(size));
    // The server checks the same equality for what clients send (spicevmc.cpp
    // handle_compressed_msg); a short or failed decode means a corrupt stream.
    if (got != int(size))
        throw ProtocolError("spicevmc LZ4 data decoded to " + std::to_string(got) + " of " +
                            std::to_string(size) + " bytes");
    ++usbStats_.compressedMessages;
    usbStats_.bytesFromServer += size;
    emit dataReceived(out);
}

} // namespace saffron
