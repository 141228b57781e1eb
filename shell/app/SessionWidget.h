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

private:
    void onSurface(SurfacePtr s);
    void onUpdate(const QRect& dirty);
    QPoint toGuest(QPointF local) const;

    Session& session_;
    SurfacePtr surface_;
    QImage frame_;
    QTimer resizeDebounce_;
};

} // namespace saffron
