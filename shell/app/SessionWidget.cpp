#include "app/SessionWidget.h"

#include "common/KeyMapping.h"
#include "common/SurfaceImage.h"

#include <QKeyEvent>
#include <QPaintEvent>
#include <QPainter>
#include <spice/enums.h>

namespace saffron {

SessionWidget::SessionWidget(Session& session, QWidget* parent) : QWidget(parent), session_(session) {
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMinimumSize(320, 200);
    connect(&session_, &Session::primarySurfaceChanged, this, &SessionWidget::onSurface);
    connect(&session_, &Session::primaryUpdated, this, &SessionWidget::onUpdate);
    // Resolution follows the window, but only once the user stops dragging its edge: every
    // monitors-config makes the guest re-layout its desktop.
    resizeDebounce_.setSingleShot(true);
    resizeDebounce_.setInterval(300);
    connect(&resizeDebounce_, &QTimer::timeout, this, [this] {
        const QSize px = size() * devicePixelRatioF();
        session_.setMonitors({QRect(0, 0, px.width() & ~7, px.height())});
    });
    connect(&session_, &Session::agentConnectedChanged, this, [this](bool on) {
        if (on)
            resizeDebounce_.start();
    });
    connect(&session_, &Session::mouseModeChanged, this, [this](uint32_t mode) {
        mouseMode_ = mode;
        if (!serverMouse())
            releasePointer();
        applyCursor();
    });
    connect(&session_, &Session::cursorShapeChanged, this, &SessionWidget::setCursorShape);
    connect(&session_, &Session::cursorMoved, this, [this](const QPoint& p) {
        const QRect before = cursorRect();
        cursorPos_ = p;
        if (serverMouse())
            update(before.united(cursorRect()));
    });
    connect(&session_, &Session::cursorVisibilityChanged, this, [this](bool v) {
        cursorVisible_ = v;
        update(cursorRect());
    });
}

bool SessionWidget::serverMouse() const {
    return mouseMode_ == SPICE_MOUSE_MODE_SERVER;
}

void SessionWidget::setCursorShape(CursorShapePtr shape) {
    if (shape) {
        const Pixmap& p = shape->image;
        cursorImage_ = QImage(reinterpret_cast<const uchar*>(p.pixels.data()), p.width, p.height, p.width * 4,
                              QImage::Format_ARGB32_Premultiplied)
                           .copy();
        cursorHot_ = QPoint(shape->hotX, shape->hotY);
    } else {
        cursorImage_ = QImage(); // the guest has no pointer image
    }
    applyCursor();
}

void SessionWidget::applyCursor() {
    // Client mode: the local pointer is the guest pointer, so it takes the guest's shape.
    // Server mode: the guest owns the pointer; we hide ours and paint the guest's where the
    // cursor channel says it is.
    if (serverMouse())
        setCursor(Qt::BlankCursor);
    else if (!cursorImage_.isNull())
        setCursor(QCursor(QPixmap::fromImage(cursorImage_), cursorHot_.x(), cursorHot_.y()));
    else
        unsetCursor();
    update(cursorRect());
}

QRect SessionWidget::cursorRect() const {
    if (cursorImage_.isNull() || frame_.isNull())
        return {};
    const QRect t = targetRect();
    const double sx = double(t.width()) / frame_.width(), sy = double(t.height()) / frame_.height();
    const QPoint tl = cursorPos_ - cursorHot_;
    return QRectF(t.left() + tl.x() * sx, t.top() + tl.y() * sy, cursorImage_.width() * sx,
                  cursorImage_.height() * sy)
        .toAlignedRect()
        .adjusted(-1, -1, 1, 1);
}

void SessionWidget::grabPointer() {
    if (grabbed_)
        return;
    grabbed_ = true;
    grabMouse();
    grabKeyboard();
    QCursor::setPos(mapToGlobal(rect().center()));
    emit pointerGrabChanged(true);
}

void SessionWidget::releasePointer() {
    if (!grabbed_)
        return;
    grabbed_ = false;
    releaseMouse();
    releaseKeyboard();
    emit pointerGrabChanged(false);
}

void SessionWidget::onSurface(SurfacePtr s) {
    surface_ = std::move(s);
    frame_ = surface_ ? copySurface(*surface_) : QImage();
    update();
}

void SessionWidget::onUpdate(const QRect& dirty) {
    if (!surface_)
        return;
    if (frame_.size() != QSize(surface_->pixmap.width, surface_->pixmap.height)) {
        frame_ = copySurface(*surface_);
        update();
        return;
    }
    copySurfaceRegion(*surface_, dirty, frame_);
    const QRect t = targetRect();
    const double sx = double(t.width()) / frame_.width(), sy = double(t.height()) / frame_.height();
    update(QRectF(t.left() + dirty.left() * sx, t.top() + dirty.top() * sy, dirty.width() * sx,
                  dirty.height() * sy)
               .toAlignedRect()
               .adjusted(-1, -1, 1, 1));
}

QRect SessionWidget::targetRect() const {
    if (frame_.isNull())
        return rect();
    QSize s = frame_.size();
    s.scale(size(), Qt::KeepAspectRatio);
    return QRect(QPoint((width() - s.width()) / 2, (height() - s.height()) / 2), s);
}

void SessionWidget::paintEvent(QPaintEvent* e) {
    QPainter p(this);
    if (frame_.isNull()) {
        p.fillRect(e->rect(), Qt::black);
        p.setPen(Qt::gray);
        p.drawText(rect(), Qt::AlignCenter, tr("Connecting…"));
        return;
    }
    const QRect t = targetRect();
    // Only the letterbox bars are filled, and only the exposed part of the frame is drawn: a
    // typical update is a small dirty rectangle, not the whole screen.
    for (const QRect& r : e->region()) {
        const QRect visible = r.intersected(t);
        if (visible != r) {
            p.save();
            p.setClipRegion(QRegion(r).subtracted(QRegion(t)));
            p.fillRect(r, Qt::black);
            p.restore();
        }
        if (visible.isEmpty())
            continue;
        if (t.size() == frame_.size()) {
            p.drawImage(visible.topLeft(), frame_, visible.translated(-t.topLeft()));
        } else {
            const double sx = double(frame_.width()) / t.width(), sy = double(frame_.height()) / t.height();
            const QRectF src((visible.left() - t.left()) * sx, (visible.top() - t.top()) * sy,
                             visible.width() * sx, visible.height() * sy);
            p.setRenderHint(QPainter::SmoothPixmapTransform);
            p.drawImage(QRectF(visible), frame_, src);
        }
    }
    if (serverMouse() && cursorVisible_ && !cursorImage_.isNull())
        p.drawImage(cursorRect().adjusted(1, 1, -1, -1), cursorImage_);
}

void SessionWidget::resizeEvent(QResizeEvent*) {
    resizeDebounce_.start();
}

QPoint SessionWidget::toGuest(QPointF local) const {
    const QRect t = targetRect();
    if (frame_.isNull() || t.isEmpty())
        return {};
    const double x = (local.x() - t.left()) * frame_.width() / t.width();
    const double y = (local.y() - t.top()) * frame_.height() / t.height();
    return QPoint(std::clamp(int(x), 0, frame_.width() - 1), std::clamp(int(y), 0, frame_.height() - 1));
}

void SessionWidget::keyPressEvent(QKeyEvent* e) {
    // remote-viewer's default release-cursor hotkey.
    if (grabbed_ && e->key() == Qt::Key_F12 && (e->modifiers() & Qt::ShiftModifier)) {
        session_.keyUp(0x2a); // the guest saw Shift go down; let it go up again
        releasePointer();
        return;
    }
    if (e->isAutoRepeat() && e->key() == Qt::Key_Pause)
        return;
    if (auto code = scancodeForKeyEvent(*e))
        session_.keyDown(*code);
}

void SessionWidget::keyReleaseEvent(QKeyEvent* e) {
    if (e->isAutoRepeat())
        return; // the guest's own typematic repeat takes over while the key is held
    if (auto code = scancodeForKeyEvent(*e))
        session_.keyUp(*code);
}

void SessionWidget::mouseMoveEvent(QMouseEvent* e) {
    if (!serverMouse()) {
        session_.mousePosition(toGuest(e->position()), spiceButtonMask(e->buttons()));
        return;
    }
    if (!grabbed_)
        return;
    // Server mode: the guest only takes relative motion. Keep the local pointer pinned to the
    // centre so it never hits the screen edge, and send how far it moved.
    const QPoint delta = e->position().toPoint() - rect().center();
    if (delta.isNull())
        return;
    session_.mouseMotion(delta, spiceButtonMask(e->buttons()));
    QCursor::setPos(mapToGlobal(rect().center()));
}

void SessionWidget::mousePressEvent(QMouseEvent* e) {
    if (serverMouse()) {
        if (!grabbed_) {
            grabPointer(); // the first click only captures the pointer
            return;
        }
    } else {
        session_.mousePosition(toGuest(e->position()), spiceButtonMask(e->buttons()));
    }
    session_.mousePress(spiceButton(e->button()), spiceButtonMask(e->buttons()));
}

void SessionWidget::mouseReleaseEvent(QMouseEvent* e) {
    if (serverMouse() && !grabbed_)
        return;
    session_.mouseRelease(spiceButton(e->button()), spiceButtonMask(e->buttons()));
}

void SessionWidget::wheelEvent(QWheelEvent* e) {
    // SPICE has wheel "buttons": one press+release per notch (spice.proto mouse_button UP/DOWN).
    const int notches = e->angleDelta().y() / 120;
    const uint8_t button = notches > 0 ? SPICE_MOUSE_BUTTON_UP : SPICE_MOUSE_BUTTON_DOWN;
    const uint16_t mask = spiceButtonMask(e->buttons());
    for (int i = 0; i < std::abs(notches); ++i) {
        session_.mousePress(button, mask);
        session_.mouseRelease(button, mask);
    }
}

} // namespace saffron
