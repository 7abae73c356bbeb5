// Beast's request parser with the header budget the HTTP session reads with. Private to rpc/.
#pragma once

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <functional>

namespace seedbox::rpc {

// Beast's request parser with one budget for the header block, chunk extensions and trailer
// fields together (rpc.max_header_bytes). Beast alone checks only the header block against its
// limit, and throws std::length_error for a field over 65,535 bytes, which a chunked body's
// trailer can carry; here such a field is an ordinary header_limit error.
class BoundedParser final
    : public boost::beast::http::request_parser<boost::beast::http::string_body> {
public:
    explicit BoundedParser(std::size_t budget)
        : budget_(budget),
          on_chunk_([this](std::uint64_t, boost::beast::string_view extensions,
                           boost::beast::error_code& ec) { spend(extensions.size(), ec); })
    {
        on_chunk_header(on_chunk_); // Beast keeps a reference
    }

private:
    void spend(std::size_t n, boost::beast::error_code& ec)
    {
        used_ += n;
        if (used_ > budget_)
            ec = boost::beast::http::error::header_limit;
    }
    void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                       boost::beast::string_view value, boost::beast::error_code& ec) override
    {
        spend(name_string.size() + value.size() + 4, ec); // "name: value\r\n"
        if (!ec)
            get().insert(name, name_string, value);
    }

    std::size_t budget_;
    std::size_t used_ = 0;
    std::function<void(std::uint64_t, boost::beast::string_view, boost::beast::error_code&)>
        on_chunk_;
};

} // namespace seedbox::rpc
