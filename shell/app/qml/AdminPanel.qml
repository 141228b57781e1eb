import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Saffron.Shell 1.0

// The administrator's settings: a PIN first, then the switches. Changes are saved at once
// (atomically) and apply at the next start.
Popup {
    id: panel
    objectName: "adminPanel"
    modal: true
    focus: true
    padding: 20
    anchors.centerIn: parent // its Loader: the first screen of a window spanning several
    width: 520
    background: Rectangle { color: "#f0202830"; radius: 8 }
    onClosed: Admin.lock()

    ColumnLayout {
        width: parent.width
        spacing: 12
        Label { text: qsTr("Administration"); color: "white"; font.pixelSize: 22 }

        // Locked: ask for the PIN.
        TextField {
            id: pin
            objectName: "adminPinField"
            visible: !Admin.unlocked
            Layout.fillWidth: true
            echoMode: TextInput.Password
            inputMethodHints: Qt.ImhDigitsOnly
            placeholderText: qsTr("Administrator PIN")
            onAccepted: { Admin.unlock(text); text = "" }
            onVisibleChanged: if (visible && panel.opened) forceActiveFocus()
        }

        // Unlocked: the settings an administrator changes at the device.
        ColumnLayout {
            visible: Admin.unlocked
            spacing: 8
            CheckBox {
                objectName: "adminClipboard"
                text: qsTr("Share the clipboard with the desktop")
                checked: Admin.unlocked && Admin.value("policy/clipboard") !== "false"
                onToggled: Admin.setValue("policy/clipboard", checked ? "true" : "false")
                palette.windowText: "white"
            }
            CheckBox {
                text: qsTr("Allow USB redirection")
                checked: Admin.unlocked && Admin.value("policy/usb-redirect") !== "false"
                onToggled: Admin.setValue("policy/usb-redirect", checked ? "true" : "false")
                palette.windowText: "white"
            }
            CheckBox {
                text: qsTr("On-screen keyboard")
                checked: Admin.unlocked && Admin.value("shell/virtual-keyboard") === "true"
                onToggled: Admin.setValue("shell/virtual-keyboard", checked ? "true" : "false")
                palette.windowText: "white"
            }
            // Connections made here (the image's own are not listed: they are not ours to change).
            Label { text: qsTr("Connections"); color: "white"; font.pixelSize: 18; Layout.topMargin: 8 }
            Repeater {
                model: Admin.connections
                delegate: RowLayout {
                    required property var modelData
                    Layout.fillWidth: true
                    Label {
                        Layout.fillWidth: true
                        text: modelData.name + "  —  " + modelData.address
                        color: "white"
                        elide: Text.ElideRight
                    }
                    Button {
                        text: qsTr("Edit")
                        onClicked: {
                            connectionForm.editingId = modelData.id
                            connName.text = modelData.name
                            connAddress.text = modelData.address
                            connPassword.text = ""
                            connPasswordFree.checked = modelData.passwordFree
                        }
                    }
                    Button {
                        text: qsTr("Remove")
                        onClicked: Admin.removeConnection(modelData.id)
                    }
                }
            }
            GridLayout {
                id: connectionForm
                property string editingId: ""
                function clear() {
                    editingId = ""
                    connName.text = ""
                    connAddress.text = ""
                    connPassword.text = ""
                    connPasswordFree.checked = false
                }
                Layout.fillWidth: true
                columns: 2
                TextField {
                    id: connName
                    objectName: "adminConnName"
                    Layout.fillWidth: true
                    placeholderText: qsTr("Name shown on the tile")
                }
                TextField {
                    id: connAddress
                    objectName: "adminConnAddress"
                    Layout.fillWidth: true
                    inputMethodHints: Qt.ImhNoAutoUppercase | Qt.ImhUrlCharactersOnly
                    placeholderText: qsTr("host:port or spice://host?tls-port=N")
                }
                TextField {
                    id: connPassword
                    objectName: "adminConnPassword"
                    Layout.fillWidth: true
                    echoMode: TextInput.Password
                    placeholderText: connectionForm.editingId === "" ? qsTr("Password (optional)")
                                                                    : qsTr("Password (empty: unchanged)")
                }
                CheckBox {
                    id: connPasswordFree
                    objectName: "adminConnPasswordFree"
                    text: qsTr("Needs no password")
                    palette.windowText: "white"
                }
                Button {
                    objectName: "adminConnSave"
                    text: connectionForm.editingId === "" ? qsTr("Add connection") : qsTr("Save connection")
                    onClicked: {
                        if (Admin.saveConnection(connectionForm.editingId, connName.text, connAddress.text,
                                                 connPassword.text, connPasswordFree.checked))
                            connectionForm.clear()
                    }
                }
                Button {
                    visible: connectionForm.editingId !== ""
                    text: qsTr("Cancel")
                    onClicked: connectionForm.clear()
                }
            }
            RowLayout {
                Layout.topMargin: 8
                TextField {
                    id: newPin
                    Layout.fillWidth: true
                    echoMode: TextInput.Password
                    inputMethodHints: Qt.ImhDigitsOnly
                    placeholderText: qsTr("New PIN (4 to 32 digits)")
                }
                Button { text: qsTr("Change PIN"); onClicked: { Admin.setPin(newPin.text); newPin.text = "" } }
            }
        }

        Label {
            objectName: "adminMessage"
            visible: text !== ""
            text: Admin.message
            color: "#e0c080"
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }
        Button {
            Layout.alignment: Qt.AlignRight
            text: qsTr("Close")
            onClicked: panel.close()
        }
    }
}
