import QtQuick
import Saffron.Shell 1.0

// The remote desktop, plus the in-session menu (hotkey, or the strip along the top edge in
// full screen) and the statistics overlay. Menu and overlay are loaded by URL the first time
// they are wanted: they use Qt Quick Controls, which this file must not name (see Main.qml).
Item {
    id: view
    property bool fullScreen: false
    signal toggleFullScreenRequested()

    readonly property bool menuOpen: menuLoader.item !== null && menuLoader.item.opened
    function openMenu() {
        menuLoader.active = true
        menuLoader.item.open()
    }

    function act(action) {
        switch (action) {
        case "toggle-menu": view.menuOpen ? menuLoader.item.close() : view.openMenu(); break
        case "stats-overlay": Controller.statsEnabled = !Controller.statsEnabled; break
        case "toggle-fullscreen": if (!Config.kiosk) view.toggleFullScreenRequested(); break
        case "secure-attention": desktop.sendKeys(["Ctrl", "Alt", "Del"]); break
        }
    }

    SurfaceView {
        id: desktop // not "surface": SessionMenu has a property of that name, which would shadow it
        objectName: "surfaceView"
        anchors.fill: parent
        session: Controller.session
        // With a screen for each of display 0's heads, this window shows the first one.
        head: Qt.application.screens.length > 1 ? Controller.mainHead : -1
        scaling: Config.scaling
        hotkeys: Config.sessionHotkeys
        focus: view.visible && !view.menuOpen
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
        Timer { id: revealTimer; interval: 400; onTriggered: view.openMenu() }
    }

    Loader {
        anchors { top: parent.top; right: parent.right; margins: 12 }
        active: Controller.statsEnabled
        source: "StatsOverlay.qml"
    }

    Loader {
        id: menuLoader
        anchors.fill: parent
        active: false
        source: "SessionMenu.qml"
        onLoaded: {
            item.x = Qt.binding(() => (view.width - item.width) / 2)
            item.y = 0
            item.surface = desktop
            item.fullScreen = Qt.binding(() => view.fullScreen)
        }
    }
    Connections {
        target: menuLoader.item
        function onToggleFullScreenRequested() { view.toggleFullScreenRequested() }
        function onClosed() { desktop.forceActiveFocus() }
    }

    Loader {
        anchors { bottom: parent.bottom; horizontalCenter: parent.horizontalCenter; margins: 8 }
        active: desktop.pointerGrabbed
        source: "PointerHint.qml"
    }
}
