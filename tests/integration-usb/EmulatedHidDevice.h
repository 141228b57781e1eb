#pragma once

#include "redir/UsbRedirEndpoint.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <cstdint>
#include <memory>
#include <mutex>
#include <usbredirparser.h>
#include <vector>

namespace saffron::test {

// The identity an emulated device reports (usb_redir_device_connect and its descriptors).
struct EmulatedHidIdentity {
    uint16_t vendorId = 0x1209; // pid.codes test VID
    uint16_t productId = 0x5346;
    uint8_t speed = 1; // usb_redir_speed_full
    QString manufacturer = QStringLiteral("Saffron");
    QString product = QStringLiteral("Saffron Test Keyboard");
    QString serial = QStringLiteral("0001");
};

// A USB HID boot keyboard that exists only as the usb-host side of a usbredir stream: it speaks
// usbredir with libusbredirparser (usbredirparser_fl_usb_host), announces its interface and
// endpoints, answers the guest's control transfers (GET_DESCRIPTOR for device, configuration,
// string and HID report descriptors; GET_STATUS; HID SET_IDLE/SET_PROTOCOL/GET_REPORT) and its
// interrupt IN endpoint 0x81. It shares UsbRedirEndpoint with the real UsbRedirector, so it runs
// over the same byte pipe (a SPICE usbredir channel) as a real device would.
class EmulatedHidDevice final : public usb::UsbRedirEndpoint {
    Q_OBJECT
public:
    struct ControlRequest {
        uint8_t requestType;
        uint8_t request;
        uint16_t value;
        uint16_t index;
        uint16_t length;
    };

    explicit EmulatedHidDevice(QObject* parent = nullptr);
    ~EmulatedHidDevice() override;

    bool start(QString* error) override;
    void feedFromGuest(const QByteArray& data) override;
    bool hasDevice() const override;
    void releaseDevice() override;

    // Plugs the device in (sent as soon as the guest's hello has arrived).
    void attachDevice(const EmulatedHidIdentity& identity);
    bool helloReceived() const;
    QList<ControlRequest> controlRequests() const;
    int parseErrors() const;
    // Every byte the guest side sent, for the fuzz seed corpus.
    QByteArray guestBytes() const;

private:
    static int readCb(void* priv, uint8_t* data, int count);
    static int writeCb(void* priv, uint8_t* data, int count);
    static void logCb(void* priv, int level, const char* msg);
    static void helloCb(void* priv, struct usb_redir_hello_header* hello);
    static void resetCb(void* priv);
    static void setConfigurationCb(void* priv, uint64_t id, struct usb_redir_set_configuration_header* h);
    static void getConfigurationCb(void* priv, uint64_t id);
    static void setAltSettingCb(void* priv, uint64_t id, struct usb_redir_set_alt_setting_header* h);
    static void getAltSettingCb(void* priv, uint64_t id, struct usb_redir_get_alt_setting_header* h);
    static void startInterruptCb(void* priv, uint64_t id,
                                 struct usb_redir_start_interrupt_receiving_header* h);
    static void stopInterruptCb(void* priv, uint64_t id, struct usb_redir_stop_interrupt_receiving_header* h);
    static void cancelCb(void* priv, uint64_t id);
    static void filterRejectCb(void* priv);
    static void disconnectAckCb(void* priv);
    static void controlCb(void* priv, uint64_t id, struct usb_redir_control_packet_header* h, uint8_t* data,
                          int len);
    static void bulkCb(void* priv, uint64_t id, struct usb_redir_bulk_packet_header* h, uint8_t* data,
                       int len);
    static void interruptCb(void* priv, uint64_t id, struct usb_redir_interrupt_packet_header* h,
                            uint8_t* data, int len);

    void sendDeviceLocked();
    std::vector<uint8_t> descriptor(uint8_t type, uint8_t index) const;
    void flushLocked();

    struct ParserDeleter {
        void operator()(usbredirparser* p) const;
    };
    mutable std::recursive_mutex mutex_;
    std::unique_ptr<usbredirparser, ParserDeleter> parser_;
    QByteArray input_;
    qsizetype inputPos_ = 0;
    QByteArray allInput_;
    bool hello_ = false;
    bool attachPending_ = false;
    bool connected_ = false;
    uint8_t configuration_ = 0;
    EmulatedHidIdentity identity_;
    QList<ControlRequest> requests_;
    int parseErrors_ = 0;
};

} // namespace saffron::test
