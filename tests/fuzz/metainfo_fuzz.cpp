// torrent.add's source parsing with hostile bytes: a .torrent (metainfo) or a magnet URI, as an
// RPC client, a watch folder or a URL fetch hands it over, through read_source (the step
// Engine::add runs before it touches the session). The first byte picks the kind.
// Checks beyond "no crash": the size limit holds; a parsed torrent's id is a 40 or 64 hex digit
// info-hash; the info section the daemon stores for a magnet once its metadata arrives
// (torrent_file_of) parses again to the same info-hashes; everything the RPC later shows of it
// (name, file paths) serializes as the dispatcher does.
#include "daemon/torrent/engine_impl.h"
#include "tests/fuzz/fuzz.h"

#include <libtorrent/torrent_info.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>

using namespace seedbox::daemon;

namespace {

constexpr std::int64_t kMaxMetainfo = 1 << 20; // above any input scripts/fuzz lets the fuzzer make

bool hex_id(std::string const& id)
{
    if (id.size() != 40 && id.size() != 64)
        return false;
    for (char c : id)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    if (size == 0)
        return 0;
    AddRequest req;
    std::string body(reinterpret_cast<char const*>(data) + 1, size - 1);
    // Small limit for the metainfo kind, so the over-the-limit branch is reached too.
    auto const limit = (data[0] & 0x80) ? std::int64_t{64} : kMaxMetainfo;
    if (data[0] & 1)
        req.magnet = std::move(body);
    else
        req.metainfo = std::move(body);
    auto src = read_source(req, limit);
    if (!src) {
        FUZZ_CHECK(!src.error().message.empty());
        return 0;
    }
    FUZZ_CHECK(static_cast<std::int64_t>(req.metainfo.size()) <= limit);
    FUZZ_CHECK(hex_id(src->id));
    nlohmann::json shown = {{"id", src->id}, {"name", src->name}, {"kind", src->kind}};
    if (auto const& ti = src->atp.ti) {
        auto const& fs = ti->files();
        for (auto i : fs.file_range()) {
            if (fs.pad_file_at(i))
                continue;
            shown["files"].push_back({{"path", fs.file_path(i)}, {"size", fs.file_size(i)}});
        }
        auto stored = torrent_file_of(*ti);
        lt::error_code ec;
        lt::torrent_info again(lt::span<char const>(reinterpret_cast<char const*>(stored.data()),
                                                    static_cast<std::ptrdiff_t>(stored.size())),
                               ec, lt::from_span);
        FUZZ_CHECK(!ec);
        FUZZ_CHECK(again.info_hashes() == ti->info_hashes());
    }
    // As rpc/dispatch.cpp serializes answers: invalid UTF-8 is replaced, never thrown.
    auto text = shown.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    FUZZ_CHECK(!text.empty());
    return 0;
}
