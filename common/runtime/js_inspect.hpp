#pragma once
// util.inspect() of a string, as Node 20 prints it (lib/internal/util/inspect.js strEscape and
// formatPrimitive): single quotes, or double quotes when the text holds a single quote, or
// backticks when it holds both; control characters, the quote and backslash escaped; a text
// longer than 76 characters holding newlines split into 'line\n' + 'line' parts.
// ERR_UNHANDLED_ERROR's message quotes its argument this way: Unhandled error. ('oops').

#include <string>
#include <string_view>

namespace nodelab::runtime {

std::string js_inspect_string(std::string_view s);

}  // namespace nodelab::runtime
