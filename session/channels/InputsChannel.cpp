#include "channels/InputsChannel.h"

#include "Log.h"
#include "wire/Reader.h"
#include "wire/Writer.h"

#include <spice/enums.h>
#include <spice/protocol.h>

namespace saffron {

namespace {
// spice-server acks every SPICE_INPUT_MOTION_ACK_BUNCH motion messages; keeping two bunches in
// flight hides one round trip without letting a slow link queue up stale motion.
constexpr uint32_t kMaxUnackedMotion = 2 * SPICE_INPUT_MOTION_ACK_BUNCH;
// Some seconds of fast typing; beyond that the link is not coming and queueing more only
// delays what the user sees.
constexpr size_t kMaxEarlyInput = 256;

uint32_t downCode(AtScancode c) {
    // Bytes go to the guest low byte first: E0 prefix, then the code.
    return c > 0xff ? (0xe0u | uint32_t(c & 0xff) << 8) : c;
}
uint32_t upCode(AtScancode c) {
    return c > 0xff ? (0xe0u | uint32_t((c & 0xff) | 0x80) << 8) : (c | 0x80u);
}
} // namespace

InputsChannel::InputsChannel(const SessionOptions& options, uint8_t id, QObject* parent)
    : Channel(options, SPICE_CHANNEL_INPUTS, id, parent) {}

Capabilities InputsChannel::channelCaps() const {
    Capabilities caps;
    caps.set(SPICE_INPUTS_CAP_KEY_SCANCODE);
    return caps;
}

void InputsChannel::handleMessage(uint16_t type, std::span<const uint8_t> body) {
    Reader r(body);
    switch (type) {
    case SPICE_MSG_INPUTS_INIT:
    case SPICE_MSG_INPUTS_KEY_MODIFIERS:
        guestModifiers_ = r.u16();
        emit guestModifiersChanged(guestModifiers_);
        break;
    case SPICE_MSG_INPUTS_MOUSE_MOTION_ACK:
        unacked_ = unacked_ > SPICE_INPUT_MOTION_ACK_BUNCH ? unacked_ - SPICE_INPUT_MOTION_ACK_BUNCH : 0;
        sendMotion();
        break;
    default:
        qCDebug(lcInputs) << "ignoring inputs message" << type;
    }
}

void InputsChannel::onReady() {
    std::vector<std::function<void()>> early;
    early.swap(early_);
    for (auto& replay : early)
        replay();
    sendMotion();
}

bool InputsChannel::readyOrQueued(std::function<void()> replay) {
    switch (state()) {
    case State::Ready:
        return true;
    case State::Closed:
        return false;
    default:
        if (early_.size() < kMaxEarlyInput) {
            early_.push_back(std::move(replay));
        } else if (droppedEarly_++ == 0) {
            // Once per channel: a key held down by a stuck keyboard would otherwise fill the log.
            qCWarning(lcInputs) << "input before the inputs channel was ready: queue full at"
                                << kMaxEarlyInput << "events, dropping the rest";
        }
        return false;
    }
}

void InputsChannel::keyDown(AtScancode code) {
    if (!readyOrQueued([this, code] { keyDown(code); }))
        return;
    if (code == kPauseMarker) {
        if (serverChannelCaps().has(SPICE_INPUTS_CAP_KEY_SCANCODE))
            send(SPICE_MSGC_INPUTS_KEY_SCANCODE, std::span<const uint8_t>(kPauseSequence));
        return;
    }
    send(SPICE_MSGC_INPUTS_KEY_DOWN, Writer().u32(downCode(code)).take());
}

void InputsChannel::keyUp(AtScancode code) {
    if (!readyOrQueued([this, code] { keyUp(code); }))
        return;
    if (code == kPauseMarker)
        return; // the sequence sent on press already contains the break codes
    send(SPICE_MSGC_INPUTS_KEY_UP, Writer().u32(upCode(code)).take());
}

void InputsChannel::setLockModifiers(uint16_t modifiers) {
    if (!readyOrQueued([this, modifiers] { setLockModifiers(modifiers); }))
        return;
    send(SPICE_MSGC_INPUTS_KEY_MODIFIERS, Writer().u16(modifiers).take());
}

bool InputsChannel::motionWindowOpen() const {
    return unacked_ < kMaxUnackedMotion;
}

void InputsChannel::mousePosition(QPoint pos, uint16_t buttons, uint8_t displayId) {
    const QPoint clamped(std::max(0, pos.x()), std::max(0, pos.y()));
    if (!pendingPosition_ && lastPosition_ == SentPosition{clamped, buttons, displayId})
        return; // where the guest's pointer already is (see lastPosition_)
    if (pendingPosition_ || !motionWindowOpen())
        ++coalesced_;
    pendingPosition_ = clamped;
    pendingDisplay_ = displayId;
    pendingButtons_ = buttons;
    sendMotion();
}

void InputsChannel::mouseMotion(QPoint delta, uint16_t buttons) {
    if (hasPendingDelta_ || !motionWindowOpen())
        ++coalesced_;
    pendingDelta_ += delta;
    hasPendingDelta_ = true;
    lastPosition_.reset(); // relative motion moves the guest's pointer away from it
    pendingButtons_ = buttons;
    sendMotion();
}

void InputsChannel::sendMotion() {
    if (!motionWindowOpen() || state() != State::Ready)
        return;
    if (pendingPosition_) {
        const SentPosition position{*pendingPosition_, pendingButtons_, pendingDisplay_};
        pendingPosition_.reset();
        // Moved away and back while the window was full: the guest is there already.
        if (lastPosition_ == position)
            return;
        send(SPICE_MSGC_INPUTS_MOUSE_POSITION, Writer()
                                                   .u32(uint32_t(position.pos.x()))
                                                   .u32(uint32_t(position.pos.y()))
                                                   .u16(position.buttons)
                                                   .u8(position.display)
                                                   .take());
        lastPosition_ = position;
        ++unacked_;
    } else if (hasPendingDelta_) {
        send(SPICE_MSGC_INPUTS_MOUSE_MOTION,
             Writer().i32(pendingDelta_.x()).i32(pendingDelta_.y()).u16(pendingButtons_).take());
        pendingDelta_ = QPoint();
        hasPendingDelta_ = false;
        ++unacked_;
    }
}

void InputsChannel::mousePress(uint8_t button, uint16_t buttons) {
    if (!readyOrQueued([this, button, buttons] { mousePress(button, buttons); }))
        return;
    // A press must land where the pointer is: flush coalesced motion first, window or not.
    if (pendingPosition_ || hasPendingDelta_) {
        unacked_ = std::min(unacked_, kMaxUnackedMotion - 1);
        sendMotion();
    }
    send(SPICE_MSGC_INPUTS_MOUSE_PRESS, Writer().u8(button).u16(buttons).take());
}

void InputsChannel::mouseRelease(uint8_t button, uint16_t buttons) {
    if (!readyOrQueued([this, button, buttons] { mouseRelease(button, buttons); }))
        return;
    if (pendingPosition_ || hasPendingDelta_) {
        unacked_ = std::min(unacked_, kMaxUnackedMotion - 1);
        sendMotion();
    }
    send(SPICE_MSGC_INPUTS_MOUSE_RELEASE, Writer().u8(button).u16(buttons).take());
}

} // namespace saffron
