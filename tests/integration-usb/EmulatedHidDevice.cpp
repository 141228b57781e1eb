#include "EmulatedHidDevice.h"

#include <QDebug>
#include <cstring>
#include <usbredirfilter.h>
#include <usbredirparser.h>

namespace saffron::test {

namespace {
// USB 2.0 spec chapter 9 request codes and descriptor types; HID 1.11 class requests.
constexpr uint8_t kGetStatus = 0x00;
constexpr uint8_t kGetDescriptor = 0x06;
constexpr uint8_t kHidGetReport = 0x01;
constexpr uint8_t kHidGetIdle = 0x02;
constexpr uint8_t kHidGetProtocol = 0x03;
constexpr uint8_t kDescDevice = 1, kDescConfig = 2, kDescString = 3, kDescHid = 0x21, kDescReport = 0x22;
constexpr uint8_t kInterruptEp = 0x81;

// HID 1.11 appendix B.1: the boot-protocol keyboard report (8 modifier bits, a reserved byte,
// 5 LED outputs plus padding, six key codes).
const std::vector<uint8_t> kReportDescriptor = {
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00, 0x25, 0x01,
    0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x01, 0x95, 0x05, 0x75, 0x01,
    0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, 0x95, 0x01, 0x75, 0x03, 0x91, 0x01, 0x95, 0x06,
    0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xc0};

// usbredir endpoint index: OUT endpoints 0..15, IN endpoints 16..31 (usbredirproto ep_info).
constexpr int epIndex(uint8_t ep) {
    return ((ep & 0x80) >> 3) | (ep & 0x0f);
}
} // namespace

void EmulatedHidDevice::ParserDeleter::operator()(usbredirparser* p) const {
    usbredirparser_destroy(p);
}

EmulatedHidDevice::EmulatedHidDevice(QObject* parent) : UsbRedirEndpoint(parent) {}

EmulatedHidDevice::~EmulatedHidDevice() {
    std::lock_guard lock(mutex_);
    parser_.reset();
}

bool EmulatedHidDevice::start(QString* error) {
    std::lock_guard lock(mutex_);
    usbredirparser* p = usbredirparser_create();
    if (!p) {
        if (error)
            *error = QStringLiteral("usbredirparser_create failed");
        return false;
    }
    parser_.reset(p);
    p->priv = this;
    p->log_func = &logCb;
    p->read_func = &readCb;
    p->write_func = &writeCb;
    p->hello_func = &helloCb;
    p->reset_func = &resetCb;
    p->set_configuration_func = &setConfigurationCb;
    p->get_configuration_func = &getConfigurationCb;
    p->set_alt_setting_func = &setAltSettingCb;
    p->get_alt_setting_func = &getAltSettingCb;
    p->start_interrupt_receiving_func = &startInterruptCb;
    p->stop_interrupt_receiving_func = &stopInterruptCb;
    p->cancel_data_packet_func = &cancelCb;
    p->filter_reject_func = &filterRejectCb;
    p->device_disconnect_ack_func = &disconnectAckCb;
    p->control_packet_func = &controlCb;
    p->bulk_packet_func = &bulkCb;
    p->interrupt_packet_func = &interruptCb;
    // The parser calls every callback without a NULL check, so each packet type a guest may
    // send needs one, even those this device has no use for.
    p->start_iso_stream_func = [](void* priv, uint64_t id, usb_redir_start_iso_stream_header* h) {
        auto* self = static_cast<EmulatedHidDevice*>(priv);
        usb_redir_iso_stream_status_header status{usb_redir_stall, h->endpoint};
        usbredirparser_send_iso_stream_status(self->parser_.get(), id, &status);
    };
    p->stop_iso_stream_func = [](void*, uint64_t, usb_redir_stop_iso_stream_header*) {};
    p->alloc_bulk_streams_func = [](void* priv, uint64_t id, usb_redir_alloc_bulk_streams_header* h) {
        auto* self = static_cast<EmulatedHidDevice*>(priv);
        usb_redir_bulk_streams_status_header status{h->endpoints, 0, usb_redir_stall};
        usbredirparser_send_bulk_streams_status(self->parser_.get(), id, &status);
    };
    p->free_bulk_streams_func = [](void*, uint64_t, usb_redir_free_bulk_streams_header*) {};
    p->start_bulk_receiving_func = [](void* priv, uint64_t id, usb_redir_start_bulk_receiving_header* h) {
        auto* self = static_cast<EmulatedHidDevice*>(priv);
        usb_redir_bulk_receiving_status_header status{h->stream_id, h->endpoint, usb_redir_stall};
        usbredirparser_send_bulk_receiving_status(self->parser_.get(), id, &status);
    };
    p->stop_bulk_receiving_func = [](void*, uint64_t, usb_redir_stop_bulk_receiving_header*) {};
    p->filter_filter_func = [](void*, usbredirfilter_rule* rules, int) { usbredirfilter_free(rules); };
    p->iso_packet_func = [](void* priv, uint64_t, usb_redir_iso_packet_header*, uint8_t* data, int) {
        usbredirparser_free_packet_data(static_cast<EmulatedHidDevice*>(priv)->parser_.get(), data);
    };
    uint32_t caps[USB_REDIR_CAPS_SIZE] = {};
    // QEMU's usb-redir insists on these three behind an XHCI controller (usbredir_do_attach).
    usbredirparser_caps_set_cap(caps, usb_redir_cap_connect_device_version);
    usbredirparser_caps_set_cap(caps, usb_redir_cap_filter);
    usbredirparser_caps_set_cap(caps, usb_redir_cap_device_disconnect_ack);
    usbredirparser_caps_set_cap(caps, usb_redir_cap_ep_info_max_packet_size);
    usbredirparser_caps_set_cap(caps, usb_redir_cap_64bits_ids);
    usbredirparser_caps_set_cap(caps, usb_redir_cap_32bits_bulk_length);
    usbredirparser_init(p, "saffron-emulated-hid", caps, USB_REDIR_CAPS_SIZE, usbredirparser_fl_usb_host);
    flushLocked();
    return true;
}

void EmulatedHidDevice::flushLocked() {
    if (parser_)
        while (usbredirparser_has_data_to_write(parser_.get()))
            if (usbredirparser_do_write(parser_.get()) != 0)
                break;
}

void EmulatedHidDevice::feedFromGuest(const QByteArray& data) {
    std::lock_guard lock(mutex_);
    if (!parser_)
        return;
    allInput_ += data;
    input_ = data;
    inputPos_ = 0;
    while (inputPos_ < input_.size()) {
        const qsizetype before = inputPos_;
        if (usbredirparser_do_read(parser_.get()) == usbredirparser_read_parse_error)
            ++parseErrors_;
        if (inputPos_ == before)
            break;
    }
    input_.clear();
    flushLocked();
}

bool EmulatedHidDevice::hasDevice() const {
    std::lock_guard lock(mutex_);
    return connected_ || attachPending_;
}

void EmulatedHidDevice::attachDevice(const EmulatedHidIdentity& identity) {
    std::lock_guard lock(mutex_);
    identity_ = identity;
    attachPending_ = true;
    if (hello_)
        sendDeviceLocked();
}

void EmulatedHidDevice::releaseDevice() {
    {
        std::lock_guard lock(mutex_);
        if (!connected_ && !attachPending_)
            return;
        attachPending_ = false;
        if (connected_ && parser_) {
            usbredirparser_send_device_disconnect(parser_.get());
            flushLocked();
        }
        connected_ = false;
    }
    emit deviceReleased(QString());
}

bool EmulatedHidDevice::helloReceived() const {
    std::lock_guard lock(mutex_);
    return hello_;
}

QList<EmulatedHidDevice::ControlRequest> EmulatedHidDevice::controlRequests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

int EmulatedHidDevice::parseErrors() const {
    std::lock_guard lock(mutex_);
    return parseErrors_;
}

QByteArray EmulatedHidDevice::guestBytes() const {
    std::lock_guard lock(mutex_);
    return allInput_;
}

// What usbredirhost sends for a real device (usbredirhost_send_device_connect): interface
// info, endpoint info, then device_connect.
void EmulatedHidDevice::sendDeviceLocked() {
    attachPending_ = false;
    connected_ = true;
    configuration_ = 1;
    usb_redir_interface_info_header ifaces{};
    ifaces.interface_count = 1;
    ifaces.interface[0] = 0;
    ifaces.interface_class[0] = 0x03;    // HID
    ifaces.interface_subclass[0] = 0x01; // boot interface
    ifaces.interface_protocol[0] = 0x01; // keyboard
    usbredirparser_send_interface_info(parser_.get(), &ifaces);

    usb_redir_ep_info_header eps{};
    std::memset(eps.type, usb_redir_type_invalid, sizeof(eps.type));
    for (uint8_t ep : {uint8_t(0x00), uint8_t(0x80)}) {
        eps.type[epIndex(ep)] = usb_redir_type_control;
        eps.max_packet_size[epIndex(ep)] = 64;
    }
    eps.type[epIndex(kInterruptEp)] = usb_redir_type_interrupt;
    eps.interval[epIndex(kInterruptEp)] = 10;
    eps.interface[epIndex(kInterruptEp)] = 0;
    eps.max_packet_size[epIndex(kInterruptEp)] = 8;
    usbredirparser_send_ep_info(parser_.get(), &eps);

    usb_redir_device_connect_header connect{};
    connect.speed = identity_.speed;
    connect.device_class = 0; // per interface
    connect.vendor_id = identity_.vendorId;
    connect.product_id = identity_.productId;
    connect.device_version_bcd = 0x0100;
    usbredirparser_send_device_connect(parser_.get(), &connect);
    flushLocked();
}

std::vector<uint8_t> EmulatedHidDevice::descriptor(uint8_t type, uint8_t index) const {
    const auto lo = [](uint16_t v) { return uint8_t(v & 0xff); };
    const auto hi = [](uint16_t v) { return uint8_t(v >> 8); };
    switch (type) {
    case kDescDevice:
        return {18,
                kDescDevice,
                0x00,
                0x02,
                0,
                0,
                0,
                64,
                lo(identity_.vendorId),
                hi(identity_.vendorId),
                lo(identity_.productId),
                hi(identity_.productId),
                0x00,
                0x01,
                1,
                2,
                3,
                1};
    case kDescConfig: {
        const uint16_t reportLen = uint16_t(kReportDescriptor.size());
        return {// configuration: 34 bytes in all, 1 interface, value 1, bus powered, 100 mA
                9, kDescConfig, 34, 0, 1, 1, 0, 0x80, 50,
                // interface 0: HID boot keyboard, one endpoint
                9, 4, 0, 0, 1, 0x03, 0x01, 0x01, 0,
                // HID 1.11, one report descriptor
                9, kDescHid, 0x11, 0x01, 0, 1, kDescReport, lo(reportLen), hi(reportLen),
                // endpoint 0x81 interrupt IN, 8 bytes, every 10 ms
                7, 5, kInterruptEp, 0x03, 8, 0, 10};
    }
    case kDescString: {
        if (index == 0)
            return {4, kDescString, 0x09, 0x04}; // en-US
        const QString text = index == 1   ? identity_.manufacturer
                             : index == 2 ? identity_.product
                             : index == 3 ? identity_.serial
                                          : QString();
        if (text.isNull())
            return {};
        std::vector<uint8_t> out{uint8_t(2 + 2 * text.size()), kDescString};
        for (QChar c : text) {
            out.push_back(uint8_t(c.unicode() & 0xff));
            out.push_back(uint8_t(c.unicode() >> 8));
        }
        return out;
    }
    case kDescReport:
        return kReportDescriptor;
    default:
        return {};
    }
}

int EmulatedHidDevice::readCb(void* priv, uint8_t* data, int count) {
    auto* self = static_cast<EmulatedHidDevice*>(priv);
    const qsizetype n = std::min<qsizetype>(self->input_.size() - self->inputPos_, std::max(count, 0));
    if (n <= 0)
        return 0;
    std::memcpy(data, self->input_.constData() + self->inputPos_, size_t(n));
    self->inputPos_ += n;
    return int(n);
}

int EmulatedHidDevice::writeCb(void* priv, uint8_t* data, int count) {
    auto* self = static_cast<EmulatedHidDevice*>(priv);
    emit self->toGuest(QByteArray(reinterpret_cast<const char*>(data), count));
    return count;
}

void EmulatedHidDevice::logCb(void*, int level, const char* msg) {
    if (level <= usbredirparser_warning)
        qWarning("emulated hid: %s", msg);
}

void EmulatedHidDevice::helloCb(void* priv, usb_redir_hello_header*) {
    auto* self = static_cast<EmulatedHidDevice*>(priv);
    self->hello_ = true;
    if (self->attachPending_)
        self->sendDeviceLocked();
}

void EmulatedHidDevice::resetCb(void*) {
    // A real device would re-enumerate; ours keeps no state that a reset changes.
}

void EmulatedHidDevice::setConfigurationCb(void* priv, uint64_t id, usb_redir_set_configuration_header* h) {
    auto* self = static_cast<EmulatedHidDevice*>(priv);
    usb_redir_configuration_status_header status{};
    status.status = h->configuration <= 1 ? usb_redir_success : usb_redir_stall;
    if (status.status == usb_redir_success)
        self->configuration_ = h->configuration;
    status.configuration = self->configuration_;
    usbredirparser_send_configuration_status(self->parser_.get(), id, &status);
}

void EmulatedHidDevice::getConfigurationCb(void* priv, uint64_t id) {
    auto* self = static_cast<EmulatedHidDevice*>(priv);
    usb_redir_configuration_status_header status{usb_redir_success, self->configuration_};
    usbredirparser_send_configuration_status(self->parser_.get(), id, &status);
}

void EmulatedHidDevice::setAltSettingCb(void* priv, uint64_t id, usb_redir_set_alt_setting_header* h) {
    auto* self = static_cast<EmulatedHidDevice*>(priv);
    usb_redir_alt_setting_status_header status{};
    status.status = h->interface == 0 && h->alt == 0 ? usb_redir_success : usb_redir_inval;
    status.interface = h->interface;
    status.alt = 0;
    usbredirparser_send_alt_setting_status(self->parser_.get(), id, &status);
}

void EmulatedHidDevice::getAltSettingCb(void* priv, uint64_t id, usb_redir_get_alt_setting_header* h) {
    auto* self = static_cast<EmulatedHidDevice*>(priv);
    usb_redir_alt_setting_status_header status{};
    status.status = h->interface == 0 ? usb_redir_success : usb_redir_inval;
    status.interface = h->interface;
    usbredirparser_send_alt_setting_status(self->parser_.get(), id, &status);
}

void EmulatedHidDevice::startInterruptCb(void* priv, uint64_t id,
                                         usb_redir_start_interrupt_receiving_header* h) {
    auto* self = static_cast<EmulatedHidDevice*>(priv);
    usb_redir_interrupt_receiving_status_header status{};
    status.status = h->endpoint == kInterruptEp ? usb_redir_success : usb_redir_inval;
    status.endpoint = h->endpoint;
    usbredirparser_send_interrupt_receiving_status(self->parser_.get(), id, &status);
}

void EmulatedHidDevice::stopInterruptCb(void* priv, uint64_t id,
                                        usb_redir_stop_interrupt_receiving_header* h) {
    auto* self = static_cast<EmulatedHidDevice*>(priv);
    usb_redir_interrupt_receiving_status_header status{usb_redir_success, h->endpoint};
    usbredirparser_send_interrupt_receiving_status(self->parser_.get(), id, &status);
}

void EmulatedHidDevice::cancelCb(void*, uint64_t) {
    // Every request is answered at once, so there is never anything in flight to cancel.
}

void EmulatedHidDevice::filterRejectCb(void* priv) {
    auto* self = static_cast<EmulatedHidDevice*>(priv);
    self->connected_ = false;
    emit self->deviceReleased(QStringLiteral("rejected by the guest's filter"));
}

void EmulatedHidDevice::disconnectAckCb(void*) {}

void EmulatedHidDevice::controlCb(void* priv, uint64_t id, usb_redir_control_packet_header* h, uint8_t* data,
                                  int len) {
    auto* self = static_cast<EmulatedHidDevice*>(priv);
    usbredirparser_free_packet_data(self->parser_.get(), data);
    (void)len;
    self->requests_.append({h->requesttype, h->request, h->value, h->index, h->length});
    usb_redir_control_packet_header reply = *h;
    std::vector<uint8_t> out;
    reply.status = usb_redir_success;
    const bool in = h->requesttype & 0x80;
    const uint8_t kind = h->requesttype & 0x60; // standard / class / vendor
    if (kind == 0x00 && h->request == kGetDescriptor && in) {
        out = self->descriptor(uint8_t(h->value >> 8), uint8_t(h->value & 0xff));
        if (out.empty())
            reply.status = usb_redir_stall;
    } else if (kind == 0x00 && h->request == kGetStatus && in) {
        out = {0, 0};
    } else if (kind == 0x20 && in) {
        if (h->request == kHidGetReport)
            out.assign(8, 0);
        else if (h->request == kHidGetIdle || h->request == kHidGetProtocol)
            out = {0};
        else
            reply.status = usb_redir_stall;
    } else if (in) {
        reply.status = usb_redir_stall;
    }
    // OUT requests (SET_IDLE, SET_PROTOCOL, SET_REPORT, SET/CLEAR_FEATURE) are accepted as is.
    if (out.size() > h->length)
        out.resize(h->length);
    reply.length = in ? uint16_t(out.size()) : h->length;
    usbredirparser_send_control_packet(self->parser_.get(), id, &reply, out.empty() ? nullptr : out.data(),
                                       int(out.size()));
}

void EmulatedHidDevice::bulkCb(void* priv, uint64_t id, usb_redir_bulk_packet_header* h, uint8_t* data, int) {
    auto* self = static_cast<EmulatedHidDevice*>(priv);
    usbredirparser_free_packet_data(self->parser_.get(), data);
    usb_redir_bulk_packet_header reply = *h;
    reply.status = usb_redir_stall; // no bulk endpoints
    reply.length = 0;
    reply.length_high = 0;
    usbredirparser_send_bulk_packet(self->parser_.get(), id, &reply, nullptr, 0);
}

void EmulatedHidDevice::interruptCb(void* priv, uint64_t, usb_redir_interrupt_packet_header*, uint8_t* data,
                                    int) {
    // The keyboard has no interrupt OUT endpoint; LED reports come as SET_REPORT instead.
    usbredirparser_free_packet_data(static_cast<EmulatedHidDevice*>(priv)->parser_.get(), data);
}

} // namespace saffron::test
