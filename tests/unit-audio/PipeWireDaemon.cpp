#include "PipeWireDaemon.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QThread>

namespace saffron::test {

PipeWireDaemon::~PipeWireDaemon() {
    stop();
}

std::unique_ptr<QProcess> PipeWireDaemon::launch(const QString& program, const QStringList& args,
                                                 const QString& logName) {
    auto process = std::make_unique<QProcess>();
    process->setProcessEnvironment(m_env);
    // Logs go to files in the runtime dir: kept out of the test output, readable on failure.
    process->setStandardOutputFile(m_runtime->filePath(logName));
    process->setStandardErrorFile(m_runtime->filePath(logName));
    process->start(program, args);
    if (!process->waitForStarted(5000)) {
        m_error = program + " did not start: " + process->errorString();
        return nullptr;
    }
    return process;
}

bool PipeWireDaemon::waitForFile(const QString& path, int timeoutMs) const {
    QDeadlineTimer deadline(timeoutMs);
    while (!QFile::exists(path)) {
        if (deadline.hasExpired()) {
            return false;
        }
        QThread::msleep(20);
    }
    return true;
}

QString PipeWireDaemon::runTool(const QString& program, const QStringList& args, int timeoutMs) const {
    QProcess process;
    process.setProcessEnvironment(m_env);
    process.start(program, args);
    if (!process.waitForFinished(timeoutMs) || process.exitStatus() != QProcess::NormalExit ||
        process.exitCode() != 0) {
        process.kill();
        process.waitForFinished(1000);
        return {};
    }
    return QString::fromUtf8(process.readAllStandardOutput());
}

bool PipeWireDaemon::link(const QString& outputPort, const QString& inputPort) const {
    QProcess process;
    process.setProcessEnvironment(m_env);
    process.start(QStringLiteral("pw-link"), {outputPort, inputPort});
    return process.waitForFinished(5000) && process.exitStatus() == QProcess::NormalExit &&
           process.exitCode() == 0;
}

bool PipeWireDaemon::setDefault(const QString& kind, const QString& name) const {
    QProcess process;
    process.setProcessEnvironment(m_env);
    process.start(QStringLiteral("pw-metadata"),
                  {QStringLiteral("-n"), QStringLiteral("default"), QStringLiteral("0"),
                   QStringLiteral("default.configured.") + kind,
                   QStringLiteral("{ \"name\": \"%1\" }").arg(name),
                   // WirePlumber ignores a value without the JSON type (pw-metadata's default)
                   QStringLiteral("Spa:String:JSON")});
    return process.waitForFinished(5000) && process.exitStatus() == QProcess::NormalExit &&
           process.exitCode() == 0;
}

QString PipeWireDaemon::defaultOf(const QString& kind) const {
    // "update: id:0 key:'default.audio.sink' value:'{"name":"test-sink"}' type:'Spa:String:JSON'"
    const QString out =
        runTool(QStringLiteral("pw-metadata"), {QStringLiteral("-n"), QStringLiteral("default"),
                                                QStringLiteral("0"), QStringLiteral("default.") + kind});
    const auto m = QRegularExpression(QStringLiteral("\"name\"\\s*:\\s*\"([^\"]+)\"")).match(out);
    return m.hasMatch() ? m.captured(1) : QString();
}

bool PipeWireDaemon::createNode(const QString& name, const QString& mediaClass) {
    const QString spec = QStringLiteral("{ factory.name=support.null-audio-sink node.name=%1 media.class=%2 "
                                        "object.linger=true audio.position=[FL FR] audio.rate=48000 }")
                             .arg(name, mediaClass);
    runTool(QStringLiteral("pw-cli"), {QStringLiteral("create-node"), QStringLiteral("adapter"), spec});
    // pw-cli's exit code does not say whether the node exists: look for it.
    QDeadlineTimer deadline(5000);
    while (!deadline.hasExpired()) {
        if (runTool(QStringLiteral("pw-cli"), {QStringLiteral("ls"), QStringLiteral("Node")})
                .contains(QStringLiteral("\"%1\"").arg(name))) {
            return true;
        }
        QThread::msleep(50);
    }
    m_error = "could not create the PipeWire node " + name;
    return false;
}

bool PipeWireDaemon::start() {
    for (const char* tool : {"pipewire", "wireplumber", "pw-cli", "pw-link", "dbus-daemon"}) {
        if (QStandardPaths::findExecutable(QString::fromLatin1(tool)).isEmpty()) {
            m_error =
                QStringLiteral("%1 is not installed (Debian: pipewire, pipewire-bin, wireplumber, dbus)")
                    .arg(QString::fromLatin1(tool));
            return false;
        }
    }
    m_runtime = std::make_unique<QTemporaryDir>(QDir::tempPath() + "/saffron-pw-XXXXXX");
    if (!m_runtime->isValid()) {
        m_error = "cannot create a runtime directory";
        return false;
    }
    QFile::setPermissions(m_runtime->path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    QDir(m_runtime->path()).mkpath(QStringLiteral("state"));
    QDir(m_runtime->path()).mkpath(QStringLiteral("config"));

    m_env = QProcessEnvironment::systemEnvironment();
    const QString dir = m_runtime->path();
    const QString bus = QStringLiteral("unix:path=%1/bus").arg(dir);
    m_env.insert(QStringLiteral("XDG_RUNTIME_DIR"), dir);
    m_env.insert(QStringLiteral("PIPEWIRE_RUNTIME_DIR"), dir);
    m_env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), bus);
    // WirePlumber remembers default nodes and volumes in XDG_STATE_HOME: keep that private too,
    // so runs cannot influence each other or the user's settings.
    m_env.insert(QStringLiteral("XDG_STATE_HOME"), dir + "/state");
    m_env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir + "/config");
    m_env.remove(QStringLiteral("PIPEWIRE_REMOTE"));

    m_dbus =
        launch(QStringLiteral("dbus-daemon"),
               {QStringLiteral("--session"), QStringLiteral("--nofork"), QStringLiteral("--address=") + bus},
               QStringLiteral("dbus.log"));
    if (!m_dbus || !waitForFile(dir + "/bus", 5000)) {
        m_error = m_error.isEmpty() ? QStringLiteral("dbus-daemon did not create its socket") : m_error;
        stop();
        return false;
    }
    m_pipewire = launch(QStringLiteral("pipewire"), {}, QStringLiteral("pipewire.log"));
    if (!m_pipewire || !waitForFile(dir + "/pipewire-0", 5000)) {
        m_error =
            m_error.isEmpty() ? QStringLiteral("pipewire did not create %1/pipewire-0").arg(dir) : m_error;
        stop();
        return false;
    }
    m_wireplumber = launch(QStringLiteral("wireplumber"), {}, QStringLiteral("wireplumber.log"));
    if (!m_wireplumber) {
        stop();
        return false;
    }
    if (!createNode(QStringLiteral("test-sink"), QStringLiteral("Audio/Sink")) ||
        !createNode(QStringLiteral("test-source"), QStringLiteral("Audio/Source/Virtual"))) {
        stop();
        return false;
    }
    // This process (the code under test) connects through the same variables.
    qputenv("PIPEWIRE_RUNTIME_DIR", dir.toUtf8());
    qputenv("XDG_RUNTIME_DIR", dir.toUtf8());
    qunsetenv("PIPEWIRE_REMOTE");
    return true;
}

void PipeWireDaemon::stop() {
    // Reverse order of start: the session manager first, the bus last.
    for (auto* process : {&m_wireplumber, &m_pipewire, &m_dbus}) {
        if (*process) {
            (*process)->terminate();
            if (!(*process)->waitForFinished(3000)) {
                (*process)->kill();
                (*process)->waitForFinished(1000);
            }
            process->reset();
        }
    }
}

} // namespace saffron::test
