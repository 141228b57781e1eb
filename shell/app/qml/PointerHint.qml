import QtQuick
import Saffron.Shell 1.0

// Shown by SessionView while the pointer is grabbed (server mouse mode): how to get it back.
Rectangle {
    objectName: "pointerCapturedHint"
    width: grabText.implicitWidth + 12
    height: grabText.implicitHeight + 12
    color: "#a0000000"
    radius: 4
    Text {
        id: grabText
        anchors.centerIn: parent
        text: qsTr("Pointer captured – press %1 to release it").arg(Config.sessionHotkeys["release-cursor"] || "Shift+F12")
        color: "white"
    }
}
