#pragma once

#include <QMetaObject>
#include <QQuickItem>
#include <atomic>

class QSGRectangleNode;

namespace saffron {

// Makes every frame the software scene graph hands a Wayland compositor carry damage.
//
// Qt's software render loop presents a frame even when nothing in it changed (a second update
// request in the same cycle, an animation of an item that is hidden): Qt Wayland then commits
// the buffer with a frame callback and no damage. A compositor that answers frame callbacks
// only when it repaints, and repaints only for damage, never answers that one: cage 0.1.4
// (Debian 12, wlroots 0.15) sends frame done from its output's frame handler, which runs only
// when the output is damaged. After 100 ms Qt Wayland declares the window unexposed and Qt
// Quick stops drawing it, and nothing ever damages the output again: the thin-client image
// froze on "Connecting" that way, its spinner stopped, while the GUI thread ran on (its
// watchdog never fired). With this item in the window, every presented frame repaints one
// transparent pixel in the top-left corner, so the commit always has damage and the
// compositor always answers.
//
// Only with the software scene graph on Wayland: OpenGL commits through EGL damage the whole
// buffer, and X11 has no frame callbacks. Elsewhere the item has no contents and costs
// nothing.
class FrameDamageKeeper : public QQuickItem {
    Q_OBJECT
public:
    explicit FrameDamageKeeper(QQuickItem* parent = nullptr);
    ~FrameDamageKeeper() override;

    // Whether `window` needs it: the software scene graph on a Wayland platform.
    static bool neededIn(QQuickWindow* window);

protected:
    void itemChange(ItemChange change, const ItemChangeData& data) override;
    QSGNode* updatePaintNode(QSGNode* old, UpdatePaintNodeData*) override;
    void releaseResources() override;

private:
    void attach(QQuickWindow* window);
    void detach();
    void markDirty(); // render thread, before the renderer runs

    bool active_ = false;
    // Owned by the scene graph; set and used on the render thread, cleared from the GUI thread
    // (the same thread with the basic software loop, not with QSG_RENDER_LOOP=threaded).
    std::atomic<QSGRectangleNode*> node_{nullptr};
    QMetaObject::Connection beforeRendering_;
};

} // namespace saffron
