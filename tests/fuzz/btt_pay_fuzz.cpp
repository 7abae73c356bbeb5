// The btt_pay extension fed by a hostile peer: its BEP 10 extended handshake, then any sequence of
// btt_pay messages (hello, voucher, ack, owed, reject, bid, garbage, fragments) interleaved with
// the connection's events (bytes sent and received, ticks, disconnect). The plugin runs exactly as
// on a connection, without one: what it would send is dropped.
//
// Raw bytes alone never get past the hello (it is a signature over our fresh nonce), so the input
// may instead ask the harness to play an honest peer up to a point: a well-formed handshake for
// the harness's key, a valid hello over the plugin's nonce, vouchers validly signed for a fuzzed
// cumulative. The vouchers and acks after that are the hostile part: they reach Payments and the
// ledger (voucher verification, monotonicity, the commit) like a paying peer's.
// Checks beyond "no crash": what a peer owes never decreases while it pays.
#include "daemon/btt_pay/plugin.h"
#include "ledger/ledger.h"
#include "ledger/tron/message.h"
#include "ledger/tron/voucher.h"
#include "tests/fuzz/fuzz.h"

#include <boost/asio/io_context.hpp>
#include <fuzzer/FuzzedDataProvider.h>
#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/peer_request.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

using namespace seedbox;
using namespace seedbox::daemon;
namespace fs = std::filesystem;

namespace {

struct Rig {
    fs::path dir;
    boost::asio::io_context io;
    std::unique_ptr<ledger::Ledger> ledger;
    tron::PrivateKey key = tron::PrivateKey::generate();  // ours
    tron::PrivateKey peer = tron::PrivateKey::generate(); // the honest peer the harness plays
    tron::Address hub = tron::PrivateKey::generate().address();
    std::shared_ptr<PayIdentity const> id;
    std::shared_ptr<Payments> pay;
    std::shared_ptr<Accounting> sink = std::make_shared<Accounting>();
    std::unique_ptr<tron::VoucherSigner> signer;

