#pragma once

#include <stdexcept>
#include <string>

namespace saffron {

// Thrown by parsers when server data is malformed (truncated, out of range, inconsistent).
// Caught at message granularity: a bad message is reported and dropped, or ends the channel,
// but never reads or writes outside its buffer.
class ProtocolError : public std::runtime_error {
public:
    explicit ProtocolError(const std::string& what) : std::runtime_error(what) {}
};

} // namespace saffron
