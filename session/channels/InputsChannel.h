#pragma once

#include "channels/Channel.h"
#include "input/Scancodes.h"

#include <QPoint>
#include <functional>
#include <optional>
#include <vector>

namespace saffron {

// The inputs channel (spice.proto InputsChannel): keyboard as AT scan codes, lock-key
// modifiers, and the mouse either as absolute positions (client mouse mode) or relative motion
// (server mode), with motion-ack flow control.
class InputsChannel : public Channel {
    Q_OBJECT
public:
    InputsChannel(const SessionOptions& options, uint8_t id, QObject* parent = nullptr);

    void keyDown(AtScancode code);
    void keyUp(AtScancode code);
    // SPICE_KEYBOARD_MODIFIER_FLAGS_*: scroll, num and caps lock.
    void setLockModifiers(uint16_t modifiers);
    // `buttons` is a SPICE_MOUSE_BUTTON_MASK_* set; `button` a SPICE_MOUSE_BUTTON_*.
    void mousePosition(QPoint pos, uint16_t buttons, uint8_t displayId);
    void mouseMotion(QPoint delta, uint16_t buttons);
    void mousePress(uint8_t button, uint16_t buttons);
    void mouseRelease(uint8_t button, uint16_t buttons);
    // The guest's pointer may no longer be where the last position put it (the mouse mode
    // changed): the next position goes out even if it repeats the last one.
    void forgetSentPosition() { lastPosition_.reset(); }
    uint16_t guestModifiers() const { return guestModifiers_; }
    quint64 coalescedMotions() const { return coalesced_; }
    // Input given before the channel was ready and dropped because the queue was full.
    quint64 droppedEarlyInput() const { return droppedEarly_; }

signals:
    void guestModifiersChanged(uint16_t modifiers);

protected:
    Capabilities channelCaps() const override;
    void handleMessage(uint16_t type, std::span<const uint8_t> body) override;
    void onReady() override;

private:
    // True when the event can go out now; otherwise it is queued (or dropped when the channel
    // has closed) and the caller sends nothing.
    bool readyOrQueued(std::function<void()> replay);
    void sendMotion();
    bool motionWindowOpen() const;

    uint16_t guestModifiers_ = 0;
    uint32_t unacked_ = 0;
    // Motion that could not be sent yet (window full): latest absolute position, or summed delta.
    std::optional<QPoint> pendingPosition_;
    uint8_t pendingDisplay_ = 0;
    QPoint pendingDelta_;
    bool hasPendingDelta_ = false;
    uint16_t pendingButtons_ = 0;
    quint64 coalesced_ = 0;
    // The last absolute position sent. Qt Quick hands a still pointer's hover position to the
    // view again after every frame in which an item changed (frame-synchronous hover), so over
    // a playing video the same position would go out once a frame: a message, a wake-up of
    // the server and an input event in the guest, which may keep a screensaver off or a
    // player's controls shown. spice-gtk sends only on real motion.
    struct SentPosition {
        QPoint pos;
        uint16_t buttons = 0;
        uint8_t display = 0;
        bool operator==(const SentPosition&) const = default;
    };
    std::optional<SentPosition> lastPosition_;
    // The picture appears before this channel has linked (SessionCore opens it after the first
    // MARK, and a slow link takes several round trips): keys and clicks given meanwhile wait
    // here in order instead of being lost.
    std::vector<std::function<void()>> early_;
    quint64 droppedEarly_ = 0;
};

} // namespace saffron
