#pragma once

#include "channels/Channel.h"

#include <QByteArray>
#include <atomic>
#include <memory>

namespace saffron {

struct UsbRedirChannelStats {
    quint64 bytesFromServer = 0;    // usbredir bytes delivered (after decompression)
    quint64 compressedMessages = 0; // SPICEVMC_COMPRESSED_DATA messages accepted
    quint64 bytesToServer = 0;
};

// One usbredir channel (spice.proto UsbredirChannel : SpicevmcChannel): an opaque byte pipe to
// one `-device usb-redir` on the server. The bytes are the usbredir protocol; this class knows
// nothing about it and only does the SPICE framing (spicevmc DATA / COMPRESSED_DATA).
//
// Threading: the object lives on the session thread. dataReceived() is emitted there; consumers
// connect with Qt::DirectConnection and must be thread-safe, or use a queued connection.
// sendData(), isOpen() and channelId() may be called from any thread while the Session exists.
//
// Flow control: spicevmc has no token scheme (unlike the agent on the main channel). When the
// guest-side char device is full, spice-server stops reading this channel's socket
// (server/spicevmc.cpp: alloc_recv_buf fails -> block_read, unblocked by on_free_self_token), so
// back-pressure is plain TCP. In the other direction the server stops reading the char device
// while more than 1 MiB is queued for us (QUEUED_DATA_LIMIT). Base-channel ACKs apply as usual.
class UsbRedirChannel : public Channel {
    Q_OBJECT
public:
    // spice-server sends at most 64 KiB + 32 bytes per message (spicevmc.cpp BUF_SIZE); anything
    // claiming to decompress to more than this is refused rather than allocated.
    static constexpr uint32_t kMaxDecompressedSize = 1024 * 1024;
    // Outgoing data is cut into messages of at most this size: the server allocates one char
    // device write buffer per message, and the usbredir stream has no message boundaries.
    static constexpr qsizetype kMaxChunk = 64 * 1024;
    // Bytes kept while the channel links (a usbredir hello is about 80); more means a stuck link.
    static constexpr qsizetype kMaxPending = 1024 * 1024;

    UsbRedirChannel(const SessionOptions& options, uint8_t id, QObject* parent = nullptr);
    ~UsbRedirChannel() override;

    // Thread-safe. Queues `data` to the server in order. Data sent while the channel links is
    // kept and sent once it is ready; after close it is dropped (QEMU restarts its usbredir
    // parser on every channel open, so stale bytes would be meaningless there).
    void sendData(const QByteArray& data);
    // What is waiting to go out, for usbredirhost to drop isochronous data when the link backs
    // up: data passed to sendData() not yet written, plus what the socket still holds. Shared so
    // that a reader on another thread (libusb's event thread) may outlive the channel.
    struct Backlog {
        std::atomic<uint64_t> posted{0};
        std::atomic<uint64_t> wire{0};
        uint64_t bytes() const {
            return posted.load(std::memory_order_relaxed) + wire.load(std::memory_order_relaxed);
        }
    };
    std::shared_ptr<const Backlog> backlog() const { return backlog_; }
    // Thread-safe: linked and not closed.
    bool isOpen() const { return open_.load(std::memory_order_acquire); }
    // Thread-safe (immutable after construction).
    uint8_t channelId() const { return id(); }
    const UsbRedirChannelStats& usbStats() const { return usbStats_; }

signals:
    // Session thread. Bytes of the usbredir stream from the guest side, in order.
    void dataReceived(const QByteArray& data);

protected:
    Capabilities channelCaps() const override;
    void onReady() override;
    void handleMessage(uint16_t type, std::span<const uint8_t> body) override;

private:
    void onCompressed(std::span<const uint8_t> body);
    void writeNow(const QByteArray& data);

    void onBytesWritten() override;
    void updateWireBacklog();

    std::atomic<bool> open_{false};
    const std::shared_ptr<Backlog> backlog_ = std::make_shared<Backlog>();
    QByteArray pending_; // session thread only
    UsbRedirChannelStats usbStats_;
};

} // namespace saffron
