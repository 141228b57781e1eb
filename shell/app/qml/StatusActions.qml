import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Saffron.Shell 1.0

// The status screen's password field and buttons, loaded by URL in the background (see
// StatusScreen.qml): they are the first things on screen built on Qt Quick Controls.
ColumnLayout {
    id: actions
    property Item screen: null // the StatusScreen, for its state
    readonly property string state: screen ? screen.state : "connecting"
    readonly property bool waiting: screen ? screen.waiting : false
    readonly property bool startProblem: screen ? screen.startProblem : false
    spacing: 18

    TextField {
        id: password
        objectName: "passwordField"
        Layout.alignment: Qt.AlignHCenter
        Layout.preferredWidth: 360
        visible: (actions.state === "auth-failed" || actions.state === "password") && !Config.kiosk
        echoMode: TextInput.Password
        placeholderText: qsTr("Password")
        onAccepted: Controller.retryWithPassword(text)
        onVisibleChanged: if (visible) forceActiveFocus()
    }
    RowLayout {
        Layout.alignment: Qt.AlignHCenter
        spacing: 12
        Button {
            objectName: "retryButton"
            visible: actions.state !== "connecting" && actions.state !== "idle"
            text: actions.waiting ? qsTr("Reconnect now") : qsTr("Try again")
            onClicked: password.visible ? Controller.retryWithPassword(password.text) : Controller.retry()
        }
        Button {
            objectName: "adminButton"
            visible: actions.startProblem && Admin.available
            text: qsTr("Administration…")
            onClicked: root.openAdmin()
        }
        Button {
            objectName: "cancelButton"
            visible: Controller.canDisconnect && actions.state !== "idle"
            text: qsTr("Cancel")
            onClicked: Controller.disconnectSession()
        }
    }
}
