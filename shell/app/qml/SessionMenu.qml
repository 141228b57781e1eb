import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Saffron.Shell 1.0

// The in-session menu: keys the local keyboard cannot send, view settings, statistics, and
// leaving the session (never in kiosk mode).
Popup {
    id: menu
    objectName: "sessionMenu"
    property var surface
    property bool fullScreen: false
    signal toggleFullScreenRequested()
    modal: true
    focus: true
    padding: 16
    width: Math.min(parent ? parent.width - 40 : 640, 720)
    // A small window (a BIOS screen at 720x400, a kiosk at 1024x600) does not fit the whole menu:
    // it scrolls instead of running off the screen.
    height: Math.min(implicitContentHeight + topPadding + bottomPadding, parent ? parent.height - 24 : 600)
    background: Rectangle { color: "#f0202830"; radius: 8 }

    contentItem: ScrollView {
        id: scroller
        clip: true
        contentWidth: availableWidth

        ColumnLayout {
            width: scroller.availableWidth
            spacing: 10
            Label { text: Controller.title; color: "white"; font.pixelSize: 20 }

            Label { text: qsTr("Send keys"); color: "#a0b0c0" }
            Flow {
                Layout.fillWidth: true
                spacing: 8
                Button { objectName: "sendCtrlAltDel"; text: "Ctrl+Alt+Del"; onClicked: { surface.sendKeys(["Ctrl", "Alt", "Del"]); menu.close() } }
                Button { text: "Ctrl+Alt+Backspace"; onClicked: { surface.sendKeys(["Ctrl", "Alt", "Backspace"]); menu.close() } }
                Repeater {
                    model: 12
                    Button { text: "Ctrl+Alt+F" + (index + 1); onClicked: { surface.sendKeys(["Ctrl", "Alt", "F" + (index + 1)]); menu.close() } }
                }
            }

            Label {
                text: Usb.available ? qsTr("USB devices (%1 redirection channels)").arg(Usb.channels)
                                    : qsTr("USB devices: unavailable (%1)").arg(Usb.unavailableReason)
                color: "#a0b0c0"
            }
            Label {
                visible: Usb.available && usbList.count === 0
                text: qsTr("No USB devices are plugged in.")
                color: "white"
            }
            ListView {
                id: usbList
                objectName: "usbList"
                Layout.fillWidth: true
                Layout.preferredHeight: Math.min(contentHeight, 240)
                clip: true
                model: Usb
                delegate: RowLayout {
                    width: usbList.width
                    spacing: 10
                    Switch {
                        objectName: "usbSwitch-" + model.deviceId
                        enabled: model.allowed && Usb.channels > 0
                        checked: model.state === "redirected"
                        onToggled: checked ? Usb.redirect(model.deviceId) : Usb.release(model.deviceId)
                    }
                    Column {
                        Layout.fillWidth: true
                        Label { text: model.name; color: "white"; font.pixelSize: 15 }
                        Label {
                            text: model.reason !== "" ? model.detail + " – " + model.reason : model.detail
                            color: model.state === "error" || model.state === "denied" ? "#e0a080" : "#a0b0c0"
                            font.pixelSize: 12
                        }
                    }
                }
            }
            Label {
                visible: Usb.lastError !== ""
                text: Usb.lastError
                color: "#e0a080"
                wrapMode: Text.Wrap
                Layout.fillWidth: true
            }

            Label { text: qsTr("Sound"); color: "#a0b0c0" }
            RowLayout {
                spacing: 8
                Layout.fillWidth: true
                Switch {
                    objectName: "speakerMute"
                    checked: Controller.speakerMuted
                    onToggled: Controller.speakerMuted = checked
                }
                Label { text: qsTr("Mute"); color: "white" }
                Slider {
                    objectName: "speakerVolume"
                    Layout.fillWidth: true
                    from: 0; to: 100; stepSize: 5
                    enabled: !Controller.speakerMuted
                    value: Controller.speakerVolume
                    onMoved: Controller.speakerVolume = value
                }
                Label { text: Controller.speakerVolume + " %"; color: "white"; Layout.preferredWidth: 48 }
                Switch {
                    objectName: "microphoneMute"
                    checked: Controller.microphoneMuted
                    onToggled: Controller.microphoneMuted = checked
                }
                Label { text: qsTr("Microphone off"); color: "white" }
            }
            // Where the sound goes and comes from: the system default (followed when it changes)
            // or one device, switched while the session plays.
            GridLayout {
                columns: 2
                columnSpacing: 8
                Layout.fillWidth: true
                visible: AudioDevices.available
                Label { text: qsTr("Speaker"); color: "white" }
                ComboBox {
                    objectName: "audioOutputChoice"
                    Layout.fillWidth: true
                    textRole: "description"
                    valueRole: "name"
                    model: [{ name: "", description: qsTr("System default") }].concat(AudioDevices.outputs)
                    currentIndex: Math.max(0, indexOfValue(Controller.audioOutput))
                    onActivated: Controller.audioOutput = currentValue
                }
                Label { text: qsTr("Microphone"); color: "white" }
                ComboBox {
                    objectName: "audioInputChoice"
                    Layout.fillWidth: true
                    textRole: "description"
                    valueRole: "name"
                    model: [{ name: "", description: qsTr("System default") }].concat(AudioDevices.inputs)
                    currentIndex: Math.max(0, indexOfValue(Controller.audioInput))
                    onActivated: Controller.audioInput = currentValue
                }
            }

            Label { text: qsTr("View"); color: "#a0b0c0" }
            RowLayout {
                spacing: 8
                Repeater {
                    model: [["fit", qsTr("Fit to window")], ["1:1", qsTr("Actual size")], ["fill", qsTr("Fill")]]
                    RadioButton {
                        text: modelData[1]
                        checked: Config.scaling === modelData[0]
                        onClicked: Config.scaling = modelData[0]
                        palette.windowText: "white"
                    }
                }
            }
            RowLayout {
                spacing: 8
                Button {
                    visible: !Config.kiosk
                    text: menu.fullScreen ? qsTr("Leave full screen") : qsTr("Full screen")
                    onClicked: { menu.toggleFullScreenRequested(); menu.close() }
                }
                Button {
                    objectName: "statsToggle"
                    text: Controller.statsEnabled ? qsTr("Hide statistics") : qsTr("Show statistics")
                    onClicked: Controller.statsEnabled = !Controller.statsEnabled
                }
                Button {
                    objectName: "adminButton"
                    visible: Admin.available
                    text: qsTr("Administration…")
                    onClicked: { menu.close(); root.openAdmin() }
                }
                Item { Layout.fillWidth: true }
                Button {
                    objectName: "disconnectButton"
                    visible: Controller.canDisconnect
                    text: qsTr("Disconnect")
                    onClicked: { menu.close(); Controller.disconnectSession() }
                }
            }
        }
    }
}
