#pragma once

#include <QByteArray>
#include <cstring>
#include <memory>
#include <usbredirfilter.h>
#include <usbredirparser.h>

namespace saffron::test {

// The guest (QEMU usb-redir) side of a usbredir stream, for unit tests and seed corpora: a
// usbredirparser without the usb_host flag whose output is collected in `out`.
class GuestPeer {
public:
    GuestPeer() : parser_(usbredirparser_create()) {
        parser_->priv = this;
        parser_->read_func = [](void* priv, uint8_t* data, int count) -> int {
            auto* self = static_cast<GuestPeer*>(priv);
            const int n = std::min<int>(count, int(self->in_.size() - self->inPos_));
            if (n <= 0)
                return 0;
            std::memcpy(data, self->in_.constData() + self->inPos_, size_t(n));
            self->inPos_ += n;
            return n;
        };
        parser_->write_func = [](void* priv, uint8_t* data, int count) -> int {
            static_cast<GuestPeer*>(priv)->out.append(reinterpret_cast<const char*>(data), count);
            return count;
        };
        parser_->log_func = [](void*, int, const char*) {};
        parser_->control_packet_func = [](void* priv, uint64_t, usb_redir_control_packet_header*,
                                          uint8_t* data, int) {
            usbredirparser_free_packet_data(static_cast<GuestPeer*>(priv)->parser_.get(), data);
        };
        parser_->bulk_packet_func = [](void* priv, uint64_t, usb_redir_bulk_packet_header*, uint8_t* data,
                                       int) {
            usbredirparser_free_packet_data(static_cast<GuestPeer*>(priv)->parser_.get(), data);
        };
        parser_->interrupt_packet_func = [](void* priv, uint64_t, usb_redir_interrupt_packet_header*,
                                            uint8_t* data, int) {
            usbredirparser_free_packet_data(static_cast<GuestPeer*>(priv)->parser_.get(), data);
        };
        parser_->iso_packet_func = [](void* priv, uint64_t, usb_redir_iso_packet_header*, uint8_t* data,
                                      int) {
            usbredirparser_free_packet_data(static_cast<GuestPeer*>(priv)->parser_.get(), data);
        };
        parser_->buffered_bulk_packet_func = [](void* priv, uint64_t, usb_redir_buffered_bulk_packet_header*,
                                                uint8_t* data, int) {
            usbredirparser_free_packet_data(static_cast<GuestPeer*>(priv)->parser_.get(), data);
        };
        // Every packet a usb-host may send needs a callback (the parser does not check for NULL).
        parser_->device_connect_func = [](void*, usb_redir_device_connect_header*) {};
        parser_->device_disconnect_func = [](void*) {};
        parser_->interface_info_func = [](void*, usb_redir_interface_info_header*) {};
        parser_->ep_info_func = [](void*, usb_redir_ep_info_header*) {};
        parser_->configuration_status_func = [](void*, uint64_t, usb_redir_configuration_status_header*) {};
        parser_->alt_setting_status_func = [](void*, uint64_t, usb_redir_alt_setting_status_header*) {};
        parser_->iso_stream_status_func = [](void*, uint64_t, usb_redir_iso_stream_status_header*) {};
        parser_->interrupt_receiving_status_func = [](void*, uint64_t,
                                                      usb_redir_interrupt_receiving_status_header*) {};
        parser_->bulk_streams_status_func = [](void*, uint64_t, usb_redir_bulk_streams_status_header*) {};
        parser_->bulk_receiving_status_func = [](void*, uint64_t, usb_redir_bulk_receiving_status_header*) {};
        parser_->filter_reject_func = [](void*) {};
        parser_->filter_filter_func = [](void*, usbredirfilter_rule* rules, int) {
            usbredirfilter_free(rules);
        };
        parser_->device_disconnect_ack_func = [](void*) {};
        uint32_t caps[USB_REDIR_CAPS_SIZE] = {};
        // The caps QEMU 7.2's usb-redir advertises (hw/usb/redirect.c usbredir_create_parser).
        for (int cap : {usb_redir_cap_connect_device_version, usb_redir_cap_filter,
                        usb_redir_cap_ep_info_max_packet_size, usb_redir_cap_64bits_ids,
                        usb_redir_cap_32bits_bulk_length, usb_redir_cap_bulk_receiving})
            usbredirparser_caps_set_cap(caps, cap);
        usbredirparser_init(parser_.get(), "test-guest", caps, USB_REDIR_CAPS_SIZE, 0);
        flush();
    }

    usbredirparser* parser() { return parser_.get(); }
    void flush() {
        while (usbredirparser_has_data_to_write(parser_.get()))
            if (usbredirparser_do_write(parser_.get()) != 0)
                break;
    }
    // Bytes from the usb-host side (its hello, replies).
    void feed(const QByteArray& data) {
        in_ = data;
        inPos_ = 0;
        while (inPos_ < in_.size()) {
            const qsizetype before = inPos_;
            usbredirparser_do_read(parser_.get());
            if (inPos_ == before)
                break;
        }
        flush();
    }
    QByteArray take() { return std::exchange(out, QByteArray()); }

    QByteArray out;

private:
    struct Deleter {
        void operator()(usbredirparser* p) const { usbredirparser_destroy(p); }
    };
    std::unique_ptr<usbredirparser, Deleter> parser_;
    QByteArray in_;
    qsizetype inPos_ = 0;
};

} // namespace saffron::test
