#pragma once

#include "Session.h"

#include <QElapsedTimer>
#include <QImage>
#include <QKeyCombination>
#include <QPointer>
#include <QQuickItem>
#include <QRegion>
#include <QSet>
#include <QTimer>

namespace saffron {

// Shows a session's primary surface in Qt Quick and forwards keyboard and mouse to the guest.
// With a GPU (RHI) the surface is one texture that receives only the redrawn regions, and video
// streams are YUV layers above it, converted by a shader (VideoLayerNode); with the software
// scene graph the surface is cut into tiles, a redrawn region replaces the tiles it touches, and
// video streams are RGB pictures the session converted, shown without a copy
// (SoftwareVideoLayerNode).
//
// Keys: every key goes to the guest (Ctrl+Alt+Del and Alt+Tab included) except the configured
// hotkeys, which raise hotkeyActivated(action) instead. Keys still held in the guest when the
// item loses focus or a hotkey fires are released there, so nothing sticks.
class SurfaceItem : public QQuickItem {
    Q_OBJECT
    Q_PROPERTY(QObject* session READ sessionObject WRITE setSessionObject NOTIFY sessionChanged)
    // Which of the session's displays (display channel id) this item shows; 0 by default.
    Q_PROPERTY(int display READ display WRITE setDisplay NOTIFY displayChanged)
    // Which head of that display (Session::monitorHeads: one device driving several monitors)
    // this item shows; -1 (the default) shows the whole surface.
    Q_PROPERTY(int head READ head WRITE setHead NOTIFY headChanged)
    Q_PROPERTY(QString scaling READ scaling WRITE setScaling NOTIFY scalingChanged)
    Q_PROPERTY(bool pointerGrabbed READ pointerGrabbed NOTIFY pointerGrabbedChanged)
    Q_PROPERTY(bool serverMouse READ serverMouse NOTIFY serverMouseChanged)
    Q_PROPERTY(QSize guestSize READ guestSize NOTIFY guestSizeChanged)
    Q_PROPERTY(bool resizeGuest READ resizeGuest WRITE setResizeGuest NOTIFY resizeGuestChanged)
    Q_PROPERTY(QVariantMap hotkeys READ hotkeys WRITE setHotkeys NOTIFY hotkeysChanged)
    Q_PROPERTY(qulonglong uploadedBytes READ uploadedBytes NOTIFY framePresented)
public:
    explicit SurfaceItem(QQuickItem* parent = nullptr);
    ~SurfaceItem() override;

    QObject* sessionObject() const;
    void setSessionObject(QObject* session);
    int display() const { return display_; }
    void setDisplay(int display);
    int head() const { return head_; }
    void setHead(int head);
    QString scaling() const { return scaling_; }
    void setScaling(const QString& mode);
    bool pointerGrabbed() const { return grabbed_; }
    bool serverMouse() const;
    QSize guestSize() const { return surfaceSize_; }
    bool resizeGuest() const { return resizeGuest_; }
    void setResizeGuest(bool on);
    QVariantMap hotkeys() const { return hotkeyNames_; }
    // action -> key sequence ("Shift+F12"); unparsable sequences are ignored with a warning.
    void setHotkeys(const QVariantMap& map);
    qulonglong uploadedBytes() const { return uploadedBytes_; }

    // Where the guest picture (the head shown, or the whole surface) lies in item coordinates
    // for the current scaling mode.
    Q_INVOKABLE QRectF targetRect() const;
    // Sends a key combination to the guest as presses then releases (e.g. Ctrl+Alt+Del).
    Q_INVOKABLE void sendKeys(const QStringList& keys);
    Q_INVOKABLE void releasePointer();

signals:
    void sessionChanged();
    void displayChanged();
    void headChanged();
    void scalingChanged();
    void pointerGrabbedChanged();
    void serverMouseChanged();
    void guestSizeChanged();
    void resizeGuestChanged();
    void hotkeysChanged();
    void hotkeyActivated(const QString& action);
    void framePresented();

protected:
    QSGNode* updatePaintNode(QSGNode* old, UpdatePaintNodeData*) override;
    void updateSoftwareTiles(struct SessionNode* root, QQuickWindow* win);
    void updateSoftwareLayers(struct SessionNode* root, const std::vector<VideoLayer>& layers,
                              QQuickWindow* win);
    void updateVideoLayers(struct SessionNode* root, const std::vector<VideoLayer>& layers);
    void geometryChange(const QRectF& newGeometry, const QRectF& oldGeometry) override;
    void keyPressEvent(QKeyEvent*) override;
    void keyReleaseEvent(QKeyEvent*) override;
    void mousePressEvent(QMouseEvent*) override;
    void mouseMoveEvent(QMouseEvent*) override;
    void mouseReleaseEvent(QMouseEvent*) override;
    void hoverMoveEvent(QHoverEvent*) override;
    void wheelEvent(QWheelEvent*) override;
    void focusOutEvent(QFocusEvent*) override;
    void releaseResources() override;
    void itemChange(ItemChange change, const ItemChangeData& data) override;

private:
    void onSurface(SurfacePtr surface);
    void onUpdate(const QRect& dirty);
    void applyVideoLayers();
    void onCursorShape(CursorShapePtr shape);
    void applyCursor();
    void grabPointer();
    void releaseHeldKeys();
    void sendMonitors();
    QPoint toGuest(QPointF local) const;
    QString hotkeyFor(const QKeyEvent& e) const;

    void attach(); // (re)connects to display_ of session_
    void detach();
    // The part of the surface shown: head_'s rectangle, or the whole surface.
    void updateView();
    // Where the whole surface lies in item coordinates (beyond the item where a head is shown:
    // the item clips).
    QRectF surfaceRect() const;
    int monitorIndex() const { return head_ >= 0 ? head_ : display_; }

    QPointer<Session> session_;
    int display_ = 0;
    int head_ = -1;
    QRect view_; // in surface pixels
    SurfacePtr surface_;
    QSize surfaceSize_;
    QRegion dirty_;
    bool newSurface_ = false;
    QString scaling_ = QStringLiteral("fit");
    bool resizeGuest_ = true;
    QTimer resizeDebounce_;
    QSize lastMonitors_;
    uint32_t mouseMode_ = 0;
    bool grabbed_ = false;
    QImage cursorImage_;
    bool cursorImageChanged_ = false;
    QPoint cursorHot_;
    QPoint cursorPos_;
    bool cursorVisible_ = true;
    QSet<AtScancode> held_;
    QVariantMap hotkeyNames_;
    QHash<int, QString> hotkeys_; // QKeyCombination::toCombined() -> action
    quint64 uploadedBytes_ = 0;
};

} // namespace saffron
