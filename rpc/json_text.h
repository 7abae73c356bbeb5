// JSON written straight to text, for answers too large to build as a JSON tree first (a
// torrent.list of every torrent). Appends to a std::string; the output is what nlohmann's
// dump(-1, ' ', false, error_handler_t::replace) writes for the same values, up to how a double's
// digits are laid out: strings escape the same characters, and invalid UTF-8 becomes U+FFFD the
// same way, one per invalid sequence.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace seedbox::rpc {

class JsonText {
public:
    explicit JsonText(std::string& out) : out_(out) {}

    void string(std::string_view s);
    void integer(std::int64_t v);
    void number(double v); // non-finite: null, as nlohmann writes it
    void boolean(bool v) { out_ += v ? "true" : "false"; }
    void null() { out_ += "null"; }
    // `"name":`; `name` must need no escaping (an identifier of ours).
    void key(std::string_view name)
    {
        out_ += '"';
        out_ += name;
        out_ += "\":";
    }
    void raw(std::string_view text) { out_ += text; }
    void raw(char c) { out_ += c; }

private:
    std::string& out_;
};

} // namespace seedbox::rpc
