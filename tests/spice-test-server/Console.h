#pragma once

#include <string>
#include <string_view>

namespace saffron::testserver {

// Line-oriented stdout shared by the main thread and spice-server's worker thread
// (QXL callbacks such as set_client_capabilities). Each line is written whole and flushed
// at once, because tests read the server's stdout line by line while it runs.
void printLine(std::string_view line);

// Escapes text for one output line: backslash, newline, carriage return and other control
// characters become \\, \n, \r and \xHH. unescapeLine() undoes it for stdin commands.
std::string escapeLine(std::string_view text);
std::string unescapeLine(std::string_view text);

} // namespace saffron::testserver
