#include "AudioDevicesModel.h"

#include "audio/AudioDevices.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcAudioDevices, "saffron.shell.audio")

namespace saffron {

namespace {
QVariantList toVariant(const std::vector<AudioDevice>& devices) {
    QVariantList out;
    for (const AudioDevice& d : devices)
        out << QVariantMap{{QStringLiteral("name"), QString::fromStdString(d.name)},
                           {QStringLiteral("description"), QString::fromStdString(d.description)}};
    return out;
}
} // namespace

AudioDevicesModel::AudioDevicesModel(QObject* parent) : QObject(parent) {
    AudioDeviceList::Options options;
    // Called on PipeWire's thread: hand over to ours. The list (a member) stops its callbacks
    // before this object's QObject part goes, and Qt drops events queued for a deleted receiver.
    options.changed = [this] {
        QMetaObject::invokeMethod(this, &AudioDevicesModel::refresh, Qt::QueuedConnection);
    };
    opener_ = std::thread([this, options = std::move(options)]() mutable {
        std::string error;
        // Shared: a queued call's functor must be copyable. Dropped with the call if this
        // object is gone by then (the destructor waits for this thread, not for the call).
        auto list = std::shared_ptr<AudioDeviceList>(AudioDeviceList::open(std::move(options), error));
        QMetaObject::invokeMethod(
            this,
            [this, list, error] {
                if (!list) {
                    qCInfo(lcAudioDevices).noquote() << "no device choice:" << QString::fromStdString(error);
                    return;
                }
                list_ = list;
                refresh();
                emit changed(); // available() too, even with no device listed yet
            },
            Qt::QueuedConnection);
    });
}

AudioDevicesModel::~AudioDevicesModel() {
    if (opener_.joinable())
        opener_.join();
}

void AudioDevicesModel::refresh() {
    if (!list_)
        return;
    QVariantList outputs = toVariant(list_->outputs());
    QVariantList inputs = toVariant(list_->inputs());
    if (outputs == outputs_ && inputs == inputs_)
        return;
    outputs_ = std::move(outputs);
    inputs_ = std::move(inputs);
    emit changed();
}

} // namespace saffron
