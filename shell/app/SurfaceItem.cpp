#include "SurfaceItem.h"

#include "NodeGeometry.h"
#include "SoftwareVideoLayerNode.h"
#include "SurfaceTexture.h"
#include "VideoLayerNode.h"
#include "common/KeyMapping.h"

#include <QCursor>
#include <QKeySequence>
#include <QLoggingCategory>
#include <QQuickWindow>
#include <QSGImageNode>
#include <QSGRectangleNode>
#include <QSGRendererInterface>
#include <cstring>
#include <spice/enums.h>

Q_LOGGING_CATEGORY(lcView, "saffron.view")

namespace saffron {

namespace {

// Above this many rectangles one bounding upload is cheaper than many small ones (each upload
// is a separate copy and, on GL, a separate glTexSubImage2D call).
constexpr int kMaxUploadRects = 32;

// Copies one region of the surface into a tight image for upload; the surface keeps being drawn
// by the session thread, so the texture must never read its memory directly.
QImage copyRegion(const Surface& s, const QRect& r) {
    QImage out(r.size(), QImage::Format_RGB32);
    const Pixmap& p = s.pixmap;
    for (int y = 0; y < r.height(); ++y)
        std::memcpy(out.scanLine(y), p.row(r.top() + y).data() + r.left(), size_t(r.width()) * 4);
    return out;
}

// The software scene graph repaints a node as a whole when its texture changes, and scales it
// on the CPU: the picture is cut into tiles so that a small update (a blinking cursor, one
// window) repaints and rescales one tile, not the screen. 64 px: with a SeaBIOS screen whose
// text cursor blinks, the shell's idle CPU under Xvfb was 0.40-0.47 % with 64-px tiles against
// 0.83 % with 256-px ones (the 256-px tile around the cursor was rescaled at every blink). A
// full-screen 1080p update replaces 510 small textures instead of 40; video streams do not come
// this way (they are layers of their own, SoftwareVideoLayerNode).
constexpr int kSoftwareTile = 64;

// Qt Quick's software renderer (no GPU, e.g. the appliance under cage on pixman): the surface
// is shown as CPU tiles and video streams as RGB pictures the session converted.
bool isSoftwareScene(const QQuickWindow* w) {
    return w && w->rendererInterface()->graphicsApi() == QSGRendererInterface::Software;
}

} // namespace

// Transform nodes (with an identity matrix), not plain QSGNodes, hold whatever is added after
// the item was first drawn (tiles, video layers, the cursor): Qt's software renderer takes the
// position of a node added later from its parent's recorded state, and it records state for
// transform, clip and opacity nodes only. Under a plain node such a child was drawn as if the
// item sat at the window's origin (a view at x=1280 drew over the one at x=0).
struct SessionNode : QSGTransformNode {
    QSGImageNode* picture = nullptr;
    QSGTransformNode* tileLayer = nullptr; // software scene graph: one image node per tile
    std::vector<QSGImageNode*> tiles;
    std::vector<SoftwareVideoLayerNode*> softwareLayers; // software: above the tiles
    QSize tileGrid;
    QRectF tileTarget;
    QSGRectangleNode* blank = nullptr;
    QSGImageNode* cursor = nullptr;
    SurfaceTexture* texture = nullptr;   // owned by `picture`
    std::vector<VideoLayerNode*> layers; // children, between the picture and the cursor
};

namespace {

// One node per layer that `shows` accepts, stacked in the layers' order above `after`: a
// stream's node is kept and updated while the stream is shown, a new one is filled before it
// joins the tree (the software renderer reads a node's texture as soon as it is inserted), and
// the nodes of streams that ended are deleted (a node unlinks itself).
template <typename Node, typename Shows, typename Update>
void syncLayerNodes(SessionNode* root, QSGNode* after, std::vector<Node*>& nodes,
                    const std::vector<VideoLayer>& layers, Shows shows, Update update) {
    std::vector<Node*> kept;
    for (const VideoLayer& l : layers) {
        if (!shows(l))
            continue;
        auto it = std::find_if(nodes.begin(), nodes.end(),
                               [&](Node* n) { return n && n->streamId() == l.streamId; });
        Node* node = nullptr;
        if (it != nodes.end()) {
            node = *it;
            *it = nullptr;
            update(node, l);
        } else {
            node = new Node;
            update(node, l);
            root->insertChildNodeAfter(node, after);
        }
        after = node;
        kept.push_back(node);
    }
    for (Node* n : nodes)
        delete n; // null entries were kept
    nodes = std::move(kept);
}

std::optional<int> qtKeyForName(const QString& name) {
    const QString n = name.trimmed().toLower();
    if (n == QLatin1String("ctrl") || n == QLatin1String("control"))
        return Qt::Key_Control;
    if (n == QLatin1String("alt"))
        return Qt::Key_Alt;
    if (n == QLatin1String("shift"))
        return Qt::Key_Shift;
    if (n == QLatin1String("super") || n == QLatin1String("meta") || n == QLatin1String("win"))
        return Qt::Key_Meta;
    const QKeySequence seq = QKeySequence::fromString(name, QKeySequence::PortableText);
    if (seq.isEmpty())
        return std::nullopt;
    return int(seq[0].key());
}

} // namespace

SurfaceItem::SurfaceItem(QQuickItem* parent) : QQuickItem(parent) {
    setFlag(ItemHasContents);
    setFlag(ItemIsFocusScope, false);
    setActiveFocusOnTab(false);
    setAcceptedMouseButtons(Qt::AllButtons);
    setAcceptHoverEvents(true);
    resizeDebounce_.setSingleShot(true);
    // The guest re-lays out its desktop on every monitors-config: wait until the window stops
    // changing size (a user dragging the edge, or a compositor's initial configure sequence).
    resizeDebounce_.setInterval(300);
    connect(&resizeDebounce_, &QTimer::timeout, this, &SurfaceItem::sendMonitors);
    setHotkeys({{QStringLiteral("release-cursor"), QStringLiteral("Shift+F12")}});
}

SurfaceItem::~SurfaceItem() {
    detach();
}

QObject* SurfaceItem::sessionObject() const {
    return session_.data();
}

void SurfaceItem::setSessionObject(QObject* object) {
    auto* session = qobject_cast<Session*>(object);
    if (session == session_)
        return;
    detach();
    session_ = session;
    attach();
    emit sessionChanged();
}

void SurfaceItem::setDisplay(int display) {
    if (display == display_ || display < 0)
        return;
    detach();
    display_ = display;
    attach();
    emit displayChanged();
}

void SurfaceItem::setHead(int head) {
    head = std::max(head, -1);
    if (head == head_)
        return;
    if (session_ && !lastMonitors_.isEmpty())
        session_->setMonitorSize(monitorIndex(), {});
    head_ = head;
    lastMonitors_ = {};
    setClip(head_ >= 0);
    updateView();
    resizeDebounce_.start();
    emit headChanged();
}

void SurfaceItem::updateView() {
    const QRect whole(QPoint(0, 0), surfaceSize_);
    QRect view = whole;
    if (head_ >= 0 && session_) {
        const QList<MonitorHead> heads = session_->monitorHeads();
        if (head_ < heads.size())
            view = heads[head_].rect.intersected(whole);
        else if (!view_.isEmpty() && whole.contains(view_))
            // spice-server reports a one-head layout whenever a primary is created
            // (display_channel_set_monitors_config_to_primary), just before the driver's own:
            // keep showing this head's part meanwhile.
            view = view_;
    }
    if (view.isEmpty())
        view = whole;
    if (view == view_)
        return;
    view_ = view;
    newSurface_ = true; // every node is placed anew
    update();
}

void SurfaceItem::detach() {
    if (!session_)
        return;
    session_->disconnect(this);
    // This display no longer asks for a size (its window goes, or shows another display).
    if (!lastMonitors_.isEmpty())
        session_->setMonitorSize(monitorIndex(), {});
    releasePointer();
    held_.clear();
}

void SurfaceItem::attach() {
    surface_.reset();
    surfaceSize_ = {};
    cursorImage_ = QImage();
    cursorImageChanged_ = true;
    mouseMode_ = 0;
    lastMonitors_ = {};
    view_ = {};
    if (session_) {
        connect(session_, &Session::displaySurfaceChanged, this, [this](int display, SurfacePtr s) {
            if (display == display_)
                onSurface(std::move(s));
        });
        connect(session_, &Session::displayUpdated, this, [this](int display, const QRect& dirty) {
            if (display == display_)
                onUpdate(dirty);
        });
        connect(session_, &Session::displayLayersChanged, this, [this](int display) {
            if (display == display_)
                update();
        });
        connect(session_, &Session::monitorsConfigChanged, this, &SurfaceItem::updateView);
        connect(session_, &Session::cursorShapeChanged, this, &SurfaceItem::onCursorShape);
        connect(session_, &Session::cursorMoved, this, [this](const QPoint& p) {
            cursorPos_ = p;
            if (serverMouse())
                update();
        });
        connect(session_, &Session::cursorVisibilityChanged, this, [this](bool v) {
            cursorVisible_ = v;
            update();
        });
        connect(session_, &Session::mouseModeChanged, this, [this](uint32_t mode) {
            mouseMode_ = mode;
            if (!serverMouse())
                releasePointer();
            applyCursor();
            emit serverMouseChanged();
        });
        connect(session_, &Session::agentConnectedChanged, this, [this](bool on) {
            if (on) {
                lastMonitors_ = {};
                resizeDebounce_.start();
            }
        });
        applyVideoLayers();
        if (SurfacePtr s = session_->displaySurface(display_))
            onSurface(s);
    }
    emit guestSizeChanged();
    update();
}

void SurfaceItem::setScaling(const QString& mode) {
    const QString m =
        mode == QLatin1String("1:1") || mode == QLatin1String("fill") ? mode : QStringLiteral("fit");
    if (m == scaling_)
        return;
    scaling_ = m;
    // 1:1 and fill show the guest at its own size; only "fit" asks the guest to match the window.
    emit scalingChanged();
    update();
}

void SurfaceItem::setResizeGuest(bool on) {
    if (on == resizeGuest_)
        return;
    resizeGuest_ = on;
    emit resizeGuestChanged();
    if (on)
        resizeDebounce_.start();
}

void SurfaceItem::setHotkeys(const QVariantMap& map) {
    hotkeys_.clear();
    hotkeyNames_.clear();
    for (auto it = map.begin(); it != map.end(); ++it) {
        const QString text = it.value().toString();
        if (text.isEmpty())
            continue; // an empty binding unbinds the action (virt-viewer semantics)
        const QKeySequence seq = QKeySequence::fromString(text, QKeySequence::PortableText);
        if (seq.isEmpty() || seq.count() != 1) {
            qCWarning(lcView).noquote()
                << "hotkey" << it.key() << "=" << text << "is not one key combination; ignored";
            continue;
        }
        hotkeys_.insert(seq[0].toCombined(), it.key());
        hotkeyNames_.insert(it.key(), text);
    }
    emit hotkeysChanged();
}

bool SurfaceItem::serverMouse() const {
    return mouseMode_ == SPICE_MOUSE_MODE_SERVER;
}

void SurfaceItem::onSurface(SurfacePtr s) {
    surface_ = std::move(s);
    surfaceSize_ = surface_ ? QSize(surface_->pixmap.width, surface_->pixmap.height) : QSize();
    updateView();
    newSurface_ = true;
    dirty_ = QRegion();
    applyVideoLayers();
    emit guestSizeChanged();
    update();
}

void SurfaceItem::applyVideoLayers() {
    // Video streams are layers above the surface instead of pixels converted into it: YUV
    // converted by a shader with a GPU (VideoLayerNode), RGB pictures shown as they are with the
    // software renderer (SoftwareVideoLayerNode). SAFFRON_VIDEO_LAYERS=0 turns that off. Decided
    // as soon as the item has both a session and a window, so that a stream's first frames are
    // layers too.
    if (!session_ || !window())
        return;
    VideoLayerMode mode = isSoftwareScene(window()) ? VideoLayerMode::Rgb : VideoLayerMode::Yuv;
    if (qgetenv("SAFFRON_VIDEO_LAYERS") == "0")
        mode = VideoLayerMode::Off;
    session_->setVideoLayers(mode);
}

void SurfaceItem::itemChange(ItemChange change, const ItemChangeData& data) {
    QQuickItem::itemChange(change, data);
    if (change == ItemSceneChange)
        applyVideoLayers();
}

void SurfaceItem::onUpdate(const QRect& dirty) {
    if (!surface_)
        return;
    dirty_ += dirty;
    update();
}

QRectF SurfaceItem::surfaceRect() const {
    const QRectF t = targetRect();
    if (surfaceSize_.isEmpty() || view_.isEmpty())
        return t;
    const qreal sx = t.width() / view_.width(), sy = t.height() / view_.height();
    return QRectF(t.left() - view_.left() * sx, t.top() - view_.top() * sy, surfaceSize_.width() * sx,
                  surfaceSize_.height() * sy);
}

QRectF SurfaceItem::targetRect() const {
    if (surfaceSize_.isEmpty() || view_.isEmpty())
        return boundingRect();
    const qreal dpr = window() ? window()->effectiveDevicePixelRatio() : 1.0;
    QSizeF s = QSizeF(view_.size()) / dpr; // 1:1 = one guest pixel per device pixel
    if (scaling_ == QLatin1String("fit"))
        s.scale(size(), Qt::KeepAspectRatio);
    else if (scaling_ == QLatin1String("fill"))
        s.scale(size(), Qt::KeepAspectRatioByExpanding);
    return QRectF(QPointF((width() - s.width()) / 2, (height() - s.height()) / 2), s);
}

QSGNode* SurfaceItem::updatePaintNode(QSGNode* old, UpdatePaintNodeData*) {
    auto* root = static_cast<SessionNode*>(old);
    QQuickWindow* win = window();
    if (!root) {
        root = new SessionNode;
        root->blank = win->createRectangleNode();
        root->blank->setColor(Qt::black);
        root->appendChildNode(root->blank);
    }
    setRectIfChanged(root->blank, boundingRect());

    const bool software = isSoftwareScene(win);
    if (surface_ && software) {
        updateSoftwareTiles(root, win);
    } else if (root->tileLayer) {
        delete root->tileLayer; // deletes the tiles with it
        root->tileLayer = nullptr;
        root->tiles.clear();
        for (SoftwareVideoLayerNode* n : root->softwareLayers)
            delete n; // unlinks itself from the tree
        root->softwareLayers.clear();
    }
    if (!surface_ || software) {
        if (root->picture) {
            root->removeChildNode(root->picture);
            delete root->picture;
            root->picture = nullptr;
            root->texture = nullptr;
        }
        for (VideoLayerNode* n : root->layers)
            delete n; // unlinks itself from the tree
        root->layers.clear();
    } else {
        // The node joins the tree only once it has a texture: the software renderer reads
        // the texture as soon as a node is inserted.
        const bool fresh = !root->picture;
        if (fresh) {
            root->picture = win->createImageNode();
            root->picture->setOwnsTexture(true);
        }
        { // GPU: one texture, only the redrawn rectangles uploaded
            if (newSurface_ || !root->texture || root->texture->textureSize() != surfaceSize_) {
                auto* tex = new SurfaceTexture(surfaceSize_);
                root->texture = tex;
                root->picture->setTexture(tex);
                dirty_ = QRegion(surface_->bounds());
            }
            // One locked section per frame: the layers and the redrawn pixels of the same moment.
            QMutexLocker lock(&surface_->mutex);
            const std::vector<VideoLayer> layers = surface_->layers;
            // A layer that went away left its picture in the surface (VideoStreams settles it
            // there before taking the layer down): upload that area in this same frame.
            for (VideoLayerNode* n : root->layers)
                if (std::none_of(layers.begin(), layers.end(),
                                 [&](const VideoLayer& l) { return l.streamId == n->streamId(); }))
                    dirty_ += n->dest();
            if (!dirty_.isEmpty()) {
                const QRect bounds = surface_->bounds();
                const bool many = dirty_.rectCount() > kMaxUploadRects;
                const auto queue = [&](const QRect& r) {
                    const QRect c = r.intersected(bounds);
                    if (!c.isEmpty())
                        root->texture->queueUpload(copyRegion(*surface_, c), c.topLeft());
                };
                if (many)
                    queue(dirty_.boundingRect());
                else
                    for (const QRect& r : dirty_)
                        queue(r);
                dirty_ = QRegion();
                root->picture->markDirty(QSGNode::DirtyMaterial);
            }
            lock.unlock(); // the layers hold their pictures themselves
            if (fresh)
                root->insertChildNodeAfter(root->picture, root->blank);
            updateVideoLayers(root, layers);
            uploadedBytes_ = root->texture->uploadedBytes();
            for (VideoLayerNode* n : root->layers)
                uploadedBytes_ += n->uploadedBytes();
        }
        newSurface_ = false;
        const QRectF target = surfaceRect();
        const bool exact =
            qFuzzyCompare(target.width() * win->effectiveDevicePixelRatio(), qreal(surfaceSize_.width()));
        placeImage(root->picture, target, QRectF(QPointF(0, 0), QSizeF(surfaceSize_)),
                   exact ? QSGTexture::Nearest : QSGTexture::Linear);
    }

    // Server mouse mode: the guest owns the pointer and the cursor channel says where it is, so
    // its image is drawn here (the local pointer is hidden). Client mode uses the local pointer.
    const bool drawCursor = surface_ && serverMouse() && cursorVisible_ && !cursorImage_.isNull();
    if (!drawCursor || cursorImageChanged_) {
        if (root->cursor) {
            root->removeChildNode(root->cursor);
            delete root->cursor;
            root->cursor = nullptr;
        }
        cursorImageChanged_ = false;
    }
    if (drawCursor) {
        if (!root->cursor) {
            root->cursor = win->createImageNode();
            root->cursor->setOwnsTexture(true);
            root->cursor->setTexture(win->createTextureFromImage(cursorImage_));
            root->appendChildNode(root->cursor);
        }
        const QRectF t = surfaceRect();
        const qreal sx = t.width() / surfaceSize_.width(), sy = t.height() / surfaceSize_.height();
        const QPointF tl = cursorPos_ - cursorHot_;
        setRectIfChanged(root->cursor, QRectF(t.left() + tl.x() * sx, t.top() + tl.y() * sy,
                                              cursorImage_.width() * sx, cursorImage_.height() * sy));
    }
    emit framePresented();
    return root;
}

void SurfaceItem::updateVideoLayers(SessionNode* root, const std::vector<VideoLayer>& layers) {
    const QRectF target = surfaceRect();
    syncLayerNodes(
        root, root->picture, root->layers, layers, [](const VideoLayer& l) { return bool(l.frame); },
        [&](VideoLayerNode* node, const VideoLayer& l) { node->update(l, target, surfaceSize_); });
}

void SurfaceItem::updateSoftwareTiles(SessionNode* root, QQuickWindow* win) {
    const QRect bounds(QPoint(0, 0), surfaceSize_);
    const QSize grid((surfaceSize_.width() + kSoftwareTile - 1) / kSoftwareTile,
                     (surfaceSize_.height() + kSoftwareTile - 1) / kSoftwareTile);
    const auto tileRect = [&](int i) {
        const int col = i % grid.width(), row = i / grid.width();
        return QRect(col * kSoftwareTile, row * kSoftwareTile, kSoftwareTile, kSoftwareTile)
            .intersected(bounds);
    };
    const bool rebuild = !root->tileLayer || newSurface_ || root->tileGrid != grid;
    // One locked section: the tiles and the layers of the same moment. Only the copies are made
    // under the lock; the session thread may draw again while the textures are made.
    std::vector<std::pair<int, QImage>> copies; // tile index, its pixels
    QMutexLocker lock(&surface_->mutex);
    const std::vector<VideoLayer> layers = surface_->layers;
    // A layer that went away left its picture in the surface (VideoStreams settles it there
    // before taking the layer down): those tiles are redrawn in this same frame.
    for (const SoftwareVideoLayerNode* n : root->softwareLayers)
        if (std::none_of(layers.begin(), layers.end(),
                         [&](const VideoLayer& l) { return l.streamId == n->streamId(); }))
            dirty_ += n->dest();
    const int count = grid.width() * grid.height();
    for (int i = 0; i < count; ++i)
        if (rebuild || dirty_.intersects(tileRect(i)))
            copies.emplace_back(i, copyRegion(*surface_, tileRect(i)));
    lock.unlock();
    dirty_ = QRegion();

    if (rebuild) {
        delete root->tileLayer;
        root->tiles.clear();
        root->tileLayer = new QSGTransformNode;
        root->tileGrid = grid;
        root->tileTarget = {};
        for (const auto& [i, pixels] : copies) {
            QSGImageNode* tile = win->createImageNode();
            tile->setOwnsTexture(true);
            tile->setTexture(win->createTextureFromImage(pixels));
            root->tileLayer->appendChildNode(tile);
            root->tiles.push_back(tile);
        }
        root->insertChildNodeAfter(root->tileLayer, root->blank);
    } else {
        for (const auto& [i, pixels] : copies)
            root->tiles[size_t(i)]->setTexture(win->createTextureFromImage(pixels));
    }
    newSurface_ = false;
    const QRectF target = surfaceRect();
    if (target != root->tileTarget) { // only walk the tiles when the picture moved
        root->tileTarget = target;
        const qreal sx = target.width() / surfaceSize_.width(), sy = target.height() / surfaceSize_.height();
        const bool exact =
            qFuzzyCompare(target.width() * win->effectiveDevicePixelRatio(), qreal(surfaceSize_.width()));
        for (int i = 0; i < int(root->tiles.size()); ++i) {
            const QRect r = tileRect(i);
            placeImage(root->tiles[size_t(i)],
                       QRectF(target.left() + r.left() * sx, target.top() + r.top() * sy, r.width() * sx,
                              r.height() * sy),
                       QRectF(QPointF(0, 0), QSizeF(r.size())),
                       exact ? QSGTexture::Nearest : QSGTexture::Linear);
        }
    }
    updateSoftwareLayers(root, layers, win);
}

void SurfaceItem::updateSoftwareLayers(SessionNode* root, const std::vector<VideoLayer>& layers,
                                       QQuickWindow* win) {
    const QRectF target = surfaceRect();
    syncLayerNodes(
        root, root->tileLayer, root->softwareLayers, layers,
        [](const VideoLayer& l) { return l.rgb || l.frame; },
        [&](SoftwareVideoLayerNode* node, const VideoLayer& l) {
            node->update(l, target, surfaceSize_, win);
        });
}

void SurfaceItem::releaseResources() {
    // The scene graph is going away (window closed or hidden): the next paint rebuilds the
    // texture from the full surface.
    newSurface_ = true;
}

void SurfaceItem::geometryChange(const QRectF& newGeometry, const QRectF& oldGeometry) {
    QQuickItem::geometryChange(newGeometry, oldGeometry);
    if (newGeometry.size() != oldGeometry.size()) {
        resizeDebounce_.start();
        update();
    }
}

void SurfaceItem::sendMonitors() {
    if (!session_ || !resizeGuest_ || scaling_ != QLatin1String("fit") || !window())
        return;
    const QSize px = (size() * window()->effectiveDevicePixelRatio()).toSize();
    // spice-vdagent and the QXL driver want widths that are a multiple of 8.
    const QSize want(px.width() & ~7, px.height());
    if (want.width() < 320 || want.height() < 200 || want == lastMonitors_)
        return;
    lastMonitors_ = want;
    session_->setMonitorSize(monitorIndex(), want);
}

void SurfaceItem::onCursorShape(CursorShapePtr shape) {
    if (shape) {
        const Pixmap& p = shape->image;
        cursorImage_ = QImage(reinterpret_cast<const uchar*>(p.pixels.data()), p.width, p.height, p.width * 4,
                              QImage::Format_ARGB32_Premultiplied)
                           .copy();
        cursorHot_ = QPoint(shape->hotX, shape->hotY);
    } else {
        cursorImage_ = QImage();
    }
    cursorImageChanged_ = true;
    applyCursor();
}

void SurfaceItem::applyCursor() {
    if (serverMouse())
        setCursor(Qt::BlankCursor);
    else if (!cursorImage_.isNull())
        setCursor(QCursor(QPixmap::fromImage(cursorImage_), cursorHot_.x(), cursorHot_.y()));
    else
        unsetCursor();
    update();
}

QPoint SurfaceItem::toGuest(QPointF local) const {
    const QRectF t = surfaceRect();
    if (surfaceSize_.isEmpty() || t.isEmpty())
        return {};
    const double x = (local.x() - t.left()) * surfaceSize_.width() / t.width();
    const double y = (local.y() - t.top()) * surfaceSize_.height() / t.height();
    // Positions are on the whole surface (one device: the heads share it), kept on this view.
    return QPoint(std::clamp(int(x), view_.left(), view_.right()),
                  std::clamp(int(y), view_.top(), view_.bottom()));
}

QString SurfaceItem::hotkeyFor(const QKeyEvent& e) const {
    if (hotkeys_.isEmpty())
        return {};
    const Qt::KeyboardModifiers mods = e.modifiers() & ~Qt::KeypadModifier;
    const auto it = hotkeys_.find(QKeyCombination(mods, Qt::Key(e.key())).toCombined());
    return it == hotkeys_.end() ? QString() : *it;
}

void SurfaceItem::releaseHeldKeys() {
    if (session_)
        for (AtScancode code : std::as_const(held_))
            session_->keyUp(code);
    held_.clear();
}

void SurfaceItem::keyPressEvent(QKeyEvent* e) {
    const QString action = hotkeyFor(*e);
    if (!action.isEmpty()) {
        // The guest saw the modifiers go down; let them go up before the shell acts.
        releaseHeldKeys();
        if (action == QLatin1String("release-cursor"))
            releasePointer();
        emit hotkeyActivated(action);
        return;
    }
    if (!session_)
        return;
    if (e->isAutoRepeat() && e->key() == Qt::Key_Pause)
        return;
    if (auto code = scancodeForKeyEvent(*e)) {
        held_.insert(*code);
        session_->keyDown(*code);
    }
}

void SurfaceItem::keyReleaseEvent(QKeyEvent* e) {
    if (e->isAutoRepeat() || !session_)
        return; // the guest's own typematic repeat takes over while the key is held
    if (auto code = scancodeForKeyEvent(*e)) {
        if (held_.remove(*code))
            session_->keyUp(*code);
    }
}

void SurfaceItem::focusOutEvent(QFocusEvent* e) {
    releaseHeldKeys();
    QQuickItem::focusOutEvent(e);
}

void SurfaceItem::sendKeys(const QStringList& keys) {
    if (!session_)
        return;
    QList<AtScancode> codes;
    for (const QString& k : keys) {
        const auto key = qtKeyForName(k);
        const auto code = key ? scancodeFromQtKey(*key) : std::nullopt;
        if (!code) {
            qCWarning(lcView).noquote() << "send keys: unknown key" << k;
            return;
        }
        codes << *code;
    }
    for (AtScancode c : codes)
        session_->keyDown(c);
    for (auto it = codes.crbegin(); it != codes.crend(); ++it)
        session_->keyUp(*it);
}

void SurfaceItem::grabPointer() {
    if (grabbed_ || !window())
        return;
    grabbed_ = true;
    grabMouse();
    window()->setMouseGrabEnabled(true);
    window()->setKeyboardGrabEnabled(true);
    QCursor::setPos(mapToGlobal(boundingRect().center()).toPoint());
    emit pointerGrabbedChanged();
}

void SurfaceItem::releasePointer() {
    if (!grabbed_)
        return;
    grabbed_ = false;
    ungrabMouse();
    if (window()) {
        window()->setMouseGrabEnabled(false);
        window()->setKeyboardGrabEnabled(false);
    }
    emit pointerGrabbedChanged();
}

void SurfaceItem::hoverMoveEvent(QHoverEvent* e) {
    if (session_ && !serverMouse() && !surfaceSize_.isEmpty())
        session_->mousePosition(toGuest(e->position()), 0, uint8_t(display_));
}

void SurfaceItem::mouseMoveEvent(QMouseEvent* e) {
    if (!session_)
        return;
    if (!serverMouse()) {
        session_->mousePosition(toGuest(e->position()), spiceButtonMask(e->buttons()), uint8_t(display_));
        return;
    }
    if (!grabbed_)
        return;
    // Server mode: the guest only takes relative motion. Keep the local pointer pinned to the
    // centre so it never hits the screen edge, and send how far it moved.
    const QPointF centre = boundingRect().center();
    const QPoint delta = (e->position() - centre).toPoint();
    if (delta.isNull())
        return;
    session_->mouseMotion(delta, spiceButtonMask(e->buttons()));
    QCursor::setPos(mapToGlobal(centre).toPoint());
}

void SurfaceItem::mousePressEvent(QMouseEvent* e) {
    forceActiveFocus(Qt::MouseFocusReason);
    if (!session_)
        return;
    if (serverMouse()) {
        if (!grabbed_) {
            grabPointer(); // the first click only captures the pointer
            return;
        }
    } else {
        session_->mousePosition(toGuest(e->position()), spiceButtonMask(e->buttons()), uint8_t(display_));
    }
    session_->mousePress(spiceButton(e->button()), spiceButtonMask(e->buttons()));
}

void SurfaceItem::mouseReleaseEvent(QMouseEvent* e) {
    if (!session_ || (serverMouse() && !grabbed_))
        return;
    session_->mouseRelease(spiceButton(e->button()), spiceButtonMask(e->buttons()));
}

void SurfaceItem::wheelEvent(QWheelEvent* e) {
    if (!session_)
        return;
    // SPICE has wheel "buttons": one press+release per notch (spice.proto mouse_button UP/DOWN).
    const int notches = e->angleDelta().y() / 120;
    const uint8_t button = notches > 0 ? SPICE_MOUSE_BUTTON_UP : SPICE_MOUSE_BUTTON_DOWN;
    const uint16_t mask = spiceButtonMask(e->buttons());
    for (int i = 0; i < std::abs(notches); ++i) {
        session_->mousePress(button, mask);
        session_->mouseRelease(button, mask);
    }
}

} // namespace saffron
