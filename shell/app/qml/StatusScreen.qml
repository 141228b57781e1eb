import QtQuick
import Saffron.Shell 1.0

// Connecting, and every way a connection can end: each with what happened, what the client is
// doing about it (a countdown before the next attempt) and what the user may do. Shown before
// the first picture, so plain Qt Quick only (see Main.qml); the password field and buttons
// (StatusActions.qml, Qt Quick Controls) are loaded by URL.
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

    Column {
        anchors.centerIn: parent
        width: Math.min(parent.width * 0.8, 720)
        spacing: 18

        // A ring of dots turning: the Controls' BusyIndicator would pull in the Controls
        // modules before the first frame.
        Item {
            id: spinner
            objectName: "statusSpinner"
            anchors.horizontalCenter: parent.horizontalCenter
            width: 48
            height: 48
            visible: screen.state === "connecting" || screen.waiting
            Repeater {
                model: 8
                Rectangle {
                    required property int index
                    width: 8
                    height: 8
                    radius: 4
                    color: "white"
                    opacity: 0.25 + 0.75 * index / 7
                    x: 20 + 20 * Math.cos(index * Math.PI / 4)
                    y: 20 + 20 * Math.sin(index * Math.PI / 4)
                }
            }
            RotationAnimator on rotation {
                // Only while on screen: a hidden animation still repaints the window every frame.
                running: screen.visible && spinner.visible
                from: 0
                to: 360
                duration: 1200
                loops: Animation.Infinite
            }
        }
        Text {
            objectName: "statusHeadline"
            width: parent.width
            horizontalAlignment: Text.AlignHCenter
            text: screen.headline()
            color: "white"
            font.pixelSize: 34
            wrapMode: Text.Wrap
        }
        Text {
            objectName: "statusPhase"
            width: parent.width
            horizontalAlignment: Text.AlignHCenter
            visible: screen.state === "connecting"
            text: screen.phaseText(Controller.phase)
            color: "#c8d0d8"
            font.pixelSize: 20
        }
        Text {
            objectName: "statusMessage"
            width: parent.width
            horizontalAlignment: Text.AlignHCenter
            visible: text !== "" && screen.state !== "connecting"
            text: Controller.message
            color: "#c8d0d8"
            font.pixelSize: 16
            wrapMode: Text.Wrap
        }
        Text {
            objectName: "statusProblemHint"
            width: parent.width
            horizontalAlignment: Text.AlignHCenter
            visible: screen.startProblem
            text: qsTr("Ask your administrator to add or correct the connection in /etc/saffron/connections.d.")
            color: "#c8d0d8"
            font.pixelSize: 16
            wrapMode: Text.Wrap
        }
        Text {
            objectName: "statusDetails"
            width: parent.width
            visible: (screen.state === "certificate" || screen.startProblem) && text !== ""
            text: screen.startProblem ? Config.startProblemDetail : Controller.details
            color: "#e0c080"
            font.family: "monospace"
            font.pixelSize: 14
            wrapMode: Text.WrapAnywhere
        }
        Text {
            objectName: "statusCountdown"
            width: parent.width
            horizontalAlignment: Text.AlignHCenter
            visible: screen.waiting && screen.state !== "connecting"
            text: qsTr("Trying again in %1 s…").arg(Controller.reconnectIn)
            color: "white"
            font.pixelSize: 18
        }
        Loader {
            anchors.horizontalCenter: parent.horizontalCenter
            // In the background while connecting (only Cancel is wanted then, and the desktop
            // may be about to appear); at once when the screen opens on an error, whose buttons
            // belong with its text.
            asynchronous: screen.state === "connecting"
            source: "StatusActions.qml"
            onLoaded: item.screen = screen
        }
    }
}
