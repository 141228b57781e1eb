import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Saffron.Shell 1.0

// Connecting, and every way a connection can end: each with what happened, what the client is
// doing about it (a countdown before the next attempt) and what the user may do.
Rectangle {
    id: screen
    objectName: "statusScreen"
    color: "#1d232a"

    readonly property string state: Controller.state
    readonly property bool waiting: Controller.reconnectIn >= 0

    function phaseText(phase) {
        switch (phase) {
        case "resolving": return qsTr("Looking up the server…")
        case "tcp": return qsTr("Connecting to the server…")
        case "tls": return qsTr("Securing the connection (TLS)…")
        case "link": return qsTr("Negotiating the session…")
        case "auth": return qsTr("Signing in…")
        case "channels": return qsTr("Opening the desktop…")
        case "ready": return qsTr("Waiting for the first picture…")
        default: return qsTr("Connecting…")
        }
    }

    function headline() {
        switch (state) {
        case "connecting": return Controller.attempt > 1 ? qsTr("Reconnecting") : qsTr("Connecting")
        case "auth-failed": return qsTr("Authentication failed")
        case "password": return qsTr("Sign in to %1").arg(Controller.title)
        case "certificate": return qsTr("The server's certificate was refused")
        case "unreachable": return qsTr("The server cannot be reached")
        case "lost": return qsTr("The connection was lost")
        case "closed": return qsTr("The server closed the session")
        case "error": return qsTr("The session failed")
        default:
            if (Config.startProblem === "no-connection")
                return qsTr("No desktop is set up for this device")
            if (Config.startProblem === "bad-connection")
                return qsTr("The desktop connection cannot be used")
            return Config.launcher ? "" : qsTr("Not connected")
        }
    }
    readonly property bool startProblem: state === "idle" && Config.startProblem !== ""

    ColumnLayout {
        anchors.centerIn: parent
        width: Math.min(parent.width * 0.8, 720)
        spacing: 18

        BusyIndicator {
            Layout.alignment: Qt.AlignHCenter
            running: screen.visible && (screen.state === "connecting" || screen.waiting)
            visible: running
        }
        Label {
            objectName: "statusHeadline"
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            text: screen.headline()
            color: "white"
            font.pixelSize: 34
            wrapMode: Text.Wrap
        }
        Label {
            objectName: "statusPhase"
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            visible: screen.state === "connecting"
            text: screen.phaseText(Controller.phase)
            color: "#c8d0d8"
            font.pixelSize: 20
        }
        Label {
            objectName: "statusMessage"
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            visible: text !== "" && screen.state !== "connecting"
            text: Controller.message
            color: "#c8d0d8"
            font.pixelSize: 16
            wrapMode: Text.Wrap
        }
        Label {
            objectName: "statusProblemHint"
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            visible: screen.startProblem
            text: qsTr("Ask your administrator to add or correct the connection in /etc/saffron/connections.d.")
            color: "#c8d0d8"
            font.pixelSize: 16
            wrapMode: Text.Wrap
        }
        Label {
            objectName: "statusDetails"
            Layout.fillWidth: true
            visible: (screen.state === "certificate" || screen.startProblem) && text !== ""
            text: screen.startProblem ? Config.startProblemDetail : Controller.details
            color: "#e0c080"
            font.family: "monospace"
            font.pixelSize: 14
            wrapMode: Text.WrapAnywhere
        }
        Label {
            objectName: "statusCountdown"
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            visible: screen.waiting && screen.state !== "connecting"
            text: qsTr("Trying again in %1 s…").arg(Controller.reconnectIn)
            color: "white"
            font.pixelSize: 18
        }
        TextField {
            id: password
            objectName: "passwordField"
            Layout.alignment: Qt.AlignHCenter
            Layout.preferredWidth: 360
            visible: (screen.state === "auth-failed" || screen.state === "password") && !Config.kiosk
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
                visible: screen.state !== "connecting" && screen.state !== "idle"
                text: screen.waiting ? qsTr("Reconnect now") : qsTr("Try again")
                onClicked: password.visible ? Controller.retryWithPassword(password.text) : Controller.retry()
            }
            Button {
                objectName: "adminButton"
                visible: screen.startProblem && Admin.available
                text: qsTr("Administration…")
                onClicked: root.openAdmin()
            }
            Button {
                objectName: "cancelButton"
                visible: Controller.canDisconnect && screen.state !== "idle"
                text: qsTr("Cancel")
                onClicked: Controller.disconnectSession()
            }
        }
    }
}
