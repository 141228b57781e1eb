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

    // cage, the appliance's compositor, lays every window over all its outputs together (its
    // "extend" mode maximizes a view to the whole output layout and ignores the screen a window
    // asks for), so with two monitors each display's window covered both and the last one hid
    // the others. A full-screen or maximized window as large as all screens together is taken
    // as that: the shell then shows everything of its own on the first screen and further
    // monitors as views inside this window, each on its screen's part of it.
    readonly property var screenBox: {
        const all = Qt.application.screens
        if (all.length === 0)
            return Qt.rect(0, 0, 0, 0)
        let left = all[0].virtualX, top = all[0].virtualY, right = left + all[0].width, bottom = top + all[0].height
        for (let i = 1; i < all.length; ++i) {
            left = Math.min(left, all[i].virtualX)
            top = Math.min(top, all[i].virtualY)
            right = Math.max(right, all[i].virtualX + all[i].width)
            bottom = Math.max(bottom, all[i].virtualY + all[i].height)
        }
        return Qt.rect(left, top, right - left, bottom - top)
    }
    readonly property bool spansScreens: Qt.application.screens.length > 1
                                         && (root.visibility === Window.FullScreen
                                             || root.visibility === Window.Maximized)
                                         && root.width >= root.screenBox.width - 1
                                         && root.height >= root.screenBox.height - 1
    // Screen i's part of this window while it spans them all.
    function screenArea(i) {
        const s = Qt.application.screens[i]
        return Qt.rect(s.virtualX - screenBox.x, s.virtualY - screenBox.y, s.width, s.height)
    }
    onSpansScreensChanged: console.info("window spans", Qt.application.screens.length, "screens:", spansScreens)

    // A monitor beyond the first (modelData: a Controller.extraViews entry; index: its place
    // there), in its own window or in a part of this one.
    component MonitorView: SurfaceView {
        required property var modelData
        required property int index
        readonly property int monitor: index + 1
        objectName: "surfaceView" + monitor
        session: Controller.session
        display: modelData.display
        head: modelData.head
        scaling: Config.scaling
        hotkeys: Config.sessionHotkeys
        onHotkeyActivated: (action) => sessionView.act(action)
    }

    // Everything of the shell's own: the whole window, or the first screen's part of a spanning
    // one.
    Item {
        id: primary
        readonly property rect area: root.spansScreens ? root.screenArea(0) : Qt.rect(0, 0, root.width, root.height)
        x: area.x
        y: area.y
        width: area.width
        height: area.height

        SessionView {
            id: sessionView
            anchors.fill: parent
            visible: root.page === "session"
            fullScreen: root.visibility === Window.FullScreen
            onToggleFullScreenRequested: root.toggleFullScreen()
        }

        Loader {
            anchors.fill: parent
            active: root.page === "launcher"
            source: "Launcher.qml"
        }

        // On the first attempt the status screen waits a moment: a fast connection goes straight
        // to the desktop, without a flash of "Connecting" and without laying out text (the first
        // Text loads the font database: ~20 ms before the first picture).
        Timer { id: statusDelay; interval: 150; running: true }
        Loader {
            anchors.fill: parent
            active: root.page === "status"
                    && (!statusDelay.running || Controller.state !== "connecting" || Controller.attempt > 1)
            source: "StatusScreen.qml"
        }

        // Created when first asked for; the panel centres on this area.
        Loader { id: adminLoader; anchors.fill: parent; active: false; source: "AdminPanel.qml" }

        // The appliance's updater at work (UpdateBanner.qml): above everything, the session
        // included.
        Loader {
            anchors { left: parent.left; right: parent.right; top: parent.top }
            z: 200
            active: Update.state !== "idle"
            source: "UpdateBanner.qml"
        }

        Loader {
            anchors.fill: parent
            active: Config.virtualKeyboard
            source: "KeyboardPanel.qml"
            z: 100
        }
    }

    function openAdmin() {
        adminLoader.active = true
        adminLoader.item.open()
    }

    // Monitors beyond the first (the heads of a device driving several, or a server's further
    // displays): one window each, full screen on the next local screen when this one is full
    // screen (a kiosk always is). A monitor without a local screen left for it is not shown:
    // a thin client's monitors are its screens, and the guest keeps that monitor as it is.
    readonly property var extraViews: root.page === "session"
                                      ? Controller.extraViews.slice(0, Math.max(0, Qt.application.screens.length - 1))
                                      : []
    Instantiator {
        model: root.spansScreens ? [] : root.extraViews
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

            MonitorView {
                modelData: displayWindow.modelData
                index: displayWindow.index
                anchors.fill: parent
                focus: true
            }
        }
    }

    // The same monitors while this window spans the screens: a view on each further screen's
    // part of it.
    Repeater {
        model: root.spansScreens ? root.extraViews : []
        delegate: MonitorView {
            readonly property rect area: root.screenArea(monitor)
            x: area.x
            y: area.y
            width: area.width
            height: area.height
        }
    }

    // Wayland with the software scene graph: every frame carries damage, or cage stops
    // answering frame callbacks and the window freezes (FrameDamageKeeper.h).
    FrameDamageKeeper { objectName: "frameDamageKeeper" }
}
