import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Saffron.Shell 1.0

// The remote desktop, plus the in-session menu (hotkey, or the strip along the top edge in
// full screen) and the statistics overlay.
Item {
    id: view
    property bool fullScreen: false
    signal toggleFullScreenRequested()

    function act(action) {
        switch (action) {
        case "toggle-menu": menu.opened ? menu.close() : menu.open(); break
        case "stats-overlay": Controller.statsEnabled = !Controller.statsEnabled; break
        case "toggle-fullscreen": if (!Config.kiosk) view.toggleFullScreenRequested(); break
        case "secure-attention": surface.sendKeys(["Ctrl", "Alt", "Del"]); break
        }
    }

    SurfaceView {
        id: surface
        objectName: "surfaceView"
        anchors.fill: parent
        session: Controller.session
        scaling: Config.scaling
        hotkeys: Config.sessionHotkeys
        focus: view.visible && !menu.opened
        onHotkeyActivated: (action) => view.act(action)
        onVisibleChanged: if (visible) forceActiveFocus()
    }

    // A thin strip along the top edge reveals the menu in full screen, where the window has no
    // title bar to hold one.
    MouseArea {
        anchors { left: parent.left; right: parent.right; top: parent.top }
        height: 3
        visible: view.fullScreen
        hoverEnabled: true
        onEntered: revealTimer.start()
        onExited: revealTimer.stop()
        Timer { id: revealTimer; interval: 400; onTriggered: menu.open() }
    }

    StatsOverlay {
        anchors { top: parent.top; right: parent.right; margins: 12 }
        visible: Controller.statsEnabled
    }

    SessionMenu {
        id: menu
        x: (view.width - width) / 2
        y: 0
        surface: surface
        fullScreen: view.fullScreen
        onToggleFullScreenRequested: view.toggleFullScreenRequested()
        onClosed: surface.forceActiveFocus()
    }

    Label {
        anchors { bottom: parent.bottom; horizontalCenter: parent.horizontalCenter; margins: 8 }
        visible: surface.pointerGrabbed
        text: qsTr("Pointer captured – press %1 to release it").arg(Config.sessionHotkeys["release-cursor"] || "Shift+F12")
        color: "white"
        padding: 6
        background: Rectangle { color: "#a0000000"; radius: 4 }
    }
}
