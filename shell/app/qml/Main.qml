import QtQuick
import QtQuick.Controls
import QtQuick.Window
import Saffron.Shell 1.0

// The shell's main window: the connection list, the session, or a status screen, never a
// frozen picture; a session with several displays adds a window per display beyond the first.
// In kiosk mode it cannot be closed and there is nothing else to reach.
ApplicationWindow {
    id: root
    objectName: "shellWindow"
    width: 1024
    height: 768
    visible: true
    color: "black"
    title: Controller.title !== "" ? Controller.title + " – " + Config.windowTitle : Config.windowTitle

    onClosing: (close) => { close.accepted = !Config.kiosk }

    readonly property string page: Controller.state === "connected" ? "session"
                                 : Controller.state === "idle" && Config.launcher ? "launcher"
                                 : "status"

    function toggleFullScreen() {
        root.visibility = root.visibility === Window.FullScreen ? Window.Windowed : Window.FullScreen
    }

    SessionView {
        id: sessionView
        anchors.fill: parent
        visible: root.page === "session"
        fullScreen: root.visibility === Window.FullScreen
        onToggleFullScreenRequested: root.toggleFullScreen()
    }

    // Monitors beyond the first (the heads of a device driving several, or a server's further
    // displays): one window each, full screen on the next local screen when this one is full
    // screen (a kiosk always is). A monitor without a local screen left for it is not shown:
    // a thin client's monitors are its screens, and the guest keeps that monitor as it is.
    Instantiator {
        model: root.page === "session" ? Controller.extraViews.slice(0, Math.max(0, Qt.application.screens.length - 1)) : []
        delegate: Window {
            id: displayWindow
            required property var modelData
            required property int index
            readonly property int monitor: index + 1
            objectName: modelData.head >= 0 ? "headWindow" + modelData.head : "displayWindow" + modelData.display
            title: root.title + " – " + qsTr("display %1").arg(monitor + 1)
            color: "black"
            // The screen, and a place on it: a window lying on another screen is moved there.
            screen: Qt.application.screens[index + 1]
            x: screen.virtualX
            y: screen.virtualY
            width: root.width
            height: root.height
            function follow() {
                if (root.visibility === Window.FullScreen)
                    showFullScreen()
                else
                    showNormal()
            }
            Component.onCompleted: follow()
            Connections { target: root; function onVisibilityChanged() { displayWindow.follow() } }
            // Displays come and go with the server's devices, not with this window.
            onClosing: (close) => { close.accepted = false }

            SurfaceView {
                objectName: "surfaceView" + displayWindow.monitor
                anchors.fill: parent
                session: Controller.session
                display: displayWindow.modelData.display
                head: displayWindow.modelData.head
                scaling: Config.scaling
                hotkeys: Config.sessionHotkeys
                focus: true
                onHotkeyActivated: (action) => sessionView.act(action)
            }
        }
    }

    Loader {
        anchors.fill: parent
        active: root.page === "launcher"
        source: "Launcher.qml"
    }

    StatusScreen {
        anchors.fill: parent
        visible: root.page === "status"
    }

    // Created when first asked for (see SessionView: less to compile before the first picture).
    Loader { id: adminLoader; active: false; sourceComponent: Component { AdminPanel {} } }
    function openAdmin() {
        adminLoader.active = true
        adminLoader.item.open()
    }

    // The appliance's updater at work (UpdateStatusWatcher): above everything, the session
    // included, because whoever stands there must not switch the machine off now. It takes no
    // input: the desktop stays usable while the other slot is written.
    Rectangle {
        id: updateBanner
        objectName: "updateBanner"
        anchors { left: parent.left; right: parent.right; top: parent.top }
        height: updateText.implicitHeight + 24
        z: 200
        visible: Update.state !== "idle"
        color: Update.state === "refused" ? "#e0a83232" : "#e0205080"
        Label {
            id: updateText
            objectName: "updateBannerText"
            anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: 16 }
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.Wrap
            color: "white"
            font.pixelSize: 18
            text: Update.state === "installing"
                  ? qsTr("Installing update %1. Do not switch off: the device restarts by itself when it is done.").arg(Update.version)
                  : Update.state === "installed"
                  ? qsTr("Update %1 installed. Restarting…").arg(Update.version)
                  : Update.state === "refused"
                  ? qsTr("The update was refused: %1").arg(Update.message)
                  : ""
        }
    }

    Loader {
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom; top: parent.top }
        active: Config.virtualKeyboard
        source: "KeyboardPanel.qml"
        z: 100
    }
}
