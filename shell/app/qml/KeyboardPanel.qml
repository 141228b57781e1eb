import QtQuick
import QtQuick.VirtualKeyboard

// Qt Virtual Keyboard for touch kiosks: slides in when a text field (password, PIN) has focus.
// Loaded only when the administrator enables it, so systems without the module still start.
InputPanel {
    id: panel
    objectName: "virtualKeyboard"
    y: active ? parent.height - height : parent.height
    Behavior on y { NumberAnimation { duration: 150 } }
}
