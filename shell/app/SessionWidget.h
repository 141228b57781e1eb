#pragma once

#include "Session.h"

#include <QImage>
#include <QTimer>
#include <QWidget>

namespace saffron {

// The demo window's view of a session: the primary surface scaled to fit (aspect kept),
// updated region by region, with keyboard and mouse forwarded to the guest and the window size
// sent to the agent as the desired resolution. The Qt Quick kiosk shell replaces it.
class SessionWidget : public QWidget {
    Q_OBJECT
public:
    explicit SessionWidget(Session& session, QWidget* parent = nullptr);

    const QImage& frame() const { return frame_; }
    QRect targetRect() const;
    bool pointerGrabbed() const { return grabbed_; }

protected:
    void paintEvent(QPaintEvent*) override;
    void resizeEvent(QResizeEvent*) override;
    void keyPressEvent(QKeyEvent*) override;
    void keyReleaseEvent(QKeyEvent*) override;
    void mouseMoveEvent(QMouseEvent*) override;
    void mousePressEvent(QMouseEvent*) override;
    void mouseReleaseEvent(QMouseEvent*) override;
    void wheelEvent(QWheelEvent*) override;
    bool focusNextPrevChild(bool) override { return false; } // Tab belongs to the guest

signals:
    void pointerGrabChanged(bool grabbed);

private:
    void onSurface(SurfacePtr s);
    void setCursorShape(CursorShapePtr shape);
    void applyCursor();
    void grabPointer();
    void releasePointer();
    bool serverMouse() const;
    QRect cursorRect() const;
    void onUpdate(const QRect& dirty);
    QPoint toGuest(QPointF local) const;

    Session& session_;
    SurfacePtr surface_;
    QImage frame_;
    QTimer resizeDebounce_;
    uint32_t mouseMode_ = 0;
    bool grabbed_ = false;
    QImage cursorImage_;
    QPoint cursorHot_;
    QPoint cursorPos_; // guest coordinates, from the cursor channel
    bool cursorVisible_ = false;
};

} // namespace saffron
