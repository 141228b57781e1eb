#include "redir/UsbRedirPool.h"

#include <algorithm>

namespace saffron::usb {

void UsbRedirPool::add(UsbRedirEndpoint* endpoint) {
    std::lock_guard lock(mutex_);
    if (endpoint && std::find(endpoints_.begin(), endpoints_.end(), endpoint) == endpoints_.end())
        endpoints_.emplace_back(endpoint);
}

void UsbRedirPool::remove(UsbRedirEndpoint* endpoint) {
    std::lock_guard lock(mutex_);
    std::erase_if(endpoints_,
                  [endpoint](const QPointer<UsbRedirEndpoint>& e) { return !e || e == endpoint; });
}

int UsbRedirPool::size() const {
    std::lock_guard lock(mutex_);
    return int(
        std::count_if(endpoints_.begin(), endpoints_.end(), [](const auto& e) { return !e.isNull(); }));
}

int UsbRedirPool::inUse() const {
    std::lock_guard lock(mutex_);
    return int(std::count_if(endpoints_.begin(), endpoints_.end(),
                             [](const auto& e) { return e && e->isClaimed(); }));
}

QString UsbRedirPool::noFreeChannelMessage(int offered) {
    if (offered == 0)
        return QStringLiteral("the server offers no USB redirection channel");
    if (offered == 1)
        return QStringLiteral("the server offers 1 USB redirection channel, already in use");
    return QStringLiteral("the server offers %1 USB redirection channels, all in use").arg(offered);
}

UsbRedirEndpoint* UsbRedirPool::claim(QString* error) {
    std::lock_guard lock(mutex_);
    int offered = 0;
    for (const auto& e : endpoints_) {
        if (!e)
            continue;
        ++offered;
        if (e->tryClaim())
            return e.data();
    }
    if (error)
        *error = noFreeChannelMessage(offered);
    return nullptr;
}

} // namespace saffron::usb
