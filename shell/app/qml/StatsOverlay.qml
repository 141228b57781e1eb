import QtQuick
import QtQuick.Controls
import Saffron.Shell 1.0

// Live figures for support calls: how fast the picture updates, what decoding costs, how much
// the network carries and what gets dropped.
Rectangle {
    objectName: "statsOverlay"
    width: column.implicitWidth + 24
    height: column.implicitHeight + 16
    radius: 6
    color: "#c0101418"
    readonly property var s: Controller.stats

    Column {
        id: column
        x: 12; y: 8
        spacing: 2
        Repeater {
            model: [
                qsTr("Updates: %1/s").arg((view_s("fps")).toFixed(1)),
                qsTr("Video: %1 fps").arg((view_s("videoFps")).toFixed(1)),
                qsTr("Image decode: %1 ms").arg((view_s("imageDecodeMs")).toFixed(2)),
                qsTr("Video decode: %1 ms").arg((view_s("videoDecodeMs")).toFixed(2)),
                s.videoConversion ? qsTr("Video colour conversion: %1").arg(s.videoConversion) : "",
                qsTr("Arrival to screen: %1 ms").arg((view_s("latencyMs")).toFixed(1)),
                qsTr("Network: %1 Mbit/s").arg((view_s("mbitPerSec")).toFixed(2)),
                qsTr("Dropped frames: %1").arg(s.drops !== undefined ? s.drops : 0),
                qsTr("Desktop: %1").arg(s.size || "–"),
                s.decoders ? qsTr("Decoders: %1").arg(s.decoders) : ""
            ]
            Label {
                text: modelData
                visible: text !== ""
                color: "white"
                font.family: "monospace"
                font.pixelSize: 13
            }
        }
    }
    function view_s(key) { return s[key] !== undefined ? s[key] : 0 }
}
