import QtQuick
import QtQuick.Window
import Saffron.Shell 1.0

// The shell's main window: the connection list, the session, or a status screen, never a
// frozen picture; a session with several displays adds a window per display beyond the first.
// In kiosk mode it cannot be closed and there is nothing else to reach.
//
// What the first picture needs (this file, SessionView, StatusScreen) uses plain Qt Quick only.
// Everything built on Qt Quick Controls (menus, the admin panel, the launcher, buttons) is
// loaded by URL when it is first wanted: naming such a type here would load the Controls
// modules and their style before the first frame (bench_shell: ~80 ms of a ~200 ms start).
Window {
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

            FrameDamageKeeper {}

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

    // On the first attempt the status screen waits a moment: a fast connection goes straight to
    // the desktop, without a flash of "Connecting" and without laying out text (the first Text
    // loads the font database: ~20 ms before the first picture).
    Timer { id: statusDelay; interval: 150; running: true }
    Loader {
        anchors.fill: parent
        active: root.page === "status"
                && (!statusDelay.running || Controller.state !== "connecting" || Controller.attempt > 1)
        source: "StatusScreen.qml"
    }

    // Created when first asked for.
    Loader { id: adminLoader; active: false; source: "AdminPanel.qml" }
    function openAdmin() {
        adminLoader.active = true
        adminLoader.item.open()
    }

    // The appliance's updater at work (UpdateBanner.qml): above everything, the session included.
    Loader {
        anchors { left: parent.left; right: parent.right; top: parent.top }
        z: 200
        active: Update.state !== "idle"
        source: "UpdateBanner.qml"
    }

    // Wayland with the software scene graph: every frame carries damage, or cage stops
    // answering frame callbacks and the window freezes (FrameDamageKeeper.h).
    FrameDamageKeeper { objectName: "frameDamageKeeper" }

    Loader {
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom; top: parent.top }
        active: Config.virtualKeyboard
        source: "KeyboardPanel.qml"
        z: 100
    }
}
