#include "app/FrameDamageKeeper.h"

#include <QGuiApplication>
#include <QQuickWindow>
#include <QSGRectangleNode>
#include <QSGRendererInterface>

namespace saffron {

namespace {
// Above everything in the window, Qt Quick Controls' overlay (z 1000000) included: the
// software renderer drops nodes that opaque ones cover, and with them their damage.
constexpr qreal kOnTop = 1e9;
} // namespace

FrameDamageKeeper::FrameDamageKeeper(QQuickItem* parent) : QQuickItem(parent) {
    setZ(kOnTop);
    setSize(QSizeF(1, 1));
    setEnabled(false); // never takes input
}

FrameDamageKeeper::~FrameDamageKeeper() {
    detach();
}

bool FrameDamageKeeper::neededIn(QQuickWindow* window) {
    // The window's own renderer: QQuickWindow::graphicsApi() answers for the RHI backend and
    // says OpenGL even after setGraphicsApi(Software).
    const QSGRendererInterface* renderer = window->rendererInterface();
    return renderer && renderer->graphicsApi() == QSGRendererInterface::Software &&
           QGuiApplication::platformName().startsWith(QLatin1String("wayland"));
}

void FrameDamageKeeper::itemChange(ItemChange change, const ItemChangeData& data) {
    if (change == ItemSceneChange) {
        detach();
        if (data.window && neededIn(data.window))
            attach(data.window);
    }
    QQuickItem::itemChange(change, data);
}

void FrameDamageKeeper::attach(QQuickWindow* window) {
    active_ = true;
    setFlag(ItemHasContents, true);
    // The software render loop renders on the GUI thread; the direct connection runs there,
    // after the scene graph has been synchronised and before the renderer builds its list.
    beforeRendering_ = connect(window, &QQuickWindow::beforeRendering, this, &FrameDamageKeeper::markDirty,
                               Qt::DirectConnection);
    update();
}

void FrameDamageKeeper::detach() {
    disconnect(beforeRendering_);
    active_ = false;
    node_ = nullptr;
    setFlag(ItemHasContents, false);
}

void FrameDamageKeeper::markDirty() {
    // A material change makes the software renderer repaint the node's rectangle (what lies
    // under it, as the node itself is transparent) and add it to the frame's flush region.
    if (QSGRectangleNode* node = node_.load())
        node->markDirty(QSGNode::DirtyMaterial);
}

QSGNode* FrameDamageKeeper::updatePaintNode(QSGNode* old, UpdatePaintNodeData*) {
    if (!active_) {
        delete old;
        node_ = nullptr;
        return nullptr;
    }
    auto* node = static_cast<QSGRectangleNode*>(old);
    if (!node) {
        node = window()->createRectangleNode();
        node->setColor(Qt::transparent);
    }
    node->setRect(QRectF(0, 0, 1, 1));
    node_ = node;
    return node;
}

void FrameDamageKeeper::releaseResources() {
    node_ = nullptr;
}

} // namespace saffron
