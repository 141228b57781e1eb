#pragma once

#include <QRectF>
#include <QSGImageNode>

namespace saffron {

// Qt's software nodes mark themselves dirty on every setRect, changed or not, and the software
// renderer then repaints all they cover: the item's black backdrop, set on each update, made
// every cursor blink a window-sized fill and flush (callgrind, idle shell on a SeaBIOS screen:
// 69 % of its instructions, 4.3x less without). So geometry is set only when it changed.
template <typename Node> void setRectIfChanged(Node* node, const QRectF& rect) {
    if (node->rect() != rect)
        node->setRect(rect);
}

inline void placeImage(QSGImageNode* node, const QRectF& rect, const QRectF& source,
                       QSGTexture::Filtering filtering) {
    setRectIfChanged(node, rect);
    if (node->sourceRect() != source)
        node->setSourceRect(source);
    if (node->filtering() != filtering)
        node->setFiltering(filtering);
}

} // namespace saffron