    Rig()
    {
        dir = fs::temp_directory_path() / ("sbx-fuzz-btt-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        std::string err;
        ledger = ledger::Ledger::open((dir / "ledger.db").string(), err);
        if (!ledger) {
            spdlog::critical("cannot open {}: {}", (dir / "ledger.db").string(), err);
            std::abort();
        }
        id = std::make_shared<PayIdentity const>(
            PayIdentity{key, key.address(), 728126428, hub, "1000000"});
        PaymentTerms terms;
        terms.accept = true;
        terms.pay = true;
        terms.price = 1000000;
        terms.credit_line = 1000;
        terms.max_price = 5000000;
        terms.budget = tron::Uint256(1) << 80;
        pay = std::make_shared<Payments>(*ledger, id, terms, [](seedbox::daemon::EventPayload) {});
        pay->attach(io);
        signer = std::make_unique<tron::VoucherSigner>(tron::VoucherDomain{728126428, hub});
    }
    ~Rig()
    {
        pay->detach();
        pay.reset();
        ledger.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

Rig* rig = nullptr;

std::string str(tron::ByteView b)
{
    return {b.begin(), b.end()};
}

std::string bencoded(lt::entry const& e)
{
    std::string out;
    lt::bencode(std::back_inserter(out), e);
    return out;
}

void deliver(lt::peer_plugin& p, std::string const& body, int length)
{
    p.on_extended(length, kBttPayMessageId,
                  {body.data(), static_cast<std::ptrdiff_t>(body.size())});
}

// The peer's extended handshake: raw bytes, or (`honest`) well-formed for the harness's key with
// fuzzed terms.
std::string handshake(FuzzedDataProvider& in, std::uint8_t mode, bool honest,
                      tron::Address const& peer_addr)
{
    if (!honest)
        return in.ConsumeRandomLengthString(2048);
    lt::entry h;
    h["m"]["btt_pay"] = in.ConsumeIntegralInRange<int>(1, 255);
    lt::entry& b = h["btt_pay"];
    b["v"] = 1;
    b["addr"] = str(peer_addr.bytes());
    b["nonce"] = in.ConsumeBytesAsString(16);
    b["chain"] = 728126428;
    b["hub"] = str(rig->hub.bytes());
    b["pays"] = (mode & 2) ? 1 : 0;
    if (mode & 4)
        b["price"] = in.ConsumeRandomLengthString(80);
    if (mode & 16)
        b["bid"] = in.ConsumeRandomLengthString(80);
    return bencoded(h);
}

// The valid hello the harness's key sends over the plugin's nonce.
void send_hello(lt::peer_plugin& plugin, std::string const& our_nonce,
                tron::Address const& peer_addr)
{
    auto sig = tron::sign_message(
        rig->peer,
        hello_payload({reinterpret_cast<std::uint8_t const*>(our_nonce.data()), our_nonce.size()},
                      peer_addr));
    lt::entry hello;
    hello["t"] = "hello";
    hello["sig"] = str(sig);
    auto body = bencoded(hello);
    deliver(plugin, body, static_cast<int>(body.size()));
}

// Any message, whole or announced longer than it is (a fragment).
void send_any(FuzzedDataProvider& in, lt::peer_plugin& plugin)
{
    auto body = in.ConsumeRandomLengthString(1500);
    auto extra = in.ConsumeIntegralInRange<int>(0, 3) == 0 ? in.ConsumeIntegral<std::uint8_t>() : 0;
    deliver(plugin, body, static_cast<int>(body.size()) + extra);
}

// A voucher validly signed by the harness's key for a fuzzed cumulative.
void send_voucher(FuzzedDataProvider& in, lt::peer_plugin& plugin)
{
    auto digits = in.ConsumeRandomLengthString(80);
    auto cumulative = tron::parse_uint256(digits);
    lt::entry v;
    v["t"] = "voucher";
    v["cumulative"] = digits;
    v["sig"] = cumulative ? str(rig->signer->sign(rig->peer, rig->key.address(), *cumulative))
                          : in.ConsumeBytesAsString(65);
    auto body = bencoded(v);
    deliver(plugin, body, static_cast<int>(body.size()));
}

// A message of a known type with fuzzed fields.
void send_typed(FuzzedDataProvider& in, lt::peer_plugin& plugin)
{
    static char const* const kTypes[] = {"hello", "voucher", "ack", "owed", "reject", "bid"};
    lt::entry m;
    m["t"] = kTypes[in.ConsumeIntegralInRange<int>(0, 5)];
    m["bid"] = in.ConsumeRandomLengthString(60);
    m["price"] = in.ConsumeRandomLengthString(60);
    m["cumulative"] = in.ConsumeRandomLengthString(100);
    m["sig"] = in.ConsumeRandomLengthString(100);
    m["reason"] = in.ConsumeRandomLengthString(300);
    auto body = bencoded(m);
    deliver(plugin, body, static_cast<int>(body.size()));
}

// One step of the connection: a message from the peer, or one of the connection's events.
void step(FuzzedDataProvider& in, lt::peer_plugin& plugin)
{
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0:
        send_any(in, plugin);
        break;
    case 1:
        send_voucher(in, plugin);
        break;
    case 2:
        send_typed(in, plugin);
        break;
    case 3:
        plugin.sent_payload(in.ConsumeIntegralInRange<int>(0, 1 << 24));
        break;
    case 4: {
        lt::peer_request r{};
        r.piece = lt::piece_index_t(0);
        r.length = in.ConsumeIntegralInRange<int>(0, 1 << 14);
        char block[16] = {};
        plugin.on_piece(r, {block, 16});
        break;
    }
    case 5:
        plugin.tick();
        break;
    case 6:
        (void)plugin.can_disconnect(lt::error_code());
        break;
    default:
        rig->io.poll(); // completions of committed vouchers (acks) come back here
        break;
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    spdlog::set_level(spdlog::level::off);
    static Rig r;
    rig = &r;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    FuzzedDataProvider in(data, size);
    auto const mode = in.ConsumeIntegral<std::uint8_t>();
    auto plugin =
        make_btt_pay_peer(lt::peer_connection_handle(std::weak_ptr<lt::peer_connection>()), "fuzz",
                          rig->sink, rig->pay);
    lt::entry ours;
    plugin->add_handshake(ours);
    auto const our_nonce = ours["btt_pay"]["nonce"].string();
    auto const peer_addr = rig->peer.address();

    bool const honest = mode & 1;
    std::string const theirs = handshake(in, mode, honest, peer_addr);
    lt::error_code ec;
    auto node = lt::bdecode(theirs, ec, nullptr, 100, 10000);
    if (!ec && node.type() == lt::bdecode_node::dict_t)
        plugin->on_extension_handshake(node);
    if (honest && (mode & 8))
        send_hello(*plugin, our_nonce, peer_addr);

    tron::Uint256 owed_before = rig->pay->owed(peer_addr);
    for (int step_no = 0; step_no < 64 && in.remaining_bytes() > 0; ++step_no) {
        step(in, *plugin);
        // Paying lowers nothing a peer owes: owed() counts uploads, vouchers only add kept.
        auto owed_now = rig->pay->owed(peer_addr);
        FUZZ_CHECK(owed_now >= owed_before);
        owed_before = owed_now;
    }
    plugin->on_disconnect(lt::error_code());
    rig->io.poll();
    (void)rig->sink->take();
    return 0;
}
